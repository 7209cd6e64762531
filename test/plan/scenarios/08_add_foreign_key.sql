-- add_foreign_key with its index: a new column, the foreign key (validated
-- under SHARE ROW EXCLUSIVE on both tables) and the index that serves it
-- @rules: add_foreign_key
ALTER TABLE projects ADD COLUMN org_id bigint;
ALTER TABLE projects ADD CONSTRAINT projects_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations;
CREATE INDEX ON projects (org_id);
