-- migrate:up
create table invoices (
  id bigserial primary key,
  project_id bigint not null references projects (id),
  number text not null unique,
  amount_cents integer not null,
  issued_at timestamptz not null default now()
);

create table invoice_lines (
  id bigserial primary key,
  invoice_id bigint not null references invoices (id) on delete cascade,
  description text not null,
  amount_cents integer not null
);

create index invoice_lines_invoice_id_idx on invoice_lines (invoice_id);

-- migrate:down
drop table invoice_lines;
drop table invoices;
