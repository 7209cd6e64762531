--
-- Engine agreement for what PostgreSQL 17 added (run on 17 and later; the
-- Makefile adds this file by major): ALTER COLUMN ... SET EXPRESSION of a
-- stored generated column rewrites the table, DROP EXPRESSION does not,
-- and SET ACCESS METHOD DEFAULT rewrites only when the default differs.
-- agree() and the corpus method are those of engine_agreement.sql.
--
SET migration_guard.large_table_threshold = '1MB';
SET client_min_messages = warning;

SET migration_guard.mode = off;
CREATE TABLE gen17 AS SELECT g AS id, md5(g::text) AS val FROM generate_series(1, 30000) g;
ALTER TABLE gen17 ADD COLUMN val_len int GENERATED ALWAYS AS (length(val)) STORED;
CREATE INDEX gen17_val_len_idx ON gen17 (val_len);
ANALYZE gen17;
-- the application reads it: a table no session has used yet is let through
DO $$ BEGIN PERFORM count(*) FROM gen17; END $$;
RESET migration_guard.mode;

CREATE TABLE agreement_corpus_17 (n serial, stmt text);
INSERT INTO agreement_corpus_17 (stmt) VALUES
  ('ALTER TABLE gen17 ALTER COLUMN val_len SET EXPRESSION AS (length(val) + 1)'),
  ('ALTER TABLE gen17 ALTER COLUMN val_len DROP EXPRESSION'),
  ('ALTER TABLE gen17 SET ACCESS METHOD DEFAULT'),
  ('ALTER TABLE big SET ACCESS METHOD DEFAULT');

CREATE TABLE agreement_17 AS
SELECT c.n, left(c.stmt, 60) AS stmt, a.*
  FROM agreement_corpus_17 c, LATERAL agree(c.stmt) a
 ORDER BY c.n, a.relation;

SELECT n, stmt, relation,
       lock_predicted AS lock_pred, lock_observed AS lock_obs,
       rewrite_predicted AS rw_pred, rewrite_observed AS rw_obs,
       scan_predicted AS scan_pred, scan_observed AS scan_obs
  FROM agreement_17 ORDER BY n, relation;

SELECT count(*) AS statements_without_rows
  FROM agreement_corpus_17 c WHERE NOT EXISTS (SELECT FROM agreement_17 a WHERE a.n = c.n);

-- the assertion: no disagreement
SELECT n, stmt, relation
  FROM agreement_17
 WHERE lock_predicted IS DISTINCT FROM lock_observed
    OR rewrite_predicted IS DISTINCT FROM rewrite_observed
    OR scan_predicted IS DISTINCT FROM scan_observed;

-- the guard refuses the rewrite, with the way around it
\set VERBOSITY default
ALTER TABLE gen17 ALTER COLUMN val_len SET EXPRESSION AS (length(val) + 1);
-- and lets the catalog-only change through
ALTER TABLE gen17 ALTER COLUMN val_len DROP EXPRESSION;
\set VERBOSITY terse
SET migration_guard.mode = off;
DROP TABLE gen17, agreement_corpus_17, agreement_17;
RESET migration_guard.mode;
