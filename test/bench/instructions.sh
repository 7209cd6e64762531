#!/usr/bin/env bash
# What does loading migration_guard cost, counted in CPU instructions rather
# than timed?  On a shared 2-core machine a tps ratio moves by several
# percent from run to run, more than the 1% we want to show; the number of
# instructions the server executes for a fixed number of transactions does
# not.
#
#   bash test/bench/instructions.sh        (as root; installs valgrind if missing)
#
# Two throwaway servers, one without the library (base), one with it
# preloaded and the extension created (guard), same settings (autovacuum off
# so that no worker runs at a random moment).  For each workload each server
# is started under valgrind's callgrind (which counts the instructions every
# server process executes; hardware counters are not available in most
# VMs), runs a fixed number of pgbench transactions, and is stopped; A-B-B-A.
# Prints the instructions one more transaction costs (from a run of N and one
# of 3N transactions, so that start, stop and checkpoint drop out) and the
# ratio guard/base.  Takes about 5 minutes.
#   (a) pgbench TPC-B-like, (b) SET/SHOW/BEGIN/COMMIT/PREPARE/EXECUTE,
#   (c) DDL on small tables with the audit on (the overhead.sh scripts)
# Asserts nothing.  BENCH_TXNS scales the transaction counts (default 1);
# BENCH_WORKLOADS='c' runs some of the workloads only.
set -eu
scale=${BENCH_TXNS:-1}
PGBIN=/usr/lib/postgresql/15/bin
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null
dir=$(mktemp -d /tmp/mg_instr.XXXXXX)
chown postgres "$dir"
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	for n in base guard; do as_pg "$PGBIN/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true; done
	rm -rf "$dir"
}
trap cleanup EXIT

port_base=5621
port_guard=5622
for side in base guard; do
	port=port_$side
	as_pg "$PGBIN/initdb" -D "$dir/$side" >/dev/null 2>&1
	{
		echo "port = ${!port}"; echo "unix_socket_directories = '$dir'"; echo "listen_addresses = ''"
		echo "autovacuum = off"
		[ $side = guard ] && echo "shared_preload_libraries = 'migration_guard'"
	} >> "$dir/$side/postgresql.conf"
	as_pg "$PGBIN/pg_ctl" -D "$dir/$side" -l "$dir/$side.log" -w start >/dev/null
	export PGOPTIONS='-c migration_guard.mode=off'		# pgbench -i adds keys to full tables
	as_pg "$PGBIN/pgbench" -h "$dir" -p "${!port}" -i -s 10 -q postgres >/dev/null 2>&1
	unset PGOPTIONS
	as_pg "$PGBIN/psql" -h "$dir" -p "${!port}" -d postgres -XAtq \
		-c "SELECT format('CREATE TABLE ddl_%s (id int);', i) FROM generate_series(0, 999) i" \
		> "$dir/ddl_tables.sql"
	as_pg "$PGBIN/psql" -h "$dir" -p "${!port}" -d postgres -Xq -f "$dir/ddl_tables.sql" >/dev/null
	[ $side = guard ] && as_pg "$PGBIN/psql" -h "$dir" -p "${!port}" -d postgres -Xq \
		-c "CREATE EXTENSION migration_guard"
	as_pg "$PGBIN/psql" -h "$dir" -p "${!port}" -d postgres -Xq -c "CHECKPOINT"
	as_pg "$PGBIN/pg_ctl" -D "$dir/$side" -w stop >/dev/null
done

# the pgbench scripts of (b) and (c), shared with the other benchmark
cp "$(dirname "$0")"/workloads/utility.sql "$(dirname "$0")"/workloads/ddl.sql "$dir"/
chown postgres "$dir"/*.sql

# One run: start the server under callgrind, run the workload, stop it, and
# add up the instructions of all its processes.
run_once() {	# side txns-per-client pgbench-args... -> total instructions
	local side=$1 txns=$2 port=port_$1
	shift 2
	rm -rf "$dir/cg" && mkdir "$dir/cg" && chown postgres "$dir/cg"
	as_pg valgrind --tool=callgrind --trace-children=yes --dump-line=no \
		--callgrind-out-file="$dir/cg/%p.out" \
		"$PGBIN/postgres" -D "$dir/$side" >>"$dir/$side.log" 2>&1 &
	local pid=$!
	until as_pg "$PGBIN/pg_isready" -q -h "$dir" -p "${!port}"; do sleep 0.5; done
	as_pg "$PGBIN/pgbench" -h "$dir" -p "${!port}" -n -c 2 -j 2 -t "$txns" "$@" postgres >/dev/null 2>&1
	as_pg "$PGBIN/pg_ctl" -D "$dir/$side" -t 300 -w stop >/dev/null
	wait "$pid" || true
	cat "$dir"/cg/*.out | awk '/^totals:/ { s += $2 } END { printf "%.0f\n", s }'
}

# One measurement: the instructions one more transaction costs, from a run
# of N and a run of 3N transactions per client, so that server start, stop
# and the final checkpoint drop out.
measure() {	# side workload -> instructions per transaction
	local side=$1 w=$2 n args=()
	case $w in
		a) n=$((300 * scale)) ;;
		b) n=$((500 * scale)); args=(-f "$dir/utility.sql") ;;
		c) n=$((25 * scale)); args=(-f "$dir/ddl.sql") ;;
	esac
	local small big
	small=$(run_once "$side" "$n" "${args[@]}")
	big=$(run_once "$side" $((3 * n)) "${args[@]}")
	echo $(( (big - small) / (2 * 2 * n) ))
}

workloads=${BENCH_WORKLOADS:-a b c}
declare -A results
for w in $workloads; do
	for side in base guard guard base; do
		results[$w,$side]="${results[$w,$side]:-} $(measure $side $w)"
	done
done

mean() { tr ' ' '\n' | grep . | awk '{s += $1; n++} END {printf "%.0f", s / n}'; }
printf "%-44s | %14s | %14s | %7s\n" "workload (instructions per transaction)" base guard ratio
for w in $workloads; do
	b=$(echo "${results[$w,base]}" | mean)
	g=$(echo "${results[$w,guard]}" | mean)
	case $w in
		a) name="(a) pgbench TPC-B-like" ;;
		b) name="(b) utility statements (7 per transaction)" ;;
		c) name="(c) DDL on small tables, audit on" ;;
	esac
	printf "%-44s | %14s | %14s | %7.4f\n" "$name" "$b" "$g" "$(awk -v g="$g" -v b="$b" 'BEGIN {print g / b}')"
	echo "    runs: base${results[$w,base]}; guard${results[$w,guard]}"
done
