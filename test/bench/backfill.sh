#!/usr/bin/env bash
# The data step of the seed's change ("every project owned by an
# organization": "Project" 720,000 rows, "User" 180,000) done two ways, each
# while an application updates random projects, one committed update after
# another:
#   - one UPDATE of every project: what the application waits for is the
#     whole statement (a row it wants stays locked until the UPDATE commits);
#   - migration_guard.backfill(): batches along the primary key, each its
#     own transaction (batch_time 200 ms).
# Prints, for each: the elapsed time, the rows per second, the longest time
# any batch held its locks (for one UPDATE, all of it), and the longest gap
# between two of the application's commits while it ran.  Asserts nothing.
#
#   bash test/bench/backfill.sh          (as root or postgres; needs the
#                                         extension installed for 15)
set -eu
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
port=5496
dir=$(mktemp -d /tmp/mg_bench.XXXXXX)
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() { as_user "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_user "$PGBIN/initdb" -D "$dir/data" >/dev/null 2>&1
as_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" \
	-o "-p $port -k $dir -c listen_addresses='' -c shared_preload_libraries=migration_guard" start >/dev/null
psql() { as_user "$PGBIN/psql" -h "$dir" -p $port -d postgres -XAtq "$@"; }

psql -c "CREATE EXTENSION migration_guard"
psql -c "
CREATE TABLE \"User\" (id int PRIMARY KEY, \"orgId\" int NOT NULL);
INSERT INTO \"User\" SELECT g, g % 5000 FROM generate_series(1, 180000) g;
CREATE TABLE \"Project\" (id int PRIMARY KEY, \"ownerId\" int NOT NULL, name text,
                         \"orgId\" int, touched int NOT NULL DEFAULT 0);
INSERT INTO \"Project\" SELECT g, 1 + g % 180000, md5(g::text) FROM generate_series(1, 720000) g;
CREATE TABLE writes (at timestamptz NOT NULL DEFAULT clock_timestamp());" -c "VACUUM ANALYZE"
size=$(psql -c "SELECT pg_size_pretty(pg_table_size('\"Project\"'))")

# the application: committed single-row updates until told to stop
writer() {
	psql -c "
DO \$\$
BEGIN
  LOOP
    UPDATE \"Project\" SET touched = touched + 1 WHERE id = (SELECT 1 + (random() * 719999)::int);
    INSERT INTO writes DEFAULT VALUES;
    COMMIT;
    EXIT WHEN EXISTS (SELECT FROM pg_class WHERE relname = 'stop_writer');
    PERFORM pg_sleep(0.002);
  END LOOP;
END \$\$;" >/dev/null
}

set_clause='"orgId" = (SELECT u."orgId" FROM "User" u WHERE u.id = "Project"."ownerId")'
run() {
	local name=$1 sql=$2
	psql -c "SET client_min_messages = error; TRUNCATE writes; DROP TABLE IF EXISTS stop_writer; UPDATE \"Project\" SET \"orgId\" = NULL" -c "VACUUM \"Project\""
	writer &
	local wpid=$!
	sleep 1
	local t0 t1
	t0=$(psql -c "SELECT extract(epoch FROM clock_timestamp())")
	psql -c "SET client_min_messages = warning" -c "$sql"
	t1=$(psql -c "SELECT extract(epoch FROM clock_timestamp())")
	sleep 1
	psql -c "CREATE TABLE stop_writer ()"
	wait $wpid
	local gap longest
	gap=$(psql -c "SELECT round(extract(epoch FROM max(d)) * 1000) FROM (
	         SELECT at - lag(at) OVER (ORDER BY at) AS d FROM writes
	          WHERE at BETWEEN to_timestamp($t0) AND to_timestamp($t1)) g")
	if [ "$name" = backfill ]; then
		longest=$(psql -c "SELECT round(longest_batch_ms) FROM migration_guard.backfill_runs ORDER BY id DESC LIMIT 1")
	else
		longest=$(echo "($t1 - $t0) * 1000" | bc -l | cut -d. -f1)
	fi
	printf "%-22s | %10.1f | %10.0f | %16s | %20s\n" "$name" "$(echo "$t1 - $t0" | bc -l)" \
		"$(echo "720000 / ($t1 - $t0)" | bc -l)" "$longest" "$gap"
}

echo "\"Project\": 720,000 rows, $size; an application updating random projects throughout"
printf "%-22s | %10s | %10s | %16s | %20s\n" way seconds rows_per_s longest_lock_ms app_longest_gap_ms
run "one UPDATE" "UPDATE \"Project\" SET $set_clause"
run "backfill" "CALL migration_guard.backfill('\"Project\"', '$set_clause')"
psql -c "SELECT batches, batch_size, retries FROM migration_guard.backfill_runs ORDER BY id DESC LIMIT 1" |
	awk -F'|' '{print "backfill: " $1 " batches, the last of " $2 " rows, " $3 " retries"}'
