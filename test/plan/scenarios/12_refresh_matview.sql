-- refresh_matview: REFRESH blocks every read of user_directory while it
-- runs (the view is stale: its contents change)
-- @rules: refresh_matview
REFRESH MATERIALIZED VIEW user_directory;
