-- drop_index: DROP INDEX takes an ACCESS EXCLUSIVE lock on projects
-- @rules: drop_index
DROP INDEX projects_created_at_idx;
