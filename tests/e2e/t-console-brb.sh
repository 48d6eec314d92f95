#!/bin/sh
# BRB on: a new chat gets the automatic BRB reply and shows "Unanswered";
# BRB off again from the console's command line.
. "$(dirname "$0")/console-lib.sh"
desk_start
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
keys a b
wait_screen 5 a 'BRB on' || fail "BRB did not switch on"
say 919812345604 "Anyone there?" Chen
wait_screen 5 a 'Unanswered' || fail "the new chat is not Unanswered"
wait_for 10 sh -c "\"$SIMBIN\" inbox 919812345604 | grep -q ." || fail "no BRB reply reached the customer"
wait_screen 5 a 'automatic reply' || fail "the BRB reply is not shown as automatic"
keys a :
text a 'brb off'
keys a Enter
wait_for 5 sh -c "! tmux -S $TMUX_SOCK capture-pane -p -t a | head -n 1 | grep -q 'BRB on'" || fail "BRB did not switch off"
# One key to the next chat needing an answer.
say 919812345614 "Second customer" Lars
wait_screen 5 a 'Notifying agent' || fail "no second chat"
# Both need an answer (Unanswered, Notifying agent): n moves between them.
sel() { screen a | sed -n 2p | sed 's/.*│ \([A-Za-z]*\) .*/\1/'; }
first=$(sel)
keys a n
wait_for 3 sh -c "[ \"\$(tmux -S $TMUX_SOCK capture-pane -p -t a | sed -n 2p | sed 's/.*│ \([A-Za-z]*\) .*/\1/')\" != '$first' ]" ||
	fail "n did not move to the other chat needing an answer"
second=$(sel)
case "$first$second" in ChenLars|LarsChen) ;; *) fail "n selected '$second' after '$first'" ;; esac
