-- AI Garage (seed 004): custom agent orders with milestones and build logs,
-- agent templates and their reviews, tool blueprints, project showcases, and
-- the seed's enums. Children carry organization_id and reference their
-- parent through (organization_id, id), so a row can never point into
-- another tenant. Templates and showcases marked public (and system
-- templates) are visible to every organisation by design.

-- migrate:up

CREATE TYPE aiplat.complexity_level AS ENUM ('SIMPLE', 'MODERATE', 'COMPLEX', 'ENTERPRISE');
CREATE TYPE aiplat.order_status AS ENUM (
  'DRAFT', 'SUBMITTED', 'IN_REVIEW', 'APPROVED', 'IN_PROGRESS',
  'TESTING', 'COMPLETED', 'DELIVERED', 'CANCELLED', 'REJECTED');
CREATE TYPE aiplat.order_priority AS ENUM ('LOW', 'NORMAL', 'HIGH', 'URGENT');
CREATE TYPE aiplat.agent_category AS ENUM (
  'SALES', 'SUPPORT', 'ANALYSIS', 'CONTENT', 'AUTOMATION', 'RESEARCH');
CREATE TYPE aiplat.tool_category AS ENUM (
  'AUTOMATION', 'ANALYTICS', 'INTEGRATION', 'UI', 'API', 'WORKFLOW');
CREATE TYPE aiplat.log_level AS ENUM ('DEBUG', 'INFO', 'WARN', 'ERROR');
CREATE TYPE aiplat.showcase_category AS ENUM (
  'AI_AGENT', 'AUTOMATION_TOOL', 'INTEGRATION', 'WORKFLOW', 'CUSTOM_SOLUTION');
COMMENT ON TYPE aiplat.complexity_level IS 'SIMPLE 1-8h, MODERATE 8-24h, COMPLEX 24-72h, ENTERPRISE 72h+';

CREATE TABLE aiplat.custom_agent_orders (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  title            varchar(100) NOT NULL,
  description      text NOT NULL,
  requirements     jsonb NOT NULL,
  use_case         varchar(200) NOT NULL,
  complexity       aiplat.complexity_level NOT NULL,
  estimated_hours  integer CHECK (estimated_hours >= 0),
  estimated_cost   numeric(12,2) CHECK (estimated_cost >= 0),
  status           aiplat.order_status NOT NULL DEFAULT 'DRAFT',
  priority         aiplat.order_priority NOT NULL DEFAULT 'NORMAL',
  submitted_at     timestamptz,
  started_at       timestamptz,
  completed_at     timestamptz,
  delivered_at     timestamptz,
  progress         integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  current_stage    varchar(50),
  agent_config     jsonb NOT NULL,
  tools_config     jsonb NOT NULL,
  created_by_id    uuid NOT NULL REFERENCES aiplat.users (id) ON DELETE CASCADE,
  assigned_to_id   uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id)
);
CREATE INDEX custom_agent_orders_created_by_idx ON aiplat.custom_agent_orders (created_by_id);
CREATE INDEX custom_agent_orders_assigned_to_idx ON aiplat.custom_agent_orders (assigned_to_id);
CREATE INDEX custom_agent_orders_status_idx ON aiplat.custom_agent_orders (organization_id, status);
CREATE INDEX custom_agent_orders_complexity_idx ON aiplat.custom_agent_orders (complexity);
CREATE INDEX custom_agent_orders_created_at_idx ON aiplat.custom_agent_orders (organization_id, created_at);
CREATE TRIGGER custom_agent_orders_touch BEFORE UPDATE ON aiplat.custom_agent_orders
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.custom_agent_orders IS 'orders for custom-built agents and their progress';

CREATE TABLE aiplat.agent_templates (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id     uuid REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  name                varchar(100) NOT NULL,
  description         text NOT NULL,
  category            aiplat.agent_category NOT NULL,
  avatar              varchar(500),
  personality_config  jsonb NOT NULL,
  model_config        jsonb NOT NULL,
  tools_config        jsonb NOT NULL,
  memory_config       jsonb NOT NULL,
  tags                text[] NOT NULL DEFAULT '{}',
  features            text[] NOT NULL DEFAULT '{}',
  use_cases           text[] NOT NULL DEFAULT '{}',
  usage_count         integer NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
  rating              numeric(3,2) CHECK (rating BETWEEN 0 AND 5),
  is_popular          boolean NOT NULL DEFAULT false,
  is_public           boolean NOT NULL DEFAULT false,
  is_system           boolean NOT NULL DEFAULT false,
  created_by_id       uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, id),
  CONSTRAINT system_or_owned CHECK (is_system OR organization_id IS NOT NULL)
);
CREATE INDEX agent_templates_org_idx ON aiplat.agent_templates (organization_id);
CREATE INDEX agent_templates_created_by_idx ON aiplat.agent_templates (created_by_id);
CREATE INDEX agent_templates_category_idx ON aiplat.agent_templates (category);
CREATE INDEX agent_templates_public_idx ON aiplat.agent_templates (is_public) WHERE is_public;
CREATE INDEX agent_templates_system_idx ON aiplat.agent_templates (is_system) WHERE is_system;
CREATE TRIGGER agent_templates_touch BEFORE UPDATE ON aiplat.agent_templates
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.agent_templates IS
  'agent presets; system templates have no organisation; public ones are visible to every tenant';

CREATE TABLE aiplat.tool_blueprints (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  name             varchar(100) NOT NULL,
  description      text NOT NULL,
  category         aiplat.tool_category NOT NULL,
  components       jsonb NOT NULL,
  connections      jsonb NOT NULL,
  configuration    jsonb NOT NULL,
  version          varchar(20) NOT NULL DEFAULT '1.0.0',
  tags             text[] NOT NULL DEFAULT '{}',
  complexity       aiplat.complexity_level NOT NULL,
  usage_count      integer NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
  is_public        boolean NOT NULL DEFAULT false,
  created_by_id    uuid NOT NULL REFERENCES aiplat.users (id) ON DELETE CASCADE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id)
);
CREATE INDEX tool_blueprints_created_by_idx ON aiplat.tool_blueprints (created_by_id);
CREATE INDEX tool_blueprints_category_idx ON aiplat.tool_blueprints (category);
CREATE INDEX tool_blueprints_public_idx ON aiplat.tool_blueprints (is_public) WHERE is_public;
CREATE TRIGGER tool_blueprints_touch BEFORE UPDATE ON aiplat.tool_blueprints
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.tool_blueprints IS 'visual tool designs: components, connections, configuration';

CREATE TABLE aiplat.order_milestones (
  organization_id  uuid NOT NULL,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  order_id         uuid NOT NULL,
  name             varchar(100) NOT NULL,
  description      text,
  stage            varchar(50) NOT NULL,
  due_date         timestamptz,
  completed_at     timestamptz,
  is_completed     boolean NOT NULL DEFAULT false,
  sort_order       integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, order_id)
    REFERENCES aiplat.custom_agent_orders (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX order_milestones_order_idx ON aiplat.order_milestones (organization_id, order_id);
CREATE INDEX order_milestones_stage_idx ON aiplat.order_milestones (stage);
COMMENT ON TABLE aiplat.order_milestones IS 'planned stages of an agent order';

CREATE TABLE aiplat.build_logs (
  organization_id  uuid NOT NULL,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  order_id         uuid NOT NULL,
  stage            varchar(50) NOT NULL,
  message          text NOT NULL,
  details          jsonb,
  log_level        aiplat.log_level NOT NULL DEFAULT 'INFO',
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  FOREIGN KEY (organization_id, order_id)
    REFERENCES aiplat.custom_agent_orders (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX build_logs_order_idx ON aiplat.build_logs (organization_id, order_id, created_at);
CREATE INDEX build_logs_level_idx ON aiplat.build_logs (log_level);
COMMENT ON TABLE aiplat.build_logs IS 'progress log of an agent order''s build';

CREATE TABLE aiplat.template_reviews (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  template_id      uuid NOT NULL REFERENCES aiplat.agent_templates (id) ON DELETE CASCADE,
  rating           integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
  review           text,
  reviewer_id      uuid NOT NULL REFERENCES aiplat.users (id) ON DELETE CASCADE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (template_id, reviewer_id)
);
CREATE INDEX template_reviews_template_idx ON aiplat.template_reviews (template_id);
COMMENT ON TABLE aiplat.template_reviews IS 'ratings (1-5 stars) of agent templates, one per reviewer';

CREATE TABLE aiplat.project_showcases (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  title            varchar(100) NOT NULL,
  description      text NOT NULL,
  category         aiplat.showcase_category NOT NULL,
  image_url        varchar(500),
  demo_url         varchar(500),
  features         text[] NOT NULL DEFAULT '{}',
  technologies     text[] NOT NULL DEFAULT '{}',
  views            integer NOT NULL DEFAULT 0 CHECK (views >= 0),
  likes            integer NOT NULL DEFAULT 0 CHECK (likes >= 0),
  is_public        boolean NOT NULL DEFAULT false,
  is_featured      boolean NOT NULL DEFAULT false,
  created_by_id    uuid NOT NULL REFERENCES aiplat.users (id) ON DELETE CASCADE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id)
);
CREATE INDEX project_showcases_created_by_idx ON aiplat.project_showcases (created_by_id);
CREATE INDEX project_showcases_category_idx ON aiplat.project_showcases (category);
CREATE INDEX project_showcases_public_idx ON aiplat.project_showcases (is_public) WHERE is_public;
CREATE INDEX project_showcases_featured_idx ON aiplat.project_showcases (is_featured) WHERE is_featured;
CREATE TRIGGER project_showcases_touch BEFORE UPDATE ON aiplat.project_showcases
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.project_showcases IS 'finished projects an organisation shows off; public ones to everyone';

GRANT SELECT, INSERT, UPDATE, DELETE ON aiplat.custom_agent_orders, aiplat.agent_templates,
  aiplat.tool_blueprints, aiplat.order_milestones, aiplat.build_logs, aiplat.template_reviews,
  aiplat.project_showcases TO aiplat_app;
SELECT aiplat.apply_tenant_policies(t, 'garage')
  FROM unnest(ARRAY['aiplat.custom_agent_orders', 'aiplat.agent_templates', 'aiplat.tool_blueprints',
                    'aiplat.order_milestones', 'aiplat.build_logs', 'aiplat.template_reviews',
                    'aiplat.project_showcases']::regclass[]) AS t;
-- Sharing by design (seed 004): public and system templates, public showcases.
CREATE POLICY shared_select ON aiplat.agent_templates FOR SELECT TO aiplat_app
  USING (is_public OR is_system);
CREATE POLICY shared_select ON aiplat.project_showcases FOR SELECT TO aiplat_app
  USING (is_public);

-- migrate:down
DROP TABLE aiplat.project_showcases;
DROP TABLE aiplat.template_reviews;
DROP TABLE aiplat.build_logs;
DROP TABLE aiplat.order_milestones;
DROP TABLE aiplat.tool_blueprints;
DROP TABLE aiplat.agent_templates;
DROP TABLE aiplat.custom_agent_orders;
DROP TYPE aiplat.showcase_category;
DROP TYPE aiplat.log_level;
DROP TYPE aiplat.tool_category;
DROP TYPE aiplat.agent_category;
DROP TYPE aiplat.order_priority;
DROP TYPE aiplat.order_status;
DROP TYPE aiplat.complexity_level;
