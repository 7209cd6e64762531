#!/usr/bin/env bash
# What does loading migration_guard cost?  One throwaway server, two
# databases filled alike: "base", where sessions run without the library and
# the extension does not exist, and "guard", where the extension is created
# and sessions load the library (session_preload_libraries: the same hooks
# as shared_preload_libraries).
#
# The two sides alternate A-B-B-A in each round, one pgbench client at a
# time, client and backend pinned to core 1 and everything else to core 0.
# One server, so that both sides share its data directory, buffers and
# memory layout: two servers started alike differed by 2 % with no library
# at all.  Even so, on a shared VM a single run moves by several percent
# (BENCH_AA=1 shows by how much); test/bench/instructions_single.sh counts
# instructions instead, which is what resolves 1 %.
#
#   bash test/bench/overhead.sh             BENCH_SECONDS=4 BENCH_ROUNDS=8
#   BENCH_AA=1 bash test/bench/overhead.sh   neither side loads the library:
#                                            the harness's own spread
#   BENCH_SYNC_COMMIT=off bash ...           commits do not wait for the WAL
#                                            flush: the CPU cost alone (default
#                                            on, as on the servers we guard)
#   BENCH_GUARD_OPTS='-c migration_guard.audit=off' bash ...
#                                            settings for the guard side only
#   BENCH_WORKLOADS='b c' bash ...           some of (a) to (c) only
#   BENCH_DIR=/dev/shm bash ...              the cluster in memory, away from
#                                            the disk's noise
#
# Workloads: (a) pgbench TPC-B-like (DML only), (b) non-DDL utility
# statements, (c) DDL on small tables with the audit on, (d) check() on a
# 200-statement script, (e) ALTER TABLE and CREATE INDEX on a partitioned
# table with 1,000 partitions.  Prints, for (a) to (c), the median tps of
# each side and the median and range of the per-round ratios; asserts
# nothing.
set -eu
secs=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-8}
PGBIN=/usr/lib/postgresql/15/bin
dir=$(mktemp -d "${BENCH_DIR:-/tmp}"/mg_overhead.XXXXXX)
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
	as_user "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

port=5611
as_user "$PGBIN/initdb" -D "$dir/data" >/dev/null 2>&1
{
	echo "port = $port"; echo "unix_socket_directories = '$dir'"; echo "listen_addresses = ''"
	echo "synchronous_commit = ${BENCH_SYNC_COMMIT:-on}"
	echo "autovacuum = off"		# would visit one side and not the other
	# both databases stay in shared buffers (prewarmed below): with the
	# default 128MB each side's slice evicted the other's pages, and the
	# side loaded last ran 8 % faster with no library at all
	echo "shared_buffers = 1GB"
} >> "$dir/data/postgresql.conf"
as_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" start >/dev/null
# every backend is forked on core 1, where its pgbench client runs too; the
# background processes, this script and its psql calls stay on core 0
postmaster=$(head -1 "$dir/data/postmaster.pid")
for pid in $(pgrep -P "$postmaster"); do taskset -pc 0 "$pid" >/dev/null; done
taskset -pc 1 "$postmaster" >/dev/null
taskset -pc 0 $$ >/dev/null
psql() { local db=$1; shift; as_user env PGOPTIONS="${PGOPTIONS:-}" "$PGBIN/psql" -h "$dir" -p $port -d "$db" -XAtq "$@"; }
pgbench() { local db=$1; shift; as_user env PGOPTIONS="${PGOPTIONS:-}" PGAPPNAME="${PGAPPNAME:-pgbench}" "$PGBIN/pgbench" -h "$dir" -p $port "$db" "$@" 2>&1; }

# the same tables on both sides; the extension on the guard side only
for db in base guard; do
	psql postgres -c "CREATE DATABASE $db"
	pgbench $db -i -s 10 -q >/dev/null
	# (c) picks one of 1,000 tables at random: a table that got a column
	# added and dropped in every transaction would reach the limit of 1,600
	# attribute numbers and slow down as its dropped columns pile up
	psql $db -c "SELECT format('CREATE TABLE ddl_%s (id int);', i) FROM generate_series(0, 999) i" > "$dir/ddl_tables.sql"
	psql $db -f "$dir/ddl_tables.sql" >/dev/null
	psql $db -c "VACUUM ANALYZE" >/dev/null
	psql $db -c "CREATE EXTENSION pg_prewarm" \
		-c "SELECT sum(pg_prewarm(oid)) FROM pg_class WHERE relname LIKE 'pgbench%' AND relkind IN ('r', 'i')" >/dev/null
done
psql guard -c "SET client_min_messages = error" -c "CREATE EXTENSION migration_guard"

# the pgbench scripts of (b) and (c), shared with the other benchmark
cp "$(dirname "$0")"/workloads/utility.sql "$(dirname "$0")"/workloads/ddl.sql "$dir"/
tps() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$1" | head -1; }

opts_base="-c client_min_messages=error"
opts_guard="-c client_min_messages=error -c session_preload_libraries=migration_guard ${BENCH_GUARD_OPTS:-}"
[ "${BENCH_AA:-0}" = 1 ] && opts_guard=$opts_base

# each side must be what it claims: with the threshold at 0 the guard side
# refuses a CREATE INDEX, the base side runs it
judged() {	# side -> "refused" or "ran"
	local o=opts_$1
	PGOPTIONS=${!o} psql $1 -v ON_ERROR_STOP=1 -c "BEGIN" -c "SET LOCAL migration_guard.large_table_threshold = 0" \
		-c "CREATE INDEX ON pgbench_branches (bbalance)" -c "ROLLBACK" >/dev/null 2>&1 && echo ran || echo refused
}
want_guard=refused
[ "${BENCH_AA:-0}" = 1 ] && want_guard=ran
if [ "$(judged base)" != ran ] || [ "$(judged guard)" != "$want_guard" ]; then
	echo "overhead.sh: the base side must run DDL unjudged and the guard side judge it" >&2
	exit 1
fi

run_side() {	# workload side -> tps
	local o=opts_$2 f=
	case $1 in b) f="-f $dir/utility.sql" ;; c) f="-f $dir/ddl.sql" ;; esac
	# (c) leaves dead catalog rows and the files of dropped tables behind
	# (autovacuum is off), more on the faster side, and the next run wades
	# through them: every (c) run starts from vacuumed catalogs, after a
	# checkpoint
	if [ "$1" = c ]; then
		psql "$2" -c "VACUUM" >/dev/null
		psql postgres -c "CHECKPOINT" >/dev/null
	fi
	as_user taskset -c 1 env PGOPTIONS="${!o}" "$PGBIN/pgbench" -h "$dir" -p $port "$2" \
		-n -T "$secs" -c 1 -j 1 $f > "$dir/out" 2>&1 || { cat "$dir/out" >&2; exit 1; }
	tps "$dir/out"
}

workloads=${BENCH_WORKLOADS:-a b c}
declare -A tpss ratios
for w in $workloads; do
	for r in $(seq "$rounds"); do
		b1=$(run_side $w base); g1=$(run_side $w guard)
		g2=$(run_side $w guard); b2=$(run_side $w base)
		tpss[$w,base]="${tpss[$w,base]:-} $b1 $b2"
		tpss[$w,guard]="${tpss[$w,guard]:-} $g1 $g2"
		ratios[$w]="${ratios[$w]:-} $(echo "($g1 + $g2) / ($b1 + $b2)" | bc -l)"
		[ -n "${BENCH_VERBOSE:-}" ] && echo "$w round $r: base $b1 $b2, guard $g1 $g2" >&2
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
range() { tr ' ' '\n' | grep . | sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.3f-%.3f", lo, hi}'; }
echo "$rounds rounds of A-B-B-A, $secs s each, client and backend on core 1; synchronous_commit = ${BENCH_SYNC_COMMIT:-on}"
[ "${BENCH_AA:-0}" = 1 ] && echo "A-A run: neither side loads the library"
row() { printf "%-46s | %10s | %10s | %7s | %s\n" "$@"; }
row workload base guard ratio "ratio range"
for w in $workloads; do
	case $w in
		a) name="(a) pgbench TPC-B-like, tps" ;;
		b) name="(b) utility statements, tps" ;;
		c) name="(c) DDL on small tables, audit on, tps" ;;
	esac
	row "$name" "$(printf %.1f "$(echo "${tpss[$w,base]}" | median)")" \
		"$(printf %.1f "$(echo "${tpss[$w,guard]}" | median)")" \
		"$(printf %.3f "$(echo "${ratios[$w]}" | median)")" "$(echo "${ratios[$w]}" | range)"
done

[ "${BENCH_AA:-0}" = 1 ] && exit 0		# (d) and (e) need the extension

# (d) check() on a 200-statement script, guard only: 20 dry runs after one to
# warm the caches, timed by the server.  A loop, not a join with
# generate_series: a function scan whose argument does not change is run
# once and its result replayed.
psql guard -c "CREATE TABLE bench_script AS SELECT string_agg(CASE i % 4
		WHEN 0 THEN 'ALTER TABLE pgbench_accounts ADD COLUMN c' || i || ' int'
		WHEN 1 THEN 'CREATE INDEX ON pgbench_accounts (abalance)'
		WHEN 2 THEN 'ALTER TABLE pgbench_accounts ALTER COLUMN filler TYPE text'
		ELSE 'UPDATE pgbench_branches SET bbalance = 0' END, E';\n') AS sql
	  FROM generate_series(1, 200) i"
d=$(psql guard -c "CREATE FUNCTION pg_temp.time_check() RETURNS float8 LANGUAGE plpgsql AS \$\$
	DECLARE t0 timestamptz; n bigint; s text := (SELECT sql FROM bench_script);
	BEGIN
		SELECT count(*) INTO n FROM migration_guard.check(s);
		t0 := clock_timestamp();
		FOR i IN 1..20 LOOP
			SELECT count(*) INTO n FROM migration_guard.check(s);
		END LOOP;
		RETURN round(200 * 20 / extract(epoch FROM clock_timestamp() - t0));
	END \$\$" -c "SELECT pg_temp.time_check()")
row "(d) check() on 200 statements, statements/s" "" "$d" "" ""

# (e) guard time per statement on a partitioned table with 1,000 partitions
# of 100 rows each: what check() spends is exactly the guard's
# inspect/measure/judge
psql guard -c "CREATE TABLE parted (id int, v text) PARTITION BY HASH (id)"
psql guard -c "SELECT format('CREATE TABLE parted_%s PARTITION OF parted FOR VALUES WITH (MODULUS 1000, REMAINDER %s);', i, i) FROM generate_series(0, 999) i" > "$dir/parts.sql"
psql guard -f "$dir/parts.sql" >/dev/null
psql guard -c "INSERT INTO parted SELECT g, md5(g::text) FROM generate_series(1, 100000) g"
psql guard -c "VACUUM ANALYZE parted" >/dev/null
# A VM neighbour's burst can double one batch: 9 batches of 10 dry runs,
# the median batch printed with the range of all nine.
for stmt in "ALTER TABLE parted ADD COLUMN x int" "CREATE INDEX ON parted (id)"; do
	ms=$(psql guard -c "CREATE FUNCTION pg_temp.time_one() RETURNS text LANGUAGE plpgsql AS \$\$
		DECLARE t0 timestamptz; n bigint; batches float8[] := '{}';
		BEGIN
			SELECT count(*) INTO n FROM migration_guard.check('$stmt');
			FOR b IN 1..9 LOOP
				t0 := clock_timestamp();
				FOR i IN 1..10 LOOP
					SELECT count(*) INTO n FROM migration_guard.check('$stmt');
				END LOOP;
				batches := batches || extract(epoch FROM clock_timestamp() - t0) * 1000 / 10;
			END LOOP;
			RETURN (SELECT format('%s|%s-%s',
					round(percentile_disc(0.5) WITHIN GROUP (ORDER BY v)::numeric, 2),
					round(min(v)::numeric, 2), round(max(v)::numeric, 2))
					FROM unnest(batches) v);
		END \$\$" -c "SELECT pg_temp.time_one()")
	row "(e) guard ms/stmt: $stmt" "" "${ms%%|*}" "" "${ms#*|}"
done
