#!/bin/sh
# Runs every end-to-end scenario tests/e2e/t-*.sh.  Each scenario is a short
# shell script that sources lib.sh, starts real programs on loopback (random
# free ports, a private tmux server, a private temporary directory) and exits
# 0 on success.  Closing line: "e2e: N passed, N failed".
here=$(cd "$(dirname "$0")" && pwd)
: "${WADESK_BIN:?WADESK_BIN must name the directory of the built programs}"
export WADESK_BIN
passed=0 failed=0

# Kills every process that still carries a scenario's WADESK_E2E_ID in its
# environment (daemonised tmux servers and forgotten background jobs
# included), so that no scenario can leave anything behind; prints how many.
reap() {
	n=0
	for e in /proc/[0-9]*/environ; do
		{ tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qxF "WADESK_E2E_ID=$1" || continue
		p=${e#/proc/}; p=${p%/environ}
		kill -9 "$p" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}
for t in "$here"/t-*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(mktemp)
	id="$name.$$.$(date +%s%N)"
	if WADESK_E2E_ID=$id timeout 300 sh "$t" >"$log" 2>&1; then
		echo "ok   $name"; passed=$((passed + 1))
	else
		echo "FAIL $name"; grep '^FAIL: ' "$log" | sed 's/^/     | /'
		sed 's/^/     | /' "$log" | tail -n 40; failed=$((failed + 1))
	fi
	n=$(reap "$id")
	[ "$n" -eq 0 ] || echo "     note: $name left $n process(es) running; killed them"
	rm -f "$log"
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
