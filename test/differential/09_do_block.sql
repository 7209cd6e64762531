-- code check() cannot see: unknown there, judged statement by statement here
CREATE TABLE made_in_do_parent (id int);
DO $$ BEGIN EXECUTE 'ALTER TABLE made_in_do_parent ADD COLUMN v int'; END $$;
ALTER TABLE big ADD COLUMN after_do int;
