--
-- Every example of README.md's "Rules reference", in the README's order,
-- against test/readme/fixture.sql.  Run by test/readme/render.sh (psql with
-- the input echoed), so that each message follows its statement.
--
-- No example changes the fixture for the next one: a statement the guard
-- refuses or warns about runs in BEGIN ... ROLLBACK (VACUUM FULL, which
-- cannot run in a transaction block, is refused anyway); the examples that
-- show their own transaction keep it, and undo what they commit.
--
-- After each statement, the migration_guard.check() query that gives the
-- README's "-- check():" line: one entry per row of check(), as
-- "relation lock_mode [rewrite] [scan] -> [rule] verdict", prefixed by the
-- statement number and command when the script has more than one
-- statement, followed by would_wait and waits_for when it would wait.
--
\set VERBOSITY default
\set SHOW_CONTEXT never
\pset tuples_only on
\pset format unaligned
SET migration_guard.large_table_threshold = '1MB';
SET TimeZone = 'UTC';
-- session 1 of the lock_queue example
CREATE EXTENSION IF NOT EXISTS dblink;

CREATE FUNCTION pg_temp.check_line(script text, shape text DEFAULT 'statement') RETURNS text
LANGUAGE sql AS $$
    SELECT string_agg(
             CASE WHEN statements > 1 THEN statement || ' ' || command || ' ' ELSE '' END
             || relation::text || ' ' || lock_mode
             || CASE WHEN rewrite THEN ' rewrite' ELSE '' END
             || CASE WHEN scan THEN ' scan' ELSE '' END
             || ' -> ' || coalesce(rule || ' ', '') || verdict
             || CASE WHEN would_wait
                     THEN format(' (would_wait t, waits_for %s)', waits_for) ELSE '' END,
             '; ' ORDER BY n)
      FROM (SELECT c.*, max(c.statement) OVER () AS statements
              FROM migration_guard.check(script, shape) WITH ORDINALITY
                   AS c(statement, command, relation, lock_mode, rewrite, scan,
                        table_bytes, est_rows, rule, verdict, message, detail, hint,
                        would_wait, waits_for, line, col, recipe, n)) s
$$;

-- ### Summary: overriding (committed, so that the audit shows it; the
-- index is dropped again afterwards, with the guard off)
BEGIN;
SET LOCAL migration_guard.allow = 'create_index';       -- a comma list of rule ids, or 'all'
SET LOCAL migration_guard.reason = 'maintenance window, status page posted';
CREATE INDEX projects_status_idx ON projects (status);
COMMIT;

\pset tuples_only off
\pset format aligned
SELECT command, relation_name, verdict, rules, reason, transaction
  FROM migration_guard.audit ORDER BY logged_at DESC LIMIT 1;
\pset tuples_only on
\pset format unaligned
SET migration_guard.mode = off;
DROP INDEX projects_status_idx;
RESET migration_guard.mode;

-- ### create_index
BEGIN;
CREATE INDEX projects_status_idx ON projects (status);
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$CREATE INDEX projects_status_idx ON projects (status);$sql$);

-- ### drop_index
BEGIN;
DROP INDEX projects_created_at_idx;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$DROP INDEX projects_created_at_idx;$sql$);

-- ### reindex
BEGIN;
REINDEX INDEX projects_owner_id_idx;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$REINDEX INDEX projects_owner_id_idx;$sql$);

BEGIN;
REINDEX TABLE projects;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$REINDEX TABLE projects;$sql$);

-- ### add_column_rewrite
BEGIN;
ALTER TABLE projects ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();$sql$);

-- ### alter_column_type
BEGIN;
ALTER TABLE projects ALTER COLUMN seat_count TYPE bigint;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ALTER COLUMN seat_count TYPE bigint;$sql$);

BEGIN;
ALTER TABLE projects ALTER COLUMN created_at TYPE timestamptz;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ALTER COLUMN created_at TYPE timestamptz;$sql$);

-- ### set_not_null
BEGIN;
ALTER TABLE projects ALTER COLUMN slug SET NOT NULL;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ALTER COLUMN slug SET NOT NULL;$sql$);

-- ### add_check
BEGIN;
ALTER TABLE projects ADD CONSTRAINT projects_status_check CHECK (status IN ('active', 'archived', 'deleted'));
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ADD CONSTRAINT projects_status_check CHECK (status IN ('active', 'archived', 'deleted'));$sql$);

BEGIN;
ALTER TABLE projects ADD COLUMN max_members integer NOT NULL DEFAULT 10 CHECK (max_members > 0);
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ADD COLUMN max_members integer NOT NULL DEFAULT 10 CHECK (max_members > 0);$sql$);

-- ### add_foreign_key
BEGIN;
ALTER TABLE project_members ADD CONSTRAINT project_members_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id);
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE project_members ADD CONSTRAINT project_members_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id);$sql$);

BEGIN;
ALTER TABLE project_members ADD COLUMN invited_by bigint DEFAULT 1 REFERENCES users (id);
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE project_members ADD COLUMN invited_by bigint DEFAULT 1 REFERENCES users (id);$sql$);

-- ### add_unique_constraint
BEGIN;
ALTER TABLE projects ADD CONSTRAINT projects_slug_key UNIQUE (slug);
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ADD CONSTRAINT projects_slug_key UNIQUE (slug);$sql$);

-- ### rewrite_table (VACUUM cannot run inside a transaction block)
VACUUM FULL projects;
SELECT '-- check(): ' || pg_temp.check_line($sql$VACUUM FULL projects;$sql$);

BEGIN;
ALTER TABLE projects SET UNLOGGED;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects SET UNLOGGED;$sql$);

-- ### attach_partition
BEGIN;
ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');$sql$);

-- ### detach_partition
BEGIN;
ALTER TABLE events DETACH PARTITION events_2024;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE events DETACH PARTITION events_2024;$sql$);

-- ### refresh_matview
BEGIN;
REFRESH MATERIALIZED VIEW project_stats;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$REFRESH MATERIALIZED VIEW project_stats;$sql$);

-- ### drop_column (warns; the statement runs, and is rolled back)
BEGIN;
ALTER TABLE projects DROP COLUMN legacy_flag;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects DROP COLUMN legacy_flag;$sql$);

BEGIN;
ALTER TABLE project_invites DROP COLUMN project_id;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE project_invites DROP COLUMN project_id;$sql$);

-- ### rename_column
BEGIN;
ALTER TABLE projects RENAME COLUMN name TO title;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects RENAME COLUMN name TO title;$sql$);

-- ### rename_table
BEGIN;
ALTER TABLE project_members RENAME TO memberships;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE project_members RENAME TO memberships;$sql$);

-- ### drop_table
BEGIN;
DROP TABLE project_invites;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$DROP TABLE project_invites;$sql$);

-- ### truncate
BEGIN;
TRUNCATE audit_events_old;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$TRUNCATE audit_events_old;$sql$);

-- ### lock_queue
-- session 1 (application "metabase", a dblink connection), idle in
-- transaction for 3 s:
SELECT dblink_connect('session1',
         format('host=%s port=%s dbname=%s user=%s application_name=metabase',
                current_setting('unix_socket_directories'), current_setting('port'),
                current_database(), current_user));
SELECT dblink_exec('session1', 'BEGIN;');
SELECT * FROM dblink('session1', $sql$SELECT count(*) FROM projects WHERE status = 'active';$sql$) AS t(count bigint);
SELECT pg_sleep(3);
-- session 2 (this one):
BEGIN;
ALTER TABLE projects ADD COLUMN is_template boolean NOT NULL DEFAULT false;
ROLLBACK;
SELECT '-- check(): ' || pg_temp.check_line($sql$ALTER TABLE projects ADD COLUMN is_template boolean NOT NULL DEFAULT false;$sql$);
SELECT dblink_exec('session1', 'ROLLBACK;');
SELECT dblink_disconnect('session1');

-- ### exclusive_lock_held (last: the rolled-back UPDATE leaves a new
-- version of every row in projects, which doubles its size)
BEGIN;
ALTER TABLE projects ADD COLUMN plan text;                -- ACCESS EXCLUSIVE, held until COMMIT
UPDATE projects SET plan = 'free' WHERE plan IS NULL;
ROLLBACK;
SELECT '-- check() of the two statements as a script: ' || pg_temp.check_line($sql$ALTER TABLE projects ADD COLUMN plan text;
UPDATE projects SET plan = 'free' WHERE plan IS NULL;$sql$, 'file');
