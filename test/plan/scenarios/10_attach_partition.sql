-- attach_partition: ATTACH scans events_2024_04 under ACCESS EXCLUSIVE to
-- prove its rows fit the bound
-- @rules: attach_partition
ALTER TABLE events ATTACH PARTITION events_2024_04
    FOR VALUES FROM ('2024-04-01 00:00+00') TO ('2024-05-01 00:00+00');
