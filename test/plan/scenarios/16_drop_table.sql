-- drop_table: the application must stop using the table first
-- @deploy_before: yes
-- @rules: drop_table
DROP TABLE legacy_audit;
