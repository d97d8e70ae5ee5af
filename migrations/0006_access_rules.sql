-- Access rules for the catalogue, tenant and people commands (seeds 000,
-- 001, 003): row-change auditing by trigger (any client is audited), who may
-- change which organisation and user fields, guards that keep an
-- organisation administrable and stop enabling a model the organisation may
-- not use, and the period and clock helpers the usage views read.

-- migrate:up

-- ---------------------------------------------------------------------------
-- Platform settings and the clock
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.settings (
  key         text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]{0,63}$'),
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiplat.settings IS 'platform-wide settings, written by the platform only';
GRANT SELECT ON aiplat.settings TO aiplat_app;

-- "Now" for every rule that depends on time. Tests may move it with the
-- transaction setting aiplat.test_now, but only in a database where the
-- platform enabled that (settings: test_clock = on); elsewhere the setting
-- is ignored, so nobody can turn the clock back to escape a quota.
CREATE FUNCTION aiplat.clock() RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  t text := nullif(current_setting('aiplat.test_now', true), '');
BEGIN
  IF t IS NOT NULL AND EXISTS (SELECT 1 FROM aiplat.settings WHERE key = 'test_clock' AND value = 'on') THEN
    RETURN t::timestamptz;
  END IF;
  RETURN now();
END
$$;
COMMENT ON FUNCTION aiplat.clock() IS 'now(), or aiplat.test_now where the platform allows a test clock';
GRANT EXECUTE ON FUNCTION aiplat.clock() TO aiplat_app;

-- A period (daily, weekly from Monday, monthly) containing `at`, with its
-- boundaries at local midnight in time zone `tz`.
CREATE FUNCTION aiplat.period_start(period text, tz text, at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT date_trunc(CASE period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' ELSE 'month' END,
                    at AT TIME ZONE tz) AT TIME ZONE tz
$$;
CREATE FUNCTION aiplat.period_end(period text, tz text, at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT (date_trunc(CASE period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' ELSE 'month' END,
                     at AT TIME ZONE tz)
          + CASE period WHEN 'daily' THEN interval '1 day' WHEN 'weekly' THEN interval '7 days'
                        ELSE interval '1 month' END) AT TIME ZONE tz
$$;
COMMENT ON FUNCTION aiplat.period_start(text, text, timestamptz) IS
  'start of the day / ISO week / month containing at, at local midnight in tz';

-- The organisation's monthly quota: its own, else its plan's (NULL: unlimited).
CREATE FUNCTION aiplat.effective_quota(org uuid) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  -- PL/pgSQL rather than SQL: its plans are cached for the session.
  RETURN (
    SELECT coalesce(o.token_quota_monthly, p.monthly_token_quota)
      FROM aiplat.organizations o JOIN aiplat.plans p ON p.code = o.pricing_plan
     WHERE o.id = org);
END
$$;
GRANT EXECUTE ON FUNCTION aiplat.effective_quota(uuid) TO aiplat_app;

-- ---------------------------------------------------------------------------
-- Availability of a system model to an organisation (seed 001): the rule the
-- catalogue policy applies, as one function with a reason.
-- ---------------------------------------------------------------------------

CREATE FUNCTION aiplat.model_availability(model_id bigint, org uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  -- PL/pgSQL rather than SQL: its plans are cached for the session.
  RETURN (
    SELECT CASE
             WHEN NOT m.is_active THEN 'model_inactive'
             WHEN cardinality(m.organization_types) > 0 AND NOT o.type = ANY (m.organization_types)
               THEN 'type_not_targeted'
             WHEN mp.level > op.level THEN 'plan_insufficient'
             ELSE 'available'
           END
      FROM aiplat.ai_models_system m, aiplat.organizations o,
           aiplat.plans mp, aiplat.plans op
     WHERE m.id = model_id AND o.id = org AND mp.code = m.required_plan AND op.code = o.pricing_plan);
END
$$;
COMMENT ON FUNCTION aiplat.model_availability(bigint, uuid) IS
  'available, or why not: model_inactive, type_not_targeted, plan_insufficient';
GRANT EXECUTE ON FUNCTION aiplat.model_availability(bigint, uuid) TO aiplat_app;

-- A model by id or name whether or not the caller may see it, so that an
-- admin enabling a model their organisation may not use learns why rather
-- than "no such model". Only the id comes back; availability says the rest.
CREATE FUNCTION aiplat.find_model_id(ident text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT id FROM aiplat.ai_models_system
   WHERE CASE WHEN ident ~ '^[0-9]{1,18}$' THEN id = ident::bigint ELSE lower(name) = lower(ident) END
$$;
GRANT EXECUTE ON FUNCTION aiplat.find_model_id(text) TO aiplat_app;

-- The facts behind model_availability, for explaining a refusal.
CREATE FUNCTION aiplat.model_availability_facts(model_id bigint, org uuid,
  OUT availability text, OUT required_plan text, OUT org_plan text, OUT org_type text,
  OUT org_slug text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT aiplat.model_availability(m.id, o.id), m.required_plan, o.pricing_plan, o.type, o.slug
    FROM aiplat.ai_models_system m, aiplat.organizations o
   WHERE m.id = model_id AND o.id = org
$$;
GRANT EXECUTE ON FUNCTION aiplat.model_availability_facts(bigint, uuid) TO aiplat_app;

-- The catalogue policy now reads the same function the commands explain with.
DROP POLICY models_select ON aiplat.ai_models_system;
CREATE POLICY models_select ON aiplat.ai_models_system FOR SELECT TO aiplat_app USING (
  (SELECT aiplat.is_superadmin())
  OR (aiplat.model_availability(id, (SELECT aiplat.current_org_id())) = 'available'
      AND ((SELECT aiplat.has_current_permission('models', 'manage'))
           OR EXISTS (SELECT 1 FROM aiplat.org_system_model_config c
                       WHERE c.organization_id = (SELECT aiplat.current_org_id())
                         AND c.system_model_id = ai_models_system.id
                         AND c.is_enabled_for_users))));

-- Enabling a model the organisation may not use is refused, for any client.
CREATE FUNCTION aiplat.check_model_enable() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  why text;
BEGIN
  IF NEW.is_enabled_for_users AND (TG_OP = 'INSERT' OR NOT OLD.is_enabled_for_users) THEN
    why := aiplat.model_availability(NEW.system_model_id, NEW.organization_id);
    IF why <> 'available' THEN
      RAISE EXCEPTION 'model % is not available to this organization: %', NEW.system_model_id, why
        USING ERRCODE = 'check_violation';
    END IF;
    NEW.enabled_at := coalesce(NEW.enabled_at, aiplat.clock());
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER org_system_model_config_enable BEFORE INSERT OR UPDATE
  ON aiplat.org_system_model_config FOR EACH ROW EXECUTE FUNCTION aiplat.check_model_enable();

-- ---------------------------------------------------------------------------
-- Row-change auditing: every change to these tables, by any client, leaves
-- an audit row in the same transaction. The action label comes from the
-- transaction setting aiplat.audit_action when the caller sets one
-- (model.enable), else <table>.<operation>. Secret columns never reach the
-- log. The platform (not a person) may switch row auditing off for bulk
-- loads with aiplat.audit = off, and then writes a summary row instead.
-- ---------------------------------------------------------------------------

-- Trigger arguments: the key columns (comma-separated), then secret columns.
CREATE FUNCTION aiplat.audit_row_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_j jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_j jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  row_j jsonb := coalesce(new_j, old_j);
  secret text;
  key_id text;
  org uuid;
BEGIN
  -- Runs as the invoker, so current_user tells a person (aiplat_app or a
  -- mapped login role) from the platform.
  IF coalesce(current_setting('aiplat.audit', true), '') = 'off'
     AND current_user <> 'aiplat_app' AND aiplat.current_user_id() IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND (old_j - 'updated_at') = (new_j - 'updated_at') THEN
    RETURN NULL;   -- nothing really changed
  END IF;
  FOR i IN 1 .. TG_NARGS - 1 LOOP
    secret := TG_ARGV[i];
    old_j := old_j - secret;
    new_j := new_j - secret;
  END LOOP;
  SELECT string_agg(row_j ->> k, '/' ORDER BY ord) INTO key_id
    FROM unnest(string_to_array(TG_ARGV[0], ',')) WITH ORDINALITY AS keys(k, ord);
  org := CASE WHEN TG_TABLE_NAME = 'organizations' THEN (row_j ->> 'id')::uuid
              WHEN row_j ? 'organization_id' THEN (row_j ->> 'organization_id')::uuid
              ELSE aiplat.current_org_id() END;
  PERFORM aiplat.audit(coalesce(nullif(current_setting('aiplat.audit_action', true), ''),
                                TG_TABLE_NAME || '.' || lower(TG_OP)),
                       TG_TABLE_NAME, key_id, old_j, new_j, org,
                       CASE WHEN TG_TABLE_NAME = 'organizations' THEN row_j ->> 'slug' END);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION aiplat.audit_row_change() IS
  'AFTER ROW trigger: audits a change (args: key columns, then secret columns to leave out)';

CREATE TRIGGER audit_users AFTER INSERT OR UPDATE OR DELETE ON aiplat.users
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('id');
-- Organisations are audited for what people change, not for the usage
-- counter and reset date that every consume moves (the usage events are
-- that record).
CREATE TRIGGER audit_organizations
  AFTER INSERT OR DELETE
     OR UPDATE OF id, slug, name, type, pricing_plan, token_quota_monthly, time_zone
  ON aiplat.organizations
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('id');
CREATE TRIGGER audit_organization_members AFTER INSERT OR UPDATE OR DELETE ON aiplat.organization_members
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('organization_id,user_id');
CREATE TRIGGER audit_roles AFTER INSERT OR UPDATE OR DELETE ON aiplat.roles
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('id');
CREATE TRIGGER audit_role_permissions AFTER INSERT OR UPDATE OR DELETE ON aiplat.role_permissions
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('role_id,resource,action');
CREATE TRIGGER audit_ai_models_system AFTER INSERT OR UPDATE OR DELETE ON aiplat.ai_models_system
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('id', 'api_key_ciphertext');
CREATE TRIGGER audit_org_system_model_config AFTER INSERT OR UPDATE OR DELETE
  ON aiplat.org_system_model_config
  FOR EACH ROW EXECUTE FUNCTION aiplat.audit_row_change('organization_id,system_model_id');

-- ---------------------------------------------------------------------------
-- Who may change what
-- ---------------------------------------------------------------------------

-- Organisations: superadmins create and delete them and decide type, plan
-- and quota; an organisation's admins (organization manage) rename it and
-- set its time zone.
GRANT INSERT, DELETE ON aiplat.organizations TO aiplat_app;
GRANT UPDATE (type, pricing_plan, token_quota_monthly) ON aiplat.organizations TO aiplat_app;
CREATE POLICY organizations_insert ON aiplat.organizations FOR INSERT TO aiplat_app
  WITH CHECK ((SELECT aiplat.is_superadmin()));
CREATE POLICY organizations_delete ON aiplat.organizations FOR DELETE TO aiplat_app
  USING ((SELECT aiplat.is_superadmin()));

CREATE FUNCTION aiplat.check_org_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF aiplat.current_user_id() IS NOT NULL AND NOT aiplat.is_superadmin()
     AND (NEW.type IS DISTINCT FROM OLD.type
          OR NEW.pricing_plan IS DISTINCT FROM OLD.pricing_plan
          OR NEW.token_quota_monthly IS DISTINCT FROM OLD.token_quota_monthly) THEN
    RAISE EXCEPTION 'only a superadmin may change an organization''s type, plan or quota'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER organizations_guard
  BEFORE UPDATE OF type, pricing_plan, token_quota_monthly ON aiplat.organizations
  FOR EACH ROW EXECUTE FUNCTION aiplat.check_org_update();

-- Users: superadmins create people and grant or revoke superadmin.
GRANT INSERT (email, display_name, is_superadmin) ON aiplat.users TO aiplat_app;
GRANT UPDATE (is_superadmin) ON aiplat.users TO aiplat_app;
CREATE POLICY users_insert ON aiplat.users FOR INSERT TO aiplat_app
  WITH CHECK ((SELECT aiplat.is_superadmin()));

CREATE FUNCTION aiplat.check_user_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.is_superadmin IS DISTINCT FROM OLD.is_superadmin
     AND aiplat.current_user_id() IS NOT NULL AND NOT aiplat.is_superadmin() THEN
    RAISE EXCEPTION 'only a superadmin may grant or revoke superadmin'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.login_role IS DISTINCT FROM OLD.login_role AND aiplat.current_user_id() IS NOT NULL THEN
    RAISE EXCEPTION 'login roles are mapped by the platform itself'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER users_guard BEFORE UPDATE ON aiplat.users
  FOR EACH ROW EXECUTE FUNCTION aiplat.check_user_update();

-- Finding a person by email: admins who manage members may look anyone up
-- (to add them); otherwise people see only who the policies show them.
CREATE FUNCTION aiplat.find_user_id(p_email text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT u.id FROM aiplat.users u
   WHERE lower(u.email) = lower(p_email)
     AND (aiplat.current_user_id() IS NULL OR u.id = aiplat.current_user_id()
          OR aiplat.is_superadmin() OR aiplat.has_current_permission('members', 'manage'))
$$;
REVOKE ALL ON FUNCTION aiplat.find_user_id(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aiplat.find_user_id(text) TO aiplat_app;

-- How many members an organisation has, for anyone who belongs to it (the
-- member list itself needs members:read in that organisation).
CREATE FUNCTION aiplat.member_count(org uuid) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT count(*) FROM aiplat.organization_members m
   WHERE m.organization_id = org
     AND (aiplat.current_user_id() IS NULL OR aiplat.is_superadmin() OR aiplat.is_member(org))
$$;
GRANT EXECUTE ON FUNCTION aiplat.member_count(uuid) TO aiplat_app;

-- Custom roles may not take the name of a system role.
CREATE FUNCTION aiplat.check_role_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.organization_id IS NOT NULL
     AND EXISTS (SELECT 1 FROM aiplat.roles r WHERE r.organization_id IS NULL AND r.name = NEW.name) THEN
    RAISE EXCEPTION 'role name "%" is taken by a system role', NEW.name
      USING ERRCODE = 'unique_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER roles_name_guard BEFORE INSERT OR UPDATE OF name, organization_id ON aiplat.roles
  FOR EACH ROW EXECUTE FUNCTION aiplat.check_role_name();

-- An organisation keeps at least one admin: removing or demoting the last
-- one is refused (deleting the organisation itself is fine).
CREATE FUNCTION aiplat.check_last_admin() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM aiplat.roles r WHERE r.id = OLD.role_id AND r.name = 'admin'
                                           AND r.organization_id IS NULL)
     AND EXISTS (SELECT 1 FROM aiplat.organizations o WHERE o.id = OLD.organization_id)
     AND NOT EXISTS (SELECT 1 FROM aiplat.organization_members m
                       JOIN aiplat.roles r ON r.id = m.role_id
                      WHERE m.organization_id = OLD.organization_id
                        AND r.name = 'admin' AND r.organization_id IS NULL) THEN
    RAISE EXCEPTION 'an organization must keep at least one admin'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER organization_members_last_admin
  AFTER UPDATE OF role_id OR DELETE ON aiplat.organization_members
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION aiplat.check_last_admin();

-- migrate:down
DROP TRIGGER organization_members_last_admin ON aiplat.organization_members;
DROP FUNCTION aiplat.check_last_admin();
DROP FUNCTION aiplat.member_count(uuid);
DROP FUNCTION aiplat.find_user_id(text);
DROP TRIGGER roles_name_guard ON aiplat.roles;
DROP FUNCTION aiplat.check_role_name();
DROP TRIGGER users_guard ON aiplat.users;
DROP FUNCTION aiplat.check_user_update();
DROP POLICY users_insert ON aiplat.users;
REVOKE INSERT (email, display_name, is_superadmin), UPDATE (is_superadmin) ON aiplat.users FROM aiplat_app;
DROP TRIGGER organizations_guard ON aiplat.organizations;
DROP FUNCTION aiplat.check_org_update();
DROP POLICY organizations_delete ON aiplat.organizations;
DROP POLICY organizations_insert ON aiplat.organizations;
REVOKE UPDATE (type, pricing_plan, token_quota_monthly) ON aiplat.organizations FROM aiplat_app;
REVOKE INSERT, DELETE ON aiplat.organizations FROM aiplat_app;
DROP TRIGGER audit_org_system_model_config ON aiplat.org_system_model_config;
DROP TRIGGER audit_ai_models_system ON aiplat.ai_models_system;
DROP TRIGGER audit_role_permissions ON aiplat.role_permissions;
DROP TRIGGER audit_roles ON aiplat.roles;
DROP TRIGGER audit_organization_members ON aiplat.organization_members;
DROP TRIGGER audit_organizations ON aiplat.organizations;
DROP TRIGGER audit_users ON aiplat.users;
DROP FUNCTION aiplat.audit_row_change();
DROP TRIGGER org_system_model_config_enable ON aiplat.org_system_model_config;
DROP FUNCTION aiplat.check_model_enable();
DROP POLICY models_select ON aiplat.ai_models_system;
CREATE POLICY models_select ON aiplat.ai_models_system FOR SELECT TO aiplat_app USING (
  (SELECT aiplat.is_superadmin())
  OR (is_active
      AND (cardinality(organization_types) = 0
           OR (SELECT aiplat.current_org_type()) = ANY (organization_types))
      AND (SELECT p.level FROM aiplat.plans p WHERE p.code = required_plan)
          <= (SELECT aiplat.current_org_plan_level())
      AND ((SELECT aiplat.has_current_permission('models', 'manage'))
           OR EXISTS (SELECT 1 FROM aiplat.org_system_model_config c
                       WHERE c.organization_id = (SELECT aiplat.current_org_id())
                         AND c.system_model_id = ai_models_system.id
                         AND c.is_enabled_for_users))));
DROP FUNCTION aiplat.model_availability_facts(bigint, uuid);
DROP FUNCTION aiplat.find_model_id(text);
DROP FUNCTION aiplat.model_availability(bigint, uuid);
DROP FUNCTION aiplat.effective_quota(uuid);
DROP FUNCTION aiplat.period_end(text, text, timestamptz);
DROP FUNCTION aiplat.period_start(text, text, timestamptz);
DROP FUNCTION aiplat.clock();
DROP TABLE aiplat.settings;
