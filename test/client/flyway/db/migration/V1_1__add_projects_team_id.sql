ALTER TABLE projects ADD COLUMN team_id bigint;
