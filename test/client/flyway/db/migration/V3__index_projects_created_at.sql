-- CREATE INDEX CONCURRENTLY cannot run in a transaction block: Flyway sees
-- it and runs this script without a transaction.
CREATE INDEX CONCURRENTLY projects_created_at_idx ON projects (created_at);
