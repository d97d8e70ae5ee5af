-- AI calls (seed 003 1.2, DESIGN.md section 6): what `ai complete` needs
-- from the database besides the quota engine. The provider settings and
-- the API key of a model are handed out only for an admitted call (an
-- active reservation of the caller's); prompts and flags resolve with the
-- tenant's row winning over the global one.

-- migrate:up

-- The model's settings for a call the admission step let through. A key
-- stored encrypted is decrypted here with the caller's AIPLAT_SECRET_KEY;
-- an env: reference is returned as such and resolved by the caller, so a
-- key never sits in the database in clear.
CREATE FUNCTION aiplat.call_config(p_reservation uuid, p_secret text,
  OUT model_id bigint, OUT name text, OUT provider_kind text, OUT endpoint text,
  OUT provider_model text, OUT max_tokens integer, OUT system_message text,
  OUT api_key_ref text, OUT api_key text, OUT price_input_per_mtok numeric,
  OUT price_output_per_mtok numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat, public AS $$
DECLARE
  r aiplat.quota_reservations;
  me uuid := aiplat.current_user_id();
  cipher bytea;
BEGIN
  SELECT * INTO r FROM aiplat.quota_reservations WHERE id = p_reservation;
  IF r.id IS NULL OR r.status <> 'active' OR r.expires_at <= aiplat.clock() THEN
    RAISE EXCEPTION 'no active reservation %', p_reservation USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF me IS NOT NULL AND me <> r.user_id AND NOT aiplat.is_superadmin() THEN
    RAISE EXCEPTION 'reservation % is not yours', p_reservation USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT m.id, m.name, m.provider_kind, m.endpoint, m.provider_model, m.max_tokens, m.system_message,
         m.api_key_ref, m.api_key_ciphertext, m.price_input_per_mtok, m.price_output_per_mtok
    INTO model_id, name, provider_kind, endpoint, provider_model, max_tokens, system_message,
         api_key_ref, cipher, price_input_per_mtok, price_output_per_mtok
    FROM aiplat.ai_models_system m WHERE m.id = r.model_id;
  IF cipher IS NOT NULL THEN
    IF p_secret IS NULL OR p_secret = '' THEN
      RAISE EXCEPTION 'the model''s API key is stored encrypted; AIPLAT_SECRET_KEY is needed to use it'
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
      api_key := pgp_sym_decrypt(cipher, p_secret);
    EXCEPTION WHEN external_routine_exception OR data_exception THEN
      RAISE EXCEPTION 'AIPLAT_SECRET_KEY does not decrypt the model''s API key'
        USING ERRCODE = 'invalid_parameter_value';
    END;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION aiplat.call_config(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aiplat.call_config(uuid, text) TO aiplat_app;
COMMENT ON FUNCTION aiplat.call_config(uuid, text) IS
  'provider settings and key of the model of an active reservation of the caller''s';

-- What a call to a model looks like before it is admitted: the fields that
-- size the reservation and build the prompt (nothing secret).
CREATE FUNCTION aiplat.call_shape(p_model text,
  OUT model_id bigint, OUT name text, OUT max_tokens integer, OUT system_message text, OUT tasks jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT m.id, m.name, m.max_tokens, m.system_message, m.tasks
    FROM aiplat.ai_models_system m WHERE m.id = aiplat.find_model_id(p_model)
$$;
GRANT EXECUTE ON FUNCTION aiplat.call_shape(text) TO aiplat_app;

-- The prompt a key means for an organisation: its own latest version,
-- else the global latest (row-level security decides what is visible).
CREATE FUNCTION aiplat.effective_prompt(org uuid, p_key text,
  OUT body text, OUT version integer, OUT scope text)
LANGUAGE sql STABLE AS $$
  SELECT p.body, p.version, CASE WHEN p.organization_id IS NULL THEN 'global' ELSE 'tenant' END
    FROM aiplat.prompts p
   WHERE p.key = p_key AND (p.organization_id = org OR p.organization_id IS NULL)
   ORDER BY p.organization_id NULLS LAST, p.version DESC
   LIMIT 1
$$;
GRANT EXECUTE ON FUNCTION aiplat.effective_prompt(uuid, text) TO aiplat_app;

-- Prompt and flag changes are audited like the rest.
CREATE TRIGGER audit_prompts AFTER INSERT OR UPDATE OR DELETE ON aiplat.prompts
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('id');
CREATE TRIGGER audit_feature_flags AFTER INSERT OR UPDATE OR DELETE ON aiplat.feature_flags
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('id');

-- migrate:down
DROP TRIGGER audit_feature_flags ON aiplat.feature_flags;
DROP TRIGGER audit_prompts ON aiplat.prompts;
DROP FUNCTION aiplat.effective_prompt(uuid, text);
DROP FUNCTION aiplat.call_shape(text);
DROP FUNCTION aiplat.call_config(uuid, text);
