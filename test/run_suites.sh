#!/usr/bin/env bash
# The whole test command: install what is missing, build, install the
# extension, run every suite on a throwaway cluster as a non-root user, and
# end with one line "N passed, N failed".
#
#   sudo bash test/run_tests.sh        (as root on a fresh Debian bookworm)
#
# Run as a non-root user it skips the package and install steps and expects
# the extension to be installed already.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin
test_user=${MG_TEST_USER:-postgres}

log() { echo "== $*"; }

if [ "$(id -u)" = 0 ]; then
	need=""
	for pkg in postgresql-$PGVER postgresql-server-dev-$PGVER postgresql-contrib postgresql-$PGVER-pgaudit make gcc libipc-run-perl; do
		dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
	done
	# the client tests need node and npm (any recent nodejs; Debian splits npm off)
	command -v node >/dev/null 2>&1 || need="$need nodejs"
	command -v npm >/dev/null 2>&1 || need="$need npm"
	if [ -n "$need" ]; then
		log "installing:$need"
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null || { echo "apt-get failed"; echo "0 passed, 1 failed"; exit 1; }
	fi
	log "building"
	make -s clean >/dev/null 2>&1
	if ! make -s with_llvm=no >/tmp/mg_build.log 2>&1 || ! make -s with_llvm=no install >>/tmp/mg_build.log 2>&1; then
		cat /tmp/mg_build.log
		echo "0 passed, 1 failed"
		exit 1
	fi
	grep 'warning:' /tmp/mg_build.log && log "build has warnings"
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

# --- pg_regress suites (sql/, expected/; schedule in the Makefile) ---------
tests=$(sed -n 's/^REGRESS = //p' Makefile)
log "pg_regress: $tests"
pg_regress=$($PGBIN/pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress
(cd "$work" && run_as "$pg_regress" --temp-instance="$work/tmp_check" \
	--temp-config="$work/test/regress.conf" --bindir="$PGBIN" \
	--inputdir="$work" --outputdir="$work" --dbname=contrib_regression \
	$tests) > "$work/regress.log" 2>&1
cat "$work/regress.log"
p=$(grep -cE '^(ok|test) .* ok( |$)|\.\.\. ok' "$work/regress.log")
f=$(grep -cE 'FAILED|failed \(ignored\)' "$work/regress.log")
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
pg_isolation_regress=$($PGBIN/pg_config --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress
(cd "$work" && run_as "$pg_isolation_regress" --temp-instance="$work/tmp_check_iso" \
	--temp-config="$work/test/isolation.conf" --bindir="$PGBIN" \
	--inputdir="$work/test" --outputdir="$work/output_iso" --dbname=isolation_regression \
	$specs) > "$work/iso.log" 2>&1
cat "$work/iso.log"
p=$(grep -cE '\.\.\. ok|^ok ' "$work/iso.log")
f=$(grep -cE 'FAILED' "$work/iso.log")
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
perl_lib=$($PGBIN/pg_config --pkglibdir)/pgxs/src/test/perl
(cd "$work" && run_as env PATH="$PGBIN:$PATH" PERL5LIB="$perl_lib" TESTDIR="$work" \
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
log "demo"
(cd "$work" && run_as bash test/demo_check.sh) > "$work/demo.log" 2>&1
cat "$work/demo.log"
p=$(grep -cE '^ok [0-9]+' "$work/demo.log")
f=$(grep -cE '^not ok [0-9]+' "$work/demo.log")
passed=$((passed + p))
failed=$((failed + f))
if ! grep -qE '^1\.\.[0-9]+$' "$work/demo.log" || [ "$p" = 0 ]; then
	failed=$((failed + 1))
fi

rm -rf "$work"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
