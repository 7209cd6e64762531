-- drop_column: the application must stop reading the column first
-- @deploy_before: yes
-- @rules: drop_column
ALTER TABLE projects DROP COLUMN description;
