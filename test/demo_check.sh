#!/usr/bin/env bash
# Plays the demo (demo/run.sh) and checks that its story still holds, as TAP
# lines: the naive migration's statements that would block the app longer
# than max_lock_hold are refused, the others run; the phased
# plan runs without an error while the simulated app writes, the audit shows
# the refusals, and the lock report shows the queue.
#
#   bash test/demo_check.sh        (from the repository; as root or the test user)
cd "$(dirname "$0")/.."
out=$(mktemp /tmp/mg_demo_check.XXXXXX)
trap 'rm -f "$out"' EXIT
n=0
check() {	# description, then a command that succeeds when it holds
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fi
}
chapter() { sed -n "/^== $1/,/^== /p" "$out"; }
count() { grep -cE "$1" || true; }

bash demo/run.sh >"$out" 2>&1
rc=$?
check "demo/run.sh exits 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -n 30 "$out"

naive=$(chapter "2\\.")
check "the dry run of the naive migration blocks 2 statements by time: the rewrite and the index build" \
	[ "$(echo "$naive" | count '\| block *$')" = 2 -a \
	  "$(echo "$naive" | count '\| add_column_rewrite +\| block *$|\| create_index +\| block *$')" = 2 ]
check "running it refuses the same 2, each with its predicted hold, DETAIL and HINT" \
	[ "$(echo "$naive" | count '^ERROR: .*(blocking (reads and writes|writes) for|block.*, for) about [0-9]')" = 2 \
	  -a "$(echo "$naive" | count '^ERROR: ')" = 2 -a "$(echo "$naive" | count '^DETAIL: ')" -ge 2 \
	  -a "$(echo "$naive" | count '^HINT: .*SET migration_guard.allow')" -ge 2 ]
check "SET NOT NULL and the foreign key of \"Project\" run: their scans are short" \
	[ "$(echo "$naive" | count '^ERROR: .*(SET NOT NULL|foreign key)')" = 0 ]
check "the backfill UPDATE in the same transaction gets the exclusive_lock_held warning" \
	[ "$(echo "$naive" | count '^WARNING:  UPDATE runs while this transaction holds an ACCESS EXCLUSIVE lock')" = 1 ]
check "the refusals carry SQLSTATE MG001" \
	[ "$(echo "$naive" | count 'SQLSTATE of the last refusal: MG001')" = 1 ]

phased=$(chapter "3\\.")
check "the phased plan runs without an ERROR" [ "$(echo "$phased" | count '^ERROR')" = 0 ]
check "the backfill reaches every project" \
	[ "$(echo "$phased" | count '^backfilled 180000 organizations and 7[0-9]{5} projects')" = 1 ]
check "the app kept writing during the migration, without an error" \
	[ "$(echo "$phased" | count 'the app wrote [1-9][0-9]* new projects')" = 1 \
	  -a "$(echo "$phased" | count '\(0 errors in its log\)')" = 1 ]
check "the contract step warns about the dropped column" \
	[ "$(echo "$phased" | count '^WARNING:  dropping column "userId" of table "Project"')" = 1 ]

audit=$(chapter "4\\.")
check "the audit keeps the 2 refusals although their transaction rolled back" \
	[ "$(echo "$audit" | count '\| blocked +\|.*\| aborted +\|')" = 2 ]
check "the audit has no refusal or timeout during the phased plan" \
	[ "$(echo "$audit" | count '\| (blocked|timed_out) +\|.*\| committed')" = 0 ]

locks=$(chapter "5\\.")
check "the ALTER behind the idle transaction is refused by lock_queue" \
	[ "$(echo "$locks" | count '^ERROR:  ALTER TABLE would wait for a lock on table "Project" behind a long-running transaction')" = 1 ]
check "lock_tree shows the console, the queued deploy and the queued read" \
	[ "$(echo "$locks" | count '^ pid [0-9]+ \(postgres / sql-console, idle in transaction|└─ waits for AccessExclusiveLock on "Project": pid [0-9]+ \(postgres / deploy|└─ waits for AccessShareLock on "Project": pid [0-9]+ \(postgres / nextjs-api')" = 3 ]
check "the deploy with its own lock_timeout gave up" \
	[ "$(echo "$locks" | count 'canceling statement due to lock timeout')" = 1 ]
echo "1..$n"
