#!/bin/sh
# Two consoles: when one agent types in a chat, the other sees
# "Agent responding (NAME)" on it, live.
. "$(dirname "$0")/console-lib.sh"
desk_start
say 919812345606 "Can someone help?" Olu
console a "$AGENT_LINK" alice
console b "$AGENT_LINK" bruno
wait_screen 10 a 'Notifying agent' || fail "console a has no chat"
wait_screen 10 b 'Notifying agent' || fail "console b has no chat"
keys a r
text a 'Sure, one moment'
wait_screen 5 b 'Agent responding \(alice\)' || fail "console b does not show alice responding"
keys b r
text b 'I can take it'
wait_screen 5 a 'Agent responding \(bruno\)' || fail "console a does not show bruno responding"
