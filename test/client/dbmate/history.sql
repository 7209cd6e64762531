-- The database as `dbmate up` left it: the first two migrations applied.
-- `migration_guard check --pending` checks 20240103120000, 20240104120000
-- and 20240105120000 only. Run after fixture.sql, in the same database.

-- What the applied migrations did (the create index ran in a maintenance
-- window: the guard refuses it now that the application uses projects)
BEGIN;
SET LOCAL migration_guard.allow = 'all';
SET LOCAL migration_guard.reason = 'test fixture: migrations deployed before';
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
create index projects_lower_name_idx on projects (lower(name));
COMMIT;

-- dbmate's history table, as dbmate creates it on PostgreSQL
create table if not exists public.schema_migrations (version varchar(255) primary key);
insert into public.schema_migrations (version) values
('20240101120000'),
('20240102120000');
