-- The database is the security boundary (DESIGN.md section 4): a login role
-- mapped to a person may call every function it can reach, with any
-- arguments and any settings, so functions decide from the caller's own
-- identity and answer "not found" for what the caller may not see.
--
--   * Two schemas. `aiplat` holds what a person may call; each of its
--     functions is listed, with why, in aiplat_internal.functions (the one
--     place, which also lists every SECURITY DEFINER helper), and EXECUTE is granted to aiplat_app from that list
--     and revoked from PUBLIC everywhere. Everything else (triggers,
--     migration helpers, the quota engine's steps, the audit writer) lives
--     in `aiplat_internal`, on which aiplat_app has no USAGE.
--   * Identity. The platform is a session of the schema owner (or a member
--     of it) acting for nobody; aiplat.user_id is honoured only on such a
--     session (or a mapped superadmin's); aiplat.org_id only for a member
--     (or superadmin). A session that is neither mapped nor the owner's is
--     nobody: it sees and may do nothing.
--   * Lookups. Functions taking an organisation answer only for one the
--     caller may read; quota references resolve only the caller's
--     organisations and the people they may see.
--   * Audit. Rows are written by the trigger (as the definer) or the
--     platform; a person cannot call the writer, switch auditing off, or
--     label a change with an action that is not registered for it.
--   * Usage. Admission honours the `ai` flag (ai_disabled); a person's
--     settle above the hold, and a person's record, stay within the limits;
--     the platform's records check membership and the model (p_force
--     overrides, audited).
--   * Extensions. pgcrypto is called where it lives (created by migration
--     0001, or installed beforehand in public or an extensions schema),
--     through aiplat.encrypt_secret and aiplat_internal.decrypt_secret.

-- migrate:up

CREATE SCHEMA aiplat_internal;
COMMENT ON SCHEMA aiplat_internal IS
  'aiplat: functions and data only the platform uses; aiplat_app has no USAGE on it';

-- ---------------------------------------------------------------------------
-- What a person may call: the one list
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat_internal.functions (
  signature  text PRIMARY KEY CHECK (signature ~ '^aiplat(_internal)?\.[a-z_]+\(.*\)$'),
  callable   boolean NOT NULL,
  purpose    text NOT NULL CHECK (purpose IN ('identity', 'pure', 'lookup', 'quota', 'ai', 'internal')),
  note       text NOT NULL,
  CHECK (callable = (signature LIKE 'aiplat.%')),
  CHECK ((purpose = 'internal') = NOT callable)
);
COMMENT ON TABLE aiplat_internal.functions IS
  'every function of schema aiplat (callable: aiplat_app may EXECUTE it, and nothing else) and every '
  'SECURITY DEFINER function of aiplat_internal, with why';

-- Grants EXECUTE on exactly the listed functions to aiplat_app and revokes
-- every other grant (PUBLIC included) on the functions of both schemas.
-- Functions that belong to an extension are left as the extension made them.
-- Every migration that adds or replaces functions ends by calling this.
CREATE FUNCTION aiplat_internal.sync_function_grants() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace IN ('aiplat'::regnamespace, 'aiplat_internal'::regnamespace)
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, aiplat_app', f);
  END LOOP;
  FOR f IN SELECT c.signature::regprocedure FROM aiplat_internal.functions c WHERE c.callable LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO aiplat_app', f);
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Internal helpers move out of reach
-- ---------------------------------------------------------------------------

ALTER FUNCTION aiplat.setting_uuid(text) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.apply_tenant_policies(regclass, text, text, text) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.apply_usage_read_policy(regclass, boolean) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.ensure_usage_partition(date) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.audit(text, text, text, jsonb, jsonb, uuid, text) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.daily_request_limit(uuid) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.quota_refs(text, text, text) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.quota_authorize(uuid, uuid, boolean) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.record_usage(aiplat.organizations, aiplat.ai_models_system, uuid, timestamptz, uuid,
                                   bigint, bigint, integer, text, text, uuid) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.lock_org(uuid, timestamptz) SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.apply_usage_deltas() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.quota_housekeeping() SET SCHEMA aiplat_internal;
-- Trigger functions: fired by their triggers, never called.
ALTER FUNCTION aiplat.touch_updated_at() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.check_member_role() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.forbid_change() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.check_model_org_types() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.project_database_schema() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.check_model_enable() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.audit_row_change() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.check_org_update() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.check_user_update() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.check_role_name() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.check_last_admin() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.set_reset_date() SET SCHEMA aiplat_internal;
ALTER FUNCTION aiplat.delete_org_rollups() SET SCHEMA aiplat_internal;
-- Unused since migration 0006 (the catalogue policy calls model_availability).
DROP FUNCTION aiplat.current_org_type();
DROP FUNCTION aiplat.current_org_plan_level();

-- ---------------------------------------------------------------------------
-- Identity
-- ---------------------------------------------------------------------------

-- Whether the session's login role is the schema owner or a member of it
-- (superusers are members of every role): the platform's own connection.
-- Mapped login roles never are (user map-login refuses such roles).
CREATE FUNCTION aiplat_internal.session_is_owner() RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
  RETURN (SELECT pg_has_role(session_user, n.nspowner, 'MEMBER')
            FROM pg_namespace n WHERE n.nspname = 'aiplat');
END
$$;

-- The person the transaction acts for: a mapped login role's user (who, if
-- a superadmin, may name someone else in aiplat.user_id); on the
-- platform's connection, aiplat.user_id; on any other connection, nobody.
CREATE OR REPLACE FUNCTION aiplat.current_user_id() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  mapped_id uuid;
  mapped_super boolean;
BEGIN
  SELECT u.id, u.is_superadmin INTO mapped_id, mapped_super
    FROM aiplat.users u WHERE u.login_role = session_user::text;
  IF mapped_id IS NOT NULL THEN
    IF mapped_super THEN
      RETURN coalesce(aiplat_internal.setting_uuid('aiplat.user_id'), mapped_id);
    END IF;
    RETURN mapped_id;
  END IF;
  IF aiplat_internal.session_is_owner() THEN
    RETURN aiplat_internal.setting_uuid('aiplat.user_id');
  END IF;
  RETURN NULL;
END
$$;

-- The platform itself: the owner's connection, acting for nobody.
CREATE FUNCTION aiplat.is_platform() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  RETURN aiplat.current_user_id() IS NULL AND aiplat_internal.session_is_owner();
END
$$;
COMMENT ON FUNCTION aiplat.is_platform() IS
  'true on the schema owner''s connection acting for nobody: the platform, above the rules';

-- The organisation the transaction works in: aiplat.org_id when the person
-- belongs to it (or is a superadmin), or on the platform's connection;
-- otherwise NULL, whatever the setting says.
CREATE OR REPLACE FUNCTION aiplat.current_org_id() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  org uuid := aiplat_internal.setting_uuid('aiplat.org_id');
  me uuid;
BEGIN
  IF org IS NULL THEN
    RETURN NULL;
  END IF;
  me := aiplat.current_user_id();
  IF me IS NULL THEN
    RETURN CASE WHEN aiplat_internal.session_is_owner() THEN org END;
  END IF;
  IF EXISTS (SELECT 1 FROM aiplat.organization_members m WHERE m.organization_id = org AND m.user_id = me)
     OR EXISTS (SELECT 1 FROM aiplat.users u WHERE u.id = me AND u.is_superadmin) THEN
    RETURN org;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION aiplat.current_org_id() IS
  'the organisation this transaction works in (validated against membership), or NULL';

-- May the caller learn facts about organisation `org`?
CREATE FUNCTION aiplat.can_read_org(org uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  RETURN aiplat.is_platform() OR aiplat.is_superadmin() OR aiplat.is_member(org);
END
$$;

-- --as EMAIL / --org SLUG. A person asking for an organisation they do not
-- belong to is told it does not exist; only the platform (and superadmins)
-- hear that someone is not a member.
CREATE OR REPLACE FUNCTION aiplat.resolve_identity(p_as_email text, p_org_slug text)
RETURNS TABLE (user_id uuid, email text, is_superadmin boolean, via_login_role boolean,
               org_id uuid, org_slug text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  mapped aiplat.users;
  acting aiplat.users;
  org aiplat.organizations;
  owner_session boolean := aiplat_internal.session_is_owner();
  belongs boolean;
BEGIN
  SELECT * INTO mapped FROM aiplat.users u WHERE u.login_role = session_user::text;
  IF mapped.id IS NOT NULL THEN
    IF p_as_email IS NULL OR lower(p_as_email) = lower(mapped.email) THEN
      acting := mapped;
    ELSIF mapped.is_superadmin THEN
      SELECT * INTO acting FROM aiplat.users u WHERE lower(u.email) = lower(p_as_email);
    ELSE
      RAISE EXCEPTION 'login role % is %, who is not a superadmin and cannot act as %',
        session_user, mapped.email, p_as_email USING ERRCODE = 'insufficient_privilege';
    END IF;
  ELSIF NOT owner_session THEN
    IF p_as_email IS NOT NULL OR p_org_slug IS NOT NULL THEN
      RAISE EXCEPTION 'login role % is neither mapped to a person nor the platform''s', session_user
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'map it to a person (aiplat user map-login) or connect as the schema owner';
    END IF;
  ELSIF p_as_email IS NOT NULL THEN
    SELECT * INTO acting FROM aiplat.users u WHERE lower(u.email) = lower(p_as_email);
  END IF;
  IF p_as_email IS NOT NULL AND acting.id IS NULL THEN
    RAISE EXCEPTION 'no user with email %', p_as_email USING ERRCODE = 'no_data_found';
  END IF;

  IF p_org_slug IS NOT NULL THEN
    SELECT * INTO org FROM aiplat.organizations o WHERE o.slug = p_org_slug;
    belongs := acting.id IS NOT NULL AND EXISTS (
      SELECT 1 FROM aiplat.organization_members m WHERE m.organization_id = org.id AND m.user_id = acting.id);
    IF org.id IS NOT NULL AND mapped.id IS NOT NULL AND NOT mapped.is_superadmin AND NOT belongs THEN
      org := NULL;   -- not theirs: as if it did not exist
    END IF;
    IF org.id IS NULL THEN
      RAISE EXCEPTION 'no organization %', p_org_slug USING ERRCODE = 'no_data_found';
    END IF;
    IF acting.id IS NOT NULL AND NOT acting.is_superadmin AND NOT belongs THEN
      RAISE EXCEPTION '% is not a member of organization %', acting.email, org.slug
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;

  RETURN QUERY SELECT acting.id, acting.email, coalesce(acting.is_superadmin, false),
                      mapped.id IS NOT NULL, org.id, org.slug;
END
$$;

-- ---------------------------------------------------------------------------
-- Secrets: pgcrypto wherever it lives
-- ---------------------------------------------------------------------------

-- The functions are written with the extension's schema at migration time,
-- so nothing depends on search_path. (Moving pgcrypto later means running
-- this migration's down and up again.)
DO $$
DECLARE
  ext text;
BEGIN
  SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pgcrypto';
  IF ext IS NULL THEN
    RAISE EXCEPTION 'the pgcrypto extension is not installed' USING ERRCODE = 'undefined_object';
  END IF;
  EXECUTE format($f$
    CREATE FUNCTION aiplat.encrypt_secret(plain text, secret_key text) RETURNS bytea
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog AS
    'SELECT %1$I.pgp_sym_encrypt(plain, secret_key)'
  $f$, ext);
  EXECUTE format($f$
    CREATE FUNCTION aiplat_internal.decrypt_secret(cipher bytea, secret_key text) RETURNS text
    LANGUAGE sql STABLE STRICT SET search_path = pg_catalog AS
    'SELECT %1$I.pgp_sym_decrypt(cipher, secret_key)'
  $f$, ext);
END
$$;
COMMENT ON FUNCTION aiplat.encrypt_secret(text, text) IS
  'pgp_sym_encrypt from wherever pgcrypto is installed; reads no data';

-- ---------------------------------------------------------------------------
-- Audit: written by the definer, labelled truthfully, never suppressed by a person
-- ---------------------------------------------------------------------------

-- The actions a person's transaction may label its row changes with
-- (aiplat.audit_action), per table and operation. Any other label is
-- replaced by <table>.<operation>; the platform's labels are taken as given.
CREATE TABLE aiplat_internal.audit_actions (
  action      text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  table_name  text NOT NULL,
  operation   text NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
  PRIMARY KEY (action, table_name, operation)
);
INSERT INTO aiplat_internal.audit_actions (action, table_name, operation)
SELECT a.action, a.table_name, op
  FROM (VALUES
    ('model.create', 'ai_models_system', '{insert}'),
    ('model.update', 'ai_models_system', '{update}'),
    ('model.delete', 'ai_models_system', '{delete}'),
    ('model.delete', 'org_system_model_config', '{delete}'),
    ('model.activate', 'ai_models_system', '{update}'),
    ('model.deactivate', 'ai_models_system', '{update}'),
    ('model.feature', 'ai_models_system', '{update}'),
    ('model.unfeature', 'ai_models_system', '{update}'),
    ('model.enable', 'org_system_model_config', '{insert,update}'),
    ('model.disable', 'org_system_model_config', '{insert,update}'),
    ('model.set_limit', 'org_system_model_config', '{insert,update}'),
    ('flag.set', 'feature_flags', '{insert,update}'),
    ('flag.set_global', 'feature_flags', '{insert,update}'),
    ('prompt.set', 'prompts', '{insert}'),
    ('prompt.set_global', 'prompts', '{insert}'),
    ('tenant.create', 'organizations', '{insert}'),
    ('tenant.create', 'organization_members', '{insert}'),
    ('tenant.set_plan', 'organizations', '{update}'),
    ('tenant.set_type', 'organizations', '{update}'),
    ('tenant.set_quota', 'organizations', '{update}'),
    ('tenant.set_name', 'organizations', '{update}'),
    ('tenant.set_time_zone', 'organizations', '{update}'),
    ('tenant.add_member', 'organization_members', '{insert}'),
    ('tenant.remove_member', 'organization_members', '{delete}'),
    ('tenant.set_role', 'organization_members', '{update}'),
    ('user.create', 'users', '{insert}'),
    ('user.grant_superadmin', 'users', '{update}'),
    ('user.revoke_superadmin', 'users', '{update}'),
    ('role.create', 'roles', '{insert}'),
    ('role.create', 'role_permissions', '{insert}'),
    ('role.grant', 'role_permissions', '{insert}'),
    ('role.revoke', 'role_permissions', '{delete}')
  ) AS a(action, table_name, ops)
  CROSS JOIN LATERAL unnest(a.ops::text[]) AS op;
COMMENT ON TABLE aiplat_internal.audit_actions IS
  'audit labels a person''s transaction may use, per table and operation';

CREATE OR REPLACE FUNCTION aiplat_internal.audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  old_j jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_j jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  row_j jsonb := coalesce(new_j, old_j);
  op text := lower(TG_OP);
  platform boolean := aiplat.is_platform();
  label text := nullif(current_setting('aiplat.audit_action', true), '');
  secret text;
  key_id text;
  org uuid;
BEGIN
  -- Only the platform may switch row auditing off (bulk loads).
  IF platform AND coalesce(current_setting('aiplat.audit', true), '') = 'off' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND (old_j - 'updated_at') = (new_j - 'updated_at') THEN
    RETURN NULL;   -- nothing really changed
  END IF;
  IF label IS NOT NULL AND NOT platform
     AND NOT EXISTS (SELECT 1 FROM aiplat_internal.audit_actions a
                      WHERE a.action = label AND a.table_name = TG_TABLE_NAME AND a.operation = op) THEN
    label := NULL;   -- a person's label must fit what changed
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
  PERFORM aiplat_internal.audit(coalesce(label, TG_TABLE_NAME || '.' || op), TG_TABLE_NAME, key_id,
                                old_j, new_j, org,
                                CASE WHEN TG_TABLE_NAME = 'organizations' THEN row_j ->> 'slug' END);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION aiplat_internal.audit_row_change() IS
  'AFTER ROW trigger: audits a change (args: key columns, then secret columns to leave out)';

CREATE OR REPLACE FUNCTION aiplat_internal.forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE')
     AND coalesce(current_setting('aiplat.allow_prune', true), '') = 'on'
     AND current_user <> 'aiplat_app' AND aiplat.is_platform() THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD END;
  END IF;
  RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.check_org_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT aiplat.is_platform() AND NOT aiplat.is_superadmin()
     AND (NEW.type IS DISTINCT FROM OLD.type
          OR NEW.pricing_plan IS DISTINCT FROM OLD.pricing_plan
          OR NEW.token_quota_monthly IS DISTINCT FROM OLD.token_quota_monthly) THEN
    RAISE EXCEPTION 'only a superadmin may change an organization''s type, plan or quota'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.check_user_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.is_superadmin IS DISTINCT FROM OLD.is_superadmin
     AND NOT aiplat.is_platform() AND NOT aiplat.is_superadmin() THEN
    RAISE EXCEPTION 'only a superadmin may grant or revoke superadmin'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.login_role IS DISTINCT FROM OLD.login_role AND NOT aiplat.is_platform() THEN
    RAISE EXCEPTION 'login roles are mapped by the platform itself'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------
-- Lookups: only about what the caller may see
-- ---------------------------------------------------------------------------

-- The unguarded rules, for the quota engine (which authorises first).
CREATE FUNCTION aiplat_internal.org_quota(org uuid) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  RETURN (
    SELECT coalesce(o.token_quota_monthly, p.monthly_token_quota)
      FROM aiplat.organizations o JOIN aiplat.plans p ON p.code = o.pricing_plan
     WHERE o.id = org);
END
$$;

CREATE FUNCTION aiplat_internal.model_availability(model_id bigint, org uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
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

CREATE FUNCTION aiplat_internal.flag_of(org uuid, flag text, OUT enabled boolean, OUT value jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  SELECT f.enabled, f.value INTO enabled, value FROM aiplat.feature_flags f
   WHERE f.name = flag AND (f.organization_id = org OR f.organization_id IS NULL)
   ORDER BY f.organization_id NULLS LAST LIMIT 1;
END
$$;

CREATE OR REPLACE FUNCTION aiplat.effective_quota(org uuid) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  IF NOT aiplat.can_read_org(org) THEN
    RETURN NULL;
  END IF;
  RETURN aiplat_internal.org_quota(org);
END
$$;

CREATE OR REPLACE FUNCTION aiplat.model_availability(model_id bigint, org uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  IF NOT aiplat.can_read_org(org) THEN
    RETURN NULL;
  END IF;
  RETURN aiplat_internal.model_availability(model_id, org);
END
$$;

CREATE OR REPLACE FUNCTION aiplat.model_availability_facts(model_id bigint, org uuid,
  OUT availability text, OUT required_plan text, OUT org_plan text, OUT org_type text,
  OUT org_slug text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT aiplat_internal.model_availability(m.id, o.id), m.required_plan, o.pricing_plan, o.type, o.slug
    FROM aiplat.ai_models_system m, aiplat.organizations o
   WHERE m.id = model_id AND o.id = org AND aiplat.can_read_org(o.id)
$$;

-- A flag as an organisation sees it; for an organisation the caller may
-- not read, the global setting (as for one that does not exist).
CREATE OR REPLACE FUNCTION aiplat.effective_flag(org uuid, flag text, OUT enabled boolean, OUT value jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  SELECT f.enabled, f.value INTO enabled, value
    FROM aiplat_internal.flag_of(CASE WHEN aiplat.can_read_org(org) THEN org END, flag) f;
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.daily_request_limit(org uuid) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  f record;
  n jsonb;
BEGIN
  f := aiplat_internal.flag_of(org, 'ai.daily_requests');
  IF f.enabled THEN
    n := CASE jsonb_typeof(f.value) WHEN 'object' THEN f.value -> 'limit' ELSE f.value END;
    IF jsonb_typeof(n) = 'number' AND (n #>> '{}')::numeric >= 1 THEN
      RETURN least((n #>> '{}')::numeric, 2147483647)::integer;
    END IF;
  END IF;
  RETURN (SELECT p.daily_request_limit FROM aiplat.organizations o
            JOIN aiplat.plans p ON p.code = o.pricing_plan WHERE o.id = org);
END
$$;

-- Whether the caller may see a catalogue model's content (its name, prompts,
-- tasks): the platform and superadmins always; people when their
-- organisation has configured it, or when they manage its models and it is
-- available to it.
CREATE FUNCTION aiplat.can_see_model(p_model bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  org uuid;
BEGIN
  IF aiplat.is_platform() OR aiplat.is_superadmin() THEN
    RETURN true;
  END IF;
  org := aiplat.current_org_id();
  IF org IS NULL THEN
    RETURN false;
  END IF;
  RETURN EXISTS (SELECT 1 FROM aiplat.org_system_model_config c
                  WHERE c.organization_id = org AND c.system_model_id = p_model)
      OR (aiplat.has_permission(org, 'models', 'manage')
          AND aiplat_internal.model_availability(p_model, org) = 'available');
END
$$;

-- A model's name for reports: where the caller may see the model, or the
-- current organisation has usage of it (its own data names it); else #id.
CREATE OR REPLACE FUNCTION aiplat.model_name(model_id bigint) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  org uuid;
BEGIN
  IF NOT aiplat.can_see_model(model_id) THEN
    org := aiplat.current_org_id();
    IF org IS NULL
       OR NOT (EXISTS (SELECT 1 FROM aiplat.ai_model_usage u
                        WHERE u.organization_id = org AND u.model_id = model_name.model_id)
               OR EXISTS (SELECT 1 FROM aiplat.usage_daily_models d
                           WHERE d.organization_id = org AND d.model_id = model_name.model_id)) THEN
      RETURN '#' || model_id;
    END IF;
  END IF;
  RETURN coalesce((SELECT m.name FROM aiplat.ai_models_system m WHERE m.id = model_id), '#' || model_id);
END
$$;

CREATE OR REPLACE FUNCTION aiplat.call_shape(p_model text,
  OUT model_id bigint, OUT name text, OUT max_tokens integer, OUT system_message text, OUT tasks jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT m.id, m.name, m.max_tokens, m.system_message, m.tasks
    FROM aiplat.ai_models_system m
   WHERE m.id = aiplat.find_model_id(p_model) AND aiplat.can_see_model(m.id)
$$;

CREATE OR REPLACE FUNCTION aiplat.find_user_id(p_email text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT u.id FROM aiplat.users u
   WHERE lower(u.email) = lower(p_email)
     AND (aiplat.is_platform() OR u.id = aiplat.current_user_id()
          OR aiplat.is_superadmin() OR aiplat.has_current_permission('members', 'manage'))
$$;

CREATE OR REPLACE FUNCTION aiplat.member_count(org uuid) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT count(*) FROM aiplat.organization_members m
   WHERE m.organization_id = org AND aiplat.can_read_org(org)
$$;

CREATE OR REPLACE FUNCTION aiplat.member_user_id(org uuid, ident text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT u.id FROM aiplat.users u
    JOIN aiplat.organization_members m ON m.user_id = u.id AND m.organization_id = org
   WHERE (lower(u.email) = lower(ident) OR u.id::text = ident)
     AND (aiplat.is_platform() OR aiplat.is_superadmin()
          OR u.id = aiplat.current_user_id()
          OR aiplat.has_permission(org, 'members', 'read')
          OR aiplat.has_permission(org, 'usage', 'read_all'))
$$;

-- ---------------------------------------------------------------------------
-- The quota engine
-- ---------------------------------------------------------------------------

-- Organisation by slug or id, person by email or id, model by name or id.
-- People resolve only organisations they belong to, and themselves or the
-- members they may see there: anything else is "no organization" / "no
-- user", whether or not it exists (22023).
CREATE OR REPLACE FUNCTION aiplat_internal.quota_refs(p_org text, p_user text, p_model text,
                                                       OUT org_id uuid, OUT user_id uuid,
                                                       OUT model_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  uuid_re constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
  me uuid := aiplat.current_user_id();
  trusted boolean := aiplat.is_platform() OR aiplat.is_superadmin();
BEGIN
  IF p_org ~ uuid_re THEN
    SELECT o.id INTO org_id FROM aiplat.organizations o WHERE o.id = p_org::uuid;
  ELSE
    SELECT o.id INTO org_id FROM aiplat.organizations o WHERE o.slug = p_org;
  END IF;
  IF org_id IS NOT NULL AND NOT trusted
     AND NOT EXISTS (SELECT 1 FROM aiplat.organization_members m
                      WHERE m.organization_id = org_id AND m.user_id = me) THEN
    org_id := NULL;
  END IF;
  IF org_id IS NULL THEN
    RAISE EXCEPTION 'no organization %', coalesce(p_org, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_user ~ uuid_re THEN
    SELECT u.id INTO user_id FROM aiplat.users u WHERE u.id = p_user::uuid;
  ELSE
    SELECT u.id INTO user_id FROM aiplat.users u WHERE lower(u.email) = lower(p_user);
  END IF;
  IF user_id IS NOT NULL AND NOT trusted AND user_id IS DISTINCT FROM me
     AND NOT (EXISTS (SELECT 1 FROM aiplat.organization_members m
                       WHERE m.organization_id = org_id AND m.user_id = quota_refs.user_id)
              AND (aiplat.has_permission(org_id, 'members', 'read')
                   OR aiplat.has_permission(org_id, 'usage', 'read_all'))) THEN
    user_id := NULL;
  END IF;
  IF user_id IS NULL THEN
    RAISE EXCEPTION 'no user %', coalesce(p_user, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_model ~ '^[0-9]{1,18}$' THEN
    SELECT m.id INTO model_id FROM aiplat.ai_models_system m WHERE m.id = p_model::bigint;
  ELSE
    SELECT m.id INTO model_id FROM aiplat.ai_models_system m WHERE lower(m.name) = lower(p_model);
  END IF;
  IF model_id IS NULL THEN
    RAISE EXCEPTION 'no model %', coalesce(p_model, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;

-- People may act only for themselves (and read others' decisions with
-- usage:read_all); the platform and superadmins for anyone; nobody else.
CREATE OR REPLACE FUNCTION aiplat_internal.quota_authorize(org uuid, usr uuid, writing boolean) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  me uuid := aiplat.current_user_id();
BEGIN
  IF aiplat.is_platform() OR aiplat.is_superadmin() THEN
    RETURN;
  END IF;
  IF me IS NOT NULL AND me = usr
     AND aiplat.has_permission(org, 'usage', CASE WHEN writing THEN 'write' ELSE 'read' END) THEN
    RETURN;
  END IF;
  IF me IS NOT NULL AND NOT writing AND aiplat.has_permission(org, 'usage', 'read_all') THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'not allowed to % usage for this person', CASE WHEN writing THEN 'record' ELSE 'read' END
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.record_usage(o aiplat.organizations, m aiplat.ai_models_system,
                                                         usr uuid, at timestamptz, ev uuid, tin bigint,
                                                         tout bigint, latency integer, request text,
                                                         src text, reservation uuid)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  period text := coalesce(m.token_limit_period, 'monthly');
  cost bigint := round(tin * m.price_input_per_mtok + tout * m.price_output_per_mtok)::bigint;
  total bigint := tin + tout;
BEGIN
  PERFORM aiplat_internal.ensure_usage_partition((at AT TIME ZONE 'UTC')::date);
  INSERT INTO aiplat.usage_events (organization_id, occurred_at, event_id, user_id, model_id,
                                   tokens_in, tokens_out, latency_ms, request_id, cost_micro_usd,
                                   reservation_id, source)
  VALUES (o.id, at, ev, usr, m.id, tin, tout, latency, request, cost, reservation, src);
  INSERT INTO aiplat.ai_model_usage AS u (organization_id, user_id, model_id, model_name, period_type,
                                          period_start, period_end, tokens_used, requests_count)
  VALUES (o.id, usr, m.id, m.name, period, aiplat.period_start(period, o.time_zone, at),
          aiplat.period_end(period, o.time_zone, at), total, 1)
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + 1, updated_at = now();
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.token_reset_date - interval '1 second')
     AND at < o.token_reset_date THEN
    UPDATE aiplat.organizations SET token_usage_current = token_usage_current + total WHERE id = o.id;
  END IF;
  INSERT INTO aiplat.usage_daily AS d (organization_id, day, model_id, user_id, tokens_in, tokens_out,
                                       requests, cost_micro_usd)
  VALUES (o.id, (at AT TIME ZONE o.time_zone)::date, m.id, usr, tin, tout, 1, cost)
  ON CONFLICT (organization_id, day, model_id, user_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + 1, cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  INSERT INTO aiplat.usage_daily_models AS d (organization_id, day, model_id, tokens_in, tokens_out,
                                              requests, cost_micro_usd)
  VALUES (o.id, (at AT TIME ZONE o.time_zone)::date, m.id, tin, tout, 1, cost)
  ON CONFLICT (organization_id, day, model_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + 1, cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  RETURN cost;
END
$$;

/*
 * The admission step. p_mode:
 *   check    decide, record nothing, take no locks
 *   consume  decide and, when allowed, record p_tokens (tokens in/out when
 *            given) as one event, atomically
 *   reserve  decide and, when allowed, hold p_tokens for p_ttl
 *   record   usage that already happened. The platform's is checked only
 *            for who and what (the person belongs to the organisation, the
 *            model is for its type and plan; p_force skips that and is
 *            audited); a person's own report is decided like a consume, so
 *            it never carries them past a limit.
 * Only the platform gives p_at (when it happened).
 * Decision order (seed 000 6.3, with the catalogue's rules first): the
 * person must belong to the organisation; the organisation's `ai` flag
 * must not be off; the model must be active, within the plan, enabled and
 * not an expired trial; a free model is then allowed; else the
 * organisation's monthly quota, then the person's limit for the model's
 * period, each counting active reservations.
 */
CREATE FUNCTION aiplat.quota_admit(p_org text, p_user text, p_model text, p_tokens bigint,
                                   p_mode text DEFAULT 'check', p_event_id uuid DEFAULT NULL,
                                   p_tokens_in bigint DEFAULT NULL, p_tokens_out bigint DEFAULT NULL,
                                   p_latency_ms integer DEFAULT NULL, p_request_id text DEFAULT NULL,
                                   p_ttl interval DEFAULT NULL, p_at timestamptz DEFAULT NULL,
                                   p_force boolean DEFAULT false)
RETURNS aiplat.quota_decision
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  platform boolean := aiplat.is_platform();
  writing boolean := p_mode IN ('consume', 'reserve', 'record');
  deciding boolean := p_mode <> 'record' OR NOT platform;
  refs record;
  o aiplat.organizations;
  m aiplat.ai_models_system;
  c aiplat.org_system_model_config;
  d aiplat.quota_decision;
  belongs boolean;
  avail text;
  period text;
  ps timestamptz;
  reserved bigint;
  used bigint;
  tin bigint;
  tout bigint;
  at timestamptz;
  today date;
BEGIN
  IF p_mode NOT IN ('check', 'consume', 'reserve', 'record') THEN
    RAISE EXCEPTION 'unknown quota mode %', p_mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_tokens IS NULL OR p_tokens < 0 OR (p_mode <> 'record' AND p_tokens = 0) THEN
    RAISE EXCEPTION 'tokens must be a positive number' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF coalesce(p_force, false) AND NOT (platform AND p_mode = 'record') THEN
    RAISE EXCEPTION 'only the platform may record usage without the membership and model checks'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_at IS NOT NULL AND NOT platform THEN
    RAISE EXCEPTION 'people report usage as it happens; only the platform records it at another time'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  refs := aiplat_internal.quota_refs(p_org, p_user, p_model);
  PERFORM aiplat_internal.quota_authorize(refs.org_id, refs.user_id, writing);
  d.organization_id := refs.org_id;
  d.user_id := refs.user_id;
  d.model_id := refs.model_id;
  SELECT * INTO m FROM aiplat.ai_models_system WHERE id = refs.model_id;
  SELECT * INTO c FROM aiplat.org_system_model_config
   WHERE organization_id = refs.org_id AND system_model_id = refs.model_id;
  /* Locks in a fixed order: the organisation, then the person's counter. */
  IF writing THEN
    o := aiplat_internal.lock_org(refs.org_id, now_);
  ELSE
    SELECT * INTO o FROM aiplat.organizations WHERE id = refs.org_id;
    IF now_ >= o.token_reset_date THEN   -- as it will be at the next write
      o.token_usage_current := 0;
      o.token_reset_date := aiplat.period_end('monthly', o.time_zone, now_);
    END IF;
  END IF;
  period := coalesce(m.token_limit_period, 'monthly');
  ps := aiplat.period_start(period, o.time_zone, now_);
  d.user_period := period;
  d.user_resets_at := aiplat.period_end(period, o.time_zone, now_);
  d.user_limit := CASE WHEN m.is_free THEN NULL ELSE coalesce(c.token_limit_per_user, m.token_limit_amount) END;
  d.org_quota := aiplat_internal.org_quota(o.id);
  d.org_resets_at := o.token_reset_date;
  /* Active reservations count until they expire, whoever cleans them up (free models never count). */
  SELECT coalesce(sum(r.tokens), 0) INTO reserved
    FROM aiplat.quota_reservations r JOIN aiplat.ai_models_system rm ON rm.id = r.model_id
   WHERE r.organization_id = o.id AND r.status = 'active' AND r.expires_at > now_ AND NOT rm.is_free;
  d.org_used := o.token_usage_current + reserved;
  belongs := EXISTS (SELECT 1 FROM aiplat.organization_members mm
                     WHERE mm.organization_id = o.id AND mm.user_id = refs.user_id);

  IF deciding THEN
    avail := aiplat_internal.model_availability(m.id, o.id);
    d.reason := CASE
      WHEN NOT belongs THEN 'not_a_member'
      WHEN (aiplat_internal.flag_of(o.id, 'ai')).enabled IS FALSE THEN 'ai_disabled'
      WHEN avail = 'model_inactive' THEN 'model_inactive'
      WHEN avail = 'plan_insufficient' THEN 'plan_insufficient'
      WHEN avail <> 'available' OR c.system_model_id IS NULL OR NOT c.is_enabled_for_users
        THEN 'model_not_enabled'
      WHEN m.is_trial AND c.enabled_at + make_interval(days => m.trial_expires_days) <= now_
        THEN 'trial_expired'
      WHEN m.is_free THEN 'model_free'
    END;
    /* Requests per day, free models included (seed 003 1.2.7). */
    d.request_limit := aiplat_internal.daily_request_limit(o.id);
    IF d.request_limit IS NOT NULL THEN
      today := (now_ AT TIME ZONE o.time_zone)::date;
      SELECT requests INTO d.requests_today FROM aiplat.request_counters
       WHERE organization_id = o.id AND user_id = refs.user_id AND day = today;
      d.requests_today := coalesce(d.requests_today, 0);
      d.requests_reset_at := (today + 1)::timestamp AT TIME ZONE o.time_zone;
      IF (d.reason IS NULL OR d.reason = 'model_free') AND d.requests_today >= d.request_limit THEN
        d.reason := 'rate_limited';
      END IF;
    END IF;
  ELSIF NOT coalesce(p_force, false) THEN
    /* The platform's record: the person and the model must belong there. */
    d.reason := CASE
      WHEN NOT belongs THEN 'not_a_member'
      WHEN cardinality(m.organization_types) > 0 AND NOT o.type = ANY (m.organization_types)
        THEN 'type_not_targeted'
      WHEN (SELECT p.level FROM aiplat.plans p WHERE p.code = m.required_plan)
           > (SELECT p.level FROM aiplat.plans p WHERE p.code = o.pricing_plan) THEN 'plan_insufficient'
    END;
  END IF;

  /* The person's counter for the current period: created and locked when writing. */
  IF writing THEN
    INSERT INTO aiplat.ai_model_usage (organization_id, user_id, model_id, model_name, period_type,
                                       period_start, period_end)
    VALUES (o.id, refs.user_id, m.id, m.name, period, ps, d.user_resets_at)
    ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO NOTHING;
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = ps
       FOR UPDATE;
  ELSE
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = ps;
  END IF;
  SELECT coalesce(sum(r.tokens), 0) INTO reserved FROM aiplat.quota_reservations r
   WHERE r.organization_id = o.id AND r.user_id = refs.user_id AND r.model_id = m.id
     AND r.status = 'active' AND r.expires_at > now_;
  d.user_used := coalesce(used, 0) + reserved;

  IF deciding AND d.reason IS NULL THEN
    IF d.org_quota IS NOT NULL AND d.org_used + p_tokens > d.org_quota THEN
      d.reason := 'org_quota_exceeded';
    ELSIF d.user_limit IS NOT NULL AND d.user_used + p_tokens > d.user_limit THEN
      d.reason := 'user_limit_exceeded';
    ELSE
      d.reason := 'ok';
    END IF;
  END IF;
  IF deciding THEN
    d.allowed := d.reason IN ('ok', 'model_free');
  ELSE
    d.allowed := d.reason IS NULL;
    d.reason := coalesce(d.reason, 'ok');
  END IF;
  IF d.reason = 'org_quota_exceeded' THEN
    d.used := d.org_used; d.lim := d.org_quota; d.resets_at := d.org_resets_at;
  ELSIF d.reason = 'rate_limited' THEN
    d.used := d.requests_today; d.lim := d.request_limit; d.resets_at := d.requests_reset_at;
  ELSE
    d.used := d.user_used; d.lim := d.user_limit; d.resets_at := d.user_resets_at;
  END IF;
  IF NOT d.allowed OR p_mode = 'check' THEN
    RETURN d;
  END IF;
  IF deciding AND d.request_limit IS NOT NULL THEN
    INSERT INTO aiplat.request_counters AS rc (organization_id, user_id, day, requests)
    VALUES (o.id, refs.user_id, today, 1)
    ON CONFLICT (organization_id, user_id, day) DO UPDATE SET requests = rc.requests + 1;
    d.requests_today := d.requests_today + 1;
  END IF;

  IF p_mode = 'reserve' THEN
    INSERT INTO aiplat.quota_reservations (organization_id, user_id, model_id, tokens, request_id,
                                           created_at, expires_at)
    VALUES (o.id, refs.user_id, m.id, p_tokens, p_request_id, now_,
            now_ + coalesce(p_ttl, make_interval(secs => (SELECT value::int FROM aiplat.settings
                                                            WHERE key = 'reservation_ttl_seconds'))))
    RETURNING id INTO d.reservation_id;
    /* Report the usage as it now stands, the hold included. */
    d.user_used := d.user_used + p_tokens;
    IF NOT m.is_free THEN
      d.org_used := d.org_used + p_tokens;
    END IF;
    d.used := d.used + p_tokens;
    RETURN d;
  END IF;

  /* consume / record: idempotent by event id, then everything in one go. */
  d.event_id := coalesce(p_event_id, gen_random_uuid());
  at := coalesce(p_at, now_);
  IF p_event_id IS NOT NULL THEN
    INSERT INTO aiplat.usage_event_ids (organization_id, event_id, occurred_at)
    VALUES (o.id, p_event_id, at) ON CONFLICT DO NOTHING;
    /* Remembered live, or imported (an event is its organisation, time and id). */
    IF NOT FOUND OR EXISTS (SELECT 1 FROM aiplat.usage_events e
                             WHERE e.organization_id = o.id AND e.occurred_at = at
                               AND e.event_id = p_event_id) THEN
      d.reason := 'duplicate';
      RETURN d;
    END IF;
  END IF;
  tin := coalesce(p_tokens_in, p_tokens - coalesce(p_tokens_out, 0));
  tout := coalesce(p_tokens_out, 0);
  IF tin < 0 OR tin + tout <> p_tokens THEN
    RAISE EXCEPTION 'tokens in (%) and out (%) do not add up to %', tin, tout, p_tokens
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  d.cost_micro_usd := aiplat_internal.record_usage(o, m, refs.user_id, at, d.event_id, tin, tout,
                                                   p_latency_ms, p_request_id, p_mode, NULL);
  IF coalesce(p_force, false) THEN
    PERFORM aiplat_internal.audit('usage.record_forced', 'usage_events', d.event_id::text, NULL,
      jsonb_build_object('user_id', refs.user_id, 'model_id', m.id, 'tokens_in', tin, 'tokens_out', tout,
                         'occurred_at', at, 'member', belongs,
                         'availability', aiplat_internal.model_availability(m.id, o.id)),
      o.id, o.slug);
  END IF;
  /* Report the usage as it now stands: the period the event fell in (a
   * recorded event may belong to an earlier one), and the organisation's
   * month when it counted there. */
  IF aiplat.period_start(period, o.time_zone, at) = ps THEN
    d.user_used := d.user_used + p_tokens;
  ELSE
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = aiplat.period_start(period, o.time_zone, at);
    d.user_used := used;
    d.user_resets_at := aiplat.period_end(period, o.time_zone, at);
  END IF;
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.token_reset_date - interval '1 second')
     AND at < o.token_reset_date THEN
    d.org_used := d.org_used + p_tokens;
  END IF;
  d.used := d.user_used;
  d.resets_at := d.user_resets_at;
  RETURN d;
END
$$;
COMMENT ON FUNCTION aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer,
  text, interval, timestamptz, boolean) IS
  'decide (and with consume/reserve/record, record) in one atomic step; see the migration for the order';
DROP FUNCTION aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer, text,
                                 interval, timestamptz);

-- Settles a reservation at the real usage or releases it. People's holds
-- are their own (anyone else's is "no reservation"). Above the hold, a
-- person may settle only what their limit and the organisation's quota
-- still allow: beyond that nothing is recorded and the hold stays until it
-- is released or expires (allowed false, the limit's reason). The
-- platform records the real numbers whatever they are, and says so
-- (settled_over_quota, settled_over_limit). When the limits were looked
-- at, used and lim are the deciding limit's usage besides this hold and
-- the limit itself.
CREATE OR REPLACE FUNCTION aiplat.quota_finish(p_reservation uuid, p_settle boolean,
                                               p_tokens_in bigint DEFAULT NULL, p_tokens_out bigint DEFAULT 0,
                                               p_latency_ms integer DEFAULT NULL,
                                               p_request_id text DEFAULT NULL,
                                               p_source text DEFAULT 'settle')
RETURNS aiplat.quota_decision
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  platform boolean := aiplat.is_platform();
  me uuid := aiplat.current_user_id();
  r aiplat.quota_reservations;
  o aiplat.organizations;
  m aiplat.ai_models_system;
  c aiplat.org_system_model_config;
  d aiplat.quota_decision;
  total bigint;
  held bigint;
  period text;
  used bigint;
  reserved bigint;
BEGIN
  SELECT * INTO r FROM aiplat.quota_reservations WHERE id = p_reservation;
  IF r.id IS NOT NULL AND NOT platform AND NOT aiplat.is_superadmin() AND r.user_id IS DISTINCT FROM me THEN
    r := NULL;
  END IF;
  IF r.id IS NULL THEN
    RAISE EXCEPTION 'no reservation %', p_reservation USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM aiplat_internal.quota_authorize(r.organization_id, r.user_id, true);
  /* Same lock order as admission: the organisation first. */
  o := aiplat_internal.lock_org(r.organization_id, now_);
  SELECT * INTO r FROM aiplat.quota_reservations
   WHERE organization_id = r.organization_id AND id = p_reservation FOR UPDATE;
  IF r.status <> 'active' THEN
    RAISE EXCEPTION 'reservation % is already %', p_reservation, r.status
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  d.organization_id := r.organization_id;
  d.user_id := r.user_id;
  d.model_id := r.model_id;
  d.reservation_id := r.id;
  d.allowed := true;
  IF NOT p_settle THEN
    UPDATE aiplat.quota_reservations SET status = 'released', finished_at = now_
     WHERE organization_id = r.organization_id AND id = r.id;
    d.reason := 'released';
    RETURN d;
  END IF;
  IF p_tokens_in IS NULL OR p_tokens_in < 0 OR coalesce(p_tokens_out, 0) < 0 THEN
    RAISE EXCEPTION 'settle needs the tokens used' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_source NOT IN ('settle', 'ai') THEN
    RAISE EXCEPTION 'unknown usage source %', p_source USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO m FROM aiplat.ai_models_system WHERE id = r.model_id;
  total := p_tokens_in + coalesce(p_tokens_out, 0);
  /* An expired hold holds nothing any more. */
  held := CASE WHEN r.expires_at > now_ THEN r.tokens ELSE 0 END;
  d.reason := 'settled';
  IF total > held AND NOT m.is_free THEN
    /* The usage beside this hold, counted as admission counts it. */
    SELECT * INTO c FROM aiplat.org_system_model_config
     WHERE organization_id = r.organization_id AND system_model_id = m.id;
    period := coalesce(m.token_limit_period, 'monthly');
    SELECT coalesce(sum(x.tokens), 0) INTO reserved
      FROM aiplat.quota_reservations x JOIN aiplat.ai_models_system xm ON xm.id = x.model_id
     WHERE x.organization_id = o.id AND x.status = 'active' AND x.expires_at > now_ AND NOT xm.is_free
       AND x.id <> r.id;
    d.org_used := o.token_usage_current + reserved;
    d.org_quota := aiplat_internal.org_quota(o.id);
    d.org_resets_at := o.token_reset_date;
    SELECT u.tokens_used INTO used FROM aiplat.ai_model_usage u
     WHERE u.organization_id = o.id AND u.user_id = r.user_id AND u.model_id = m.id
       AND u.period_type = period AND u.period_start = aiplat.period_start(period, o.time_zone, now_);
    SELECT coalesce(sum(x.tokens), 0) INTO reserved FROM aiplat.quota_reservations x
     WHERE x.organization_id = o.id AND x.user_id = r.user_id AND x.model_id = m.id
       AND x.status = 'active' AND x.expires_at > now_ AND x.id <> r.id;
    d.user_used := coalesce(used, 0) + reserved;
    d.user_limit := coalesce(c.token_limit_per_user, m.token_limit_amount);
    d.user_period := period;
    d.user_resets_at := aiplat.period_end(period, o.time_zone, now_);
    IF d.org_quota IS NOT NULL AND d.org_used + total > d.org_quota THEN
      d.reason := 'org_quota_exceeded';
      d.used := d.org_used; d.lim := d.org_quota; d.resets_at := d.org_resets_at;
    ELSIF d.user_limit IS NOT NULL AND d.user_used + total > d.user_limit THEN
      d.reason := 'user_limit_exceeded';
      d.used := d.user_used; d.lim := d.user_limit; d.resets_at := d.user_resets_at;
    END IF;
    IF d.reason <> 'settled' THEN
      IF NOT platform THEN
        d.allowed := false;
        RETURN d;
      END IF;
      d.reason := CASE d.reason WHEN 'org_quota_exceeded' THEN 'settled_over_quota'
                                ELSE 'settled_over_limit' END;
    END IF;
  END IF;
  d.event_id := gen_random_uuid();
  d.cost_micro_usd := aiplat_internal.record_usage(o, m, r.user_id, now_, d.event_id, p_tokens_in,
                                                   coalesce(p_tokens_out, 0), p_latency_ms,
                                                   coalesce(p_request_id, r.request_id), p_source, r.id);
  UPDATE aiplat.quota_reservations
     SET status = 'settled', settled_tokens = total, finished_at = now_
   WHERE organization_id = r.organization_id AND id = r.id;
  RETURN d;
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.apply_usage_deltas() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  org uuid;
  n bigint;
BEGIN
  FOR org IN SELECT DISTINCT organization_id FROM pg_temp.usage_import_deltas ORDER BY 1 LOOP
    PERFORM aiplat_internal.lock_org(org, now_);
  END LOOP;
  INSERT INTO aiplat.usage_daily AS d (organization_id, day, model_id, user_id, tokens_in, tokens_out,
                                       requests, cost_micro_usd)
  SELECT organization_id, day, model_id, user_id, tokens_in, tokens_out, requests, cost_micro_usd
    FROM pg_temp.usage_import_deltas
   ORDER BY organization_id, day, model_id, user_id
  ON CONFLICT (organization_id, day, model_id, user_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + EXCLUDED.requests,
        cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO aiplat.usage_daily_models AS d (organization_id, day, model_id, tokens_in, tokens_out,
                                              requests, cost_micro_usd)
  SELECT organization_id, day, model_id, sum(tokens_in), sum(tokens_out), sum(requests),
         sum(cost_micro_usd)
    FROM pg_temp.usage_import_deltas
   GROUP BY 1, 2, 3
   ORDER BY 1, 2, 3
  ON CONFLICT (organization_id, day, model_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + EXCLUDED.requests,
        cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  /* Days are local already: group them into periods first (as
   * aiplat.period_start would, from local midnight), convert once per period. */
  WITH g AS (
    SELECT x.organization_id, x.user_id, x.model_id, p.period,
           date_trunc(CASE p.period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' ELSE 'month' END,
                      x.day::timestamp) AS local_start,
           sum(x.tokens_in + x.tokens_out) AS tokens, sum(x.requests) AS requests
      FROM pg_temp.usage_import_deltas x
      JOIN aiplat.ai_models_system m ON m.id = x.model_id
     CROSS JOIN LATERAL (SELECT coalesce(m.token_limit_period, 'monthly') AS period) p
     GROUP BY 1, 2, 3, 4, 5)
  INSERT INTO aiplat.ai_model_usage AS u (organization_id, user_id, model_id, model_name, period_type,
                                          period_start, period_end, tokens_used, requests_count)
  SELECT g.organization_id, g.user_id, g.model_id, m.name, g.period,
         g.local_start AT TIME ZONE o.time_zone,
         (g.local_start + CASE g.period WHEN 'daily' THEN interval '1 day' WHEN 'weekly' THEN interval '7 days'
                                        ELSE interval '1 month' END) AT TIME ZONE o.time_zone,
         g.tokens, g.requests
    FROM g
    JOIN aiplat.organizations o ON o.id = g.organization_id
    JOIN aiplat.ai_models_system m ON m.id = g.model_id
   ORDER BY 1, 2, 3, 5, 6
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + EXCLUDED.requests_count, updated_at = now();
  UPDATE aiplat.organizations o
     SET token_usage_current = o.token_usage_current + x.tokens
    FROM (SELECT d.organization_id, sum(d.tokens_in + d.tokens_out) AS tokens
            FROM pg_temp.usage_import_deltas d
            JOIN aiplat.organizations oo ON oo.id = d.organization_id
            JOIN aiplat.ai_models_system m ON m.id = d.model_id
           WHERE NOT m.is_free
             AND d.day::timestamp AT TIME ZONE oo.time_zone
                 >= aiplat.period_start('monthly', oo.time_zone, oo.token_reset_date - interval '1 second')
             AND d.day::timestamp AT TIME ZONE oo.time_zone < oo.token_reset_date
           GROUP BY 1) x
   WHERE o.id = x.organization_id;
  RETURN n;
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.quota_housekeeping(
  OUT rolled_over bigint, OUT reservations_expired bigint, OUT counters_pruned bigint,
  OUT event_ids_pruned bigint, OUT partitions_dropped bigint, OUT partitions_created bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  now_ timestamptz := aiplat.clock();
  keep_months int := (SELECT value::int FROM aiplat.settings WHERE key = 'usage_retention_months');
  keep_days int := (SELECT value::int FROM aiplat.settings WHERE key = 'event_id_retention_days');
  horizon date := (date_trunc('month', now_ AT TIME ZONE 'UTC') - make_interval(months => keep_months))::date;
  part record;
BEGIN
  WITH r AS (
    UPDATE aiplat.organizations SET token_usage_current = 0,
           token_reset_date = aiplat.period_end('monthly', time_zone, now_)
     WHERE token_reset_date <= now_ RETURNING 1)
  SELECT count(*) INTO rolled_over FROM r;
  WITH r AS (
    UPDATE aiplat.quota_reservations SET status = 'expired', finished_at = now_
     WHERE status = 'active' AND expires_at <= now_ RETURNING 1)
  SELECT count(*) INTO reservations_expired FROM r;
  WITH r AS (
    DELETE FROM aiplat.ai_model_usage WHERE period_end < horizon::timestamp AT TIME ZONE 'UTC' RETURNING 1)
  SELECT count(*) INTO counters_pruned FROM r;
  WITH r AS (
    DELETE FROM aiplat.usage_event_ids WHERE recorded_at < now_ - make_interval(days => keep_days)
    RETURNING 1)
  SELECT count(*) INTO event_ids_pruned FROM r;
  /* Request counters matter for a day; a few days' are kept to look at. */
  DELETE FROM aiplat.request_counters WHERE day < (now_ AT TIME ZONE 'UTC')::date - 7;
  partitions_dropped := 0;
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'aiplat.usage_events'::regclass
       AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'
       AND to_date(substr(c.relname, 14), 'YYYY_MM') < horizon
  LOOP
    EXECUTE format('DROP TABLE aiplat.%I', part.relname);
    partitions_dropped := partitions_dropped + 1;
  END LOOP;
  partitions_created := 0;
  FOR i IN 0 .. 1 LOOP
    IF aiplat_internal.ensure_usage_partition(((now_ AT TIME ZONE 'UTC')::date + make_interval(months => i))::date) THEN
      partitions_created := partitions_created + 1;
    END IF;
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- AI calls
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION aiplat.call_config(p_reservation uuid, p_secret text,
  OUT model_id bigint, OUT name text, OUT provider_kind text, OUT endpoint text,
  OUT provider_model text, OUT max_tokens integer, OUT system_message text,
  OUT api_key_ref text, OUT api_key text, OUT price_input_per_mtok numeric,
  OUT price_output_per_mtok numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  r aiplat.quota_reservations;
  me uuid := aiplat.current_user_id();
  cipher bytea;
BEGIN
  SELECT * INTO r FROM aiplat.quota_reservations WHERE id = p_reservation;
  /* Someone else's hold is no hold at all. */
  IF r.id IS NOT NULL AND NOT aiplat.is_platform() AND NOT aiplat.is_superadmin()
     AND r.user_id IS DISTINCT FROM me THEN
    r := NULL;
  END IF;
  IF r.id IS NULL OR r.status <> 'active' OR r.expires_at <= aiplat.clock() THEN
    RAISE EXCEPTION 'no active reservation %', p_reservation USING ERRCODE = 'invalid_parameter_value';
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
      api_key := aiplat_internal.decrypt_secret(cipher, p_secret);
    EXCEPTION WHEN external_routine_exception OR data_exception THEN
      RAISE EXCEPTION 'AIPLAT_SECRET_KEY does not decrypt the model''s API key'
        USING ERRCODE = 'invalid_parameter_value';
    END;
  END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- The list, and the grants that follow from it
-- ---------------------------------------------------------------------------

INSERT INTO aiplat_internal.functions (signature, callable, purpose, note) VALUES
  ('aiplat.current_user_id()', true, 'identity', 'who the transaction acts for; read by every policy'),
  ('aiplat.current_org_id()', true, 'identity', 'the organisation worked in, validated against membership'),
  ('aiplat.is_platform()', true, 'identity', 'the owner''s connection acting for nobody'),
  ('aiplat.is_superadmin()', true, 'identity', 'the caller is a superadmin'),
  ('aiplat.is_member(uuid)', true, 'identity', 'the caller belongs to the organisation'),
  ('aiplat.has_permission(uuid,text,text)', true, 'identity', 'the caller''s own permission in an organisation'),
  ('aiplat.has_current_permission(text,text)', true, 'identity', 'has_permission in the current organisation'),
  ('aiplat.can_read_org(uuid)', true, 'identity', 'the caller may learn about the organisation'),
  ('aiplat.can_see_model(bigint)', true, 'identity', 'the caller may see a catalogue model''s content'),
  ('aiplat.resolve_identity(text,text)', true, 'identity', '--as and --org, with no membership oracle'),
  ('aiplat.clock()', true, 'pure', 'now, or the test clock where the platform enabled one'),
  ('aiplat.period_start(text,text,timestamp with time zone)', true, 'pure', 'period arithmetic'),
  ('aiplat.period_end(text,text,timestamp with time zone)', true, 'pure', 'period arithmetic'),
  ('aiplat.is_valid_time_zone(text)', true, 'pure', 'CHECK on organizations.time_zone'),
  ('aiplat.valid_tasks(jsonb)', true, 'pure', 'CHECK on ai_models_system.tasks'),
  ('aiplat.encrypt_secret(text,text)', true, 'pure', 'pgcrypto''s pgp_sym_encrypt; reads no data'),
  ('aiplat.effective_quota(uuid)', true, 'lookup', 'an organisation''s quota, for those who may read it'),
  ('aiplat.model_availability(bigint,uuid)', true, 'lookup', 'why a model is (not) available to a readable organisation'),
  ('aiplat.model_availability_facts(bigint,uuid)', true, 'lookup', 'the facts behind it, same rule'),
  ('aiplat.find_model_id(text)', true, 'lookup', 'a catalogue model''s id by name (the catalogue is not tenant data)'),
  ('aiplat.model_name(bigint)', true, 'lookup', 'a model''s name where the caller may see it, else #id'),
  ('aiplat.find_user_id(text)', true, 'lookup', 'a person by email: oneself, or anyone for members:manage (to add them)'),
  ('aiplat.member_count(uuid)', true, 'lookup', 'members of a readable organisation'),
  ('aiplat.member_user_id(uuid,text)', true, 'lookup', 'a member the caller may see'),
  ('aiplat.effective_flag(uuid,text)', true, 'lookup', 'a flag for a readable organisation, else the global one'),
  ('aiplat.effective_prompt(uuid,text)', true, 'lookup', 'the prompt for a key; row-level security applies'),
  ('aiplat.call_shape(text)', true, 'lookup', 'a visible model''s prompt fields, to size a call'),
  ('aiplat.quota_admit(text,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,timestamp with time zone,boolean)', true, 'quota', 'the admission step, for one''s own organisations and people'),
  ('aiplat.quota_finish(uuid,boolean,bigint,bigint,integer,text,text)', true, 'quota',
   'settle or release one''s own reservation'),
  ('aiplat.call_config(uuid,text)', true, 'ai', 'provider settings for one''s own active reservation'),
  ('aiplat_internal.audit(text,text,text,jsonb,jsonb,uuid,text)', false, 'internal',
   'writes audit rows, which aiplat_app may not insert'),
  ('aiplat_internal.audit_row_change()', false, 'internal',
   'row trigger: audits changes made through aiplat_app'),
  ('aiplat_internal.check_last_admin()', false, 'internal',
   'constraint trigger: counts an organisation''s admins whatever the caller may see'),
  ('aiplat_internal.delete_org_rollups()', false, 'internal',
   'statement trigger: deletes rollups, which nobody else may'),
  ('aiplat_internal.project_database_schema()', false, 'internal',
   'row trigger: creates and drops project schemas'),
  ('aiplat_internal.org_quota(uuid)', false, 'internal', 'reads plans and organisations for the quota engine'),
  ('aiplat_internal.model_availability(bigint,uuid)', false, 'internal',
   'the availability rule for the quota engine and guarded lookups'),
  ('aiplat_internal.flag_of(uuid,text)', false, 'internal', 'a flag as an organisation sees it, unguarded'),
  ('aiplat_internal.daily_request_limit(uuid)', false, 'internal', 'the daily request limit, unguarded'),
  ('aiplat_internal.quota_refs(text,text,text)', false, 'internal',
   'resolves names the caller may see, reading tables it may not'),
  ('aiplat_internal.quota_authorize(uuid,uuid,boolean)', false, 'internal',
   'reads memberships and permissions for the quota engine'),
  ('aiplat_internal.record_usage(aiplat.organizations,aiplat.ai_models_system,uuid,timestamp with time zone,uuid,bigint,bigint,integer,text,text,uuid)',
   false, 'internal', 'writes events, counters and rollups'),
  ('aiplat_internal.lock_org(uuid,timestamp with time zone)', false, 'internal',
   'locks and rolls over an organisation''s monthly counter'),
  ('aiplat_internal.apply_usage_deltas()', false, 'internal', 'folds an import''s totals into the rollups'),
  ('aiplat_internal.quota_housekeeping()', false, 'internal', 'quota reset: rollover, expiry, retention');

SELECT aiplat_internal.sync_function_grants();

-- migrate:down
-- Back to migration 0008: the functions return to schema aiplat with their
-- earlier bodies and grants.
DROP FUNCTION aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer, text,
                                 interval, timestamptz, boolean);
DROP FUNCTION aiplat.can_see_model(bigint);
DROP FUNCTION aiplat.can_read_org(uuid);
DROP FUNCTION aiplat.is_platform();
DROP FUNCTION aiplat.encrypt_secret(text, text);
DROP FUNCTION aiplat_internal.decrypt_secret(bytea, text);
DROP FUNCTION aiplat_internal.org_quota(uuid);
DROP FUNCTION aiplat_internal.model_availability(bigint, uuid);
DROP FUNCTION aiplat_internal.flag_of(uuid, text);
DROP FUNCTION aiplat_internal.session_is_owner();
DROP FUNCTION aiplat_internal.sync_function_grants();
DROP TABLE aiplat_internal.functions;
DROP TABLE aiplat_internal.audit_actions;

ALTER FUNCTION aiplat_internal.setting_uuid(text) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.apply_tenant_policies(regclass, text, text, text) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.apply_usage_read_policy(regclass, boolean) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.ensure_usage_partition(date) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.audit(text, text, text, jsonb, jsonb, uuid, text) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.daily_request_limit(uuid) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.quota_refs(text, text, text) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.quota_authorize(uuid, uuid, boolean) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.record_usage(aiplat.organizations, aiplat.ai_models_system, uuid, timestamptz,
                                            uuid, bigint, bigint, integer, text, text, uuid) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.lock_org(uuid, timestamptz) SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.apply_usage_deltas() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.quota_housekeeping() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.touch_updated_at() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.check_member_role() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.forbid_change() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.check_model_org_types() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.project_database_schema() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.check_model_enable() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.audit_row_change() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.check_org_update() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.check_user_update() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.check_role_name() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.check_last_admin() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.set_reset_date() SET SCHEMA aiplat;
ALTER FUNCTION aiplat_internal.delete_org_rollups() SET SCHEMA aiplat;
DROP SCHEMA aiplat_internal;

-- The definitions of migrations 0001-0008.
CREATE OR REPLACE FUNCTION aiplat.current_user_id()
 RETURNS uuid
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
BEGIN
  -- PL/pgSQL rather than SQL: its plans are cached for the session.
  RETURN (
    SELECT CASE
             WHEN m.id IS NULL THEN aiplat.setting_uuid('aiplat.user_id')
             WHEN m.is_superadmin THEN coalesce(aiplat.setting_uuid('aiplat.user_id'), m.id)
             ELSE m.id
           END
      FROM (SELECT 1) AS one
      LEFT JOIN aiplat.users m ON m.login_role = session_user::text);
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.current_org_id()
 RETURNS uuid
 LANGUAGE sql
 STABLE
AS $function$
  SELECT aiplat.setting_uuid('aiplat.org_id')
$function$
;
CREATE OR REPLACE FUNCTION aiplat.resolve_identity(p_as_email text, p_org_slug text)
 RETURNS TABLE(user_id uuid, email text, is_superadmin boolean, via_login_role boolean, org_id uuid, org_slug text)
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  mapped aiplat.users;
  acting aiplat.users;
  org aiplat.organizations;
BEGIN
  SELECT * INTO mapped FROM aiplat.users u WHERE u.login_role = session_user::text;
  IF mapped.id IS NOT NULL THEN
    IF p_as_email IS NULL OR lower(p_as_email) = lower(mapped.email) THEN
      acting := mapped;
    ELSIF mapped.is_superadmin THEN
      SELECT * INTO acting FROM aiplat.users u WHERE lower(u.email) = lower(p_as_email);
    ELSE
      RAISE EXCEPTION 'login role % is %, who is not a superadmin and cannot act as %',
        session_user, mapped.email, p_as_email USING ERRCODE = 'insufficient_privilege';
    END IF;
  ELSIF p_as_email IS NOT NULL THEN
    SELECT * INTO acting FROM aiplat.users u WHERE lower(u.email) = lower(p_as_email);
  END IF;
  IF p_as_email IS NOT NULL AND acting.id IS NULL THEN
    RAISE EXCEPTION 'no user with email %', p_as_email USING ERRCODE = 'no_data_found';
  END IF;

  IF p_org_slug IS NOT NULL THEN
    SELECT * INTO org FROM aiplat.organizations o WHERE o.slug = p_org_slug;
    IF org.id IS NULL THEN
      RAISE EXCEPTION 'no organization %', p_org_slug USING ERRCODE = 'no_data_found';
    END IF;
    IF acting.id IS NOT NULL AND NOT acting.is_superadmin
       AND NOT EXISTS (SELECT 1 FROM aiplat.organization_members m
                        WHERE m.organization_id = org.id AND m.user_id = acting.id) THEN
      RAISE EXCEPTION '% is not a member of organization %', acting.email, org.slug
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;

  RETURN QUERY SELECT acting.id, acting.email, coalesce(acting.is_superadmin, false),
                      mapped.id IS NOT NULL, org.id, org.slug;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.forbid_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE')
     AND coalesce(current_setting('aiplat.allow_prune', true), '') = 'on'
     AND current_user <> 'aiplat_app'
     AND aiplat.current_user_id() IS NULL THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD END;
  END IF;
  RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.current_org_type()
 RETURNS text
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT o.type FROM aiplat.organizations o
   WHERE o.id = aiplat.current_org_id()
     AND (aiplat.is_member(o.id) OR aiplat.is_superadmin())
$function$
;
CREATE OR REPLACE FUNCTION aiplat.current_org_plan_level()
 RETURNS integer
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT p.level FROM aiplat.organizations o JOIN aiplat.plans p ON p.code = o.pricing_plan
   WHERE o.id = aiplat.current_org_id()
     AND (aiplat.is_member(o.id) OR aiplat.is_superadmin())
$function$
;
CREATE OR REPLACE FUNCTION aiplat.ensure_usage_partition(month date)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
DECLARE
  lo timestamptz := (date_trunc('month', month)::timestamp AT TIME ZONE 'UTC');
  hi timestamptz := ((date_trunc('month', month) + interval '1 month')::timestamp AT TIME ZONE 'UTC');
  part text := format('usage_events_%s', to_char(date_trunc('month', month), 'YYYY_MM'));
BEGIN
  IF to_regclass(format('aiplat.%I', part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  PERFORM pg_advisory_xact_lock(1634299508, 4);
  IF to_regclass(format('aiplat.%I', part)) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE aiplat.%I PARTITION OF aiplat.usage_events FOR VALUES FROM (%L) TO (%L)',
                 part, lo, hi);
  RETURN true;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.effective_quota(org uuid)
 RETURNS bigint
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
BEGIN
  -- PL/pgSQL rather than SQL: its plans are cached for the session.
  RETURN (
    SELECT coalesce(o.token_quota_monthly, p.monthly_token_quota)
      FROM aiplat.organizations o JOIN aiplat.plans p ON p.code = o.pricing_plan
     WHERE o.id = org);
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.model_availability(model_id bigint, org uuid)
 RETURNS text
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
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
$function$
;
CREATE OR REPLACE FUNCTION aiplat.model_availability_facts(model_id bigint, org uuid, OUT availability text, OUT required_plan text, OUT org_plan text, OUT org_type text, OUT org_slug text)
 RETURNS record
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT aiplat.model_availability(m.id, o.id), m.required_plan, o.pricing_plan, o.type, o.slug
    FROM aiplat.ai_models_system m, aiplat.organizations o
   WHERE m.id = model_id AND o.id = org
$function$
;
CREATE OR REPLACE FUNCTION aiplat.audit_row_change()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$
;
CREATE OR REPLACE FUNCTION aiplat.check_org_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$
;
CREATE OR REPLACE FUNCTION aiplat.check_user_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
$function$
;
CREATE OR REPLACE FUNCTION aiplat.find_user_id(p_email text)
 RETURNS uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT u.id FROM aiplat.users u
   WHERE lower(u.email) = lower(p_email)
     AND (aiplat.current_user_id() IS NULL OR u.id = aiplat.current_user_id()
          OR aiplat.is_superadmin() OR aiplat.has_current_permission('members', 'manage'))
$function$
;
CREATE OR REPLACE FUNCTION aiplat.member_count(org uuid)
 RETURNS bigint
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT count(*) FROM aiplat.organization_members m
   WHERE m.organization_id = org
     AND (aiplat.current_user_id() IS NULL OR aiplat.is_superadmin() OR aiplat.is_member(org))
$function$
;
CREATE OR REPLACE FUNCTION aiplat.model_name(model_id bigint)
 RETURNS text
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT coalesce((SELECT name FROM aiplat.ai_models_system WHERE id = model_id), '#' || model_id)
$function$
;
CREATE OR REPLACE FUNCTION aiplat.member_user_id(org uuid, ident text)
 RETURNS uuid
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT u.id FROM aiplat.users u
    JOIN aiplat.organization_members m ON m.user_id = u.id AND m.organization_id = org
   WHERE (lower(u.email) = lower(ident) OR u.id::text = ident)
     AND (aiplat.current_user_id() IS NULL OR aiplat.is_superadmin()
          OR u.id = aiplat.current_user_id()
          OR aiplat.has_permission(org, 'members', 'read')
          OR aiplat.has_permission(org, 'usage', 'read_all'))
$function$
;
CREATE OR REPLACE FUNCTION aiplat.effective_flag(org uuid, flag text, OUT enabled boolean, OUT value jsonb)
 RETURNS record
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
BEGIN
  SELECT f.enabled, f.value INTO enabled, value FROM aiplat.feature_flags f
   WHERE f.name = flag AND (f.organization_id = org OR f.organization_id IS NULL)
   ORDER BY f.organization_id NULLS LAST LIMIT 1;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.daily_request_limit(org uuid)
 RETURNS integer
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  f record;
  n jsonb;
BEGIN
  f := aiplat.effective_flag(org, 'ai.daily_requests');
  IF f.enabled THEN
    n := CASE jsonb_typeof(f.value) WHEN 'object' THEN f.value -> 'limit' ELSE f.value END;
    IF jsonb_typeof(n) = 'number' AND (n #>> '{}')::numeric >= 1 THEN
      RETURN least((n #>> '{}')::numeric, 2147483647)::integer;
    END IF;
  END IF;
  RETURN (SELECT p.daily_request_limit FROM aiplat.organizations o
            JOIN aiplat.plans p ON p.code = o.pricing_plan WHERE o.id = org);
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.quota_refs(p_org text, p_user text, p_model text, OUT org_id uuid, OUT user_id uuid, OUT model_id bigint)
 RETURNS record
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  uuid_re constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
BEGIN
  IF p_org ~ uuid_re THEN
    SELECT o.id INTO org_id FROM aiplat.organizations o WHERE o.id = p_org::uuid;
  ELSE
    SELECT o.id INTO org_id FROM aiplat.organizations o WHERE o.slug = p_org;
  END IF;
  IF org_id IS NULL THEN
    RAISE EXCEPTION 'no organization %', coalesce(p_org, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_user ~ uuid_re THEN
    SELECT u.id INTO user_id FROM aiplat.users u WHERE u.id = p_user::uuid;
  ELSE
    SELECT u.id INTO user_id FROM aiplat.users u WHERE lower(u.email) = lower(p_user);
  END IF;
  IF user_id IS NULL THEN
    RAISE EXCEPTION 'no user %', coalesce(p_user, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_model ~ '^[0-9]{1,18}$' THEN
    SELECT m.id INTO model_id FROM aiplat.ai_models_system m WHERE m.id = p_model::bigint;
  ELSE
    SELECT m.id INTO model_id FROM aiplat.ai_models_system m WHERE lower(m.name) = lower(p_model);
  END IF;
  IF model_id IS NULL THEN
    RAISE EXCEPTION 'no model %', coalesce(p_model, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.quota_authorize(org uuid, usr uuid, writing boolean)
 RETURNS void
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  me uuid := aiplat.current_user_id();
BEGIN
  IF me IS NULL OR aiplat.is_superadmin() THEN
    RETURN;
  END IF;
  IF me = usr AND aiplat.has_permission(org, 'usage', CASE WHEN writing THEN 'write' ELSE 'read' END) THEN
    RETURN;
  END IF;
  IF NOT writing AND aiplat.has_permission(org, 'usage', 'read_all') THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'not allowed to % usage for this person', CASE WHEN writing THEN 'record' ELSE 'read' END
    USING ERRCODE = 'insufficient_privilege';
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.record_usage(o aiplat.organizations, m aiplat.ai_models_system, usr uuid, at timestamp with time zone, ev uuid, tin bigint, tout bigint, latency integer, request text, src text, reservation uuid)
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  period text := coalesce(m.token_limit_period, 'monthly');
  cost bigint := round(tin * m.price_input_per_mtok + tout * m.price_output_per_mtok)::bigint;
  total bigint := tin + tout;
BEGIN
  PERFORM aiplat.ensure_usage_partition((at AT TIME ZONE 'UTC')::date);
  INSERT INTO aiplat.usage_events (organization_id, occurred_at, event_id, user_id, model_id,
                                   tokens_in, tokens_out, latency_ms, request_id, cost_micro_usd,
                                   reservation_id, source)
  VALUES (o.id, at, ev, usr, m.id, tin, tout, latency, request, cost, reservation, src);
  INSERT INTO aiplat.ai_model_usage AS u (organization_id, user_id, model_id, model_name, period_type,
                                          period_start, period_end, tokens_used, requests_count)
  VALUES (o.id, usr, m.id, m.name, period, aiplat.period_start(period, o.time_zone, at),
          aiplat.period_end(period, o.time_zone, at), total, 1)
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + 1, updated_at = now();
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.token_reset_date - interval '1 second')
     AND at < o.token_reset_date THEN
    UPDATE aiplat.organizations SET token_usage_current = token_usage_current + total WHERE id = o.id;
  END IF;
  INSERT INTO aiplat.usage_daily AS d (organization_id, day, model_id, user_id, tokens_in, tokens_out,
                                       requests, cost_micro_usd)
  VALUES (o.id, (at AT TIME ZONE o.time_zone)::date, m.id, usr, tin, tout, 1, cost)
  ON CONFLICT (organization_id, day, model_id, user_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + 1, cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  INSERT INTO aiplat.usage_daily_models AS d (organization_id, day, model_id, tokens_in, tokens_out,
                                              requests, cost_micro_usd)
  VALUES (o.id, (at AT TIME ZONE o.time_zone)::date, m.id, tin, tout, 1, cost)
  ON CONFLICT (organization_id, day, model_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + 1, cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  RETURN cost;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.quota_admit(p_org text, p_user text, p_model text, p_tokens bigint, p_mode text DEFAULT 'check'::text, p_event_id uuid DEFAULT NULL::uuid, p_tokens_in bigint DEFAULT NULL::bigint, p_tokens_out bigint DEFAULT NULL::bigint, p_latency_ms integer DEFAULT NULL::integer, p_request_id text DEFAULT NULL::text, p_ttl interval DEFAULT NULL::interval, p_at timestamp with time zone DEFAULT NULL::timestamp with time zone)
 RETURNS aiplat.quota_decision
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  now_ timestamptz := aiplat.clock();
  writing boolean := p_mode IN ('consume', 'reserve', 'record');
  refs record;
  o aiplat.organizations;
  m aiplat.ai_models_system;
  c aiplat.org_system_model_config;
  d aiplat.quota_decision;
  avail text;
  period text;
  ps timestamptz;
  quota bigint;
  reserved bigint;
  used bigint;
  tin bigint;
  tout bigint;
  at timestamptz;
  today date;
BEGIN
  IF p_mode NOT IN ('check', 'consume', 'reserve', 'record') THEN
    RAISE EXCEPTION 'unknown quota mode %', p_mode USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_tokens IS NULL OR p_tokens < 0 OR (p_mode <> 'record' AND p_tokens = 0) THEN
    RAISE EXCEPTION 'tokens must be a positive number' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  refs := aiplat.quota_refs(p_org, p_user, p_model);
  PERFORM aiplat.quota_authorize(refs.org_id, refs.user_id, writing);
  d.organization_id := refs.org_id;
  d.user_id := refs.user_id;
  d.model_id := refs.model_id;
  SELECT * INTO m FROM aiplat.ai_models_system WHERE id = refs.model_id;
  SELECT * INTO c FROM aiplat.org_system_model_config
   WHERE organization_id = refs.org_id AND system_model_id = refs.model_id;
  /* Locks in a fixed order: the organisation, then the person's counter. */
  IF writing THEN
    o := aiplat.lock_org(refs.org_id, now_);
  ELSE
    SELECT * INTO o FROM aiplat.organizations WHERE id = refs.org_id;
    IF now_ >= o.token_reset_date THEN   -- as it will be at the next write
      o.token_usage_current := 0;
      o.token_reset_date := aiplat.period_end('monthly', o.time_zone, now_);
    END IF;
  END IF;
  period := coalesce(m.token_limit_period, 'monthly');
  ps := aiplat.period_start(period, o.time_zone, now_);
  d.user_period := period;
  d.user_resets_at := aiplat.period_end(period, o.time_zone, now_);
  d.user_limit := CASE WHEN m.is_free THEN NULL ELSE coalesce(c.token_limit_per_user, m.token_limit_amount) END;
  d.org_quota := aiplat.effective_quota(o.id);
  d.org_resets_at := o.token_reset_date;
  /* Active reservations count until they expire, whoever cleans them up (free models never count). */
  SELECT coalesce(sum(r.tokens), 0) INTO reserved
    FROM aiplat.quota_reservations r JOIN aiplat.ai_models_system rm ON rm.id = r.model_id
   WHERE r.organization_id = o.id AND r.status = 'active' AND r.expires_at > now_ AND NOT rm.is_free;
  d.org_used := o.token_usage_current + reserved;

  IF p_mode <> 'record' THEN
    avail := aiplat.model_availability(m.id, o.id);
    d.reason := CASE
      WHEN NOT EXISTS (SELECT 1 FROM aiplat.organization_members mm
                        WHERE mm.organization_id = o.id AND mm.user_id = refs.user_id) THEN 'not_a_member'
      WHEN avail = 'model_inactive' THEN 'model_inactive'
      WHEN avail = 'plan_insufficient' THEN 'plan_insufficient'
      WHEN avail <> 'available' OR c.system_model_id IS NULL OR NOT c.is_enabled_for_users
        THEN 'model_not_enabled'
      WHEN m.is_trial AND c.enabled_at + make_interval(days => m.trial_expires_days) <= now_
        THEN 'trial_expired'
      WHEN m.is_free THEN 'model_free'
    END;
    /* Requests per day, free models included (seed 003 1.2.7). */
    d.request_limit := aiplat.daily_request_limit(o.id);
    IF d.request_limit IS NOT NULL THEN
      today := (now_ AT TIME ZONE o.time_zone)::date;
      SELECT requests INTO d.requests_today FROM aiplat.request_counters
       WHERE organization_id = o.id AND user_id = refs.user_id AND day = today;
      d.requests_today := coalesce(d.requests_today, 0);
      d.requests_reset_at := (today + 1)::timestamp AT TIME ZONE o.time_zone;
      IF (d.reason IS NULL OR d.reason = 'model_free') AND d.requests_today >= d.request_limit THEN
        d.reason := 'rate_limited';
      END IF;
    END IF;
  END IF;

  /* The person's counter for the current period: created and locked when writing. */
  IF writing THEN
    INSERT INTO aiplat.ai_model_usage (organization_id, user_id, model_id, model_name, period_type,
                                       period_start, period_end)
    VALUES (o.id, refs.user_id, m.id, m.name, period, ps, d.user_resets_at)
    ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO NOTHING;
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = ps
       FOR UPDATE;
  ELSE
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = ps;
  END IF;
  SELECT coalesce(sum(r.tokens), 0) INTO reserved FROM aiplat.quota_reservations r
   WHERE r.organization_id = o.id AND r.user_id = refs.user_id AND r.model_id = m.id
     AND r.status = 'active' AND r.expires_at > now_;
  d.user_used := coalesce(used, 0) + reserved;

  IF d.reason IS NULL AND p_mode <> 'record' THEN
    IF d.org_quota IS NOT NULL AND d.org_used + p_tokens > d.org_quota THEN
      d.reason := 'org_quota_exceeded';
    ELSIF d.user_limit IS NOT NULL AND d.user_used + p_tokens > d.user_limit THEN
      d.reason := 'user_limit_exceeded';
    ELSE
      d.reason := 'ok';
    END IF;
  END IF;
  d.allowed := p_mode = 'record' OR d.reason IN ('ok', 'model_free');
  IF p_mode = 'record' THEN
    d.reason := 'ok';
  END IF;
  IF d.reason = 'org_quota_exceeded' THEN
    d.used := d.org_used; d.lim := d.org_quota; d.resets_at := d.org_resets_at;
  ELSIF d.reason = 'rate_limited' THEN
    d.used := d.requests_today; d.lim := d.request_limit; d.resets_at := d.requests_reset_at;
  ELSE
    d.used := d.user_used; d.lim := d.user_limit; d.resets_at := d.user_resets_at;
  END IF;
  IF NOT d.allowed OR p_mode = 'check' THEN
    RETURN d;
  END IF;
  IF d.request_limit IS NOT NULL AND p_mode IN ('consume', 'reserve') THEN
    INSERT INTO aiplat.request_counters AS rc (organization_id, user_id, day, requests)
    VALUES (o.id, refs.user_id, today, 1)
    ON CONFLICT (organization_id, user_id, day) DO UPDATE SET requests = rc.requests + 1;
    d.requests_today := d.requests_today + 1;
  END IF;

  IF p_mode = 'reserve' THEN
    INSERT INTO aiplat.quota_reservations (organization_id, user_id, model_id, tokens, request_id,
                                           created_at, expires_at)
    VALUES (o.id, refs.user_id, m.id, p_tokens, p_request_id, now_,
            now_ + coalesce(p_ttl, make_interval(secs => (SELECT value::int FROM aiplat.settings
                                                            WHERE key = 'reservation_ttl_seconds'))))
    RETURNING id INTO d.reservation_id;
    /* Report the usage as it now stands, the hold included. */
    d.user_used := d.user_used + p_tokens;
    IF NOT m.is_free THEN
      d.org_used := d.org_used + p_tokens;
    END IF;
    d.used := d.used + p_tokens;
    RETURN d;
  END IF;

  /* consume / record: idempotent by event id, then everything in one go. */
  d.event_id := coalesce(p_event_id, gen_random_uuid());
  at := coalesce(p_at, now_);
  IF p_event_id IS NOT NULL THEN
    INSERT INTO aiplat.usage_event_ids (organization_id, event_id, occurred_at)
    VALUES (o.id, p_event_id, at) ON CONFLICT DO NOTHING;
    /* Remembered live, or imported (an event is its organisation, time and id). */
    IF NOT FOUND OR EXISTS (SELECT 1 FROM aiplat.usage_events e
                             WHERE e.organization_id = o.id AND e.occurred_at = at
                               AND e.event_id = p_event_id) THEN
      d.reason := 'duplicate';
      RETURN d;
    END IF;
  END IF;
  tin := coalesce(p_tokens_in, p_tokens - coalesce(p_tokens_out, 0));
  tout := coalesce(p_tokens_out, 0);
  IF tin < 0 OR tin + tout <> p_tokens THEN
    RAISE EXCEPTION 'tokens in (%) and out (%) do not add up to %', tin, tout, p_tokens
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  d.cost_micro_usd := aiplat.record_usage(o, m, refs.user_id, at, d.event_id, tin, tout,
                                          p_latency_ms, p_request_id, p_mode, NULL);
  /* Report the usage as it now stands: the period the event fell in (a
   * recorded event may belong to an earlier one), and the organisation's
   * month when it counted there. */
  IF aiplat.period_start(period, o.time_zone, at) = ps THEN
    d.user_used := d.user_used + p_tokens;
  ELSE
    SELECT tokens_used INTO used FROM aiplat.ai_model_usage
     WHERE organization_id = o.id AND user_id = refs.user_id AND model_id = m.id
       AND period_type = period AND period_start = aiplat.period_start(period, o.time_zone, at);
    d.user_used := used;
    d.user_resets_at := aiplat.period_end(period, o.time_zone, at);
  END IF;
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.token_reset_date - interval '1 second')
     AND at < o.token_reset_date THEN
    d.org_used := d.org_used + p_tokens;
  END IF;
  d.used := d.user_used;
  d.resets_at := d.user_resets_at;
  RETURN d;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.quota_finish(p_reservation uuid, p_settle boolean, p_tokens_in bigint DEFAULT NULL::bigint, p_tokens_out bigint DEFAULT 0, p_latency_ms integer DEFAULT NULL::integer, p_request_id text DEFAULT NULL::text, p_source text DEFAULT 'settle'::text)
 RETURNS aiplat.quota_decision
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  now_ timestamptz := aiplat.clock();
  r aiplat.quota_reservations;
  o aiplat.organizations;
  m aiplat.ai_models_system;
  d aiplat.quota_decision;
BEGIN
  SELECT * INTO r FROM aiplat.quota_reservations WHERE id = p_reservation;
  IF r.id IS NULL THEN
    RAISE EXCEPTION 'no reservation %', p_reservation USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM aiplat.quota_authorize(r.organization_id, r.user_id, true);
  /* Same lock order as admission: the organisation first. */
  o := aiplat.lock_org(r.organization_id, now_);
  SELECT * INTO r FROM aiplat.quota_reservations
   WHERE organization_id = r.organization_id AND id = p_reservation FOR UPDATE;
  IF r.status <> 'active' THEN
    RAISE EXCEPTION 'reservation % is already %', p_reservation, r.status
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  d.organization_id := r.organization_id;
  d.user_id := r.user_id;
  d.model_id := r.model_id;
  d.reservation_id := r.id;
  d.allowed := true;
  IF NOT p_settle THEN
    UPDATE aiplat.quota_reservations SET status = 'released', finished_at = now_
     WHERE organization_id = r.organization_id AND id = r.id;
    d.reason := 'released';
    RETURN d;
  END IF;
  IF p_tokens_in IS NULL OR p_tokens_in < 0 OR coalesce(p_tokens_out, 0) < 0 THEN
    RAISE EXCEPTION 'settle needs the tokens used' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_source NOT IN ('settle', 'ai') THEN
    RAISE EXCEPTION 'unknown usage source %', p_source USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO m FROM aiplat.ai_models_system WHERE id = r.model_id;
  d.event_id := gen_random_uuid();
  d.cost_micro_usd := aiplat.record_usage(o, m, r.user_id, now_, d.event_id, p_tokens_in,
                                          coalesce(p_tokens_out, 0), p_latency_ms,
                                          coalesce(p_request_id, r.request_id), p_source, r.id);
  UPDATE aiplat.quota_reservations
     SET status = 'settled', settled_tokens = p_tokens_in + coalesce(p_tokens_out, 0), finished_at = now_
   WHERE organization_id = r.organization_id AND id = r.id;
  d.reason := 'settled';
  d.used := p_tokens_in + coalesce(p_tokens_out, 0);
  RETURN d;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.apply_usage_deltas()
 RETURNS bigint
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  now_ timestamptz := aiplat.clock();
  org uuid;
  n bigint;
BEGIN
  FOR org IN SELECT DISTINCT organization_id FROM pg_temp.usage_import_deltas ORDER BY 1 LOOP
    PERFORM aiplat.lock_org(org, now_);
  END LOOP;
  INSERT INTO aiplat.usage_daily AS d (organization_id, day, model_id, user_id, tokens_in, tokens_out,
                                       requests, cost_micro_usd)
  SELECT organization_id, day, model_id, user_id, tokens_in, tokens_out, requests, cost_micro_usd
    FROM pg_temp.usage_import_deltas
   ORDER BY organization_id, day, model_id, user_id
  ON CONFLICT (organization_id, day, model_id, user_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + EXCLUDED.requests,
        cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO aiplat.usage_daily_models AS d (organization_id, day, model_id, tokens_in, tokens_out,
                                              requests, cost_micro_usd)
  SELECT organization_id, day, model_id, sum(tokens_in), sum(tokens_out), sum(requests),
         sum(cost_micro_usd)
    FROM pg_temp.usage_import_deltas
   GROUP BY 1, 2, 3
   ORDER BY 1, 2, 3
  ON CONFLICT (organization_id, day, model_id) DO UPDATE
    SET tokens_in = d.tokens_in + EXCLUDED.tokens_in, tokens_out = d.tokens_out + EXCLUDED.tokens_out,
        requests = d.requests + EXCLUDED.requests,
        cost_micro_usd = d.cost_micro_usd + EXCLUDED.cost_micro_usd;
  /* Days are local already: group them into periods first (as
   * aiplat.period_start would, from local midnight), convert once per period. */
  WITH g AS (
    SELECT x.organization_id, x.user_id, x.model_id, p.period,
           date_trunc(CASE p.period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' ELSE 'month' END,
                      x.day::timestamp) AS local_start,
           sum(x.tokens_in + x.tokens_out) AS tokens, sum(x.requests) AS requests
      FROM pg_temp.usage_import_deltas x
      JOIN aiplat.ai_models_system m ON m.id = x.model_id
     CROSS JOIN LATERAL (SELECT coalesce(m.token_limit_period, 'monthly') AS period) p
     GROUP BY 1, 2, 3, 4, 5)
  INSERT INTO aiplat.ai_model_usage AS u (organization_id, user_id, model_id, model_name, period_type,
                                          period_start, period_end, tokens_used, requests_count)
  SELECT g.organization_id, g.user_id, g.model_id, m.name, g.period,
         g.local_start AT TIME ZONE o.time_zone,
         (g.local_start + CASE g.period WHEN 'daily' THEN interval '1 day' WHEN 'weekly' THEN interval '7 days'
                                        ELSE interval '1 month' END) AT TIME ZONE o.time_zone,
         g.tokens, g.requests
    FROM g
    JOIN aiplat.organizations o ON o.id = g.organization_id
    JOIN aiplat.ai_models_system m ON m.id = g.model_id
   ORDER BY 1, 2, 3, 5, 6
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + EXCLUDED.requests_count, updated_at = now();
  UPDATE aiplat.organizations o
     SET token_usage_current = o.token_usage_current + x.tokens
    FROM (SELECT d.organization_id, sum(d.tokens_in + d.tokens_out) AS tokens
            FROM pg_temp.usage_import_deltas d
            JOIN aiplat.organizations oo ON oo.id = d.organization_id
            JOIN aiplat.ai_models_system m ON m.id = d.model_id
           WHERE NOT m.is_free
             AND d.day::timestamp AT TIME ZONE oo.time_zone
                 >= aiplat.period_start('monthly', oo.time_zone, oo.token_reset_date - interval '1 second')
             AND d.day::timestamp AT TIME ZONE oo.time_zone < oo.token_reset_date
           GROUP BY 1) x
   WHERE o.id = x.organization_id;
  RETURN n;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.quota_housekeeping(OUT rolled_over bigint, OUT reservations_expired bigint, OUT counters_pruned bigint, OUT event_ids_pruned bigint, OUT partitions_dropped bigint, OUT partitions_created bigint)
 RETURNS record
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  now_ timestamptz := aiplat.clock();
  keep_months int := (SELECT value::int FROM aiplat.settings WHERE key = 'usage_retention_months');
  keep_days int := (SELECT value::int FROM aiplat.settings WHERE key = 'event_id_retention_days');
  horizon date := (date_trunc('month', now_ AT TIME ZONE 'UTC') - make_interval(months => keep_months))::date;
  part record;
BEGIN
  WITH r AS (
    UPDATE aiplat.organizations SET token_usage_current = 0,
           token_reset_date = aiplat.period_end('monthly', time_zone, now_)
     WHERE token_reset_date <= now_ RETURNING 1)
  SELECT count(*) INTO rolled_over FROM r;
  WITH r AS (
    UPDATE aiplat.quota_reservations SET status = 'expired', finished_at = now_
     WHERE status = 'active' AND expires_at <= now_ RETURNING 1)
  SELECT count(*) INTO reservations_expired FROM r;
  WITH r AS (
    DELETE FROM aiplat.ai_model_usage WHERE period_end < horizon::timestamp AT TIME ZONE 'UTC' RETURNING 1)
  SELECT count(*) INTO counters_pruned FROM r;
  WITH r AS (
    DELETE FROM aiplat.usage_event_ids WHERE recorded_at < now_ - make_interval(days => keep_days)
    RETURNING 1)
  SELECT count(*) INTO event_ids_pruned FROM r;
  /* Request counters matter for a day; a few days' are kept to look at. */
  DELETE FROM aiplat.request_counters WHERE day < (now_ AT TIME ZONE 'UTC')::date - 7;
  partitions_dropped := 0;
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'aiplat.usage_events'::regclass
       AND c.relname ~ '^usage_events_[0-9]{4}_[0-9]{2}$'
       AND to_date(substr(c.relname, 14), 'YYYY_MM') < horizon
  LOOP
    EXECUTE format('DROP TABLE aiplat.%I', part.relname);
    partitions_dropped := partitions_dropped + 1;
  END LOOP;
  partitions_created := 0;
  FOR i IN 0 .. 1 LOOP
    IF aiplat.ensure_usage_partition(((now_ AT TIME ZONE 'UTC')::date + make_interval(months => i))::date) THEN
      partitions_created := partitions_created + 1;
    END IF;
  END LOOP;
END
$function$
;
CREATE OR REPLACE FUNCTION aiplat.call_config(p_reservation uuid, p_secret text, OUT model_id bigint, OUT name text, OUT provider_kind text, OUT endpoint text, OUT provider_model text, OUT max_tokens integer, OUT system_message text, OUT api_key_ref text, OUT api_key text, OUT price_input_per_mtok numeric, OUT price_output_per_mtok numeric)
 RETURNS record
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat', 'public'
AS $function$
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
$function$
;
CREATE OR REPLACE FUNCTION aiplat.call_shape(p_model text, OUT model_id bigint, OUT name text, OUT max_tokens integer, OUT system_message text, OUT tasks jsonb)
 RETURNS record
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  SELECT m.id, m.name, m.max_tokens, m.system_message, m.tasks
    FROM aiplat.ai_models_system m WHERE m.id = aiplat.find_model_id(p_model)
$function$
;

DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace = 'aiplat'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, aiplat_app', f);
  END LOOP;
END
$$;
-- As migrations 0001-0008 left them: PUBLIC kept its default EXECUTE
-- where they did not revoke it.
GRANT EXECUTE ON FUNCTION
  aiplat.touch_updated_at(), aiplat.is_valid_time_zone(text), aiplat.setting_uuid(text),
  aiplat.check_member_role(), aiplat.current_org_id(), aiplat.has_current_permission(text, text),
  aiplat.apply_tenant_policies(regclass, text, text, text), aiplat.forbid_change(),
  aiplat.valid_tasks(jsonb), aiplat.check_model_org_types(), aiplat.ensure_usage_partition(date),
  aiplat.apply_usage_read_policy(regclass, boolean), aiplat.project_database_schema(),
  aiplat.period_start(text, text, timestamptz), aiplat.period_end(text, text, timestamptz),
  aiplat.check_model_enable(), aiplat.audit_row_change(), aiplat.check_org_update(),
  aiplat.check_user_update(), aiplat.check_role_name(), aiplat.check_last_admin(),
  aiplat.set_reset_date(), aiplat.delete_org_rollups(),
  aiplat.clock(), aiplat.effective_quota(uuid), aiplat.model_availability(bigint, uuid),
  aiplat.find_model_id(text), aiplat.model_availability_facts(bigint, uuid), aiplat.member_count(uuid),
  aiplat.model_name(bigint), aiplat.effective_flag(uuid, text), aiplat.daily_request_limit(uuid),
  aiplat.quota_refs(text, text, text),
  aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer, text, interval,
                     timestamptz),
  aiplat.quota_finish(uuid, boolean, bigint, bigint, integer, text, text), aiplat.call_shape(text),
  aiplat.effective_prompt(uuid, text)
  TO PUBLIC;
GRANT EXECUTE ON FUNCTION
  aiplat.current_user_id(), aiplat.is_superadmin(), aiplat.is_member(uuid),
  aiplat.has_permission(uuid, text, text), aiplat.resolve_identity(text, text),
  aiplat.audit(text, text, text, jsonb, jsonb, uuid, text), aiplat.current_org_type(),
  aiplat.current_org_plan_level(), aiplat.clock(), aiplat.effective_quota(uuid),
  aiplat.model_availability(bigint, uuid), aiplat.find_model_id(text),
  aiplat.model_availability_facts(bigint, uuid), aiplat.find_user_id(text), aiplat.member_count(uuid),
  aiplat.model_name(bigint), aiplat.member_user_id(uuid, text), aiplat.effective_flag(uuid, text),
  aiplat.daily_request_limit(uuid), aiplat.quota_refs(text, text, text),
  aiplat.quota_authorize(uuid, uuid, boolean),
  aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer, text, interval,
                     timestamptz),
  aiplat.quota_finish(uuid, boolean, bigint, bigint, integer, text, text), aiplat.call_config(uuid, text),
  aiplat.call_shape(text), aiplat.effective_prompt(uuid, text)
  TO aiplat_app;
