#!/usr/bin/env bash
# What does loading migration_guard cost?  Two throwaway servers, one
# without the library (base) and one with it preloaded and the extension
# created (guard), same settings; each workload runs on both alternately,
# A-B-B-A per round, so that machine noise cancels in the ratio.
#
#   bash test/bench/overhead.sh            BENCH_SECONDS=10 BENCH_ROUNDS=2 by default
#   BENCH_AA=1 bash test/bench/overhead.sh  both servers without the library
#
# Workloads: (a) pgbench TPC-B-like (DML only), (b) non-DDL utility
# statements, (c) DDL on small tables with the audit on, (d) check() on a
# 200-statement script, (e) ALTER TABLE and CREATE INDEX on a partitioned
# table with 1,000 partitions.  Prints medians and ratios; asserts nothing.
set -eu
secs=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-2}
PGBIN=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/mg_overhead.XXXXXX)
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
	for n in base guard; do as_user "$PGBIN/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true; done
	rm -rf "$dir"
}
trap cleanup EXIT

start() {	# name port preload
	as_user "$PGBIN/initdb" -D "$dir/$1" >/dev/null 2>&1
	{
		echo "port = $2"; echo "unix_socket_directories = '$dir'"; echo "listen_addresses = ''"
		[ -n "$3" ] && echo "shared_preload_libraries = '$3'"
	} >> "$dir/$1/postgresql.conf"
	as_user "$PGBIN/pg_ctl" -D "$dir/$1" -l "$dir/$1.log" start >/dev/null
}
start base 5611 ""
# BENCH_AA=1: the "guard" server without the library either, to measure what
# the harness itself does to the ratios (which server runs second, its port)
if [ "${BENCH_AA:-0}" = 1 ]; then start guard 5612 ""; else start guard 5612 migration_guard; fi
port_base=5611
port_guard=5612
psql() { local p=$1; shift; as_user "$PGBIN/psql" -h "$dir" -p "$p" -d postgres -XAtq "$@"; }
pgbench() { local p=$1; shift; as_user "$PGBIN/pgbench" -h "$dir" -p "$p" postgres "$@" 2>&1; }

[ "${BENCH_AA:-0}" = 1 ] || psql $port_guard -c "CREATE EXTENSION migration_guard"
# set-up runs with the guard off: pgbench -i adds primary keys to the
# tables it has just filled, in transactions of their own
export PGOPTIONS='-c migration_guard.mode=off'
for p in $port_base $port_guard; do
	[ $p = $port_base ] && PGOPTIONS= pgbench $p -i -s 10 -q >/dev/null
	[ $p = $port_guard ] && pgbench $p -i -s 10 -q >/dev/null
	# (c) picks one of 1,000 tables at random, 500 per client so that the
	# two clients never meet: a table that got a column added and dropped in
	# every transaction would reach the limit of 1,600 attribute numbers and
	# slow down as its dropped columns pile up
	psql $p -c "SELECT format('CREATE TABLE ddl_%s (id int);', i) FROM generate_series(0, 999) i" > "$dir/ddl_tables.sql"
	psql $p -f "$dir/ddl_tables.sql" >/dev/null
	psql $p -c "CREATE TABLE parted (id int, v text) PARTITION BY HASH (id)"
	psql $p -c "SELECT format('CREATE TABLE parted_%s PARTITION OF parted FOR VALUES WITH (MODULUS 1000, REMAINDER %s);', i, i) FROM generate_series(0, 999) i" > "$dir/parts.sql"
	psql $p -f "$dir/parts.sql" >/dev/null
	psql $p -c "INSERT INTO parted SELECT g, md5(g::text) FROM generate_series(1, 100000) g"
done

unset PGOPTIONS
# the pgbench scripts of (b) and (c), shared with the other benchmark
cp "$(dirname "$0")"/workloads/utility.sql "$(dirname "$0")"/workloads/ddl.sql "$dir"/
tps() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | head -1; }

declare -A results
run() {	# workload port -> tps
	case $1 in
		a) pgbench $2 -n -T "$secs" -c 2 -j 2 | tps ;;
		b) pgbench $2 -n -T "$secs" -c 2 -j 2 -f "$dir/utility.sql" | tps ;;
		c) PGOPTIONS='-c client_min_messages=error' pgbench $2 -n -T "$secs" -c 2 -j 2 -f "$dir/ddl.sql" | tps ;;
	esac
}
for w in a b c; do
	for r in $(seq "$rounds"); do
		for side in base guard guard base; do
			port=port_$side
			results[$w,$side]="${results[$w,$side]:-} $(run $w ${!port})"
		done
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
printf "%-48s | %12s | %12s | %7s\n" workload base guard ratio
for w in a b c; do
	b=$(echo "${results[$w,base]}" | median)
	g=$(echo "${results[$w,guard]}" | median)
	name=$([ $w = a ] && echo "(a) pgbench TPC-B-like, tps" || { [ $w = b ] && echo "(b) utility statements, tps"; } || echo "(c) DDL on small tables, audit on, tps")
	printf "%-48s | %12.1f | %12.1f | %7.3f\n" "$name" "$b" "$g" "$(echo "$g / $b" | bc -l)"
done

[ "${BENCH_AA:-0}" = 1 ] && exit 0		# (d) and (e) need the extension

# (d) check() on a 200-statement script, guard only: 20 dry runs after one to
# warm the caches, timed by the server.  A loop, not a join with
# generate_series: a function scan whose argument does not change is run
# once and its result replayed.
psql $port_guard -c "CREATE TABLE bench_script AS SELECT string_agg(CASE i % 4
		WHEN 0 THEN 'ALTER TABLE pgbench_accounts ADD COLUMN c' || i || ' int'
		WHEN 1 THEN 'CREATE INDEX ON pgbench_accounts (abalance)'
		WHEN 2 THEN 'ALTER TABLE pgbench_accounts ALTER COLUMN filler TYPE text'
		ELSE 'UPDATE pgbench_branches SET bbalance = 0' END, E';\n') AS sql
	  FROM generate_series(1, 200) i"
d=$(psql $port_guard -c "CREATE FUNCTION pg_temp.time_check() RETURNS float8 LANGUAGE plpgsql AS \$\$
	DECLARE t0 timestamptz; n bigint; s text := (SELECT sql FROM bench_script);
	BEGIN
		SELECT count(*) INTO n FROM migration_guard.check(s);
		t0 := clock_timestamp();
		FOR i IN 1..20 LOOP
			SELECT count(*) INTO n FROM migration_guard.check(s);
		END LOOP;
		RETURN round(200 * 20 / extract(epoch FROM clock_timestamp() - t0));
	END \$\$" -c "SELECT pg_temp.time_check()")
printf "%-48s | %12s | %12s | %7s\n" "(d) check() on 200 statements, statements/s" "" "$d" ""

# (e) guard time per statement on a partitioned table with 1,000 partitions:
# what check() spends is exactly the guard's inspect/measure/judge
for stmt in "ALTER TABLE parted ADD COLUMN x int" "CREATE INDEX ON parted (id)"; do
	ms=$(psql $port_guard -c "CREATE FUNCTION pg_temp.time_one() RETURNS numeric LANGUAGE plpgsql AS \$\$
		DECLARE t0 timestamptz; n bigint;
		BEGIN
			SELECT count(*) INTO n FROM migration_guard.check('$stmt');
			t0 := clock_timestamp();
			FOR i IN 1..20 LOOP
				SELECT count(*) INTO n FROM migration_guard.check('$stmt');
			END LOOP;
			RETURN round((extract(epoch FROM clock_timestamp() - t0) * 1000 / 20)::numeric, 2);
		END \$\$" -c "SELECT pg_temp.time_one()")
	printf "%-48s | %12s | %12s | %7s\n" "(e) guard ms/stmt: $stmt" "" "$ms" ""
done
