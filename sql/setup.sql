--
-- Fixtures shared by the other test files: an extension, a "large" table,
-- a small one, a partitioned table and a materialized view.  The other
-- files lower migration_guard.large_table_threshold so that "large" is
-- 1 MB: the rules are about size, not about absolute numbers.
--
CREATE EXTENSION migration_guard;
SELECT extname, extversion, nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'migration_guard';
SHOW shared_preload_libraries;

CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN plainint AS int;

CREATE TABLE small (id int PRIMARY KEY, val text);
INSERT INTO small SELECT g, 'v' || g FROM generate_series(1, 100) g;

CREATE TABLE big (
    id       int PRIMARY KEY,
    val      text,
    amount   numeric(10,2),
    name     varchar(20),
    code     text,
    created  timestamp,
    ref      int,
    CONSTRAINT big_code_not_null CHECK (code IS NOT NULL)
);
INSERT INTO big
SELECT g, md5(g::text), g / 100.0, 'n' || g, 'c' || g,
       '2020-01-01'::timestamp + g * interval '1 minute', g % 100 + 1
  FROM generate_series(1, 30000) g;
-- NOT VALID is ignored by CREATE TABLE: only ALTER TABLE leaves it unvalidated
ALTER TABLE big ADD CONSTRAINT big_ref_positive CHECK (ref > 0) NOT VALID;
CREATE INDEX big_name_idx ON big (name);
CREATE UNIQUE INDEX big_val_key_idx ON big (val);
ANALYZE big, small;

-- never analyzed: size and rows must still come out right
CREATE TABLE fresh (id int, payload text);
INSERT INTO fresh SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;

CREATE TABLE parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (20000);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (20000) TO (40000);
INSERT INTO parted SELECT g, md5(g::text) FROM generate_series(0, 39999) g;
CREATE INDEX parted_v_idx ON parted (v);
CREATE TABLE parted_3 (id int, v text);
INSERT INTO parted_3 SELECT g, md5(g::text) FROM generate_series(40000, 59999) g;
CREATE TABLE parted_4 (id int, v text, CONSTRAINT parted_4_bound CHECK (id IS NOT NULL AND id >= 60000 AND id < 80000));
INSERT INTO parted_4 SELECT g, md5(g::text) FROM generate_series(60000, 79999) g;
CREATE INDEX parted_4_v_idx ON parted_4 (v);  -- matches parted_v_idx: attaching builds nothing
ANALYZE parted, parted_3, parted_4;

-- built from "fresh", so that the tests can change every column of "big"
CREATE MATERIALIZED VIEW big_summary AS
    SELECT id % 100 AS bucket, count(*) AS n FROM fresh GROUP BY 1;
CREATE MATERIALIZED VIEW big_copy AS SELECT id, payload FROM fresh;
-- the application reads them: a table no session has used since it was
-- created is let through (unused_tables.c)
SELECT count(*) > 0 AS in_use FROM big_summary, big_copy WHERE false;

-- sizes as the guard measures them, against PostgreSQL's own: the main
-- forks of the table and its TOAST table (what a scan reads); pg_table_size
-- also counts the free space map, visibility map and TOAST index.  The
-- bytes themselves differ between majors (17 fills a materialized view's
-- pages otherwise), so the agreement is what is printed.
SELECT c.relname,
       (SELECT table_bytes FROM migration_guard.check('TRUNCATE ' || c.relname)) =
       pg_relation_size(c.oid) + coalesce(pg_relation_size(c.reltoastrelid), 0) AS same_bytes,
       (SELECT table_bytes FROM migration_guard.check('TRUNCATE ' || c.relname)) > 0 AS nonzero,
       pg_table_size(c.oid) >= (SELECT table_bytes FROM migration_guard.check('TRUNCATE ' || c.relname)) AS within_table_size
  FROM pg_class c
 WHERE c.relname IN ('big', 'small', 'fresh', 'parted_1', 'big_copy')
 ORDER BY 1;
-- partitioned: the parent is empty, the guard sums the partitions
SELECT (SELECT sum(pg_relation_size(p.relid) + coalesce(pg_relation_size(c.reltoastrelid), 0))
          FROM pg_partition_tree('parted') p JOIN pg_class c ON c.oid = p.relid) AS pg_sum,
       (SELECT table_bytes FROM migration_guard.check('TRUNCATE parted')) AS guard_bytes;
-- rows: from statistics where gathered
SELECT relname, reltuples,
       (SELECT est_rows FROM migration_guard.check('TRUNCATE ' || relname)) AS guard_rows
  FROM pg_class WHERE relname IN ('big', 'small') ORDER BY 1;
-- never analyzed: estimated from the file size and the columns' average
-- widths, as the planner does; an estimate, so within a factor of three
SELECT reltuples AS never_analyzed,
       (SELECT est_rows FROM migration_guard.check('TRUNCATE fresh'))
         BETWEEN (SELECT count(*) FROM fresh) / 3 AND (SELECT count(*) FROM fresh) * 3 AS estimate_close
  FROM pg_class WHERE relname = 'fresh';
