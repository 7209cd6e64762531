#!/usr/bin/env bash
# Coverage of the guard: every statement node type in the headers of the
# PostgreSQL major we build against is either inspected (a case of
# inspect_is_guarded() in src/guarded.h) or on the list in
# test/coverage/statements.tsv with its class and the reason, so that a new
# major cannot add a statement the guard silently misses.  TAP output.
#
#   bash test/coverage/check_statements.sh [PG_CONFIG]
set -u
cd "$(dirname "$0")/../.."
PG_CONFIG=${1:-${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}}
inc=$("$PG_CONFIG" --includedir-server)
# 16 and later generate nodetags.h; 15 keeps the enum in nodes.h
header=$inc/nodes/nodetags.h
[ -f "$header" ] || header=$inc/nodes/nodes.h
list=test/coverage/statements.tsv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep -oE '\bT_[A-Za-z]+Stmt\b' "$header" | sort -u > "$tmp/header"
grep -vE '^(#|$)' "$list" | cut -f1 | sort > "$tmp/listed"
grep -vE '^(#|$)' "$list" | awk -F'\t' '$2 == "inspected" { print $1 }' | sort > "$tmp/inspected"
awk '/^inspect_is_guarded\(/ { on = 1 } on && /^}/ { exit } on' src/guarded.h |
	grep -oE 'case T_[A-Za-z]+Stmt' | sed 's/^case //' | sort -u > "$tmp/guarded"

n=0
check() {
	n=$((n + 1))
	if [ -s "$tmp/out" ]; then
		echo "not ok $n - $1"
		sed 's/^/#   /' "$tmp/out"
	else
		echo "ok $n - $1"
	fi
}

echo "# $(wc -l < "$tmp/header") statement node types in $header"
[ "$(wc -l < "$tmp/header")" -ge 50 ] && : > "$tmp/out" || echo "too few: $header" > "$tmp/out"
check "the headers name the statement node types"
comm -23 "$tmp/header" "$tmp/listed" > "$tmp/out"
check "every statement node type of the headers is on the list"
comm -13 "$tmp/header" "$tmp/listed" > "$tmp/out"
check "every listed node type exists in the headers"
uniq -d "$tmp/listed" > "$tmp/out"
check "no node type is listed twice"
diff "$tmp/inspected" "$tmp/guarded" > "$tmp/out"
check "the inspected ones are exactly the cases of inspect_is_guarded()"
grep -vE '^(#|$)' "$list" |
	awk -F'\t' 'NF != 3 || $3 == "" || $2 !~ /^(inspected|none|weak|gap|query)$/' > "$tmp/out"
check "every row has a class and a reason"
for c in inspected none weak gap query; do
	echo "# $c: $(grep -vE '^(#|$)' "$list" | awk -F'\t' -v c="$c" '$2 == c' | wc -l)"
done
echo "1..$n"
