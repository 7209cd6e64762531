-- add_column_rewrite: a NOT NULL column with a volatile default rewrites
-- projects under ACCESS EXCLUSIVE
-- @nondeterministic: projects.token
-- @rules: add_column_rewrite
ALTER TABLE projects ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();
