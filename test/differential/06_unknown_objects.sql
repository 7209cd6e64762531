-- objects that are not there: PostgreSQL's errors, on both sides
ALTER TABLE IF EXISTS no_such_table ADD COLUMN x int;
ALTER TABLE big ALTER COLUMN no_such_column TYPE bigint;
