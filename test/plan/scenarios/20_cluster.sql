-- rewrite_table with no online form inside PostgreSQL: CLUSTER rewrites
-- projects under ACCESS EXCLUSIVE. plan() cannot make it safe: its step
-- keeps the statement and says why in its note.
-- @unplannable: 1
-- @rules: rewrite_table
CLUSTER projects USING projects_pkey;
