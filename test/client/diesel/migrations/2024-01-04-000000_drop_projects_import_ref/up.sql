-- Your SQL goes here
ALTER TABLE projects DROP COLUMN import_ref;
