#!/usr/bin/env bash
# How well does the guard predict how long each statement of the seed's
# naive migration holds its lock?  On the demo's tables ("User" 180,000
# rows, "Project" 720,000), each statement of demo/10_naive_migration.sql
# runs for real, in one transaction as Prisma runs the file, let through
# with migration_guard.allow = 'all'; the audit row of each gives what the
# guard predicted at the reference rates (reference_ms), at this server's
# calibrated rates (predicted_ms, after migration_guard.calibrate()), and
# what it really held (held_ms).  The transaction is rolled back.  Three
# rounds; the figures of each are printed.  Prints figures; asserts nothing.
#
#   bash test/bench/hold_time.sh [rounds, default 3]
#
# Expects migration_guard installed for PostgreSQL 15 (make && make install).
set -eu
rounds=${1:-3}
cd "$(dirname "$0")/../.."
top=$(pwd)
PGBIN=/usr/lib/postgresql/15/bin
port=5495
dir=$(mktemp -d /tmp/mg_hold.XXXXXX)
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
	as_user "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
as_user "$PGBIN/initdb" -D "$dir/data" >/dev/null 2>&1
as_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -o "-p $port -k $dir -c listen_addresses='' \
 -c shared_preload_libraries=migration_guard -c autovacuum=off" -w start >/dev/null
psql() { as_user "$PGBIN/psql" -h "$dir" -p $port -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"; }

psql -c "CREATE EXTENSION migration_guard"
psql -f - < "$top/demo/00_schema.sql" >/dev/null
psql -c "VACUUM ANALYZE"
psql -c "SELECT 'calibrate(): ' || string_agg(kind || ' ' || round(mb_per_s::numeric) || ' MB/s', ', ')
           FROM migration_guard.calibrate()"
# the naive migration's statements, one per element, in the file's order
naive=$(sed -n '/^-- CreateTable/,$p' "$top/demo/10_naive_migration.sql")

printf "%5s | %-12s | %-50.50s | %8s | %9s | %9s | %9s | %5s\n" round kind statement work_MB reference predicted measured ratio
for r in $(seq 1 "$rounds"); do
	psql -v script="$naive" -v round="$r" <<'EOF'
SET client_min_messages = warning;
BEGIN;
SET LOCAL migration_guard.allow = 'all';
SET LOCAL migration_guard.reason = 'test/bench/hold_time.sh';
SELECT coalesce(max(id), 0) AS mark FROM migration_guard.audit_log \gset
SELECT :'script' AS script \gset
\set ON_ERROR_STOP 1
:script
SELECT format('%5s | %-12s | %-50s | %8s | %9s | %9s | %9s | %5s', :round, work_kind,
              left(regexp_replace(statement, '\s+', ' ', 'g'), 50),
              round(work_bytes / 1048576.0, 1), round(reference_ms::numeric, 1),
              round(predicted_ms::numeric, 1), round(held_ms::numeric, 1),
              round((held_ms / nullif(predicted_ms, 0))::numeric, 2))
  FROM migration_guard.audit_log
 WHERE id > :mark AND work_kind IS NOT NULL
 ORDER BY id;
ROLLBACK;
EOF
done
