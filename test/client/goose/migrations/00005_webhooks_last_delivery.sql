-- +goose Up
ALTER TABLE webhooks ADD COLUMN last_delivery_at timestamptz;

-- +goose StatementBegin
DO $$
BEGIN
    UPDATE webhooks w
       SET last_delivery_at = d.last_at
      FROM (SELECT webhook_id, max(delivered_at) AS last_at
              FROM webhook_deliveries GROUP BY webhook_id) d
     WHERE d.webhook_id = w.id;
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE webhooks DROP COLUMN last_delivery_at;
