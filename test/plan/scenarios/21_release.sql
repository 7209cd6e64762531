-- A release's migration touching projects several times: a new column
-- filled by an UPDATE and made NOT NULL and unique, a CHECK, an index
-- @rules: exclusive_lock_held, set_not_null
ALTER TABLE projects ADD COLUMN slug text;
UPDATE projects SET slug = 'p-' || id;
ALTER TABLE projects ALTER COLUMN slug SET NOT NULL;
ALTER TABLE projects ADD CONSTRAINT projects_slug_key UNIQUE (slug);
ALTER TABLE projects ADD CONSTRAINT projects_budget_check CHECK (budget >= 0);
CREATE INDEX projects_status_created_idx ON projects (status, created_at);
