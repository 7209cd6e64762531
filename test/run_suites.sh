#!/usr/bin/env bash
# Every test suite on one PostgreSQL major: build and install the extension
# and its command-line client with that major's pg_config, run the pg_regress, isolation, TAP, client and
# demo suites on throwaway clusters as a non-root user, and end with one line
# "N passed, N failed".  test/run_tests.sh calls it once per major, natively
# or inside that major's chroot, after installing what it needs.
#
#   bash test/run_suites.sh [PG_CONFIG]      (default: pg_config of 15)
#
# As root it builds and installs the extension first and runs the suites as
# the user postgres (MG_TEST_USER); as another user it expects the extension
# to be installed already.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
PG_CONFIG=${1:-${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}}
PGBIN=$("$PG_CONFIG" --bindir)
test_user=${MG_TEST_USER:-postgres}

log() { echo "== $*"; }
# pg_regress and pg_isolation_regress print "test x ... ok" up to 16 and
# TAP lines ("ok 1 - x", "not ok 2 - y") from 17 on
count_passed() { grep -cE '\.\.\. ok|^ok [0-9]+ ' "$1"; }
count_failed() { grep -cE '\.\.\. FAILED|^not ok [0-9]+|failed \(ignored\)' "$1"; }

build_log=$(mktemp /tmp/mg_build.XXXXXX)
if [ "$(id -u)" = 0 ]; then
	log "building with $PG_CONFIG ($("$PG_CONFIG" --version))"
	make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	if ! make -s PG_CONFIG="$PG_CONFIG" >"$build_log" 2>&1 ||
		! make -s PG_CONFIG="$PG_CONFIG" install >>"$build_log" 2>&1; then
		cat "$build_log"
		echo "0 passed, 1 failed"
		exit 1
	fi
	# the command-line dry run (client/), beside psql in the major's bindir
	make -s -C client clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	if ! make -s -C client PG_CONFIG="$PG_CONFIG" >>"$build_log" 2>&1 ||
		! make -s -C client PG_CONFIG="$PG_CONFIG" install >>"$build_log" 2>&1; then
		cat "$build_log"
		echo "0 passed, 1 failed"
		exit 1
	fi
	# the test extension of test/t/007_extension_update.pl, beside the real one
	cp test/extension/mg_update_test* "$("$PG_CONFIG" --sharedir)/extension/"
	id "$test_user" >/dev/null 2>&1 || useradd -m "$test_user"
	run_as() { runuser -u "$test_user" -- "$@"; }
else
	run_as() { "$@"; }
fi

# A work directory the test user owns: pg_regress writes results and its
# temporary instance there.
work=$(mktemp -d /tmp/mg_test.XXXXXX)
cp -r sql expected test demo "$work"/
chown -R "$test_user" "$work" 2>/dev/null || true
passed=0
failed=0

# --- the build: a warning is a failure -------------------------------------
if [ "$(id -u)" = 0 ]; then
	if grep -q 'warning:' "$build_log"; then
		log "build has warnings"
		grep -A3 'warning:' "$build_log"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
fi

# --- coverage: every statement node type of this major's headers ----------
log "coverage: statement node types"
bash test/coverage/check_statements.sh "$PG_CONFIG" > "$work/coverage.log" 2>&1
cat "$work/coverage.log"
p=$(grep -cE '^ok [0-9]+' "$work/coverage.log")
f=$(grep -cE '^not ok [0-9]+' "$work/coverage.log")
passed=$((passed + p))
failed=$((failed + f))
if [ "$p" = 0 ]; then failed=$((failed + 1)); fi

# --- pg_regress suites (sql/, expected/; schedule in the Makefile) ---------
tests=$(make -s --no-print-directory PG_CONFIG="$PG_CONFIG" print-regress)
log "pg_regress: $tests"
pg_regress=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
(cd "$work" && run_as "$pg_regress" --temp-instance="$work/tmp_check" \
	--temp-config="$work/test/regress.conf" --bindir="$PGBIN" \
	--inputdir="$work" --outputdir="$work" --dbname=contrib_regression \
	$tests) > "$work/regress.log" 2>&1
cat "$work/regress.log"
p=$(count_passed "$work/regress.log")
f=$(count_failed "$work/regress.log")
passed=$((passed + p))
failed=$((failed + f))
if [ "$p" = 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
if [ -f "$work/regression.diffs" ]; then
	log "regression.diffs"
	head -300 "$work/regression.diffs"
	mkdir -p "$top/test/tmp" && cp "$work/regression.diffs" "$top/test/tmp/" 2>/dev/null
fi

if [ "$failed" != 0 ]; then mkdir -p "$top/test/tmp" && cp -r "$work/results" "$top/test/tmp/" 2>/dev/null; fi
# --- isolation suites (test/specs, test/expected) --------------------------
specs=$(cd test/specs && ls *.spec | sed 's/\.spec$//')
log "isolation: $specs"
pg_isolation_regress=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress
(cd "$work" && run_as "$pg_isolation_regress" --temp-instance="$work/tmp_check_iso" \
	--temp-config="$work/test/isolation.conf" --bindir="$PGBIN" \
	--inputdir="$work/test" --outputdir="$work/output_iso" --dbname=isolation_regression \
	$specs) > "$work/iso.log" 2>&1
cat "$work/iso.log"
p=$(count_passed "$work/iso.log")
f=$(count_failed "$work/iso.log")
passed=$((passed + p))
failed=$((failed + f))
if [ "$p" = 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
if [ -f "$work/output_iso/regression.diffs" ]; then
	log "isolation regression.diffs"
	head -200 "$work/output_iso/regression.diffs"
	mkdir -p "$top/test/tmp" && cp -r "$work/output_iso" "$top/test/tmp/" 2>/dev/null
fi

# --- TAP suites (test/t/*.pl, PostgreSQL::Test::Cluster) -------------------
log "TAP: $(cd test/t && echo *.pl)"
perl_lib=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/perl
(cd "$work" && run_as env PATH="$PGBIN:$PATH" PERL5LIB="$perl_lib" TESTDIR="$work" \
	TESTDATADIR="$work/tmp_check" TESTLOGDIR="$work/tmp_check/log" \
	PG_REGRESS="$pg_regress" prove -v test/t/*.pl) > "$work/tap.log" 2>&1
cat "$work/tap.log"
p=$(grep -cE '^ok [0-9]+' "$work/tap.log")
f=$(grep -cE '^not ok [0-9]+' "$work/tap.log")
passed=$((passed + p))
failed=$((failed + f))
if ! grep -q '^Result: PASS' "$work/tap.log"; then
	failed=$((failed + 1))
	log "TAP logs"
	tail -n 60 "$work"/tmp_check/log/*.log 2>/dev/null
fi

# --- PostgreSQL's own regression suite, with and without the guard --------
# Where this major has it (the assert-enabled build: test/majors/build_cassert.sh)
suite=$("$PG_CONFIG" --bindir)/../regress-suite
if [ -f "$suite/.complete" ]; then
	log "PostgreSQL's regression suite, with and without the guard"
	(cd "$work" && run_as bash test/postgres_suite/run.sh "$PG_CONFIG" "$suite" "$work") \
		> "$work/pgsuite.log" 2>&1
	cat "$work/pgsuite.log"
	p=$(grep -cE '^ok [0-9]+' "$work/pgsuite.log")
	f=$(grep -cE '^not ok [0-9]+' "$work/pgsuite.log")
	passed=$((passed + p))
	failed=$((failed + f))
	if ! grep -qE '^1\.\.[0-9]+$' "$work/pgsuite.log" || [ "$p" = 0 ]; then
		failed=$((failed + 1))
	fi
fi

# --- real clients (test/clients: node-pg-migrate, psql on a Prisma file) --
# Its own cluster and npm project in a temporary directory; npm ci needs the
# npm registry, and a failed install counts as a failure.  A run that stops
# before its "1..N" plan line counts as one more failure.
log "clients: node-pg-migrate, psql"
(cd "$work" && run_as env PGBIN="$PGBIN" bash test/clients/run_clients.sh) > "$work/clients.log" 2>&1
cat "$work/clients.log"
p=$(grep -cE '^ok [0-9]+' "$work/clients.log")
f=$(grep -cE '^not ok [0-9]+' "$work/clients.log")
passed=$((passed + p))
failed=$((failed + f))
if ! grep -qE '^1\.\.[0-9]+$' "$work/clients.log" || { [ "$p" = 0 ] && [ "$f" = 0 ]; }; then
	failed=$((failed + 1))
fi

# --- the demo (demo/run.sh): its story must still hold ----------------------
# On the native 15 as root it runs as a new user would run it: as root, from
# a clone in a directory only root may enter (mode 0700), building and
# installing the library itself; elsewhere as the test user.
if [ "$(id -u)" = 0 ] && [ "$PG_CONFIG" = /usr/lib/postgresql/15/bin/pg_config ]; then
	clone=$(mktemp -d /tmp/mg_clone.XXXXXX)
	tar -C "$top" --exclude=./test/tmp -cf - . | tar -C "$clone" -xf -
	chmod 700 "$clone"		# after tar, which gives it the mode of "."
	log "demo (as root, from $clone, mode $(stat -c %a "$clone"))"
	(cd "$clone" && bash test/demo_check.sh) > "$work/demo.log" 2>&1
	rm -rf "$clone"
else
	log "demo"
	(cd "$work" && run_as env PGBIN="$PGBIN" bash test/demo_check.sh) > "$work/demo.log" 2>&1
fi
cat "$work/demo.log"
p=$(grep -cE '^ok [0-9]+' "$work/demo.log")
f=$(grep -cE '^not ok [0-9]+' "$work/demo.log")
passed=$((passed + p))
failed=$((failed + f))
if ! grep -qE '^1\.\.[0-9]+$' "$work/demo.log" || [ "$p" = 0 ]; then
	failed=$((failed + 1))
fi

# --- the README's plan() example is plan()'s output ---------------------------
log "README: the plan() example"
bash "$top/test/readme/check_plan_example.sh" > "$work/readme.log" 2>&1
cat "$work/readme.log"
p=$(grep -cE '^ok [0-9]+' "$work/readme.log")
f=$(grep -cE '^not ok [0-9]+' "$work/readme.log")
passed=$((passed + p))
failed=$((failed + f))
[ "$p" = 0 ] && [ "$f" = 0 ] && failed=$((failed + 1))

rm -rf "$work" "$build_log"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
