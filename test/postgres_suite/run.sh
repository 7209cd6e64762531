#!/usr/bin/env bash
# PostgreSQL's own regression suite (parallel_schedule) twice on the same
# build: on a server without the guard, then on one with it preloaded.  The
# guard may add its own WARNING and NOTICE lines (with their DETAIL, HINT and
# CONTEXT); any other difference between the two results of a test is a
# failure: a statement PostgreSQL rejects must get PostgreSQL's own error,
# exactly.  A statement the guard could not judge and PostgreSQL ran is a
# failure too.  Prints TAP.
#
#   bash test/postgres_suite/run.sh PG_CONFIG SUITE_DIR WORK_DIR
#
# SUITE_DIR is what test/majors/build_cassert.sh installs (regress-suite):
# parallel_schedule, sql, expected, data, regress.so.  Run as the user that
# owns WORK_DIR, not as root.
set -u
PG_CONFIG=$1
suite=$2
work=$3
here=$(cd "$(dirname "$0")" && pwd)
bindir=$("$PG_CONFIG" --bindir)
pg_regress=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress

printf '' > "$work/plain.conf"
printf "shared_preload_libraries = 'migration_guard'\nmigration_guard.max_lock_hold = 0\n" > "$work/guard.conf"
for run in plain guard; do
	rm -rf "$work/out_$run" "$work/tmp_$run"
	mkdir -p "$work/out_$run"
	started=$(date +%s)
	"$pg_regress" --temp-instance="$work/tmp_$run" --temp-config="$work/$run.conf" \
		--bindir="$bindir" --inputdir="$suite" --outputdir="$work/out_$run" \
		--dlpath="$suite" --max-concurrent-tests=20 \
		--schedule="$suite/parallel_schedule" > "$work/$run.log" 2>&1
	echo "# $run: $(grep -cE '\.\.\. ok' "$work/$run.log") tests ok, $(grep -cE '\.\.\. FAILED' "$work/$run.log") differ from PostgreSQL's expected output, $(( $(date +%s) - started )) s"
done

n=0
tests=0
differ=0
extra=0
for plain in "$work"/out_plain/results/*.out; do
	name=$(basename "$plain" .out)
	guard=$work/out_guard/results/$name.out
	tests=$((tests + 1))
	if [ ! -f "$guard" ]; then
		n=$((n + 1)); differ=$((differ + 1))
		echo "not ok $n - $name: no result with the guard"
		continue
	fi
	# normal diff: only additions ("NaM,N") of guard messages may appear
	bad=$(diff "$plain" "$guard" | awk -f "$here/guard_lines.awk")
	added=$(diff "$plain" "$guard" | grep -c '^> ')
	extra=$((extra + added))
	if [ -n "$bad" ]; then
		n=$((n + 1)); differ=$((differ + 1))
		echo "not ok $n - $name: differs with the guard beyond its own messages"
		echo "$bad" | head -n 40 | sed 's/^/#   /'
	fi
done
n=$((n + 1))
if [ "$tests" -gt 0 ] && [ "$differ" = 0 ]; then
	echo "ok $n - $tests tests of PostgreSQL's regression suite give the same results with the guard, apart from $extra lines of its own messages"
else
	echo "not ok $n - $differ of $tests tests of PostgreSQL's regression suite differ with the guard"
fi
unjudged=$(cat "$work"/out_guard/results/*.out 2>/dev/null | grep -c 'could not judge this')
n=$((n + 1))
if [ "$unjudged" = 0 ]; then
	echo "ok $n - every statement of the suite that PostgreSQL ran was judged"
else
	echo "not ok $n - $unjudged statements ran unjudged:"
	grep -h -A1 'could not judge this' "$work"/out_guard/results/*.out | head -n 20 | sed 's/^/#   /'
fi
echo "1..$n"
