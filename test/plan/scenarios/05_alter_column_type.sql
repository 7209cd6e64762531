-- alter_column_type: int to bigint rewrites projects (the safe way: a new
-- column written by both, backfilled, then swapped)
-- @rules: alter_column_type
ALTER TABLE projects ALTER COLUMN budget TYPE bigint;
