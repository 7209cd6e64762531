-- create_index: an unnamed and a named (partial, multi-column) index on
-- projects, built under a SHARE lock that blocks its writes
-- @rules: create_index
CREATE INDEX ON projects (status);
CREATE INDEX projects_owner_created_idx ON projects (owner_id, created_at DESC) WHERE archived_at IS NULL;
