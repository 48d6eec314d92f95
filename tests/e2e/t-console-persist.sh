#!/bin/sh
# Tags and notes set in the console survive a hub restart and a console
# restart (and the cache shows them before the network answers).
. "$(dirname "$0")/console-lib.sh"
desk_start
P=919812345605
say $P "I need an invoice" Fatima
console s "$SUPERVISOR_LINK" sue
wait_screen 10 s 'Notifying agent' || fail "no chat"
keys s t
text s vip
keys s Enter
wait_screen 5 s 'vip' || fail "the tag is not shown"
keys s N
keys s C-u
text s 'note wants a PDF invoice'
keys s Enter
wait_screen 5 s 'wants a PDF invoice' || fail "the note is not shown"
tm kill-window -t s
hub_stop
hub_start
console s2 "$SUPERVISOR_LINK" sue
mv "$T/c-s" "$T/c-s2" 2>/dev/null
wait_screen 10 s2 'online' || fail "the console did not reconnect"
screen s2 | grep -q 'vip' || fail "the tag did not survive"
screen s2 | grep -q 'wants a PDF invoice' || fail "the note did not survive"
wadesk --link "$AGENT_LINK" chats --json >"$T/chats.json" || fail "chats --json failed"
python3 - "$T/chats.json" <<'PY' || fail "chats --json lost the tag or the note"
import json, sys
c = [x for x in json.load(open(sys.argv[1])) if x["phone"] == "919812345605"][0]
assert c["tags"] == ["vip"], c
assert c["note"] == "wants a PDF invoice", c
PY
