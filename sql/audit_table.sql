--
-- The audit table as a DBA may change it: triggers, rules, constraints,
-- indexes of every kind, row security, privileges, TOAST.  Every row is
-- written by the same INSERT (audit.c), by this backend and by the worker
-- that records refusals; it must store what any INSERT of the same values
-- stores, and fail where any INSERT would fail.
--
SET migration_guard.large_table_threshold = '1MB';
\set VERBOSITY terse
CREATE EXTENSION IF NOT EXISTS amcheck;
CREATE EXTENSION IF NOT EXISTS pageinspect;

-- a table of our own for the audited statements, and a side table
CREATE TABLE ad_t (id int PRIMARY KEY, v text);
INSERT INTO ad_t SELECT g, 'v' || g FROM generate_series(1, 10) g;
ANALYZE ad_t;
CREATE TABLE ad_side (audit_id bigint, command text, statement text, reason text);

-- what a row holds, with the session's values compared rather than shown
SELECT coalesce(max(id), 0) AS start_id FROM migration_guard.audit_log \gset
CREATE TEMP VIEW ad_log AS
SELECT id, command, relation_name, verdict, rules, reason, lock_mode,
       rewrite, scan, est_rows > 0 AS has_est, statement, statement_truncated,
       role_name, session_role, backend_pid = pg_backend_pid() AS this_backend,
       application_name = current_setting('application_name') AS this_app,
       xid IS NOT NULL AS has_xid, held_ms IS NOT NULL AS timed,
       relation_oid = to_regclass(relation_name) AS oid_matches
  FROM migration_guard.audit_log WHERE id > :start_id;

-- The tuple as stored: null bitmap, flags (HASNULL, HASVARWIDTH,
-- HASEXTERNAL), number of attributes, header size and every byte of the
-- data after "id".  A real INSERT of the same values must store the same.
CREATE FUNCTION ad_tuple(t tid, OUT flags int, OUT natts int, OUT hoff smallint,
                         OUT bits text, OUT data bytea)
LANGUAGE sql AS $$
  SELECT t_infomask & 7, t_infomask2 & 2047, t_hoff, t_bits, substr(t_data, 9)
    FROM heap_page_items(get_raw_page('migration_guard.audit_log',
                                      (t::text::point)[0]::int))
   WHERE lp = (t::text::point)[1]::int
$$;
-- a copy of row "orig" written by a real INSERT; its ctid
CREATE FUNCTION ad_insert_copy(orig bigint) RETURNS tid LANGUAGE plpgsql AS $$
DECLARE
  t tid;
BEGIN
  INSERT INTO migration_guard.audit_log (logged_at, role_name, session_role,
      application_name, client_addr, backend_pid, xid, command, statement,
      statement_truncated, relation_oid, relation_name, lock_mode, table_bytes,
      est_rows, rewrite, scan, rules, verdict, reason, lock_wait_ms, held_ms, recipe,
      work_kind, work_bytes, reference_ms, predicted_ms)
  SELECT logged_at, role_name, session_role, application_name, client_addr,
         backend_pid, xid, command, statement, statement_truncated,
         relation_oid, relation_name, lock_mode, table_bytes, est_rows,
         rewrite, scan, rules, verdict, reason, lock_wait_ms, held_ms, recipe,
         work_kind, work_bytes, reference_ms, predicted_ms
    FROM migration_guard.audit_log WHERE id = orig
  RETURNING ctid INTO t;
  RETURN t;
END
$$;

--
-- The table as created: rows written by this backend and by the worker
-- that records refusals
--
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 101;
ALTER TABLE ad_t ADD COLUMN c1 int;
ALTER TABLE ad_t DROP COLUMN c1;
BEGIN;
SET LOCAL migration_guard.allow = 'drop_column';
SET LOCAL migration_guard.reason = 'it''s "quoted"';
ALTER TABLE ad_t ADD COLUMN c2 int;
ALTER TABLE ad_t DROP COLUMN c2;
COMMIT;
CREATE INDEX ad_t_v_idx ON ad_t (v);
REINDEX TABLE ad_t;
VACUUM ad_t;
ANALYZE ad_t;
-- refused: the worker writes the row
BEGIN;
ALTER TABLE big ADD COLUMN u uuid DEFAULT gen_random_uuid();
ROLLBACK;
-- statements that give audit_log new files: the row goes to the new ones
VACUUM FULL migration_guard.audit_log;
CLUSTER migration_guard.audit_log USING audit_log_pkey;
REINDEX TABLE migration_guard.audit_log;
REINDEX TABLE CONCURRENTLY migration_guard.audit_log;
SELECT command, relation_name, verdict, rules, reason, lock_mode, rewrite,
       scan, has_est, statement, statement_truncated, role_name, session_role,
       this_backend, this_app, has_xid, timed, oid_matches
  FROM ad_log ORDER BY id;
-- read back through the view, the enum as text and as itself
SELECT a.command, a.verdict, a.verdict::text AS verdict_text,
       a.verdict = 'warned' AS is_warned, a.rules, a.rules[1] AS first_rule,
       a.transaction
  FROM migration_guard.audit a WHERE a.id > :start_id ORDER BY a.id;
-- ids follow the order the rows were written in
SELECT array_agg(id ORDER BY id) = array_agg(id ORDER BY logged_at, id) AS ids_in_order,
       count(*) = count(DISTINCT id) AS ids_distinct
  FROM migration_guard.audit_log WHERE id > :start_id;
-- every heap row has its index entries, and nothing else is there
SELECT bt_index_check('migration_guard.audit_log_pkey', true),
       bt_index_check('migration_guard.audit_log_logged_at_idx', true);
-- the rows are what a real INSERT of the same values stores, byte for byte
BEGIN;
CREATE TEMP TABLE ad_pairs ON COMMIT DROP AS
SELECT id, statement, ctid AS direct_tid, ad_insert_copy(id) AS insert_tid
  FROM migration_guard.audit_log WHERE id > :start_id;
SELECT p.statement, d.flags, d.natts, d = i AS same_as_insert
  FROM ad_pairs p, ad_tuple(p.direct_tid) d, ad_tuple(p.insert_tid) i
 ORDER BY p.id;
ROLLBACK;
-- TRUNCATE of audit_log itself: its own row is the only one left
BEGIN;
TRUNCATE migration_guard.audit_log;
SELECT command, verdict, rules, statement FROM migration_guard.audit_log;
SELECT bt_index_check('migration_guard.audit_log_pkey', true),
       bt_index_check('migration_guard.audit_log_logged_at_idx', true);
ROLLBACK;

--
-- Triggers added after this backend wrote rows: the next row goes
-- through them (the prepared INSERT is planned again)
--
CREATE FUNCTION ad_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.reason := 'from trigger';
  RETURN NEW;
END
$$;
CREATE FUNCTION ad_after() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.ad_side VALUES (NEW.id, NEW.command, NEW.statement, NEW.reason);
  RETURN NULL;
END
$$;
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
CREATE TRIGGER ad_before BEFORE INSERT ON migration_guard.audit_log
  FOR EACH ROW EXECUTE FUNCTION ad_before();
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 201;
CREATE TRIGGER ad_after AFTER INSERT ON migration_guard.audit_log
  FOR EACH ROW EXECUTE FUNCTION ad_after();
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 202;
SELECT statement, reason FROM ad_log WHERE id > :mark ORDER BY id;
SELECT s.command, s.statement, s.reason, s.audit_id = a.id AS same_id
  FROM ad_side s JOIN migration_guard.audit_log a ON a.statement = s.statement;
ROLLBACK;
-- the rollback took the triggers away again: no reason
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 203;
SELECT statement, reason FROM ad_log WHERE id > :mark ORDER BY id;
SELECT count(*) AS side_rows FROM ad_side;
-- a trigger committed by another session, and the worker's rows: the
-- worker, too, goes through it
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_exec('dbname=' || current_database(),
  'CREATE TRIGGER ad_before BEFORE INSERT ON migration_guard.audit_log
     FOR EACH ROW EXECUTE FUNCTION public.ad_before()');
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 204;
BEGIN;
ALTER TABLE big ADD COLUMN u2 uuid DEFAULT gen_random_uuid();
ROLLBACK;
DROP TRIGGER ad_before ON migration_guard.audit_log;
VACUUM migration_guard.audit_log;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 205;
SELECT command, statement, verdict, reason FROM ad_log WHERE id > :mark ORDER BY id;
-- the other way round: a CHECK dropped in a transaction that rolls back
-- (rows written meanwhile) applies again to the next row
ALTER TABLE migration_guard.audit_log ADD CONSTRAINT ad_not_206
  CHECK (statement NOT LIKE '%STATISTICS 206') NOT VALID;
BEGIN;
ALTER TABLE migration_guard.audit_log DROP CONSTRAINT ad_not_206;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 206;
ROLLBACK;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 206;
ALTER TABLE migration_guard.audit_log DROP CONSTRAINT ad_not_206;

--
-- Rules on audit_log apply as they would to an INSERT, DO INSTEAD too
--
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
CREATE RULE ad_also AS ON INSERT TO migration_guard.audit_log
  DO ALSO INSERT INTO ad_side VALUES (NEW.id, NEW.command, NEW.statement, NEW.reason);
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 301;
-- as for any INSERT, NEW.id in the rule is the default evaluated again
SELECT a.statement, s.statement AS side_statement, s.audit_id > a.id AS id_evaluated_again
  FROM ad_log a JOIN ad_side s USING (statement) WHERE a.id > :mark;
ROLLBACK;
BEGIN;
CREATE RULE ad_instead AS ON INSERT TO migration_guard.audit_log
  DO INSTEAD INSERT INTO ad_side VALUES (NULL, NEW.command, NEW.statement, NEW.reason);
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 302;
SELECT count(*) AS in_audit_log FROM ad_log WHERE id > :mark;
SELECT command, statement FROM ad_side;
ROLLBACK;

--
-- Row security: applies to the owner only with FORCE, and never to a
-- superuser, so audit_log is given to an ordinary role first
--
CREATE ROLE ad_owner;
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
ALTER TABLE migration_guard.audit_log OWNER TO ad_owner;
CREATE POLICY ad_not_ad_t ON migration_guard.audit_log FOR INSERT
  WITH CHECK (relation_name IS DISTINCT FROM 'ad_t');
ALTER TABLE migration_guard.audit_log ENABLE ROW LEVEL SECURITY;
-- enabled, not forced: the owner is not subject to it
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 401;
ALTER TABLE migration_guard.audit_log FORCE ROW LEVEL SECURITY;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 402;
ROLLBACK TO s;
ALTER TABLE small ALTER COLUMN val SET STATISTICS 402;
SELECT statement, role_name FROM ad_log WHERE id > :mark ORDER BY id;
ROLLBACK;

--
-- A foreign key from audit_log to a table of the DBA's
--
CREATE TABLE ad_known (name text PRIMARY KEY);
INSERT INTO ad_known VALUES ('migration_guard.audit_log'), ('small');
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
ALTER TABLE migration_guard.audit_log ADD CONSTRAINT ad_known_fk
  FOREIGN KEY (relation_name) REFERENCES ad_known NOT VALID;
ALTER TABLE small ALTER COLUMN val SET STATISTICS 501;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 501;
ROLLBACK TO s;
SELECT statement FROM ad_log WHERE id > :mark ORDER BY id;
ROLLBACK;
-- and one to audit_log: its triggers are for DELETE and UPDATE
CREATE TABLE ad_refs (audit_id bigint REFERENCES migration_guard.audit_log);
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 502;
SELECT statement FROM ad_log WHERE id > :mark ORDER BY id;
DROP TABLE ad_refs;
-- dropping triggers leaves relhastriggers set until VACUUM clears it
VACUUM migration_guard.audit_log;

--
-- A deferrable unique constraint.  The INSERT runs as a
-- security-restricted operation, which may not leave a trigger event for
-- later: the duplicate fails at once, not at COMMIT
--
BEGIN;
DELETE FROM migration_guard.audit_log;
ALTER TABLE migration_guard.audit_log ADD CONSTRAINT ad_once
  UNIQUE (relation_name, command) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 601;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 602;
ROLLBACK TO s;
SELECT command, relation_name, statement FROM migration_guard.audit_log ORDER BY id;
-- made immediate: the unique violation itself
SET CONSTRAINTS migration_guard.ad_once IMMEDIATE;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 603;
ROLLBACK;

--
-- Exclusion constraint; a plain unique index
--
BEGIN;
DELETE FROM migration_guard.audit_log;
ALTER TABLE migration_guard.audit_log ADD CONSTRAINT ad_excl
  EXCLUDE USING btree (relation_name WITH =);
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 701;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 702;
ROLLBACK TO s;
SELECT command, relation_name, statement FROM migration_guard.audit_log ORDER BY id;
ROLLBACK;
BEGIN;
DELETE FROM migration_guard.audit_log;
CREATE UNIQUE INDEX ad_uniq ON migration_guard.audit_log (relation_name, reason)
  NULLS NOT DISTINCT;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 703;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 704;
ROLLBACK TO s;
SELECT command, relation_name, statement FROM migration_guard.audit_log ORDER BY id;
SELECT bt_index_check('migration_guard.ad_uniq', true);
ROLLBACK;

--
-- Indexes the DBA adds: with an expression or a predicate, on plain
-- columns with other access methods
--
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
CREATE INDEX ad_expr_idx ON migration_guard.audit_log (lower(statement));
CREATE INDEX ad_part_idx ON migration_guard.audit_log (id) WHERE relation_name = 'ad_t';
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 801;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 802;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT statement FROM migration_guard.audit_log WHERE lower(statement) = 'alter table ad_t alter column v set statistics 801';
SELECT statement FROM migration_guard.audit_log WHERE lower(statement) = 'alter table ad_t alter column v set statistics 801';
EXPLAIN (COSTS OFF)
SELECT statement FROM migration_guard.audit_log WHERE relation_name = 'ad_t' AND statement LIKE '%80_';
SELECT statement FROM migration_guard.audit_log WHERE relation_name = 'ad_t' AND statement LIKE '%80_';
SELECT bt_index_check('migration_guard.ad_expr_idx', true),
       bt_index_check('migration_guard.ad_part_idx', true);
ROLLBACK;
BEGIN;
CREATE INDEX ad_hash_idx ON migration_guard.audit_log USING hash (statement);
CREATE INDEX ad_gin_idx ON migration_guard.audit_log USING gin (rules);
CREATE INDEX ad_brin_idx ON migration_guard.audit_log USING brin (id);
CREATE INDEX ad_incl_idx ON migration_guard.audit_log (relation_name) INCLUDE (verdict, rules);
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 803;
ALTER TABLE ad_t ADD COLUMN c8 int;
ALTER TABLE ad_t DROP COLUMN c8;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT verdict FROM migration_guard.audit_log WHERE statement = 'ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 803';
SELECT verdict FROM migration_guard.audit_log WHERE statement = 'ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 803';
SET LOCAL enable_bitmapscan = on;
SET LOCAL enable_indexscan = off;
EXPLAIN (COSTS OFF)
SELECT statement FROM migration_guard.audit_log WHERE rules @> '{drop_column}' AND statement LIKE '%c8';
SELECT statement FROM migration_guard.audit_log WHERE rules @> '{drop_column}' AND statement LIKE '%c8';
SELECT bt_index_check('migration_guard.ad_incl_idx', true);
ROLLBACK;

--
-- "id" from another sequence: a plain nextval() default, or any other
-- expression (their ids are below the default's, which grow with time: the
-- rows are told by when they were logged)
--
SELECT max(id) AS mark, max(logged_at) AS mark_at FROM migration_guard.audit_log \gset
BEGIN;
CREATE SEQUENCE ad_seq START 1000000;
ALTER TABLE migration_guard.audit_log ALTER COLUMN id SET DEFAULT nextval('ad_seq');
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 901;
ALTER TABLE migration_guard.audit_log ALTER COLUMN id SET DEFAULT nextval('ad_seq') * 10;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 902;
SELECT id, statement FROM migration_guard.audit_log WHERE logged_at > :'mark_at' ORDER BY id;
ROLLBACK;
-- an identity column instead of the serial default
BEGIN;
ALTER TABLE migration_guard.audit_log ALTER COLUMN id DROP DEFAULT,
  ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 2000000);
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 903;
SELECT id, statement FROM migration_guard.audit_log WHERE logged_at > :'mark_at' ORDER BY id;
ROLLBACK;
-- no default at all: "id" gets NULL, as it would from the INSERT
BEGIN;
SET LOCAL migration_guard.audit = off;
ALTER TABLE migration_guard.audit_log ALTER COLUMN id DROP DEFAULT;
SET LOCAL migration_guard.audit = 'all';
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 904;
ROLLBACK;

--
-- NOT NULL on "reason": the INSERT reports the NULL; a row that has
-- a reason is written
--
ALTER TABLE ad_t ADD COLUMN c10 int;
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
UPDATE migration_guard.audit_log SET reason = '' WHERE reason IS NULL;
SET LOCAL migration_guard.audit = off;
ALTER TABLE migration_guard.audit_log ALTER COLUMN reason SET NOT NULL;
SET LOCAL migration_guard.audit = 'all';
SET LOCAL migration_guard.allow = 'drop_column';
SET LOCAL migration_guard.reason = 'ticket 10';
ALTER TABLE ad_t DROP COLUMN c10;
SELECT statement, verdict, reason FROM ad_log WHERE id > :mark ORDER BY id;
RESET migration_guard.allow;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 1001;
ROLLBACK;
ALTER TABLE ad_t DROP COLUMN c10;
-- a column renamed: the INSERT's own error
BEGIN;
ALTER TABLE migration_guard.audit_log RENAME COLUMN reason TO why;
ROLLBACK;

--
-- The owner's privileges, checked on every row: INSERT revoked,
-- column privileges only, superuser lost, the sequence's privileges
--
CREATE ROLE ad_super SUPERUSER;
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
ALTER TABLE migration_guard.audit_log OWNER TO ad_owner;
REVOKE INSERT ON migration_guard.audit_log FROM ad_owner;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 1101;
ROLLBACK TO s;
-- INSERT on every column it names is all the INSERT needs
GRANT INSERT (logged_at, role_name, session_role, application_name,
  client_addr, backend_pid, xid, command, statement, statement_truncated,
  relation_oid, relation_name, lock_mode, table_bytes, est_rows, rewrite,
  scan, rules, verdict, reason, lock_wait_ms, held_ms, recipe, work_kind,
  work_bytes, reference_ms, predicted_ms) ON migration_guard.audit_log TO ad_owner;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 1102;
REVOKE INSERT (reason) ON migration_guard.audit_log FROM ad_owner;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 1103;
ROLLBACK TO s;
SELECT statement, role_name FROM ad_log WHERE id > :mark ORDER BY id;
ROLLBACK;
-- a superuser owner needs no grant, until it is no longer superuser
BEGIN;
ALTER TABLE migration_guard.audit_log OWNER TO ad_super;
REVOKE INSERT ON migration_guard.audit_log FROM ad_super;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 1104;
SELECT statement, role_name FROM ad_log WHERE id > :mark ORDER BY id;
ALTER ROLE ad_super NOSUPERUSER;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 1105;
ROLLBACK;
-- the id sequence: the owner needs USAGE or UPDATE on it, as for nextval()
SELECT max(logged_at) AS mark_at FROM migration_guard.audit_log \gset
BEGIN;
CREATE SEQUENCE ad_seq2;
ALTER TABLE migration_guard.audit_log OWNER TO ad_owner;
ALTER TABLE migration_guard.audit_log ALTER COLUMN id SET DEFAULT nextval('ad_seq2');
ROLLBACK;
BEGIN;
CREATE SEQUENCE ad_seq2 START 3000000;
GRANT USAGE ON SEQUENCE ad_seq2 TO ad_owner;
ALTER TABLE migration_guard.audit_log OWNER TO ad_owner;
ALTER TABLE migration_guard.audit_log ALTER COLUMN id SET DEFAULT nextval('ad_seq2');
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 1106;
SELECT id BETWEEN 3000000 AND 3999999 AS from_ad_seq2, statement FROM migration_guard.audit_log
 WHERE logged_at > :'mark_at' ORDER BY id;
ROLLBACK;
SELECT count(*) AS rows_left FROM migration_guard.audit_log WHERE logged_at > :'mark_at';

--
-- A read-only transaction cannot take the row: the worker commits it, and
-- the statement runs as it would without the guard
--
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN TRANSACTION READ ONLY;
REINDEX TABLE ad_t;
ROLLBACK;
SELECT command, statement FROM migration_guard.audit_log WHERE id > :mark ORDER BY id;

--
-- A statement long enough to be stored out of line (TOAST)
--
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
CREATE FUNCTION ad_long() RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT string_agg(md5(g::text), '' ORDER BY g) FROM generate_series(1, 400) g $$;
DO $do$
BEGIN
  EXECUTE 'ALTER TABLE ad_t ALTER COLUMN v SET DEFAULT ' || quote_literal(ad_long());
  EXECUTE 'ALTER TABLE ad_t ALTER COLUMN v SET DEFAULT ' || quote_literal(repeat('ab', 6000));
END
$do$;
ALTER TABLE ad_t ALTER COLUMN v DROP DEFAULT;
SELECT left(statement, 45) AS statement, length(statement), statement_truncated,
       statement IN ('ALTER TABLE ad_t ALTER COLUMN v SET DEFAULT ' || quote_literal(ad_long()),
                     'ALTER TABLE ad_t ALTER COLUMN v SET DEFAULT ' || quote_literal(repeat('ab', 6000)))
         AS stored_exactly
  FROM ad_log WHERE id > :mark AND statement LIKE '%SET DEFAULT%' ORDER BY id;
-- out of line (incompressible) or compressed in line, as a real INSERT of
-- the same value stores it (bytes compared in line only: an out-of-line
-- value's pointer names its own TOAST value)
BEGIN;
CREATE TEMP TABLE ad_pairs ON COMMIT DROP AS
SELECT id, ctid AS direct_tid, ad_insert_copy(id) AS insert_tid
  FROM migration_guard.audit_log WHERE id > :mark AND statement LIKE '%SET DEFAULT%';
SELECT left(a.statement, 45) AS statement, d.flags AS direct_flags,
       i.flags AS insert_flags, pg_column_size(a.statement) AS stored_bytes,
       pg_column_size(c.statement) AS insert_stored_bytes,
       a.statement = c.statement AS same_value,
       CASE WHEN d.flags & 4 = 0 THEN d.data = i.data END AS same_bytes
  FROM ad_pairs p
  JOIN migration_guard.audit_log a ON a.ctid = p.direct_tid
  JOIN migration_guard.audit_log c ON c.ctid = p.insert_tid,
       ad_tuple(p.direct_tid) d, ad_tuple(p.insert_tid) i
 ORDER BY p.id;
ROLLBACK;
SELECT bt_index_check('migration_guard.audit_log_pkey', true),
       bt_index_check('migration_guard.audit_log_logged_at_idx', true);

--
-- Column types exactly as created: a typmod, or another enum for verdict,
-- and the INSERT decides (the view over the columns is set aside first)
--
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
ALTER EXTENSION migration_guard DROP VIEW migration_guard.audit;
DROP VIEW migration_guard.audit, ad_log;
ALTER TABLE migration_guard.audit_log ALTER COLUMN held_ms TYPE numeric(12, 0);
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 701;
SELECT statement, held_ms = round(held_ms) AS rounded_by_typmod
  FROM migration_guard.audit_log WHERE id > :mark ORDER BY id;
CREATE TYPE ad_other_verdict AS ENUM ('ok', 'warned', 'blocked', 'overridden', 'timed_out');
ALTER TABLE migration_guard.audit_log
  ALTER COLUMN verdict TYPE ad_other_verdict USING verdict::text::ad_other_verdict;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 702;
ROLLBACK;

--
-- USAGE on the schema: an owner without it cannot INSERT, so nor may we
--
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
BEGIN;
ALTER TABLE migration_guard.audit_log OWNER TO ad_owner;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 801;
REVOKE USAGE ON SCHEMA migration_guard FROM PUBLIC;
SAVEPOINT s;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 802;
ROLLBACK TO s;
GRANT USAGE ON SCHEMA migration_guard TO ad_owner;
ALTER TABLE ad_t ALTER COLUMN v SET STATISTICS 803;
SELECT statement, role_name FROM ad_log WHERE id > :mark ORDER BY id;
ROLLBACK;

--
-- A refused statement's row goes to the worker: the time it carries must
-- not depend on the session's DateStyle or time zone (13 January read
-- as a month would fail, 5 January become 1 May)
--
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Chatham';
SELECT max(id) AS mark FROM migration_guard.audit_log \gset
CREATE INDEX ON big (id);
RESET DateStyle;
RESET TimeZone;
SELECT command, verdict, abs(extract(epoch FROM now() - logged_at)) < 600 AS logged_now
  FROM migration_guard.audit_log WHERE id > :mark;

-- clean up
DROP FUNCTION ad_long(), ad_tuple(tid), ad_insert_copy(bigint), ad_before(), ad_after();
DROP VIEW ad_log;
DROP TABLE ad_side, ad_known;
SET migration_guard.allow = 'drop_table';
DROP TABLE ad_t;
RESET migration_guard.allow;
DROP ROLE ad_owner, ad_super;
DROP EXTENSION dblink;
DROP EXTENSION pageinspect;
DROP EXTENSION amcheck;

--
-- The extension dropped and created again in this session: the first
-- audited statement after it lands in the new audit_log
--
DROP EXTENSION migration_guard;
CREATE EXTENSION migration_guard;
SET migration_guard.audit = 'all';
CREATE TABLE ad_again (id int);
ALTER TABLE ad_again ADD COLUMN v text;
ALTER TABLE ad_again DROP COLUMN v;
SELECT id > 0 AS has_id, command, statement, verdict FROM migration_guard.audit_log ORDER BY id;
SET migration_guard.allow = 'drop_table';
DROP TABLE ad_again;
RESET migration_guard.allow;
