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
# on a server nobody tuned.
#
# Two sections follow, the sources of the per-row and per-key costs of the
# model (src/hold_time.c):
# - B-tree keys: one narrow table of BTREE_ROWS rows (default 400000) with
#   a random bigint, a gen_random_uuid(), md5 text COLLATE "C" and md5 text
#   in the database's collation (strcoll() unless it is C), keys in random
#   order; each CREATE INDEX's time less its heap scan at the model's
#   2000 MB/s, per key, next to the model's cost for the key's class.
# - Rewrite rows: two tables of about REWRITE_MB MB each (default 32), rows
#   of about 60 and 960 bytes (int id, bigint, md5 text, a pad of 0 or 900
#   bytes); ADD COLUMN u uuid DEFAULT gen_random_uuid() and ALTER COLUMN id
#   TYPE bigint timed on each, and the two-point fit ms = MB / rate + rows x
#   cost of each statement, next to the model's rate and cost a row.
# Prints figures; asserts nothing.
#
#   [BTREE_ROWS=400000] [REWRITE_MB=32] \
#   bash test/bench/work_rates.sh [sizes in MB, default "32 128"]
set -eu
sizes=${1:-"32 128"}
btree_rows=${BTREE_ROWS:-400000}
rewrite_mb=${REWRITE_MB:-32}
case "$btree_rows$rewrite_mb" in
*[!0-9]*) echo "BTREE_ROWS and REWRITE_MB are whole numbers" >&2; exit 2 ;;
esac
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
# median_ms STATEMENT: median of 3 runs, each rolled back
median_ms() {
	psql -c "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY time_ms(\$stmt\$$1\$stmt\$)) FROM generate_series(1, 3)"
}
# run KIND BYTES STATEMENT
run() {
	local ms line r
	ms=$(median_ms "$3")
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

psql -c "DROP TABLE accounts, accounts_p, parted, docs"

# B-tree keys: a build is its heap scan plus a cost per key, by the class
# of the first key column (src/hold_time.c, key_classes)
collation=$(psql -c "SELECT datcollate || ' (' || CASE datlocprovider WHEN 'i' THEN 'icu'
                       ELSE 'libc' END || ')' FROM pg_database WHERE datname = current_database()")
psql -c "CREATE TABLE k (r bigint, u uuid, hc text COLLATE \"C\", h text);
  INSERT INTO k SELECT (random() * 9e18)::bigint, gen_random_uuid(), md5(g::text), md5(g::text)
    FROM generate_series(1, $btree_rows) g;"
psql -c "VACUUM ANALYZE k"
kheap=$(bytes pg_relation_size k)
echo
awk -v n="$btree_rows" -v b="$kheap" 'BEGIN {
	printf "# B-tree keys: CREATE INDEX on %d rows, keys in random order, heap %.1f MB (scan at 2000 MB/s: %.0f ms)\n",
	    n, b / 1048576, b / 1048576 / 2000 * 1000 }'
printf "%-28s | %9s | %10s | %8s\n" key median_ms ns_per_key model_ns
# key COLUMN LABEL MODEL_NS
key() {
	local ms
	ms=$(median_ms "CREATE INDEX ON k ($1)")
	awk -v k="$2" -v ms="$ms" -v b="$kheap" -v n="$btree_rows" -v m="$3" 'BEGIN {
		ns = (ms - b / 1048576 / 2000 * 1000) / n * 1e6
		printf "%-28s | %9.0f | %10.0f | %8d\n", k, ms, ns, m }'
}
key r "bigint" 600
key u "uuid" 600
key hc 'text COLLATE "C"' 900
key h "text, $collation" 1500
psql -c "DROP TABLE k"

# Rewrite rows: a rewrite is its copy by bytes plus a cost per row, more
# when it computes an added column's value (src/hold_time.c)
echo
echo "# Rewrite rows: about $rewrite_mb MB each, no index"
printf "%-12s | %-11s | %8s | %8s | %9s\n" table statement size_mb rows median_ms
declare -A fit_mb fit_rows fit_ms
for pad in 0 900; do
	# on disk, a row takes about its pad + 84 bytes (header, line pointer)
	wrows=$((rewrite_mb * 1024 * 1024 / (pad + 84)))
	psql -c "SET client_min_messages = warning; DROP TABLE IF EXISTS w;"
	psql -c "CREATE TABLE w (id int, b bigint, h text, pad text);
	  INSERT INTO w SELECT g, g * 7, md5(g::text), repeat('x', $pad)
	    FROM generate_series(1, $wrows) g;"
	psql -c "VACUUM ANALYZE w"
	wbytes=$(bytes pg_table_size w)
	for st in add_uuid type_bigint; do
		case $st in
		add_uuid) sql="ALTER TABLE w ADD COLUMN u uuid DEFAULT gen_random_uuid()" ;;
		type_bigint) sql="ALTER TABLE w ALTER COLUMN id TYPE bigint" ;;
		esac
		ms=$(median_ms "$sql")
		fit_mb[$st,$pad]=$(awk -v b="$wbytes" 'BEGIN { printf "%.3f", b / 1048576 }')
		fit_rows[$st,$pad]=$wrows
		fit_ms[$st,$pad]=$ms
		awk -v t="w (pad $pad)" -v s="$st" -v mb="${fit_mb[$st,$pad]}" -v r="$wrows" -v ms="$ms" 'BEGIN {
			printf "%-12s | %-11s | %8.1f | %8d | %9.0f\n", t, s, mb, r, ms }'
	done
done
psql -c "DROP TABLE w"
echo "# two-point fit: ms = MB x a + rows x b; rate = 1000 / a MB/s, b in ns a row"
printf "%-11s | %8s | %10s | %14s | %14s\n" statement MB_per_s ns_per_row model_MB_per_s model_ns_per_row
for st in add_uuid type_bigint; do
	case $st in add_uuid) model_ns=3000 ;; type_bigint) model_ns=200 ;; esac
	awk -v s="$st" -v m1="${fit_mb[$st,0]}" -v r1="${fit_rows[$st,0]}" -v t1="${fit_ms[$st,0]}" \
	    -v m2="${fit_mb[$st,900]}" -v r2="${fit_rows[$st,900]}" -v t2="${fit_ms[$st,900]}" \
	    -v mn="$model_ns" 'BEGIN {
		det = m1 * r2 - m2 * r1
		a = (t1 * r2 - t2 * r1) / det
		b = (m1 * t2 - m2 * t1) / det
		rate = a > 0 ? sprintf("%.0f", 1000 / a) : "n/a"
		printf "%-11s | %8s | %10.0f | %14d | %14d\n", s, rate, b * 1e6, 170, mn }'
done
