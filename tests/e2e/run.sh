#!/bin/sh
# Runs every end-to-end scenario tests/e2e/t-*.sh.  Each scenario is a short
# shell script that sources lib.sh, starts real programs on loopback (random
# free ports, a private tmux server, a private temporary directory) and exits
# 0 on success.  Closing line: "e2e: N passed, N failed".
here=$(cd "$(dirname "$0")" && pwd)
: "${WADESK_BIN:?WADESK_BIN must name the directory of the built programs}"
export WADESK_BIN
passed=0 failed=0
for t in "$here"/t-*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(mktemp)
	if timeout 300 sh "$t" >"$log" 2>&1; then
		echo "ok   $name"; passed=$((passed + 1))
	else
		echo "FAIL $name"; sed 's/^/     | /' "$log" | tail -n 40; failed=$((failed + 1))
	fi
	rm -f "$log"
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
