-- Tenancy and access control (seeds 001 and 003): the aiplat schema, the
-- non-owner role persons act through, identity helpers read by every
-- row-level security policy, users, organisations, members, roles and
-- permissions, and the append-only audit log.
--
-- Identity (DESIGN.md section 4): the library runs `SET LOCAL ROLE aiplat_app`
-- plus transaction-local settings aiplat.user_id / aiplat.org_id. A missing
-- or malformed setting means "nobody", so policies show no rows rather than
-- failing or showing everything.

-- migrate:up
CREATE SCHEMA aiplat;
COMMENT ON SCHEMA aiplat IS 'aiplat: multi-tenant AI platform state';

CREATE EXTENSION IF NOT EXISTS pgcrypto;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiplat_app') THEN
    CREATE ROLE aiplat_app NOLOGIN;
  END IF;
END
$$;
COMMENT ON ROLE aiplat_app IS
  'non-owner role that people act through; row-level security applies to it';
-- The owner switches to aiplat_app inside transactions (SET LOCAL ROLE).
GRANT aiplat_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA aiplat TO aiplat_app;

-- ---------------------------------------------------------------------------
-- Small helpers
-- ---------------------------------------------------------------------------

CREATE FUNCTION aiplat.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION aiplat.touch_updated_at() IS 'BEFORE UPDATE trigger keeping updated_at current';

CREATE FUNCTION aiplat.is_valid_time_zone(tz text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM now() AT TIME ZONE tz;
  RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN false;
END
$$;
COMMENT ON FUNCTION aiplat.is_valid_time_zone(text) IS 'true when PostgreSQL knows the time zone name';

-- A uuid from a custom setting, or NULL when unset, empty or malformed.
CREATE FUNCTION aiplat.setting_uuid(setting_name text) RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN s ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN s::uuid END
    FROM (SELECT current_setting(setting_name, true) AS s) AS setting
$$;

-- ---------------------------------------------------------------------------
-- Reference data (filled by `aiplat seed`)
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.plans (
  code                 text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
  level                integer NOT NULL UNIQUE CHECK (level >= 0),
  name                 text NOT NULL,
  monthly_token_quota  bigint CHECK (monthly_token_quota > 0),
  daily_request_limit  integer CHECK (daily_request_limit > 0),
  created_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiplat.plans IS
  'pricing plans; a model requiring plan P is available to organisations whose plan level >= P''s level';
COMMENT ON COLUMN aiplat.plans.monthly_token_quota IS
  'default organisation quota when organizations.token_quota_monthly is NULL; NULL = unlimited';
COMMENT ON COLUMN aiplat.plans.daily_request_limit IS 'default per-user AI requests per day; NULL = unlimited';

CREATE TABLE aiplat.organization_types (
  code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE aiplat.organization_types IS
  'kinds of organisation (solicitor, marketing, ...) that system models target';

CREATE TABLE aiplat.permissions (
  resource     text NOT NULL CHECK (resource ~ '^[a-z][a-z_]{0,31}$'),
  action       text NOT NULL CHECK (action ~ '^[a-z][a-z_]{0,31}$'),
  description  text NOT NULL,
  PRIMARY KEY (resource, action)
);
COMMENT ON TABLE aiplat.permissions IS 'what a role may do: an action on a resource (seed 003, 3.2.6)';

-- ---------------------------------------------------------------------------
-- People and organisations
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 254),
  display_name   text,
  is_superadmin  boolean NOT NULL DEFAULT false,
  login_role     text UNIQUE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON aiplat.users (lower(email));
CREATE TRIGGER users_touch BEFORE UPDATE ON aiplat.users
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.users IS 'people; one user may belong to several organisations';
COMMENT ON COLUMN aiplat.users.is_superadmin IS 'platform operator: manages the model catalogue, sees every tenant';
COMMENT ON COLUMN aiplat.users.login_role IS
  'PostgreSQL login role that is this user: a connection as that role acts as this user';

CREATE TABLE aiplat.organizations (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug                 text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  type                 text NOT NULL DEFAULT 'general'
                         REFERENCES aiplat.organization_types (code) ON UPDATE CASCADE,
  pricing_plan         text NOT NULL DEFAULT 'free'
                         REFERENCES aiplat.plans (code) ON UPDATE CASCADE,
  token_quota_monthly  bigint CHECK (token_quota_monthly > 0),
  token_usage_current  bigint NOT NULL DEFAULT 0 CHECK (token_usage_current >= 0),
  token_reset_date     timestamptz NOT NULL
                         DEFAULT ((date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')
                                  AT TIME ZONE 'UTC'),
  time_zone            text NOT NULL DEFAULT 'UTC' CHECK (aiplat.is_valid_time_zone(time_zone)),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organizations_type_idx ON aiplat.organizations (type);
CREATE INDEX organizations_plan_idx ON aiplat.organizations (pricing_plan);
CREATE INDEX organizations_reset_idx ON aiplat.organizations (token_reset_date);
-- Not on the usage counter and reset date, which every consume moves.
CREATE TRIGGER organizations_touch
  BEFORE UPDATE OF slug, name, type, pricing_plan, token_quota_monthly, time_zone ON aiplat.organizations
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.organizations IS 'tenants (seed 001 organisations, seed 003 tenants)';
COMMENT ON COLUMN aiplat.organizations.token_quota_monthly IS 'monthly token quota; NULL = the plan''s default';
COMMENT ON COLUMN aiplat.organizations.token_usage_current IS 'tokens used in the current monthly period';
COMMENT ON COLUMN aiplat.organizations.token_reset_date IS 'when the monthly counter next rolls over';
COMMENT ON COLUMN aiplat.organizations.time_zone IS 'periods (day, week, month) start at midnight here';

CREATE TABLE aiplat.roles (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  name             text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  description      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (organization_id, name)
);
COMMENT ON TABLE aiplat.roles IS
  'organisation roles: system roles (organization_id NULL: admin, user, viewer) and custom roles of one organisation';

CREATE TABLE aiplat.role_permissions (
  role_id   uuid NOT NULL REFERENCES aiplat.roles (id) ON DELETE CASCADE,
  resource  text NOT NULL,
  action    text NOT NULL,
  PRIMARY KEY (role_id, resource, action),
  FOREIGN KEY (resource, action) REFERENCES aiplat.permissions (resource, action)
    ON UPDATE CASCADE ON DELETE CASCADE
);
COMMENT ON TABLE aiplat.role_permissions IS 'which permissions each role grants';

CREATE TABLE aiplat.organization_members (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  user_id          uuid NOT NULL REFERENCES aiplat.users (id) ON DELETE CASCADE,
  role_id          uuid NOT NULL REFERENCES aiplat.roles (id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_idx ON aiplat.organization_members (user_id);
CREATE INDEX organization_members_role_idx ON aiplat.organization_members (role_id);
CREATE TRIGGER organization_members_touch BEFORE UPDATE ON aiplat.organization_members
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.organization_members IS 'who belongs to which organisation, with which role';

-- A member's role must be a system role or a custom role of the same organisation.
CREATE FUNCTION aiplat.check_member_role() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM aiplat.roles r
                  WHERE r.id = NEW.role_id
                    AND (r.organization_id IS NULL OR r.organization_id = NEW.organization_id)) THEN
    RAISE EXCEPTION 'role % does not belong to organisation %', NEW.role_id, NEW.organization_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER organization_members_role_check BEFORE INSERT OR UPDATE OF role_id, organization_id
  ON aiplat.organization_members FOR EACH ROW EXECUTE FUNCTION aiplat.check_member_role();

-- ---------------------------------------------------------------------------
-- Identity helpers (SECURITY DEFINER: they read tables the caller cannot)
-- ---------------------------------------------------------------------------

-- The user the current connection acts as. A login role mapped to a user is
-- that user and cannot claim to be anyone else unless it is a superadmin;
-- otherwise (the platform's own connection) the transaction-local setting
-- aiplat.user_id says who.
CREATE FUNCTION aiplat.current_user_id() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
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
$$;
COMMENT ON FUNCTION aiplat.current_user_id() IS 'the person this transaction acts for, or NULL';

CREATE FUNCTION aiplat.current_org_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT aiplat.setting_uuid('aiplat.org_id')
$$;
COMMENT ON FUNCTION aiplat.current_org_id() IS 'the organisation this transaction works in, or NULL';

CREATE FUNCTION aiplat.is_superadmin() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  -- PL/pgSQL rather than SQL: its plans are cached for the session.
  RETURN (
    SELECT coalesce((SELECT u.is_superadmin FROM aiplat.users u
                      WHERE u.id = aiplat.current_user_id()), false));
END
$$;

CREATE FUNCTION aiplat.is_member(org uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
  SELECT EXISTS (SELECT 1 FROM aiplat.organization_members m
                  WHERE m.organization_id = org AND m.user_id = aiplat.current_user_id())
$$;

-- The permission check every policy uses: may the current person do
-- `action` on `resource` in organisation `org`? Superadmins may do anything.
CREATE FUNCTION aiplat.has_permission(org uuid, p_resource text, p_action text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
BEGIN
  -- PL/pgSQL rather than SQL: its plans are cached for the session.
  RETURN (
    SELECT aiplat.is_superadmin() OR EXISTS (
      SELECT 1
        FROM aiplat.organization_members m
        JOIN aiplat.role_permissions rp ON rp.role_id = m.role_id
       WHERE m.organization_id = org
         AND m.user_id = aiplat.current_user_id()
         AND rp.resource = p_resource
         AND rp.action = p_action));
END
$$;
COMMENT ON FUNCTION aiplat.has_permission(uuid, text, text) IS
  'true when the current person may do action on resource in org (seed 003 can())';

CREATE FUNCTION aiplat.has_current_permission(p_resource text, p_action text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT aiplat.has_permission(aiplat.current_org_id(), p_resource, p_action)
$$;
COMMENT ON FUNCTION aiplat.has_current_permission(text, text) IS
  'has_permission in the current organisation; policies call it as (SELECT ...) so it runs once per statement';

-- Resolves --as EMAIL / --org SLUG for the command-line front end, with the
-- impersonation rule: a mapped login role may act as someone else only when
-- its user is a superadmin.
CREATE FUNCTION aiplat.resolve_identity(p_as_email text, p_org_slug text)
RETURNS TABLE (user_id uuid, email text, is_superadmin boolean, via_login_role boolean,
               org_id uuid, org_slug text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
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
$$;
COMMENT ON FUNCTION aiplat.resolve_identity(text, text) IS
  'who a command acts as: --as EMAIL and --org SLUG checked against login-role mapping and membership';

REVOKE ALL ON FUNCTION aiplat.current_user_id(), aiplat.is_superadmin(), aiplat.is_member(uuid),
  aiplat.has_permission(uuid, text, text), aiplat.resolve_identity(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aiplat.current_user_id(), aiplat.is_superadmin(), aiplat.is_member(uuid),
  aiplat.has_permission(uuid, text, text), aiplat.resolve_identity(text, text) TO aiplat_app;

-- Standard policies for a table keyed by organization_id: read needs
-- (resource, read), writes need (resource, write), both in the current
-- organisation; superadmins see and change everything. Later migrations
-- call this for each tenant-owned table.
CREATE FUNCTION aiplat.apply_tenant_policies(tbl regclass, p_resource text,
                                             read_action text DEFAULT 'read',
                                             write_action text DEFAULT 'write')
RETURNS void LANGUAGE plpgsql AS $$
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
$$;
COMMENT ON FUNCTION aiplat.apply_tenant_policies(regclass, text, text, text) IS
  'migration helper: enables RLS and creates the four standard tenant policies';

-- Rows that must never change once written (audit, usage events). Deleting
-- is allowed only for housekeeping run by the platform itself with
-- aiplat.allow_prune = on (retention); nobody acting as a person can.
CREATE FUNCTION aiplat.forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
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
$$;
COMMENT ON FUNCTION aiplat.forbid_change() IS 'keeps append-only tables append-only';

-- ---------------------------------------------------------------------------
-- Audit log (seed 003 1.1.6, 3.2.9)
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.audit_logs (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organization_id    uuid,
  org_slug           text,
  actor_user_id      uuid,
  actor_email        text,
  acting_as_user_id  uuid,
  acting_as_email    text,
  db_role            text NOT NULL DEFAULT session_user,
  application_name   text DEFAULT current_setting('application_name', true),
  action             text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  resource_type      text NOT NULL,
  resource_id        text,
  old_values         jsonb,
  new_values         jsonb,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_org_time_idx ON aiplat.audit_logs (organization_id, created_at);
CREATE INDEX audit_logs_actor_time_idx ON aiplat.audit_logs (actor_user_id, created_at);
CREATE INDEX audit_logs_action_idx ON aiplat.audit_logs (action, created_at);
COMMENT ON TABLE aiplat.audit_logs IS
  'append-only record of every mutation: who (actor), for whom (acting as), what, before and after; '
  'no foreign keys so rows outlive the people and organisations they mention';
COMMENT ON COLUMN aiplat.audit_logs.actor_user_id IS 'the authenticated person; NULL for the platform itself';
COMMENT ON COLUMN aiplat.audit_logs.acting_as_user_id IS 'the person the actor acted as (impersonation)';
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON aiplat.audit_logs
  FOR EACH ROW EXECUTE FUNCTION aiplat.forbid_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON aiplat.audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION aiplat.forbid_change();

-- ---------------------------------------------------------------------------
-- Privileges and policies
-- ---------------------------------------------------------------------------

GRANT SELECT ON aiplat.plans, aiplat.organization_types, aiplat.permissions TO aiplat_app;

-- users: yourself, the members of your current organisation; superadmins all.
ALTER TABLE aiplat.users ENABLE ROW LEVEL SECURITY;
GRANT SELECT (id, email, display_name, is_superadmin, created_at, updated_at) ON aiplat.users TO aiplat_app;
GRANT UPDATE (display_name) ON aiplat.users TO aiplat_app;
CREATE POLICY users_select ON aiplat.users FOR SELECT TO aiplat_app USING (
  id = (SELECT aiplat.current_user_id())
  OR (SELECT aiplat.is_superadmin())
  OR (aiplat.is_member((SELECT aiplat.current_org_id()))
      AND EXISTS (SELECT 1 FROM aiplat.organization_members m
                   WHERE m.user_id = users.id
                     AND m.organization_id = (SELECT aiplat.current_org_id()))));
CREATE POLICY users_update_self ON aiplat.users FOR UPDATE TO aiplat_app
  USING (id = (SELECT aiplat.current_user_id()) OR (SELECT aiplat.is_superadmin()))
  WITH CHECK (id = (SELECT aiplat.current_user_id()) OR (SELECT aiplat.is_superadmin()));

-- organizations: those you belong to; settings need (organization, manage).
ALTER TABLE aiplat.organizations ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON aiplat.organizations TO aiplat_app;
GRANT UPDATE (name, type, time_zone) ON aiplat.organizations TO aiplat_app;
CREATE POLICY organizations_select ON aiplat.organizations FOR SELECT TO aiplat_app
  USING ((SELECT aiplat.is_superadmin()) OR aiplat.is_member(id));
CREATE POLICY organizations_update ON aiplat.organizations FOR UPDATE TO aiplat_app
  USING (aiplat.has_permission(id, 'organization', 'manage'))
  WITH CHECK (aiplat.has_permission(id, 'organization', 'manage'));

-- organization_members: your own memberships, and your current organisation's.
ALTER TABLE aiplat.organization_members ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON aiplat.organization_members TO aiplat_app;
CREATE POLICY members_select ON aiplat.organization_members FOR SELECT TO aiplat_app USING (
  user_id = (SELECT aiplat.current_user_id())
  OR (SELECT aiplat.is_superadmin())
  OR (organization_id = (SELECT aiplat.current_org_id())
      AND (SELECT aiplat.has_current_permission('members', 'read'))));
CREATE POLICY members_insert ON aiplat.organization_members FOR INSERT TO aiplat_app WITH CHECK (
  (SELECT aiplat.is_superadmin())
  OR (organization_id = (SELECT aiplat.current_org_id())
      AND (SELECT aiplat.has_current_permission('members', 'manage'))));
CREATE POLICY members_update ON aiplat.organization_members FOR UPDATE TO aiplat_app
  USING ((SELECT aiplat.is_superadmin())
         OR (organization_id = (SELECT aiplat.current_org_id())
             AND (SELECT aiplat.has_current_permission('members', 'manage'))))
  WITH CHECK ((SELECT aiplat.is_superadmin())
              OR (organization_id = (SELECT aiplat.current_org_id())
                  AND (SELECT aiplat.has_current_permission('members', 'manage'))));
CREATE POLICY members_delete ON aiplat.organization_members FOR DELETE TO aiplat_app USING (
  (SELECT aiplat.is_superadmin())
  OR (organization_id = (SELECT aiplat.current_org_id())
      AND (SELECT aiplat.has_current_permission('members', 'manage'))));

-- roles: system roles for everyone; custom roles within the current organisation.
ALTER TABLE aiplat.roles ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON aiplat.roles TO aiplat_app;
CREATE POLICY roles_select ON aiplat.roles FOR SELECT TO aiplat_app USING (
  organization_id IS NULL
  OR (SELECT aiplat.is_superadmin())
  OR (organization_id = (SELECT aiplat.current_org_id())
      AND (SELECT aiplat.has_current_permission('roles', 'read'))));
CREATE POLICY roles_write ON aiplat.roles FOR ALL TO aiplat_app
  USING ((SELECT aiplat.is_superadmin())
         OR (organization_id = (SELECT aiplat.current_org_id())
             AND (SELECT aiplat.has_current_permission('roles', 'manage'))))
  WITH CHECK ((SELECT aiplat.is_superadmin())
              OR (organization_id = (SELECT aiplat.current_org_id())
                  AND (SELECT aiplat.has_current_permission('roles', 'manage'))));

ALTER TABLE aiplat.role_permissions ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON aiplat.role_permissions TO aiplat_app;
CREATE POLICY role_permissions_select ON aiplat.role_permissions FOR SELECT TO aiplat_app
  USING (EXISTS (SELECT 1 FROM aiplat.roles r WHERE r.id = role_permissions.role_id));
CREATE POLICY role_permissions_insert ON aiplat.role_permissions FOR INSERT TO aiplat_app WITH CHECK (
  EXISTS (SELECT 1 FROM aiplat.roles r
           WHERE r.id = role_permissions.role_id
             AND ((SELECT aiplat.is_superadmin())
                  OR (r.organization_id = (SELECT aiplat.current_org_id())
                      AND (SELECT aiplat.has_current_permission('roles', 'manage'))))));
CREATE POLICY role_permissions_delete ON aiplat.role_permissions FOR DELETE TO aiplat_app USING (
  EXISTS (SELECT 1 FROM aiplat.roles r
           WHERE r.id = role_permissions.role_id
             AND ((SELECT aiplat.is_superadmin())
                  OR (r.organization_id = (SELECT aiplat.current_org_id())
                      AND (SELECT aiplat.has_current_permission('roles', 'manage'))))));

-- audit_logs: readable with (audit, read) in the current organisation;
-- written only through aiplat.audit() below, never directly.
ALTER TABLE aiplat.audit_logs ENABLE ROW LEVEL SECURITY;
GRANT SELECT ON aiplat.audit_logs TO aiplat_app;
CREATE POLICY audit_select ON aiplat.audit_logs FOR SELECT TO aiplat_app USING (
  (SELECT aiplat.is_superadmin())
  OR (organization_id = (SELECT aiplat.current_org_id())
      AND (SELECT aiplat.has_current_permission('audit', 'read'))));

-- Writes one audit row for the current transaction's actor: the mapped
-- login user (or NULL for the platform), and the person the transaction acts
-- as. The only way rows reach audit_logs; row-change triggers call it too.
CREATE FUNCTION aiplat.audit(p_action text, p_resource_type text, p_resource_id text,
                             p_old jsonb, p_new jsonb, p_org uuid DEFAULT NULL,
                             p_org_slug text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
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
$$;
COMMENT ON FUNCTION aiplat.audit(text, text, text, jsonb, jsonb, uuid, text) IS
  'the one way to write audit rows; fills in actor and acting-as from the session';
REVOKE ALL ON FUNCTION aiplat.audit(text, text, text, jsonb, jsonb, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aiplat.audit(text, text, text, jsonb, jsonb, uuid, text) TO aiplat_app;

-- migrate:down
DROP SCHEMA aiplat CASCADE;
-- The role is cluster-wide: drop it only when no other database uses it.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiplat_app') THEN
    BEGIN
      EXECUTE 'DROP OWNED BY aiplat_app';
      DROP ROLE aiplat_app;
    EXCEPTION WHEN dependent_objects_still_exist OR object_in_use THEN
      RAISE NOTICE 'keeping role aiplat_app: other databases still use it';
    END;
  END IF;
END
$$;
