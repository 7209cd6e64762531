--
-- migration_guard.check(): the dry run of a whole migration script.
--
SET migration_guard.large_table_threshold = '1MB';

-- one row per statement, relation and finding; nothing is executed
SELECT statement, command, relation, lock_mode, rewrite, scan, rule, verdict
  FROM migration_guard.check($$
    CREATE TABLE audit_events (id bigint, big_id int, note text);
    CREATE INDEX ON audit_events (big_id);
    ALTER TABLE audit_events ADD COLUMN u uuid DEFAULT gen_random_uuid();
    ALTER TABLE big ADD COLUMN org_id bigint;
    ALTER TABLE big ALTER COLUMN org_id SET NOT NULL;
    CREATE INDEX big_org_idx ON big (org_id);
    ALTER TABLE big ADD CONSTRAINT big_ref_fkey FOREIGN KEY (ref) REFERENCES small (id) NOT VALID;
    ALTER TABLE big VALIDATE CONSTRAINT big_ref_fkey;
    UPDATE big SET org_id = 1 WHERE id < 100;
    SELECT 1;
  $$);
-- nothing ran
SELECT to_regclass('audit_events') AS created,
       (SELECT count(*) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'org_id') AS added;

-- message, detail and hint, as the hook would raise them
SELECT rule, verdict, message, detail, hint
  FROM migration_guard.check('ALTER TABLE big ADD COLUMN org_id uuid NOT NULL DEFAULT gen_random_uuid()');
SELECT rule, message, hint
  FROM migration_guard.check($$ALTER TABLE big ADD CONSTRAINT big_ref_fkey FOREIGN KEY (ref) REFERENCES small (id) ON DELETE CASCADE, ADD CHECK (amount > 0)$$);
SELECT rule, hint FROM migration_guard.check('ALTER TABLE "big" ALTER COLUMN "val" SET NOT NULL');
SELECT rule, hint FROM migration_guard.check('ALTER TABLE big ADD PRIMARY KEY (id, val)');
SELECT rule, hint FROM migration_guard.check('REINDEX INDEX big_name_idx');
SELECT rule, hint FROM migration_guard.check('ALTER TABLE parted ATTACH PARTITION parted_3 FOR VALUES FROM (40000) TO (60000)');
SELECT rule, hint FROM migration_guard.check('CREATE INDEX parted_v_idx ON parted (v)');
SELECT rule, hint FROM migration_guard.check('ALTER TABLE big RENAME TO accounts');

-- the verdict follows the session's settings, as the hook's does
SET migration_guard.mode = warn;
SELECT rule, verdict FROM migration_guard.check('CREATE INDEX ON big (val)');
RESET migration_guard.mode;
SET migration_guard.allow = 'create_index';
SELECT rule, verdict FROM migration_guard.check('CREATE INDEX ON big (val)');
RESET migration_guard.allow;

-- the hook and check() agree: each refused statement is "block" in check()
CREATE TABLE hook_vs_check (stmt text);
INSERT INTO hook_vs_check VALUES
  ('CREATE INDEX ON big (val)'), ('CREATE INDEX ON small (val)'),
  ('ALTER TABLE big ALTER COLUMN val SET NOT NULL'),
  ('ALTER TABLE big ALTER COLUMN code SET NOT NULL'),
  ('ALTER TABLE big ALTER COLUMN name TYPE text'),
  ('ALTER TABLE big ALTER COLUMN name TYPE varchar(5)'),
  ('ALTER TABLE big ADD COLUMN x int DEFAULT 0'),
  ('ALTER TABLE big ADD COLUMN x float8 DEFAULT random()'),
  ('DROP INDEX big_name_idx'), ('TRUNCATE small');
CREATE FUNCTION hook_refuses(stmt text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    EXECUTE stmt;
    RAISE EXCEPTION USING ERRCODE = 'MGT02';
  EXCEPTION
    WHEN SQLSTATE 'MG001' THEN RETURN true;
    WHEN SQLSTATE 'MGT02' THEN RETURN false;
  END;
END $$;
SET client_min_messages = error;
SELECT stmt, hook_refuses(stmt) AS hook_refuses,
       (SELECT bool_or(verdict = 'block') FROM migration_guard.check(stmt)) AS check_blocks
  FROM hook_vs_check;
RESET client_min_messages;

-- bad input: syntax errors with their position, empty and NULL scripts
SELECT * FROM migration_guard.check('CREATE INDEX ON big (val); ALTER TABLE big ADD COLUM x int;');
SELECT count(*) FROM migration_guard.check('');
SELECT count(*) FROM migration_guard.check('-- only a comment');
SELECT count(*) FROM migration_guard.check(NULL);
SELECT statement, command, relation, rule FROM migration_guard.check('ALTER TABLE no_such_table ADD COLUMN x int; DROP INDEX no_such_index; DROP FUNCTION f(int)');
-- text with quotes, dollar quotes and comments where the hint cuts the statement
SELECT rule, hint FROM migration_guard.check($q$
  ALTER TABLE big /* a, comment */ ADD CONSTRAINT "odd, name" CHECK (val <> 'a,b' AND code <> $$x,$$), DROP COLUMN ref
$q$);
-- a statement PostgreSQL itself would reject does not end the dry run
SELECT statement, command, rule, message FROM migration_guard.check($$
  CREATE FUNCTION next_code() RETURNS int LANGUAGE sql AS 'SELECT 1';
  ALTER TABLE big ADD COLUMN code2 int DEFAULT next_code();
  CREATE INDEX ON big (val);
$$);
-- a CHECK that is NULL for NULL values does not prove NOT NULL
SELECT rule FROM migration_guard.check('ALTER TABLE big ALTER COLUMN amount SET NOT NULL');
-- quoted names: quoted in SQL, once in messages
SET migration_guard.mode = off;
CREATE TABLE "Mixed Case" AS SELECT g AS id FROM generate_series(1, 40000) g;
SELECT count(*) FROM "Mixed Case";  -- in use from now on
CREATE INDEX "Mixed Idx" ON "Mixed Case" (id);
RESET migration_guard.mode;
SELECT message, hint FROM migration_guard.check('DROP INDEX "Mixed Idx"');
SET migration_guard.mode = off;
DROP TABLE "Mixed Case";
RESET migration_guard.mode;
-- a table the script creates in one schema does not hide a large one of
-- the same name in another
CREATE SCHEMA other;
SELECT statement, relation, rule FROM migration_guard.check($$
  CREATE TABLE other.big (id int);
  CREATE INDEX ON other.big (id);
  CREATE INDEX ON public.big (val);
  CREATE INDEX ON big (val);
$$);
DROP SCHEMA other;

-- messages that depend on what the statement really does
-- ALTER TYPE that rewrites nothing but rebuilds an index: the message says scan, not rewrite
BEGIN;
SET LOCAL migration_guard.allow = 'create_index';
CREATE INDEX big_lower_name_idx ON big (lower(name));
RESET migration_guard.allow;
SELECT rewrite, scan, message, detail LIKE '%not rewritten, but 1 index%' AS index_rebuild
  FROM migration_guard.check('ALTER TABLE big ALTER COLUMN name TYPE varchar(200)')
 WHERE rule IS NOT NULL;
ROLLBACK;
-- A HINT is the first safe step and where the others are; check() gives
-- every step, one per line, in its recipe column (the HINT of this
-- statement packed seven statements into 500 characters)
\x on
SELECT hint, recipe, length(hint) < 300 AS short_hint
  FROM migration_guard.check('ALTER TABLE big ADD COLUMN token uuid DEFAULT gen_random_uuid()');
\x off
-- the type-change recipe assigns without an explicit cast, so a value too
-- long for varchar(5) raises an error instead of being cut short
SELECT recipe LIKE '%NEW.name_new := NEW.name;%' AS plain_assignment,
       recipe NOT LIKE '%::%' AS no_cast
  FROM migration_guard.check('ALTER TABLE big ALTER COLUMN name TYPE varchar(5)');
SELECT recipe LIKE '%/* your USING expression */%' AS using_placeholder
  FROM migration_guard.check('ALTER TABLE big ALTER COLUMN ref TYPE text USING ref::text');
-- REINDEX locks the index ACCESS EXCLUSIVE: reads are blocked too
-- (REINDEX TABLE locks each of the table's indexes so)
SELECT stmt, message, detail LIKE '%reads are blocked too.%' AS reads_blocked,
       substring(detail from 'and ([a-z ]+) ACCESS EXCLUSIVE') AS index_lock
  FROM (VALUES ('REINDEX INDEX big_name_idx'), ('REINDEX TABLE big')) s(stmt),
       migration_guard.check(stmt) WHERE rule IS NOT NULL;
-- a warning has run already: the hint says how to acknowledge it
SELECT verdict, hint LIKE '%To acknowledge it: SET migration_guard.allow = ''drop_column'';' AS acknowledge
  FROM migration_guard.check('ALTER TABLE big DROP COLUMN ref');

-- CHECKs the script itself adds or validates prove NOT NULL for a later
-- SET NOT NULL, as they will when it runs: the phased plan in one file.
-- VALIDATE of a constraint the script added reads the table, here while
-- step 1's ACCESS EXCLUSIVE would still be held (one transaction)
SELECT statement, command, scan, rule
  FROM migration_guard.check($$
    ALTER TABLE big ADD CONSTRAINT big_val_nn CHECK (val IS NOT NULL) NOT VALID;
    ALTER TABLE big VALIDATE CONSTRAINT big_val_nn;
    ALTER TABLE big ALTER COLUMN val SET NOT NULL;
  $$) WHERE relation = 'big'::regclass;
-- not validated yet, or added as NOT VALID only: SET NOT NULL still scans
SELECT statement, rule
  FROM migration_guard.check($$
    ALTER TABLE big ADD CONSTRAINT big_val_nn CHECK (val IS NOT NULL) NOT VALID;
    ALTER TABLE big ALTER COLUMN val SET NOT NULL;
    ALTER TABLE big ADD CONSTRAINT big_ref_nn CHECK (ref IS NOT NULL AND amount IS NOT NULL);
    ALTER TABLE big ALTER COLUMN ref SET NOT NULL, ALTER COLUMN amount SET NOT NULL;
    ALTER TABLE big ADD CONSTRAINT big_name_nn CHECK (name IS NOT NULL OR ref > 0);
    ALTER TABLE big ALTER COLUMN name SET NOT NULL;
  $$) WHERE rule IS NOT NULL OR command = 'ALTER TABLE' ORDER BY statement, rule;
-- a NOT VALID CHECK already in the catalog, validated by the script (in a
-- transaction rolled back: no audit row for the next suites)
BEGIN;
ALTER TABLE big ADD CONSTRAINT big_created_nn CHECK (created IS NOT NULL) NOT VALID;
SELECT statement, scan, rule
  FROM migration_guard.check($$
    ALTER TABLE big ALTER COLUMN created SET NOT NULL;
    ALTER TABLE big VALIDATE CONSTRAINT big_created_nn;
    ALTER TABLE big ALTER COLUMN created SET NOT NULL;
  $$) WHERE relation = 'big'::regclass;
-- and the engine agrees: after that VALIDATE, SET NOT NULL reads no row
SET LOCAL migration_guard.allow = 'add_check, exclusive_lock_held';
ALTER TABLE big VALIDATE CONSTRAINT big_created_nn;
SELECT seq_scan AS scans_before FROM pg_stat_xact_user_tables WHERE relid = 'big'::regclass \gset
ALTER TABLE big ALTER COLUMN created SET NOT NULL;
SELECT seq_scan - :scans_before AS scans_by_set_not_null
  FROM pg_stat_xact_user_tables WHERE relid = 'big'::regclass;
ROLLBACK;
-- a composite column: its IS NOT NULL is a row test, which PostgreSQL does
-- not take as proof either (the engine scans)
CREATE TYPE mg_pair AS (a int, b int);
CREATE TABLE comp (id int, p mg_pair);
INSERT INTO comp VALUES (1, (1, 2));
SET migration_guard.large_table_threshold = 0;
SELECT statement, rule
  FROM migration_guard.check($$
    ALTER TABLE comp ADD CONSTRAINT comp_p_nn CHECK (p IS NOT NULL);
    ALTER TABLE comp ALTER COLUMN p SET NOT NULL;
  $$) WHERE rule IS NOT NULL ORDER BY statement;
BEGIN;
SET LOCAL migration_guard.allow = 'add_check, set_not_null';
SET LOCAL client_min_messages = warning;
ALTER TABLE comp ADD CONSTRAINT comp_p_nn CHECK (p IS NOT NULL);
SELECT seq_scan AS scans_before FROM pg_stat_xact_user_tables WHERE relid = 'comp'::regclass \gset
ALTER TABLE comp ALTER COLUMN p SET NOT NULL;
SELECT seq_scan - :scans_before AS scans_by_set_not_null
  FROM pg_stat_xact_user_tables WHERE relid = 'comp'::regclass;
ROLLBACK;
SET migration_guard.large_table_threshold = '1MB';
SET migration_guard.allow = 'drop_table';
DROP TABLE comp;
RESET migration_guard.allow;
DROP TYPE mg_pair;
-- the engine agrees with the dry run's VALIDATE of a foreign key the script
-- added NOT VALID: it reads big, and looks rows up in small
SELECT statement, relation, lock_mode, scan
  FROM migration_guard.check($$
    ALTER TABLE big ADD CONSTRAINT big_ref_small FOREIGN KEY (ref) REFERENCES small (id) NOT VALID;
    ALTER TABLE big VALIDATE CONSTRAINT big_ref_small;
  $$) WHERE statement = 2 ORDER BY relation::text;
BEGIN;
SET LOCAL client_min_messages = error;
ALTER TABLE big ADD CONSTRAINT big_ref_small FOREIGN KEY (ref) REFERENCES small (id) NOT VALID;
SELECT sum(seq_scan) FILTER (WHERE relid = 'big'::regclass) AS big_before,
       sum(seq_scan + coalesce(idx_scan, 0)) FILTER (WHERE relid = 'small'::regclass) AS small_before
  FROM pg_stat_xact_user_tables \gset
ALTER TABLE big VALIDATE CONSTRAINT big_ref_small;
SELECT sum(seq_scan) FILTER (WHERE relid = 'big'::regclass) - :big_before AS big_scans,
       sum(seq_scan + coalesce(idx_scan, 0)) FILTER (WHERE relid = 'small'::regclass) - :small_before > 0 AS small_read,
       (SELECT string_agg(c.relname || ' ' || l.mode, ', ' ORDER BY c.relname, l.mode)
          FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         WHERE l.pid = pg_backend_pid() AND c.relname IN ('big', 'small')) AS locks_held
  FROM pg_stat_xact_user_tables;
ROLLBACK;

-- A cancel or statement_timeout ends the dry run: it is the caller's, not
-- an error of the statement being judged (it was reported as one and the
-- run went on)
SET statement_timeout = '50ms';
SELECT count(*) FROM migration_guard.check(repeat('ALTER TABLE big ADD COLUMN x int; ', 100000));
RESET statement_timeout;
-- a script that creates 20,000 tables and alters each: every statement
-- judged, the tables it made looked up by name (the walk of all of them
-- per statement took 2.4 s here, and 14 s for twice as many)
SELECT count(*) AS rows_for_40000_statements
  FROM migration_guard.check((SELECT string_agg(format('CREATE TABLE t%s (id int); ALTER TABLE t%s ADD COLUMN x int;', g, g), ' ')
                                FROM generate_series(1, 20000) g));

-- Verdicts besides ok, warn and block.  A relation that is not there, and
-- that no earlier statement of the script made, is PostgreSQL's error, as
-- when the script runs: a dry run pointed at the wrong database must not
-- pass (it said ok).  IF EXISTS skips it, as PostgreSQL does; a name an
-- earlier statement made, renamed or moved is not unknown; after a
-- statement check() cannot see into, any name may exist.
SELECT statement, command, verdict, message
  FROM migration_guard.check($$
    ALTER TABLE no_such_table ADD COLUMN x int;
    ALTER TABLE IF EXISTS no_such_table ADD COLUMN x int;
    CREATE INDEX ON no_such_schema.t (id);
    CREATE TABLE made_here (id int);
    ALTER TABLE made_here ADD COLUMN x int;
    CREATE TABLE renamed_from (id int);
    ALTER TABLE renamed_from RENAME TO renamed_to;
    ALTER TABLE renamed_to ADD COLUMN x int;
    CREATE VIEW made_view AS SELECT 1 AS one;
    ALTER VIEW made_view RENAME TO made_view2;
    LOCK TABLE no_such_table;
    DO $do$ BEGIN EXECUTE 'CREATE TABLE made_by_do (id int)'; END $do$;
    ALTER TABLE made_by_do ADD COLUMN x int;
  $$) ORDER BY statement;
-- A relation an earlier statement dropped or renamed away is gone (ALTER
-- INDEX renames a table too: the LOCK after it was ok here and failed on
-- the server); a statement that fails drops nothing; a schema the script
-- makes is there, one nobody makes is PostgreSQL's error (CREATE TABLE in
-- it was ok here), as is DROP TABLE of a materialized view (a warning here)
SELECT statement, command, verdict, message
  FROM migration_guard.check($$
    CREATE TABLE small_copy (LIKE small);
    ALTER INDEX small_copy RENAME TO small_copy2;
    ALTER INDEX fresh RENAME TO fresh2;
    LOCK TABLE fresh;
    LOCK TABLE fresh2;
    ALTER TABLE fresh2 RENAME TO fresh;
    LOCK TABLE fresh;
    DROP TABLE big_copy;
    DROP MATERIALIZED VIEW big_copy;
    ALTER TABLE IF EXISTS big_copy ADD COLUMN x int;
    TRUNCATE big_copy;
    CREATE SCHEMA made_schema;
    CREATE TABLE made_schema.t (id int);
    CREATE TABLE no_such_schema.t (id int);
    CREATE VIEW no_such_schema.v AS SELECT 1;
  $$, 'statement') ORDER BY statement;
-- A DO block or CALL runs code check() cannot see: unknown, never ok (the
-- server judges each statement it runs; a DO block that made an index on
-- big was ok here and refused when it ran)
SELECT statement, command, verdict, message, detail, hint
  FROM migration_guard.check($$
    DO $do$ BEGIN CREATE INDEX ON big (ref); END $do$;
    CALL no_such_procedure();
  $$);
-- Each row says where its statement starts: line and column, 1-based, in
-- characters, past the comments and blank lines before it
SELECT statement, line, col, command
  FROM migration_guard.check(E'-- a migration\n\n/* two /* nested */ comments */ ALTER TABLE big ADD COLUMN é1 int;\n  -- then\n\tALTER TABLE big ADD COLUMN é2 int; ALTER TABLE big DROP COLUMN é2;\nSELECT 1')
 ORDER BY statement;
-- SET and RESET of the guard's settings, lock_timeout and search_path take
-- effect for the statements after them, as when the script runs (a
-- reviewed override in the file was reported as block); a superuser-only
-- setting in a file checked by an ordinary role is that role's error; the
-- session's own settings are untouched afterwards
SET migration_guard.large_table_threshold = '1MB';
SELECT statement, command, rule, verdict,
       message LIKE '%(allowed by migration_guard.allow)' AS allowed, left(message, 40) AS message
  FROM migration_guard.check($$
    SET migration_guard.allow = 'create_index';
    CREATE INDEX ON big (ref);
    RESET migration_guard.allow;
    CREATE INDEX ON big (ref);
    SET LOCAL migration_guard.allow = 'create_index';
    CREATE INDEX ON big (ref);
    SET search_path = no_such_schema;
    CREATE INDEX ON big (ref);
  $$) ORDER BY statement;
SHOW migration_guard.allow;
SHOW search_path;
CREATE ROLE mg_file_reviewer;
GRANT USAGE ON SCHEMA migration_guard TO mg_file_reviewer;
SET ROLE mg_file_reviewer;
SELECT statement, command, verdict, message
  FROM migration_guard.check($$
    SET migration_guard.large_table_threshold = '10GB';
    SET migration_guard.allow = 'create_index';
  $$) ORDER BY statement;
RESET ROLE;
DROP OWNED BY mg_file_reviewer;
DROP ROLE mg_file_reviewer;
SHOW migration_guard.large_table_threshold;
RESET migration_guard.large_table_threshold;
-- Types and columns that earlier statements of the script make: the
-- commonest Prisma migration (a new enum, the column cast to it) was ok
-- here and refused by the server; widening a varchar the script added was
-- a rewrite here and none on the server; a column that does not exist was
-- a rewrite here and PostgreSQL's error on the server
SET migration_guard.large_table_threshold = '1MB';
SELECT statement, command, rule, verdict, rewrite, left(message, 70) AS message
  FROM migration_guard.check($$
    CREATE TYPE order_state AS ENUM ('new', 'paid');
    ALTER TABLE big ALTER COLUMN val TYPE order_state USING val::order_state;
    CREATE DOMAIN plain_text AS text;
    ALTER TABLE big ALTER COLUMN val TYPE plain_text;
    CREATE DOMAIN short_text AS text CHECK (length(VALUE) < 100);
    ALTER TABLE big ALTER COLUMN val TYPE short_text;
    CREATE TYPE pair AS (a int, b int);
    ALTER TABLE big ALTER COLUMN val TYPE pair USING NULL;
    ALTER TABLE big ADD COLUMN label varchar(10);
    ALTER TABLE big ALTER COLUMN label TYPE varchar(20);
    ALTER TABLE big ALTER COLUMN label TYPE int USING label::int;
    ALTER TABLE big ALTER COLUMN no_such_column TYPE bigint;
    ALTER TABLE big ALTER COLUMN val TYPE no_such_type;
  $$) ORDER BY statement;
RESET migration_guard.large_table_threshold;
-- The transaction shape.  'file' (the default): the tool runs the whole
-- file in one transaction, as Prisma, Flyway, Rails and Django do, so
-- CONCURRENTLY is PostgreSQL's error there, and the lock the ALTER takes
-- is held through the backfill; after the script's own COMMIT the rest runs
-- on its own.  'statement': each statement commits on its own (psql
-- without -1) unless the script's BEGIN ... COMMIT groups them.
SET migration_guard.large_table_threshold = '1MB';
SELECT statement, command, rule, verdict, message
  FROM migration_guard.check($$
    ALTER TABLE big ADD COLUMN flag int;
    UPDATE big SET flag = 1 WHERE id < 10;
    CREATE INDEX CONCURRENTLY big_flag_idx ON big (flag);
  $$) ORDER BY statement;
SELECT statement, command, rule, verdict, message
  FROM migration_guard.check($$
    ALTER TABLE big ADD COLUMN flag int;
    UPDATE big SET flag = 1 WHERE id < 10;
    CREATE INDEX CONCURRENTLY big_flag_idx ON big (flag);
  $$, transaction => 'statement') ORDER BY statement;
SELECT statement, command, rule, verdict, message
  FROM migration_guard.check($$
    BEGIN;
    ALTER TABLE big ADD COLUMN flag int;
    UPDATE big SET flag = 1 WHERE id < 10;
    COMMIT;
    UPDATE big SET flag = 2 WHERE id < 10;
    CREATE INDEX CONCURRENTLY big_flag_idx ON big (flag);
    VACUUM big;
  $$) ORDER BY statement;
-- SET LOCAL ends with its transaction, SET does not
SELECT statement, command, rule, verdict
  FROM migration_guard.check($$
    SET LOCAL migration_guard.allow = 'create_index';
    CREATE INDEX ON big (ref);
    CREATE INDEX ON big (ref);
    SET migration_guard.allow = 'create_index';
    CREATE INDEX ON big (ref);
    CREATE INDEX ON big (ref);
  $$, 'statement') ORDER BY statement;
SELECT * FROM migration_guard.check('SELECT 1', 'per_file');
RESET migration_guard.large_table_threshold;
-- CREATE TABLE of a name that is taken is PostgreSQL's error, as when the
-- script runs (a migration checked against a database it was already
-- applied to must not pass): taken in the catalog, or by an earlier
-- statement; free again once dropped or renamed away; IF NOT EXISTS and a
-- temporary table are let be
SELECT statement, command, verdict, message
  FROM migration_guard.check($$
    CREATE TABLE big (id int);
    CREATE TABLE public.big (id int);
    CREATE TABLE IF NOT EXISTS big (id int);
    CREATE TEMP TABLE big (id int);
    CREATE TABLE fresh_one (id int);
    CREATE TABLE fresh_one (id int);
    ALTER TABLE small RENAME TO small_old;
    CREATE TABLE small (id int);
    CREATE TABLE small_old (id int);
    DROP MATERIALIZED VIEW big_copy;
    CREATE TABLE big_copy (id int);
  $$) ORDER BY statement;
