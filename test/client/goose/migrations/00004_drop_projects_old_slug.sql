-- +goose Up
-- Slugs moved to project_slugs in release 2024.1; nothing reads this column.
ALTER TABLE projects DROP COLUMN old_slug;

-- +goose Down
ALTER TABLE projects ADD COLUMN old_slug text;
