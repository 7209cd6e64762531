-- reindex: REINDEX INDEX blocks the writes of projects and every read that
-- would use the index
-- @rules: reindex
REINDEX INDEX projects_created_at_idx;
