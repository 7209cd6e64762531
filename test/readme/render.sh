#!/usr/bin/env bash
# Reproduce the output shown in docs/rules.md, the rules reference.
#
#   bash test/readme/render.sh        (as root or as postgres)
#
# Starts a throwaway PostgreSQL 15 cluster (a temporary directory, Unix
# socket only, port $MG_README_PORT or 5655) with the library preloaded,
# creates the extension, loads test/readme/fixture.sql and runs
# test/readme/examples.sql with psql, echoing each statement before its
# output; prints that output and removes the cluster.  A maintainer's tool,
# not a test: copy what it prints into docs/rules.md (wrapped at about 100
# characters).  The lock_queue example's process id and transaction age
# differ from run to run.  Expects migration_guard to be installed
# (make && make install).
set -eu
cd "$(dirname "$0")"
here=$(pwd)
PGBIN=/usr/lib/postgresql/15/bin
port=${MG_README_PORT:-5655}

[ -f "$($PGBIN/pg_config --pkglibdir)/migration_guard.so" ] || {
	echo "migration_guard is not installed: make && make install" >&2
	exit 1
}
if [ "$(id -u)" = 0 ]; then
	run_as() { runuser -u postgres -- "$@"; }
elif [ "$(id -un)" = postgres ]; then
	run_as() { "$@"; }
else
	echo "run this as root or as postgres" >&2
	exit 1
fi

dir=$(mktemp -d /tmp/mg_readme.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$dir"
cleanup() {
	run_as $PGBIN/pg_ctl -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run_as $PGBIN/initdb -D "$dir/data" -U postgres --auth=trust --no-locale -E UTF8 \
	>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<EOF
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
timezone = 'UTC'
EOF
run_as $PGBIN/pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ||
	{ cat "$dir/server.log" >&2; exit 1; }

psql() { run_as $PGBIN/psql -X -q -h "$dir" -p "$port" -U postgres "$@"; }
psql -d postgres -c 'CREATE DATABASE readme' >/dev/null
psql -d readme -c 'CREATE EXTENSION migration_guard' >/dev/null
# the files are read by this shell, not by the postgres user
psql -d readme -v ON_ERROR_STOP=1 <"$here/fixture.sql" >"$dir/fixture.log" 2>&1 ||
	{ cat "$dir/fixture.log" >&2; exit 1; }

# Every input line echoed (-a), messages in the order they come, without
# psql's "psql:<stdin>:LINE: " prefix.
run_as stdbuf -oL -eL $PGBIN/psql -X -q -a -h "$dir" -p "$port" -U postgres -d readme \
	-v ON_ERROR_STOP=0 <"$here/examples.sql" 2>&1 |
	sed -E 's/^psql:[^:]*:[0-9]+: //'
