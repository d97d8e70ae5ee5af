-- AI framework and automation (seed 003, steps 1.2, 2.2, 3.1): versioned
-- prompts with tenant overrides, feature flags, API keys (hashes only),
-- workflows with their runs, and outgoing webhooks.

-- migrate:up

-- ---------------------------------------------------------------------------
-- Prompts and feature flags: global rows (organization_id NULL) that a
-- tenant's own row overrides.
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.prompts (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  key              text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  version          integer NOT NULL CHECK (version > 0),
  body             text NOT NULL CHECK (length(body) > 0),
  description      text,
  created_by       uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (organization_id, key, version)
);
CREATE INDEX prompts_key_idx ON aiplat.prompts (key, organization_id, version DESC);
COMMENT ON TABLE aiplat.prompts IS
  'prompt templates by key; every change is a new version; a tenant''s own key overrides the global one';

CREATE TABLE aiplat.feature_flags (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  name             text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  enabled          boolean NOT NULL,
  value            jsonb,
  updated_by       uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (organization_id, name)
);
CREATE TRIGGER feature_flags_touch BEFORE UPDATE ON aiplat.feature_flags
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.feature_flags IS 'feature switches: global (organization_id NULL) and per tenant; the tenant row wins';
COMMENT ON COLUMN aiplat.feature_flags.value IS 'optional setting carried by the flag, e.g. a daily request limit';

-- Global rows: readable by everyone, written by superadmins. Tenant rows:
-- the standard read/manage permissions in the current organisation.
ALTER TABLE aiplat.prompts ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, DELETE ON aiplat.prompts TO aiplat_app;
CREATE POLICY prompts_select ON aiplat.prompts FOR SELECT TO aiplat_app USING (
  organization_id IS NULL
  OR (SELECT aiplat.is_superadmin())
  OR (organization_id = (SELECT aiplat.current_org_id())
      AND (SELECT aiplat.has_current_permission('prompts', 'read'))));
CREATE POLICY prompts_write ON aiplat.prompts FOR ALL TO aiplat_app
  USING ((SELECT aiplat.is_superadmin())
         OR (organization_id = (SELECT aiplat.current_org_id())
             AND (SELECT aiplat.has_current_permission('prompts', 'manage'))))
  WITH CHECK ((SELECT aiplat.is_superadmin())
              OR (organization_id = (SELECT aiplat.current_org_id())
                  AND (SELECT aiplat.has_current_permission('prompts', 'manage'))));

ALTER TABLE aiplat.feature_flags ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON aiplat.feature_flags TO aiplat_app;
CREATE POLICY flags_select ON aiplat.feature_flags FOR SELECT TO aiplat_app USING (
  organization_id IS NULL
  OR (SELECT aiplat.is_superadmin())
  OR (organization_id = (SELECT aiplat.current_org_id())
      AND (SELECT aiplat.has_current_permission('flags', 'read'))));
CREATE POLICY flags_write ON aiplat.feature_flags FOR ALL TO aiplat_app
  USING ((SELECT aiplat.is_superadmin())
         OR (organization_id = (SELECT aiplat.current_org_id())
             AND (SELECT aiplat.has_current_permission('flags', 'manage'))))
  WITH CHECK ((SELECT aiplat.is_superadmin())
              OR (organization_id = (SELECT aiplat.current_org_id())
                  AND (SELECT aiplat.has_current_permission('flags', 'manage'))));

-- ---------------------------------------------------------------------------
-- API keys for third-party access (seed 003 3.1.1): only a hash is stored.
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.api_keys (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  key_prefix       text NOT NULL CHECK (length(key_prefix) BETWEEN 4 AND 16),
  key_hash         bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  scopes           text[] NOT NULL DEFAULT '{}',
  created_by       uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_used_at     timestamptz,
  expires_at       timestamptz,
  revoked_at       timestamptz,
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, name)
);
COMMENT ON TABLE aiplat.api_keys IS 'API keys: sha256 of the key and a short prefix to recognise it; never the key';
GRANT SELECT (organization_id, id, name, key_prefix, scopes, created_by, created_at, last_used_at,
              expires_at, revoked_at),
      INSERT, UPDATE (name, scopes, expires_at, revoked_at), DELETE
  ON aiplat.api_keys TO aiplat_app;
SELECT aiplat.apply_tenant_policies('aiplat.api_keys', 'api_keys', 'read', 'manage');

-- ---------------------------------------------------------------------------
-- Workflows (seed 003 2.2; DESIGN.md section 7)
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.workflows (
  organization_id            uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id                         uuid NOT NULL DEFAULT gen_random_uuid(),
  name                       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description                text,
  trigger_type               text NOT NULL CHECK (trigger_type IN ('manual', 'event', 'schedule', 'webhook')),
  trigger_config             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(trigger_config) = 'object'),
  enabled                    boolean NOT NULL DEFAULT true,
  webhook_secret_ciphertext  bytea,
  max_attempts               integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
  created_by                 uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, name),
  CONSTRAINT schedule_needs_cron CHECK (trigger_type <> 'schedule' OR trigger_config ? 'cron'),
  CONSTRAINT event_needs_name CHECK (trigger_type <> 'event' OR trigger_config ? 'event')
);
CREATE INDEX workflows_trigger_idx ON aiplat.workflows (trigger_type) WHERE enabled;
CREATE TRIGGER workflows_touch BEFORE UPDATE ON aiplat.workflows
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.workflows IS 'automations: a trigger (manual, event, schedule, webhook) and ordered steps';
COMMENT ON COLUMN aiplat.workflows.trigger_config IS '{"cron": "*/5 * * * *"} or {"event": "user.created"}';

CREATE TABLE aiplat.workflow_steps (
  organization_id  uuid NOT NULL,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  workflow_id      uuid NOT NULL,
  position         integer NOT NULL CHECK (position > 0),
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  action_type      text NOT NULL CHECK (action_type IN ('http', 'sql', 'ai_complete', 'emit_event')),
  action_config    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(action_config) = 'object'),
  timeout_s        integer NOT NULL DEFAULT 30 CHECK (timeout_s BETWEEN 1 AND 3600),
  max_attempts     integer NOT NULL DEFAULT 1 CHECK (max_attempts BETWEEN 1 AND 20),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, workflow_id, position) DEFERRABLE INITIALLY IMMEDIATE,
  FOREIGN KEY (organization_id, workflow_id)
    REFERENCES aiplat.workflows (organization_id, id) ON DELETE CASCADE
);
CREATE TRIGGER workflow_steps_touch BEFORE UPDATE ON aiplat.workflow_steps
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.workflow_steps IS 'the actions of a workflow, run in position order';

CREATE TABLE aiplat.workflow_runs (
  organization_id   uuid NOT NULL,
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  workflow_id       uuid NOT NULL,
  status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  trigger_type      text NOT NULL CHECK (trigger_type IN ('manual', 'event', 'schedule', 'webhook')),
  payload           jsonb NOT NULL DEFAULT '{}',
  idempotency_key   text,
  attempt           integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  max_attempts      integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
  run_after         timestamptz NOT NULL DEFAULT now(),
  lease_owner       text,
  lease_expires_at  timestamptz,
  heartbeat_at      timestamptz,
  started_at        timestamptz,
  finished_at       timestamptz,
  result            jsonb,
  error             text,
  created_by        uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, workflow_id, idempotency_key),
  FOREIGN KEY (organization_id, workflow_id)
    REFERENCES aiplat.workflows (organization_id, id) ON DELETE CASCADE,
  CHECK (status <> 'running' OR lease_expires_at IS NOT NULL)
);
CREATE INDEX workflow_runs_ready_idx ON aiplat.workflow_runs (run_after) WHERE status = 'queued';
CREATE INDEX workflow_runs_lease_idx ON aiplat.workflow_runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX workflow_runs_workflow_idx ON aiplat.workflow_runs (organization_id, workflow_id, created_at);
COMMENT ON TABLE aiplat.workflow_runs IS
  'executions: claimed with FOR UPDATE SKIP LOCKED, held by a lease a heartbeat extends, retried with backoff';
COMMENT ON COLUMN aiplat.workflow_runs.idempotency_key IS 'a second trigger with the same key does not start a second run';

CREATE TABLE aiplat.workflow_step_runs (
  organization_id  uuid NOT NULL,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  run_id           uuid NOT NULL,
  step_id          uuid,
  position         integer NOT NULL CHECK (position > 0),
  status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
  attempt          integer NOT NULL DEFAULT 1 CHECK (attempt > 0),
  input            jsonb,
  output           jsonb,
  error            text,
  started_at       timestamptz,
  finished_at      timestamptz,
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, run_id, position, attempt),
  FOREIGN KEY (organization_id, run_id)
    REFERENCES aiplat.workflow_runs (organization_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organization_id, step_id)
    REFERENCES aiplat.workflow_steps (organization_id, id) ON DELETE SET NULL (step_id)
);
COMMENT ON TABLE aiplat.workflow_step_runs IS 'one row per attempt of a step within a run';

GRANT SELECT, INSERT, UPDATE, DELETE ON aiplat.workflow_steps TO aiplat_app;
GRANT INSERT, UPDATE, DELETE ON aiplat.workflows TO aiplat_app;
GRANT SELECT (organization_id, id, name, description, trigger_type, trigger_config, enabled,
              max_attempts, created_by, created_at, updated_at) ON aiplat.workflows TO aiplat_app;
GRANT SELECT, INSERT, UPDATE ON aiplat.workflow_runs, aiplat.workflow_step_runs TO aiplat_app;
SELECT aiplat.apply_tenant_policies('aiplat.workflows', 'workflows', 'read', 'write');
SELECT aiplat.apply_tenant_policies('aiplat.workflow_steps', 'workflows', 'read', 'write');
SELECT aiplat.apply_tenant_policies('aiplat.workflow_runs', 'workflows', 'read', 'run');
SELECT aiplat.apply_tenant_policies('aiplat.workflow_step_runs', 'workflows', 'read', 'run');

-- ---------------------------------------------------------------------------
-- Outgoing webhooks (seed 003 3.1.3)
-- ---------------------------------------------------------------------------

CREATE TABLE aiplat.webhook_subscriptions (
  organization_id    uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id                 uuid NOT NULL DEFAULT gen_random_uuid(),
  url                text NOT NULL CHECK (url ~ '^https?://'),
  secret_ciphertext  bytea NOT NULL,
  events             text[] NOT NULL CHECK (cardinality(events) > 0),
  enabled            boolean NOT NULL DEFAULT true,
  failure_count      integer NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
  disabled_at        timestamptz,
  created_by         uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id)
);
CREATE INDEX webhook_subscriptions_events_idx ON aiplat.webhook_subscriptions USING gin (events)
  WHERE enabled;
CREATE TRIGGER webhook_subscriptions_touch BEFORE UPDATE ON aiplat.webhook_subscriptions
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.webhook_subscriptions IS
  'tenant URLs receiving platform events, signed with HMAC using the (encrypted) per-subscription secret';

CREATE TABLE aiplat.webhook_deliveries (
  organization_id   uuid NOT NULL,
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  subscription_id   uuid NOT NULL,
  event             text NOT NULL,
  event_id          uuid NOT NULL,
  payload           jsonb NOT NULL,
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempt           integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  response_code     integer,
  response_excerpt  text,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  delivered_at      timestamptz,
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, subscription_id, event_id),
  FOREIGN KEY (organization_id, subscription_id)
    REFERENCES aiplat.webhook_subscriptions (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON aiplat.webhook_deliveries (next_attempt_at) WHERE status = 'pending';
COMMENT ON TABLE aiplat.webhook_deliveries IS 'each attempt to deliver an event to a subscription, for retry and inspection';

GRANT SELECT (organization_id, id, url, events, enabled, failure_count, disabled_at, created_by,
              created_at, updated_at),
      INSERT, UPDATE, DELETE ON aiplat.webhook_subscriptions TO aiplat_app;
GRANT SELECT ON aiplat.webhook_deliveries TO aiplat_app;
SELECT aiplat.apply_tenant_policies('aiplat.webhook_subscriptions', 'webhooks', 'read', 'write');
SELECT aiplat.apply_tenant_policies('aiplat.webhook_deliveries', 'webhooks', 'read', 'write');

-- migrate:down
DROP TABLE aiplat.webhook_deliveries;
DROP TABLE aiplat.webhook_subscriptions;
DROP TABLE aiplat.workflow_step_runs;
DROP TABLE aiplat.workflow_runs;
DROP TABLE aiplat.workflow_steps;
DROP TABLE aiplat.workflows;
DROP TABLE aiplat.api_keys;
DROP TABLE aiplat.feature_flags;
DROP TABLE aiplat.prompts;
