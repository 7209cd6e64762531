-- This file should undo anything in `up.sql`
DROP INDEX projects_owner_id_created_at_idx;
