-- warnings, not refusals
ALTER TABLE big DROP COLUMN n;
ALTER TABLE big RENAME COLUMN ref TO ref_id;
ALTER TABLE small RENAME TO small_renamed;
ALTER TABLE small_renamed ADD COLUMN extra int;
DROP INDEX big_val_idx;
