-- This file should undo anything in `up.sql`
DROP INDEX CONCURRENTLY projects_updated_at_idx;
