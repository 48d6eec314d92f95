#!/bin/sh
# Refresh access from an admin console: the popup shows the new links and
# their QR codes; every other console is disconnected within a second and
# says its link has expired; the admin console goes on with its new link.
. "$(dirname "$0")/console-lib.sh"
desk_start
console adm "$ADMIN_LINK" root
console ag "$AGENT_LINK" alice
wait_screen 10 adm 'online' || fail "admin console offline"
wait_screen 10 ag 'online' || fail "agent console offline"
keys adm :
text adm rotate
keys adm Enter
wait_screen 5 adm 'supervisor +ws://' || fail "no new links in the popup"
screen adm | grep -q '▀\|▄\|█' || fail "no QR code in the popup"
wait_screen 2 ag 'link has expired' || fail "the agent console does not say its link expired"
NEW_AGENT=$(screen adm | sed -n 's/^ *agent  *\(ws:[^ ]*\).*/\1/p' | head -n 1)
[ -n "$NEW_AGENT" ] || fail "cannot read the new agent link"
keys adm Escape
wait_screen 10 adm 'online' || fail "the admin console did not reconnect with its new link"
wadesk --link "$AGENT_LINK" chats >/dev/null 2>&1
[ $? -eq 3 ] || fail "the old agent link still works"
