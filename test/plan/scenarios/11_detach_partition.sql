-- detach_partition: DETACH takes ACCESS EXCLUSIVE on the whole of events
-- @rules: detach_partition
ALTER TABLE events DETACH PARTITION events_2024_01;
