#!/bin/sh
# A customer writes in: the chat appears as "Notifying agent" within a
# second on a running console, and the unread count shows.
. "$(dirname "$0")/console-lib.sh"
desk_start
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
start=$(date +%s%N)
say 919812345601 "Hello, is my order shipped?" Asha
wait_screen 3 a 'Notifying agent' || fail "no Notifying agent"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "say -> Notifying agent on screen: $ms ms"
[ "$ms" -le 1500 ] || fail "took $ms ms (the say command itself included)"
screen a | grep -q 'Asha' || fail "the customer's name is not shown"
screen a | grep -q '(1)' || fail "no unread count"
screen a | grep -q 'window 2[34]h' || fail "the window's time left is not shown"
# The help is generated from the key table.
keys a '?'
wait_screen 3 a 'Keys \(generated' || fail "no help popup"
screen a | grep -q 'next chat needing an answer' || fail "the help lacks a key"
keys a Escape
wait_screen 3 a 'Notifying agent' || fail "the help did not close"
# Read only when the conversation pane shows the chat to the agent: a list
# scroll keeps it unread, focusing the conversation reads it.
keys a j
keys a k
sleep 0.3
screen a | grep -q '(1)' || fail "a list scroll marked the chat read"
keys a l
wait_for 3 sh -c "! tmux -S $TMUX_SOCK capture-pane -p -t a | grep -q '(1)'" || fail "focusing the conversation did not read the chat"
