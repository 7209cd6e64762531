-- relations an earlier statement dropped or renamed away are gone; a schema
-- the script makes is there, one it does not make is PostgreSQL's error
CREATE SCHEMA made_schema;
CREATE TABLE made_schema.t (id int);
ALTER INDEX small RENAME TO small_moved;
ALTER TABLE small_moved ADD COLUMN extra int;
DROP TABLE big;
LOCK TABLE small;
