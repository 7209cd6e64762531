#!/usr/bin/env bash
# Real clients against a guarded server: what a developer running a migration
# tool actually sees when migration_guard refuses a statement, and whether the
# tool's bookkeeping stays right.  Prints TAP ("ok N - ..." / "not ok N - ...",
# then "1..N"); test/run_tests.sh counts those lines.
#
#   PGBIN=/usr/lib/postgresql/15/bin bash test/clients/run_clients.sh
#
# Run it as an unprivileged user (initdb refuses root; run_tests.sh runs it as
# postgres).  It needs node and npm (node-pg-migrate is installed from the
# pinned package-lock.json with npm ci; a failed install is a failed test) and
# the extension installed.  Everything lives in one temporary directory: the
# cluster (Unix socket only, so no port can collide with another run), the
# npm project and its cache; it is removed on exit.
#
# Clients:
# - node-pg-migrate (CLI, default options: all pending migrations in one
#   transaction), migrations in node-pg-migrate/, on a table "accounts";
# - psql -v ON_ERROR_STOP=1 on a migration.sql as `prisma migrate dev` writes
#   it (prisma/unsafe/), on a table "Project"; then the file edited as the
#   HINTs say (prisma/safe/).
set -u
here=$(cd "$(dirname "$0")" && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
port=${MG_CLIENTS_PORT:-5477}

if [ "$(id -u)" = 0 ]; then
	echo "Bail out! run as an unprivileged user (test/run_tests.sh runs it as postgres)"
	exit 1
fi

tmp=$(mktemp -d /tmp/mg_clients.XXXXXX)
stop_cluster() {
	"$PGBIN/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap stop_cluster EXIT

# --- TAP ----------------------------------------------------------------
n=0
# check DESCRIPTION COMMAND...: one TAP line from the command's exit status.
check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		[ -n "${show:-}" ] && [ -f "$show" ] && sed 's/^/#   /' "$show" | head -60
	fi
}
# has FILE TEXT: the exact text (not a pattern) occurs in the file; an empty
# TEXT (an expectation that came back empty) never does.
has() { [ -n "$2" ] && grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }
# inspected FILE KEY TEXT: node's util.inspect printed the error property
# KEY: 'TEXT' (it quotes with ', " or ` depending on what TEXT contains).
inspected() {
	local quote
	for quote in "'" '"' '`'; do
		has "$1" "$2: $quote$3$quote" && return 0
	done
	return 1
}
is() { [ "$1" = "$2" ] || { echo "#   got '$1', expected '$2'"; return 1; }; }

# --- the cluster ----------------------------------------------------------
export PGHOST=$tmp PGPORT=$port PGUSER=$(id -un) PGDATABASE=clients
psql() { "$PGBIN/psql" -X "$@"; }
q() { psql -Atq -v ON_ERROR_STOP=1 -c "$1"; }
# expect STATEMENT: the message, DETAIL and HINT the hook gives for it, as
# migration_guard.check() (the same code) reports them right now.
expect() {
	local field
	for field in message detail hint; do
		printf -v "exp_$field" '%s' "$(printf '%s\n' "SELECT $field FROM migration_guard.check(:'stmt') WHERE verdict = 'block';" |
			psql -Atq -v stmt="$1")"
	done
}
# blocked_rows LIKE: refusals the audit log recorded for matching statements.
blocked_rows() {
	printf '%s\n' "SELECT count(*) FROM migration_guard.audit WHERE verdict = 'blocked' AND statement LIKE :'pat';" |
		psql -Atq -v pat="$1"
}

cluster_up() {
	"$PGBIN/initdb" -D "$tmp/data" -A trust -N >"$tmp/initdb.log" 2>&1 || return 1
	# A 1MB threshold lets a 50,000-row table (about 4 MB) count as large.
	cat >>"$tmp/data/postgresql.conf" <<-EOF
	shared_preload_libraries = 'migration_guard'
	migration_guard.max_lock_hold = 0
	migration_guard.large_table_threshold = '1MB'
	listen_addresses = ''
	unix_socket_directories = '$tmp'
	port = $port
	fsync = off
	EOF
	"$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w start >/dev/null || return 1
	psql -q -d postgres -c 'CREATE DATABASE clients' || return 1
	psql -q -v ON_ERROR_STOP=1 <<-'EOF'
	CREATE EXTENSION migration_guard;
	-- node-pg-migrate's tables
	CREATE TABLE orgs (id bigint PRIMARY KEY, name text NOT NULL);
	INSERT INTO orgs SELECT g, 'org ' || g FROM generate_series(1, 100) g;
	CREATE TABLE accounts (id bigint PRIMARY KEY, org_id bigint, email text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now());
	INSERT INTO accounts (id, org_id, email)
		SELECT g, 1 + g % 100, 'user' || g || '@example.com' FROM generate_series(1, 50000) g;
	-- Prisma's table: quoted camelCase names, text cuid-like ids
	CREATE TABLE "Project" (
		"id" TEXT NOT NULL,
		"name" TEXT NOT NULL,
		"createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
		CONSTRAINT "Project_pkey" PRIMARY KEY ("id"));
	INSERT INTO "Project" ("id", "name")
		SELECT 'cl' || substr(md5(g::text), 1, 23), 'Project ' || g FROM generate_series(1, 50000) g;
	ANALYZE;
	EOF
}
show=$tmp/initdb.log
check "a guarded cluster starts (initdb, shared_preload_libraries, CREATE EXTENSION, fixtures)" cluster_up
show=""
check "accounts and \"Project\" are above migration_guard.large_table_threshold" \
	is "$(q "SELECT least(pg_table_size('accounts'), pg_table_size('\"Project\"'))
		> pg_size_bytes(current_setting('migration_guard.large_table_threshold'))")" t

# --- node-pg-migrate ------------------------------------------------------
npm_dir=$tmp/npm
mkdir -p "$npm_dir/migrations"
cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
# npm writes its cache under $HOME, which may be root's (runuser keeps HOME).
# Short retries: an unreachable registry fails in seconds, not in a minute.
export npm_config_cache=$tmp/npm-cache npm_config_update_notifier=false \
	npm_config_fund=false npm_config_audit=false \
	npm_config_fetch_retries=2 npm_config_fetch_retry_mintimeout=1000 npm_config_fetch_retry_maxtimeout=4000
[ -r "${HOME:-/nonexistent}/.npmrc" ] || export npm_config_userconfig=$tmp/npmrc
npm_ci() {
	(cd "$npm_dir" && timeout 60 npm ci --no-progress --loglevel=error) >"$tmp/npm.log" 2>&1 &&
		is "$(node -p 'require(process.argv[1]).version' "$npm_dir/node_modules/node-pg-migrate/package.json")" 8.0.4
}
show=$tmp/npm.log
check "npm ci installs node-pg-migrate 8.0.4 from package-lock.json" npm_ci

# stage FILE[:AS]...: put migrations in the tool's directory, as a developer
# adds a file or edits one the tool refused.
stage() {
	local f
	for f in "$@"; do cp "$here/node-pg-migrate/${f%%:*}" "$npm_dir/migrations/${f#*:}"; done
}
# migrate [OPTIONS]: `node-pg-migrate up`; what the user sees (stdout and
# stderr, as in a terminal) goes to $out, the exit status to $rc.
migrate() {
	out=$tmp/migrate.$n.log
	(cd "$npm_dir" && node node_modules/node-pg-migrate/bin/node-pg-migrate.js up -m migrations "$@") >"$out" 2>&1
	rc=$?
	show=$out
}
recorded() { q "SELECT count(*) FROM pgmigrations WHERE name = '$1'"; }

# 1. A plain CREATE INDEX on a large table.
stage 1700000000001_accounts-email-index.unsafe.js:1700000000001_accounts-email-index.js
migrate
check "node-pg-migrate: CREATE INDEX without CONCURRENTLY fails the migration (exit 1)" \
	eval '[ "$rc" = 1 ] && has "$out" "### MIGRATION 1700000000001_accounts-email-index (UP)"'
stmt=$(q "SELECT statement FROM migration_guard.audit WHERE verdict = 'blocked' AND command = 'CREATE INDEX' ORDER BY logged_at DESC LIMIT 1")
expect "$stmt"
# node-pg-migrate prints "error: <message>" under "Error executing: <sql>",
# then console.error(err): util.inspect of pg's DatabaseError, which lists
# its fields (code, detail, hint, ...).  That is all the user gets.
check "node-pg-migrate shows our message" has "$out" "error: $exp_message"
check "node-pg-migrate shows our DETAIL (detail: '...')" inspected "$out" detail "$exp_detail"
hint_shown() { inspected "$out" hint "$exp_hint" && has "$out" "To run it anyway: SET migration_guard.allow = 'create_index';"; }
check "node-pg-migrate shows our HINT with the override (hint: '...')" hint_shown
check "node-pg-migrate shows SQLSTATE MG001 (code: 'MG001')" has "$out" "code: 'MG001'"
check "pgmigrations did not record the refused migration" is "$(recorded 1700000000001_accounts-email-index)" 0
check "the index was not built" is "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 'accounts_email_index'")" 0
check "migration_guard.audit has a 'blocked' row for the tool's CREATE INDEX" \
	is "$(blocked_rows 'CREATE INDEX "accounts_email_index" ON "accounts"%')" 1

# 2. The same migration edited: noTransaction() + concurrently.
stage 1700000000001_accounts-email-index.safe.js:1700000000001_accounts-email-index.js
migrate
succeeded() { [ "$rc" = 0 ] && has "$out" "Migrations complete!"; }
check "node-pg-migrate: CREATE INDEX CONCURRENTLY with pgm.noTransaction() succeeds" \
	eval 'succeeded && has "$out" "CREATE INDEX CONCURRENTLY"'
check "pgmigrations recorded it and the index is valid" \
	is "$(recorded 1700000000001_accounts-email-index):$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email_index'::regclass")" 1:t

# 3. A batch of two: a harmless column, then a validated foreign key.
stage 1700000000002_accounts-note.js 1700000000003_accounts-org-fk.unsafe.js:1700000000003_accounts-org-fk.js
migrate
expect "$(q "SELECT statement FROM migration_guard.audit WHERE verdict = 'blocked' AND command = 'ALTER TABLE' ORDER BY logged_at DESC LIMIT 1")"
refusal_shown() {
	[ "$rc" = 1 ] && [ -n "$exp_hint" ] && has "$out" "error: $exp_message" && inspected "$out" detail "$exp_detail" &&
		inspected "$out" hint "$exp_hint" && has "$out" "code: 'MG001'"
}
check "node-pg-migrate: ADD FOREIGN KEY without NOT VALID fails with message, DETAIL, HINT (NOT VALID + VALIDATE), MG001" \
	eval 'refusal_shown && has "$out" "NOT VALID; migration_guard.check() shows them all"'
# The CLI's default --single-transaction: the whole batch rolls back.
check "single transaction: neither migration of the batch is recorded, the column is not there" \
	is "$(recorded 1700000000002_accounts-note):$(recorded 1700000000003_accounts-org-fk):$(q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'note'")" 0:0:0
check "migration_guard.audit has a 'blocked' row for the tool's ADD CONSTRAINT" \
	is "$(blocked_rows '%ADD CONSTRAINT "accounts_org_id_fkey" FOREIGN KEY%')" 1
# --no-single-transaction: BEGIN/COMMIT per migration.  The earlier one stays;
# on the refusal the tool sends no ROLLBACK (the session ends in the aborted
# transaction, and pg_advisory_unlock fails there: a second error printed).
migrate --no-single-transaction
check "--no-single-transaction: refused again (exit 1); the earlier migration is recorded, the refused one is not" \
	is "$rc:$(recorded 1700000000002_accounts-note):$(recorded 1700000000003_accounts-org-fk):$(blocked_rows '%ADD CONSTRAINT "accounts_org_id_fkey" FOREIGN KEY%')" 1:1:0:2

# 4. The foreign key edited: NOT VALID, then VALIDATE in the next migration.
stage 1700000000003_accounts-org-fk.safe.js:1700000000003_accounts-org-fk.js 1700000000004_accounts-org-fk-validate.js
migrate
check "node-pg-migrate: NOT VALID + VALIDATE CONSTRAINT succeeds" succeeded
check "pgmigrations recorded both and the foreign key is validated" \
	is "$(recorded 1700000000003_accounts-org-fk):$(recorded 1700000000004_accounts-org-fk-validate):$(q "SELECT convalidated FROM pg_constraint WHERE conname = 'accounts_org_id_fkey'")" 1:1:t

# --- psql on a Prisma migration.sql ---------------------------------------
unsafe=$here/prisma/unsafe/migration.sql
safe=$here/prisma/safe/migration.sql
# -1: all or nothing, as Prisma applies a migration; -e echoes each statement
# as psql sends it, so the log shows where it stopped.
out=$tmp/psql_unsafe.log
psql -1 -v ON_ERROR_STOP=1 -e -f "$unsafe" >"$out" 2>&1
rc=$?
show=$out
expect 'CREATE INDEX "Project_organizationId_idx" ON "Project"("organizationId")'
line=$(grep -n '^CREATE INDEX' "$unsafe" | cut -d: -f1)
check "psql -1 -v ON_ERROR_STOP=1: exit code 3" is "$rc" 3
fields_shown() { has "$out" "$unsafe:$line: ERROR:  $exp_message" && has "$out" "DETAIL:  $exp_detail" && has "$out" "HINT:  $exp_hint"; }
check "psql prints ERROR, DETAIL and HINT at the CREATE INDEX line" fields_shown
stopped() { has "$out" 'CREATE INDEX "Project_organizationId_idx"' && hasnt "$out" Project_organizationId_fkey; }
check "psql stopped there: the AddForeignKey statement after it was never sent" stopped
check "nothing of the file persisted (-1): no \"Organization\", no \"organizationId\"" \
	is "$(q "SELECT to_regclass('\"Organization\"') IS NULL AND NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = '\"Project\"'::regclass AND attname = 'organizationId')")" t
check "migration_guard.audit has a 'blocked' row for the CREATE INDEX" \
	is "$(blocked_rows 'CREATE INDEX "Project_organizationId_idx"%')" 1
out=$tmp/psql_verbose.log
psql -1 -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -f "$unsafe" >"$out" 2>&1
rc=$?
show=$out
sqlstate_shown() { has "$out" "ERROR:  MG001: $exp_message"; }
check "psql -v VERBOSITY=verbose shows SQLSTATE MG001 (ERROR:  MG001: ...)" eval '[ "$rc" = 3 ] && sqlstate_shown'
# As prisma migrate deploy sends a migration (prisma-engines' Postgres
# connector: one simple_query(script)): the whole file as one multi-statement
# query, an implicit transaction.  Known wart, not asserted: the HINT then
# starts with the "-- CreateIndex" comment that precedes the statement.
out=$tmp/psql_onequery.log
psql -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$(cat "$unsafe")" >"$out" 2>&1
rc=$?
show=$out
one_query_refused() {
	[ "$rc" = 1 ] && sqlstate_shown && has "$out" "DETAIL:  $exp_detail" &&
		has "$out" 'CREATE INDEX CONCURRENTLY "Project_organizationId_idx"' && has "$out" "migration_guard.allow = 'create_index'" &&
		[ "$(q "SELECT to_regclass('\"Organization\"') IS NULL")" = t ]
}
check "the file as one query string: refused (exit 1, MG001, DETAIL, HINT), nothing persisted" one_query_refused

out=$tmp/psql_safe.log
blocked_before=$(blocked_rows '%')
psql -v ON_ERROR_STOP=1 -f "$safe" >"$out" 2>&1
rc=$?
show=$out
check "the edited file (CONCURRENTLY, NOT VALID + VALIDATE) runs with exit 0" eval '[ "$rc" = 0 ] && hasnt "$out" ERROR'
check "its index is valid and its foreign key validated; no new refusal" \
	is "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = '\"Project_organizationId_idx\"'::regclass"):$(q "SELECT convalidated FROM pg_constraint WHERE conname = 'Project_organizationId_fkey'"):$(blocked_rows '%')" "t:t:$blocked_before"

echo "1..$n"
