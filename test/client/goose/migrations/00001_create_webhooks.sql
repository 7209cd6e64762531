-- +goose Up
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

-- +goose StatementBegin
CREATE FUNCTION webhooks_touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER webhooks_touch_updated_at BEFORE UPDATE ON webhooks
    FOR EACH ROW EXECUTE FUNCTION webhooks_touch_updated_at();

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP FUNCTION webhooks_touch_updated_at();
DROP TYPE webhook_status;
