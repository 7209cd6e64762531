#!/usr/bin/env bash
# The README's plan() example is plan()'s real output: the block between its
# "plan example" markers must appear, line for line, in expected/plan.out,
# which the regression test "plan" produces on PostgreSQL 15.  Prints TAP.
#
#   bash test/readme/check_plan_example.sh        (from anywhere)
cd "$(dirname "$0")/../.."
# the block without its markers and its ``` fences
block=$(sed -n '/^<!-- plan example: begin -->$/,/^<!-- plan example: end -->$/p' README.md |
	sed '1,2d;$d' | sed '$d')
if [ -n "$block" ] &&
	BLOCK="$block" awk 'BEGIN { RS = "^$" } { found = index($0, ENVIRON["BLOCK"] "\n") > 0 }
	                    END { exit !found }' expected/plan.out
then
	echo "ok 1 - the README's plan() example is in expected/plan.out, as plan() printed it"
else
	echo "not ok 1 - the README's plan() example differs from expected/plan.out"
fi
echo "1..1"
