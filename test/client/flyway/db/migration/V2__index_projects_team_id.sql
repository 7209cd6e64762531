-- The dashboard filters projects by team.
SET lock_timeout = '5s'; CREATE INDEX projects_team_id_idx ON projects (team_id);
