-- rename_table: breaks every query that names the old table
-- @deploy_before: yes
-- @rules: rename_table
ALTER TABLE organizations RENAME TO teams;
