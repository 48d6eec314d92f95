#!/bin/sh
# A fast restart binds the old port again at once.  libwebsockets 4.1 sets
# SO_REUSEADDR on its listening socket, so connections the killed hub left
# in TIME_WAIT / FIN_WAIT do not block the bind; the e2e ports are drawn
# below the ephemeral range (lib.sh free_port), so no client's own end can
# hold the port either.  Here: ROUNDS times, kill -9 the hub with a console
# attached and webhooks in flight, start it again immediately; every start
# must come up on the first try.
. "$(dirname "$0")/lib.sh"
e2e_init
ROUNDS=${ROUNDS:-15}
start_desk
XDG_DATA_HOME=$T/tail "$WADESK" --link "$AGENT_LINK" --name watcher tail >"$T/tail.out" 2>&1 &
track $!
"$SIM" load --count 100000 --rate 500 --customers 50 >"$T/load.out" 2>&1 &
LOAD=$!
track "$LOAD"
r=0
wait_for 10 sh -c "curl -sf '$HUB_URL/healthz' | grep -q '\"consoles\":1'" || fail "the console did not attach"
while [ "$r" -lt "$ROUNDS" ]; do
	# The console reconnects with its own backoff; the load generator's
	# connections are there every round.
	kill_hub
	"$WADESKD" -d "$D" -v >>"$T/hub.log" 2>&1 &
	HUB_PID=$!
	track "$HUB_PID"
	wait_for 10 healthy || fail "round $r: the restarted hub did not come up"
	kill -0 "$HUB_PID" || fail "round $r: the hub exited (cannot bind?)"
	r=$((r + 1))
done
grep -q 'cannot listen' "$T/hub.log" && fail "a restart could not listen"
kill "$LOAD" 2>/dev/null
stop_hub
echo "ok ($ROUNDS restarts)"
