#!/usr/bin/env bash
# The guard's cost in instructions, steady enough to resolve 1 %: callgrind
# counts the instructions of one backend in single-user mode (postgres
# --single: no postmaster, no client, no other process, so nothing that
# runs at a random moment) running the statements of workloads (a), (b)
# and (c) of overhead.sh, as pgbench sends them.
#
#   bash test/bench/instructions_single.sh        (as root; installs valgrind if missing)
#   bash test/majors/in_chroot.sh /var/cache/migration_guard/chroot-18 \
#       env PGBIN=/usr/lib/postgresql/18/bin bash test/bench/instructions_single.sh
#                                                 (on 18, once test/run_tests.sh has
#                                                  installed the extension there)
#
# One template cluster with two databases: base (no extension) and guard
# (extension created), each with pgbench's tables (scale 10) and the 1,000
# small tables ddl_0 .. ddl_999.  Every run starts from a fresh copy of the
# template.  A run of N and one of 3N transactions give the instructions of
# one more transaction, so start-up and shut-down drop out.  Prints base,
# guard and their ratio per workload; the figures repeat to the instruction
# from run to run, so one pair is enough.  The values pgbench would draw at
# random are drawn from a fixed sequence here.
#
# PROFILE_WORKLOADS (default 'a b c') picks workloads, PROFILE_TXNS (default
# 100) sets N.  PROFILE_KEEP=1 keeps the callgrind files of the 3N runs and
# prints where they are, for
#   callgrind_annotate --inclusive=yes FILE | less
# Asserts nothing.
set -eu
n=${PROFILE_TXNS:-100}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null
dir=$(mktemp -d /tmp/mg_profile.XXXXXX)
chown postgres "$dir"
as_pg() { runuser -u postgres -- "$@"; }
trap '[ "${PROFILE_KEEP:-0}" = 1 ] || rm -rf "$dir"' EXIT

# the template
as_pg "$PGBIN/initdb" -D "$dir/template" >/dev/null 2>&1
echo "autovacuum = off" >> "$dir/template/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$dir/template" -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p 5623" \
	-l "$dir/template.log" -w start >/dev/null
psql_t() { as_pg "$PGBIN/psql" -h "$dir" -p 5623 -XAtq "$@"; }
for db in base guard; do
	psql_t -d postgres -c "CREATE DATABASE $db"
	as_pg "$PGBIN/pgbench" -h "$dir" -p 5623 -i -s 10 -q $db >/dev/null 2>&1
	psql_t -d $db -c "SELECT format('CREATE TABLE ddl_%s (id int);', i) FROM generate_series(0, 999) i" \
		| psql_t -d $db >/dev/null
done
psql_t -d guard -c "CREATE EXTENSION migration_guard"
psql_t -d postgres -c "CHECKPOINT"
as_pg "$PGBIN/pg_ctl" -D "$dir/template" -w stop >/dev/null

# a workload's statements, one per line (a line is a statement in
# single-user mode), values in a fixed pseudo-random order
script() {	# workload transactions -> file
	local f="$dir/$1_$2.sql" i t aid delta
	for ((i = 0; i < $2; i++)); do
		case $1 in
			a)	# pgbench's built-in TPC-B-like transaction
				aid=$(( (i * 7919) % 1000000 + 1 )); delta=$(( (i * 37) % 10001 - 5000 ))
				echo "BEGIN;"
				echo "UPDATE pgbench_accounts SET abalance = abalance + $delta WHERE aid = $aid;"
				echo "SELECT abalance FROM pgbench_accounts WHERE aid = $aid;"
				echo "UPDATE pgbench_tellers SET tbalance = tbalance + $delta WHERE tid = $(( (i * 13) % 100 + 1 ));"
				echo "UPDATE pgbench_branches SET bbalance = bbalance + $delta WHERE bid = $(( i % 10 + 1 ));"
				echo "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($(( (i * 13) % 100 + 1 )), $(( i % 10 + 1 )), $aid, $delta, CURRENT_TIMESTAMP);"
				echo "END;" ;;
			b)	cat "$(dirname "$0")/workloads/utility.sql"; echo ;;
			c)	t=$(( (i * 7919) % 1000 ))
				echo "ALTER TABLE ddl_$t ADD COLUMN c int;"
				echo "CREATE INDEX ON ddl_$t (c);"
				echo "ALTER TABLE ddl_$t DROP COLUMN c;"
				echo "CREATE TABLE tmp_0 (id int);"
				echo "DROP TABLE tmp_0;" ;;
		esac
	done > "$f"
	chown postgres "$f"
	echo "$f"
}

run_once() {	# workload side transactions -> instructions
	local w=$1 side=$2 txns=$3 opts=() out="$dir/cg_$1_$2_$3.out"
	rm -rf "$dir/data" && cp -a "$dir/template" "$dir/data"
	[ "$side" = guard ] && opts=(-c shared_preload_libraries=migration_guard)
	as_pg setarch "$(uname -m)" -R valgrind --tool=callgrind --dump-line=no --callgrind-out-file="$out" \
		"$PGBIN/postgres" --single -D "$dir/data" "${opts[@]}" "$side" \
		< "$(script "$w" "$txns")" > "$dir/run_${w}_${side}_${txns}.log" 2>&1
	if grep -q 'ERROR' "$dir/run_${w}_${side}_${txns}.log"; then
		echo "errors in the ($w) $side run:" >&2
		grep ERROR "$dir/run_${w}_${side}_${txns}.log" | head >&2
		exit 1
	fi
	awk '/^totals:/ { print $2 }' "$out"
}

echo "instructions per transaction of a single-user backend, N = $n and 3N"
printf "%-44s | %10s | %10s | %9s | %7s\n" workload base guard extra ratio
for w in ${PROFILE_WORKLOADS:-a b c}; do
	declare -A per_txn=()
	for side in base guard; do
		small=$(run_once $w $side "$n")
		big=$(run_once $w $side $((3 * n)))
		per_txn[$side]=$(( (big - small) / (2 * n) ))
	done
	b=${per_txn[base]}
	g=${per_txn[guard]}
	case $w in
		a) name="(a) pgbench TPC-B-like" ;;
		b) name="(b) utility statements (7 per transaction)" ;;
		c) name="(c) DDL on small tables, audit on (5 stmts)" ;;
	esac
	printf "%-44s | %10s | %10s | %9s | %7.4f\n" "$name" "$b" "$g" $((g - b)) \
		"$(awk -v g="$g" -v b="$b" 'BEGIN {print g / b}')"
done
if [ "${PROFILE_KEEP:-0}" = 1 ]; then
	echo "callgrind files: $dir/cg_<workload>_<side>_$((3 * n)).out"
fi
