-- create_index on a partitioned table: CREATE INDEX builds the index of
-- every partition under a SHARE lock on each (CONCURRENTLY is refused on a
-- partitioned table)
-- @rules: create_index
CREATE INDEX ON events (kind);
