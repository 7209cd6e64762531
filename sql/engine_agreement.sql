--
-- Engine agreement: PostgreSQL is the oracle.
--
-- For every statement of the corpus, check() predicts the lock mode, rewrite
-- and scan for each relation; then the statement really runs (guard off) in
-- a subtransaction that is rolled back, and we observe:
--   lock     the strongest mode pg_locks shows this backend holding on it
--   rewrite  its relfilenode (or a leaf partition's) changed
--   scan     pg_stat_xact_user_tables counted a sequential scan of it (or
--            of a leaf partition)
-- Any disagreement is a bug in inspect.c, or a fact to learn.
--
SET migration_guard.large_table_threshold = '1MB';
SET client_min_messages = warning;

CREATE TABLE agreement_corpus (n serial, stmt text, tz text DEFAULT 'UTC');

CREATE FUNCTION lock_rank(mode text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT array_position(ARRAY['AccessShareLock', 'RowShareLock',
    'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock',
    'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'], mode)
$$;

-- leaves of a relation (itself if not partitioned, or if it has no partitions)
CREATE FUNCTION leaves(r regclass) RETURNS SETOF oid LANGUAGE sql AS $$
  SELECT relid::oid FROM pg_partition_tree(r) WHERE isleaf
  UNION SELECT r::oid WHERE NOT EXISTS (SELECT FROM pg_partition_tree(r) WHERE isleaf)
$$;

CREATE FUNCTION agree(stmt text,
    OUT relation text, OUT lock_predicted text, OUT lock_observed text,
    OUT rewrite_predicted boolean, OUT rewrite_observed boolean,
    OUT scan_predicted boolean, OUT scan_observed boolean)
RETURNS SETOF record LANGUAGE plpgsql AS $$
DECLARE
  pred record;
  rels oid[];
  -- per relation: its leaves' relfilenodes and scan counts before the statement
  before jsonb := '{}';
  obs jsonb := '{}';
  r oid;
BEGIN
  SELECT array_agg(DISTINCT c.relation::oid) INTO rels
    FROM migration_guard.check(stmt) c WHERE c.relation IS NOT NULL;

  FOREACH r IN ARRAY coalesce(rels, '{}') LOOP
    before := before || jsonb_build_object(r::text,
      (SELECT jsonb_object_agg(l::text, jsonb_build_object(
                'node', pg_relation_filenode(l),
                'scans', pg_stat_get_xact_numscans(l)))
         FROM leaves(r::regclass) l));
  END LOOP;

  BEGIN
    SET LOCAL migration_guard.mode = off;
    EXECUTE stmt;
    FOREACH r IN ARRAY coalesce(rels, '{}') LOOP
      obs := obs || jsonb_build_object(r::text, jsonb_build_object(
        'lock', (SELECT l.mode FROM pg_locks l
                  WHERE l.locktype = 'relation' AND l.pid = pg_backend_pid()
                    AND l.relation = r AND l.granted
                  ORDER BY lock_rank(l.mode) DESC LIMIT 1),
        -- a leaf that still exists under a new relfilenode
        'rewrite', (SELECT coalesce(bool_or(pg_relation_filenode(k::oid) IS NOT NULL AND
                           pg_relation_filenode(k::oid) <> (v ->> 'node')::oid), false)
                      FROM jsonb_each(before -> r::text) AS e(k, v)),
        'scan', (SELECT coalesce(bool_or(pg_stat_get_xact_numscans(k::oid) > (v ->> 'scans')::bigint), false)
                   FROM jsonb_each(before -> r::text) AS e(k, v))));
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'MGT01';
  EXCEPTION WHEN SQLSTATE 'MGT01' THEN
    NULL;  -- rolled back: the fixtures are untouched for the next statement
  END;

  FOR pred IN SELECT DISTINCT c.relation, c.lock_mode, c.rewrite, c.scan
                FROM migration_guard.check(stmt) c
               WHERE c.relation IS NOT NULL ORDER BY 1 LOOP
    relation := pred.relation::text;
    lock_predicted := pred.lock_mode;
    lock_observed := obs -> pred.relation::oid::text ->> 'lock';
    rewrite_predicted := pred.rewrite;
    rewrite_observed := (obs -> pred.relation::oid::text ->> 'rewrite')::boolean;
    scan_predicted := pred.scan;
    scan_observed := (obs -> pred.relation::oid::text ->> 'scan')::boolean;
    RETURN NEXT;
  END LOOP;
END
$$;

-- helpers the corpus needs
CREATE TABLE big_fk_target (id int PRIMARY KEY);
INSERT INTO big_fk_target SELECT g FROM generate_series(1, 100) g;
CREATE TABLE big_nopk AS SELECT id, val FROM big;
ALTER TABLE big ADD CONSTRAINT big_ref_fk_nv FOREIGN KEY (ref) REFERENCES big_fk_target (id) NOT VALID;
-- a child whose foreign key reaches into big_fk_target
CREATE TABLE fk_child (id int, target_id int REFERENCES big_fk_target (id));
-- indexes that a type change without rewrite must still rebuild: a new
-- operator class (timestamp_ops to timestamptz_ops), an expression
SET migration_guard.mode = off;
CREATE INDEX big_created_idx ON big (created);
CREATE INDEX big_name_lower_idx ON big (lower(name));
-- validated, but NULL for NULL amounts: does not prove NOT NULL
ALTER TABLE big ADD CONSTRAINT big_amount_nonneg CHECK (amount >= 0);
-- a primary key USING INDEX on a nullable column: unproved, and proved by a CHECK
CREATE TABLE big_nopk2 AS SELECT id, val FROM big;
CREATE UNIQUE INDEX big_nopk2_val_idx ON big_nopk2 (val);
CREATE UNIQUE INDEX big_nopk2_id_idx ON big_nopk2 (id);
ALTER TABLE big_nopk2 ADD CONSTRAINT big_nopk2_id_not_null CHECK (id IS NOT NULL);
RESET migration_guard.mode;
-- bound proved by a CHECK, but the parent's index on v is missing
CREATE TABLE parted_5 (id int, v text, CHECK (id IS NOT NULL AND id >= 80000 AND id < 90000));
INSERT INTO parted_5 SELECT g, md5(g::text) FROM generate_series(80000, 89999) g;
ANALYZE big_fk_target, big_nopk, big_nopk2, parted_5;
-- a table with the objects that lock-only statements drop or alter
CREATE TABLE lo_t (id int, v text);
INSERT INTO lo_t SELECT g, g::text FROM generate_series(1, 100) g;
CREATE TRIGGER lo_t_trg BEFORE UPDATE ON lo_t FOR EACH ROW
  EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE POLICY lo_t_pol ON lo_t USING (true);
CREATE RULE lo_t_rule AS ON DELETE TO lo_t DO ALSO NOTHING;
CREATE VIEW lo_v AS SELECT id FROM lo_t;
CREATE SCHEMA agreement_s;
-- a parent by inheritance (not partitioning): empty itself, its child holds the rows
CREATE TABLE iparent (id int, v text);
CREATE TABLE ichild (w int) INHERITS (iparent);
INSERT INTO ichild SELECT g, g::text, g FROM generate_series(1, 1000) g;
ANALYZE iparent, ichild;
CREATE FUNCTION agr_const_volatile() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 42';
-- domains whose own default is volatile, or not
CREATE DOMAIN uuid_d AS uuid DEFAULT gen_random_uuid();
CREATE DOMAIN int_d AS int DEFAULT 7;
-- what DROP ... CASCADE reaches: a schema's table, columns of a type and a
-- domain, a default and an index using a function, a view, a role's table
CREATE SCHEMA casc_s;
CREATE TABLE casc_s.t1 (id int);
INSERT INTO casc_s.t1 SELECT generate_series(1, 100);
CREATE TYPE casc_mood AS ENUM ('a', 'b');
CREATE DOMAIN casc_dom AS int CHECK (VALUE > 0);
CREATE FUNCTION casc_f() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE TABLE casc_t (id int, m casc_mood, d casc_dom, v int DEFAULT casc_f());
INSERT INTO casc_t VALUES (1, 'a', 1);
CREATE VIEW casc_v AS SELECT id FROM casc_t;
CREATE INDEX casc_t_f_idx ON casc_t ((id + casc_f()));
CREATE TABLE casc_ref (id int, t1 int);
-- a partitioned table with a default partition
CREATE TABLE dparted (id int) PARTITION BY RANGE (id);
CREATE TABLE dparted_def PARTITION OF dparted DEFAULT;
INSERT INTO dparted SELECT generate_series(1, 1000);
-- columns of a domain, and of a domain over it; a NOT VALID domain constraint
CREATE DOMAIN agr_pos AS int;
CREATE DOMAIN agr_pos2 AS agr_pos;
CREATE TABLE agr_dom_t (v agr_pos, w agr_pos2);
INSERT INTO agr_dom_t SELECT g, g FROM generate_series(1, 1000) g;
CREATE DOMAIN agr_nv AS int;
ALTER DOMAIN agr_nv ADD CONSTRAINT agr_nv_pos CHECK (VALUE > 0) NOT VALID;
CREATE TABLE agr_nv_t (v agr_nv);
INSERT INTO agr_nv_t SELECT generate_series(1, 1000);
CREATE ROLE mg_casc_owner;
CREATE TABLE casc_o (id int);
ALTER TABLE casc_o OWNER TO mg_casc_owner;
-- typed tables of a composite type, which ALTER TYPE ... CASCADE reaches
CREATE TYPE agr_row AS (id int, v text);
CREATE TABLE agr_typed OF agr_row;
INSERT INTO agr_typed SELECT g, g::text FROM generate_series(1, 1000) g;
-- a partitioned table with a foreign key, and a table to attach without one
CREATE TABLE fkparted (id int, ref int REFERENCES big_fk_target (id)) PARTITION BY RANGE (id);
CREATE TABLE fkparted_1 (id int, ref int, CHECK (id IS NOT NULL AND id >= 0 AND id < 100000));
INSERT INTO fkparted_1 SELECT g, 1 FROM generate_series(1, 1000) g;
CREATE TABLE fkparted_2 (id int, ref int REFERENCES big_fk_target (id),
                         CHECK (id IS NOT NULL AND id >= 100000 AND id < 200000));
-- a trigger function
CREATE FUNCTION agr_trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
-- a sequence; a foreign-data server; a table in a tablespace of its own
CREATE SEQUENCE agr_seq;
CREATE FOREIGN DATA WRAPPER agr_fdw;
CREATE SERVER agr_srv FOREIGN DATA WRAPPER agr_fdw;
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE agr_ts LOCATION '';
RESET allow_in_place_tablespaces;
CREATE TABLE agr_ts_t (id int) TABLESPACE agr_ts;
INSERT INTO agr_ts_t SELECT generate_series(1, 1000);
CREATE INDEX agr_ts_t_idx ON agr_ts_t (id) TABLESPACE agr_ts;

INSERT INTO agreement_corpus (stmt) VALUES
-- create_index, drop_index, reindex
  ('CREATE INDEX ON big (val)'),
  ('CREATE UNIQUE INDEX ON big (id, val)'),
  ('CREATE INDEX ON parted (v)'),
  ('CREATE INDEX ON ONLY parted (v)'),
  ('DROP INDEX big_name_idx'),
  ('REINDEX INDEX big_name_idx'),
  ('REINDEX TABLE big'),
-- add_column_rewrite, and the ADD COLUMNs that must not rewrite
  ('ALTER TABLE big ADD COLUMN c uuid DEFAULT gen_random_uuid()'),
  ('ALTER TABLE big ADD COLUMN c float8 DEFAULT random()'),
  ('ALTER TABLE big ADD COLUMN c timestamptz DEFAULT clock_timestamp()'),
  ('ALTER TABLE big ADD COLUMN c serial'),
  ('ALTER TABLE big ADD COLUMN c bigserial'),
  ('ALTER TABLE big ADD COLUMN c int GENERATED ALWAYS AS IDENTITY'),
  ('ALTER TABLE big ADD COLUMN c int GENERATED ALWAYS AS (id * 2) STORED'),
  ('ALTER TABLE big ADD COLUMN c posint'),
  ('ALTER TABLE big ADD COLUMN c posint DEFAULT 1'),
  ('ALTER TABLE big ADD COLUMN c plainint DEFAULT 1'),
  ('ALTER TABLE big ADD COLUMN c timestamptz DEFAULT now()'),
  ('ALTER TABLE big ADD COLUMN c int DEFAULT 0'),
  ('ALTER TABLE big ADD COLUMN c text'),
  ('ALTER TABLE big ADD COLUMN c int NOT NULL DEFAULT 0'),
  ('ALTER TABLE big ADD COLUMN c text DEFAULT ''x'' NOT NULL'),
  ('ALTER TABLE big ADD COLUMN c int CHECK (c > 0)'),
  ('ALTER TABLE big ADD COLUMN c int DEFAULT 1 CHECK (c > 0)'),
  ('ALTER TABLE big ADD COLUMN c int UNIQUE'),
  ('ALTER TABLE big ADD COLUMN c int REFERENCES big_fk_target (id)'),
  ('ALTER TABLE big ADD COLUMN c int DEFAULT 1 REFERENCES big_fk_target (id)'),
  ('ALTER TABLE parted ADD COLUMN c uuid DEFAULT gen_random_uuid()'),
  ('ALTER TABLE parted ADD COLUMN c int DEFAULT 7'),
-- alter_column_type
  ('ALTER TABLE big ALTER COLUMN val TYPE varchar(50)'),
  ('ALTER TABLE big ALTER COLUMN name TYPE varchar(40)'),
  ('ALTER TABLE big ALTER COLUMN name TYPE text'),
  ('ALTER TABLE big ALTER COLUMN name TYPE varchar(10)'),
  ('ALTER TABLE big ALTER COLUMN amount TYPE numeric(12,2)'),
  ('ALTER TABLE big ALTER COLUMN val TYPE varchar'),
  ('ALTER TABLE big ALTER COLUMN amount TYPE numeric(12,4)'),
  ('ALTER TABLE big ALTER COLUMN amount TYPE numeric'),
  ('ALTER TABLE big ALTER COLUMN id TYPE bigint'),
  ('ALTER TABLE big ALTER COLUMN ref TYPE bigint USING ref::bigint'),
  ('ALTER TABLE big ALTER COLUMN created TYPE timestamptz'),
  ('ALTER TABLE big ALTER COLUMN code TYPE varchar(100)'),
  ('ALTER TABLE parted ALTER COLUMN v TYPE varchar(32)'),
-- set_not_null
  ('ALTER TABLE big ALTER COLUMN val SET NOT NULL'),
  ('ALTER TABLE big ALTER COLUMN code SET NOT NULL'),
  ('ALTER TABLE big ALTER COLUMN id SET NOT NULL'),
  ('ALTER TABLE big ALTER COLUMN amount SET NOT NULL'),
-- add_check, add_foreign_key, add_unique_constraint
  ('ALTER TABLE big ADD CONSTRAINT big_id_positive CHECK (id > 0)'),
  ('ALTER TABLE big ADD CONSTRAINT big_id_positive CHECK (id > 0) NOT VALID'),
  ('ALTER TABLE big VALIDATE CONSTRAINT big_ref_positive'),
  ('ALTER TABLE big VALIDATE CONSTRAINT big_code_not_null'),
  ('ALTER TABLE big VALIDATE CONSTRAINT big_ref_fk_nv'),
  ('ALTER TABLE big ADD CONSTRAINT big_ref_fkey FOREIGN KEY (ref) REFERENCES big_fk_target (id)'),
  ('ALTER TABLE big ADD CONSTRAINT big_ref_fkey FOREIGN KEY (ref) REFERENCES big_fk_target (id) NOT VALID'),
  ('ALTER TABLE big ADD CONSTRAINT big_val_key UNIQUE (val)'),
  ('ALTER TABLE big ADD CONSTRAINT big_val_key UNIQUE USING INDEX big_val_key_idx'),
  ('ALTER TABLE big_nopk ADD PRIMARY KEY (id)'),
  ('ALTER TABLE big_nopk2 ADD PRIMARY KEY USING INDEX big_nopk2_val_idx'),
  ('ALTER TABLE big_nopk2 ADD PRIMARY KEY USING INDEX big_nopk2_id_idx'),
  ('ALTER TABLE big ADD CONSTRAINT big_excl EXCLUDE USING btree (id WITH =)'),
-- rewrite_table
  ('CLUSTER big USING big_pkey'),
  ('ALTER TABLE big SET UNLOGGED'),
  ('ALTER TABLE big SET LOGGED'),
  ('ALTER TABLE big SET ACCESS METHOD heap'),
-- partitions
  ('ALTER TABLE parted ATTACH PARTITION parted_3 FOR VALUES FROM (40000) TO (60000)'),
  ('ALTER TABLE parted ATTACH PARTITION parted_4 FOR VALUES FROM (60000) TO (80000)'),
  ('ALTER TABLE parted ATTACH PARTITION parted_5 FOR VALUES FROM (80000) TO (90000)'),
  ('ALTER TABLE parted DETACH PARTITION parted_2'),
-- refresh_matview
  ('REFRESH MATERIALIZED VIEW big_summary'),
  ('REFRESH MATERIALIZED VIEW big_summary WITH NO DATA'),
-- breaking changes and data loss
  ('ALTER TABLE big DROP COLUMN amount'),
  ('ALTER TABLE big RENAME COLUMN amount TO total'),
  ('ALTER TABLE big RENAME TO big_renamed'),
  ('ALTER TABLE big RENAME CONSTRAINT big_ref_positive TO big_ref_pos'),
  ('ALTER INDEX big_name_idx RENAME TO big_name_idx2'),
  ('DROP TABLE big_nopk'),
  ('DROP TABLE fk_child'),
  ('DROP TABLE big_fk_target CASCADE'),
  ('ALTER TABLE fk_child DROP COLUMN target_id'),
  ('ALTER TABLE fk_child DROP CONSTRAINT fk_child_target_id_fkey'),
  ('ALTER TABLE big DROP CONSTRAINT big_ref_fk_nv'),
  ('TRUNCATE fk_child'),
  ('TRUNCATE big_nopk'),
-- VALIDATE together with a subcommand that locks more: its scan runs under that lock
  ('ALTER TABLE big VALIDATE CONSTRAINT big_ref_positive, ALTER COLUMN val SET DEFAULT ''x'''),
-- idempotent statements that find their work done: the lock, nothing else
  ('ALTER TABLE big ADD COLUMN IF NOT EXISTS val uuid DEFAULT gen_random_uuid()'),
  ('CREATE INDEX IF NOT EXISTS big_name_idx ON big (val)'),
-- lock-only changes
  ('ALTER TABLE big ALTER COLUMN val SET DEFAULT ''x'''),
  ('ALTER TABLE big ALTER COLUMN val DROP NOT NULL'),
  ('ALTER TABLE big ALTER COLUMN val SET STATISTICS 500'),
  ('ALTER TABLE big SET (fillfactor = 70)'),
  ('ALTER TABLE big DROP CONSTRAINT big_ref_positive'),
  ('ALTER TABLE big ENABLE ROW LEVEL SECURITY'),
  ('ALTER TABLE big CLUSTER ON big_pkey'),
-- statements whose only effect on an existing table is their lock
  ('ALTER INDEX lo_t RENAME TO lo_t_renamed'),
  ('ALTER TABLE big_name_idx RENAME TO big_name_idx3'),
  ('ALTER VIEW lo_v RENAME TO lo_v2'),
  ('ALTER VIEW lo_v RENAME COLUMN id TO id2'),
  ('ALTER TABLE lo_t SET SCHEMA agreement_s'),
  ('ALTER VIEW lo_v SET SCHEMA agreement_s'),
  ('CREATE TRIGGER lo_t_trg2 BEFORE UPDATE ON lo_t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()'),
  ('DROP TRIGGER lo_t_trg ON lo_t'),
  ('CREATE POLICY lo_t_pol2 ON lo_t USING (id > 0)'),
  ('ALTER POLICY lo_t_pol ON lo_t USING (id > 1)'),
  ('DROP POLICY lo_t_pol ON lo_t'),
  ('CREATE RULE lo_t_rule2 AS ON INSERT TO lo_t DO ALSO NOTHING'),
  ('DROP RULE lo_t_rule ON lo_t'),
  ('LOCK TABLE lo_t IN SHARE MODE'),
  ('LOCK TABLE lo_t IN EXCLUSIVE MODE NOWAIT'),
  ('LOCK TABLE parted IN ACCESS EXCLUSIVE MODE'),
  ('LOCK TABLE ONLY parted IN SHARE ROW EXCLUSIVE MODE'),
  ('CREATE TABLE lo_ref (id int REFERENCES big_fk_target (id))'),
  ('CREATE TABLE lo_ref (id int, FOREIGN KEY (id) REFERENCES big_fk_target)'),
  ('CREATE TABLE lo_part PARTITION OF parted FOR VALUES FROM (90000) TO (95000)'),
  ('CREATE TABLE lo_inh (w int) INHERITS (lo_t)'),
  ('DROP TABLE parted_1'),
-- an inheritance parent: ALTER TABLE and TRUNCATE recurse to the child
  ('ALTER TABLE iparent ADD COLUMN c uuid DEFAULT gen_random_uuid()'),
  ('ALTER TABLE iparent ADD COLUMN c int DEFAULT 0'),
  ('ALTER TABLE iparent ALTER COLUMN v SET NOT NULL'),
  ('ALTER TABLE iparent ADD CONSTRAINT ip_pos CHECK (id > 0)'),
  ('ALTER TABLE iparent ADD CONSTRAINT ip_pos CHECK (id > 0) NO INHERIT'),
  ('ALTER TABLE iparent ALTER COLUMN id TYPE bigint'),
  ('ALTER TABLE ONLY iparent ALTER COLUMN v SET DEFAULT ''x'''),
  ('ALTER TABLE iparent SET (fillfactor = 70)'),
  ('TRUNCATE iparent'),
  ('TRUNCATE ONLY iparent'),
-- a column whose domain brings the default
  ('ALTER TABLE big ADD COLUMN c uuid_d'),
  ('ALTER TABLE big ADD COLUMN c uuid_d DEFAULT NULL'),
  ('ALTER TABLE big ADD COLUMN c int_d'),
  ('ALTER TABLE big ADD COLUMN c int_d NOT NULL'),
-- DROP ... CASCADE
  ('DROP SCHEMA casc_s CASCADE'),
  ('DROP TYPE casc_mood CASCADE'),
  ('DROP DOMAIN casc_dom CASCADE'),
  ('DROP FUNCTION casc_f() CASCADE'),
  ('DROP TABLE casc_t CASCADE'),
  ('DROP OWNED BY mg_casc_owner'),
-- a new partition beside a default one: the default partition is scanned
  ('CREATE TABLE dparted_1 PARTITION OF dparted FOR VALUES FROM (5000) TO (6000)'),
  ('ALTER TABLE dparted DETACH PARTITION dparted_def'),
-- ALTER DOMAIN checks the stored values of every column of the domain
  ('ALTER DOMAIN agr_pos ADD CONSTRAINT agr_pos_chk CHECK (VALUE > 0)'),
  ('ALTER DOMAIN agr_pos SET NOT NULL'),
  ('ALTER DOMAIN agr_nv VALIDATE CONSTRAINT agr_nv_pos'),
-- replacing a view locks it
  ('CREATE OR REPLACE VIEW lo_v AS SELECT id FROM lo_t'),
-- ALTER TYPE ... CASCADE changes every typed table of the type
  ('ALTER TYPE agr_row ALTER ATTRIBUTE id TYPE bigint CASCADE'),
  ('ALTER TYPE agr_row ALTER ATTRIBUTE v TYPE varchar CASCADE'),
  ('ALTER TYPE agr_row ADD ATTRIBUTE w int CASCADE'),
  ('ALTER TYPE agr_row DROP ATTRIBUTE v CASCADE'),
  ('ALTER TYPE agr_row RENAME ATTRIBUTE v TO v2 CASCADE'),
-- ATTACH PARTITION validates the parent's foreign key, unless the partition has it
  ('ALTER TABLE fkparted ATTACH PARTITION fkparted_1 FOR VALUES FROM (0) TO (100000)'),
  ('ALTER TABLE fkparted ATTACH PARTITION fkparted_2 FOR VALUES FROM (100000) TO (200000)'),
-- more statements judged for their lock alone
  ('CREATE TRIGGER parted_trg AFTER INSERT ON parted FOR EACH ROW EXECUTE FUNCTION agr_trg()'),
  ('CREATE TRIGGER parted_trg AFTER INSERT ON parted FOR EACH STATEMENT EXECUTE FUNCTION agr_trg()'),
  ('ALTER SEQUENCE agr_seq RESTART WITH 10'),
  ('ALTER INDEX big_name_idx DEPENDS ON EXTENSION plpgsql'),
  ('ALTER MATERIALIZED VIEW big_summary DEPENDS ON EXTENSION plpgsql'),
  ('REASSIGN OWNED BY mg_casc_owner TO CURRENT_USER'),
  ('CREATE FOREIGN TABLE lo_ft PARTITION OF parted FOR VALUES FROM (95000) TO (96000) SERVER agr_srv'),
-- every relation of a kind in a tablespace, moved
  ('ALTER TABLE ALL IN TABLESPACE agr_ts SET TABLESPACE pg_default'),
  ('ALTER INDEX ALL IN TABLESPACE agr_ts SET TABLESPACE pg_default');

INSERT INTO agreement_corpus (stmt, tz) VALUES
  ('ALTER TABLE big ALTER COLUMN created TYPE timestamptz', 'America/New_York');

-- expressions as PostgreSQL prepares them before it decides: a VOLATILE
-- SQL function whose body is a constant is inlined (no rewrite), and a
-- USING that only casts the column converts as the bare column does
INSERT INTO agreement_corpus (stmt) VALUES
  ('ALTER TABLE big ADD COLUMN c int DEFAULT agr_const_volatile()'),
  ('ALTER TABLE big ALTER COLUMN name TYPE varchar(1000) USING name::varchar(1000)'),
  ('ALTER TABLE big ALTER COLUMN name TYPE varchar(1000) USING (name)::varchar(1000)'),
  ('ALTER TABLE big ALTER COLUMN name TYPE varchar(10) USING name::varchar(10)');

CREATE TABLE agreement AS
SELECT c.n, left(c.stmt, 60) AS stmt, a.*
  FROM agreement_corpus c,
       LATERAL (SELECT set_config('TimeZone', c.tz, false)) tz,
       LATERAL agree(c.stmt) a
 ORDER BY c.n, a.relation;
RESET TimeZone;

-- everything predicted and observed, side by side
SELECT n, stmt, relation,
       lock_predicted AS lock_pred, lock_observed AS lock_obs,
       rewrite_predicted AS rw_pred, rewrite_observed AS rw_obs,
       scan_predicted AS scan_pred, scan_observed AS scan_obs
  FROM agreement ORDER BY n, relation;

-- every statement of the corpus was observed
SELECT count(*) AS statements_without_rows
  FROM agreement_corpus c WHERE NOT EXISTS (SELECT FROM agreement a WHERE a.n = c.n);

-- the assertion: no disagreement
SELECT n, stmt, relation
  FROM agreement
 WHERE lock_predicted IS DISTINCT FROM lock_observed
    OR rewrite_predicted IS DISTINCT FROM rewrite_observed
    OR scan_predicted IS DISTINCT FROM scan_observed;
