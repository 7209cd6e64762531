#!/usr/bin/env bash
# How long do the statements the size rules guard hold their lock, by table
# size?  The default of migration_guard.large_table_threshold comes from
# these figures: below it, the worst guarded statement should finish well
# within the second or so that an application tolerates a blocked table.
#
# Starts its own throwaway server (no migration_guard), builds a SaaS-like
# table at several sizes and times, under its lock, an index build, a
# volatile-default rewrite and a CHECK validation (median of 3 runs, each
# rolled back).  Prints figures; asserts nothing.
#
#   bash test/bench/threshold_speed.sh [sizes in MB, default "8 32 128"]
set -eu
sizes=${1:-"8 32 128"}
PGBIN=/usr/lib/postgresql/15/bin
user=$(id -un)
dir=$(mktemp -d /tmp/mg_bench.XXXXXX)
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() { as_user "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
as_user "$PGBIN/initdb" -D "$dir/data" >/dev/null 2>&1
as_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -o "-p 5497 -k $dir -c listen_addresses=''" start >/dev/null
psql() { as_user "$PGBIN/psql" -h "$dir" -p 5497 -d postgres -XAtq "$@"; }

psql -c "CREATE FUNCTION time_ms(stmt text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; ms float8;
BEGIN
  BEGIN
    t0 := clock_timestamp();
    EXECUTE stmt;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    RAISE EXCEPTION USING ERRCODE = 'MGB01';
  EXCEPTION WHEN SQLSTATE 'MGB01' THEN RETURN ms;
  END;
END \$\$"

printf "%8s | %-34s | %9s | %8s\n" size_mb operation median_ms MB_per_s
for mb in $sizes; do
	# about 330 bytes a row on disk
	rows=$((mb * 1024 * 1024 / 330))
	psql -c "SET client_min_messages = warning; DROP TABLE IF EXISTS accounts;"
	psql -c "
	  CREATE TABLE accounts (id bigint PRIMARY KEY, org_id bigint, email text, name text,
	                         created_at timestamptz, payload jsonb);
	  INSERT INTO accounts SELECT g, g % 1000, 'user' || g || '@example.com', md5(g::text),
	         now() - g * interval '1 second',
	         jsonb_build_object('plan', 'pro', 'note', repeat(md5(g::text), 4))
	    FROM generate_series(1, $rows) g;"
	psql -c "VACUUM ANALYZE accounts"
	real_mb=$(psql -c "SELECT round(pg_table_size('accounts') / 1048576.0)")
	for op in "CREATE INDEX ON accounts (email)" \
		"ALTER TABLE accounts ADD COLUMN u uuid DEFAULT gen_random_uuid()" \
		"ALTER TABLE accounts ADD CHECK (org_id >= 0)"; do
		ms=$(psql -c "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY time_ms('$op')) FROM generate_series(1, 3)")
		printf "%8s | %-34.34s | %9.0f | %8.0f\n" "$real_mb" "$op" "$ms" "$(echo "$real_mb / ($ms / 1000)" | bc -l)"
	done
done
