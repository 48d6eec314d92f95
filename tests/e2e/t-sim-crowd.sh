#!/bin/sh
# Simulated customers: they write in, wait for an answer and reply; names
# and texts from several languages; the same seed gives the same people
# and the same first lines.
. "$(dirname "$0")/simlib.sh"

first_lines() {
	grep '"type":"message"' "$HOOKS" | sed 's/.*"source":"\([0-9]*\)".*"text":"\([^"]*\)".*/\1 \2/' | head -n 3
}

sim_start --app "$APP" --event-delay 20 --customers 4 --rate 600 --seed 11
wait_for 10 sh -c "[ \$(grep -c '\"type\":\"message\"' '$HOOKS') -ge 3 ]" || fail "customers did not write in"
first_lines >"$T/run1"
# Answer the first customer; they reply within a few seconds.
C=$(head -n 1 "$T/run1" | cut -d' ' -f1)
before=$(grep -c "\"source\":\"$C\"" "$HOOKS")
send_text "$C" "Thanks for waiting, let me check." >/dev/null
wait_for 10 sh -c "[ \$(grep -c '\"source\":\"$C\"' '$HOOKS') -gt $before ]" || fail "$C did not reply"
for p in $PIDS; do kill "$p"; wait "$p" 2>/dev/null; done
PIDS=

sim_start --app "$APP" --event-delay 20 --customers 4 --rate 600 --seed 11
wait_for 10 sh -c "[ \$(grep -c '\"type\":\"message\"' '$HOOKS') -ge 3 ]" || fail "customers did not write in (2)"
first_lines >"$T/run2"
cmp -s "$T/run1" "$T/run2" || fail "same seed, different customers: $(cat "$T/run1") / $(cat "$T/run2")"
echo ok
