-- add_unique_constraint: builds the unique index under ACCESS EXCLUSIVE
-- (the names are unique)
-- @rules: add_unique_constraint
ALTER TABLE projects ADD CONSTRAINT projects_name_key UNIQUE (name);
