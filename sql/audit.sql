--
-- The audit log: what is recorded, what a rollback leaves, who may write
-- and who may override.
--
SET migration_guard.large_table_threshold = '1MB';
\set VERBOSITY terse
TRUNCATE migration_guard.audit_log;

-- ok: a statement that ran, committed
ALTER TABLE small ADD COLUMN note text;
-- warned: ran with a WARNING
ALTER TABLE small DROP COLUMN note;
-- overridden: allowed, with the reason
BEGIN;
SET LOCAL migration_guard.allow = 'create_index';
SET LOCAL migration_guard.reason = 'off-peak window, ticket 42';
CREATE INDEX big_audit_idx ON big (val);
COMMIT;
-- blocked: refused inside a transaction that then rolls back; the row stays
BEGIN;
ALTER TABLE big ADD COLUMN u uuid DEFAULT gen_random_uuid();
ROLLBACK;
-- rolled back: a statement that ran in a transaction that aborted leaves
-- no row
BEGIN;
ALTER TABLE small ADD COLUMN gone int;
ROLLBACK;
-- not recorded: statements on relations nobody else can see, and non-DDL
BEGIN;
CREATE TABLE brand_new (id int);
CREATE INDEX ON brand_new (id);
ROLLBACK;
SELECT 1 AS not_ddl;

-- audit_log's own estimate depends on how many rows earlier suites left in
-- it (rolled-back rows too): only that it has one
SELECT est_rows > 0 AS audit_log_estimated FROM migration_guard.audit_log
 WHERE relation_name = 'migration_guard.audit_log';
SELECT command, relation_name, verdict, rules, reason, lock_mode, rewrite, scan,
       table_bytes > 1024 * 1024 AS large,
       CASE WHEN relation_name <> 'migration_guard.audit_log' THEN est_rows END AS est_rows,
       held_ms IS NOT NULL AS timed, lock_wait_ms IS NOT NULL AS lock_timed,
       xid IS NOT NULL AS has_xid, statement, statement_truncated,
       role_name, session_role, backend_pid = pg_backend_pid() AS this_backend
  FROM migration_guard.audit_log ORDER BY id;

-- the refusal keeps the whole safe recipe, one step per line (the HINT
-- has the first step)
SELECT verdict, split_part(recipe, E'\n', 1) AS first_step,
       array_length(string_to_array(recipe, E'\n'), 1) AS steps
  FROM migration_guard.audit_log
 WHERE statement = 'ALTER TABLE big ADD COLUMN u uuid DEFAULT gen_random_uuid()';

-- the view: transaction outcome where it can be known
SELECT command, verdict, transaction FROM migration_guard.audit ORDER BY id;
SELECT column_name FROM information_schema.columns
 WHERE table_schema = 'migration_guard' AND table_name = 'audit' ORDER BY ordinal_position;

-- DDL in a multi-statement string: each row holds its own statement only
ALTER TABLE small ADD COLUMN a int\; ALTER TABLE small ADD COLUMN b int;
SELECT statement FROM migration_guard.audit_log WHERE statement LIKE 'ALTER TABLE small ADD COLUMN _ int' ORDER BY id;
ALTER TABLE small DROP COLUMN a, DROP COLUMN b;
-- the comments in front of a statement (a Prisma migration file's
-- "-- AddColumn") are not part of it
ALTER TABLE small ADD COLUMN a int\; -- AddColumn
/* a block /* nested */ comment */ ALTER TABLE small ADD COLUMN b int;
SELECT statement FROM migration_guard.audit_log WHERE statement LIKE '%ALTER TABLE small ADD COLUMN b int' ORDER BY id;
ALTER TABLE small DROP COLUMN a, DROP COLUMN b;

-- migration_guard.audit = flagged: only statements where a rule fired
SET migration_guard.audit = flagged;
ALTER TABLE small ADD COLUMN c int;
ALTER TABLE small DROP COLUMN c;
SET migration_guard.audit = off;
ALTER TABLE small ADD COLUMN c int;
ALTER TABLE small DROP COLUMN c;
RESET migration_guard.audit;
SELECT statement, verdict FROM migration_guard.audit_log
 WHERE statement LIKE 'ALTER TABLE small % COLUMN c%' ORDER BY id;

-- statement text: quotes, dollar quotes and binary garbage are stored as
-- they are (parameters, never spliced); more than 64 kB is cut and flagged
DO $do$
BEGIN
  EXECUTE format('ALTER TABLE small ADD COLUMN q text DEFAULT %L', E'it''s $$ \\x01\\x7f'' ); DROP TABLE big; --');
  EXECUTE 'ALTER TABLE small DROP COLUMN q';
  EXECUTE 'ALTER TABLE small ADD CONSTRAINT long CHECK (val <> ''' || repeat('x', 1024 * 1024) || ''') NOT VALID';
  EXECUTE 'ALTER TABLE small DROP CONSTRAINT long';
END
$do$;
SELECT left(statement, 60) AS statement, length(statement), statement_truncated
  FROM migration_guard.audit_log
 WHERE statement LIKE 'ALTER TABLE small ADD COLUMN q%' OR statement LIKE 'ALTER TABLE small ADD CONSTRAINT long%'
 ORDER BY id;
SELECT statement = format('ALTER TABLE small ADD COLUMN q text DEFAULT %L', E'it''s $$ \\x01\\x7f'' ); DROP TABLE big; --')
       AS stored_exactly
  FROM migration_guard.audit_log WHERE statement LIKE 'ALTER TABLE small ADD COLUMN q%';
-- every character from 1 to 255 (no NUL: PostgreSQL text cannot hold one)
CREATE FUNCTION garbage() RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT string_agg(chr(i), '' ORDER BY i) FROM generate_series(1, 255) i $$;
DO $do$
BEGIN
  EXECUTE 'ALTER TABLE small ADD COLUMN g text DEFAULT ' || quote_literal(garbage());
  EXECUTE 'ALTER TABLE small DROP COLUMN g';
END
$do$;
SELECT count(*) AS garbage_rows_exact
  FROM migration_guard.audit_log
 WHERE statement = 'ALTER TABLE small ADD COLUMN g text DEFAULT ' || quote_literal(garbage());
DROP FUNCTION garbage();
SELECT to_regclass('big') IS NOT NULL AS big_still_there;

-- privileges: only the extension writes; readers are pg_monitor and grantees
CREATE ROLE mg_auditor LOGIN;
CREATE ROLE mg_dev LOGIN;
CREATE ROLE mg_dba;
GRANT pg_monitor TO mg_auditor;
GRANT ALL ON small TO mg_dev;
GRANT USAGE ON SCHEMA migration_guard TO mg_dev, mg_auditor;
GRANT CREATE ON SCHEMA public TO mg_dev;
SET ROLE mg_dev;
CREATE TABLE dev_table AS SELECT g AS id, 'v' || g AS val FROM generate_series(1, 100) g;
SELECT count(*) FROM dev_table;  -- in use from now on
SELECT count(*) FROM migration_guard.audit_log;
INSERT INTO migration_guard.audit_log (role_name, session_role, backend_pid, command, statement, verdict)
  VALUES ('x', 'x', 1, 'x', 'x', 'ok');
UPDATE migration_guard.audit_log SET verdict = 'ok';
DELETE FROM migration_guard.audit_log;
TRUNCATE migration_guard.audit_log;
SELECT migration_guard.purge_audit('0 seconds');
SET migration_guard.mode = off;
SET migration_guard.large_table_threshold = '100GB';
SET migration_guard.audit = off;
SET migration_guard.override_role = '';
-- a non-superuser's statements are recorded, as that role
ALTER TABLE dev_table ADD COLUMN by_dev int;
ALTER TABLE dev_table DROP COLUMN by_dev;
RESET ROLE;
SET ROLE mg_auditor;
SELECT count(*) > 0 AS auditor_reads FROM migration_guard.audit;
RESET ROLE;
SELECT role_name, session_role, verdict FROM migration_guard.audit_log WHERE statement LIKE '%by_dev%' ORDER BY id;

-- override_role: only its members may override
SET migration_guard.override_role = 'mg_dba';
SET migration_guard.large_table_threshold = 0;
SET ROLE mg_dev;
SET migration_guard.allow = 'drop_column';
ALTER TABLE dev_table ADD COLUMN x int;
\set VERBOSITY default
BEGIN;
SET LOCAL migration_guard.allow = 'set_not_null';
ALTER TABLE dev_table ALTER COLUMN val SET NOT NULL;
ROLLBACK;
\set VERBOSITY terse
RESET migration_guard.allow;
RESET ROLE;
GRANT mg_dba TO mg_dev;
SET ROLE mg_dev;
BEGIN;
SET LOCAL migration_guard.allow = 'set_not_null';
ALTER TABLE dev_table ALTER COLUMN val SET NOT NULL;
ROLLBACK;
SET migration_guard.allow = 'drop_column';
ALTER TABLE dev_table DROP COLUMN x;
RESET migration_guard.allow;
RESET ROLE;
RESET migration_guard.override_role;
RESET migration_guard.large_table_threshold;
SELECT role_name, verdict, rules FROM migration_guard.audit_log
 WHERE role_name = 'mg_dev' ORDER BY id;

-- the owner purges
SELECT migration_guard.purge_audit('1 hour') AS purged_nothing_recent;
SET migration_guard.allow = 'drop_table';
DROP TABLE dev_table;
RESET migration_guard.allow;
REVOKE CREATE ON SCHEMA public FROM mg_dev;
REVOKE ALL ON small FROM mg_dev;
REVOKE USAGE ON SCHEMA migration_guard FROM mg_dev, mg_auditor;
DROP ROLE mg_dev, mg_auditor, mg_dba;

-- Rows are written by an INSERT: a column the DBA adds to audit_log gets
-- its default, a generated column its value, and a CHECK the DBA adds is
-- enforced
BEGIN;
ALTER TABLE migration_guard.audit_log
  ADD COLUMN environment text NOT NULL DEFAULT 'production',
  ADD COLUMN statement_length int GENERATED ALWAYS AS (length(statement)) STORED;
ALTER TABLE small ADD COLUMN note2 text;
SELECT command, relation_name, environment, statement_length
  FROM migration_guard.audit_log WHERE statement LIKE '%note2%';
ALTER TABLE migration_guard.audit_log ADD CONSTRAINT only_small CHECK (relation_name IN ('small', 'migration_guard.audit_log')) NOT VALID;
ALTER TABLE small DROP COLUMN note2;
ALTER TABLE big ADD COLUMN note3 text;
ROLLBACK;

-- The audit INSERT runs as the extension owner with search_path pinned to
-- pg_catalog, pg_temp: a trigger a DBA attaches to audit_log that calls an
-- unqualified function cannot be steered by the caller's search_path.
-- (Before, an ordinary role put its own pg_notify() first and it ran as
-- the owner, a superuser.)
CREATE ROLE mg_mallory;
GRANT CREATE ON SCHEMA public TO mg_mallory;
CREATE TABLE mallory_log (who text, superuser boolean);
GRANT INSERT ON mallory_log TO PUBLIC;
CREATE FUNCTION audit_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('migration_guard', NEW.command);
  RETURN NEW;
END$$;
CREATE TRIGGER audit_notify AFTER INSERT ON migration_guard.audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_notify();
SET migration_guard.large_table_threshold = 0;
SET ROLE mg_mallory;
CREATE FUNCTION public.pg_notify(text, text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.mallory_log
  SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user
$$;
CREATE TABLE mallory_t (id int);
INSERT INTO mallory_t SELECT generate_series(1, 1000);
SET search_path = public, pg_catalog;
ALTER TABLE mallory_t ADD COLUMN x int;    -- ran: the row is inserted here
CREATE INDEX ON mallory_t (id);            -- refused: the worker inserts the row
RESET search_path;
RESET ROLE;
SELECT count(*) AS shadow_calls FROM mallory_log;
SELECT verdict FROM migration_guard.audit_log
 WHERE statement IN ('ALTER TABLE mallory_t ADD COLUMN x int', 'CREATE INDEX ON mallory_t (id)')
 ORDER BY id;
DROP TRIGGER audit_notify ON migration_guard.audit_log;
DROP FUNCTION audit_notify();
SET migration_guard.allow = 'drop_table';
DROP TABLE mallory_t, mallory_log;
RESET migration_guard.allow;
DROP FUNCTION public.pg_notify(text, text);
REVOKE CREATE ON SCHEMA public FROM mg_mallory;
DROP ROLE mg_mallory;

-- The worker that records refusals pins the settings that would stop it:
-- a database made read-only by default still gets its refusal rows
SELECT current_database() AS db \gset
ALTER DATABASE :"db" SET default_transaction_read_only = on;
BEGIN;
CREATE INDEX ON big (ref);
ROLLBACK;
ALTER DATABASE :"db" RESET default_transaction_read_only;
SELECT verdict FROM migration_guard.audit_log WHERE statement = 'CREATE INDEX ON big (ref)';
-- A statement that commits on its own, or runs in a read-only session, has
-- its row committed by the worker: the override of a VACUUM FULL in a
-- read-only session used to leave no row anywhere, after the rewrite
SET default_transaction_read_only = on;
SET migration_guard.allow = 'rewrite_table';
VACUUM FULL big;
REINDEX TABLE CONCURRENTLY small;
RESET migration_guard.allow;
RESET default_transaction_read_only;
SELECT command, relation_name, verdict, rules, held_ms IS NOT NULL AS finished
  FROM migration_guard.audit_log
 WHERE statement IN ('VACUUM FULL big', 'REINDEX TABLE CONCURRENTLY small')
 ORDER BY id;
-- and when the row cannot be written, the client is told the real reason
CREATE FUNCTION audit_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is closed for maintenance';
END$$;
CREATE TRIGGER audit_closed BEFORE INSERT ON migration_guard.audit_log
  FOR EACH ROW WHEN (NEW.verdict = 'blocked') EXECUTE FUNCTION audit_closed();
\set VERBOSITY default
BEGIN;
CREATE INDEX ON big (amount);
ROLLBACK;
\set VERBOSITY terse
DROP TRIGGER audit_closed ON migration_guard.audit_log;
DROP FUNCTION audit_closed();
RESET migration_guard.large_table_threshold;

-- A statement PostgreSQL refuses this user for want of a privilege gets
-- PostgreSQL's error alone: no size in a WARNING, no verdict, no audit row
-- for what the caller could never have run; the dry run says the same
SET migration_guard.large_table_threshold = '1MB';
CREATE ROLE mg_stranger;
GRANT USAGE ON SCHEMA migration_guard TO mg_stranger;
-- a composite type of the stranger's, whose typed table is not
CREATE TYPE stranger_row AS (id int);
ALTER TYPE stranger_row OWNER TO mg_stranger;
CREATE TABLE stranger_typed OF stranger_row;
SET migration_guard.mode = off;
INSERT INTO stranger_typed SELECT generate_series(1, 50000);
RESET migration_guard.mode;
SET ROLE mg_stranger;
ALTER TABLE big ADD COLUMN u uuid DEFAULT gen_random_uuid();
CREATE INDEX ON big (val);
ALTER TABLE big RENAME COLUMN val TO value;
TRUNCATE big;
DROP TABLE big;
ALTER TYPE stranger_row ALTER ATTRIBUTE id TYPE bigint CASCADE;
SELECT statement, verdict, message
  FROM migration_guard.check('ALTER TABLE big ADD COLUMN u uuid DEFAULT gen_random_uuid(); TRUNCATE big');
-- the same for the statements judged for their lock alone, each with its
-- own privilege: TRIGGER, ownership, LOCK TABLE's, REFERENCES
SELECT statement, verdict, message
  FROM migration_guard.check($$
    CREATE TRIGGER t BEFORE UPDATE ON big FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
    DROP TRIGGER t ON big;
    CREATE POLICY p ON big USING (true);
    ALTER POLICY p ON big USING (false);
    DROP POLICY p ON big;
    CREATE RULE r AS ON DELETE TO big DO ALSO NOTHING;
    DROP RULE r ON big;
    ALTER TABLE big SET SCHEMA public;
    ALTER INDEX big RENAME TO big2;
    LOCK TABLE big IN SHARE MODE;
    CREATE TABLE stranger_ref (id int REFERENCES big (id));
    CREATE TABLE stranger_part PARTITION OF parted FOR VALUES FROM (90000) TO (95000);
    DROP SCHEMA public CASCADE;
    DROP OWNED BY CURRENT_USER CASCADE;
    DROP OWNED BY postgres CASCADE;
    ALTER SEQUENCE migration_guard.audit_log_id_seq RESTART;
    ALTER INDEX big_pkey DEPENDS ON EXTENSION plpgsql;
    REASSIGN OWNED BY postgres TO CURRENT_USER;
    REASSIGN OWNED BY CURRENT_USER TO postgres;
  $$);
RESET ROLE;
SET migration_guard.mode = off;
DROP TABLE stranger_typed;
DROP TYPE stranger_row;
RESET migration_guard.mode;
SELECT count(*) AS stranger_rows FROM migration_guard.audit_log WHERE role_name = 'mg_stranger';
-- the owner's membership is enough, as for PostgreSQL
GRANT mg_stranger TO CURRENT_USER;
CREATE TABLE stranger_t AS SELECT g AS id FROM generate_series(1, 50000) g;
SELECT count(*) FROM stranger_t;  -- in use from now on
ALTER TABLE stranger_t OWNER TO mg_stranger;
CREATE ROLE mg_stranger_friend IN ROLE mg_stranger;
SET ROLE mg_stranger_friend;
CREATE INDEX ON stranger_t (id);
RESET ROLE;
SET migration_guard.mode = off;
DROP TABLE stranger_t;
RESET migration_guard.mode;
REVOKE USAGE ON SCHEMA migration_guard FROM mg_stranger;
DROP ROLE mg_stranger_friend, mg_stranger;
RESET migration_guard.large_table_threshold;
-- One statement, one row: the statements PostgreSQL runs as subcommands of
-- a judged one (the foreign key of a CREATE TABLE, the index of an ADD
-- UNIQUE) are part of its inspection, not judged or recorded again
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
CREATE TABLE one_row_ref (id int REFERENCES small (id));
SET migration_guard.allow = 'add_unique_constraint';
ALTER TABLE big ADD CONSTRAINT big_one_row_key UNIQUE (id);
RESET migration_guard.allow;
SELECT command, relation_name, lock_mode, verdict, statement
  FROM migration_guard.audit_log WHERE id > :mark ORDER BY id;
SET migration_guard.mode = off;
DROP TABLE one_row_ref;
ALTER TABLE big DROP CONSTRAINT big_one_row_key;
RESET migration_guard.mode;
