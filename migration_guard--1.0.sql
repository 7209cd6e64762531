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
    OUT recipe text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mg_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION migration_guard.check(text, text, jsonb) IS
'dry run of a migration script: what each statement would lock, rewrite or scan, and the verdict';

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
    recipe           text                  -- the safe way, one step per line
);
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
       a.statement, a.statement_truncated, a.recipe, a.xid, a.relation_oid
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
