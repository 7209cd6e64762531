-- The database as `diesel migration run` left it: the initial setup and the
-- first two migrations applied. `migration_guard check --pending` checks
-- 2024-01-03-000000_*, 2024-01-04-000000_* and 2024-01-05-000000_* only.
-- Run after fixture.sql, in the same database.

-- What the applied migrations did (the CREATE INDEX ran in a maintenance
-- window: the guard refuses it now that the application uses projects)
BEGIN;
SET LOCAL migration_guard.allow = 'all';
SET LOCAL migration_guard.reason = 'test fixture: migrations deployed before';
CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s
                    FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$
BEGIN
    IF (
        NEW IS DISTINCT FROM OLD AND
        NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
    ) THEN
        NEW.updated_at := current_timestamp;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TABLE tags (
    id SERIAL PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);
CREATE TABLE project_tags (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, tag_id)
);
CREATE INDEX project_tags_tag_id_idx ON project_tags (tag_id);
CREATE INDEX projects_owner_id_created_at_idx ON projects (owner_id, created_at);
COMMIT;

-- Diesel's history table, as diesel_migrations creates it; the version is
-- the directory name up to its first '_', without the '-'
CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO __diesel_schema_migrations (version, run_on) VALUES
('00000000000000', '2024-01-01 10:00:00.981'),
('20240101000000', '2024-01-01 10:00:01.032'),
('20240102000000', '2024-01-02 22:14:09.544');
