#!/bin/sh
# SIGTERM drains and exits promptly: with consoles attached and an outbox
# backlog (rate 1/s), the hub says bye to the consoles, sends what it can
# for 5 s, and exits 0 well within 15 s (it used to sleep in poll for up to
# 30 s after the drain).  Nothing acknowledged is lost: after a restart
# every message goes out, once, in order.
. "$(dirname "$0")/lib.sh"
e2e_init
N=10                 # the agent limit per customer
start_desk
A=919812345611
"$SIM" say $A "hello" >/dev/null || fail "sim say failed"
wait_for 10 sh -c "[ \"\$(sqlite3 '$D/wadesk.db' 'select count(*) from messages')\" = 1 ]" ||
	fail "the inbound message did not arrive"

# One message a second, so most of the backlog outlives the drain.
kill_hub
sed -i 's/^rate = .*/rate = 1/' "$D/wadesk.conf"
grep -q '^rate = 1$' "$D/wadesk.conf" || fail "cannot set the rate in wadesk.conf"
start_hub
for c in 1 2; do
	XDG_DATA_HOME=$T/tail$c "$WADESK" --link "$AGENT_LINK" --name "watch$c" tail >"$T/tail$c.out" 2>"$T/tail$c.err" &
	track $!
done
wait_for 10 sh -c "curl -sf '$HUB_URL/healthz' | grep -q '\"consoles\":2'" || fail "the consoles did not attach"
# The whole backlog at once (desk_send.py: one session, every send back to
# back), so it does not depend on how fast a console process starts.
set --
i=1
while [ "$i" -le "$N" ]; do
	set -- "$@" "$A:drain $i"
	i=$((i + 1))
done
python3 "$(dirname "$0")/desk_send.py" "$AGENT_LINK" asha "$@" >"$T/send.out" 2>&1 ||
	fail "the sends were not all accepted: $(cat "$T/send.out")"
left=$(hub_sql 'select count(*) from outbox')
[ "$left" -gt 4 ] || fail "no backlog to drain: $left in the outbox"

t0=$(date +%s)
kill -TERM "$HUB_PID"
# The hub must be gone within 15 s (drain 5 s + slack for a loaded machine).
wait_for 15 sh -c "! kill -0 $HUB_PID" || fail "the hub still runs 15 s after SIGTERM"
wait "$HUB_PID"
st=$?
[ "$st" -eq 0 ] || fail "the hub exited $st after SIGTERM"
took=$(($(date +%s) - t0))
grep -q 'stopping: draining' "$T/hub.log" || fail "no drain in the log"
left=$(hub_sql 'select count(*) from outbox')
[ "$left" -gt 0 ] || fail "the whole backlog went out at 1/s in a 5 s drain?"

# Restart at full rate: every acknowledged message goes out, once, in order.
sed -i 's/^rate = .*/rate = 20/' "$D/wadesk.conf"
start_hub
wait_for 30 sh -c "[ \"\$(sqlite3 '$D/wadesk.db' 'select count(*) from outbox')\" = 0 ]" ||
	fail "the outbox did not drain after the restart: $(hub_sql 'select count(*) from outbox') left"
"$SIM" inbox $A --json >"$T/inbox" || fail "sim inbox failed"
got=$(grep -o 'drain [0-9]*' "$T/inbox" | tr '\n' ',')
want=$(i=1; while [ "$i" -le "$N" ]; do printf 'drain %d,' "$i"; i=$((i + 1)); done)
[ "$got" = "$want" ] || fail "the customer received: $got"
stop_hub
echo "ok (exit after SIGTERM in ${took} s, $left of $N left for the restart)"
