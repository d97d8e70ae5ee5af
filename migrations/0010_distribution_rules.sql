-- A schema that Citus can distribute (DESIGN.md section 10), on plain
-- PostgreSQL unchanged:
--
--   * Every table has a class, declared once in aiplat_internal.table_classes:
--     reference (replicated to every node: the catalogue, people,
--     organisations, memberships, roles, global prompts and flags) or
--     distributed by organization_id (everything an organisation owns, all
--     co-located). `aiplat cluster distribute` makes them so.
--   * Distributed tables have organization_id NOT NULL in their primary key
--     and every unique constraint. Rows of no organisation moved to reference
--     tables (global prompts, global flags, system agent templates); the
--     platform's own audit rows carry the all-zero organisation id.
--   * The organisation's monthly counter, which every consume moves, left the
--     (reference) organizations table for the distributed org_usage.
--   * Foreign keys run distributed -> distributed within an organisation,
--     distributed -> reference and reference -> reference only.
--   * Policies contain no subquery: each calls a helper that decides for a
--     row with one query (SECURITY DEFINER, STABLE), behind a cheap inlined
--     filter on the organisation the transaction works in. Helpers that read
--     tables may run inside a shard query on a worker, which Citus allows
--     with citus.allow_nested_distributed_execution, set on each function.
--   * Triggers that write other tables write once per change, also on the
--     copies of a reference table; none creates schemas.
--   * The admission step takes the organisation's uuid, so that Citus can
--     run it next to the organisation's shards.

-- migrate:up
SELECT set_config('aiplat.audit', 'off', true);   -- moving rows is no change to audit

-- ---------------------------------------------------------------------------
-- The monthly counter leaves organizations
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.org_usage (
  organization_id  uuid PRIMARY KEY REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  tokens_used      bigint NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
  resets_at        timestamptz NOT NULL
);
COMMENT ON TABLE aiplat.org_usage IS
  'an organisation''s tokens used in its current monthly period, and when the period ends';
INSERT INTO aiplat.org_usage (organization_id, tokens_used, resets_at)
SELECT id, token_usage_current, token_reset_date FROM aiplat.organizations;
DROP TRIGGER organizations_reset_date ON aiplat.organizations;
DROP FUNCTION aiplat_internal.set_reset_date();
ALTER TABLE aiplat.organizations DROP COLUMN token_usage_current, DROP COLUMN token_reset_date;
GRANT SELECT ON aiplat.org_usage TO aiplat_app;

-- ---------------------------------------------------------------------------
-- Rows of no organisation move to reference tables
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.global_prompts (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key          text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  version      integer NOT NULL CHECK (version > 0),
  body         text NOT NULL CHECK (length(body) > 0),
  description  text,
  created_by   uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (key, version)
);
COMMENT ON TABLE aiplat.global_prompts IS 'prompts of every organisation, which an organisation''s own key overrides';
INSERT INTO aiplat.global_prompts (id, key, version, body, description, created_by, created_at)
SELECT id, key, version, body, description, created_by, created_at FROM aiplat.prompts WHERE organization_id IS NULL;
DELETE FROM aiplat.prompts WHERE organization_id IS NULL;
ALTER TABLE aiplat.prompts DROP CONSTRAINT prompts_pkey, DROP CONSTRAINT prompts_organization_id_key_version_key,
  ALTER COLUMN organization_id SET NOT NULL, ADD PRIMARY KEY (organization_id, id),
  ADD CONSTRAINT prompts_organization_id_key_version_key UNIQUE (organization_id, key, version);

CREATE TABLE aiplat.global_flags (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  enabled     boolean NOT NULL,
  value       jsonb,
  updated_by  uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiplat.global_flags IS 'feature flags of every organisation, which an organisation''s own row overrides';
INSERT INTO aiplat.global_flags (id, name, enabled, value, updated_by, created_at, updated_at)
SELECT id, name, enabled, value, updated_by, created_at, updated_at
  FROM aiplat.feature_flags WHERE organization_id IS NULL;
DELETE FROM aiplat.feature_flags WHERE organization_id IS NULL;
ALTER TABLE aiplat.feature_flags DROP CONSTRAINT feature_flags_pkey,
  DROP CONSTRAINT feature_flags_organization_id_name_key,
  ALTER COLUMN organization_id SET NOT NULL, ADD PRIMARY KEY (organization_id, id),
  ADD CONSTRAINT feature_flags_organization_id_name_key UNIQUE (organization_id, name);
CREATE TRIGGER global_flags_touch BEFORE UPDATE ON aiplat.global_flags
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.touch_updated_at();

CREATE TABLE aiplat.system_agent_templates (LIKE aiplat.agent_templates INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE aiplat.system_agent_templates DROP COLUMN organization_id, DROP COLUMN is_system,
  ADD PRIMARY KEY (id),
  ADD FOREIGN KEY (created_by_id) REFERENCES aiplat.users (id) ON DELETE SET NULL;
COMMENT ON TABLE aiplat.system_agent_templates IS 'agent templates of the platform, offered to every organisation';
INSERT INTO aiplat.system_agent_templates
SELECT id, name, description, category, avatar, personality_config, model_config, tools_config, memory_config,
       tags, features, use_cases, usage_count, rating, is_popular, is_public, created_by_id, created_at, updated_at
  FROM aiplat.agent_templates WHERE organization_id IS NULL;
ALTER TABLE aiplat.template_reviews DROP CONSTRAINT template_reviews_template_id_fkey,
  DROP CONSTRAINT template_reviews_template_id_reviewer_id_key,
  ADD CONSTRAINT template_reviews_template_id_reviewer_id_key UNIQUE (organization_id, template_id, reviewer_id);
COMMENT ON COLUMN aiplat.template_reviews.template_id IS
  'a template of any organisation, or a system template (no foreign key: it may live on another node)';
DELETE FROM aiplat.agent_templates WHERE organization_id IS NULL;
ALTER TABLE aiplat.agent_templates DROP CONSTRAINT agent_templates_pkey,
  DROP CONSTRAINT agent_templates_organization_id_id_key, DROP CONSTRAINT system_or_owned,
  ALTER COLUMN organization_id SET NOT NULL, ADD PRIMARY KEY (organization_id, id);
DROP INDEX aiplat.agent_templates_system_idx;
DROP POLICY shared_select ON aiplat.agent_templates;
ALTER TABLE aiplat.agent_templates DROP COLUMN is_system;
CREATE TRIGGER system_agent_templates_touch BEFORE UPDATE ON aiplat.system_agent_templates
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.touch_updated_at();

-- The platform's own audit rows: the all-zero organisation, which no
-- organisation can be (gen_random_uuid never makes it).
ALTER TABLE aiplat.audit_logs DISABLE TRIGGER audit_logs_append_only;
UPDATE aiplat.audit_logs SET organization_id = '00000000-0000-0000-0000-000000000000' WHERE organization_id IS NULL;
ALTER TABLE aiplat.audit_logs ENABLE TRIGGER audit_logs_append_only;
ALTER TABLE aiplat.audit_logs DROP CONSTRAINT audit_logs_pkey,
  ALTER COLUMN organization_id SET DEFAULT '00000000-0000-0000-0000-000000000000',
  ALTER COLUMN organization_id SET NOT NULL, ADD PRIMARY KEY (organization_id, id);
COMMENT ON COLUMN aiplat.audit_logs.organization_id IS
  'the organisation concerned; 00000000-0000-0000-0000-000000000000 for the platform''s own rows';

-- ---------------------------------------------------------------------------
-- Keys and constraints of distributed tables
-- ---------------------------------------------------------------------------

ALTER TABLE aiplat.api_keys DROP CONSTRAINT api_keys_key_hash_key,
  ADD CONSTRAINT api_keys_key_hash_key UNIQUE (organization_id, key_hash);
COMMENT ON COLUMN aiplat.api_keys.key_hash IS
  'sha256 of the key: at least 256 random bits, so unique everywhere; the constraint holds per organisation';
ALTER TABLE aiplat.project_databases DROP CONSTRAINT project_databases_schema_name_key,
  ADD CONSTRAINT project_databases_schema_name_key UNIQUE (organization_id, schema_name);
COMMENT ON COLUMN aiplat.project_databases.schema_name IS
  'aiplat_p_<id without dashes>; PostgreSQL keeps schema names unique in the database';
-- A step run keeps its step's id when the step is deleted: history, not a
-- reference (ON DELETE SET NULL on a key with the organisation in it cannot
-- be distributed).
ALTER TABLE aiplat.workflow_step_runs DROP CONSTRAINT workflow_step_runs_organization_id_step_id_fkey;

-- Project schemas are created by the library (on the coordinator), not by a
-- trigger (which would run on a worker); the schema name is still derived here.
DROP TRIGGER project_databases_create_schema ON aiplat.project_databases;
DROP TRIGGER project_databases_drop_schema ON aiplat.project_databases;
CREATE OR REPLACE FUNCTION aiplat_internal.project_database_schema() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.schema_name := 'aiplat_p_' || replace(NEW.id::text, '-', '');
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION aiplat_internal.project_database_schema() IS
  'BEFORE INSERT trigger: a project database''s schema name follows its id';

-- ---------------------------------------------------------------------------
-- The classes, declared once
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat_internal.table_classes (
  table_name  text PRIMARY KEY CHECK (table_name ~ '^[a-z][a-z0-9_]*$'),
  class       text NOT NULL CHECK (class IN ('reference', 'distributed')),
  note        text NOT NULL
);
COMMENT ON TABLE aiplat_internal.table_classes IS
  'every table of schema aiplat: reference (on every node) or distributed by organization_id (co-located)';
INSERT INTO aiplat_internal.table_classes (table_name, class, note) VALUES
  ('plans', 'reference', 'catalogue'),
  ('organization_types', 'reference', 'catalogue'),
  ('permissions', 'reference', 'catalogue'),
  ('settings', 'reference', 'the platform''s settings'),
  ('users', 'reference', 'people belong to several organisations'),
  ('organizations', 'reference', 'read by every policy; written rarely (the hot counter is org_usage)'),
  ('organization_members', 'reference', 'read by every policy'),
  ('roles', 'reference', 'system roles and custom roles; read by every policy'),
  ('role_permissions', 'reference', 'read by every policy'),
  ('ai_models_system', 'reference', 'the catalogue'),
  ('global_prompts', 'reference', 'prompts of no organisation'),
  ('global_flags', 'reference', 'flags of no organisation'),
  ('system_agent_templates', 'reference', 'templates of no organisation'),
  ('org_usage', 'distributed', 'the monthly counter admission locks'),
  ('org_system_model_config', 'distributed', 'an organisation''s switches'),
  ('ai_model_usage', 'distributed', 'per-person counters'),
  ('usage_events', 'distributed', 'raw events, partitioned by month'),
  ('usage_event_ids', 'distributed', 'live event ids'),
  ('quota_reservations', 'distributed', 'holds'),
  ('usage_daily', 'distributed', 'rollup'),
  ('usage_daily_models', 'distributed', 'rollup'),
  ('request_counters', 'distributed', 'requests per person and day'),
  ('audit_logs', 'distributed', 'the platform''s rows under the all-zero organisation'),
  ('prompts', 'distributed', 'an organisation''s prompts'),
  ('feature_flags', 'distributed', 'an organisation''s flags'),
  ('api_keys', 'distributed', 'keys'),
  ('workflows', 'distributed', 'workflows'),
  ('workflow_steps', 'distributed', 'workflows'),
  ('workflow_runs', 'distributed', 'workflows'),
  ('workflow_step_runs', 'distributed', 'workflows'),
  ('webhook_subscriptions', 'distributed', 'webhooks'),
  ('webhook_deliveries', 'distributed', 'webhooks'),
  ('projects', 'distributed', 'projects'),
  ('project_databases', 'distributed', 'projects'),
  ('project_tables', 'distributed', 'projects'),
  ('custom_agent_orders', 'distributed', 'the AI Garage'),
  ('agent_templates', 'distributed', 'the AI Garage'),
  ('tool_blueprints', 'distributed', 'the AI Garage'),
  ('order_milestones', 'distributed', 'the AI Garage'),
  ('build_logs', 'distributed', 'the AI Garage'),
  ('template_reviews', 'distributed', 'the AI Garage'),
  ('project_showcases', 'distributed', 'the AI Garage');

-- ---------------------------------------------------------------------------
-- Identity: trusted where the platform acts, decided once per row otherwise
-- ---------------------------------------------------------------------------

-- A setting that holds a uuid, else NULL. One expression (no FROM), so
-- that it is inlined: policy helpers call it for every row they check.
CREATE OR REPLACE FUNCTION aiplat_internal.setting_uuid(setting_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN current_setting(setting_name, true) ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN current_setting(setting_name, true)::uuid END
$$;

-- The platform's sessions: the schema owner (or a member of it, or a
-- superuser), and aiplat_app itself, which only the platform can log in as
-- (it has LOGIN only on a Citus cluster, whose coordinator connects to the
-- workers as the current role).
CREATE FUNCTION aiplat_internal.session_is_platform() RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
  RETURN session_user = 'aiplat_app'
      OR (SELECT pg_has_role(session_user, n.nspowner, 'MEMBER') FROM pg_namespace n WHERE n.nspname = 'aiplat');
END
$$;

-- session_user is a name (collation "C"): compared with the column's own
-- collation, the lookup uses users_login_role_key (it runs once per row
-- that a policy checks).
CREATE OR REPLACE FUNCTION aiplat.current_user_id() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  mapped_id uuid;
  mapped_super boolean;
BEGIN
  SELECT u.id, u.is_superadmin INTO mapped_id, mapped_super
    FROM aiplat.users u WHERE u.login_role = (session_user::text COLLATE "default");
  IF mapped_id IS NOT NULL THEN
    IF mapped_super THEN
      RETURN coalesce(aiplat_internal.setting_uuid('aiplat.user_id'), mapped_id);
    END IF;
    RETURN mapped_id;
  END IF;
  IF aiplat_internal.session_is_platform() THEN
    RETURN aiplat_internal.setting_uuid('aiplat.user_id');
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION aiplat.is_platform() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  RETURN aiplat.current_user_id() IS NULL AND aiplat_internal.session_is_platform()
     AND session_user <> 'aiplat_app';
END
$$;

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
    RETURN CASE WHEN aiplat.is_platform() THEN org END;
  END IF;
  IF EXISTS (SELECT 1 FROM aiplat.organization_members m WHERE m.organization_id = org AND m.user_id = me)
     OR EXISTS (SELECT 1 FROM aiplat.users u WHERE u.id = me AND u.is_superadmin) THEN
    RETURN org;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION aiplat.resolve_identity(p_as_email text, p_org_slug text)
RETURNS TABLE (user_id uuid, email text, is_superadmin boolean, via_login_role boolean,
               org_id uuid, org_slug text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  mapped aiplat.users;
  acting aiplat.users;
  org aiplat.organizations;
  owner_session boolean := aiplat_internal.session_is_platform();
  belongs boolean;
BEGIN
  SELECT * INTO mapped FROM aiplat.users u WHERE u.login_role = (session_user::text COLLATE "default");
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
DROP FUNCTION aiplat_internal.session_is_owner();

-- The organisation the transaction says it works in, unvalidated: the cheap
-- first filter of every policy (inlined: an index condition or a
-- comparison with a setting), before the helper that decides for the row.
-- NULL (no organisation given) filters nothing.
CREATE FUNCTION aiplat.in_current_org(org uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('aiplat.org_id', true), '') IS NULL
      OR org::text = nullif(current_setting('aiplat.org_id', true), '')
$$;

-- The per-row deciders. Each is one query: who acts (a mapped login role's
-- user, or the platform's setting), whether they are a superadmin, and
-- their permission in the row's organisation, which must be the one the
-- transaction works in.
CREATE FUNCTION aiplat.tenant_row(org uuid, p_resource text, p_action text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  me uuid := aiplat.current_user_id();
BEGIN
  RETURN me IS NOT NULL AND (
    EXISTS (SELECT 1 FROM aiplat.users u WHERE u.id = me AND u.is_superadmin)
    OR (org = aiplat_internal.setting_uuid('aiplat.org_id')
        AND EXISTS (SELECT 1 FROM aiplat.organization_members m
                      JOIN aiplat.role_permissions rp ON rp.role_id = m.role_id
                     WHERE m.organization_id = org AND m.user_id = me
                       AND rp.resource = p_resource AND rp.action = p_action)));
END
$$;
COMMENT ON FUNCTION aiplat.tenant_row(uuid, text, text) IS
  'policy helper: a superadmin, or a member of org (the current organisation) with the permission';

-- Usage rows: the organisation's with usage:read_all, one's own with usage:read.
CREATE FUNCTION aiplat.usage_row(org uuid, usr uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  me uuid := aiplat.current_user_id();
BEGIN
  RETURN me IS NOT NULL AND (
    EXISTS (SELECT 1 FROM aiplat.users u WHERE u.id = me AND u.is_superadmin)
    OR (org = aiplat_internal.setting_uuid('aiplat.org_id')
        AND EXISTS (SELECT 1 FROM aiplat.organization_members m
                      JOIN aiplat.role_permissions rp ON rp.role_id = m.role_id
                     WHERE m.organization_id = org AND m.user_id = me AND rp.resource = 'usage'
                       AND (rp.action = 'read_all' OR (rp.action = 'read' AND usr = me)))));
END
$$;

-- A person: oneself, members of the current organisation, or anyone for a superadmin.
CREATE FUNCTION aiplat.user_row(usr uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  me uuid := aiplat.current_user_id();
  org uuid := aiplat.current_org_id();
BEGIN
  RETURN me IS NOT NULL AND (
    usr = me
    OR EXISTS (SELECT 1 FROM aiplat.users u WHERE u.id = me AND u.is_superadmin)
    OR (org IS NOT NULL AND EXISTS (SELECT 1 FROM aiplat.organization_members m
                                     WHERE m.organization_id = org AND m.user_id = usr)));
END
$$;

-- An organisation: those one belongs to, or any for a superadmin.
CREATE FUNCTION aiplat.org_row(org uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  me uuid := aiplat.current_user_id();
BEGIN
  RETURN me IS NOT NULL AND (
    EXISTS (SELECT 1 FROM aiplat.users u WHERE u.id = me AND u.is_superadmin)
    OR EXISTS (SELECT 1 FROM aiplat.organization_members m WHERE m.organization_id = org AND m.user_id = me));
END
$$;

-- A role's permission rows: where the role is visible (reading) or manageable (writing).
CREATE FUNCTION aiplat.role_row(role uuid, writing boolean) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  org uuid;
  found boolean;
BEGIN
  SELECT r.organization_id, true INTO org, found FROM aiplat.roles r WHERE r.id = role;
  IF NOT coalesce(found, false) THEN
    RETURN false;
  END IF;
  IF org IS NULL THEN
    RETURN NOT writing OR aiplat.is_superadmin();
  END IF;
  RETURN aiplat.tenant_row(org, 'roles', CASE WHEN writing THEN 'manage' ELSE 'read' END);
END
$$;

-- A catalogue model: superadmins all; others those available to the current
-- organisation that its admins may manage, or that are enabled there.
CREATE FUNCTION aiplat.model_row(model bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  org uuid;
BEGIN
  IF aiplat.is_superadmin() THEN
    RETURN true;
  END IF;
  org := aiplat.current_org_id();
  RETURN org IS NOT NULL AND aiplat_internal.model_availability(model, org) = 'available'
     AND (aiplat.has_permission(org, 'models', 'manage')
          OR EXISTS (SELECT 1 FROM aiplat.org_system_model_config c
                      WHERE c.organization_id = org AND c.system_model_id = model AND c.is_enabled_for_users));
END
$$;

-- ---------------------------------------------------------------------------
-- Policies without subqueries
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION aiplat_internal.apply_tenant_policies(tbl regclass, p_resource text,
                                                                  read_action text DEFAULT 'read',
                                                                  write_action text DEFAULT 'write')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  can_read text := format('aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, %L, %L)',
                          p_resource, read_action);
  can_write text := format('aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, %L, %L)',
                           p_resource, write_action);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('DROP POLICY IF EXISTS tenant_select ON %s', tbl);
  EXECUTE format('DROP POLICY IF EXISTS tenant_insert ON %s', tbl);
  EXECUTE format('DROP POLICY IF EXISTS tenant_update ON %s', tbl);
  EXECUTE format('DROP POLICY IF EXISTS tenant_delete ON %s', tbl);
  EXECUTE format('CREATE POLICY tenant_select ON %s FOR SELECT TO aiplat_app USING (%s)', tbl, can_read);
  EXECUTE format('CREATE POLICY tenant_insert ON %s FOR INSERT TO aiplat_app WITH CHECK (%s)', tbl, can_write);
  EXECUTE format('CREATE POLICY tenant_update ON %s FOR UPDATE TO aiplat_app USING (%s) WITH CHECK (%s)',
                 tbl, can_write, can_write);
  EXECUTE format('CREATE POLICY tenant_delete ON %s FOR DELETE TO aiplat_app USING (%s)', tbl, can_write);
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.apply_usage_read_policy(tbl regclass, per_person boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('GRANT SELECT ON %s TO aiplat_app', tbl);
  EXECUTE format('DROP POLICY IF EXISTS usage_read ON %s', tbl);
  EXECUTE format('CREATE POLICY usage_read ON %s FOR SELECT TO aiplat_app USING ('
                 'aiplat.in_current_org(organization_id) AND aiplat.usage_row(organization_id, %s))',
                 tbl, CASE WHEN per_person THEN 'user_id' ELSE 'NULL' END);
END
$$;

SELECT aiplat_internal.apply_tenant_policies(t.tbl, t.res, t.r, t.w)
  FROM (VALUES ('aiplat.org_system_model_config'::regclass, 'models', 'read', 'manage'),
               ('aiplat.api_keys', 'api_keys', 'read', 'manage'),
               ('aiplat.workflows', 'workflows', 'read', 'write'),
               ('aiplat.workflow_steps', 'workflows', 'read', 'write'),
               ('aiplat.workflow_runs', 'workflows', 'read', 'run'),
               ('aiplat.workflow_step_runs', 'workflows', 'read', 'run'),
               ('aiplat.webhook_subscriptions', 'webhooks', 'read', 'write'),
               ('aiplat.webhook_deliveries', 'webhooks', 'read', 'write'),
               ('aiplat.projects', 'projects', 'read', 'write'),
               ('aiplat.project_databases', 'projects', 'read', 'write'),
               ('aiplat.project_tables', 'projects', 'read', 'write'),
               ('aiplat.custom_agent_orders', 'garage', 'read', 'write'),
               ('aiplat.agent_templates', 'garage', 'read', 'write'),
               ('aiplat.tool_blueprints', 'garage', 'read', 'write'),
               ('aiplat.order_milestones', 'garage', 'read', 'write'),
               ('aiplat.build_logs', 'garage', 'read', 'write'),
               ('aiplat.template_reviews', 'garage', 'read', 'write'),
               ('aiplat.project_showcases', 'garage', 'read', 'write'),
               ('aiplat.prompts', 'prompts', 'read', 'manage'),
               ('aiplat.feature_flags', 'flags', 'read', 'manage')) AS t(tbl, res, r, w);
DROP POLICY prompts_select ON aiplat.prompts;
DROP POLICY prompts_write ON aiplat.prompts;
DROP POLICY flags_select ON aiplat.feature_flags;
DROP POLICY flags_write ON aiplat.feature_flags;
SELECT aiplat_internal.apply_usage_read_policy(t.tbl, t.per_person)
  FROM (VALUES ('aiplat.ai_model_usage'::regclass, true), ('aiplat.usage_events', true),
               ('aiplat.usage_event_ids', false), ('aiplat.quota_reservations', true),
               ('aiplat.usage_daily_models', false), ('aiplat.usage_daily', true),
               ('aiplat.request_counters', true)) AS t(tbl, per_person);

-- Shared by design (seed 004): public templates and showcases.
CREATE POLICY shared_select ON aiplat.agent_templates FOR SELECT TO aiplat_app USING (is_public);

DROP POLICY users_select ON aiplat.users;
DROP POLICY users_update_self ON aiplat.users;
DROP POLICY users_insert ON aiplat.users;
CREATE POLICY users_select ON aiplat.users FOR SELECT TO aiplat_app USING (aiplat.user_row(id));
CREATE POLICY users_update_self ON aiplat.users FOR UPDATE TO aiplat_app
  USING (id = aiplat.current_user_id() OR aiplat.is_superadmin())
  WITH CHECK (id = aiplat.current_user_id() OR aiplat.is_superadmin());
CREATE POLICY users_insert ON aiplat.users FOR INSERT TO aiplat_app WITH CHECK (aiplat.is_superadmin());

DROP POLICY organizations_select ON aiplat.organizations;
DROP POLICY organizations_update ON aiplat.organizations;
DROP POLICY organizations_insert ON aiplat.organizations;
DROP POLICY organizations_delete ON aiplat.organizations;
CREATE POLICY organizations_select ON aiplat.organizations FOR SELECT TO aiplat_app USING (aiplat.org_row(id));
CREATE POLICY organizations_update ON aiplat.organizations FOR UPDATE TO aiplat_app
  USING (aiplat.has_permission(id, 'organization', 'manage'))
  WITH CHECK (aiplat.has_permission(id, 'organization', 'manage'));
CREATE POLICY organizations_insert ON aiplat.organizations FOR INSERT TO aiplat_app
  WITH CHECK (aiplat.is_superadmin());
CREATE POLICY organizations_delete ON aiplat.organizations FOR DELETE TO aiplat_app
  USING (aiplat.is_superadmin());

ALTER TABLE aiplat.org_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_usage_select ON aiplat.org_usage FOR SELECT TO aiplat_app
  USING (aiplat.in_current_org(organization_id) AND aiplat.org_row(organization_id));

DROP POLICY members_select ON aiplat.organization_members;
DROP POLICY members_insert ON aiplat.organization_members;
DROP POLICY members_update ON aiplat.organization_members;
DROP POLICY members_delete ON aiplat.organization_members;
CREATE POLICY members_select ON aiplat.organization_members FOR SELECT TO aiplat_app USING (
  user_id = aiplat.current_user_id()
  OR (aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, 'members', 'read')));
CREATE POLICY members_insert ON aiplat.organization_members FOR INSERT TO aiplat_app WITH CHECK (
  aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, 'members', 'manage'));
CREATE POLICY members_update ON aiplat.organization_members FOR UPDATE TO aiplat_app
  USING (aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, 'members', 'manage'))
  WITH CHECK (aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, 'members', 'manage'));
CREATE POLICY members_delete ON aiplat.organization_members FOR DELETE TO aiplat_app USING (
  aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, 'members', 'manage'));

DROP POLICY roles_select ON aiplat.roles;
DROP POLICY roles_write ON aiplat.roles;
CREATE POLICY roles_select ON aiplat.roles FOR SELECT TO aiplat_app USING (
  organization_id IS NULL
  OR (aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, 'roles', 'read')));
CREATE POLICY roles_write ON aiplat.roles FOR ALL TO aiplat_app
  USING (aiplat.tenant_row(organization_id, 'roles', 'manage'))
  WITH CHECK (aiplat.tenant_row(organization_id, 'roles', 'manage'));

DROP POLICY role_permissions_select ON aiplat.role_permissions;
DROP POLICY role_permissions_insert ON aiplat.role_permissions;
DROP POLICY role_permissions_delete ON aiplat.role_permissions;
CREATE POLICY role_permissions_select ON aiplat.role_permissions FOR SELECT TO aiplat_app
  USING (aiplat.role_row(role_id, false));
CREATE POLICY role_permissions_insert ON aiplat.role_permissions FOR INSERT TO aiplat_app
  WITH CHECK (aiplat.role_row(role_id, true));
CREATE POLICY role_permissions_delete ON aiplat.role_permissions FOR DELETE TO aiplat_app
  USING (aiplat.role_row(role_id, true));

DROP POLICY audit_select ON aiplat.audit_logs;
CREATE POLICY audit_select ON aiplat.audit_logs FOR SELECT TO aiplat_app USING (
  aiplat.in_current_org(organization_id) AND aiplat.tenant_row(organization_id, 'audit', 'read'));

DROP POLICY models_select ON aiplat.ai_models_system;
DROP POLICY models_write ON aiplat.ai_models_system;
CREATE POLICY models_select ON aiplat.ai_models_system FOR SELECT TO aiplat_app USING (aiplat.model_row(id));
CREATE POLICY models_write ON aiplat.ai_models_system FOR ALL TO aiplat_app
  USING (aiplat.is_superadmin()) WITH CHECK (aiplat.is_superadmin());

-- Global prompts, flags and system templates: everyone reads, superadmins write.
ALTER TABLE aiplat.global_prompts ENABLE ROW LEVEL SECURITY;
ALTER TABLE aiplat.global_flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE aiplat.system_agent_templates ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON aiplat.global_prompts TO aiplat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON aiplat.global_flags, aiplat.system_agent_templates TO aiplat_app;
CREATE POLICY global_select ON aiplat.global_prompts FOR SELECT TO aiplat_app USING (true);
CREATE POLICY global_write ON aiplat.global_prompts FOR ALL TO aiplat_app
  USING (aiplat.is_superadmin()) WITH CHECK (aiplat.is_superadmin());
CREATE POLICY global_select ON aiplat.global_flags FOR SELECT TO aiplat_app USING (true);
CREATE POLICY global_write ON aiplat.global_flags FOR ALL TO aiplat_app
  USING (aiplat.is_superadmin()) WITH CHECK (aiplat.is_superadmin());
CREATE POLICY global_select ON aiplat.system_agent_templates FOR SELECT TO aiplat_app USING (true);
CREATE POLICY global_write ON aiplat.system_agent_templates FOR ALL TO aiplat_app
  USING (aiplat.is_superadmin()) WITH CHECK (aiplat.is_superadmin());

-- Both kinds of prompt and flag, as one (the caller's rights apply).
CREATE VIEW aiplat.all_prompts WITH (security_invoker = true) AS
  SELECT organization_id, id, key, version, body, description, created_by, created_at FROM aiplat.prompts
  UNION ALL
  SELECT NULL::uuid, id, key, version, body, description, created_by, created_at FROM aiplat.global_prompts;
CREATE VIEW aiplat.all_flags WITH (security_invoker = true) AS
  SELECT organization_id, id, name, enabled, value, updated_by, created_at, updated_at FROM aiplat.feature_flags
  UNION ALL
  SELECT NULL::uuid, id, name, enabled, value, updated_by, created_at, updated_at FROM aiplat.global_flags;
GRANT SELECT ON aiplat.all_prompts, aiplat.all_flags TO aiplat_app;
COMMENT ON VIEW aiplat.all_prompts IS 'an organisation''s prompts and the global ones (organization_id NULL)';
COMMENT ON VIEW aiplat.all_flags IS 'an organisation''s flags and the global ones (organization_id NULL)';

CREATE TRIGGER audit_global_prompts AFTER INSERT OR UPDATE OR DELETE ON aiplat.global_prompts
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.audit_row_change('id');
CREATE TRIGGER audit_global_flags AFTER INSERT OR UPDATE OR DELETE ON aiplat.global_flags
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.audit_row_change('id');
INSERT INTO aiplat_internal.audit_actions (action, table_name, operation) VALUES
  ('prompt.set_global', 'global_prompts', 'insert'),
  ('flag.set_global', 'global_flags', 'insert'),
  ('flag.set_global', 'global_flags', 'update');

-- ---------------------------------------------------------------------------
-- Triggers: once per change, on a reference table's copies too
-- ---------------------------------------------------------------------------

-- On a Citus cluster a reference table's change runs on every node's copy,
-- and each copy's triggers fire: those that write elsewhere act on one copy
-- only (the one on the lowest node group). Rows the platform copies into
-- shards while it distributes a table (aiplat.copying_rows, which
-- `cluster distribute` sets) are no change at all. Elsewhere this is
-- always false.
CREATE FUNCTION aiplat_internal.is_redundant_copy(tbl name) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
  shard bigint;
BEGIN
  IF coalesce(current_setting('aiplat.copying_rows', true), '') = 'on'
     AND aiplat_internal.session_is_platform() THEN
    RETURN true;
  END IF;
  IF to_regclass('pg_catalog.pg_dist_shard') IS NULL THEN
    RETURN false;
  END IF;
  shard := substring(tbl FROM '_([0-9]+)$')::bigint;
  IF shard IS NULL THEN
    RETURN false;
  END IF;
  RETURN EXISTS (SELECT 1 FROM pg_dist_shard s JOIN pg_dist_partition p ON p.logicalrelid = s.logicalrelid
                  WHERE s.shardid = shard AND p.partmethod = 'n')
     AND (SELECT min(pl.groupid) FROM pg_dist_placement pl WHERE pl.shardid = shard)
         IS DISTINCT FROM (SELECT g.groupid FROM pg_dist_local_group g);
END
$$;

-- The table a trigger fired for: on a Citus node the shard's table.
CREATE FUNCTION aiplat_internal.logical_table(tbl name) RETURNS name
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
  shard bigint := substring(tbl FROM '_([0-9]+)$')::bigint;
  logical name;
BEGIN
  IF shard IS NULL OR to_regclass('pg_catalog.pg_dist_shard') IS NULL THEN
    RETURN tbl;
  END IF;
  SELECT c.relname INTO logical FROM pg_dist_shard s JOIN pg_class c ON c.oid = s.logicalrelid
   WHERE s.shardid = shard AND c.relname || '_' || shard = tbl;
  RETURN coalesce(logical, tbl);
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.audit(p_action text, p_resource_type text, p_resource_id text,
                                                  p_old jsonb, p_new jsonb, p_org uuid DEFAULT NULL,
                                                  p_org_slug text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  org uuid := coalesce(p_org, aiplat.current_org_id());
  slug text := p_org_slug;
  actor aiplat.users;
  acting aiplat.users;
  id bigint;
BEGIN
  IF slug IS NULL AND org IS NOT NULL THEN
    SELECT o.slug INTO slug FROM aiplat.organizations o WHERE o.id = org;
  END IF;
  SELECT * INTO actor FROM aiplat.users u WHERE u.login_role = (session_user::text COLLATE "default");
  SELECT * INTO acting FROM aiplat.users u WHERE u.id = aiplat.current_user_id();
  INSERT INTO aiplat.audit_logs (organization_id, org_slug, actor_user_id, actor_email, acting_as_user_id,
                                 acting_as_email, action, resource_type, resource_id, old_values, new_values)
  VALUES (coalesce(org, '00000000-0000-0000-0000-000000000000'), slug, actor.id, actor.email, acting.id,
          acting.email, p_action, p_resource_type, p_resource_id, p_old, p_new)
  RETURNING audit_logs.id INTO id;
  RETURN id;
END
$$;

CREATE OR REPLACE FUNCTION aiplat_internal.audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  old_j jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_j jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  row_j jsonb := coalesce(new_j, old_j);
  op text := lower(TG_OP);
  tbl text;
  platform boolean;
  label text := nullif(current_setting('aiplat.audit_action', true), '');
  secret text;
  key_id text;
  org uuid;
BEGIN
  IF aiplat_internal.is_redundant_copy(TG_TABLE_NAME) THEN
    RETURN NULL;
  END IF;
  tbl := aiplat_internal.logical_table(TG_TABLE_NAME);
  platform := aiplat.is_platform();
  -- Only the platform may switch row auditing off (bulk loads).
  IF platform AND coalesce(current_setting('aiplat.audit', true), '') = 'off' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND (old_j - 'updated_at') = (new_j - 'updated_at') THEN
    RETURN NULL;   -- nothing really changed
  END IF;
  IF label IS NOT NULL AND NOT platform
     AND NOT EXISTS (SELECT 1 FROM aiplat_internal.audit_actions a
                      WHERE a.action = label AND a.table_name = tbl AND a.operation = op) THEN
    label := NULL;   -- a person's label must fit what changed
  END IF;
  FOR i IN 1 .. TG_NARGS - 1 LOOP
    secret := TG_ARGV[i];
    old_j := old_j - secret;
    new_j := new_j - secret;
  END LOOP;
  SELECT string_agg(row_j ->> k, '/' ORDER BY ord) INTO key_id
    FROM unnest(string_to_array(TG_ARGV[0], ',')) WITH ORDINALITY AS keys(k, ord);
  org := CASE WHEN tbl = 'organizations' THEN (row_j ->> 'id')::uuid
              WHEN row_j ? 'organization_id' THEN (row_j ->> 'organization_id')::uuid
              ELSE aiplat.current_org_id() END;
  PERFORM aiplat_internal.audit(coalesce(label, tbl || '.' || op), tbl, key_id, old_j, new_j, org,
                                CASE WHEN tbl = 'organizations' THEN row_j ->> 'slug' END);
  RETURN NULL;
END
$$;

-- An organisation's counter exists from its creation; its period follows the
-- time zone (a change moves the end of the current month).
CREATE FUNCTION aiplat_internal.org_usage_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  IF aiplat_internal.is_redundant_copy(TG_TABLE_NAME) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO aiplat.org_usage (organization_id, resets_at)
    VALUES (NEW.id, aiplat.period_end('monthly', NEW.time_zone, aiplat.clock()))
    ON CONFLICT (organization_id) DO NOTHING;
  ELSIF NEW.time_zone IS DISTINCT FROM OLD.time_zone THEN
    UPDATE aiplat.org_usage SET resets_at = aiplat.period_end('monthly', NEW.time_zone, aiplat.clock())
     WHERE organization_id = NEW.id;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER organizations_usage AFTER INSERT OR UPDATE OF time_zone ON aiplat.organizations
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.org_usage_follow();

CREATE OR REPLACE FUNCTION aiplat_internal.delete_org_rollups() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  IF aiplat_internal.is_redundant_copy(TG_TABLE_NAME) THEN
    RETURN NULL;
  END IF;
  DELETE FROM aiplat.usage_daily d USING deleted_orgs o WHERE d.organization_id = o.id;
  DELETE FROM aiplat.usage_daily_models d USING deleted_orgs o WHERE d.organization_id = o.id;
  RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------
-- Flags and prompts from both tables
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION aiplat_internal.flag_of(org uuid, flag text, OUT enabled boolean, OUT value jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  SELECT f.enabled, f.value INTO enabled, value FROM aiplat.feature_flags f
   WHERE f.organization_id = org AND f.name = flag;
  IF NOT FOUND THEN
    SELECT g.enabled, g.value INTO enabled, value FROM aiplat.global_flags g WHERE g.name = flag;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION aiplat.effective_prompt(org uuid, p_key text,
  OUT body text, OUT version integer, OUT scope text)
LANGUAGE sql STABLE AS $$
  SELECT p.body, p.version, CASE WHEN p.organization_id IS NULL THEN 'global' ELSE 'tenant' END
    FROM aiplat.all_prompts p
   WHERE p.key = p_key AND (p.organization_id = org OR p.organization_id IS NULL)
   ORDER BY p.organization_id NULLS LAST, p.version DESC
   LIMIT 1
$$;

-- ---------------------------------------------------------------------------
-- The quota engine on org_usage
-- ---------------------------------------------------------------------------

-- What the engine needs of an organisation, its counter included.
CREATE TYPE aiplat_internal.org_state AS (
  id                   uuid,
  slug                 text,
  type                 text,
  pricing_plan         text,
  token_quota_monthly  bigint,
  time_zone            text,
  tokens_used          bigint,
  resets_at            timestamptz
);

-- The organisation with its counter, locked (writing) or as it would be at
-- the next write, rolled over lazily when the period ended (no cron).
CREATE FUNCTION aiplat_internal.org_state_of(org uuid, now_ timestamptz, locking boolean)
RETURNS aiplat_internal.org_state
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  s aiplat_internal.org_state;
  u aiplat.org_usage;
BEGIN
  IF NOT locking THEN
    SELECT o.id, o.slug, o.type, o.pricing_plan, o.token_quota_monthly, o.time_zone, c.tokens_used, c.resets_at
      INTO s FROM aiplat.organizations o LEFT JOIN aiplat.org_usage c ON c.organization_id = o.id
     WHERE o.id = org;
    IF s.id IS NOT NULL AND (s.resets_at IS NULL OR now_ >= s.resets_at) THEN
      s.tokens_used := 0;   -- as it will be at the next write
      s.resets_at := aiplat.period_end('monthly', s.time_zone, now_);
    END IF;
    RETURN s;
  END IF;
  SELECT o.id, o.slug, o.type, o.pricing_plan, o.token_quota_monthly, o.time_zone
    INTO s.id, s.slug, s.type, s.pricing_plan, s.token_quota_monthly, s.time_zone
    FROM aiplat.organizations o WHERE o.id = org;
  IF s.id IS NULL THEN
    RETURN s;
  END IF;
  SELECT * INTO u FROM aiplat.org_usage WHERE organization_id = org FOR UPDATE;
  IF NOT FOUND THEN   -- created with the organisation; made here for one that predates that
    INSERT INTO aiplat.org_usage (organization_id, resets_at)
    VALUES (org, aiplat.period_end('monthly', s.time_zone, now_)) ON CONFLICT (organization_id) DO NOTHING;
    SELECT * INTO u FROM aiplat.org_usage WHERE organization_id = org FOR UPDATE;
  END IF;
  IF now_ >= u.resets_at THEN
    UPDATE aiplat.org_usage SET tokens_used = 0, resets_at = aiplat.period_end('monthly', s.time_zone, now_)
     WHERE organization_id = org RETURNING * INTO u;
  END IF;
  s.tokens_used := u.tokens_used;
  s.resets_at := u.resets_at;
  RETURN s;
END
$$;
DROP FUNCTION aiplat_internal.lock_org(uuid, timestamptz);

-- What recording needs of a model. A type of its own, not the table's row
-- type: on Citus, turning a table into a reference table rebinds functions
-- that take its row type to the coordinator's shard of it.
CREATE TYPE aiplat_internal.model_terms AS (
  id                     bigint,
  name                   text,
  token_limit_period     text,
  price_input_per_mtok   numeric,
  price_output_per_mtok  numeric,
  is_free                boolean
);

CREATE FUNCTION aiplat_internal.record_usage(o aiplat_internal.org_state, m aiplat_internal.model_terms,
                                              usr uuid, at timestamptz, ev uuid, tin bigint, tout bigint,
                                              latency integer, request text, src text, reservation uuid,
                                              now_ timestamptz)
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
                                          period_start, period_end, tokens_used, requests_count, updated_at)
  VALUES (o.id, usr, m.id, m.name, period, aiplat.period_start(period, o.time_zone, at),
          aiplat.period_end(period, o.time_zone, at), total, 1, now_)
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + 1, updated_at = EXCLUDED.updated_at;
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.resets_at - interval '1 second')
     AND at < o.resets_at THEN
    UPDATE aiplat.org_usage SET tokens_used = tokens_used + total WHERE organization_id = o.id;
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
DROP FUNCTION aiplat_internal.record_usage(aiplat.organizations, aiplat.ai_models_system, uuid, timestamptz, uuid,
                                           bigint, bigint, integer, text, text, uuid);

-- quota_refs with the organisation as a uuid.
CREATE FUNCTION aiplat_internal.quota_refs(p_org uuid, p_user text, p_model text,
                                           OUT org_id uuid, OUT user_id uuid, OUT model_id bigint,
                                           OUT user_email text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
DECLARE
  uuid_re constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
  me uuid := aiplat.current_user_id();
  trusted boolean := aiplat.is_platform() OR aiplat.is_superadmin();
BEGIN
  SELECT o.id INTO org_id FROM aiplat.organizations o WHERE o.id = p_org;
  IF org_id IS NOT NULL AND NOT trusted
     AND NOT EXISTS (SELECT 1 FROM aiplat.organization_members m
                      WHERE m.organization_id = org_id AND m.user_id = me) THEN
    org_id := NULL;
  END IF;
  IF org_id IS NULL THEN
    RAISE EXCEPTION 'no organization %', coalesce(p_org::text, '(none)') USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_user ~ uuid_re THEN
    SELECT u.id, u.email INTO user_id, user_email FROM aiplat.users u WHERE u.id = p_user::uuid;
  ELSE
    SELECT u.id, u.email INTO user_id, user_email FROM aiplat.users u WHERE lower(u.email) = lower(p_user);
  END IF;
  IF user_id IS NOT NULL AND NOT trusted AND user_id IS DISTINCT FROM me
     AND NOT (EXISTS (SELECT 1 FROM aiplat.organization_members m
                       WHERE m.organization_id = org_id AND m.user_id = quota_refs.user_id)
              AND (aiplat.has_permission(org_id, 'members', 'read')
                   OR aiplat.has_permission(org_id, 'usage', 'read_all'))) THEN
    user_id := NULL;
    user_email := NULL;
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
DROP FUNCTION aiplat_internal.quota_refs(text, text, text);

-- The decision names its organisation, person and model, so that a caller
-- needs nothing but the one call (which Citus can then run on the worker
-- that holds the organisation).
ALTER TYPE aiplat.quota_decision ADD ATTRIBUTE organization text, ADD ATTRIBUTE user_email text,
  ADD ATTRIBUTE model_name text;

CREATE FUNCTION aiplat.quota_admit(p_org uuid, p_user text, p_model text, p_tokens bigint,
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
  o aiplat_internal.org_state;
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
  /* Locks in a fixed order: the organisation's counter, then the person's. */
  o := aiplat_internal.org_state_of(refs.org_id, now_, writing);
  d.organization := o.slug;
  d.model_name := m.name;
  d.user_email := refs.user_email;
  period := coalesce(m.token_limit_period, 'monthly');
  ps := aiplat.period_start(period, o.time_zone, now_);
  d.user_period := period;
  d.user_resets_at := aiplat.period_end(period, o.time_zone, now_);
  d.user_limit := CASE WHEN m.is_free THEN NULL ELSE coalesce(c.token_limit_per_user, m.token_limit_amount) END;
  d.org_quota := aiplat_internal.org_quota(o.id);
  d.org_resets_at := o.resets_at;
  /* Active reservations count until they expire, whoever cleans them up (free models never count). */
  SELECT coalesce(sum(r.tokens), 0) INTO reserved
    FROM aiplat.quota_reservations r JOIN aiplat.ai_models_system rm ON rm.id = r.model_id
   WHERE r.organization_id = o.id AND r.status = 'active' AND r.expires_at > now_ AND NOT rm.is_free;
  d.org_used := o.tokens_used + reserved;
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
  d.cost_micro_usd := aiplat_internal.record_usage(o,
    ROW(m.id, m.name, m.token_limit_period, m.price_input_per_mtok, m.price_output_per_mtok,
        m.is_free)::aiplat_internal.model_terms,
    refs.user_id, at, d.event_id, tin, tout, p_latency_ms, p_request_id, p_mode, NULL, now_);
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
  IF NOT m.is_free AND at >= aiplat.period_start('monthly', o.time_zone, o.resets_at - interval '1 second')
     AND at < o.resets_at THEN
    d.org_used := d.org_used + p_tokens;
  END IF;
  d.used := d.user_used;
  d.resets_at := d.user_resets_at;
  RETURN d;
END
$$;
COMMENT ON FUNCTION aiplat.quota_admit(uuid, text, text, bigint, text, uuid, bigint, bigint, integer,
  text, interval, timestamptz, boolean) IS
  'decide (and with consume/reserve/record, record) in one atomic step; see migration 0009 for the order';
DROP FUNCTION aiplat.quota_admit(text, text, text, bigint, text, uuid, bigint, bigint, integer, text,
                                 interval, timestamptz, boolean);

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
  o aiplat_internal.org_state;
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
  /* Same lock order as admission: the organisation's counter first. */
  o := aiplat_internal.org_state_of(r.organization_id, now_, true);
  SELECT * INTO r FROM aiplat.quota_reservations
   WHERE organization_id = r.organization_id AND id = p_reservation FOR UPDATE;
  IF r.status <> 'active' THEN
    RAISE EXCEPTION 'reservation % is already %', p_reservation, r.status
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO m FROM aiplat.ai_models_system WHERE id = r.model_id;
  d.organization_id := r.organization_id;
  d.user_id := r.user_id;
  d.model_id := r.model_id;
  d.reservation_id := r.id;
  d.organization := o.slug;
  d.model_name := m.name;
  SELECT u.email INTO d.user_email FROM aiplat.users u WHERE u.id = r.user_id;
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
    d.org_used := o.tokens_used + reserved;
    d.org_quota := aiplat_internal.org_quota(o.id);
    d.org_resets_at := o.resets_at;
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
  d.cost_micro_usd := aiplat_internal.record_usage(o,
    ROW(m.id, m.name, m.token_limit_period, m.price_input_per_mtok, m.price_output_per_mtok,
        m.is_free)::aiplat_internal.model_terms,
    r.user_id, now_, d.event_id, p_tokens_in, coalesce(p_tokens_out, 0), p_latency_ms,
    coalesce(p_request_id, r.request_id), p_source, r.id, now_);
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
    PERFORM aiplat_internal.org_state_of(org, now_, true);
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
                                          period_start, period_end, tokens_used, requests_count, updated_at)
  SELECT g.organization_id, g.user_id, g.model_id, m.name, g.period,
         g.local_start AT TIME ZONE o.time_zone,
         (g.local_start + CASE g.period WHEN 'daily' THEN interval '1 day' WHEN 'weekly' THEN interval '7 days'
                                        ELSE interval '1 month' END) AT TIME ZONE o.time_zone,
         g.tokens, g.requests, now_
    FROM g
    JOIN aiplat.organizations o ON o.id = g.organization_id
    JOIN aiplat.ai_models_system m ON m.id = g.model_id
   ORDER BY 1, 2, 3, 5, 6
  ON CONFLICT (organization_id, user_id, model_id, period_type, period_start) DO UPDATE
    SET tokens_used = u.tokens_used + EXCLUDED.tokens_used,
        requests_count = u.requests_count + EXCLUDED.requests_count, updated_at = EXCLUDED.updated_at;
  UPDATE aiplat.org_usage ou
     SET tokens_used = ou.tokens_used + x.tokens
    FROM (SELECT d.organization_id, sum(d.tokens_in + d.tokens_out) AS tokens
            FROM pg_temp.usage_import_deltas d
            JOIN aiplat.organizations oo ON oo.id = d.organization_id
            JOIN aiplat.org_usage uu ON uu.organization_id = d.organization_id
            JOIN aiplat.ai_models_system m ON m.id = d.model_id
           WHERE NOT m.is_free
             AND d.day::timestamp AT TIME ZONE oo.time_zone
                 >= aiplat.period_start('monthly', oo.time_zone, uu.resets_at - interval '1 second')
             AND d.day::timestamp AT TIME ZONE oo.time_zone < uu.resets_at
           GROUP BY 1) x
   WHERE ou.organization_id = x.organization_id;
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
    UPDATE aiplat.org_usage u SET tokens_used = 0,
           resets_at = aiplat.period_end('monthly', o.time_zone, now_)
      FROM aiplat.organizations o
     WHERE o.id = u.organization_id AND u.resets_at <= now_ RETURNING 1)
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
-- The list, the grants, and the setting Citus needs on every function
-- ---------------------------------------------------------------------------

DELETE FROM aiplat_internal.functions WHERE signature IN (
  'aiplat.quota_admit(text,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,timestamp with time zone,boolean)',
  'aiplat_internal.quota_refs(text,text,text)',
  'aiplat_internal.record_usage(aiplat.organizations,aiplat.ai_models_system,uuid,timestamp with time zone,uuid,bigint,bigint,integer,text,text,uuid)',
  'aiplat_internal.lock_org(uuid,timestamp with time zone)');
INSERT INTO aiplat_internal.functions (signature, callable, purpose, note) VALUES
  ('aiplat.quota_admit(uuid,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,timestamp with time zone,boolean)',
   true, 'quota', 'the admission step, for one''s own organisations and people'),
  ('aiplat.in_current_org(uuid)', true, 'identity', 'policy filter: the organisation the transaction names'),
  ('aiplat.tenant_row(uuid,text,text)', true, 'identity', 'policy helper for an organisation''s rows'),
  ('aiplat.usage_row(uuid,uuid)', true, 'identity', 'policy helper for usage rows'),
  ('aiplat.user_row(uuid)', true, 'identity', 'policy helper for people'),
  ('aiplat.org_row(uuid)', true, 'identity', 'policy helper for organisations'),
  ('aiplat.role_row(uuid,boolean)', true, 'identity', 'policy helper for role permissions'),
  ('aiplat.model_row(bigint)', true, 'identity', 'policy helper for the catalogue'),
  ('aiplat_internal.quota_refs(uuid,text,text)', false, 'internal',
   'resolves names the caller may see, reading tables it may not'),
  ('aiplat_internal.record_usage(aiplat_internal.org_state,aiplat_internal.model_terms,uuid,timestamp with time zone,uuid,bigint,bigint,integer,text,text,uuid,timestamp with time zone)',
   false, 'internal', 'writes events, counters and rollups'),
  ('aiplat_internal.org_state_of(uuid,timestamp with time zone,boolean)', false, 'internal',
   'locks and rolls over an organisation''s monthly counter'),
  ('aiplat_internal.org_usage_follow()', false, 'internal',
   'row trigger: an organisation''s counter follows its creation and time zone');

-- Functions that read tables may run inside a shard query on a Citus
-- worker (policies, triggers and queries that join a reference table to a
-- distributed one do); Citus allows that with a setting on each function. Only a server with Citus knows the setting (elsewhere only
-- a superuser could set it), so this marks the functions where Citus is
-- installed: `aiplat cluster distribute` calls it, and so does every
-- migration that creates functions, at its end.
CREATE FUNCTION aiplat_internal.mark_functions_for_citus() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  f regprocedure;
  n integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RETURN 0;
  END IF;
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace IN ('aiplat'::regnamespace, 'aiplat_internal'::regnamespace)
       AND (p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'plpgsql')
            -- SQL functions that read tables (those that do not stay inlinable)
            OR (p.prolang = (SELECT l.oid FROM pg_language l WHERE l.lanname = 'sql')
                AND p.prosrc ~* '\mfrom\M'))
  LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                           AND d.objid = f AND d.deptype = 'e');
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proconfig) AS c(setting)
                           WHERE p.oid = f AND c.setting = 'citus.allow_nested_distributed_execution=on');
    EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', f);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION aiplat_internal.mark_functions_for_citus() IS
  'on a server with Citus, lets each PL/pgSQL function of the schema run inside a shard query; returns how many it marked';
INSERT INTO aiplat_internal.functions (signature, callable, purpose, note) VALUES
  ('aiplat_internal.mark_functions_for_citus()', false, 'internal',
   'run by migrate and cluster distribute as the owner');
SELECT aiplat_internal.sync_function_grants();
SELECT aiplat_internal.mark_functions_for_citus();
SELECT set_config('aiplat.audit', '', true);

-- migrate:down
-- Back to migration 0009: the counter returns to organizations, rows of no
-- organisation to the tables they came from, the keys, policies and
-- functions to their 0009 definitions (these copied from a database at
-- version 0009).
SELECT set_config('aiplat.audit', 'off', true);   -- moving rows is no change to audit

DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT policyname, tablename FROM pg_policies WHERE schemaname = 'aiplat' LOOP
    EXECUTE format('DROP POLICY %I ON aiplat.%I', p.policyname, p.tablename);
  END LOOP;
END
$$;
DROP VIEW aiplat.all_prompts, aiplat.all_flags;
DROP TRIGGER organizations_usage ON aiplat.organizations;

-- The counter
ALTER TABLE aiplat.organizations
  ADD COLUMN token_usage_current bigint NOT NULL DEFAULT 0 CHECK (token_usage_current >= 0),
  ADD COLUMN token_reset_date timestamptz NOT NULL
    DEFAULT ((date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC');
UPDATE aiplat.organizations o SET token_usage_current = u.tokens_used, token_reset_date = u.resets_at
  FROM aiplat.org_usage u WHERE u.organization_id = o.id;
COMMENT ON COLUMN aiplat.organizations.token_usage_current IS 'tokens used in the current monthly period';
COMMENT ON COLUMN aiplat.organizations.token_reset_date IS 'when the monthly counter next rolls over';
CREATE INDEX organizations_reset_idx ON aiplat.organizations (token_reset_date);
DROP TABLE aiplat.org_usage;

-- Global prompts and flags, system templates
ALTER TABLE aiplat.prompts DROP CONSTRAINT prompts_pkey, DROP CONSTRAINT prompts_organization_id_key_version_key,
  ALTER COLUMN organization_id DROP NOT NULL, ADD PRIMARY KEY (id),
  ADD CONSTRAINT prompts_organization_id_key_version_key UNIQUE NULLS NOT DISTINCT (organization_id, key, version);
INSERT INTO aiplat.prompts (organization_id, id, key, version, body, description, created_by, created_at)
SELECT NULL, id, key, version, body, description, created_by, created_at FROM aiplat.global_prompts;
DROP TABLE aiplat.global_prompts;

ALTER TABLE aiplat.feature_flags DROP CONSTRAINT feature_flags_pkey,
  DROP CONSTRAINT feature_flags_organization_id_name_key,
  ALTER COLUMN organization_id DROP NOT NULL, ADD PRIMARY KEY (id),
  ADD CONSTRAINT feature_flags_organization_id_name_key UNIQUE NULLS NOT DISTINCT (organization_id, name);
INSERT INTO aiplat.feature_flags (organization_id, id, name, enabled, value, updated_by, created_at, updated_at)
SELECT NULL, id, name, enabled, value, updated_by, created_at, updated_at FROM aiplat.global_flags;
DROP TABLE aiplat.global_flags;

ALTER TABLE aiplat.agent_templates DROP CONSTRAINT agent_templates_pkey,
  ALTER COLUMN organization_id DROP NOT NULL, ADD COLUMN is_system boolean NOT NULL DEFAULT false,
  ADD PRIMARY KEY (id), ADD CONSTRAINT agent_templates_organization_id_id_key UNIQUE (organization_id, id),
  ADD CONSTRAINT system_or_owned CHECK (is_system OR organization_id IS NOT NULL);
INSERT INTO aiplat.agent_templates (organization_id, is_system, id, name, description, category, avatar,
                                    personality_config, model_config, tools_config, memory_config, tags,
                                    features, use_cases, usage_count, rating, is_popular, is_public,
                                    created_by_id, created_at, updated_at)
SELECT NULL, true, id, name, description, category, avatar, personality_config, model_config, tools_config,
       memory_config, tags, features, use_cases, usage_count, rating, is_popular, is_public, created_by_id,
       created_at, updated_at
  FROM aiplat.system_agent_templates;
DROP TABLE aiplat.system_agent_templates;
CREATE INDEX agent_templates_system_idx ON aiplat.agent_templates (is_system) WHERE is_system;
ALTER TABLE aiplat.template_reviews DROP CONSTRAINT template_reviews_template_id_reviewer_id_key,
  ADD CONSTRAINT template_reviews_template_id_reviewer_id_key UNIQUE (template_id, reviewer_id),
  ADD CONSTRAINT template_reviews_template_id_fkey FOREIGN KEY (template_id)
    REFERENCES aiplat.agent_templates (id) ON DELETE CASCADE;
COMMENT ON COLUMN aiplat.template_reviews.template_id IS NULL;

ALTER TABLE aiplat.audit_logs DISABLE TRIGGER audit_logs_append_only;
ALTER TABLE aiplat.audit_logs DROP CONSTRAINT audit_logs_pkey,
  ALTER COLUMN organization_id DROP DEFAULT, ALTER COLUMN organization_id DROP NOT NULL;
UPDATE aiplat.audit_logs SET organization_id = NULL WHERE organization_id = '00000000-0000-0000-0000-000000000000';
ALTER TABLE aiplat.audit_logs ENABLE TRIGGER audit_logs_append_only;
ALTER TABLE aiplat.audit_logs ADD PRIMARY KEY (id);
COMMENT ON COLUMN aiplat.audit_logs.organization_id IS NULL;

-- Keys
ALTER TABLE aiplat.api_keys DROP CONSTRAINT api_keys_key_hash_key,
  ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);
COMMENT ON COLUMN aiplat.api_keys.key_hash IS NULL;
ALTER TABLE aiplat.project_databases DROP CONSTRAINT project_databases_schema_name_key,
  ADD CONSTRAINT project_databases_schema_name_key UNIQUE (schema_name);
COMMENT ON COLUMN aiplat.project_databases.schema_name IS 'aiplat_p_<id without dashes>, derived from the id';
UPDATE aiplat.workflow_step_runs r SET step_id = NULL
 WHERE step_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM aiplat.workflow_steps s WHERE s.organization_id = r.organization_id AND s.id = r.step_id);
ALTER TABLE aiplat.workflow_step_runs ADD CONSTRAINT workflow_step_runs_organization_id_step_id_fkey
  FOREIGN KEY (organization_id, step_id) REFERENCES aiplat.workflow_steps (organization_id, id)
  ON DELETE SET NULL (step_id);

DROP TABLE aiplat_internal.table_classes;
DELETE FROM aiplat_internal.audit_actions
 WHERE (action, table_name) IN (('prompt.set_global', 'global_prompts'), ('flag.set_global', 'global_flags'));

-- The functions of 0009
CREATE OR REPLACE FUNCTION aiplat_internal.setting_uuid(setting_name text)
 RETURNS uuid
 LANGUAGE sql
 STABLE
AS $function$
  SELECT CASE WHEN s ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN s::uuid END
    FROM (SELECT current_setting(setting_name, true) AS s) AS setting
$function$;
CREATE OR REPLACE FUNCTION aiplat.current_org_id()
 RETURNS uuid
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
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
$function$;
COMMENT ON FUNCTION aiplat.current_org_id() IS 'the organisation this transaction works in (validated against membership), or NULL';
CREATE OR REPLACE FUNCTION aiplat.current_user_id()
 RETURNS uuid
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
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
$function$;
COMMENT ON FUNCTION aiplat.current_user_id() IS 'the person this transaction acts for, or NULL';
CREATE OR REPLACE FUNCTION aiplat.effective_prompt(org uuid, p_key text, OUT body text, OUT version integer, OUT scope text)
 RETURNS record
 LANGUAGE sql
 STABLE
AS $function$
  SELECT p.body, p.version, CASE WHEN p.organization_id IS NULL THEN 'global' ELSE 'tenant' END
    FROM aiplat.prompts p
   WHERE p.key = p_key AND (p.organization_id = org OR p.organization_id IS NULL)
   ORDER BY p.organization_id NULLS LAST, p.version DESC
   LIMIT 1
$function$;
CREATE OR REPLACE FUNCTION aiplat.is_platform()
 RETURNS boolean
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
BEGIN
  RETURN aiplat.current_user_id() IS NULL AND aiplat_internal.session_is_owner();
END
$function$;
COMMENT ON FUNCTION aiplat.is_platform() IS 'true on the schema owner''s connection acting for nobody: the platform, above the rules';
CREATE OR REPLACE FUNCTION aiplat.quota_admit(p_org text, p_user text, p_model text, p_tokens bigint, p_mode text DEFAULT 'check'::text, p_event_id uuid DEFAULT NULL::uuid, p_tokens_in bigint DEFAULT NULL::bigint, p_tokens_out bigint DEFAULT NULL::bigint, p_latency_ms integer DEFAULT NULL::integer, p_request_id text DEFAULT NULL::text, p_ttl interval DEFAULT NULL::interval, p_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_force boolean DEFAULT false)
 RETURNS aiplat.quota_decision
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
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
$function$;
COMMENT ON FUNCTION aiplat.quota_admit(text,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,timestamp with time zone,boolean) IS 'decide (and with consume/reserve/record, record) in one atomic step; see the migration for the order';
CREATE OR REPLACE FUNCTION aiplat.quota_finish(p_reservation uuid, p_settle boolean, p_tokens_in bigint DEFAULT NULL::bigint, p_tokens_out bigint DEFAULT 0, p_latency_ms integer DEFAULT NULL::integer, p_request_id text DEFAULT NULL::text, p_source text DEFAULT 'settle'::text)
 RETURNS aiplat.quota_decision
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
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
$function$;
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
$function$;
COMMENT ON FUNCTION aiplat.resolve_identity(text,text) IS 'who a command acts as: --as EMAIL and --org SLUG checked against login-role mapping and membership';
CREATE OR REPLACE FUNCTION aiplat_internal.apply_tenant_policies(tbl regclass, p_resource text, read_action text DEFAULT 'read'::text, write_action text DEFAULT 'write'::text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
  can_read text := format(
    '(SELECT aiplat.is_superadmin()) OR (organization_id = (SELECT aiplat.current_org_id()) '
    'AND (SELECT aiplat.has_current_permission(%L, %L)))', p_resource, read_action);
  can_write text := format(
    '(SELECT aiplat.is_superadmin()) OR (organization_id = (SELECT aiplat.current_org_id()) '
    'AND (SELECT aiplat.has_current_permission(%L, %L)))', p_resource, write_action);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_select ON %s FOR SELECT TO aiplat_app USING (%s)', tbl, can_read);
  EXECUTE format('CREATE POLICY tenant_insert ON %s FOR INSERT TO aiplat_app WITH CHECK (%s)', tbl, can_write);
  EXECUTE format('CREATE POLICY tenant_update ON %s FOR UPDATE TO aiplat_app USING (%s) WITH CHECK (%s)',
                 tbl, can_write, can_write);
  EXECUTE format('CREATE POLICY tenant_delete ON %s FOR DELETE TO aiplat_app USING (%s)', tbl, can_write);
END
$function$;
COMMENT ON FUNCTION aiplat_internal.apply_tenant_policies(regclass,text,text,text) IS 'migration helper: enables RLS and creates the four standard tenant policies';
CREATE OR REPLACE FUNCTION aiplat_internal.apply_usage_deltas()
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
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.apply_usage_read_policy(tbl regclass, per_person boolean)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('GRANT SELECT ON %s TO aiplat_app', tbl);
  EXECUTE format(
    'CREATE POLICY usage_read ON %s FOR SELECT TO aiplat_app USING ('
    '  (SELECT aiplat.is_superadmin())'
    '  OR (organization_id = (SELECT aiplat.current_org_id())'
    '      AND (%s (SELECT aiplat.has_current_permission(''usage'', ''read_all'')))))',
    tbl,
    CASE WHEN per_person THEN '(user_id = (SELECT aiplat.current_user_id())'
                              ' AND (SELECT aiplat.has_current_permission(''usage'', ''read''))) OR'
         ELSE '' END);
END
$function$;
COMMENT ON FUNCTION aiplat_internal.apply_usage_read_policy(regclass,boolean) IS 'migration helper: RLS for a usage table (own rows with usage:read, all with usage:read_all)';
CREATE OR REPLACE FUNCTION aiplat_internal.audit(p_action text, p_resource_type text, p_resource_id text, p_old jsonb, p_new jsonb, p_org uuid DEFAULT NULL::uuid, p_org_slug text DEFAULT NULL::text)
 RETURNS bigint
 LANGUAGE sql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
  INSERT INTO aiplat.audit_logs (organization_id, org_slug, actor_user_id, actor_email,
                                 acting_as_user_id, acting_as_email, action, resource_type,
                                 resource_id, old_values, new_values)
  SELECT org.id, coalesce(p_org_slug, (SELECT slug FROM aiplat.organizations WHERE id = org.id)),
         actor.id, actor.email, acting.id, acting.email, p_action, p_resource_type,
         p_resource_id, p_old, p_new
    FROM (SELECT coalesce(p_org, aiplat.current_org_id()) AS id) AS org
    LEFT JOIN aiplat.users actor ON actor.login_role = session_user::text
    LEFT JOIN aiplat.users acting ON acting.id = aiplat.current_user_id()
  RETURNING id
$function$;
COMMENT ON FUNCTION aiplat_internal.audit(text,text,text,jsonb,jsonb,uuid,text) IS 'the one way to write audit rows; fills in actor and acting-as from the session';
CREATE OR REPLACE FUNCTION aiplat_internal.audit_row_change()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
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
$function$;
COMMENT ON FUNCTION aiplat_internal.audit_row_change() IS 'AFTER ROW trigger: audits a change (args: key columns, then secret columns to leave out)';
CREATE OR REPLACE FUNCTION aiplat_internal.delete_org_rollups()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
BEGIN
  DELETE FROM aiplat.usage_daily d USING deleted_orgs o WHERE d.organization_id = o.id;
  DELETE FROM aiplat.usage_daily_models d USING deleted_orgs o WHERE d.organization_id = o.id;
  RETURN NULL;
END
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.flag_of(org uuid, flag text, OUT enabled boolean, OUT value jsonb)
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
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.lock_org(org uuid, now_ timestamp with time zone)
 RETURNS aiplat.organizations
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
DECLARE
  o aiplat.organizations;
BEGIN
  SELECT * INTO o FROM aiplat.organizations WHERE id = org FOR UPDATE;
  IF now_ >= o.token_reset_date THEN
    UPDATE aiplat.organizations
       SET token_usage_current = 0,
           token_reset_date = aiplat.period_end('monthly', time_zone, now_)
     WHERE id = org
    RETURNING * INTO o;
  END IF;
  RETURN o;
END
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.project_database_schema()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF TG_WHEN = 'BEFORE' THEN
      NEW.schema_name := 'aiplat_p_' || replace(NEW.id::text, '-', '');
      RETURN NEW;
    END IF;
    EXECUTE format('CREATE SCHEMA %I', NEW.schema_name);
    EXECUTE format('COMMENT ON SCHEMA %I IS %L', NEW.schema_name,
                   'aiplat project database ' || NEW.id::text);
    RETURN NEW;
  ELSE
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', OLD.schema_name);
    RETURN OLD;
  END IF;
END
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.quota_housekeeping(OUT rolled_over bigint, OUT reservations_expired bigint, OUT counters_pruned bigint, OUT event_ids_pruned bigint, OUT partitions_dropped bigint, OUT partitions_created bigint)
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
    IF aiplat_internal.ensure_usage_partition(((now_ AT TIME ZONE 'UTC')::date + make_interval(months => i))::date) THEN
      partitions_created := partitions_created + 1;
    END IF;
  END LOOP;
END
$function$;
COMMENT ON FUNCTION aiplat_internal.quota_housekeeping() IS 'rolls over monthly counters, expires reservations, prunes past retention, creates partitions';
CREATE OR REPLACE FUNCTION aiplat_internal.quota_refs(p_org text, p_user text, p_model text, OUT org_id uuid, OUT user_id uuid, OUT model_id bigint)
 RETURNS record
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'aiplat'
AS $function$
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
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.record_usage(o aiplat.organizations, m aiplat.ai_models_system, usr uuid, at timestamp with time zone, ev uuid, tin bigint, tout bigint, latency integer, request text, src text, reservation uuid)
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
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.session_is_owner()
 RETURNS boolean
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog'
AS $function$
BEGIN
  RETURN (SELECT pg_has_role(session_user, n.nspowner, 'MEMBER')
            FROM pg_namespace n WHERE n.nspname = 'aiplat');
END
$function$;
CREATE OR REPLACE FUNCTION aiplat_internal.set_reset_date()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.time_zone IS DISTINCT FROM OLD.time_zone THEN
    NEW.token_reset_date := aiplat.period_end('monthly', NEW.time_zone, aiplat.clock());
  END IF;
  RETURN NEW;
END
$function$;

-- The functions 0010 added, and what only they used
DROP FUNCTION aiplat.in_current_org(uuid);
DROP FUNCTION aiplat.model_row(bigint);
DROP FUNCTION aiplat.org_row(uuid);
DROP FUNCTION aiplat.quota_admit(uuid,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,timestamp with time zone,boolean);
DROP FUNCTION aiplat.role_row(uuid,boolean);
DROP FUNCTION aiplat.tenant_row(uuid,text,text);
DROP FUNCTION aiplat.usage_row(uuid,uuid);
DROP FUNCTION aiplat.user_row(uuid);
DROP FUNCTION aiplat_internal.is_redundant_copy(name);
DROP FUNCTION aiplat_internal.logical_table(name);
DROP FUNCTION aiplat_internal.mark_functions_for_citus();
DROP FUNCTION aiplat_internal.org_state_of(uuid,timestamp with time zone,boolean);
DROP FUNCTION aiplat_internal.org_usage_follow();
DROP FUNCTION aiplat_internal.quota_refs(uuid,text,text);
DROP FUNCTION aiplat_internal.record_usage(aiplat_internal.org_state,aiplat_internal.model_terms,uuid,timestamp with time zone,uuid,bigint,bigint,integer,text,text,uuid,timestamp with time zone);
DROP FUNCTION aiplat_internal.session_is_platform();
DROP TYPE aiplat_internal.org_state;
DROP TYPE aiplat_internal.model_terms;
ALTER TYPE aiplat.quota_decision DROP ATTRIBUTE organization, DROP ATTRIBUTE user_email, DROP ATTRIBUTE model_name;

CREATE TRIGGER organizations_reset_date BEFORE INSERT OR UPDATE OF time_zone ON aiplat.organizations
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.set_reset_date();
CREATE TRIGGER project_databases_create_schema AFTER INSERT ON aiplat.project_databases
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.project_database_schema();
CREATE TRIGGER project_databases_drop_schema AFTER DELETE ON aiplat.project_databases
  FOR EACH ROW EXECUTE FUNCTION aiplat_internal.project_database_schema();

DELETE FROM aiplat_internal.functions WHERE signature IN (
  'aiplat.quota_admit(uuid,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,timestamp with time zone,boolean)',
  'aiplat.in_current_org(uuid)', 'aiplat.tenant_row(uuid,text,text)', 'aiplat.usage_row(uuid,uuid)',
  'aiplat.user_row(uuid)', 'aiplat.org_row(uuid)', 'aiplat.role_row(uuid,boolean)', 'aiplat.model_row(bigint)',
  'aiplat_internal.quota_refs(uuid,text,text)',
  'aiplat_internal.record_usage(aiplat_internal.org_state,aiplat_internal.model_terms,uuid,timestamp with time zone,uuid,bigint,bigint,integer,text,text,uuid,timestamp with time zone)',
  'aiplat_internal.org_state_of(uuid,timestamp with time zone,boolean)', 'aiplat_internal.org_usage_follow()',
  'aiplat_internal.mark_functions_for_citus()');
INSERT INTO aiplat_internal.functions (signature, callable, purpose, note) VALUES
  ('aiplat.quota_admit(text,text,text,bigint,text,uuid,bigint,bigint,integer,text,interval,timestamp with time zone,boolean)',
   true, 'quota', 'the admission step, for one''s own organisations and people'),
  ('aiplat_internal.quota_refs(text,text,text)', false, 'internal',
   'resolves names the caller may see, reading tables it may not'),
  ('aiplat_internal.record_usage(aiplat.organizations,aiplat.ai_models_system,uuid,timestamp with time zone,uuid,bigint,bigint,integer,text,text,uuid)',
   false, 'internal', 'writes events, counters and rollups'),
  ('aiplat_internal.lock_org(uuid,timestamp with time zone)', false, 'internal',
   'locks and rolls over an organisation''s monthly counter');

-- The policies of 0009
CREATE POLICY shared_select ON aiplat.agent_templates AS PERMISSIVE FOR SELECT TO aiplat_app USING ((is_public OR is_system));
CREATE POLICY tenant_delete ON aiplat.agent_templates AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.agent_templates AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.agent_templates AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.agent_templates AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY usage_read ON aiplat.ai_model_usage AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND (((user_id = ( SELECT aiplat.current_user_id() AS current_user_id)) AND ( SELECT aiplat.has_current_permission('usage'::text, 'read'::text) AS has_current_permission)) OR ( SELECT aiplat.has_current_permission('usage'::text, 'read_all'::text) AS has_current_permission)))));
CREATE POLICY models_select ON aiplat.ai_models_system AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((aiplat.model_availability(id, ( SELECT aiplat.current_org_id() AS current_org_id)) = 'available'::text) AND (( SELECT aiplat.has_current_permission('models'::text, 'manage'::text) AS has_current_permission) OR (EXISTS ( SELECT 1
   FROM aiplat.org_system_model_config c
  WHERE ((c.organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND (c.system_model_id = ai_models_system.id) AND c.is_enabled_for_users)))))));
CREATE POLICY models_write ON aiplat.ai_models_system AS PERMISSIVE FOR ALL TO aiplat_app USING (( SELECT aiplat.is_superadmin() AS is_superadmin)) WITH CHECK (( SELECT aiplat.is_superadmin() AS is_superadmin));
CREATE POLICY tenant_delete ON aiplat.api_keys AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('api_keys'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.api_keys AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('api_keys'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.api_keys AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('api_keys'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.api_keys AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('api_keys'::text, 'manage'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('api_keys'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY audit_select ON aiplat.audit_logs AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('audit'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.build_logs AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.build_logs AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.build_logs AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.build_logs AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.custom_agent_orders AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.custom_agent_orders AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.custom_agent_orders AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.custom_agent_orders AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY flags_select ON aiplat.feature_flags AS PERMISSIVE FOR SELECT TO aiplat_app USING (((organization_id IS NULL) OR ( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('flags'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY flags_write ON aiplat.feature_flags AS PERMISSIVE FOR ALL TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('flags'::text, 'manage'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('flags'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.order_milestones AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.order_milestones AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.order_milestones AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.order_milestones AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.org_system_model_config AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('models'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.org_system_model_config AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('models'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.org_system_model_config AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('models'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.org_system_model_config AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('models'::text, 'manage'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('models'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY members_delete ON aiplat.organization_members AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('members'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY members_insert ON aiplat.organization_members AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('members'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY members_select ON aiplat.organization_members AS PERMISSIVE FOR SELECT TO aiplat_app USING (((user_id = ( SELECT aiplat.current_user_id() AS current_user_id)) OR ( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('members'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY members_update ON aiplat.organization_members AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('members'::text, 'manage'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('members'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY organizations_delete ON aiplat.organizations AS PERMISSIVE FOR DELETE TO aiplat_app USING (( SELECT aiplat.is_superadmin() AS is_superadmin));
CREATE POLICY organizations_insert ON aiplat.organizations AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK (( SELECT aiplat.is_superadmin() AS is_superadmin));
CREATE POLICY organizations_select ON aiplat.organizations AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR aiplat.is_member(id)));
CREATE POLICY organizations_update ON aiplat.organizations AS PERMISSIVE FOR UPDATE TO aiplat_app USING (aiplat.has_permission(id, 'organization'::text, 'manage'::text)) WITH CHECK (aiplat.has_permission(id, 'organization'::text, 'manage'::text));
CREATE POLICY tenant_delete ON aiplat.project_databases AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.project_databases AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.project_databases AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.project_databases AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY shared_select ON aiplat.project_showcases AS PERMISSIVE FOR SELECT TO aiplat_app USING (is_public);
CREATE POLICY tenant_delete ON aiplat.project_showcases AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.project_showcases AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.project_showcases AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.project_showcases AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.project_tables AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.project_tables AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.project_tables AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.project_tables AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.projects AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.projects AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.projects AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.projects AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('projects'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY prompts_select ON aiplat.prompts AS PERMISSIVE FOR SELECT TO aiplat_app USING (((organization_id IS NULL) OR ( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('prompts'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY prompts_write ON aiplat.prompts AS PERMISSIVE FOR ALL TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('prompts'::text, 'manage'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('prompts'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY usage_read ON aiplat.quota_reservations AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND (((user_id = ( SELECT aiplat.current_user_id() AS current_user_id)) AND ( SELECT aiplat.has_current_permission('usage'::text, 'read'::text) AS has_current_permission)) OR ( SELECT aiplat.has_current_permission('usage'::text, 'read_all'::text) AS has_current_permission)))));
CREATE POLICY usage_read ON aiplat.request_counters AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND (((user_id = ( SELECT aiplat.current_user_id() AS current_user_id)) AND ( SELECT aiplat.has_current_permission('usage'::text, 'read'::text) AS has_current_permission)) OR ( SELECT aiplat.has_current_permission('usage'::text, 'read_all'::text) AS has_current_permission)))));
CREATE POLICY role_permissions_delete ON aiplat.role_permissions AS PERMISSIVE FOR DELETE TO aiplat_app USING ((EXISTS ( SELECT 1
   FROM aiplat.roles r
  WHERE ((r.id = role_permissions.role_id) AND (( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((r.organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('roles'::text, 'manage'::text) AS has_current_permission)))))));
CREATE POLICY role_permissions_insert ON aiplat.role_permissions AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((EXISTS ( SELECT 1
   FROM aiplat.roles r
  WHERE ((r.id = role_permissions.role_id) AND (( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((r.organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('roles'::text, 'manage'::text) AS has_current_permission)))))));
CREATE POLICY role_permissions_select ON aiplat.role_permissions AS PERMISSIVE FOR SELECT TO aiplat_app USING ((EXISTS ( SELECT 1
   FROM aiplat.roles r
  WHERE (r.id = role_permissions.role_id))));
CREATE POLICY roles_select ON aiplat.roles AS PERMISSIVE FOR SELECT TO aiplat_app USING (((organization_id IS NULL) OR ( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('roles'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY roles_write ON aiplat.roles AS PERMISSIVE FOR ALL TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('roles'::text, 'manage'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('roles'::text, 'manage'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.template_reviews AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.template_reviews AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.template_reviews AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.template_reviews AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.tool_blueprints AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.tool_blueprints AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.tool_blueprints AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.tool_blueprints AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('garage'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY usage_read ON aiplat.usage_daily AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND (((user_id = ( SELECT aiplat.current_user_id() AS current_user_id)) AND ( SELECT aiplat.has_current_permission('usage'::text, 'read'::text) AS has_current_permission)) OR ( SELECT aiplat.has_current_permission('usage'::text, 'read_all'::text) AS has_current_permission)))));
CREATE POLICY usage_read ON aiplat.usage_daily_models AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('usage'::text, 'read_all'::text) AS has_current_permission))));
CREATE POLICY usage_read ON aiplat.usage_event_ids AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('usage'::text, 'read_all'::text) AS has_current_permission))));
CREATE POLICY usage_read ON aiplat.usage_events AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND (((user_id = ( SELECT aiplat.current_user_id() AS current_user_id)) AND ( SELECT aiplat.has_current_permission('usage'::text, 'read'::text) AS has_current_permission)) OR ( SELECT aiplat.has_current_permission('usage'::text, 'read_all'::text) AS has_current_permission)))));
CREATE POLICY users_insert ON aiplat.users AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK (( SELECT aiplat.is_superadmin() AS is_superadmin));
CREATE POLICY users_select ON aiplat.users AS PERMISSIVE FOR SELECT TO aiplat_app USING (((id = ( SELECT aiplat.current_user_id() AS current_user_id)) OR ( SELECT aiplat.is_superadmin() AS is_superadmin) OR (aiplat.is_member(( SELECT aiplat.current_org_id() AS current_org_id)) AND (EXISTS ( SELECT 1
   FROM aiplat.organization_members m
  WHERE ((m.user_id = users.id) AND (m.organization_id = ( SELECT aiplat.current_org_id() AS current_org_id))))))));
CREATE POLICY users_update_self ON aiplat.users AS PERMISSIVE FOR UPDATE TO aiplat_app USING (((id = ( SELECT aiplat.current_user_id() AS current_user_id)) OR ( SELECT aiplat.is_superadmin() AS is_superadmin))) WITH CHECK (((id = ( SELECT aiplat.current_user_id() AS current_user_id)) OR ( SELECT aiplat.is_superadmin() AS is_superadmin)));
CREATE POLICY tenant_delete ON aiplat.webhook_deliveries AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.webhook_deliveries AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.webhook_deliveries AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.webhook_deliveries AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.webhook_subscriptions AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.webhook_subscriptions AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.webhook_subscriptions AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.webhook_subscriptions AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('webhooks'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.workflow_runs AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.workflow_runs AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.workflow_runs AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.workflow_runs AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.workflow_step_runs AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.workflow_step_runs AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.workflow_step_runs AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.workflow_step_runs AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'run'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.workflow_steps AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.workflow_steps AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.workflow_steps AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.workflow_steps AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_delete ON aiplat.workflows AS PERMISSIVE FOR DELETE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_insert ON aiplat.workflows AS PERMISSIVE FOR INSERT TO aiplat_app WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission))));
CREATE POLICY tenant_select ON aiplat.workflows AS PERMISSIVE FOR SELECT TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'read'::text) AS has_current_permission))));
CREATE POLICY tenant_update ON aiplat.workflows AS PERMISSIVE FOR UPDATE TO aiplat_app USING ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission)))) WITH CHECK ((( SELECT aiplat.is_superadmin() AS is_superadmin) OR ((organization_id = ( SELECT aiplat.current_org_id() AS current_org_id)) AND ( SELECT aiplat.has_current_permission('workflows'::text, 'write'::text) AS has_current_permission))));

SELECT aiplat_internal.sync_function_grants();
SELECT set_config('aiplat.audit', '', true);
