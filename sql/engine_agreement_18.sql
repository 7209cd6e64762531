--
-- Engine agreement for what PostgreSQL 18 changed (run on 18 and later;
-- the Makefile adds this file by major):
--   NOT NULL is a constraint of its own, which may be added NOT VALID and
--   validated later under SHARE UPDATE EXCLUSIVE; SET NOT NULL on a column
--   whose not-null constraint is NOT VALID always scans (a validated CHECK
--   no longer spares it);
--   generated columns are VIRTUAL unless STORED is written: adding one does
--   not rewrite (with NOT NULL it scans), changing its type or expression
--   does not rewrite either;
--   CHECK and FOREIGN KEY may be NOT ENFORCED (no scan), and ALTER
--   CONSTRAINT ... ENFORCED validates under ACCESS EXCLUSIVE;
--   NOT VALID foreign keys on partitioned tables;
--   PRIMARY KEY / UNIQUE (... WITHOUT OVERLAPS) builds an index.
-- agree() and the corpus method are those of engine_agreement.sql.
--
SET migration_guard.large_table_threshold = '1MB';
SET client_min_messages = warning;

SET migration_guard.mode = off;
CREATE EXTENSION btree_gist;
-- a: nothing; b: a validated CHECK proves it; c: a NOT VALID not-null
-- constraint; d: both, a NOT VALID not-null constraint and a CHECK
CREATE TABLE nn18 (id int PRIMARY KEY, a text, b text, c text, d text, ref int,
    CONSTRAINT nn18_b_check CHECK (b IS NOT NULL),
    CONSTRAINT nn18_d_check CHECK (d IS NOT NULL));
INSERT INTO nn18 SELECT g, md5(g::text), 'b', 'c', 'd', g % 100 + 1
  FROM generate_series(1, 30000) g;
ALTER TABLE nn18 ADD CONSTRAINT nn18_c_nn NOT NULL c NOT VALID;
ALTER TABLE nn18 ADD CONSTRAINT nn18_d_nn NOT NULL d NOT VALID;
-- virtual generated columns, one of them NOT NULL (a table without CHECK
-- constraints: with one, SET EXPRESSION of a virtual column is refused)
CREATE TABLE gen18 AS SELECT g AS id, md5(g::text) AS val FROM generate_series(1, 30000) g;
ALTER TABLE gen18 ADD COLUMN v1 int GENERATED ALWAYS AS (id * 2);
ALTER TABLE gen18 ADD COLUMN v2 int GENERATED ALWAYS AS (id * 2) NOT NULL;
-- the application reads it: a table no session has used yet is let through
DO $$ BEGIN PERFORM count(*) FROM gen18; END $$;
-- foreign keys: one NOT ENFORCED, to enforce; one enforced, to relax
ALTER TABLE nn18 ADD CONSTRAINT nn18_ref_fk FOREIGN KEY (ref) REFERENCES big_fk_target (id) NOT ENFORCED;
-- an inheritance child whose NOT VALID not-null constraint is only
-- inherited: SET NOT NULL on it just makes the constraint local, no scan
CREATE TABLE nn18_parent (id int, c text);
CREATE TABLE nn18_child () INHERITS (nn18_parent);
INSERT INTO nn18_child SELECT g, 'c' FROM generate_series(1, 30000) g;
ALTER TABLE nn18_parent ADD CONSTRAINT nn18_parent_c_nn NOT NULL c NOT VALID;
-- a table with a period
CREATE TABLE tp18 (id int, during tsrange);
INSERT INTO tp18 SELECT g, tsrange('2020-01-01'::timestamp + g * interval '1 hour',
                                   '2020-01-01'::timestamp + (g + 1) * interval '1 hour')
  FROM generate_series(1, 30000) g;
ANALYZE nn18, gen18, nn18_child, tp18;
RESET migration_guard.mode;

CREATE TABLE agreement_corpus_18 (n serial, stmt text);
INSERT INTO agreement_corpus_18 (stmt) VALUES
-- not-null constraints
  ('ALTER TABLE nn18 ALTER COLUMN a SET NOT NULL'),
  ('ALTER TABLE nn18 ALTER COLUMN b SET NOT NULL'),
  ('ALTER TABLE nn18 ALTER COLUMN c SET NOT NULL'),
  ('ALTER TABLE nn18 ALTER COLUMN d SET NOT NULL'),
  ('ALTER TABLE nn18 VALIDATE CONSTRAINT nn18_c_nn'),
  ('ALTER TABLE nn18 VALIDATE CONSTRAINT nn18_d_nn'),
  ('ALTER TABLE nn18 ADD CONSTRAINT nn18_a_nn NOT NULL a'),
  ('ALTER TABLE nn18 ADD CONSTRAINT nn18_a_nn NOT NULL a NOT VALID'),
  ('ALTER TABLE nn18 ADD CONSTRAINT nn18_b_nn NOT NULL b'),
  ('ALTER TABLE nn18 ALTER COLUMN c DROP NOT NULL'),
  ('ALTER TABLE nn18_child ALTER COLUMN c SET NOT NULL'),
-- generated columns
  ('ALTER TABLE gen18 ADD COLUMN v3 int GENERATED ALWAYS AS (id * 3)'),
  ('ALTER TABLE gen18 ADD COLUMN v3 int GENERATED ALWAYS AS (id * 3) VIRTUAL'),
  ('ALTER TABLE gen18 ADD COLUMN v3 int GENERATED ALWAYS AS (id * 3) NOT NULL'),
  ('ALTER TABLE gen18 ADD COLUMN v3 int GENERATED ALWAYS AS (id * 3) STORED'),
  ('ALTER TABLE gen18 ALTER COLUMN v1 SET EXPRESSION AS (id * 5)'),
  ('ALTER TABLE gen18 ALTER COLUMN v2 SET EXPRESSION AS (id * 5)'),
  ('ALTER TABLE gen18 ALTER COLUMN v1 TYPE bigint'),
-- NOT ENFORCED
  ('ALTER TABLE nn18 ADD CONSTRAINT nn18_id_pos CHECK (id > 0) NOT ENFORCED'),
  ('ALTER TABLE big ADD CONSTRAINT big_ref_fk2 FOREIGN KEY (ref) REFERENCES big_fk_target (id) NOT ENFORCED'),
  ('ALTER TABLE nn18 ALTER CONSTRAINT nn18_ref_fk ENFORCED'),
  ('ALTER TABLE fk_child ALTER CONSTRAINT fk_child_target_id_fkey NOT ENFORCED'),
  ('ALTER TABLE nn18 ALTER CONSTRAINT nn18_ref_fk NOT ENFORCED'),
-- NOT VALID foreign key on a partitioned table
  ('ALTER TABLE parted ADD CONSTRAINT parted_fk FOREIGN KEY (id) REFERENCES big (id) NOT VALID'),
-- temporal keys
  ('ALTER TABLE tp18 ADD CONSTRAINT tp18_key UNIQUE (id, during WITHOUT OVERLAPS)'),
  ('ALTER TABLE tp18 ADD CONSTRAINT tp18_pk PRIMARY KEY (id, during WITHOUT OVERLAPS)');

CREATE TABLE agreement_18 AS
SELECT c.n, left(c.stmt, 60) AS stmt, a.*
  FROM agreement_corpus_18 c, LATERAL agree(c.stmt) a
 ORDER BY c.n, a.relation;

SELECT n, stmt, relation,
       lock_predicted AS lock_pred, lock_observed AS lock_obs,
       rewrite_predicted AS rw_pred, rewrite_observed AS rw_obs,
       scan_predicted AS scan_pred, scan_observed AS scan_obs
  FROM agreement_18 ORDER BY n, relation;

SELECT count(*) AS statements_without_rows
  FROM agreement_corpus_18 c WHERE NOT EXISTS (SELECT FROM agreement_18 a WHERE a.n = c.n);

-- the assertion: no disagreement
SELECT n, stmt, relation
  FROM agreement_18
 WHERE lock_predicted IS DISTINCT FROM lock_observed
    OR rewrite_predicted IS DISTINCT FROM rewrite_observed
    OR scan_predicted IS DISTINCT FROM scan_observed;

-- What the guard says about them.  SET NOT NULL and ADD CONSTRAINT ...
-- NOT NULL: refused, with 18's recipe (the not-null constraint NOT VALID,
-- then validated), built from the user's own constraint name
\set VERBOSITY default
ALTER TABLE nn18 ALTER COLUMN a SET NOT NULL;
ALTER TABLE nn18 ADD CONSTRAINT nn18_a_nn NOT NULL a;
-- a NOT VALID not-null constraint does not spare the scan, a CHECK or not;
-- the way around it is to validate that constraint (another one is refused)
ALTER TABLE nn18 ALTER COLUMN d SET NOT NULL;
-- only inherited: nothing to scan, nothing to say
ALTER TABLE nn18_child ALTER COLUMN c SET NOT NULL;
-- ENFORCED validates under ACCESS EXCLUSIVE: refused, re-added NOT VALID instead
ALTER TABLE nn18 ALTER CONSTRAINT nn18_ref_fk ENFORCED;
-- the recipe runs without a refusal, and leaves the column NOT NULL
BEGIN;
ALTER TABLE nn18 ADD CONSTRAINT nn18_a_nn NOT NULL a NOT VALID;
COMMIT;
ALTER TABLE nn18 VALIDATE CONSTRAINT nn18_a_nn;
SELECT attnotnull, (SELECT convalidated FROM pg_constraint WHERE conname = 'nn18_a_nn')
  FROM pg_attribute WHERE attrelid = 'nn18'::regclass AND attname = 'a';
ALTER TABLE nn18 ALTER COLUMN a SET NOT NULL;   -- nothing left to do: silent
-- so does the enforcement recipe
ALTER TABLE nn18 DROP CONSTRAINT nn18_ref_fk, ADD CONSTRAINT nn18_ref_fk FOREIGN KEY (ref) REFERENCES big_fk_target(id) NOT VALID;
ALTER TABLE nn18 VALIDATE CONSTRAINT nn18_ref_fk;
-- virtual columns: silent
ALTER TABLE gen18 ADD COLUMN v3 int GENERATED ALWAYS AS (id * 3);
ALTER TABLE gen18 ALTER COLUMN v3 TYPE bigint;
ALTER TABLE gen18 ALTER COLUMN v1 SET EXPRESSION AS (id * 7);
-- a stored one is rewritten: refused
ALTER TABLE gen18 ADD COLUMN s1 int GENERATED ALWAYS AS (id * 3) STORED;
\set VERBOSITY terse

-- The dry run follows a script's not-null constraints: NOT VALID, then
-- VALIDATE, then SET NOT NULL reads no rows; without the VALIDATE, SET NOT
-- NULL scans (the engine agrees above: column c)
SELECT statement, relation, lock_mode, scan, verdict, rule
  FROM migration_guard.check($$
    ALTER TABLE nn18 ADD CONSTRAINT nn18_b2_nn NOT NULL b NOT VALID;
    ALTER TABLE nn18 VALIDATE CONSTRAINT nn18_b2_nn;
    ALTER TABLE nn18 ALTER COLUMN b SET NOT NULL;
  $$);
SELECT statement, relation, lock_mode, scan, verdict, rule
  FROM migration_guard.check($$
    ALTER TABLE nn18 ADD CONSTRAINT nn18_b2_nn NOT NULL b NOT VALID;
    ALTER TABLE nn18 ALTER COLUMN b SET NOT NULL;
  $$);
-- and its foreign keys' enforcement: ENFORCED of one the script added NOT
-- ENFORCED validates under ACCESS EXCLUSIVE, as above from the catalog
SELECT statement, relation, lock_mode, scan, verdict, rule
  FROM migration_guard.check($$
    ALTER TABLE nn18 ADD CONSTRAINT nn18_ref_fk3 FOREIGN KEY (ref) REFERENCES big_fk_target (id) NOT ENFORCED;
    ALTER TABLE nn18 ALTER CONSTRAINT nn18_ref_fk3 ENFORCED;
  $$) ORDER BY 1, 2;
-- the engine: SET NOT NULL of b after a NOT VALID not-null constraint
-- scans, although nn18_b_check proves it
SET migration_guard.mode = off;
BEGIN;
ALTER TABLE nn18 ADD CONSTRAINT nn18_b2_nn NOT NULL b NOT VALID;
SELECT pg_stat_get_xact_numscans('nn18'::regclass) AS scans_before \gset
ALTER TABLE nn18 ALTER COLUMN b SET NOT NULL;
SELECT pg_stat_get_xact_numscans('nn18'::regclass) > :scans_before AS scanned;
ROLLBACK;

DROP TABLE nn18, gen18, nn18_parent, nn18_child, tp18, agreement_corpus_18, agreement_18;
DROP EXTENSION btree_gist;
RESET migration_guard.mode;
