--
-- The rulebook, rule by rule: refused above the threshold, silent below it.
-- Fixtures come from setup.sql: "big" (about 3 MB), "small" (8 kB),
-- "parted" (partitioned, partitions summed), "big_summary" (matview).
--
SET migration_guard.large_table_threshold = '1MB';
SHOW migration_guard.mode;

-- Full messages for one rule, to see DETAIL and HINT in context
CREATE INDEX big_val_idx ON big (val);

\set VERBOSITY terse

-- create_index
CREATE INDEX ON big (val, name);
CREATE UNIQUE INDEX big_uniq ON big USING btree (id, val) WHERE id > 0;
CREATE INDEX small_val_idx ON small (val);                   -- small: silent
BEGIN;
CREATE INDEX ON ONLY parted (v);                             -- builds nothing
ROLLBACK;
CREATE INDEX ON parted (v);                                  -- partitions summed

-- drop_index: a warning, not a refusal: the lock is brief once granted, and
-- lock_queue and the lock_timeout guard the wait for it
BEGIN;
DROP INDEX big_name_idx;
ROLLBACK;
DROP INDEX small_val_idx;                                     -- small: silent
DROP INDEX big_pkey;                  -- a constraint's: PostgreSQL's error alone

-- reindex
REINDEX INDEX big_name_idx;
REINDEX TABLE big;
REINDEX TABLE small;                                          -- small: silent

-- add_column_rewrite
ALTER TABLE big ADD COLUMN org_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE big ADD COLUMN r float8 DEFAULT random();
ALTER TABLE big ADD COLUMN seq bigserial;
ALTER TABLE big ADD COLUMN ident int GENERATED ALWAYS AS IDENTITY;
ALTER TABLE big ADD COLUMN twice int GENERATED ALWAYS AS (id * 2) STORED;
ALTER TABLE big ADD COLUMN p posint;
ALTER TABLE parted ADD COLUMN u uuid DEFAULT gen_random_uuid();
-- no rewrite since PostgreSQL 11: silent
BEGIN;
ALTER TABLE big ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE big ADD COLUMN status text DEFAULT 'active';
ALTER TABLE big ADD COLUMN note text;
ALTER TABLE big ADD COLUMN p2 plainint DEFAULT 1;
ROLLBACK;
ALTER TABLE small ADD COLUMN u uuid DEFAULT gen_random_uuid(); -- small: silent
-- a domain's own volatile default rewrites as a column's does; DEFAULT NULL
-- overrides it (the recipe's first step)
CREATE DOMAIN uuid_vd AS uuid DEFAULT gen_random_uuid();
ALTER TABLE big ADD COLUMN u2 uuid_vd;
SELECT rule, verdict, detail FROM migration_guard.check('ALTER TABLE big ADD COLUMN u2 uuid_vd');
BEGIN;
ALTER TABLE big ADD COLUMN u2 uuid_vd DEFAULT NULL;               -- silent
ROLLBACK;
DROP DOMAIN uuid_vd;
-- an inheritance parent: ALTER TABLE recurses, the child is rewritten
CREATE TABLE inh_parent (id int);
CREATE TABLE inh_child (note text) INHERITS (inh_parent);
SET migration_guard.mode = off;
INSERT INTO inh_child SELECT g, 'x' FROM generate_series(1, 40000) g;
RESET migration_guard.mode;
ALTER TABLE inh_parent ADD COLUMN u uuid DEFAULT gen_random_uuid();
ALTER TABLE inh_parent ALTER COLUMN id SET NOT NULL;
ALTER TABLE ONLY inh_parent ALTER COLUMN id SET DEFAULT 0;         -- silent
SELECT relation, lock_mode, rewrite, scan, rule, verdict
  FROM migration_guard.check('ALTER TABLE inh_parent ADD COLUMN u uuid DEFAULT gen_random_uuid()')
 ORDER BY relation::text;
SET migration_guard.mode = off;
DROP TABLE inh_parent CASCADE;
RESET migration_guard.mode;

-- alter_column_type
ALTER TABLE big ALTER COLUMN id TYPE bigint;
ALTER TABLE big ALTER COLUMN name TYPE varchar(10);
ALTER TABLE big ALTER COLUMN amount TYPE numeric(12,4);
ALTER TABLE big ALTER COLUMN ref TYPE text USING ref::text;
-- binary-coercible: silent
BEGIN;
ALTER TABLE big ALTER COLUMN name TYPE varchar(40);
ALTER TABLE big ALTER COLUMN name TYPE text;
ALTER TABLE big ALTER COLUMN amount TYPE numeric(14,2);
SET LOCAL TimeZone = 'UTC';
ALTER TABLE big ALTER COLUMN created TYPE timestamptz;
ROLLBACK;
-- timestamp to timestamptz rewrites unless the session's TimeZone is UTC
ALTER TABLE big ALTER COLUMN created TYPE timestamptz;

-- set_not_null
ALTER TABLE big ALTER COLUMN val SET NOT NULL;
BEGIN;
ALTER TABLE big ALTER COLUMN code SET NOT NULL;                -- proved by a CHECK
ROLLBACK;

-- add_check
ALTER TABLE big ADD CONSTRAINT big_amount_positive CHECK (amount >= 0);
ALTER TABLE big ADD CHECK (amount >= 0);
-- a CHECK written on ADD COLUMN is validated by a scan too
ALTER TABLE big ADD COLUMN seats int DEFAULT 10 CHECK (seats > 0);
SELECT hint FROM migration_guard.check('ALTER TABLE big ADD COLUMN seats int DEFAULT 10 CHECK (seats > 0)')
 WHERE rule = 'add_check';
-- (in one transaction, as here, the VALIDATE runs under the ADD's ACCESS
-- EXCLUSIVE lock: exclusive_lock_held warns; commit in between)
BEGIN;
ALTER TABLE big ADD CONSTRAINT big_amount_positive CHECK (amount >= 0) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT big_amount_positive;
ROLLBACK;

-- add_foreign_key
ALTER TABLE big ADD CONSTRAINT big_ref_fkey FOREIGN KEY (ref) REFERENCES small (id);
ALTER TABLE big ADD COLUMN small_id int DEFAULT 1 REFERENCES small (id);
BEGIN;
ALTER TABLE big ADD CONSTRAINT big_ref_fkey FOREIGN KEY (ref) REFERENCES small (id) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT big_ref_fkey;
ALTER TABLE big ADD COLUMN small_id int REFERENCES small (id); -- all NULL: no scan
ROLLBACK;

-- add_unique_constraint
ALTER TABLE big ADD CONSTRAINT big_val_key UNIQUE (val);
ALTER TABLE big ADD COLUMN email text UNIQUE;
ALTER TABLE big ADD CONSTRAINT big_no_overlap EXCLUDE USING btree (id WITH =);
BEGIN;
ALTER TABLE big ADD CONSTRAINT big_val_key UNIQUE USING INDEX big_val_key_idx;
ROLLBACK;
-- a primary key USING INDEX sets NOT NULL on its columns: set_not_null
BEGIN;
ALTER TABLE big DROP CONSTRAINT big_pkey;  -- (drop it for the test; big keeps its rows)
ALTER TABLE big ADD CONSTRAINT big_val_pkey PRIMARY KEY USING INDEX big_val_key_idx;
ROLLBACK;

-- rewrite_table
CLUSTER big USING big_pkey;
VACUUM FULL big;
ALTER TABLE big SET UNLOGGED;
BEGIN;
ALTER TABLE big SET LOGGED;                                   -- already logged
ALTER TABLE big SET ACCESS METHOD heap;                       -- already heap
ROLLBACK;
VACUUM big;                                                   -- not FULL: silent

-- attach_partition, detach_partition
ALTER TABLE parted ATTACH PARTITION parted_3 FOR VALUES FROM (40000) TO (60000);
BEGIN;
ALTER TABLE parted ATTACH PARTITION parted_4 FOR VALUES FROM (60000) TO (80000); -- CHECK proves it
ROLLBACK;
\set VERBOSITY default
BEGIN;
SET LOCAL migration_guard.allow = 'drop_index';
DROP INDEX parted_4_v_idx;
RESET migration_guard.allow;
ALTER TABLE parted ATTACH PARTITION parted_4 FOR VALUES FROM (60000) TO (80000); -- index to build
ROLLBACK;
\set VERBOSITY terse
BEGIN;
ALTER TABLE parted DETACH PARTITION parted_2;                 -- a warning, as drop_index
ROLLBACK;

-- A statement PostgreSQL rejects gets PostgreSQL's own error, position
-- included, as with the guard off: inspecting it must not fail first
CREATE TABLE parted_nov (id int);                              -- no column v
CREATE TABLE parted_bigv (id int, v bigint);                   -- v of another type
\set VERBOSITY default
SET migration_guard.mode = off;
ALTER TABLE parted ATTACH PARTITION parted_3 FOR VALUES IN (1);
ALTER TABLE parted ATTACH PARTITION parted_nov FOR VALUES FROM (90000) TO (95000);
ALTER TABLE parted ATTACH PARTITION parted_bigv FOR VALUES FROM (90000) TO (95000);
RESET migration_guard.mode;
ALTER TABLE parted ATTACH PARTITION parted_3 FOR VALUES IN (1);
ALTER TABLE parted ATTACH PARTITION parted_nov FOR VALUES FROM (90000) TO (95000);
ALTER TABLE parted ATTACH PARTITION parted_bigv FOR VALUES FROM (90000) TO (95000);
\set VERBOSITY terse
DROP TABLE parted_nov, parted_bigv;

-- A statement that could not be inspected and that PostgreSQL then ran,
-- ran unjudged: the client is told why, and its audit row says so.  The
-- guard evaluates a partition bound before PostgreSQL does, and this
-- function fails on its first call only.
CREATE SEQUENCE first_call_seq;
CREATE FUNCTION first_call_fails() RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('first_call_seq') = 1 THEN
    RAISE EXCEPTION 'first call fails';
  END IF;
  RETURN 90000;
END$$;
CREATE TABLE parted_5 (id int, v text);
BEGIN;
\set VERBOSITY default
ALTER TABLE parted ATTACH PARTITION parted_5 FOR VALUES FROM (first_call_fails()) TO (95000);
\set VERBOSITY terse
SELECT verdict, relation_name, rules FROM migration_guard.audit_log
 WHERE statement LIKE '%first_call_fails%';
SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'parted_5';
ROLLBACK;
DROP TABLE parted_5;
DROP FUNCTION first_call_fails();
DROP SEQUENCE first_call_seq;

-- ATTACH PARTITION clones the parent's foreign key onto the partition and
-- validates it over every row, under the partition's ACCESS EXCLUSIVE lock
CREATE TABLE fkparted (id int, ref int REFERENCES big (id)) PARTITION BY RANGE (id);
CREATE TABLE fkparted_1 (id int, ref int, CHECK (id IS NOT NULL AND id >= 0 AND id < 100000));
SET migration_guard.mode = off;
INSERT INTO fkparted_1 SELECT g, g % 100 + 1 FROM generate_series(1, 60000) g;
RESET migration_guard.mode;
\set VERBOSITY default
ALTER TABLE fkparted ATTACH PARTITION fkparted_1 FOR VALUES FROM (0) TO (100000);
\set VERBOSITY terse
-- the HINT's recipe: the validated foreign key is adopted, nothing is scanned
ALTER TABLE fkparted_1 ADD CONSTRAINT fkparted_ref_fkey FOREIGN KEY (ref) REFERENCES big(id) NOT VALID;
ALTER TABLE fkparted_1 VALIDATE CONSTRAINT fkparted_ref_fkey;
ALTER TABLE fkparted ATTACH PARTITION fkparted_1 FOR VALUES FROM (0) TO (100000);
SET migration_guard.mode = off;
DROP TABLE fkparted;
RESET migration_guard.mode;

-- ALTER TYPE ... CASCADE changes every typed table of a composite type
CREATE TYPE big_row AS (id int, v text);
CREATE TABLE typed_big OF big_row;
CREATE TABLE typed_small OF big_row;
SET migration_guard.mode = off;
INSERT INTO typed_big SELECT g, md5(g::text) FROM generate_series(1, 30000) g;
RESET migration_guard.mode;
ALTER TYPE big_row ALTER ATTRIBUTE id TYPE bigint CASCADE;     -- rewrites typed_big
ALTER TYPE big_row ALTER ATTRIBUTE id TYPE bigint;             -- PostgreSQL's error
BEGIN;
ALTER TYPE big_row ALTER ATTRIBUTE v TYPE varchar CASCADE;     -- no rewrite: silent
ROLLBACK;
BEGIN;
ALTER TYPE big_row DROP ATTRIBUTE v CASCADE;                   -- each typed table loses v
ROLLBACK;
BEGIN;
ALTER TYPE big_row RENAME ATTRIBUTE v TO w CASCADE;
ROLLBACK;
SET migration_guard.mode = off;
DROP TABLE typed_big, typed_small;
DROP TYPE big_row;
RESET migration_guard.mode;

-- a new partition beside a large default partition scans it, as ATTACH does
CREATE TABLE dp (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE dp_def PARTITION OF dp DEFAULT;
SET migration_guard.mode = off;
INSERT INTO dp SELECT g, md5(g::text) FROM generate_series(1, 30000) g;
RESET migration_guard.mode;
CREATE TABLE dp_1 PARTITION OF dp FOR VALUES FROM (100000) TO (200000);
CREATE TABLE dp_2 PARTITION OF dp FOR VALUES FROM (200000) TO (300000) PARTITION BY RANGE (id);
SET migration_guard.mode = off;
DROP TABLE dp;
RESET migration_guard.mode;

-- refresh_matview
REFRESH MATERIALIZED VIEW big_copy;
BEGIN;
REFRESH MATERIALIZED VIEW big_copy WITH NO DATA;              -- empties it: fast
ROLLBACK;

-- drop_column, rename_column, rename_table, drop_table, truncate: warn at any size
BEGIN;
ALTER TABLE small DROP COLUMN u;
ALTER TABLE small RENAME COLUMN val TO value;
ALTER TABLE small RENAME TO tiny;
TRUNCATE tiny;
DROP TABLE tiny CASCADE;
ROLLBACK;

-- what DROP ... CASCADE takes with it is warned about as the direct drop is
CREATE SCHEMA gone;
CREATE TABLE gone.t (id int);
INSERT INTO gone.t VALUES (1);  -- an empty table is dropped in silence
SELECT count(*) FROM gone.t;    -- and the application uses it
CREATE TYPE gone_mood AS ENUM ('a');
CREATE TABLE keeps (id int, m gone_mood);
SELECT statement, relation, lock_mode, rule, verdict
  FROM migration_guard.check('DROP SCHEMA gone CASCADE; DROP TYPE gone_mood CASCADE')
 ORDER BY statement, relation::text;
DROP SCHEMA gone CASCADE;
DROP TYPE gone_mood CASCADE;
SET migration_guard.mode = off;
DROP TABLE keeps;
RESET migration_guard.mode;

-- TRUNCATE ... CASCADE empties the tables whose keys reference it, and theirs
CREATE TABLE tc_a (id int PRIMARY KEY);
CREATE TABLE tc_b (id int PRIMARY KEY, a int REFERENCES tc_a);
CREATE TABLE tc_c (b int REFERENCES tc_b);
INSERT INTO tc_a VALUES (1);
INSERT INTO tc_b VALUES (1, 1);
INSERT INTO tc_c VALUES (1);
SELECT relation, lock_mode, rewrite, rule, verdict
  FROM migration_guard.check('TRUNCATE tc_a CASCADE') ORDER BY relation::text;
TRUNCATE tc_a CASCADE;
SET migration_guard.mode = off;
DROP TABLE tc_c, tc_b, tc_a;
RESET migration_guard.mode;

-- ALTER DOMAIN scans every table with a column of the domain under SHARE
CREATE DOMAIN pos_d AS int;
CREATE TABLE dom_big (v pos_d);
SET migration_guard.mode = off;
INSERT INTO dom_big SELECT generate_series(1, 50000);
RESET migration_guard.mode;
\set VERBOSITY default
ALTER DOMAIN pos_d ADD CONSTRAINT pos_d_check CHECK (VALUE > 0);
\set VERBOSITY terse
ALTER DOMAIN pos_d ADD CONSTRAINT pos_d_check CHECK (VALUE > 0) NOT VALID;  -- silent
ALTER DOMAIN pos_d VALIDATE CONSTRAINT pos_d_check;
ALTER DOMAIN pos_d SET NOT NULL;
SET migration_guard.mode = off;
DROP TABLE dom_big;
DROP DOMAIN pos_d;
RESET migration_guard.mode;

-- several findings in one statement: all are reported, the first refuses
ALTER TABLE big ADD CONSTRAINT big_amount_positive CHECK (amount >= 0),
                ALTER COLUMN val SET NOT NULL,
                DROP COLUMN ref;

-- exemptions: a table created in this transaction, a temporary table
BEGIN;
CREATE TABLE brand_new AS SELECT * FROM big;
CREATE INDEX ON brand_new (val);
ALTER TABLE brand_new ADD COLUMN u uuid DEFAULT gen_random_uuid();
ALTER TABLE brand_new ALTER COLUMN val SET NOT NULL;
ROLLBACK;
CREATE TEMP TABLE scratch AS SELECT * FROM big;
CREATE INDEX ON scratch (val);
ALTER TABLE scratch ADD COLUMN u uuid DEFAULT gen_random_uuid();
DROP TABLE scratch;
-- an old table altered earlier in the transaction is still an old table
BEGIN;
ALTER TABLE big ADD COLUMN note text;
CREATE INDEX ON big (note);
ROLLBACK;

-- DDL from functions and DO blocks is judged like any other
DO $$ BEGIN EXECUTE 'CREATE INDEX ON big (code)'; END $$;
CREATE FUNCTION add_index() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  CREATE INDEX ON big (code);
END $$;
SELECT add_index();
DROP FUNCTION add_index();

-- statements the guard does not look at are untouched
DROP FUNCTION IF EXISTS no_such_function(int), no_such_function2();
DROP TYPE IF EXISTS no_such_type;
DROP VIEW IF EXISTS no_such_view;
ALTER TABLE IF EXISTS no_such_table ADD COLUMN x int;
CREATE INDEX ON no_such_table (x);

-- VALIDATE CONSTRAINT is the safe path alone; with a subcommand that takes
-- ACCESS EXCLUSIVE, its scan runs under that lock
\set VERBOSITY default
ALTER TABLE big VALIDATE CONSTRAINT big_ref_positive, DROP COLUMN amount;
\set VERBOSITY terse
BEGIN;
ALTER TABLE big VALIDATE CONSTRAINT big_ref_positive, SET (fillfactor = 90);  -- both SHARE UPDATE EXCLUSIVE: silent
ROLLBACK;

-- idempotent migrations whose work is done already pass in silence (the
-- NOTICE is PostgreSQL's); the same statements with work to do are refused
ALTER TABLE big ADD COLUMN IF NOT EXISTS val uuid DEFAULT gen_random_uuid();
CREATE INDEX IF NOT EXISTS big_name_idx ON big (val);
CREATE INDEX IF NOT EXISTS big_val_new_idx ON big (val);
ALTER TABLE big ADD COLUMN IF NOT EXISTS brand_new uuid DEFAULT gen_random_uuid();

-- nothing was changed by the refused statements
SELECT count(*) AS big_indexes FROM pg_index WHERE indrelid = 'big'::regclass;
SELECT attname FROM pg_attribute WHERE attrelid = 'big'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;

-- A table whose bulk is TOAST: validating a foreign key, SET NOT NULL or
-- an index on an int column reads the rows, not their out-of-line values,
-- and is judged on the heap alone (they were refused on the whole 8 MB); a
-- rewrite copies the TOAST data too, an index on the text reads it: still
-- refused
SET migration_guard.large_table_threshold = '1MB';
SET migration_guard.mode = off;
CREATE TABLE toasty (id int PRIMARY KEY, ref int, body text);
INSERT INTO toasty
SELECT g, g % 100 + 1, (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 250) i)
  FROM generate_series(1, 1000) g;
ANALYZE toasty;
RESET migration_guard.mode;
SELECT pg_relation_size('toasty') < 1024 * 1024 AS heap_under_1mb,
       pg_relation_size(reltoastrelid) > 4 * 1024 * 1024 AS toast_over_4mb
  FROM pg_class WHERE oid = 'toasty'::regclass;
SELECT statement, rule, verdict
  FROM migration_guard.check($$
    ALTER TABLE toasty ADD CONSTRAINT toasty_ref_fk FOREIGN KEY (ref) REFERENCES small (id);
    ALTER TABLE toasty ALTER COLUMN ref SET NOT NULL;
    ALTER TABLE toasty ADD COLUMN u uuid DEFAULT gen_random_uuid();
    CREATE INDEX ON toasty (ref);
    CREATE INDEX ON toasty (body);
    ALTER TABLE toasty ADD CONSTRAINT toasty_body_present CHECK (body IS NOT NULL AND ref IS NOT NULL);
    ALTER TABLE toasty ADD CONSTRAINT toasty_body_short CHECK (length(body) < 10000);
    ALTER TABLE toasty ADD CONSTRAINT toasty_ref_positive CHECK (ref > 0 AND id IS NOT NULL);
  $$, 'statement') ORDER BY statement;
-- the engine agrees: the statements judged on the heap alone read no block
-- of the TOAST table, a CHECK that reads the text reads all of it (the
-- blocks counted since the last flush of statistics, forced before)
SELECT pg_stat_force_next_flush();
BEGIN;
ALTER TABLE toasty ADD CONSTRAINT toasty_ref_fk FOREIGN KEY (ref) REFERENCES small (id);
ALTER TABLE toasty ALTER COLUMN ref SET NOT NULL;
ALTER TABLE toasty ADD CONSTRAINT toasty_body_present CHECK (body IS NOT NULL AND ref IS NOT NULL);
CREATE INDEX ON toasty (ref);
SELECT pg_stat_get_xact_blocks_fetched(reltoastrelid) AS toast_blocks_read
  FROM pg_class WHERE oid = 'toasty'::regclass;
SET LOCAL migration_guard.allow = 'add_check';
ALTER TABLE toasty ADD CONSTRAINT toasty_body_short CHECK (length(body) < 10000);
SELECT pg_stat_get_xact_blocks_fetched(reltoastrelid) > 500 AS toast_read
  FROM pg_class WHERE oid = 'toasty'::regclass;
ROLLBACK;
SET migration_guard.mode = off;
DROP TABLE toasty;
RESET migration_guard.mode;

-- A table loaded and never analysed (no VACUUM or ANALYZE has set its
-- pg_class statistics): its rows are the live tuples the cumulative
-- statistics counted (with this session's count not flushed yet), not a
-- guess from the column types' average widths (which said about 42,000 for
-- these 20,000 rows)
SET migration_guard.mode = off;
CREATE TABLE fresh_load (id int, body text);
INSERT INTO fresh_load
SELECT g, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text)
  FROM generate_series(1, 20000) g;
RESET migration_guard.mode;
SELECT reltuples AS never_analysed FROM pg_class WHERE oid = 'fresh_load'::regclass;
SELECT substring(detail from 'about [0-9]+ rows') AS rows_said
  FROM migration_guard.check($$ CREATE INDEX ON fresh_load (body); $$);
\set VERBOSITY default
CREATE INDEX ON fresh_load (body);
\set VERBOSITY terse
SET migration_guard.mode = off;
DROP TABLE fresh_load;
RESET migration_guard.mode;
RESET migration_guard.large_table_threshold;

-- TRUNCATE or DROP TABLE of a table with no rows deletes nothing: no
-- warning (pgbench -i truncates the tables it has just created, and
-- printed "0 bytes, about 0 rows" warnings); one with rows still warns
CREATE TABLE empty_t (id int);
SELECT count(*) FROM empty_t;   -- the application uses it
TRUNCATE empty_t;
INSERT INTO empty_t VALUES (1);
TRUNCATE empty_t;
SELECT rule, verdict FROM migration_guard.check('TRUNCATE empty_t');
INSERT INTO empty_t VALUES (1);
SELECT rule, verdict FROM migration_guard.check('DROP TABLE empty_t');
TRUNCATE empty_t;
DROP TABLE empty_t;
-- DROP TABLE of a table that no session has used since it was created
-- (a scratch copy a script made): nobody has read the rows it
-- deletes, so it is let through and audited as unused_table.  Once used,
-- it warns.
SET migration_guard.audit = 'all';
CREATE TABLE scratch_copy AS SELECT g AS id FROM generate_series(1, 1000) g;
SELECT rule, verdict, message FROM migration_guard.check('DROP TABLE scratch_copy');
DROP TABLE scratch_copy;
SELECT command, relation_name, verdict FROM migration_guard.audit_log
 ORDER BY id DESC LIMIT 1;
CREATE TABLE scratch_copy AS SELECT g AS id FROM generate_series(1, 1000) g;
SELECT count(*) FROM scratch_copy;
DROP TABLE scratch_copy;
RESET migration_guard.audit;
