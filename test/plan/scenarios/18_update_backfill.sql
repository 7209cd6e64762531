-- a big UPDATE after an ALTER in the same migration: the whole UPDATE runs
-- under the ALTER's ACCESS EXCLUSIVE lock (the safe way: backfill in batches)
-- @rules: exclusive_lock_held
ALTER TABLE projects ADD COLUMN priority int;
UPDATE projects SET priority = coalesce(budget, 0) % 5 + 1;
