#!/bin/sh
# Hostile customer text (OSC title, clear screen, bidi override, C1 and
# DEL) reaches neither the pane title nor the screen layout.
. "$(dirname "$0")/console-lib.sh"
desk_start
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
tm select-window -t a
before=$(tm display -p -t a '#{pane_title}')
esc=$(printf '\033')
bel=$(printf '\007')
say 919812345607 "${esc}]0;pwned${bel}hello ${esc}[2J${esc}[31mred $(printf '\342\200\256')evil$(printf '\302\233')2J end" Mallory
wait_screen 5 a 'Notifying agent' || fail "no chat"
keys a l
sleep 0.5
after=$(tm display -p -t a '#{pane_title}')
[ "$before" = "$after" ] || fail "the pane title changed: '$after'"
screen a | head -n 1 | grep -q 'wadesk' || fail "the title line was wiped"
screen a | grep -q 'hello' || fail "the message text is not shown"
screen a | grep -q 'pwned' || true
screen a | grep -q 'wadesk.*online' || fail "the screen is not intact"
