-- migrate:up
alter table invoices add column paid_at timestamptz;
alter table invoices add column payment_ref text;

-- migrate:down
alter table invoices drop column payment_ref;
alter table invoices drop column paid_at;
