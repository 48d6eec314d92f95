#!/bin/sh
# `make check`: the unit tests, then the end-to-end tests, then one closing
# line over both.  WADESK_BIN names the directory of the built programs.
here=$(dirname "$0")
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$here/run-unit.sh" "$@" 2>&1 | tee "$out"
"$here/e2e/run.sh" 2>&1 | tee -a "$out"
p=0 f=0
for line in $(sed -n 's/^\(unit\|e2e\): \([0-9]*\) passed, \([0-9]*\) failed$/\2:\3/p' "$out"); do
	p=$((p + ${line%%:*})); f=$((f + ${line##*:}))
done
[ -n "$(sed -n '/^unit: [0-9]* passed/p' "$out")" ] || f=$((f + 1))
[ -n "$(sed -n '/^e2e: [0-9]* passed/p' "$out")" ] || f=$((f + 1))
echo "check: $p passed, $f failed"
[ "$f" -eq 0 ]
