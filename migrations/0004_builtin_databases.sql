-- Built-in project databases (seed 002, DESIGN.md section 8). Unlike the
-- seed's JSONB rows, each project database is a real PostgreSQL schema:
-- creating the project_databases row creates the schema, deleting it drops
-- the schema. project_tables keeps each table's spec (the seed's JSON format).

-- migrate:up

CREATE TABLE aiplat.projects (
  organization_id  uuid NOT NULL REFERENCES aiplat.organizations (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  owner_user_id    uuid REFERENCES aiplat.users (id) ON DELETE SET NULL,
  name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, name)
);
CREATE INDEX projects_owner_idx ON aiplat.projects (owner_user_id);
CREATE TRIGGER projects_touch BEFORE UPDATE ON aiplat.projects
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.projects IS 'an organisation''s projects (seed 002)';

CREATE TABLE aiplat.project_databases (
  organization_id  uuid NOT NULL,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id       uuid NOT NULL,
  name             text NOT NULL DEFAULT 'main' CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  schema_name      text NOT NULL UNIQUE CHECK (schema_name ~ '^aiplat_p_[0-9a-f]{32}$'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, project_id),
  FOREIGN KEY (organization_id, project_id)
    REFERENCES aiplat.projects (organization_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE aiplat.project_databases IS 'one database per project, living in its own PostgreSQL schema';
COMMENT ON COLUMN aiplat.project_databases.schema_name IS 'aiplat_p_<id without dashes>, derived from the id';

CREATE TABLE aiplat.project_tables (
  organization_id  uuid NOT NULL,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  database_id      uuid NOT NULL,
  table_name       text NOT NULL CHECK (table_name ~ '^[a-z][a-z0-9_]{0,62}$'),
  schema_json      jsonb NOT NULL CHECK (jsonb_typeof(schema_json) = 'object'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, id),
  UNIQUE (organization_id, database_id, table_name),
  FOREIGN KEY (organization_id, database_id)
    REFERENCES aiplat.project_databases (organization_id, id) ON DELETE CASCADE
);
CREATE TRIGGER project_tables_touch BEFORE UPDATE ON aiplat.project_tables
  FOR EACH ROW EXECUTE FUNCTION aiplat.touch_updated_at();
COMMENT ON TABLE aiplat.project_tables IS 'table specs of a project database (seed 002 JSON: name, columns)';

-- The schema follows the row. SECURITY DEFINER: people may create project
-- databases (row-level security decides where) but not schemas.
CREATE FUNCTION aiplat.project_database_schema() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, aiplat AS $$
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
$$;
CREATE TRIGGER project_databases_name BEFORE INSERT ON aiplat.project_databases
  FOR EACH ROW EXECUTE FUNCTION aiplat.project_database_schema();
CREATE TRIGGER project_databases_create_schema AFTER INSERT ON aiplat.project_databases
  FOR EACH ROW EXECUTE FUNCTION aiplat.project_database_schema();
CREATE TRIGGER project_databases_drop_schema AFTER DELETE ON aiplat.project_databases
  FOR EACH ROW EXECUTE FUNCTION aiplat.project_database_schema();

GRANT SELECT, INSERT, UPDATE, DELETE ON aiplat.projects, aiplat.project_tables TO aiplat_app;
GRANT SELECT, INSERT (organization_id, id, project_id, name), UPDATE (name), DELETE
  ON aiplat.project_databases TO aiplat_app;
SELECT aiplat.apply_tenant_policies('aiplat.projects', 'projects', 'read', 'write');
SELECT aiplat.apply_tenant_policies('aiplat.project_databases', 'projects', 'read', 'write');
SELECT aiplat.apply_tenant_policies('aiplat.project_tables', 'projects', 'read', 'write');

-- migrate:down
DO $$
DECLARE
  s text;
BEGIN
  FOR s IN SELECT schema_name FROM aiplat.project_databases LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', s);
  END LOOP;
END
$$;
DROP TABLE aiplat.project_tables;
DROP TABLE aiplat.project_databases;
DROP TABLE aiplat.projects;
DROP FUNCTION aiplat.project_database_schema();
