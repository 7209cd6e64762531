-- migrate:up
create index projects_lower_name_idx on projects (lower(name));

-- migrate:down
drop index projects_lower_name_idx;
