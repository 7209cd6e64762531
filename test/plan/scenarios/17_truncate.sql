-- truncate: ACCESS EXCLUSIVE, and the rows are gone
-- @deploy_before: yes
-- @rules: truncate
TRUNCATE import_staging;
