#!/usr/bin/env bash
# The pg_regress suites once more on the assert-enabled 15, with every
# cache flushed at every opportunity (debug_discard_caches = 1): a catalog
# lookup of ours that keeps a pointer into a cache entry across something
# that may invalidate it fails here.  Slow (the server runs many times
# slower), so not part of test/run_tests.sh; run it by hand after changing
# how the guard reads the catalog.
#
#   sudo bash test/majors/discard_caches.sh       (ends with "N passed, N failed")
set -u
cd "$(dirname "$0")/../.."
cache=${MG_CACHE:-/var/cache/migration_guard}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
bash test/majors/build_cassert.sh "$cache" || { echo "0 passed, 1 failed"; exit 1; }
PG_CONFIG=$cache/pg15-cassert/bin/pg_config
work=$(mktemp -d /tmp/mg_discard.XXXXXX)
trap 'rm -rf "$work"' EXIT
# built in a copy, so that a build in the working tree is left alone
tar -c --exclude=.git --exclude='*.o' --exclude='*.so' --exclude=test/tmp \
	--exclude=results --exclude=tmp_check --exclude=node_modules . | tar -x -C "$work"
make -s -C "$work" PG_CONFIG="$PG_CONFIG" >/dev/null &&
	make -s -C "$work" PG_CONFIG="$PG_CONFIG" install >/dev/null ||
	{ echo "0 passed, 1 failed"; exit 1; }
{ cat test/regress.conf; echo "debug_discard_caches = 1"; } > "$work/discard.conf"
chown -R postgres "$work"
tests=$(make -s --no-print-directory -C "$work" PG_CONFIG="$PG_CONFIG" print-regress)
(cd "$work" && runuser -u postgres -- "$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" \
	--temp-instance="$work/tmp_check" --temp-config="$work/discard.conf" \
	--bindir="$("$PG_CONFIG" --bindir)" --inputdir="$work" --outputdir="$work" \
	--dbname=contrib_regression $tests) | tee "$work/regress.log"
[ -f "$work/regression.diffs" ] && head -200 "$work/regression.diffs"
p=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$work/regress.log")
f=$(grep -cE '\.\.\. FAILED|^not ok [0-9]+' "$work/regress.log")
[ "$p" = 0 ] && [ "$f" = 0 ] && f=1		# pg_regress did not run
echo "$p passed, $f failed"
[ "$f" = 0 ]
