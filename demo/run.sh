#!/usr/bin/env bash
# The migration_guard demo: one command, a short story in the terminal.
#
#   bash demo/run.sh [--keep]        (or: make demo, make demo KEEP=1)
#
# As root on Debian bookworm it installs what is missing (PostgreSQL 15 and
# its headers, a compiler), builds and installs the extension, starts a
# throwaway cluster with the library preloaded (as the postgres user, in a
# temporary directory, Unix socket only), and plays the scenario of
# ../shared/seeds/000: a SaaS with "User" (180,000 rows) and "Project"
# (720,000 rows) introduces organizations.  Run by another user it skips the
# install and expects the extension to be installed already.
#
# --keep leaves the cluster running and prints how to connect; otherwise it
# is stopped and deleted at the end.  The SQL it plays is in demo/*.sql.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
keep=0
for arg in "$@"; do
	case "$arg" in
		--keep) keep=1 ;;
		*) echo "usage: bash demo/run.sh [--keep]" >&2; exit 2 ;;
	esac
done
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
started=$(date +%s)

# --- how the story is told ------------------------------------------------
if [ -t 1 ]; then
	bold=$'\e[1m'; dim=$'\e[2m'; blue=$'\e[34m'; reset=$'\e[0m'
else
	bold=""; dim=""; blue=""; reset=""
fi
chapter() { printf '\n%s%s== %s ==%s\n\n' "$bold" "$blue" "$*" "$reset"; }
say() { printf '%s\n' "$*" | fold -s -w 92; echo; }
step() { printf '%s$ %s%s\n' "$dim" "$*" "$reset"; }

# --- install and build (root only) ----------------------------------------
if [ "$(id -u)" = 0 ]; then
	need=""
	for pkg in postgresql-15 postgresql-server-dev-15 postgresql-contrib make gcc; do
		dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
	done
	if [ -n "$need" ]; then
		echo "installing:$need"
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
	fi
	echo "building and installing migration_guard"
	if ! { make -s with_llvm=no && make -s with_llvm=no install; } >/tmp/mg_demo_build.log 2>&1; then
		cat /tmp/mg_demo_build.log
		exit 1
	fi
	id postgres >/dev/null 2>&1 || useradd -m postgres
	run_as() { runuser -u postgres -- "$@"; }
	owner=postgres
else
	[ -f "$($PGBIN/pg_config --pkglibdir)/migration_guard.so" ] || {
		echo "migration_guard is not installed: run this as root, or 'make install' first" >&2
		exit 1
	}
	run_as() { "$@"; }
	owner=$(id -un)
fi

# --- a throwaway cluster ----------------------------------------------------
# Everything runs from a copy of demo/ in the cluster's directory: the
# postgres user may not be able to enter the clone (as root, /root/... or a
# mktemp -d is mode 0700).
dir=$(mktemp -d /tmp/mg_demo.XXXXXX)
cp -r "$top/demo" "$dir/demo"
chown -R "$owner" "$dir"
cd "$dir"
port=5432
stop_cluster() {
	[ -n "${app_pid:-}" ] && kill "$app_pid" 2>/dev/null
	[ -n "${holder_pid:-}" ] && exec 3>&-
	if [ "$keep" = 0 ]; then
		run_as $PGBIN/pg_ctl -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$dir"
	fi
}
trap stop_cluster EXIT
echo "starting a throwaway PostgreSQL $($PGBIN/pg_config --version | sed "s/^PostgreSQL //") cluster in $dir"
run_as $PGBIN/initdb -D "$dir/data" -U postgres --auth=trust >"$dir/initdb.log" 2>&1
cat >>"$dir/data/postgresql.conf" <<EOF
shared_preload_libraries = 'migration_guard'
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
# the defaults, spelled out: what the story relies on
migration_guard.mode = enforce
migration_guard.large_table_threshold = '10MB'
migration_guard.lock_timeout = '2s'
migration_guard.max_lock_hold = '250ms'
migration_guard.lock_holder_age = '1s'
EOF
run_as $PGBIN/pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null

# psql as the story's developer: errors with DETAIL and HINT, no location
# prefix, stdout and stderr in the order they happen.
psql_raw() { run_as $PGBIN/psql -X -q -h "$dir" -p "$port" -U postgres "$@"; }
sql() {
	run_as stdbuf -oL -eL $PGBIN/psql -X -q -h "$dir" -p "$port" -U postgres -d saas \
		-v VERBOSITY=default -v SHOW_CONTEXT=never "$@" 2>&1 |
		sed -u -E 's/^psql:[^:]*:[0-9]+: //'
}
value() { psql_raw -d saas -A -t -c "$1"; }

psql_raw -d postgres -c 'CREATE DATABASE saas' >/dev/null
psql_raw -d saas -c 'CREATE EXTENSION migration_guard' >/dev/null

# --- the story ----------------------------------------------------------------
chapter "1. A healthy SaaS database"
say "A Next.js app with Prisma on PostgreSQL 15. Sixty API routes read and write \"Project\"; \
peak traffic tolerates 30 seconds of slowness, not downtime. Loading the data: one \
transaction creates the tables, fills them and builds their indexes. The guard lets all \
of it through in silence, because nobody else can see a table created in the same \
transaction."
sql -f demo/00_schema.sql
psql_raw -d saas -c 'VACUUM ANALYZE' >/dev/null
# the app is live: it reads its tables (on a table no session has used yet,
# the guard lets everything through: nobody would wait)
psql_raw -d saas -c 'SELECT count(*) FROM "User", "Project" WHERE false' >/dev/null
sql -c "SELECT relname AS table, to_char(reltuples, 'FM999,999,999') AS rows,
               pg_size_pretty(pg_table_size(oid)) AS size
          FROM pg_class WHERE relname IN ('User', 'Project') ORDER BY relname DESC"

chapter "2. The naive migration"
say "The change: introduce organizations; every project owned by an org, team accounts \
next month. A developer writes it the way Prisma generates it and adds the data \
migration by hand (demo/10_naive_migration.sql). First a dry run: \
migration_guard.check() reads the whole file, executes nothing, and says what each \
statement would do to the tables it touches, and how long it would hold its lock \
(hold_ms: the work's size over the rate of that kind of work)."
step "SELECT ... FROM migration_guard.check(pg_read_file('migration.sql'))"
sql -v script="$(cat demo/10_naive_migration.sql)" <<'EOF'
SELECT statement AS "#", command, relation, lock_mode, rewrite, scan,
       pg_size_pretty(table_bytes) AS size, round(predicted_seconds * 1000) AS hold_ms,
       rule, verdict
  FROM migration_guard.check(:'script');
EOF
say "Two statements would hold a lock that blocks the app for longer than \
migration_guard.max_lock_hold (250 ms): the rewrite of \"User\" and the index build on \
\"Project\". SET NOT NULL and the foreign key scan \"Project\" too, for less than \
the limit by the guard's prediction: it lets them run. (The warnings are for statements that would run \
while the transaction holds an ACCESS EXCLUSIVE lock it took earlier.)"
say "Now for real, in one transaction, as Rails, Django, Flyway and Prisma up to 7.3 run a migration file. psql's \
ON_ERROR_ROLLBACK lets the transaction go on past each refusal so that we see all of \
them; a migration tool would stop at the first. Each refused statement gets SQLSTATE MG001, \
a DETAIL that names the table, its size, the lock and what it blocks, and a HINT with \
the safe SQL built from the statement itself."
sql -a -v ON_ERROR_ROLLBACK=on <<EOF
BEGIN;
$(sed -n '/^-- CreateTable/,$p' demo/10_naive_migration.sql)
\echo
\echo '-- the SQLSTATE of the last refusal:' :LAST_ERROR_SQLSTATE
ROLLBACK;
EOF
say "Nothing changed: the transaction rolled back. The guard's refusals are kept all the \
same (migration_guard.audit, below)."
# autovacuum's work, done now: the rolled-back UPDATE left a dead version of
# every project, which would double what the scans below read
psql_raw -d saas -c 'VACUUM "Project"' >/dev/null

chapter "3. The phased plan"
say "migration_guard.plan() turns the same file into the steps of a safe plan, computed \
from the catalog by the path the guard itself takes: expand, backfill, constrain, and \
(weeks later) contract. Each step is one query, with the lock it takes, whether it holds \
it an instant, per batch or in proportion to the table, and a query that verifies it; \
CONCURRENTLY and the backfill() calls run on their own, outside a transaction block."
step "SELECT ... FROM migration_guard.plan(pg_read_file('migration.sql'))"
naive=$(sed -n '/^-- CreateTable/,$p' demo/10_naive_migration.sql)
sql -v script="$naive" <<'EOF'
SELECT step, phase, left(regexp_replace(sql, '\s+', ' ', 'g'), 64) AS sql,
       outside_transaction AS alone, lock_mode, lock_hold, pg_size_pretty(table_bytes) AS size
  FROM migration_guard.plan(:'script');
EOF
# The plan as it is now, before its first step changes the catalog: one
# record per step, phase and SQL separated by a unit separator, each
# record ended by a NUL.
readarray -d '' plan < <(psql_raw -d saas -A -t -0 -v script="$naive" <<'EOF'
SELECT phase || chr(31) || sql FROM migration_guard.plan(:'script') ORDER BY step;
EOF
)
# run_phase PHASE: each step of that phase as one query, in order
run_phase() {
	local rec
	for rec in "${plan[@]}"; do
		[ "${rec%%$'\x1f'*}" = "$1" ] || continue
		step "${rec#*$'\x1f'}"
		sql -v ON_ERROR_STOP=1 -c "${rec#*$'\x1f'}"
	done
	echo
}

say "Expand: the new tables with their keys and indexes while they are empty, the new \
columns without a rewrite (the invitation code's volatile default applies to new rows \
only), the index on \"Project\" built CONCURRENTLY."
run_phase expand

say "The app is deployed to write \"organizationId\" on every new project \
(demo/app_dual_write.pgbench: pgbench at 20 transactions a second stands in for the \
app). It keeps running until the constraints are in place."
before_app=$(value 'SELECT count(*) FROM "Project"')
run_as $PGBIN/pgbench -n -h "$dir" -p "$port" -U postgres -R 20 -T 600 \
	-f demo/app_dual_write.pgbench saas >"$dir/app.log" 2>&1 &
app_pid=$!

say "Backfill: migration_guard.backfill() walks the primary key, each batch its own \
transaction of about 200 ms; the organizations and memberships go into tables that no \
deployed code reads yet."
t0=$(date +%s%N)
run_phase backfill
printf 'backfilled %s organizations and %s projects in %d ms\n\n' \
	"$(value 'SELECT count(*) FROM "Organization"')" \
	"$(value "SELECT count(*) FROM \"Project\" WHERE \"organizationId\" IS NOT NULL")" \
	$((($(date +%s%N) - t0) / 1000000))

say "Constrain. The guard stays silent: the invitation code's CHECK is validated under \
SHARE UPDATE EXCLUSIVE, which blocks no read or write, and proves its SET NOT NULL, so \
PostgreSQL does not scan again; the SET NOT NULL and the foreign key of \"Project\" run \
as written, their scans predicted under the limit. (The audit below shows what they really \
held: the foreign key's prediction is known to be low, docs/hold-time.md.)"
run_phase constrain

kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true
app_pid=""
say "Meanwhile the app wrote $(($(value 'SELECT count(*) FROM "Project"') - before_app)) \
new projects, each with its organization, and none of its statements failed \
($(grep -c 'ERROR' "$dir/app.log" || true) errors in its log)."

say "Contract (demo/50_contract.sql), weeks later, once no deployed code uses \
\"Project\".\"userId\". Catalog-only, but the dry run shows a lock the statement does \
not name: dropping the column drops its foreign key, and that takes ACCESS EXCLUSIVE on \
\"User\" as well. Its plan says which deploy must come first."
sql -v script="$(cat demo/50_contract.sql)" <<'EOF'
SELECT statement AS "#", command, relation, lock_mode, rewrite, scan, rule, verdict
  FROM migration_guard.check(:'script');
SELECT step, phase, sql, deploy_before FROM migration_guard.plan(:'script');
EOF
say "The guard lets it run, with a warning: a dropped column breaks any code still \
reading it."
sql -a -v ON_ERROR_STOP=1 -f demo/50_contract.sql

chapter "4. The audit: what happened during the deploy"
say "migration_guard.audit has a row for every DDL statement on an existing table: what \
ran, what was refused (kept although its transaction rolled back), who, how long each \
waited for its lock (the app's transactions hold locks on \"Project\" for a moment) and how \
long it then ran holding it. A CREATE TABLE with a foreign key shows up as an ALTER TABLE \
of the table it references: that is the lock it takes there."
sql <<'EOF'
SELECT to_char(logged_at, 'HH24:MI:SS') AS at, verdict,
       coalesce(array_to_string(rules, ','), '') AS rules, relation_name AS relation,
       lock_mode, round(lock_wait_ms) AS waited_ms, round(held_ms) AS held_ms, transaction,
       left(regexp_replace(statement, '\s+', ' ', 'g'), 58) AS statement
  FROM migration_guard.audit
 ORDER BY logged_at, id;
EOF

chapter "5. A one-millisecond ALTER behind a forgotten transaction"
say "Someone opened a transaction in a SQL console an hour ago, read \"Project\", and went \
to lunch (here: two seconds ago; migration_guard.lock_holder_age is 1 s). Their \
ACCESS SHARE lock is harmless on its own. But an ALTER TABLE that \
queues for ACCESS EXCLUSIVE behind it makes every later query on \"Project\" queue \
behind the ALTER: the whole app stops."
# The console: a psql fed through a FIFO, so that its transaction stays open
# and idle until the FIFO is closed.
mkfifo "$dir/console"
chown "$owner" "$dir/console"
run_as $PGBIN/psql -X -q -h "$dir" -p "$port" -U postgres -d saas \
	<"$dir/console" >/dev/null 2>&1 &
holder_pid=$!
exec 3>"$dir/console"
printf '%s\n' "SET application_name = 'sql-console';" 'BEGIN;' \
	'SELECT count(*) FROM "Project";' >&3
sleep 2
step "ALTER TABLE \"Project\" ADD COLUMN \"archivedAt\" TIMESTAMP(3);"
sql -c 'ALTER TABLE "Project" ADD COLUMN "archivedAt" TIMESTAMP(3)'
say "The guard refused at once instead of queueing. The lock report shows the same \
picture; here a deploy that set its own lock_timeout (the guard lets a session that \
chose to wait do so) is queued behind the console, and the app's next read is \
queued behind the deploy:"
run_as $PGBIN/psql -X -q -h "$dir" -p "$port" -U postgres -d saas \
	-c "SET application_name = 'deploy'" -c "SET lock_timeout = '4s'" \
	-c 'ALTER TABLE "Project" ADD COLUMN "archivedAt" TIMESTAMP(3)' >"$dir/deploy.log" 2>&1 &
deploy_pid=$!
sleep 1
run_as $PGBIN/psql -X -q -h "$dir" -p "$port" -U postgres -d saas \
	-c "SET application_name = 'nextjs-api'" \
	-c 'SELECT count(*) FROM "Project" WHERE "name" = $$x$$' >/dev/null 2>&1 &
reader_pid=$!
sleep 1
sql <<'EOF'
SELECT * FROM migration_guard.lock_tree();
SELECT relation, mode, granted, pid, application_name, state, xact_age
  FROM migration_guard.locks WHERE relation = '"Project"'::regclass
 ORDER BY granted DESC, pid;
EOF
wait "$deploy_pid" 2>/dev/null || true
wait "$reader_pid" 2>/dev/null || true
exec 3>&-
wait "$holder_pid" 2>/dev/null || true
holder_pid=""
say "The deploy gave up after its own 4 s lock_timeout, and the read went through. \
What the deploy saw:"
sed -E 's/^psql:[^:]*:[0-9]+: //' "$dir/deploy.log"
echo
say "Without \
the guard's own lock_timeout (2 s, for every statement that takes SHARE or stronger) \
and the lock_queue rule, that queue lasts as long as the console stays open."

chapter "The end"
elapsed=$(($(date +%s) - started))
say "Demo finished in ${elapsed} s. The SQL it played is in demo/; the rules, settings \
and reports are explained in README.md."
if [ "$keep" = 1 ]; then
	say "The cluster is still running. Connect with:"
	echo "    psql -h $dir -p $port -U postgres saas"
	echo
	echo "Stop it with:"
	echo "    runuser -u $owner -- $PGBIN/pg_ctl -D $dir/data stop && rm -rf $dir"
fi
