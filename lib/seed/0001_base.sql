-- Base reference data: plans, organisation types, permissions, the system
-- roles and what they grant, and the six sample system models of seed 001.
-- Idempotent: every insert skips rows that exist (by natural key), and
-- identity-keyed tables use WHERE NOT EXISTS so no sequence value is spent.

INSERT INTO aiplat.plans (code, level, name, monthly_token_quota, daily_request_limit) VALUES
  ('free',       0, 'Free',          200000,   50),
  ('starter',    1, 'Starter',      2000000,  500),
  ('pro',        2, 'Pro',         10000000, 2000),
  ('enterprise', 3, 'Enterprise',      NULL, NULL)
ON CONFLICT (code) DO NOTHING;

INSERT INTO aiplat.organization_types (code, name) VALUES
  ('general', 'General'), ('marketing', 'Marketing'), ('software', 'Software'),
  ('retail', 'Retail'), ('consulting', 'Consulting'), ('solicitor', 'Solicitor'),
  ('finance', 'Finance'), ('immigration', 'Immigration'), ('doctor', 'Doctor'),
  ('healthcare', 'Healthcare'), ('beauty', 'Beauty'), ('realestate', 'Real estate'),
  ('education', 'Education'), ('hospitality', 'Hospitality'), ('construction', 'Construction'),
  ('nonprofit', 'Non-profit'), ('manufacturing', 'Manufacturing'), ('logistics', 'Logistics'),
  ('ecommerce', 'E-commerce'), ('agency', 'Agency')
ON CONFLICT (code) DO NOTHING;

INSERT INTO aiplat.permissions (resource, action, description) VALUES
  ('organization', 'read',     'see the organisation''s settings'),
  ('organization', 'manage',   'change the organisation''s name, type and time zone'),
  ('members',      'read',     'list members and their roles'),
  ('members',      'manage',   'add and remove members, change their roles'),
  ('roles',        'read',     'list roles and their permissions'),
  ('roles',        'manage',   'create custom roles, grant and revoke permissions'),
  ('models',       'read',     'see the models the organisation may use'),
  ('models',       'manage',   'enable and disable models, set per-user limits'),
  ('usage',        'read',     'see one''s own usage'),
  ('usage',        'read_all', 'see everyone''s usage in the organisation'),
  ('usage',        'write',    'consume tokens and record usage'),
  ('audit',        'read',     'read the organisation''s audit log'),
  ('prompts',      'read',     'read prompts'),
  ('prompts',      'manage',   'write the organisation''s prompt overrides'),
  ('flags',        'read',     'read feature flags'),
  ('flags',        'manage',   'set the organisation''s feature flags'),
  ('api_keys',     'read',     'list API keys'),
  ('api_keys',     'manage',   'create and revoke API keys'),
  ('workflows',    'read',     'see workflows and their runs'),
  ('workflows',    'write',    'create and edit workflows'),
  ('workflows',    'run',      'start workflow runs'),
  ('webhooks',     'read',     'see webhook subscriptions and deliveries'),
  ('webhooks',     'write',    'manage webhook subscriptions'),
  ('projects',     'read',     'see projects and their databases'),
  ('projects',     'write',    'create and change projects, databases and tables'),
  ('garage',       'read',     'see AI Garage orders, templates, blueprints and showcases'),
  ('garage',       'write',    'create and change AI Garage items')
ON CONFLICT (resource, action) DO NOTHING;

INSERT INTO aiplat.roles (organization_id, name, description) VALUES
  (NULL, 'admin',  'organisation administrator: every permission'),
  (NULL, 'user',   'member who uses models and builds things'),
  (NULL, 'viewer', 'read-only member')
ON CONFLICT (organization_id, name) DO NOTHING;

INSERT INTO aiplat.role_permissions (role_id, resource, action)
SELECT r.id, p.resource, p.action
  FROM aiplat.roles r
  JOIN aiplat.permissions p ON
       r.name = 'admin'
    OR (r.name = 'user' AND (p.action = 'read'
                             OR (p.resource, p.action) IN (('usage', 'write'), ('workflows', 'run'),
                                                           ('projects', 'write'), ('garage', 'write'))))
    OR (r.name = 'viewer' AND p.action = 'read')
 WHERE r.organization_id IS NULL
   AND NOT (r.name <> 'admin' AND p.resource IN ('audit', 'api_keys', 'webhooks'))
ON CONFLICT DO NOTHING;

-- The six sample system models (seed 001). API keys are references to
-- environment variables, never literal secrets.
INSERT INTO aiplat.ai_models_system
  (name, role, description, icon, tasks, system_message, provider_kind, provider_model, endpoint,
   api_key_ref, max_tokens, organization_types, required_plan, token_limit_period,
   token_limit_amount, is_free, is_trial, trial_expires_days, is_active, is_featured, tags,
   sort_order, price_input_per_mtok, price_output_per_mtok)
SELECT v.* FROM (VALUES
  ('Blog Content Writer Pro', 'blog_content_writer',
   'Plans, drafts and polishes blog posts in your brand voice.', 'pencil',
   '[{"name": "Outline a post", "prompt": "Write a detailed outline for a blog post about: {{topic}}"},
     {"name": "Draft a post", "prompt": "Write a 900-word blog post about: {{topic}}"},
     {"name": "SEO title ideas", "prompt": "Suggest ten SEO-friendly titles for: {{topic}}"},
     {"name": "Meta description", "prompt": "Write a 155-character meta description for: {{topic}}"},
     {"name": "Social snippets", "prompt": "Write three social media posts promoting: {{topic}}"}]'::jsonb,
   'You are an experienced content marketer. Write clear, engaging, accurate copy.',
   'openai', 'gpt-4o-mini', 'https://api.openai.com/v1', 'env:OPENAI_API_KEY', 2048,
   ARRAY['marketing', 'software', 'retail', 'consulting'], 'pro', 'monthly', 50000::bigint,
   false, false, NULL::integer, true, true, ARRAY['blog', 'content', 'writing'], 10,
   0.15::numeric, 0.60::numeric),
  ('Legal Document Analyst', 'legal_document_analyst',
   'Summarises contracts, flags risky clauses and drafts plain-English explanations.', 'scales',
   '[{"name": "Summarise a contract", "prompt": "Summarise the key obligations in: {{document}}"},
     {"name": "Flag risky clauses", "prompt": "List clauses that carry risk for our client in: {{document}}"},
     {"name": "Explain in plain English", "prompt": "Explain this clause to a layperson: {{clause}}"}]'::jsonb,
   'You are a careful legal analyst. You do not give legal advice; you explain documents.',
   'anthropic', 'claude-3-5-sonnet-latest', 'https://api.anthropic.com/v1', 'env:ANTHROPIC_API_KEY', 4096,
   ARRAY['solicitor', 'finance', 'immigration'], 'enterprise', 'monthly', 100000::bigint,
   false, false, NULL::integer, true, true, ARRAY['legal', 'contracts', 'analysis'], 20,
   3.00::numeric, 15.00::numeric),
  ('Healthcare Information Assistant', 'healthcare_info_assistant',
   'Writes patient education material in accessible language.', 'stethoscope',
   '[{"name": "Patient leaflet", "prompt": "Write a patient information leaflet about: {{condition}}"},
     {"name": "Aftercare instructions", "prompt": "Write aftercare instructions for: {{procedure}}"}]'::jsonb,
   'You write patient education material. You never diagnose and always advise seeing a clinician.',
   'openai', 'gpt-4o-mini', 'https://api.openai.com/v1', 'env:OPENAI_API_KEY', 2048,
   ARRAY['doctor', 'healthcare', 'beauty'], 'pro', 'monthly', 30000::bigint,
   false, false, NULL::integer, true, false, ARRAY['healthcare', 'patients'], 30,
   0.15::numeric, 0.60::numeric),
  ('Property Listing Writer', 'property_listing_writer',
   'Turns property facts into listings that sell.', 'house',
   '[{"name": "Listing description", "prompt": "Write a property listing from these facts: {{facts}}"},
     {"name": "Neighbourhood blurb", "prompt": "Describe the neighbourhood around: {{address}}"}]'::jsonb,
   'You are an estate agent''s copywriter. Be vivid but never misleading.',
   'openai', 'codestral-latest', 'https://api.mistral.ai/v1', 'env:MISTRAL_API_KEY', 1024,
   ARRAY['realestate'], 'starter', 'monthly', 20000::bigint,
   false, false, NULL::integer, true, false, ARRAY['property', 'listings'], 40,
   0.30::numeric, 0.90::numeric),
  ('Basic Assistant', 'basic_assistant',
   'A general helper for everyday questions and short texts.', 'robot',
   '[{"name": "Answer a question", "prompt": "Answer concisely: {{question}}"},
     {"name": "Rewrite politely", "prompt": "Rewrite this text to be polite and clear: {{text}}"}]'::jsonb,
   'You are a helpful, concise assistant.',
   'openai', 'gpt-4o-mini', 'https://api.openai.com/v1', 'env:OPENAI_API_KEY', 1024,
   ARRAY[]::text[], 'free', NULL::text, NULL::bigint,
   true, false, NULL::integer, true, false, ARRAY['general'], 50,
   0.15::numeric, 0.60::numeric),
  ('Education Tutor (Trial)', 'education_tutor',
   'Explains topics step by step and writes practice questions.', 'graduation-cap',
   '[{"name": "Explain a topic", "prompt": "Explain {{topic}} to a {{level}} student, step by step"},
     {"name": "Practice questions", "prompt": "Write five practice questions with answers on: {{topic}}"}]'::jsonb,
   'You are a patient tutor. Check understanding and encourage the learner.',
   'anthropic', 'claude-3-5-haiku-latest', 'https://api.anthropic.com/v1', 'env:ANTHROPIC_API_KEY', 1024,
   ARRAY['education'], 'free', 'monthly', 10000::bigint,
   false, true, 30, true, false, ARRAY['education', 'tutoring', 'trial'], 60,
   0.80::numeric, 4.00::numeric)
) AS v(name, role, description, icon, tasks, system_message, provider_kind, provider_model, endpoint,
       api_key_ref, max_tokens, organization_types, required_plan, token_limit_period,
       token_limit_amount, is_free, is_trial, trial_expires_days, is_active, is_featured, tags,
       sort_order, price_input_per_mtok, price_output_per_mtok)
WHERE NOT EXISTS (SELECT 1 FROM aiplat.ai_models_system m WHERE lower(m.name) = lower(v.name));
