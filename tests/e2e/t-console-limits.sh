#!/bin/sh
# Agent limits: ten messages to a customer who has not answered are
# allowed, the eleventh is refused on the spot (exit 1, the stable code,
# the count and when it becomes possible); the customer's reply lifts it.
. "$(dirname "$0")/console-lib.sh"
desk_start
P=919812345603
say $P "Hi there" Maria
wait_for 10 sh -c "HOME=$T/c-cli XDG_CONFIG_HOME=$T/c-cli/config XDG_DATA_HOME=$T/c-cli/data $WADESK --link '$AGENT_LINK' --name bob chats | grep -q $P" ||
	fail "the chat did not arrive"
for i in 1 2 3 4 5 6 7 8 9 10; do
	wadesk --link "$AGENT_LINK" --name bob send $P "message $i" >/dev/null 2>"$T/err" ||
		fail "send $i failed: $(cat "$T/err")"
done
wadesk --link "$AGENT_LINK" --name bob send $P "message 11" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "the 11th send exited $rc, not 1"
grep -q '^wadesk: refused (limit.customer): 10 messages to' "$T/err" || fail "bad refusal: $(cat "$T/err")"
grep -q 'allowed again at' "$T/err" || fail "the refusal does not say when"
# The TUI shows it too, before a word is sent.
console a "$AGENT_LINK" bob
wait_screen 10 a 'online' || fail "the console did not connect"
wait_screen 5 a 'send 0 more here' || fail "the console does not show the limit"
wait_screen 5 a 'refused \(limit.customer\)' || fail "the composer hint does not show the refusal"
say $P "Thanks, got them"
wait_screen 5 a 'send 10 more here' || fail "the customer's reply did not lift the limit"
wadesk --link "$AGENT_LINK" --name bob send $P "message 12" >/dev/null 2>"$T/err" ||
	fail "send after the reply failed: $(cat "$T/err")"
