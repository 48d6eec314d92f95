#!/bin/sh
# bench/console-events — event-to-screen latency of the console: a real hub
# and sim, the console's cache filled with 10,000 chats and 1,000,000
# messages (bench/console --gen), then customers write in one at a time;
# the console notes (WADESK_BENCH_FILE) the time from each frame's arrival
# to the paint that shows it, and the console's CPU time in that span (the
# share that is its own work on a busy machine).  Printed, not asserted;
# goal <= 5 ms.
#   WADESK_BIN=build/bin sh tests/bench/console-events.sh [CHATS MESSAGES SAYS]
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"
e2e_init
GEN=${WADESK_BENCH_GEN:-$WADESK_BIN/../bench/console}
CHATS=${1:-10000} MSGS=${2:-1000000} SAYS=${3:-30}
[ -x "$GEN" ] || { echo "bench: $GEN is not built (make build/bench/console)"; exit 1; }
start_desk
export HOME=$T/c XDG_CONFIG_HOME=$T/c/config XDG_DATA_HOME=$T/c/data
mkdir -p "$T/c"
"$WADESK" --link "$AGENT_LINK" --name bench-agent chats >/dev/null || fail "cannot reach the hub"
DB=$(ls "$T"/c/data/wadesk/*.db | head -n 1)
"$GEN" --gen "$DB" "$CHATS" "$MSGS" || fail "cannot fill the cache"
NOTES=$T/notes
tm new-session -d -s b -x 140 -y 40 "env HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_DATA_HOME=$XDG_DATA_HOME WADESK_BENCH_FILE=$NOTES TERM=screen $WADESK --link '$AGENT_LINK' --name bench-agent"
wait_for 10 grep -q '^paint' "$NOTES" || fail "the console did not paint"
sleep 1
: >"$NOTES.events"
i=0
while [ $i -lt "$SAYS" ]; do
	"$SIM" say "9198765$(printf %05d $i)" "latency probe $i" >/dev/null 2>&1
	sleep 0.2
	i=$((i + 1))
done
sleep 1
grep '^event ' "$NOTES" | awk '{print $2 / 1e6}' | sort -n >"$T/lat"
grep '^event ' "$NOTES" | awk '{print $3 / 1e6}' | sort -n >"$T/cpu"
n=$(wc -l <"$T/lat")
[ "$n" -gt 0 ] || fail "no event reached the screen"
p50=$(awk -v n="$n" 'NR == int(n * 0.5) + 1 {print; exit}' "$T/lat")
p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {print; exit}' "$T/lat")
max=$(tail -n 1 "$T/lat")
c50=$(awk -v n="$n" 'NR == int(n * 0.5) + 1 {print; exit}' "$T/cpu")
c99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {print; exit}' "$T/cpu")
tm capture-pane -p -t b | head -n 6
echo "console: event -> screen with a $CHATS-chat / $MSGS-message cache: $n frames, p50 ${p50} ms, p99 ${p99} ms, max ${max} ms (goal <= 5 ms)"
echo "  the console's own CPU time in that span: p50 ${c50} ms, p99 ${c99} ms (the rest is waiting for a CPU)"
