-- +goose Up
CREATE INDEX projects_status_idx ON projects (status);

-- +goose Down
DROP INDEX projects_status_idx;
