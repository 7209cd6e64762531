-- a reviewed override in the file, then the guard again
SET migration_guard.allow = 'create_index';
SET migration_guard.reason = 'reviewed: maintenance window';
CREATE INDEX big_n_idx ON big (n);
RESET migration_guard.allow;
CREATE INDEX big_ref_idx ON big (ref);
