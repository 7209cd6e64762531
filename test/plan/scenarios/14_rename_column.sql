-- rename_column: breaks every query that names the old column
-- @deploy_before: yes
-- @rules: rename_column
ALTER TABLE projects RENAME COLUMN name TO title;
