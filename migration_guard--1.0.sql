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
