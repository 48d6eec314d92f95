#!/bin/sh
# Resizing the terminal mid-conversation redraws the layout at the new
# size (narrow: list above the conversation; too small: a notice) and
# back, without losing the draft in the composer.
. "$(dirname "$0")/console-lib.sh"
desk_start
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
say 919812345608 "A rather long message that will have to wrap when the terminal gets narrow, very narrow indeed" Ines
wait_screen 5 a 'Notifying agent' || fail "no chat"
keys a r
text a 'draft reply'
tm resize-window -t a -x 70 -y 30
wait_screen 3 a 'narrow' || fail "no redraw at 70 columns"
w=$(screen a | wc -L); [ "$w" -le 70 ] || fail "lines $w columns wide in a 70-column terminal"
tm resize-window -t a -x 30 -y 8
wait_screen 3 a 'too small' || fail "no notice when too small"
tm resize-window -t a -x 140 -y 40
wait_screen 3 a 'draft reply' || fail "the draft was lost"
wait_screen 3 a 'narrow indeed' || fail "the conversation is not redrawn"
