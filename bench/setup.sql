-- Benchmark tenants, on top of `aiplat seed --demo`, as the schema owner:
-- organisations bench-1 .. bench-:orgs, each with people
-- u1@bench-i.test .. u:users@bench-i.test (the names gen_events and
-- consume_load use), "Legal Document Analyst" and "Basic Assistant"
-- enabled. Quotas and limits are far beyond what a run can use, so every
-- consume is allowed and the benchmarks measure admission, not refusals.
-- Time zones differ, so reports and their raw-event baseline must agree on
-- local months.
--   psql -v orgs=20 -v users=50 -f bench/setup.sql URL
\set ON_ERROR_STOP on
BEGIN;
-- A bulk load by the platform: row auditing off for these inserts only.
SET LOCAL aiplat.audit = off;

-- Ids follow the slugs (md5('bench-' || i)), so that the pgbench baseline
-- can name an organisation by id as the library does.
INSERT INTO aiplat.organizations (id, slug, name, type, pricing_plan, token_quota_monthly, time_zone)
SELECT md5('bench-' || i)::uuid, 'bench-' || i, 'Bench ' || i, 'solicitor', 'enterprise', 1000000000000000,
       (ARRAY['UTC', 'Europe/London', 'America/New_York', 'Asia/Tokyo'])[1 + (i - 1) % 4]
  FROM generate_series(1, :orgs) AS i;

INSERT INTO aiplat.users (email, display_name)
SELECT format('u%s@bench-%s.test', u, o), format('Bench user %s of %s', u, o)
  FROM generate_series(1, :orgs) AS o, generate_series(1, :users) AS u;

INSERT INTO aiplat.organization_members (organization_id, user_id, role_id)
SELECT o.id, u.id, r.id
  FROM aiplat.organizations o
  JOIN aiplat.users u ON lower(u.email) LIKE '%@' || o.slug || '.test'
  JOIN aiplat.roles r ON r.organization_id IS NULL AND r.name = 'user'
 WHERE o.slug LIKE 'bench-%';

INSERT INTO aiplat.org_system_model_config
  (organization_id, system_model_id, is_enabled_for_users, token_limit_per_user)
SELECT o.id, m.id, true, 1000000000000000
  FROM aiplat.organizations o
  JOIN aiplat.ai_models_system m ON m.name IN ('Legal Document Analyst', 'Basic Assistant')
 WHERE o.slug LIKE 'bench-%';
COMMIT;

ANALYZE;
