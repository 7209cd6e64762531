#!/usr/bin/env bash
# At what rate does each kind of work done under a blocking lock during a
# schema change get through its table?  A cost model predicts how long a
# statement holds its lock as bytes / rate; these are the rates.
#
# Starts its own throwaway server (no migration_guard), as
# test/bench/threshold_speed.sh does, builds a SaaS-like table at several
# sizes, with no primary key and no index, so that a rewrite's own cost is
# measured alone, and times each statement under its lock (median of 3
# runs, each rolled back).  The bytes a rate is per are those the work
# reads: the heap and its TOAST for a rewrite, the heap alone otherwise.
# A second table, whose bytes are mostly out-of-line TOAST, shows whether
# a rewrite copies TOAST at another rate.  Server settings are the
# defaults (maintenance_work_mem 64MB, 2 parallel maintenance workers), as
# on a server nobody tuned.  Prints figures; asserts nothing.
#
#   bash test/bench/work_rates.sh [sizes in MB, default "32 128"]
set -eu
sizes=${1:-"32 128"}
PGBIN=/usr/lib/postgresql/15/bin
port=5496
dir=$(mktemp -d /tmp/mg_rates.XXXXXX)
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
	rc=$?
	[ "$rc" != 0 ] && [ -f "$dir/log" ] && tail -n 20 "$dir/log" >&2
	as_user "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
as_user "$PGBIN/initdb" -D "$dir/data" >/dev/null 2>&1
as_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -o "-p $port -k $dir -c listen_addresses=''" start >/dev/null
psql() { as_user "$PGBIN/psql" -h "$dir" -p $port -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"; }

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
# org_id is g % 1000, so every row has its org
psql -c "CREATE TABLE orgs (id bigint PRIMARY KEY);
         INSERT INTO orgs SELECT g FROM generate_series(0, 999) g;"
psql -c "VACUUM ANALYZE orgs"

declare -A rate rate_at
kinds=()
largest=0
# run KIND BYTES STATEMENT
run() {
	local ms line r
	ms=$(psql -c "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY time_ms(\$stmt\$$3\$stmt\$)) FROM generate_series(1, 3)")
	line=$(awk -v k="$1" -v b="$2" -v ms="$ms" 'BEGIN {
		mb = b / 1048576; r = ms > 0 ? mb / (ms / 1000) : 0
		printf "%-20s | %8.1f | %9.0f | %8.1f\n", k, mb, ms, r }')
	echo "$line"
	r=${line##*| }
	[ -n "${rate[$1]+x}" ] || kinds+=("$1")
	# $mb: the size of the current loop turn
	if [ "$mb" -ge "$largest" ]; then rate[$1]=$r; rate_at[$1]=$mb; fi
}
bytes() { psql -c "SELECT $1('$2')"; }
describe() {
	psql -c "SELECT '# $1: ' || count(*) || ' rows, heap '
	    || round(pg_relation_size('$1') / 1048576.0, 1) || ' MB, heap+TOAST '
	    || round(pg_table_size('$1') / 1048576.0, 1) || ' MB, '
	    || (SELECT count(*) FROM pg_index WHERE indrelid = '$1'::regclass) || ' indexes'
	  FROM $1"
}

printf "%-20s | %8s | %9s | %8s\n" kind size_mb median_ms MB_per_s
for mb in $sizes; do
	# about 300 bytes a row on disk
	rows=$((mb * 1024 * 1024 / 300))
	# 8 kB of hex a row: pglz cannot compress it by the 25 % it needs, so
	# it is stored out of line as it is
	docs=$((mb * 1024 * 1024 / 8400))
	psql -c "SET client_min_messages = warning;
	  DROP TABLE IF EXISTS accounts, accounts_p, parted, docs;"
	psql -c "
	  CREATE TABLE accounts (id bigint, org_id bigint, email text, name text,
	                         created_at timestamptz, payload jsonb, pt point);
	  INSERT INTO accounts SELECT g, g % 1000, 'user' || g || '@example.com', md5(g::text),
	         now() - g * interval '1 second',
	         jsonb_build_object('plan', 'pro', 'note', repeat(md5(g::text), 4)),
	         point(random() * 1000, random() * 1000)
	    FROM generate_series(1, $rows) g;
	  CREATE TABLE accounts_p (LIKE accounts);
	  INSERT INTO accounts_p SELECT * FROM accounts;
	  CREATE TABLE parted (LIKE accounts) PARTITION BY RANGE (created_at);
	  CREATE TABLE docs (id bigint, title text, body text);
	  INSERT INTO docs SELECT g, 'doc ' || g,
	         (SELECT string_agg(md5(g || '.' || i), '') FROM generate_series(1, 256) i)
	    FROM generate_series(1, $docs) g;"
	psql -c "VACUUM ANALYZE accounts"
	psql -c "VACUUM ANALYZE accounts_p"
	psql -c "VACUUM ANALYZE docs"
	describe accounts
	describe docs
	heap=$(bytes pg_relation_size accounts)
	table=$(bytes pg_table_size accounts)
	dheap=$(bytes pg_relation_size docs)
	dtable=$(bytes pg_table_size docs)
	aheap=$(bytes pg_relation_size accounts_p)
	# bounds from the data, not MINVALUE/MAXVALUE, so that the scan checks a
	# real range
	bounds=$(psql -c "SELECT format('FROM (%L) TO (%L)', min(created_at),
	                         max(created_at) + interval '1 second') FROM accounts_p")
	[ "$mb" -ge "$largest" ] && largest=$mb

	run rewrite "$table" "ALTER TABLE accounts ADD COLUMN u uuid DEFAULT gen_random_uuid()"
	run rewrite_toast_heap "$dheap" "ALTER TABLE docs ADD COLUMN u uuid DEFAULT gen_random_uuid()"
	run rewrite_toast_total "$dtable" "ALTER TABLE docs ADD COLUMN u uuid DEFAULT gen_random_uuid()"
	run index_btree "$heap" "CREATE INDEX ON accounts (email)"
	run index_btree_bigint "$heap" "CREATE INDEX ON accounts (org_id)"
	run index_gin "$heap" "CREATE INDEX ON accounts USING gin (payload)"
	run index_gist "$heap" "CREATE INDEX ON accounts USING gist (pt)"
	run index_brin "$heap" "CREATE INDEX ON accounts USING brin (created_at)"
	run index_hash "$heap" "CREATE INDEX ON accounts USING hash (email)"
	run validate_check "$heap" "ALTER TABLE accounts ADD CHECK (org_id >= 0)"
	run set_not_null "$heap" "ALTER TABLE accounts ALTER COLUMN org_id SET NOT NULL"
	run fk_validate "$heap" "ALTER TABLE accounts ADD FOREIGN KEY (org_id) REFERENCES orgs"
	run attach_scan "$aheap" "ALTER TABLE parted ATTACH PARTITION accounts_p FOR VALUES $bounds"
done

echo
echo "# rate at the largest size (lock hold time = bytes / rate)"
for k in "${kinds[@]}"; do
	printf "# %-20s %8s MB/s  (size %s)\n" "$k" "${rate[$k]}" "${rate_at[$k]}"
done
