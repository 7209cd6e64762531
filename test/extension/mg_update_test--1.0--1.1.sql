-- 1.0 -> 1.1: a column whose volatile default rewrites the table
ALTER TABLE mg_update_test.readings ADD COLUMN token uuid DEFAULT gen_random_uuid();
