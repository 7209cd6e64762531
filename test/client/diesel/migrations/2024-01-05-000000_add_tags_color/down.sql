-- This file should undo anything in `up.sql`
DROP TRIGGER set_updated_at ON tags;
ALTER TABLE tags DROP COLUMN color;
