-- The database as goose left it: `goose up` applied 1, 2 and 3, then
-- `goose down` undid 3 (older goose releases record a down as a row with
-- is_applied = false; the latest row of a version decides).
-- `migration_guard check --pending` checks 00003, 00004 and 00005 only.
-- Run after fixture.sql, in the same database.

-- What the applied migrations did (00002's CREATE INDEX ran in a maintenance
-- window: the guard refuses it now that the application uses projects)
BEGIN;
SET LOCAL migration_guard.allow = 'all';
SET LOCAL migration_guard.reason = 'test fixture: migrations deployed before';
CREATE TYPE webhook_status AS ENUM ('pending', 'delivered', 'failed');
CREATE TABLE webhooks (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    url        text NOT NULL,
    secret     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE webhook_deliveries (
    id           bigserial PRIMARY KEY,
    webhook_id   bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    status       webhook_status NOT NULL DEFAULT 'pending',
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_webhook_id_idx ON webhook_deliveries (webhook_id);
CREATE FUNCTION webhooks_touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER webhooks_touch_updated_at BEFORE UPDATE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION webhooks_touch_updated_at();
CREATE INDEX projects_status_idx ON projects (status);
COMMIT;

-- goose's history table, as goose creates it on PostgreSQL, with the row
-- for version 0 that goose inserts when it creates the table
CREATE TABLE goose_db_version (
		id serial NOT NULL,
		version_id bigint NOT NULL,
		is_applied boolean NOT NULL,
		tstamp timestamp NULL default now(),
		PRIMARY KEY(id)
	);
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
(0, true,  '2024-01-01 10:00:00.611'),
(1, true,  '2024-01-01 10:00:00.702'),
(2, true,  '2024-01-02 22:14:09.350'),
(3, true,  '2024-01-03 09:12:50.104'),
(3, false, '2024-01-03 09:40:12.977');
