-- add_check: validates every row of projects under ACCESS EXCLUSIVE
-- @rules: add_check
ALTER TABLE projects ADD CONSTRAINT projects_budget_check CHECK (budget >= 0);
