-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY projects_created_at_goose_idx ON projects (created_at);

-- +goose Down
DROP INDEX CONCURRENTLY projects_created_at_goose_idx;
