-- This file should undo anything in `up.sql`
ALTER TABLE projects ADD COLUMN import_ref TEXT;
