-- migration_guard.plan(): each rule's unsafe statement as the steps of its
-- safe plan, and the seed scenario's whole naive migration.  test/t/014_plan.pl
-- proves the plans by running them; this shows what they are.
SET client_min_messages = warning;
SET migration_guard.large_table_threshold = '64kB';
CREATE TABLE pl_org (id bigint PRIMARY KEY, name text);
INSERT INTO pl_org SELECT g, 'o' || g FROM generate_series(1, 50) g;
CREATE TABLE pl_user (id bigint PRIMARY KEY, email text);
INSERT INTO pl_user SELECT g, 'u' || g FROM generate_series(1, 2000) g;
CREATE TABLE pl_project (id bigint PRIMARY KEY, name text, owner_id bigint NOT NULL REFERENCES pl_user,
                         status text, budget int NOT NULL DEFAULT 0);
INSERT INTO pl_project SELECT g, 'p' || g, 1 + g % 2000, 'active', g % 100 FROM generate_series(1, 5000) g;
SET migration_guard.allow = 'create_index';
CREATE INDEX pl_project_status_idx ON pl_project (status);
RESET migration_guard.allow;
ANALYZE;

CREATE FUNCTION pl_show(script text)
RETURNS TABLE (step int, phase text, st int, sql text, outside boolean, lock_mode text,
               hold text, verify boolean, undo text, deploy boolean, note text)
LANGUAGE sql AS $$
  SELECT step, phase, statement, sql, outside_transaction, lock_mode, lock_hold,
         verify IS NOT NULL, CASE WHEN undo ~ '^(irreversible|nothing to undo)' THEN split_part(undo, ':', 1) ELSE undo END,
         deploy_before IS NOT NULL, note
    FROM migration_guard.plan(script) ORDER BY step
$$;

-- create_index: CONCURRENTLY, under the name PostgreSQL would give it
SELECT * FROM pl_show('CREATE INDEX ON pl_project (name)');
-- drop_index: CONCURRENTLY; undone by building it again
SELECT * FROM pl_show('DROP INDEX pl_project_status_idx');
-- reindex
SELECT * FROM pl_show('REINDEX INDEX pl_project_pkey');
-- add_column_rewrite: the bare column, the default for new rows, the old
-- rows in batches, then NOT NULL without a scan under ACCESS EXCLUSIVE
SELECT * FROM pl_show('ALTER TABLE pl_project ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()');
-- alter_column_type: a new column kept in step by a trigger, backfilled,
-- swapped in by renames, the old one dropped last
SELECT * FROM pl_show('ALTER TABLE pl_project ALTER COLUMN budget TYPE bigint');
-- a column with an index on it is not planned: the note says why
SELECT step, sql, note FROM migration_guard.plan('ALTER TABLE pl_project ALTER COLUMN status TYPE varchar(20)');
-- set_not_null, add_check, add_foreign_key, add_unique_constraint
SELECT * FROM pl_show('ALTER TABLE pl_project ALTER COLUMN status SET NOT NULL');
SELECT * FROM pl_show('ALTER TABLE pl_project ADD CONSTRAINT budget_positive CHECK (budget >= 0)');
SELECT * FROM pl_show('ALTER TABLE pl_project ADD COLUMN org_id bigint;
ALTER TABLE pl_project ADD FOREIGN KEY (org_id) REFERENCES pl_org;
CREATE INDEX ON pl_project (org_id)');
SELECT * FROM pl_show('ALTER TABLE pl_project ADD CONSTRAINT pl_project_name_key UNIQUE (name)');
-- warnings: the statement after the deploy it needs
SELECT * FROM pl_show('ALTER TABLE pl_project DROP COLUMN status');
SELECT * FROM pl_show('ALTER TABLE pl_project RENAME COLUMN name TO title');
SELECT * FROM pl_show('ALTER TABLE pl_user RENAME TO app_user');
SELECT * FROM pl_show('TRUNCATE pl_org');
-- an UPDATE of a large table: backfill() in batches
SELECT * FROM pl_show('UPDATE pl_project SET budget = budget + 1 WHERE status = ''active''');
-- what cannot be planned: said in a note, the statement as written
SELECT step, sql, note IS NOT NULL AS noted FROM migration_guard.plan('ALTER TABLE pl_project SET UNLOGGED; DO $$ BEGIN END $$');
-- already safe: as written
SELECT * FROM pl_show('ALTER TABLE pl_project ADD COLUMN note text; CREATE TABLE pl_new (id int)');

-- constraints written on a new column (Django writes a foreign key so):
-- the bare column, then each constraint in its safe form
SELECT * FROM pl_show('ALTER TABLE pl_project ADD COLUMN org_id bigint NULL
  CONSTRAINT pl_project_org_id_fk REFERENCES pl_org (id) DEFERRABLE INITIALLY DEFERRED,
  ADD COLUMN score numeric(12, 2) NOT NULL DEFAULT 0 CHECK (score >= 0),
  ADD COLUMN code text UNIQUE');
-- a table the script creates: its index and foreign key come with it,
-- before the backfill phase fills it
SELECT * FROM pl_show('CREATE TABLE pl_member (user_id bigint NOT NULL, org_id bigint NOT NULL);
INSERT INTO pl_member SELECT id, 1 FROM pl_user;
CREATE INDEX pl_member_org_id_idx ON pl_member (org_id);
ALTER TABLE pl_member ADD CONSTRAINT pl_member_user_id_fkey FOREIGN KEY (user_id) REFERENCES pl_user');

-- an index on a partitioned table: ON ONLY it, then each partition's built
-- CONCURRENTLY and attached, one level down for a sub-partitioned one
CREATE TABLE pl_event (id int, at date, kind text) PARTITION BY RANGE (at);
CREATE TABLE pl_event_1 PARTITION OF pl_event FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE pl_event_2 PARTITION OF pl_event FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')
  PARTITION BY LIST (kind);
CREATE TABLE pl_event_2a PARTITION OF pl_event_2 FOR VALUES IN ('a');
INSERT INTO pl_event SELECT g, date '2024-01-01' + g % 50, 'a' FROM generate_series(1, 20000) g;
ANALYZE pl_event;
SELECT * FROM pl_show('CREATE INDEX ON pl_event (kind, id) WHERE id > 0');

-- found in review: an index on expressions is named as PostgreSQL names
-- it ("expr", a name met twice numbered); every index of a DROP INDEX;
-- a unique index on a partitioned table starts with its parent; a name
-- freed by a drop is taken only after the drop; a CHECK reading two
-- columns is named after the table alone; a script's SET search_path and
-- an UPDATE that reads its own table are noted; REINDEX with options of
-- its own and ALTER TABLE ONLY a table with partitions are left as written
SELECT step, sql FROM migration_guard.plan('CREATE INDEX ON pl_project ((budget + 1), lower(name), lower(status))');
SELECT step, phase, sql FROM migration_guard.plan('DROP INDEX pl_project_status_idx, pl_project_pkey');
SELECT step, phase, sql FROM migration_guard.plan('CREATE UNIQUE INDEX ON pl_event (id, at, kind)');
SELECT step, phase, sql FROM migration_guard.plan('DROP INDEX pl_project_status_idx;
CREATE INDEX pl_project_status_idx ON pl_project (status, name);
ALTER TABLE pl_project ADD CONSTRAINT budget_below CHECK (budget < 1000)');
SELECT step, sql FROM migration_guard.plan('ALTER TABLE pl_project ADD COLUMN lo int DEFAULT 0 CHECK (lo <= budget)');
SELECT step, sql, note IS NOT NULL AS noted FROM migration_guard.plan('SET search_path = public;
UPDATE pl_project SET budget = (SELECT max(budget) FROM pl_project);
REINDEX (VERBOSE) TABLE pl_project;
ALTER TABLE ONLY pl_event ADD CONSTRAINT pl_event_id_check CHECK (id > 0)');

-- the seed scenario: organizations for users and projects, naively (the
-- README shows this query and its output: test/readme/check_plan_example.sh)
SELECT step, phase, sql, outside_transaction, lock_mode, lock_hold
  FROM migration_guard.plan($$
CREATE TABLE pl_organization (id bigint PRIMARY KEY, name text NOT NULL);
ALTER TABLE pl_project ADD COLUMN organization_id bigint;
INSERT INTO pl_organization SELECT id, email FROM pl_user;
UPDATE pl_project SET organization_id = (SELECT u.id FROM pl_user u WHERE u.id = pl_project.owner_id);
ALTER TABLE pl_project ALTER COLUMN organization_id SET NOT NULL;
ALTER TABLE pl_project ADD CONSTRAINT pl_project_organization_id_fkey
  FOREIGN KEY (organization_id) REFERENCES pl_organization;
CREATE INDEX pl_project_organization_id_idx ON pl_project (organization_id);
ALTER TABLE pl_project DROP COLUMN owner_id;
$$);

-- nothing was changed by planning
SELECT count(*) FROM pg_attribute WHERE attrelid = 'pl_project'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT to_regclass('pl_organization');
DROP FUNCTION pl_show(text);
SET migration_guard.allow = 'drop_table';
DROP TABLE pl_project, pl_user, pl_org, pl_event;
