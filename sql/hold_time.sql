--
-- Judging by time: the predicted lock hold (src/hold_time.c), its rates,
-- learned from the audit or from calibrate(), and migration_guard.max_lock_hold.
-- Whether the predictions match what the engine really does is timed in
-- test/t/015_hold_time.pl; here, what is computed from what.
--
SET client_min_messages = warning;
-- the suites before this one left history of their own
DELETE FROM migration_guard.audit_log;
DELETE FROM migration_guard.calibration;
RESET client_min_messages;

-- ht_main: about 4 MB, nothing out of line, two indexes (email in byte
-- order whatever the database's collation, so that its key class is known)
CREATE TABLE ht_orgs (id bigint PRIMARY KEY);
INSERT INTO ht_orgs SELECT generate_series(0, 99);
CREATE TABLE ht_main (id bigint PRIMARY KEY, org_id bigint, email text COLLATE "C", created_at timestamptz);
INSERT INTO ht_main SELECT g, g % 100, 'user' || g || '@example.com', '2026-01-01'::timestamptz + g * interval '1 s'
  FROM generate_series(1, 50000) g;
CREATE INDEX ht_main_email_idx ON ht_main (email);
CREATE TABLE ht_parted (LIKE ht_main) PARTITION BY RANGE (id);
CREATE TABLE ht_part (LIKE ht_main);
INSERT INTO ht_part SELECT * FROM ht_main;
ANALYZE ht_orgs, ht_main, ht_part;
SELECT pg_table_size('ht_main') BETWEEN 3000000 AND 5000000 AS main_about_4mb,
       pg_table_size('ht_main') = pg_relation_size('ht_main') + pg_relation_size('ht_main', 'fsm')
         + pg_relation_size('ht_main', 'vm') + coalesce(pg_total_relation_size(
           (SELECT reltoastrelid FROM pg_class WHERE oid = 'ht_main'::regclass)), 0) AS sizes_add_up;

-- no history, no calibration: every kind at its reference rate
SELECT kind, reference_mb_per_s, mb_per_s = reference_mb_per_s AS at_reference, factor, source
  FROM migration_guard.work_rates() ORDER BY kind;

-- check() predicts, per statement, the work's bytes over its kind's rate;
-- a B-tree build adds a cost per key, by its first key column's class (the
-- model's: 600 ns a fixed-width key, 900 a variable-width one in byte
-- order, 1500 one sorted by a collation or of an expression); a rewrite
-- adds a cost per row (200 ns, 3000 where it computes an added column's
-- value) and the build of each of the table's indexes
CREATE FUNCTION ht_rate(k text) RETURNS float8 LANGUAGE sql AS
  $$SELECT mb_per_s * 1048576 FROM migration_guard.work_rates() WHERE kind = k$$;
CREATE FUNCTION ht_rows(rel regclass) RETURNS float8 LANGUAGE sql AS
  $$SELECT c.reltuples / c.relpages * (pg_relation_size(rel) / 8192) FROM pg_class c WHERE c.oid = rel$$;
CREATE FUNCTION ht_rewrite(rel regclass, bytes bigint, row_ns float8) RETURNS float8 LANGUAGE sql AS
  $$SELECT bytes / (w.reference_mb_per_s * 1048576) + ht_rows(rel) * row_ns / 1e9
      FROM migration_guard.work_rates() w WHERE w.kind = 'rewrite'$$;
CREATE FUNCTION ht_btree(rel regclass, key_ns float8) RETURNS float8 LANGUAGE sql AS
  $$SELECT pg_relation_size(rel) / (w.reference_mb_per_s * 1048576)
           + ht_rows(rel) * key_ns / 1e9
      FROM migration_guard.work_rates() w WHERE w.kind = 'index_btree'$$;
CREATE FUNCTION ht_predicted(stmt text) RETURNS TABLE (rule text, table_bytes bigint, predicted_seconds float8)
  LANGUAGE sql AS
  $$SELECT rule, table_bytes, predicted_seconds FROM migration_guard.check(stmt) WHERE relation IS NOT NULL$$;
SET migration_guard.large_table_threshold = '1MB';
SELECT 'rewrite' AS kind, abs(predicted_seconds - (ht_rewrite('ht_main', table_bytes, 3000)
         + ht_btree('ht_main', 600) + ht_btree('ht_main', 900))) < 1e-9 AS as_modelled
  FROM ht_predicted('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()')
UNION ALL
SELECT 'rewrite by a type change', abs(predicted_seconds - (ht_rewrite('ht_main', table_bytes, 200)
         + ht_btree('ht_main', 600) + ht_btree('ht_main', 900))) < 1e-9 AS as_modelled
  FROM ht_predicted('ALTER TABLE ht_main ALTER COLUMN org_id TYPE numeric')
UNION ALL
SELECT 'index_btree ' || k, abs(predicted_seconds - ht_btree('ht_main', key_ns)) < 1e-9
  FROM (VALUES ('bigint', 'CREATE INDEX ON ht_main (org_id)', 600),
               ('timestamptz, email', 'CREATE INDEX ON ht_main (created_at, email)', 600),
               ('org_id, email: ties on org_id compare e-mails', 'CREATE INDEX ON ht_main (org_id, email)', 900),
               ('unique constraint', 'ALTER TABLE ht_main ADD UNIQUE (created_at)', 600),
               ('text in "C"', 'CREATE INDEX ON ht_main (email)', 900),
               ('text in "POSIX"', 'CREATE INDEX ON ht_main (email COLLATE "POSIX")', 900),
               ('text in ICU''s root collation', 'CREATE INDEX ON ht_main (email COLLATE "und-x-icu")', 1500),
               ('a collation that does not exist', 'CREATE INDEX ON ht_main (email COLLATE mg_no_such)', 1500),
               ('expression', 'CREATE INDEX ON ht_main (lower(email))', 1500),
               ('reindex of the email index', 'REINDEX INDEX ht_main_email_idx', 900)) AS s(k, stmt, key_ns),
       LATERAL ht_predicted(stmt) p WHERE p.predicted_seconds IS NOT NULL
UNION ALL
SELECT 'index_btree bigserial added UNIQUE', abs(predicted_seconds - ht_btree('ht_main', 600)) < 1e-9
  FROM ht_predicted('ALTER TABLE ht_main ADD COLUMN n bigserial UNIQUE') WHERE rule = 'add_unique_constraint'
UNION ALL
SELECT 'index_gin', abs(predicted_seconds - table_bytes / ht_rate('index_gin')) < 1e-9
  FROM ht_predicted('CREATE INDEX ON ht_main USING gin (to_tsvector(''simple'', email))')
UNION ALL
SELECT 'index_brin', abs(predicted_seconds - table_bytes / ht_rate('index_brin')) < 1e-9
  FROM ht_predicted('CREATE INDEX ON ht_main USING brin (created_at)')
UNION ALL
SELECT 'validate', abs(predicted_seconds - table_bytes / ht_rate('validate')) < 1e-9
  FROM ht_predicted('ALTER TABLE ht_main ADD CHECK (org_id >= 0)')
UNION ALL
SELECT 'validate', abs(predicted_seconds - table_bytes / ht_rate('validate')) < 1e-9
  FROM ht_predicted('ALTER TABLE ht_main ALTER COLUMN org_id SET NOT NULL')
UNION ALL
SELECT 'fk_validate', abs(predicted_seconds - table_bytes / ht_rate('fk_validate')) < 1e-9
  FROM ht_predicted('ALTER TABLE ht_main ADD FOREIGN KEY (org_id) REFERENCES ht_orgs')
  WHERE rule = 'add_foreign_key'
UNION ALL
SELECT 'attach_scan', abs(predicted_seconds - table_bytes / ht_rate('attach_scan')) < 1e-9
  FROM ht_predicted('ALTER TABLE ht_parted ATTACH PARTITION ht_part FOR VALUES FROM (0) TO (100000)')
  WHERE rule = 'attach_partition'
UNION ALL
SELECT 'reindex', abs(predicted_seconds - ht_btree('ht_main', 600) - ht_btree('ht_main', 900)) < 1e-9
  FROM ht_predicted('REINDEX TABLE ht_main') WHERE rule = 'reindex';
-- SET TABLESPACE copies the table's blocks as they are: its bytes at the
-- rewrite rate, no cost per row, and its indexes stay where they are
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE ht_ts LOCATION '';
SET migration_guard.max_lock_hold = '1ms';
SELECT rule, abs(predicted_seconds - table_bytes / ht_rate('rewrite')) < 1e-9 AS bytes_only,
       substring(detail from 'about \d+ ms: (a copy of [^,]*, block by block, at \d+ MB/s) \(') AS said
  FROM migration_guard.check('ALTER TABLE ht_main SET TABLESPACE ht_ts') WHERE relation IS NOT NULL;
RESET migration_guard.max_lock_hold;
DROP TABLESPACE ht_ts;
RESET allow_in_place_tablespaces;
-- the rows a sort or a copy handles are the live ones, which the statistics
-- count where the estimate (the last density, scaled to the size now) counts
-- the dead too: half of ht_dead deleted, then, in a transaction, the rest
-- updated, whose old versions an index build still reads and a rewrite does not
CREATE TABLE ht_dead (id bigint, note text);
INSERT INTO ht_dead SELECT g, 'note ' || g FROM generate_series(1, 40000) g;
-- the load's counts reach the shared statistics before ANALYZE resets them
-- (else they add to ANALYZE's on the next flush, a count the guard leaves alone)
SELECT pg_stat_force_next_flush();
ANALYZE ht_dead;
DELETE FROM ht_dead WHERE id % 2 = 0;
CREATE FUNCTION ht_handles(rule text, table_bytes bigint, predicted_seconds float8) RETURNS float8
  LANGUAGE sql AS
  $$SELECT round(CASE rule WHEN 'create_index' THEN (predicted_seconds - table_bytes / (2000 * 1048576.0)) / 600e-9
                           ELSE (predicted_seconds - table_bytes / (170 * 1048576.0)) / 3000e-9 END)$$;
SELECT rule, est_rows, ht_handles(rule, table_bytes, predicted_seconds) AS rows_handled
  FROM migration_guard.check('CREATE INDEX ON ht_dead (id)') WHERE rule = 'create_index';
BEGIN;
UPDATE ht_dead SET note = note || '!';
SELECT rule, est_rows, ht_handles(rule, table_bytes, predicted_seconds) AS rows_handled
  FROM migration_guard.check($$CREATE INDEX ON ht_dead (id);
                               ALTER TABLE ht_dead ADD COLUMN u uuid DEFAULT gen_random_uuid()$$)
 WHERE rule IS NOT NULL ORDER BY statement;
ROLLBACK;
-- statistics reset (as a crash resets them all) count from nothing: until
-- a VACUUM or ANALYZE sets them again, the estimate counts
SELECT pg_stat_reset_single_table_counters('ht_dead'::regclass);
SELECT rule, est_rows, ht_handles(rule, table_bytes, predicted_seconds) AS rows_handled
  FROM migration_guard.check('CREATE INDEX ON ht_dead (id)') WHERE rule = 'create_index';
SET client_min_messages = error;
DROP TABLE ht_dead;
RESET client_min_messages;
-- work the model does not know has no prediction; nor has a new table
SELECT statement, command, predicted_seconds FROM migration_guard.check($$
  ALTER TABLE ht_main ADD COLUMN note text;
  ALTER TABLE ht_main RENAME COLUMN email TO mail;
  CREATE TABLE ht_new (id int);
  CREATE INDEX ON ht_new (id);
$$) ORDER BY statement;

-- judged by size alone (the suites' setting): the 1 MB threshold decides
SET migration_guard.max_lock_hold = 0;
SELECT rule, verdict FROM migration_guard.check('CREATE INDEX ON ht_main (org_id)');
-- judged by time: the same index build is predicted to take about 32 ms
SET migration_guard.max_lock_hold = '40ms';
SELECT rule, verdict FROM migration_guard.check('CREATE INDEX ON ht_main (org_id)');
-- while the rewrite, about 100 ms with its two index builds, is refused,
-- and says how long, why, and from which rates
SELECT rule, verdict, message, detail FROM migration_guard.check(
  'ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()');
-- an index build on text in a collation, about 77 ms, says its keys
SELECT rule, verdict, message, substring(detail from 'It would hold.*') AS detail
  FROM migration_guard.check('CREATE INDEX ON ht_main (email COLLATE "und-x-icu")');
-- the hook says the same (its DETAIL is check()'s; its HINT differs on 18)
\set VERBOSITY terse
ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid();
\set VERBOSITY default
-- the threshold is still a floor: below it, nothing is judged by time
SET migration_guard.large_table_threshold = '10MB';
SELECT rule, verdict FROM migration_guard.check('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()');
SET migration_guard.large_table_threshold = '1MB';
-- plan() plans what is refused, and keeps as written what the time limit lets through
SELECT step, phase, statement, left(sql, 60) AS sql, lock_hold
  FROM migration_guard.plan($$
    ALTER TABLE ht_main ALTER COLUMN org_id SET NOT NULL;
    ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid();
$$) ORDER BY step;
-- a rule whose hold is brief (DROP INDEX waits, then reads nothing) is not judged by time
SELECT rule, verdict FROM migration_guard.check('DROP INDEX ht_main_email_idx');

--
-- Learning from history: the median, per kind, of measured over reference
-- time of the last 20 statements whose work took 50 ms or more at the
-- reference rates; 3 of them at least.  (Rows written here stand for
-- statements that ran; test/t/015_hold_time.pl learns from real ones.)
--
CREATE FUNCTION ht_history(k text, reference float8, held float8, by_role text DEFAULT current_user)
  RETURNS void LANGUAGE sql AS $$
  INSERT INTO migration_guard.audit_log (role_name, session_role, backend_pid, command, statement,
                                         verdict, held_ms, work_kind, work_bytes, reference_ms)
  VALUES (by_role, session_user, pg_backend_pid(), 'ALTER TABLE', 'history', 'ok', held, k,
          (reference * 60 * 1048576 / 1000)::bigint, reference)
$$;
-- two are not enough
SELECT ht_history('rewrite', 100, 400), ht_history('rewrite', 200, 800);
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';
-- a third, and the median of measured over reference is 4
SELECT ht_history('rewrite', 100, 1000);
SELECT kind, factor, mb_per_s, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';
-- an outlier moves a median little; statements too short to measure the
-- work (under 50 ms at reference rates) are left out
SELECT ht_history('rewrite', 100, 90000), ht_history('rewrite', 100, 350),
       ht_history('rewrite', 10, 5000), ht_history('rewrite', 49, 5000);
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';
-- only the last 20 count: 20 newer ones at factor 2
SELECT count(*) AS written FROM (SELECT ht_history('rewrite', 100, 200) FROM generate_series(1, 20)) h;
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';
-- the prediction and its message follow
SELECT abs(predicted_seconds - 2 * (ht_rewrite('ht_main', table_bytes, 3000)
         + ht_btree('ht_main', 600) + ht_btree('ht_main', 900))) < 1e-9 AS twice_the_reference
  FROM ht_predicted('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()');
SELECT message, detail FROM migration_guard.check('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()');
-- other kinds keep their own rates
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind IN ('index_btree', 'validate') ORDER BY kind;
-- a read-only transaction reads them too (a dry run on a standby, say); the
-- hook judges before PostgreSQL refuses the statement for being in one
BEGIN READ ONLY;
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';
SELECT rule, verdict, predicted_seconds > 0.2 AS predicted
  FROM migration_guard.check('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()');
\set VERBOSITY terse
ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid();
\set VERBOSITY default
ROLLBACK;
-- any role can make a statement fast for its size (a rewrite of a table of
-- dead rows): the history of roles that are not superusers may show the
-- server slower, never faster
CREATE ROLE ht_app;
SELECT count(*) AS written FROM (SELECT ht_history('rewrite', 100, 10, 'ht_app') FROM generate_series(1, 20)) h;
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';
SELECT count(*) AS written FROM (SELECT ht_history('rewrite', 100, 600, 'ht_app') FROM generate_series(1, 20)) h;
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';
DELETE FROM migration_guard.audit_log WHERE role_name = 'ht_app';
DROP ROLE ht_app;
SELECT kind, factor, source FROM migration_guard.work_rates() WHERE kind = 'rewrite';

-- check() given another server's sizes judges by that server's rates too
SELECT jsonb_typeof(migration_guard.export_sizes()->'rates'->'rewrite'->'factor') AS exported,
       migration_guard.export_sizes()->'rates'->'rewrite'->>'source' AS exported_source;
SELECT abs(predicted_seconds - 3 * (ht_rewrite('ht_main', table_bytes, 3000)
         + ht_btree('ht_main', 600) + ht_btree('ht_main', 900))) < 1e-9 AS three_times_the_reference,
       substring(detail from '\(given with the sizes: [^)]*\)') AS source
  FROM migration_guard.check('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()', 'file',
         jsonb_build_object('format', 'migration_guard sizes 1', 'relations', '[]'::jsonb,
           'rates', jsonb_build_object('rewrite', jsonb_build_object('factor', 3, 'source', 'the median of the last 20 rewrites on the server the sizes come from'),
                                       'index_btree', jsonb_build_object('factor', 1),
                                       'a_later_kind', jsonb_build_object('factor', 1))));
SELECT * FROM migration_guard.check('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()', 'file',
         '{"format": "migration_guard sizes 1", "relations": [], "rates": {"rewrite": {"factor": 0}}}');
SELECT * FROM migration_guard.check('ALTER TABLE ht_main ADD COLUMN u uuid DEFAULT gen_random_uuid()', 'file',
         '{"format": "migration_guard sizes 1", "relations": [], "rates": {"rewrite": {"factor": "fast"}}}');

--
-- calibrate(): one statement of each kind on a table of its own, in the
-- caller's transaction; history, where there is enough, still comes first.
-- A quick one runs again, up to 5 times while they add up to under 200 ms
-- (the scans of 2 MB, a millisecond each, always 5); the rewrite once.
--
SELECT kind, bytes > 1000000 AS measured_a_table, measured_ms > 0 AS timed, mb_per_s > 0 AS has_rate,
       CASE kind WHEN 'rewrite' THEN runs = 1 WHEN 'validate' THEN runs = 5 WHEN 'fk_validate' THEN runs = 5
                 ELSE runs BETWEEN 1 AND 5 END AS runs_as_meant
  FROM migration_guard.calibrate(2);
-- its B-tree sorts text in the database's collation, whatever that is here
CREATE FUNCTION ht_text_key_ns() RETURNS float8 LANGUAGE sql AS
  $$SELECT CASE WHEN datcollate IN ('C', 'POSIX') THEN 900 ELSE 1500 END
      FROM pg_database WHERE datname = current_database()$$;
SELECT kind, rows = (SELECT rows FROM migration_guard.calibration WHERE kind = 'rewrite') AS rows_of_the_table
  FROM migration_guard.calibration WHERE kind = 'index_btree';
SELECT count(*) AS calibrated FROM migration_guard.calibration;
SELECT kind, source ~ '^measured by migration_guard.calibrate\(\) on \d{4}-\d\d-\d\d$' AS calibrated,
       abs(factor - (SELECT c.measured_ms / (c.bytes / (w.reference_mb_per_s * 1048576) * 1000
                                             + CASE c.kind WHEN 'index_btree' THEN c.rows * ht_text_key_ns() / 1e6
                                                           WHEN 'rewrite' THEN c.rows * 3000 / 1e6 ELSE 0 END)
                       FROM migration_guard.calibration c WHERE c.kind = w.kind)) < 1e-9 AS factor_from_it,
       source
  FROM migration_guard.work_rates() w WHERE kind IN ('rewrite', 'index_btree', 'validate', 'index_spgist') ORDER BY kind;
-- it leaves nothing behind
SELECT count(*) AS left_behind FROM pg_class WHERE relname LIKE '\_calibrate\_%';
-- bounded in time: nothing is started once time_limit is spent
SELECT count(*) FROM migration_guard.calibrate(2, '1 us');
-- bad input
SELECT * FROM migration_guard.calibrate(0);
SELECT * FROM migration_guard.calibrate(8, '-1 s');

--
-- Who may change what
--
CREATE ROLE ht_dev LOGIN;
GRANT USAGE ON SCHEMA migration_guard TO ht_dev;
SET ROLE ht_dev;
SET migration_guard.max_lock_hold = '1h';
SELECT * FROM migration_guard.calibrate(2);
-- an ordinary role's check() sees the rates the server uses, without reading the audit
SELECT kind, factor FROM migration_guard.work_rates() WHERE kind = 'rewrite';
SELECT * FROM migration_guard.calibration;
RESET ROLE;
REVOKE USAGE ON SCHEMA migration_guard FROM ht_dev;
DROP ROLE ht_dev;

RESET migration_guard.max_lock_hold;
RESET migration_guard.large_table_threshold;
SET migration_guard.allow = 'drop_table';
DROP TABLE ht_main, ht_orgs, ht_parted, ht_part;
DROP FUNCTION ht_rate(text), ht_predicted(text), ht_history(text, float8, float8, text);
RESET migration_guard.allow;
