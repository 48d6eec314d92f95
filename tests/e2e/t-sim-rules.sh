#!/bin/sh
# WhatsApp's refusals as failed message-events with Gupshup's codes: a
# session message outside the 24 h window (1004), a template whose params
# do not fit (1005), a template to a customer not opted in (1006) or opted
# out (1012), and a send the wallet cannot cover (1003).
. "$(dirname "$0")/simlib.sh"

# A state file: one customer who wrote 25 h ago, one opted out, and a
# wallet with 250 micro-dollars.
now=$(date +%s)000
old=$(( $(date +%s) - 90000 ))000
cat >"$T/state.json" <<JSON
{"version":1,"balance_micro":250,"ledger":[],"customers":[
 {"phone":"919800000001","name":"Old","opted_in":false,"optin_ms":0,"last_inbound_ms":$old,"bound":false,"messages":[]},
 {"phone":"919800000002","name":"Out","opted_in":false,"optin_ms":$now,"last_inbound_ms":0,"bound":false,"messages":[]}]}
JSON
sim_start --app "$APP" --apikey "$KEY" --event-delay 50 --state "$T/state.json"

failed_with() {  # failed_with "STATUS BODY" CODE
	id=$(printf '%s' "$1" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
	[ "${1%% *}" = 202 ] || fail "send answered $1"
	wait_for 5 grep -q "\"id\":\"$id\",\"type\":\"failed\",\"destination\":\"[0-9]*\",\"payload\":{\"code\":$2," "$HOOKS" \
		|| fail "no failed event with code $2 for $id"
}
tmpl() {  # tmpl DEST JSON
	post /sm/api/v1/template/msg channel=whatsapp source=917834811114 "destination=$1" "template=$2" src.name=$APP
}

failed_with "$(send_text 919800000001 "too late")" 1004
failed_with "$(tmpl 919800000001 '{"id":"6c1a2e52-order-update","params":["#1","late"]}')" 1006
failed_with "$(tmpl 919800000002 '{"id":"6c1a2e52-order-update","params":["#1","late"]}')" 1012
sim optin 919800000001 >/dev/null || fail "optin refused"
failed_with "$(tmpl 919800000001 '{"id":"6c1a2e52-order-update","params":["#1"]}')" 1005
failed_with "$(tmpl 919800000001 '{"id":"no-such-template","params":[]}')" 1005
failed_with "$(tmpl 919800000001 '{"id":"6c1a2e52-order-update","params":["#1",""]}')" 1005
# Opted in, params fit, but a template to 91 costs 4700 and the wallet has 250.
failed_with "$(tmpl 919800000001 '{"id":"6c1a2e52-order-update","params":["#1","packed"]}')" 1003
# A fresh message (100 charged) opens the window; a session message (100) fits.
sim say 919800000001 "hello again" >/dev/null || fail "say refused"
r=$(send_text 919800000001 "welcome back")
id=$(printf '%s' "$r" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
wait_for 5 grep -q "\"gsId\":\"$id\",\"type\":\"read\"" "$HOOKS" || fail "session message in the window not read"
sim wallet | grep -q '^balance: \$0.000050 ' || fail "wallet: $(sim wallet | head -1)"
echo ok
