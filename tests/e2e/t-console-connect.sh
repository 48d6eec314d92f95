#!/bin/sh
# `wadesk connect LINK --name NAME` remembers the link and the name (0600)
# and plain `wadesk` opens the last one; it paints the cached chats before
# the hub answers; NO_COLOR keeps the status symbols.
. "$(dirname "$0")/console-lib.sh"
desk_start
say 919812345611 "Hello from the cache" Zanele
C="env HOME=$T/cc XDG_CONFIG_HOME=$T/cc/config XDG_DATA_HOME=$T/cc/data TERM=screen-256color"
tm new-session -d -s e2e -n one -x 140 -y 40 "$C $WADESK connect '$AGENT_LINK' --name bob; echo EXIT=\$?; sleep 60"
wait_screen 10 one 'bob@.*online' || fail "connect did not open the console"
wait_screen 5 one 'Zanele' || fail "no chat"
keys one q
wait_screen 5 one 'EXIT=0' || fail "quit did not exit 0"
[ "$(stat -c %a "$T/cc/config/wadesk/config")" = 600 ] || fail "the config is not 0600"
grep -q "^link = $AGENT_LINK" "$T/cc/config/wadesk/config" || fail "the link was not remembered"
hub_stop
tm new-window -d -n two "$C NO_COLOR=1 $WADESK; echo EXIT=\$?; sleep 60"
wait_screen 5 two 'bob@' || fail "plain wadesk did not open the last link"
wait_screen 5 two 'Hello from the cache' || fail "the cache was not painted while the hub is down"
wait_screen 5 two 'OFFLINE' || fail "no offline banner"
screen two | grep -q '^! Zanele' || fail "NO_COLOR lost the status symbol"
hub_start
wait_screen 20 two 'bob@.*online' || fail "did not reconnect"
