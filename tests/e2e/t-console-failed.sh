#!/bin/sh
# A failed message shows the provider's reason on itself and marks its
# chat in the list.  (The provider is restarted without its state, so it
# no longer knows the customer wrote: it refuses the session message.)
. "$(dirname "$0")/console-lib.sh"
desk_start
P=919812345612
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
say $P "Please call me back" Hiro
wait_screen 5 a 'Notifying agent' || fail "no chat"
stop_sim
start_sim
keys a r
text a 'We will call you at 5'
keys a Enter
wait_screen 15 a 'FAILED: .*inactive' || fail "the failure reason is not shown on the message"
screen a | sed -n '3,4p' | grep -q 'FAILED' || fail "the chat is not marked in the list"
wadesk --link "$AGENT_LINK" history $P --json | grep -q '"reason": "Message sending failed' ||
	fail "history --json lacks the reason"
wadesk --link "$AGENT_LINK" chats --json | grep -q '"failed": true' || fail "chats --json does not mark it"
