-- migrate:up transaction:false
create index concurrently projects_created_at_dbmate_idx on projects (created_at);

-- migrate:down transaction:false
drop index concurrently projects_created_at_dbmate_idx;
