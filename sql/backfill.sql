-- migration_guard.backfill(): an UPDATE in batches along the primary key,
-- each batch its own transaction, resumed where a run stopped.  Batch
-- sizes are fixed here (batch_time NULL) so that the batches are the same
-- on every run; the NOTICEs carry rates and are not shown.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE TABLE bf (id int PRIMARY KEY, v int, n int NOT NULL DEFAULT 0);
INSERT INTO bf SELECT g FROM generate_series(1, 10000) g;
ANALYZE bf;
CALL migration_guard.backfill('bf', 'v = id * 2, n = n + 1', 'v IS NULL',
                              batch_time => NULL, first_batch => 1000);
-- every row once
SELECT count(*) FILTER (WHERE v = id * 2) AS done, min(n), max(n) FROM bf;
SELECT relation_name, status, last_key, rows_updated, rows_walked, est_rows,
       batches, batch_size, retries, message
  FROM migration_guard.backfill_runs ORDER BY id;
SELECT relation_name, status, percent, time_left FROM migration_guard.backfills;

-- a batch fails: the batches before it stay done, the run is 'failed' and
-- resumes after its last key; no row is updated twice
UPDATE bf SET v = NULL, n = 0;
CREATE FUNCTION bf_value(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF i = 5500 AND current_setting('bf.fail', true) = 'on' THEN
    RAISE EXCEPTION 'no value for %', i;
  END IF;
  RETURN i * 3;
END $$;
SET bf.fail = on;
CALL migration_guard.backfill('bf', 'v = bf_value(id), n = n + 1', 'v IS NULL',
                              batch_time => NULL, first_batch => 1000);
SELECT status, last_key, rows_updated, batches, message
  FROM migration_guard.backfill_runs ORDER BY id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE v IS NOT NULL) AS updated FROM bf;
SET bf.fail = off;
CALL migration_guard.backfill('bf', 'v = bf_value(id), n = n + 1', 'v IS NULL',
                              batch_time => NULL, first_batch => 1000, pause => '1 ms');
SELECT status, last_key, rows_updated, batches
  FROM migration_guard.backfill_runs ORDER BY id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE v = id * 3) AS done, min(n), max(n) FROM bf;

-- a composite primary key, a WHERE clause that leaves rows alone
CREATE TABLE bf2 (a int, b text, v int, PRIMARY KEY (a, b));
INSERT INTO bf2 SELECT g % 10, 'k' || g, CASE WHEN g % 3 = 0 THEN 1 END
  FROM generate_series(1, 3000) g;
CALL migration_guard.backfill('bf2', 'v = 0', 'v IS NULL', batch_time => NULL,
                              first_batch => 700);
SELECT count(*) FILTER (WHERE v = 0) AS set_now, count(*) FILTER (WHERE v = 1) AS left_alone
  FROM bf2;
SELECT status, rows_updated, batches, key_columns
  FROM migration_guard.backfill_runs WHERE relation_name = 'bf2';

-- what it refuses, with the reason
CREATE TABLE bf_nokey (v int);
CALL migration_guard.backfill('bf_nokey', 'v = 1');
CALL migration_guard.backfill('bf', '');
CALL migration_guard.backfill('bf', 'v = 1', first_batch => 0);
BEGIN;
CALL migration_guard.backfill('bf', 'v = 1');
ROLLBACK;
-- an ordinary role: only tables it may update, only its own runs
CREATE ROLE bf_role;
SET ROLE bf_role;
CALL migration_guard.backfill('bf', 'v = 1');
SELECT count(*) AS runs_seen FROM migration_guard.backfill_runs;
SELECT count(*) AS runs_seen_through_the_view FROM migration_guard.backfills;
INSERT INTO migration_guard.backfill_runs (relation_oid, relation_name, set_clause,
    key_columns, batch_size, role_name)
  VALUES ('bf'::regclass, 'bf', 'v = 1', '{id}', 1, 'someone_else');
RESET ROLE;
DROP ROLE bf_role;
SET client_min_messages = error;
DROP TABLE bf, bf2, bf_nokey;
DROP FUNCTION bf_value(int);
RESET client_min_messages;
