--
-- Lock reports: lock_conflicts() against the lock manager itself, the
-- live columns of check(), the locks view.  A second session comes from
-- dblink.
--
CREATE EXTENSION dblink;
SELECT dblink_connect('other', 'dbname=' || current_database());
CREATE TABLE lockme (id int);

-- lock_conflicts() for all eight modes
SELECT m AS mode, string_agg(c.conflicts_with, ', ') AS conflicts_with
  FROM unnest(ARRAY['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE',
                    'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']) WITH ORDINALITY AS u(m, i),
       LATERAL migration_guard.lock_conflicts(m) c
 GROUP BY m, i ORDER BY i;
SELECT * FROM migration_guard.lock_conflicts('ShareLock');
SELECT count(*) FROM migration_guard.lock_conflicts('access  exclusive lock');
SELECT count(*) FROM migration_guard.lock_conflicts('no such mode');

-- ... and against PostgreSQL: the other session holds mode a, this one asks
-- for mode b with NOWAIT; they conflict exactly when it fails
CREATE FUNCTION engine_conflicts(a text, b text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM dblink_exec('other', format('BEGIN; LOCK TABLE lockme IN %s MODE', a));
  BEGIN
    EXECUTE format('LOCK TABLE lockme IN %s MODE NOWAIT', b);
    RAISE EXCEPTION USING ERRCODE = 'MGT03';
  EXCEPTION
    WHEN lock_not_available THEN
      PERFORM dblink_exec('other', 'ROLLBACK');
      RETURN true;
    WHEN SQLSTATE 'MGT03' THEN
      PERFORM dblink_exec('other', 'ROLLBACK');
      RETURN false;
  END;
END $$;
WITH modes(m) AS (SELECT unnest(ARRAY['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE',
        'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']))
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE engine_conflicts(a.m, b.m) IS DISTINCT FROM
                              EXISTS (SELECT FROM migration_guard.lock_conflicts(a.m) c
                                       WHERE c.conflicts_with = b.m)) AS disagreements
  FROM modes a, modes b;

-- a role that may alter lockme (PostgreSQL's own refusal would come first
-- otherwise), but not the role of the session that holds it, below
CREATE ROLE mg_nosy;
GRANT USAGE ON SCHEMA migration_guard TO mg_nosy;
ALTER TABLE lockme OWNER TO mg_nosy;

-- check() sees who would make a statement wait, right now
SELECT dblink_exec('other', 'BEGIN');
SELECT * FROM dblink('other', 'SELECT count(*) FROM lockme') AS t(n bigint);
SELECT lock_mode, would_wait,
       waits_for = ARRAY[(SELECT pid FROM dblink('other', 'SELECT pg_backend_pid()') AS t(pid int))] AS waits_for_other
  FROM migration_guard.check('ALTER TABLE lockme ADD COLUMN x int');
SELECT lock_mode, would_wait, waits_for
  FROM migration_guard.check('ALTER TABLE lockme SET (fillfactor = 50)');
-- the locks view shows the other session's lock
SELECT relation, mode, granted, role IS NOT NULL AS has_role, state, blocked_by
  FROM migration_guard.locks
 WHERE relation = 'lockme'::regclass AND pid <> pg_backend_pid();
-- Another session's query text follows pg_stat_activity's rules: shown to
-- its own role and to pg_read_all_stats, "<insufficient privilege>" to
-- anyone else (a role with no business there read a card number from the
-- lock_queue DETAIL)
SELECT * FROM dblink('other', $$SELECT count(*) FROM lockme WHERE 'card 4111 1111 1111 1111' <> ''$$) AS t(n bigint);
SET migration_guard.lock_holder_age = 0;
SELECT detail LIKE '%card 4111%' AS owner_sees_query
  FROM migration_guard.check('ALTER TABLE lockme ADD COLUMN x int') WHERE rule = 'lock_queue';
SET ROLE mg_nosy;
SELECT detail LIKE '%card 4111%' AS nosy_sees_query,
       detail LIKE '%query: <insufficient privilege>%' AS nosy_told_why
  FROM migration_guard.check('ALTER TABLE lockme ADD COLUMN x int') WHERE rule = 'lock_queue';
RESET ROLE;
GRANT pg_read_all_stats TO mg_nosy;
SET ROLE mg_nosy;
SELECT detail LIKE '%card 4111%' AS stats_reader_sees_query
  FROM migration_guard.check('ALTER TABLE lockme ADD COLUMN x int') WHERE rule = 'lock_queue';
RESET ROLE;
RESET migration_guard.lock_holder_age;
SELECT dblink_exec('other', 'ROLLBACK');
ALTER TABLE lockme OWNER TO CURRENT_USER;
REVOKE USAGE ON SCHEMA migration_guard FROM mg_nosy;
DROP ROLE mg_nosy;
SELECT would_wait, waits_for FROM migration_guard.check('ALTER TABLE lockme ADD COLUMN x int');

-- The row of a statement that ran is written while the statement still
-- holds its locks: a lock on audit_log is waited for 5 s at most, then the
-- statement is undone with its transaction (readers of the table queued
-- behind it without end); nothing changes unrecorded
SELECT dblink_exec('other', 'BEGIN; LOCK TABLE migration_guard.audit_log IN ACCESS EXCLUSIVE MODE');
DO $$
DECLARE
  context text;
BEGIN
  ALTER TABLE lockme ADD COLUMN waited int;
EXCEPTION WHEN lock_not_available THEN
  GET STACKED DIAGNOSTICS context = PG_EXCEPTION_CONTEXT;
  RAISE NOTICE '%; context: %', SQLERRM,
    substring(context from 'recording the statement in migration_guard.audit_log[^\n]*');
END$$;
SELECT dblink_exec('other', 'ROLLBACK');
SELECT count(*) AS column_not_added FROM pg_attribute
 WHERE attrelid = 'lockme'::regclass AND attname = 'waited';

SELECT dblink_disconnect('other');
DROP FUNCTION engine_conflicts(text, text);
SET migration_guard.mode = off;
DROP TABLE lockme;
RESET migration_guard.mode;
DROP EXTENSION dblink;

-- exclusive_lock_held: a backfill in the transaction of the schema change
-- keeps the whole table locked while it runs
SET migration_guard.large_table_threshold = '1MB';
BEGIN;
ALTER TABLE big ADD COLUMN flag int;
UPDATE big SET flag = 1 WHERE id < 10;
UPDATE big SET flag = 2 WHERE id < 10;
SELECT count(*) FROM big WHERE flag = 2;
ROLLBACK;
-- once per transaction, and not after the lock is gone
BEGIN;
SAVEPOINT s;
ALTER TABLE big ADD COLUMN flag int;
ROLLBACK TO s;
SELECT count(*) FROM big;
ROLLBACK;
-- small tables: silent
BEGIN;
ALTER TABLE small ADD COLUMN flag int;
UPDATE small SET flag = 1;
ROLLBACK;
-- allowed
BEGIN;
SET LOCAL migration_guard.allow = 'exclusive_lock_held';
ALTER TABLE big ADD COLUMN flag int;
UPDATE big SET flag = 1 WHERE id < 10;
ROLLBACK;
-- a scan under a weak lock is not harmless either: NOT VALID then VALIDATE
-- in one transaction validates with the ACCESS EXCLUSIVE of the ADD held
BEGIN;
ALTER TABLE big ADD CONSTRAINT big_amount_pos CHECK (amount >= 0) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT big_amount_pos;
ROLLBACK;
-- the queries PostgreSQL runs for a statement are the statement's: adding
-- a foreign key after the table was locked warns for the ALTER alone (a
-- second warning spoke of a SELECT nobody wrote: the validation's query)
BEGIN;
SET LOCAL migration_guard.allow = 'add_foreign_key';
ALTER TABLE big ADD COLUMN flag int;
ALTER TABLE big ADD CONSTRAINT big_ref_small FOREIGN KEY (ref) REFERENCES small (id);
ROLLBACK;
-- committed in between, or released by a savepoint's rollback: silent
BEGIN;
SAVEPOINT s;
ALTER TABLE big ADD CONSTRAINT big_amount_pos CHECK (amount >= 0) NOT VALID;
ROLLBACK TO s;
ALTER TABLE big VALIDATE CONSTRAINT big_ref_positive;
ROLLBACK;
-- check() follows it through a script
SELECT statement, command, relation, rule, verdict
  FROM migration_guard.check($$
    ALTER TABLE big ADD COLUMN flag int;
    UPDATE big SET flag = 1 WHERE id < 1000;
    UPDATE small SET val = val;
    DELETE FROM big WHERE id < 0;
    ALTER TABLE big VALIDATE CONSTRAINT big_ref_positive;
  $$);
RESET migration_guard.large_table_threshold;

-- the guard's lock_timeout is for its statement only: the session's value
-- is back afterwards, and a value of the session's own is kept
\set VERBOSITY terse
SET migration_guard.large_table_threshold = '1MB';
ALTER TABLE small ADD COLUMN lt int;
SHOW lock_timeout;
BEGIN;
SET LOCAL lock_timeout = '3s';
ALTER TABLE small DROP COLUMN lt;
SHOW lock_timeout;
ROLLBACK;
SET lock_timeout = '4s';
ALTER TABLE small ADD COLUMN lt2 int;
SHOW lock_timeout;
RESET lock_timeout;
SET migration_guard.allow = 'drop_column';
ALTER TABLE small DROP COLUMN lt, DROP COLUMN lt2;
RESET migration_guard.allow;
RESET migration_guard.large_table_threshold;

-- The REINDEX TABLE message says each of the table's indexes is locked
-- ACCESS EXCLUSIVE: the engine agrees (all of them, held to the end)
BEGIN;
SET LOCAL migration_guard.allow = 'reindex';
SET LOCAL client_min_messages = warning;
REINDEX TABLE big;
SELECT count(*) AS indexes,
       count(*) FILTER (WHERE EXISTS (
           SELECT FROM pg_locks l WHERE l.relation = i.indexrelid
              AND l.mode = 'AccessExclusiveLock' AND l.granted
              AND l.pid = pg_backend_pid())) AS locked_access_exclusive
  FROM pg_index i WHERE i.indrelid = 'big'::regclass;
ROLLBACK;

-- Only the guard's own lock_timeout gets its DETAIL, HINT and a timed_out
-- row: the same SQLSTATE from anything else (NOWAIT, a function's RAISE)
-- reaches the client untouched
CREATE FUNCTION lock_refused(int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'row lock not available' USING ERRCODE = 'lock_not_available';
END $$;
SHOW migration_guard.lock_timeout;
ALTER TABLE small ADD CONSTRAINT small_refused CHECK (lock_refused(id));
SELECT count(*) AS timed_out_rows FROM migration_guard.audit_log
 WHERE verdict = 'timed_out' AND statement LIKE '%small_refused%';
DROP FUNCTION lock_refused(int);
