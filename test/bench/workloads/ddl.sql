\set t :client_id * 500 + random(0, 499)
ALTER TABLE ddl_:t ADD COLUMN c int;
CREATE INDEX ON ddl_:t (c);
ALTER TABLE ddl_:t DROP COLUMN c;
CREATE TABLE tmp_:client_id (id int);
DROP TABLE tmp_:client_id;
