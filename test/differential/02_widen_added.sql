-- a column the script adds, widened, then indexed on a new table
ALTER TABLE big ADD COLUMN nickname varchar(10);
ALTER TABLE big ALTER COLUMN nickname TYPE varchar(40);
ALTER TABLE big ALTER COLUMN code TYPE varchar(20);
CREATE TABLE audit_trail (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, big_id int REFERENCES big (id), note text);
CREATE INDEX ON audit_trail (big_id);
ALTER TABLE audit_trail ADD COLUMN at timestamptz NOT NULL DEFAULT now();
