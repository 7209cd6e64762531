--
-- Settings: mode, threshold, allow, reason; who may change them; bad input.
--
SET migration_guard.large_table_threshold = '1MB';
\set VERBOSITY terse

-- warn: the statement runs, with a WARNING
SET migration_guard.mode = warn;
BEGIN;
CREATE INDEX big_warn_idx ON big (val);
SELECT count(*) FROM pg_indexes WHERE indexname = 'big_warn_idx';
ROLLBACK;

-- off: silent
SET migration_guard.mode = off;
BEGIN;
CREATE INDEX big_off_idx ON big (val);
ROLLBACK;
RESET migration_guard.mode;

-- allow: named rules pass, with a NOTICE; others are still refused
BEGIN;
SET LOCAL migration_guard.allow = 'create_index';
SET LOCAL migration_guard.reason = 'maintenance window, ticket 42';
CREATE INDEX big_allowed_idx ON big (val);
ALTER TABLE big ALTER COLUMN val SET NOT NULL;
ROLLBACK;
SHOW migration_guard.allow;                 -- SET LOCAL ended with the transaction
BEGIN;
SET LOCAL migration_guard.allow = 'create_index, set_not_null';
CREATE INDEX big_allowed_idx ON big (val);
ALTER TABLE big ALTER COLUMN val SET NOT NULL;
ROLLBACK;
BEGIN;
SET LOCAL migration_guard.allow = 'all';
ALTER TABLE big ADD COLUMN u uuid DEFAULT gen_random_uuid();
ROLLBACK;
-- allow also silences warn-level rules
BEGIN;
SET LOCAL migration_guard.allow = 'drop_column';
ALTER TABLE small DROP COLUMN val;
ROLLBACK;

-- the threshold: the same statement on the same table, both sides of it
SET migration_guard.large_table_threshold = '100MB';
BEGIN;
CREATE INDEX ON big (val);
ROLLBACK;
SET migration_guard.large_table_threshold = 0;
CREATE INDEX ON small (val);
RESET migration_guard.large_table_threshold;
SHOW migration_guard.large_table_threshold;
SET migration_guard.large_table_threshold = '1MB';

-- bad input
\set VERBOSITY default
SET migration_guard.allow = 'create_indexx';
\set VERBOSITY terse
SET migration_guard.allow = 'create_index,,drop_index';
SET migration_guard.allow = '"create_index';
SET migration_guard.mode = 'strict';
-- refused; how the range is worded differs between majors
\set VERBOSITY sqlstate
SET migration_guard.large_table_threshold = '-1';
\set VERBOSITY terse
SET migration_guard.large_table_threshold = 'big';
SET migration_guard.no_such_setting = 1;
-- a reason is a few sentences: over 1024 bytes it is refused, and the
-- previous value stays
SET migration_guard.reason = 'first';
DO $$
DECLARE
  detail text;
BEGIN
  PERFORM set_config('migration_guard.reason', repeat('x', 1025), false);
EXCEPTION WHEN invalid_parameter_value THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RAISE NOTICE 'refused: %', detail;
END$$;
SHOW migration_guard.reason;
SELECT length(set_config('migration_guard.reason', repeat('x', 1024), false));
RESET migration_guard.reason;
SHOW migration_guard.allow;
SET migration_guard.allow = 'CREATE_INDEX';   -- identifiers fold to lower case
SHOW migration_guard.allow;
RESET migration_guard.allow;

-- a non-superuser may override (and be recorded doing so), but not turn
-- the guard off or raise the threshold
CREATE ROLE mg_app_user;
GRANT ALL ON big TO mg_app_user;
SET ROLE mg_app_user;
SET migration_guard.mode = off;
SET migration_guard.large_table_threshold = '10GB';
SET migration_guard.allow = 'create_index';
SHOW migration_guard.allow;
RESET migration_guard.allow;
RESET ROLE;
REVOKE ALL ON big FROM mg_app_user;
DROP ROLE mg_app_user;
