#!/bin/sh
# `wadeskd access rotate` from the command line reaches the running hub
# through the database: every console opened with an old link is closed
# (bye auth.expired) within 1 s, the old link is refused, the new one works.
. "$(dirname "$0")/lib.sh"
e2e_init
start_desk
XDG_DATA_HOME=$T/tailcache "$WADESK" --link "$AGENT_LINK" --name asha tail --json >"$T/tail.out" 2>"$T/tail.err" &
TAIL=$!
track "$TAIL"
XDG_DATA_HOME=$T/tailcache2 "$WADESK" --link "$ADMIN_LINK" --name boss tail --json >"$T/tail2.out" 2>"$T/tail2.err" &
TAIL2=$!
track "$TAIL2"
wait_for 5 sh -c "curl -s '$HUB_URL/healthz' | grep -q '\"consoles\":2'" || fail "consoles did not connect"

"$WADESKD" -d "$D" access rotate >"$T/new" || fail "rotate failed"
[ "$(wc -l <"$T/new")" -eq 4 ] || fail "rotate printed: $(cat "$T/new")"
cmp -s "$T/new" "$T/links" && fail "rotate printed the old links"
start=$(date +%s%N)
while kill -0 "$TAIL" 2>/dev/null || kill -0 "$TAIL2" 2>/dev/null; do
	[ $(( ($(date +%s%N) - start) / 1000000 )) -gt 1000 ] && fail "a console was still connected 1 s after the rotation"
	sleep 0.05
done
grep -q 'expired' "$T/tail.err" || fail "the console was not told its link expired: $(cat "$T/tail.err")"
for f in tail.err tail2.err; do grep -q "bad frame" "$T/$f" && fail "a stray line after the bye: $(cat "$T/$f")"; done
grep -q 'closing console.*auth.expired' "$T/hub.log" || fail "no log line for the closed session"

# The old link is refused as expired; the new one is accepted.
XDG_DATA_HOME=$T/data2 "$WADESK" --link "$AGENT_LINK" --name asha chats 2>"$T/err" && fail "the old link still works"
grep -q 'expired' "$T/err" || fail "old link: $(cat "$T/err")"
# The rotation is the last event: a one-shot command is done as soon as the
# welcome and the replay are, even when nothing it shows changed.
NEW_AGENT=$(sed -n 's/^agent: //p' "$T/new")
start=$(date +%s%N)
XDG_DATA_HOME=$T/data3 "$WADESK" --link "$NEW_AGENT" --name asha chats --json >/dev/null 2>"$T/err3" ||
	fail "the new link is refused: $(cat "$T/err3")"
[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ] || fail "wadesk chats took over 5 s after the rotation"
"$WADESKD" -d "$D" access show | cmp -s - "$T/new" || fail "access show differs from what rotate printed"
curl -sf "$HUB_URL/metrics" | grep -q '^wadesk_failed_hellos_total [1-9]' || fail "failed hello not counted"
stop_hub
echo ok
