-- Your SQL goes here
CREATE INDEX projects_owner_id_created_at_idx ON projects (owner_id, created_at);
