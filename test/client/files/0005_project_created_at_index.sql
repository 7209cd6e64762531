--
-- Concurrently create index projects_created_at_idx on field(s) created_at of model project
--
CREATE INDEX CONCURRENTLY "projects_created_at_idx" ON "projects" ("created_at");
