/* migration_guard--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION migration_guard" to load this file. \quit

-- Warns when the library is not in shared_preload_libraries
CREATE FUNCTION migration_guard._preload_status()
RETURNS boolean
AS 'MODULE_PATHNAME', 'mg_preload_status'
LANGUAGE C STRICT VOLATILE;

SELECT migration_guard._preload_status();

-- Dry run of a migration script: nothing is executed, no user table locked
CREATE FUNCTION migration_guard.check(
    sql text,
    transaction text DEFAULT 'file',
    sizes jsonb DEFAULT NULL,
    OUT statement int,
    OUT command text,
    OUT relation regclass,
    OUT lock_mode text,
    OUT rewrite boolean,
    OUT scan boolean,
    OUT table_bytes bigint,
    OUT est_rows bigint,
    OUT rule text,
    OUT verdict text,
    OUT message text,
    OUT detail text,
    OUT hint text,
    OUT would_wait boolean,
    OUT waits_for int[],
    OUT line int,
    OUT col int,
    OUT recipe text,
    OUT predicted_seconds double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mg_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION migration_guard.check(text, text, jsonb) IS
'dry run of a migration script: what each statement would lock, rewrite or scan, and the verdict';

-- The steps of a safe plan for a migration script (src/plan.c)
CREATE FUNCTION migration_guard.plan(
    sql text,
    sizes jsonb DEFAULT NULL,
    OUT step int,
    OUT phase text,
    OUT statement int,
    OUT sql text,
    OUT outside_transaction boolean,
    OUT relation text,
    OUT lock_mode text,
    OUT lock_hold text,
    OUT table_bytes bigint,
    OUT verify text,
    OUT undo text,
    OUT deploy_before text,
    OUT note text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mg_plan'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION migration_guard.plan(text, jsonb) IS
'a migration script as the ordered steps of a safe plan: expand, backfill, constrain, switch, contract';

-- The size, TOAST share and estimated rows the rules judge a relation by
-- (partitions summed), as check() and the guard measure it
CREATE FUNCTION migration_guard.relation_size(
    rel regclass,
    OUT bytes bigint,
    OUT toast_bytes bigint,
    OUT est_rows bigint,
    OUT partitions int)
RETURNS record
AS 'MODULE_PATHNAME', 'mg_relation_size'
LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- Per kind of work: the reference rate, the rate in use and where it comes from
CREATE FUNCTION migration_guard.work_rates(
    OUT kind text,
    OUT reference_mb_per_s double precision,
    OUT mb_per_s double precision,
    OUT factor double precision,
    OUT source text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mg_work_rates'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION migration_guard.work_rates() IS
'the rate of each kind of work that the lock hold predictions use, and where it comes from';

-- Every table's size as the guard measures it, to hand to check() on
-- another server (a CI database with production's schema but not its
-- data): check(sql, transaction, sizes) judges the relations named here by
-- these sizes
CREATE FUNCTION migration_guard.export_sizes()
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'format', 'migration_guard sizes 1',
        'database', current_database(),
        'exported_at', now(),
        'server_version_num', current_setting('server_version_num')::int,
        -- how fast this server does each kind of work, for check()'s predictions
        'rates', (SELECT jsonb_object_agg(w.kind, jsonb_build_object(
                     'factor', w.factor,
                     'source', replace(w.source, 'on this server', 'on the server the sizes come from')))
                    FROM migration_guard.work_rates() w),
        'relations', coalesce(jsonb_agg(jsonb_build_object(
            'schema', n.nspname, 'name', c.relname, 'kind', c.relkind,
            'bytes', s.bytes, 'toast_bytes', s.toast_bytes,
            'rows', s.est_rows, 'partitions', s.partitions)
            ORDER BY n.nspname, c.relname), '[]'::jsonb))
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN LATERAL migration_guard.relation_size(c.oid) s
     WHERE c.relkind IN ('r', 'p', 'm')
       AND c.relpersistence <> 't'
       AND n.nspname <> 'information_schema'
       AND n.nspname !~ '^pg_'
$$;
REVOKE ALL ON FUNCTION migration_guard.relation_size(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION migration_guard.export_sizes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migration_guard.relation_size(regclass) TO pg_monitor;
GRANT EXECUTE ON FUNCTION migration_guard.export_sizes() TO pg_monitor;

GRANT USAGE ON SCHEMA migration_guard TO PUBLIC;

--
-- Audit log: one row per DDL statement the guard judged on an existing
-- relation.  Written only by the extension (as the extension owner); rows
-- of statements that ran are inserted in their own transaction, rows of
-- refused statements by a background worker, so that they survive the
-- ERROR.
--
-- An enum rather than a CHECK constraint: PostgreSQL parses and plans a
-- CHECK again for every INSERT, a fifth of what writing a row cost.
CREATE TYPE migration_guard.audit_verdict AS ENUM
    ('ok', 'warned', 'blocked', 'overridden', 'timed_out', 'unjudged',
     'unused_table');

-- Ids grow with time: microseconds since 1970 times 1,000, plus a counter
-- for rows of the same microsecond.  The rows of a restored dump (older)
-- and those the restore itself writes (newer) never take the same id; with
-- a plain sequence the restore's own first rows took ids 1, 2, 3, and the
-- COPY of the dumped history failed on them.
CREATE SEQUENCE migration_guard.audit_log_id_seq;
CREATE TABLE migration_guard.audit_log (
    id               bigint PRIMARY KEY DEFAULT
        pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000000)::bigint * 1000
        + pg_catalog.nextval('migration_guard.audit_log_id_seq') % 1000,
    logged_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    role_name        text NOT NULL,        -- current_user when the statement ran
    session_role     text NOT NULL,        -- session_user
    application_name text,
    client_addr      inet,
    backend_pid      int NOT NULL,
    xid              xid8,                 -- top-level transaction, if it had one
    command          text NOT NULL,        -- command tag
    statement        text NOT NULL,        -- this statement only, capped (see README)
    statement_truncated boolean NOT NULL DEFAULT false,
    relation_oid     oid,
    relation_name    text,                 -- name at the time; the relation may be gone
    lock_mode        text,
    table_bytes      bigint,
    est_rows         bigint,
    rewrite          boolean,
    scan             boolean,
    rules            text[] NOT NULL DEFAULT '{}',
    verdict          migration_guard.audit_verdict NOT NULL,
    reason           text,                 -- migration_guard.reason, for overrides
    lock_wait_ms     double precision,     -- waiting for its first lock (NULL:
                                           -- the guard did not take it)
    held_ms          double precision,     -- running, once it had that lock
    recipe           text,                 -- the safe way, one step per line
    work_kind        text,                 -- its work under the lock (rewrite,
                                           -- index_btree, validate, ...)
    work_bytes       bigint,               -- what that work reads
    reference_ms     double precision,     -- its time at the reference rates
    predicted_ms     double precision      -- at this server's rates then
);
-- the recent statements of a kind long enough to learn its rate from
-- (src/hold_time.c: HISTORY_MIN_REFERENCE_MS)
CREATE INDEX audit_log_work_kind_idx ON migration_guard.audit_log (work_kind, id)
    WHERE reference_ms >= 50;
ALTER SEQUENCE migration_guard.audit_log_id_seq OWNED BY migration_guard.audit_log.id;
CREATE INDEX audit_log_logged_at_idx ON migration_guard.audit_log (logged_at);

-- pg_dump keeps the rows
SELECT pg_catalog.pg_extension_config_dump('migration_guard.audit_log', '');
-- (not the id sequence: ids grow with time, and a restore that is not a
-- superuser's could not set it)

CREATE VIEW migration_guard.audit AS
SELECT a.id, a.logged_at, a.role_name, a.session_role, a.application_name,
       a.client_addr, a.backend_pid, a.command, a.relation_name, a.verdict,
       a.rules, a.reason, a.lock_mode,
       pg_catalog.pg_size_pretty(a.table_bytes) AS table_size, a.est_rows,
       a.rewrite, a.scan, a.lock_wait_ms, a.held_ms,
       CASE WHEN a.xid IS NULL THEN NULL
            ELSE pg_catalog.pg_xact_status(a.xid) END AS transaction,
       a.statement, a.statement_truncated, a.recipe, a.xid, a.relation_oid,
       a.work_kind, a.work_bytes, a.predicted_ms
  FROM migration_guard.audit_log a;

-- Nobody but the extension writes; readers are pg_monitor and those the
-- DBA grants SELECT to.
REVOKE ALL ON migration_guard.audit_log FROM PUBLIC;
REVOKE ALL ON migration_guard.audit FROM PUBLIC;
GRANT SELECT ON migration_guard.audit_log, migration_guard.audit TO pg_monitor;

-- Remove rows older than an interval; owner only
CREATE FUNCTION migration_guard.purge_audit(older_than interval)
RETURNS bigint
LANGUAGE sql
AS $$
    WITH gone AS (
        DELETE FROM migration_guard.audit_log
         WHERE logged_at < pg_catalog.now() - older_than
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION migration_guard.purge_audit(interval) FROM PUBLIC;

--
-- Lock reports
--

-- One row per relation-level lock in this database, held or awaited
CREATE VIEW migration_guard.locks AS
SELECT l.relation::pg_catalog.regclass AS relation,
       l.mode,
       l.granted,
       l.pid,
       a.usename AS role,
       a.application_name,
       a.state,
       pg_catalog.now() - a.xact_start AS xact_age,
       CASE WHEN NOT l.granted THEN pg_catalog.now() - l.waitstart END AS wait_time,
       a.query_start,
       pg_catalog.left(a.query, 200) AS query,
       pg_catalog.pg_blocking_pids(l.pid) AS blocked_by
  FROM pg_catalog.pg_locks l
  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'relation'
   AND l.database = (SELECT oid FROM pg_catalog.pg_database
                      WHERE datname = pg_catalog.current_database());
REVOKE ALL ON migration_guard.locks FROM PUBLIC;
GRANT SELECT ON migration_guard.locks TO pg_monitor;

-- For a lock mode: the modes it conflicts with (PostgreSQL's conflict
-- table, "Explicit Locking" in the documentation), and the common
-- statements that take each of them, which it therefore blocks
CREATE FUNCTION migration_guard.lock_conflicts(
    mode text,
    OUT conflicts_with text,
    OUT blocked_statements text)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT
AS $$
    WITH modes (rank, name, lockname, statements) AS (VALUES
        (1, 'ACCESS SHARE', 'AccessShareLock', 'SELECT'),
        (2, 'ROW SHARE', 'RowShareLock', 'SELECT ... FOR UPDATE / FOR SHARE'),
        (3, 'ROW EXCLUSIVE', 'RowExclusiveLock', 'INSERT, UPDATE, DELETE, MERGE'),
        (4, 'SHARE UPDATE EXCLUSIVE', 'ShareUpdateExclusiveLock',
            'VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY, ALTER TABLE VALIDATE CONSTRAINT / SET STATISTICS'),
        (5, 'SHARE', 'ShareLock', 'CREATE INDEX'),
        (6, 'SHARE ROW EXCLUSIVE', 'ShareRowExclusiveLock', 'CREATE TRIGGER, ALTER TABLE ADD FOREIGN KEY'),
        (7, 'EXCLUSIVE', 'ExclusiveLock', 'REFRESH MATERIALIZED VIEW CONCURRENTLY'),
        (8, 'ACCESS EXCLUSIVE', 'AccessExclusiveLock',
            'most ALTER TABLE, DROP TABLE, TRUNCATE, VACUUM FULL, CLUSTER, REFRESH MATERIALIZED VIEW, LOCK TABLE')),
    conflicts (a, b) AS (VALUES
        (1, 8),
        (2, 7), (2, 8),
        (3, 5), (3, 6), (3, 7), (3, 8),
        (4, 4), (4, 5), (4, 6), (4, 7), (4, 8),
        (5, 3), (5, 4), (5, 6), (5, 7), (5, 8),
        (6, 3), (6, 4), (6, 5), (6, 6), (6, 7), (6, 8),
        (7, 2), (7, 3), (7, 4), (7, 5), (7, 6), (7, 7), (7, 8),
        (8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 6), (8, 7), (8, 8)),
    asked AS (
        SELECT rank FROM modes
         WHERE pg_catalog.upper(pg_catalog.regexp_replace(mode, '\s+', ' ', 'g'))
               IN (name, name || ' LOCK', pg_catalog.upper(lockname)))
    SELECT m.name, m.statements
      FROM asked JOIN conflicts c ON c.a = asked.rank JOIN modes m ON m.rank = c.b
     ORDER BY m.rank
$$;

-- Blocking chains as an indented tree: root blockers first, those waiting
-- for them underneath
CREATE FUNCTION migration_guard.lock_tree()
RETURNS SETOF text
LANGUAGE sql STABLE
AS $$
    WITH RECURSIVE
    procs AS (
        SELECT a.pid, pg_catalog.pg_blocking_pids(a.pid) AS blockers,
               a.usename, NULLIF(a.application_name, '') AS app,
               a.state, pg_catalog.now() - a.xact_start AS age,
               pg_catalog.left(pg_catalog.regexp_replace(a.query, '\s+', ' ', 'g'), 80) AS query,
               (SELECT pg_catalog.string_agg(l.mode || ' on ' || l.relation::pg_catalog.regclass::text, ', ')
                  FROM pg_catalog.pg_locks l
                 WHERE l.pid = a.pid AND l.locktype = 'relation' AND NOT l.granted) AS waits_for
          FROM pg_catalog.pg_stat_activity a
         WHERE a.datname = pg_catalog.current_database()),
    tree AS (
        SELECT p.pid, 0 AS depth, ARRAY[p.pid] AS path
          FROM procs p
         WHERE pg_catalog.cardinality(p.blockers) = 0
           AND EXISTS (SELECT FROM procs q WHERE p.pid = ANY (q.blockers))
        UNION ALL
        SELECT p.pid, t.depth + 1, t.path || p.pid
          FROM tree t JOIN procs p ON t.pid = ANY (p.blockers)
         WHERE NOT p.pid = ANY (t.path))
    SELECT pg_catalog.repeat('    ', t.depth)
           || CASE WHEN t.depth > 0 THEN '└─ waits for ' || coalesce(p.waits_for, 'a lock') || ': ' ELSE '' END
           || pg_catalog.format('pid %s (%s, %s, transaction %s) %s',
                                p.pid, p.usename || coalesce(' / ' || p.app, ''), p.state,
                                pg_catalog.date_trunc('second', p.age), p.query)
      FROM tree t JOIN procs p USING (pid)
     ORDER BY t.path
$$;
REVOKE ALL ON FUNCTION migration_guard.lock_tree() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migration_guard.lock_tree() TO pg_monitor;

--
-- Hold time: how fast this server does each kind of work under a lock
-- (src/hold_time.c).  calibrate() measures it once on a table of its own;
-- the audit's recent statements take over once there are enough of them.
--
CREATE TABLE migration_guard.calibration (
    kind        text PRIMARY KEY,      -- a work kind, as in audit_log.work_kind
    bytes       bigint NOT NULL,       -- what the work read
    rows        bigint NOT NULL DEFAULT 0, -- and the rows it sorted (a B-tree)
    measured_ms double precision NOT NULL,
    measured_at timestamptz NOT NULL DEFAULT pg_catalog.now());
COMMENT ON TABLE migration_guard.calibration IS
'the rates migration_guard.calibrate() measured on this server, one row per kind of work';
-- not dumped: a restore onto other hardware must not inherit them
REVOKE ALL ON migration_guard.calibration FROM PUBLIC;
GRANT SELECT ON migration_guard.calibration TO pg_monitor;

-- Measure this server's rates on a table of its own, created and dropped
-- in the caller's transaction: one statement of each kind, stopping once
-- time_limit is spent.  A quick one (a scan of a few milliseconds, which
-- a page fault or a context switch can double) is run again, up to five
-- times while its runs add up to under 200 ms, and its median recorded.
-- Run it once on an idle server.
CREATE FUNCTION migration_guard.calibrate(
    size_mb int DEFAULT 64,
    time_limit interval DEFAULT '60 s',
    OUT kind text,
    OUT bytes bigint,
    OUT measured_ms double precision,
    OUT mb_per_s double precision,
    OUT runs int)
RETURNS SETOF record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $calibrate$
DECLARE
    started timestamptz := pg_catalog.clock_timestamp();
    t text := pg_catalog.format('migration_guard.%I', '_calibrate_' || pg_catalog.pg_backend_pid());
    parent text := pg_catalog.format('migration_guard.%I', '_calibrate_parent_' || pg_catalog.pg_backend_pid());
    orgs text := pg_catalog.format('migration_guard.%I', '_calibrate_orgs_' || pg_catalog.pg_backend_pid());
    mv text := pg_catalog.format('migration_guard.%I', '_calibrate_mv_' || pg_catalog.pg_backend_pid());
    nrows bigint;
    step record;
    t0 timestamptz;
    n bigint;
    timings double precision[];
BEGIN
    IF size_mb IS NULL OR size_mb < 1 OR size_mb > 4096 THEN
        RAISE EXCEPTION 'size_mb must be between 1 and 4096'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF time_limit IS NULL OR time_limit <= interval '0' THEN
        RAISE EXCEPTION 'time_limit must be positive'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- rows like a SaaS table's: about 330 bytes each, nothing out of line
    nrows := size_mb::bigint * 1048576 / 330;
    EXECUTE pg_catalog.format('CREATE TABLE %s (id bigint, org_id bigint, email text, name text,'
        ' created_at timestamptz, pt point, payload jsonb)', t);
    EXECUTE pg_catalog.format('INSERT INTO %s SELECT g, g %% 1000, ''user'' || g || ''@example.com'','
        ' pg_catalog.md5(g::text), pg_catalog.now() - g * interval ''1 second'','
        ' point(g %% 1009, g %% 997),'
        ' pg_catalog.jsonb_build_object(''plan'', ''pro'', ''note'', pg_catalog.repeat(pg_catalog.md5(g::text), 3))'
        ' FROM pg_catalog.generate_series(1, $1) g', t) USING nrows;
    EXECUTE pg_catalog.format('CREATE TABLE %s (id bigint PRIMARY KEY)', orgs);
    EXECUTE pg_catalog.format('INSERT INTO %s SELECT pg_catalog.generate_series(0, 999)', orgs);
    EXECUTE pg_catalog.format('ANALYZE %s, %s', t, orgs);

    -- each kind of work, timed, with the bytes hold_time.c counts for it:
    -- the table for a rewrite, its main fork for the others; the B-tree's
    -- keys are text in random order, in the database's collation
    FOR step IN
        SELECT * FROM (VALUES
            (1, 'rewrite', 'ALTER TABLE %1$s ADD COLUMN u uuid DEFAULT pg_catalog.gen_random_uuid()'),
            (2, 'validate', 'ALTER TABLE %1$s ADD CHECK (org_id >= 0)'),
            (3, 'fk_validate', 'ALTER TABLE %1$s ADD FOREIGN KEY (org_id) REFERENCES %2$s'),
            (4, 'index_btree', 'CREATE INDEX ON %1$s (name)'),
            (5, 'index_hash', 'CREATE INDEX ON %1$s USING hash (email)'),
            (6, 'index_brin', 'CREATE INDEX ON %1$s USING brin (created_at)'),
            (7, 'index_gist', 'CREATE INDEX ON %1$s USING gist (pt)'),
            (8, 'index_gin', 'CREATE INDEX ON %1$s USING gin (payload)'),
            (9, 'attach_scan', NULL),
            (10, 'refresh', NULL)
        ) AS s(ord, kind, sql) ORDER BY ord
    LOOP
        EXIT WHEN pg_catalog.clock_timestamp() - started > time_limit;
        IF step.kind = 'rewrite' THEN
            n := pg_catalog.pg_table_size(t::regclass);
        ELSE
            n := pg_catalog.pg_relation_size(t::regclass);
        END IF;
        IF step.kind = 'attach_scan' THEN
            EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE %s) PARTITION BY RANGE (id)', parent, t);
        ELSIF step.kind = 'refresh' THEN
            EXECUTE pg_catalog.format('CREATE MATERIALIZED VIEW %s AS SELECT * FROM %s WITH NO DATA', mv, t);
        END IF;
        -- the rewrite changes the table: it runs once
        timings := '{}';
        LOOP
            IF step.kind = 'attach_scan' AND pg_catalog.cardinality(timings) > 0 THEN
                EXECUTE pg_catalog.format('ALTER TABLE %s DETACH PARTITION %s', parent, t);
            END IF;
            t0 := pg_catalog.clock_timestamp();
            IF step.kind = 'attach_scan' THEN
                EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (MAXVALUE)', parent, t);
            ELSIF step.kind = 'refresh' THEN
                EXECUTE pg_catalog.format('REFRESH MATERIALIZED VIEW %s', mv);
            ELSE
                EXECUTE pg_catalog.format(step.sql, t, orgs);
            END IF;
            timings := timings || pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - t0) * 1000;
            EXIT WHEN step.kind = 'rewrite' OR pg_catalog.cardinality(timings) >= 5
                   OR (SELECT sum(x) FROM pg_catalog.unnest(timings) x) >= 200
                   OR pg_catalog.clock_timestamp() - started > time_limit;
        END LOOP;
        kind := step.kind;
        runs := pg_catalog.cardinality(timings);
        measured_ms := (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM pg_catalog.unnest(timings) x);
        bytes := n;
        mb_per_s := n / 1048576.0 / GREATEST(measured_ms, 0.001) * 1000;
        INSERT INTO migration_guard.calibration AS c (kind, bytes, rows, measured_ms, measured_at)
        VALUES (step.kind, n, nrows, measured_ms, pg_catalog.now())
        ON CONFLICT ON CONSTRAINT calibration_pkey DO UPDATE
            SET bytes = excluded.bytes, rows = excluded.rows, measured_ms = excluded.measured_ms,
                measured_at = excluded.measured_at;
        RETURN NEXT;
    END LOOP;

    EXECUTE pg_catalog.format('DROP MATERIALIZED VIEW IF EXISTS %s', mv);
    EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %s', parent);
    EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %s, %s', t, orgs);
END
$calibrate$;
REVOKE ALL ON FUNCTION migration_guard.calibrate(int, interval) FROM PUBLIC;
COMMENT ON FUNCTION migration_guard.calibrate(int, interval) IS
'measures how fast this server rewrites, indexes and validates a table of its own, for the lock hold predictions';

--
-- Backfills: CALL migration_guard.backfill(table, set_clause, ...) runs an
-- UPDATE of a large table in batches along its primary key, each batch a
-- transaction of its own, so that no lock is held longer than one batch;
-- one row per run in backfill_runs, which is also how a stopped run
-- resumes where it stopped.
--
CREATE TABLE migration_guard.backfill_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    relation_oid oid NOT NULL,
    relation_name text NOT NULL,
    set_clause text NOT NULL,
    where_clause text,
    key_columns text[] NOT NULL,
    last_key text[],
    status text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'done', 'stopped', 'failed')),
    role_name name NOT NULL DEFAULT current_user,
    backend_pid int NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
    started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at timestamptz,
    rows_walked bigint NOT NULL DEFAULT 0,
    rows_updated bigint NOT NULL DEFAULT 0,
    est_rows bigint,
    batches int NOT NULL DEFAULT 0,
    batch_size int NOT NULL,
    retries int NOT NULL DEFAULT 0,
    longest_batch_ms double precision NOT NULL DEFAULT 0,
    run_ms double precision NOT NULL DEFAULT 0,
    message text);
COMMENT ON TABLE migration_guard.backfill_runs IS
'one row per migration_guard.backfill() run: where it is, how fast, the longest batch';
-- each role writes and reads its own runs; pg_monitor reads them all
ALTER TABLE migration_guard.backfill_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_runs ON migration_guard.backfill_runs
    USING (role_name = current_user)
    WITH CHECK (role_name = current_user AND backend_pid = pg_catalog.pg_backend_pid());
CREATE POLICY monitor_reads ON migration_guard.backfill_runs FOR SELECT
    USING (pg_catalog.pg_has_role(current_user, 'pg_monitor', 'MEMBER'));
GRANT SELECT, INSERT, UPDATE ON migration_guard.backfill_runs TO PUBLIC;

-- For people: progress, rate and time left of each run; read as the
-- caller (security_invoker), so that the row-level security of
-- backfill_runs holds through it
CREATE VIEW migration_guard.backfills WITH (security_invoker = true) AS
SELECT id, relation_name, status, rows_updated, rows_walked, est_rows,
       CASE WHEN est_rows > 0
            THEN pg_catalog.round(100.0 * LEAST(rows_walked, est_rows) / est_rows, 1)
       END AS percent,
       batches, batch_size,
       CASE WHEN run_ms > 0 THEN pg_catalog.round(rows_walked / (run_ms / 1000.0)) END
           AS rows_per_second,
       CASE WHEN status = 'running' AND run_ms > 0 AND rows_walked > 0 AND est_rows > rows_walked
            THEN pg_catalog.make_interval(secs => (est_rows - rows_walked) * (run_ms / 1000.0) / rows_walked)
       END AS time_left,
       longest_batch_ms, retries, started_at, updated_at, finished_at,
       role_name, backend_pid, set_clause, where_clause, message
  FROM migration_guard.backfill_runs;
GRANT SELECT ON migration_guard.backfills TO PUBLIC;

CREATE PROCEDURE migration_guard.backfill(
    rel regclass,
    set_clause text,
    where_clause text DEFAULT NULL,
    batch_time interval DEFAULT '200 ms',
    pause interval DEFAULT '0',
    batch_lock_timeout interval DEFAULT '1 s',
    max_retries int DEFAULT 10,
    first_batch int DEFAULT 1000)
LANGUAGE plpgsql
AS $backfill$
DECLARE
    key_columns text[];
    key_list text;
    after_key text;
    upto_key text;
    run_id bigint;
    run_started timestamptz;
    last_key text[];
    upper_key text[];
    size int := first_batch;
    n bigint;
    t0 timestamptz;
    ms double precision;
    walked bigint;
    tries int := 0;
    relname text := rel::text;
    est bigint;
    noticed timestamptz;
BEGIN
    IF set_clause IS NULL OR btrim(set_clause) = '' THEN
        RAISE EXCEPTION 'backfill() needs a SET clause'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF first_batch < 1 OR max_retries < 0 THEN
        RAISE EXCEPTION 'first_batch must be at least 1 and max_retries at least 0'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- the primary key, walked in its order
    SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.ord),
           pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord),
           pg_catalog.string_agg(pg_catalog.format('$1[%s]::%s', k.ord,
                                 pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.ord),
           pg_catalog.string_agg(pg_catalog.format('$2[%s]::%s', k.ord,
                                 pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.ord)
      INTO key_columns, key_list, after_key, upto_key
      FROM pg_catalog.pg_index i
     CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = rel AND i.indisprimary;
    IF key_columns IS NULL THEN
        RAISE EXCEPTION 'table % has no primary key', relname
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'backfill() walks the primary key from one batch to the next.';
    END IF;
    IF NOT pg_catalog.has_table_privilege(rel, 'UPDATE') THEN
        RAISE EXCEPTION 'permission denied for table %', relname
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END INTO est
      FROM pg_catalog.pg_class c WHERE c.oid = rel;

    -- a run of the same change that stopped or failed resumes where it was;
    -- one still running elsewhere is not run twice
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('migration_guard.backfill'),
                                             pg_catalog.hashtext(relname || set_clause));
    SELECT r.id, r.last_key, r.batch_size INTO run_id, last_key, size
      FROM migration_guard.backfill_runs r
     WHERE r.relation_oid = rel AND r.set_clause = backfill.set_clause
       AND r.where_clause IS NOT DISTINCT FROM backfill.where_clause
       AND r.status <> 'done'
     ORDER BY r.id DESC LIMIT 1;
    IF run_id IS NOT NULL THEN
        IF EXISTS (SELECT FROM migration_guard.backfill_runs r
                    WHERE r.id = run_id AND r.status = 'running'
                      AND r.backend_pid <> pg_catalog.pg_backend_pid()
                      AND EXISTS (SELECT FROM pg_catalog.pg_stat_activity s
                                   WHERE s.pid = r.backend_pid AND s.state = 'active')) THEN
            RAISE EXCEPTION 'this backfill of % is running in another session', relname
                USING ERRCODE = 'object_in_use',
                      HINT = 'Watch it in migration_guard.backfills; cancel it there to take it over.';
        END IF;
        UPDATE migration_guard.backfill_runs r
           SET status = 'running', backend_pid = pg_catalog.pg_backend_pid(),
               est_rows = est, message = NULL, updated_at = pg_catalog.clock_timestamp()
         WHERE r.id = run_id;
        RAISE NOTICE 'backfill of % resumes after key %', relname, last_key;
    ELSE
        INSERT INTO migration_guard.backfill_runs
               (relation_oid, relation_name, set_clause, where_clause, key_columns,
                batch_size, est_rows)
        VALUES (rel, relname, set_clause, where_clause, key_columns, first_batch, est)
        RETURNING id INTO run_id;
        size := first_batch;
    END IF;
    COMMIT;

    LOOP
        BEGIN
            IF pause > interval '0' AND last_key IS NOT NULL THEN
                PERFORM pg_catalog.pg_sleep(EXTRACT(epoch FROM pause));
            END IF;
            t0 := pg_catalog.clock_timestamp();
            PERFORM pg_catalog.set_config('lock_timeout',
                    (EXTRACT(epoch FROM batch_lock_timeout) * 1000)::bigint::text, true);
            -- the key this batch ends at: size keys on, or none (the last batch)
            EXECUTE pg_catalog.format(
                'SELECT ARRAY[%s]::text[] FROM %s WHERE %s ORDER BY %s OFFSET %s LIMIT 1',
                (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(c) || '::text', ', ')
                   FROM pg_catalog.unnest(key_columns) c),
                rel,
                CASE WHEN last_key IS NULL THEN 'true'
                     ELSE pg_catalog.format('(%s) > (%s)', key_list, after_key) END,
                key_list, size - 1)
              INTO upper_key USING last_key;
            EXECUTE pg_catalog.format('UPDATE %s SET %s WHERE %s AND %s AND (%s)',
                rel, set_clause,
                CASE WHEN last_key IS NULL THEN 'true'
                     ELSE pg_catalog.format('(%s) > (%s)', key_list, after_key) END,
                CASE WHEN upper_key IS NULL THEN 'true'
                     ELSE pg_catalog.format('(%s) <= (%s)', key_list, upto_key) END,
                COALESCE(where_clause, 'true'))
              USING last_key, upper_key;
            GET DIAGNOSTICS n = ROW_COUNT;
        EXCEPTION
            WHEN lock_not_available THEN
                tries := tries + 1;
                IF tries > max_retries THEN
                    UPDATE migration_guard.backfill_runs r
                       SET status = 'failed', message = SQLERRM, retries = r.retries + 1,
                           updated_at = pg_catalog.clock_timestamp()
                     WHERE r.id = run_id;
                    COMMIT;
                    RAISE EXCEPTION 'backfill of % stopped: a batch waited for its lock % times', relname, tries
                        USING ERRCODE = 'lock_not_available',
                              DETAIL = 'Each batch waits at most batch_lock_timeout for its locks.',
                              HINT = 'CALL it again to resume where it stopped.';
                END IF;
                UPDATE migration_guard.backfill_runs r SET retries = r.retries + 1
                 WHERE r.id = run_id;
                COMMIT;
                PERFORM pg_catalog.pg_sleep(LEAST(tries, 10) * 0.1);
                CONTINUE;
            WHEN query_canceled THEN
                UPDATE migration_guard.backfill_runs r
                   SET status = 'stopped', message = 'canceled',
                       updated_at = pg_catalog.clock_timestamp()
                 WHERE r.id = run_id;
                COMMIT;
                RAISE EXCEPTION 'canceling statement due to user request'
                    USING ERRCODE = 'query_canceled',
                          DETAIL = pg_catalog.format('The backfill of %s stopped after the key %s; each batch done is committed.', relname, last_key),
                          HINT = 'CALL it again to resume where it stopped.';
            WHEN OTHERS THEN
                UPDATE migration_guard.backfill_runs r
                   SET status = 'failed', message = SQLERRM,
                       updated_at = pg_catalog.clock_timestamp()
                 WHERE r.id = run_id;
                COMMIT;
                RAISE;
        END;
        tries := 0;
        ms := EXTRACT(epoch FROM pg_catalog.clock_timestamp() - t0) * 1000;
        walked := size;
        UPDATE migration_guard.backfill_runs r
           SET last_key = COALESCE(upper_key, r.last_key),
               rows_walked = r.rows_walked + walked, rows_updated = r.rows_updated + n,
               batches = r.batches + 1, batch_size = size,
               longest_batch_ms = GREATEST(r.longest_batch_ms, ms),
               run_ms = r.run_ms + ms,
               status = CASE WHEN upper_key IS NULL THEN 'done' ELSE 'running' END,
               finished_at = CASE WHEN upper_key IS NULL THEN pg_catalog.clock_timestamp() END,
               updated_at = pg_catalog.clock_timestamp()
         WHERE r.id = run_id;
        COMMIT;
        EXIT WHEN upper_key IS NULL;
        last_key := upper_key;
        -- progress after the first batch, then at most once a second
        IF noticed IS NULL OR noticed <= pg_catalog.clock_timestamp() - interval '1 s' THEN
            noticed := pg_catalog.clock_timestamp();
            RAISE NOTICE '%', (SELECT pg_catalog.format('backfill of %s: %s rows updated, %s of ~%s walked (%s%%), %s rows/s, %s left',
                                      b.relation_name, b.rows_updated, b.rows_walked,
                                      COALESCE(b.est_rows::text, '?'),
                                      COALESCE(b.percent::text, '?'),
                                      COALESCE(b.rows_per_second::text, '?'),
                                      COALESCE(pg_catalog.date_trunc('second', b.time_left)::text, '?'))
                                 FROM migration_guard.backfills b WHERE b.id = run_id);
        END IF;
        -- the next batch is sized to take about batch_time, within a factor of two
        IF batch_time IS NOT NULL AND ms > 0 THEN
            size := GREATEST(1, LEAST(100000, LEAST(size * 2,
                    GREATEST(size / 2,
                        (size * (EXTRACT(epoch FROM batch_time) * 1000) / ms)::int))));
        END IF;
    END LOOP;
    RAISE NOTICE '%', (SELECT pg_catalog.format('backfill of %s done: %s rows updated in %s batches, the longest %s ms',
                              b.relation_name, b.rows_updated, b.batches, pg_catalog.round(b.longest_batch_ms::numeric, 1))
                         FROM migration_guard.backfills b WHERE b.id = run_id);
END
$backfill$;
COMMENT ON PROCEDURE migration_guard.backfill(regclass, text, text, interval, interval, interval, int, int) IS
'UPDATE a large table in batches along its primary key, each batch its own transaction; resumes where a run stopped';
