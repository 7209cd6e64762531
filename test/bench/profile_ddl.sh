#!/usr/bin/env bash
# Where does the guard's cost on workload (c) go?  Counts, with callgrind,
# the instructions of one backend in single-user mode (postgres --single:
# no postmaster, no client, no other process) running workload (c)'s
# statements, each in its own transaction as pgbench sends them.
#
#   bash test/bench/profile_ddl.sh        (as root; installs valgrind if missing)
#
# One template cluster with two databases: base (no extension) and guard
# (extension created), each with the 1,000 small tables ddl_0 .. ddl_999.
# Every run starts from a fresh copy of the template.  A run of N and one of
# 3N transactions give the instructions of one more transaction, so start-up
# and shut-down drop out.  Prints base, guard and their ratio; the figures
# repeat to the instruction from run to run, so one pair is enough.
#
# PROFILE_TXNS (default 100) sets N.  PROFILE_KEEP=1 keeps the callgrind
# files of the 3N guard run and prints where they are, for
#   callgrind_annotate --inclusive=yes FILE | less
# Asserts nothing.
set -eu
n=${PROFILE_TXNS:-100}
PGBIN=/usr/lib/postgresql/15/bin
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
	psql_t -d $db -c "SELECT format('CREATE TABLE ddl_%s (id int);', i) FROM generate_series(0, 999) i" \
		| psql_t -d $db >/dev/null
done
psql_t -d guard -c "CREATE EXTENSION migration_guard"
psql_t -d postgres -c "CHECKPOINT"
as_pg "$PGBIN/pg_ctl" -D "$dir/template" -w stop >/dev/null

# workload (c), one statement per line, tables in a fixed pseudo-random order
script() {	# transactions -> file
	local f="$dir/c_$1.sql" i t
	for ((i = 0; i < $1; i++)); do
		t=$(( (i * 7919) % 1000 ))
		echo "ALTER TABLE ddl_$t ADD COLUMN c int;"
		echo "CREATE INDEX ON ddl_$t (c);"
		echo "ALTER TABLE ddl_$t DROP COLUMN c;"
		echo "CREATE TABLE tmp_0 (id int);"
		echo "DROP TABLE tmp_0;"
	done > "$f"
	chown postgres "$f"
	echo "$f"
}

run_once() {	# side transactions -> instructions
	local side=$1 txns=$2 opts=() out="$dir/cg_$1_$2.out"
	rm -rf "$dir/data" && cp -a "$dir/template" "$dir/data"
	[ "$side" = guard ] && opts=(-c shared_preload_libraries=migration_guard)
	as_pg valgrind --tool=callgrind --dump-line=no --callgrind-out-file="$out" \
		"$PGBIN/postgres" --single -D "$dir/data" "${opts[@]}" "$side" \
		< "$(script "$txns")" > "$dir/run_$1_$2.log" 2>&1
	grep -q 'ERROR' "$dir/run_$1_$2.log" && { echo "errors in the $side run:" >&2; grep ERROR "$dir/run_$1_$2.log" | head >&2; exit 1; }
	awk '/^totals:/ { print $2 }' "$out"
}

declare -A per_txn
for side in base guard; do
	small=$(run_once $side "$n")
	big=$(run_once $side $((3 * n)))
	per_txn[$side]=$(( (big - small) / (2 * n) ))
done
b=${per_txn[base]}
g=${per_txn[guard]}
echo "(c) one transaction = 5 DDL statements, instructions of a single-user backend"
printf "%-8s %12s\n" base "$b" guard "$g"
printf "%-8s %12s  (%+.1f%%)\n" extra $((g - b)) "$(awk -v g="$g" -v b="$b" 'BEGIN {print (g / b - 1) * 100}')"
if [ "${PROFILE_KEEP:-0}" = 1 ]; then
	echo "callgrind files: $dir/cg_guard_$((3 * n)).out (guard), $dir/cg_base_$((3 * n)).out (base)"
fi
