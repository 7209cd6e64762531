-- Your SQL goes here
-- metadata.toml: run_in_transaction = false, as CONCURRENTLY requires
CREATE INDEX CONCURRENTLY projects_updated_at_idx ON projects (updated_at);
