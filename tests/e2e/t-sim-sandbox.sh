#!/bin/sh
# --sandbox: nothing reaches the business before the customer sends
# "PROXY <APPNAME>" (which gives the sandbox-start user-event); sends to
# an unbound customer fail 1008; media fails 1010; text goes through.
. "$(dirname "$0")/simlib.sh"
sim_start --app "$APP" --apikey "$KEY" --event-delay 50 --sandbox

C=5511987654321
sim say "$C" "Olá" >"$T/out" || fail "say refused"
grep -q '^dropped' "$T/out" || fail "before PROXY: $(cat "$T/out")"
r=$(send_text $C "hello?")
[ "${r%% *}" = 202 ] || fail "send: $r"
wait_for 5 grep -q '"code":1008' "$HOOKS" || fail "no 1008 for an unbound customer"
[ "$(hooks_count '"type":"message"')" = 0 ] || fail "a message went through before PROXY"

sim say "$C" "proxy $APP" >/dev/null || fail "PROXY refused"
wait_for 5 grep -q "{\"phone\":\"$C\",\"type\":\"sandbox-start\"}" "$HOOKS" || fail "no sandbox-start"
sim say "$C" "Olá de novo" >"$T/out" || fail "say refused"
grep -qx delivered "$T/out" || fail "after PROXY: $(cat "$T/out")"
wait_for 5 grep -q '"text":"Olá de novo"' "$HOOKS" || fail "message after PROXY not delivered"
grep -q '"text":"Olá"}' "$HOOKS" && fail "the message before PROXY was delivered"

r=$(post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=$C \
	'message={"type":"image","originalUrl":"http://127.0.0.1/x.png","previewUrl":"http://127.0.0.1/x.png","caption":"x"}' src.name=$APP)
[ "${r%% *}" = 202 ] || fail "media send: $r"
id=$(printf '%s' "$r" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
wait_for 5 grep -q "\"id\":\"$id\",\"type\":\"failed\",\"destination\":\"$C\",\"payload\":{\"code\":1010" "$HOOKS" \
	|| fail "media in the sandbox did not fail 1010"
r=$(send_text $C "Bem-vinda")
id=$(printf '%s' "$r" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
wait_for 5 grep -q "\"gsId\":\"$id\",\"type\":\"read\"" "$HOOKS" || fail "text in the sandbox not read"
sim inbox $C | grep -q 'failed    image' || fail "inbox lacks the failed image"
echo ok
