-- in the tool's one transaction, CONCURRENTLY is PostgreSQL's error
ALTER TABLE big ADD COLUMN flag int;
UPDATE big SET flag = 1 WHERE id < 100;
CREATE INDEX CONCURRENTLY big_flag_idx ON big (flag);
