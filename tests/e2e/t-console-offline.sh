#!/bin/sh
# The hub goes away: the console shows a banner and stays read-only; a
# customer message sent meanwhile arrives once the hub is back, and the
# console resumes by itself with nothing lost and nothing doubled.
. "$(dirname "$0")/console-lib.sh"
desk_start
P=919812345609
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
say $P "first message" Yusuf
wait_screen 5 a 'first message' || fail "no first message"
wadesk --link "$AGENT_LINK" tail >"$T/tail.out" 2>"$T/tail.err" &
TAIL=$!
track $TAIL
# (not a fixed sleep: under load tail may not have reached the hub in 1 s)
wait_for 20 sh -c "for f in '$T'/c-cli/data/wadesk/*.db; do [ -f \"\$f\" ] &&
	sqlite3 -cmd '.timeout 2000' \"\$f\" \"select v from meta where k = 'hub_id'\"; done 2>/dev/null | grep -q ." ||
	fail "tail did not reach the hub: $(cat "$T/tail.err")"
hub_stop -9
wait_screen 5 a 'OFFLINE' || fail "no offline banner"
screen a | grep -q 'read-only' || fail "the banner does not say read-only"
keys a r
text a 'while offline'
keys a Enter
wait_screen 3 a 'not connected|reconnect' || fail "sending offline was not refused"
"$SIMBIN" say $P "second message" >>"$T/say.log" 2>&1 &
track $!
sleep 1
hub_start
wait_screen 20 a 'online' || fail "the console did not reconnect by itself"
say $P "third message"
wait_screen 10 a 'third message' || fail "no live message after the reconnect"
wait_screen 10 a 'second message' || fail "the message sent while the hub was down is missing"
wadesk --link "$AGENT_LINK" history $P --json >"$T/h.json" || fail "history failed"
python3 - "$T/h.json" <<'PY' || fail "a message was lost or doubled"
import json, sys
h = json.load(open(sys.argv[1]))
texts = [m["text"] for m in h if m["direction"] == "in"]
for t in ("first message", "second message", "third message"):
    assert texts.count(t) == 1, (t, texts)
PY
# tail went on through the restart, each message once.  (Its reconnection
# backoff may have reached 8 s + jitter while the hub was down.)
wait_for 30 grep -q 'third message' "$T/tail.out" || fail "tail stopped at the hub restart: $(cat "$T/tail.err")"
pkill -P $TAIL 2>/dev/null; kill $TAIL 2>/dev/null   # $TAIL is the subshell of the wadesk function
for m in "second message" "third message"; do
	[ "$(grep -c "$m" "$T/tail.out")" = 1 ] || fail "tail printed '$m' $(grep -c "$m" "$T/tail.out") times"
done
grep -q 'reconnecting' "$T/tail.err" || fail "tail did not say it was reconnecting"
# The console's own cache has each message once too.
n=$(screen a | grep -c 'first message')
[ "$n" -le 2 ] || fail "first message shown $n times"
