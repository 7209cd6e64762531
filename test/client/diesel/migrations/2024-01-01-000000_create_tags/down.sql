-- This file should undo anything in `up.sql`
DROP TABLE project_tags;
DROP TABLE tags;
