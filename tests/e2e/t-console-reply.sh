#!/bin/sh
# The agent replies from the composer: the chat turns "Responded", the
# message reaches the customer (wadesk-sim inbox) and its state moves on.
. "$(dirname "$0")/console-lib.sh"
desk_start
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
say 919812345602 "Do you deliver on Sundays?" Ravi
wait_screen 5 a 'Notifying agent' || fail "no Notifying agent"
keys a r
wait_screen 3 a 'sends as|session message' || fail "the composer did not open"
text a 'Yes, *every* Sunday!'
keys a Enter
wait_screen 5 a 'Responded' || fail "the chat did not turn Responded"
wait_for 10 sh -c "\"$SIMBIN\" inbox 919812345602 | grep -q 'every'" ||
	fail "the reply did not reach the customer"
wait_screen 10 a '\[(sent|delivered|read)\]' || fail "the delivery state did not move"
screen a | grep -q 'Yes, every Sunday!' || fail "the formatted reply is not shown"
