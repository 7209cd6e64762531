-- A migration written by hand, with a typo.
ALTER TABLE projects ADD COLUMN archived_at timestamptz;
ALTER TABLE projects ADD COLUMN archived_by bigint NOT NULL DEFALT 0;
