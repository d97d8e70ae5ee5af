-- Demonstration data (`aiplat seed --demo`): organisations of different
-- types and plans, each with an admin, a user and (for some) a viewer, so
-- every filtering rule shows:
--   acme-legal        solicitor   enterprise  -> Legal Document Analyst
--   brightpath        marketing   pro         -> Blog Content Writer Pro
--   harbor-realty     realestate  starter     -> Property Listing Writer
--   northside-clinic  healthcare  starter     -> Healthcare model needs pro: not available
--   little-learners   education   free        -> Education Tutor trial, 20 of 30 days left
--   pixel-forge       software    free        -> Blog writer needs pro: only Basic Assistant
-- Basic Assistant (all types, free) is available everywhere.

INSERT INTO aiplat.users (email, display_name, is_superadmin) VALUES
  ('ops@aiplat.test',              'Olive Operator', true),
  ('alice@acme-legal.test',        'Alice Admin',    false),
  ('aaron@acme-legal.test',        'Aaron User',     false),
  ('ava@acme-legal.test',          'Ava Viewer',     false),
  ('bella@brightpath.test',        'Bella Admin',    false),
  ('ben@brightpath.test',          'Ben User',       false),
  ('hana@harbor-realty.test',      'Hana Admin',     false),
  ('hugo@harbor-realty.test',      'Hugo User',      false),
  ('nora@northside-clinic.test',   'Nora Admin',     false),
  ('noah@northside-clinic.test',   'Noah User',      false),
  ('lily@little-learners.test',    'Lily Admin',     false),
  ('leo@little-learners.test',     'Leo User',       false),
  ('pia@pixel-forge.test',         'Pia Admin',      false),
  ('pete@pixel-forge.test',        'Pete User',      false),
  ('vic@pixel-forge.test',         'Vic Viewer',     false)
ON CONFLICT ((lower(email))) DO NOTHING;

INSERT INTO aiplat.organizations (slug, name, type, pricing_plan, token_quota_monthly, time_zone) VALUES
  ('acme-legal',       'Acme Legal LLP',       'solicitor',  'enterprise', 2000000, 'Europe/London'),
  ('brightpath',       'BrightPath Marketing', 'marketing',  'pro',        NULL,    'America/New_York'),
  ('harbor-realty',    'Harbor Realty',        'realestate', 'starter',    NULL,    'America/Los_Angeles'),
  ('northside-clinic', 'Northside Clinic',     'healthcare', 'starter',    NULL,    'UTC'),
  ('little-learners',  'Little Learners',      'education',  'free',       NULL,    'Asia/Tokyo'),
  ('pixel-forge',      'Pixel Forge',          'software',   'free',       150000,  'UTC')
ON CONFLICT (slug) DO NOTHING;

INSERT INTO aiplat.organization_members (organization_id, user_id, role_id)
SELECT o.id, u.id, r.id
  FROM (VALUES
    ('acme-legal', 'alice@acme-legal.test', 'admin'),
    ('acme-legal', 'aaron@acme-legal.test', 'user'),
    ('acme-legal', 'ava@acme-legal.test', 'viewer'),
    ('brightpath', 'bella@brightpath.test', 'admin'),
    ('brightpath', 'ben@brightpath.test', 'user'),
    ('harbor-realty', 'hana@harbor-realty.test', 'admin'),
    ('harbor-realty', 'hugo@harbor-realty.test', 'user'),
    ('northside-clinic', 'nora@northside-clinic.test', 'admin'),
    ('northside-clinic', 'noah@northside-clinic.test', 'user'),
    ('little-learners', 'lily@little-learners.test', 'admin'),
    ('little-learners', 'leo@little-learners.test', 'user'),
    ('pixel-forge', 'pia@pixel-forge.test', 'admin'),
    ('pixel-forge', 'pete@pixel-forge.test', 'user'),
    ('pixel-forge', 'vic@pixel-forge.test', 'viewer')
  ) AS m(slug, email, role)
  JOIN aiplat.organizations o ON o.slug = m.slug
  JOIN aiplat.users u ON lower(u.email) = m.email
  JOIN aiplat.roles r ON r.organization_id IS NULL AND r.name = m.role
ON CONFLICT (organization_id, user_id) DO NOTHING;

-- What each admin has switched on.
INSERT INTO aiplat.org_system_model_config
  (organization_id, system_model_id, is_enabled_for_users, token_limit_per_user, enabled_at, enabled_by)
SELECT o.id, mdl.id, c.enabled, c.per_user, now() - make_interval(days => c.days_ago), admin.id
  FROM (VALUES
    ('acme-legal',       'Legal Document Analyst',   true,  20000::bigint, 40, 'alice@acme-legal.test'),
    ('acme-legal',       'Basic Assistant',          true,  NULL::bigint,  40, 'alice@acme-legal.test'),
    ('brightpath',       'Blog Content Writer Pro',  true,  NULL::bigint,  12, 'bella@brightpath.test'),
    ('brightpath',       'Basic Assistant',          false, NULL::bigint,  12, 'bella@brightpath.test'),
    ('harbor-realty',    'Property Listing Writer',  true,  5000::bigint,   5, 'hana@harbor-realty.test'),
    ('northside-clinic', 'Basic Assistant',          true,  NULL::bigint,   3, 'nora@northside-clinic.test'),
    ('little-learners',  'Education Tutor (Trial)',  true,  NULL::bigint,  10, 'lily@little-learners.test'),
    ('pixel-forge',      'Basic Assistant',          true,  NULL::bigint,   1, 'pia@pixel-forge.test')
  ) AS c(slug, model, enabled, per_user, days_ago, admin_email)
  JOIN aiplat.organizations o ON o.slug = c.slug
  JOIN aiplat.ai_models_system mdl ON mdl.name = c.model
  JOIN aiplat.users admin ON lower(admin.email) = c.admin_email
ON CONFLICT (organization_id, system_model_id) DO NOTHING;
