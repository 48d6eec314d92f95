#!/bin/sh
# crash-full.sh — issue 3's crash benchmark at full scale: 20 kill -9 of
# the hub during a 20,000-webhook ingest from the sim's load generator
# (1,000/s), then every webhook the load generator saw acknowledged must
# be in the store exactly once and the event log must have no gap.  The
# scenario is tests/e2e/t-hub-crash.sh (which `make check` runs at 5 x
# 2,000); this script runs it with KILLS, COUNT, RATE (defaults 20,
# 20000, 1000) and prints the figures.  Exit status: the scenario's.
here=$(dirname "$0")
: "${WADESK_BIN:?WADESK_BIN must name the directory of the built programs}"
KILLS=${KILLS:-20} COUNT=${COUNT:-20000} RATE=${RATE:-1000}
export KILLS COUNT RATE WADESK_BIN
out=${TMPDIR:-/tmp}/crash-full.$$
trap 'rm -f "$out"' EXIT
started=$(date +%s)
sh "$here/../e2e/t-hub-crash.sh" >"$out" 2>&1
rc=$?
took=$(($(date +%s) - started))
sed 's/^/   /' "$out"
line=$(grep '^crash: ' "$out")
echo ""
echo "== crash benchmark: $KILLS x kill -9 during $COUNT webhooks at $RATE/s ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "duration ${took} s; ${line#crash: }; $( [ "$rc" -eq 0 ] && echo 'every acknowledged webhook stored once, no event gap' || echo 'FAILED')"
exit "$rc"
