-- set_not_null: scans projects under ACCESS EXCLUSIVE (status has no NULL)
-- @rules: set_not_null
ALTER TABLE projects ALTER COLUMN status SET NOT NULL;
