-- migrate:up
-- replaced by projects.status = 'archived'
alter table projects drop column is_archived;

-- migrate:down
alter table projects add column is_archived boolean not null default false;
