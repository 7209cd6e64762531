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
    OUT hint text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mg_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION migration_guard.check(text) IS
'dry run of a migration script: what each statement would lock, rewrite or scan, and the verdict';

GRANT USAGE ON SCHEMA migration_guard TO PUBLIC;

--
-- Audit log: one row per DDL statement the guard judged on an existing
-- relation.  Written only by the extension (as the extension owner); rows
-- of statements that ran are inserted in their own transaction, rows of
-- refused statements by a background worker, so that they survive the
-- ERROR.
--
CREATE TABLE migration_guard.audit_log (
    id               bigserial PRIMARY KEY,
    logged_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    role_name        name NOT NULL,        -- current_user when the statement ran
    session_role     name NOT NULL,        -- session_user
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
    verdict          text NOT NULL
                     CHECK (verdict IN ('ok', 'warned', 'blocked', 'overridden',
                                        'timed_out')),
    reason           text,                 -- migration_guard.reason, for overrides
    duration_ms      double precision      -- statements that ran
);
CREATE INDEX audit_log_logged_at_idx ON migration_guard.audit_log (logged_at);

-- pg_dump keeps the rows
SELECT pg_catalog.pg_extension_config_dump('migration_guard.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('migration_guard.audit_log_id_seq', '');

CREATE VIEW migration_guard.audit AS
SELECT a.id, a.logged_at, a.role_name, a.session_role, a.application_name,
       a.client_addr, a.backend_pid, a.command, a.relation_name, a.verdict,
       a.rules, a.reason, a.lock_mode,
       pg_catalog.pg_size_pretty(a.table_bytes) AS table_size, a.est_rows,
       a.rewrite, a.scan, a.duration_ms,
       CASE WHEN a.xid IS NULL THEN NULL
            ELSE pg_catalog.pg_xact_status(a.xid) END AS transaction,
       a.statement, a.statement_truncated, a.xid, a.relation_oid
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
