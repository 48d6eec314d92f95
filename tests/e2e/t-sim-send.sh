#!/bin/sh
# wadesk-sim alone: a customer writes in, the business answers through the
# send API, the events arrive in order, the inbox and wallet show it, the
# account APIs answer, and SIGTERM stops the sim cleanly.
. "$(dirname "$0")/simlib.sh"
sim_start --app "$APP" --apikey "$KEY" --event-delay 50

C=919812345678
sim say "$C" "Hi, where is my order?" --name Asha >"$T/say" || fail "say refused"
grep -qx delivered "$T/say" || fail "say said: $(cat "$T/say")"
wait_for 5 grep -q '"type":"message"' "$HOOKS" || fail "no message webhook"
grep -q '"payload":{"text":"Hi, where is my order?"}' "$HOOKS" || fail "wrong message body"
grep -q '"sender":{"phone":"919812345678","name":"Asha"' "$HOOKS" || fail "wrong sender"

r=$(send_text "$C" "On its way")
case $r in "202 {\"status\":\"submitted\",\"messageId\":\""*) ;; *) fail "send answered: $r" ;; esac
id=$(printf '%s' "$r" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
wait_for 5 grep -q "\"gsId\":\"$id\",\"type\":\"read\"" "$HOOKS" || fail "no read event for $id"
# enqueued (Gupshup id in id), then sent, delivered, read (gsId), in that order
grep -n "$id" "$HOOKS" | sed 's/.*"type":"\(enqueued\|sent\|delivered\|read\)".*/\1/' | tr '\n' ' ' >"$T/order"
[ "$(cat "$T/order")" = "enqueued sent delivered read " ] || fail "event order: $(cat "$T/order")"
grep -q "\"id\":\"$id\",\"type\":\"enqueued\",\"destination\":\"$C\",\"payload\":{\"whatsappMessageId\":\"gBEG" "$HOOKS" \
	|| fail "enqueued lacks whatsappMessageId"

sim inbox "$C" >"$T/inbox" || fail "inbox refused"
grep -q "read      text     On its way" "$T/inbox" || fail "inbox: $(cat "$T/inbox")"
sim inbox "$C" --json | grep -q "\"id\":\"$id\"" || fail "inbox --json lacks the message"

# Templates: opt in through the API, then a template to a customer who never wrote.
O=447700900123
r=$(post /sm/api/v1/app/opt/in/"$APP" user=$O)
[ "${r%% *}" = 202 ] || fail "opt-in answered $r"
wait_for 5 grep -q "\"phone\":\"$O\",\"type\":\"opted-in\"" "$HOOKS" || fail "no opted-in event"
r=$(post /sm/api/v1/template/msg channel=whatsapp source=917834811114 destination=$O \
	'template={"id":"6c1a2e52-order-update","params":["#4521","on its way"]}' src.name=$APP)
[ "${r%% *}" = 202 ] || fail "template answered $r"
wait_for 5 sh -c "'$SIMBIN' inbox $O --sim $SIM | grep -q 'read.*template 6c1a2e52-order-update \\[#4521, on its way\\] Your order #4521 is on its way.'" \
	|| fail "template inbox: $(sim inbox $O)"

# Account APIs.
curl -s -H "apikey: $KEY" "$SIM/sm/api/v1/template/list/$APP" | grep -q '"elementName":"order_update"' || fail "template list"
curl -s -H "apikey: $KEY" "$SIM/sm/api/v1/users/$APP" | grep -q '"countryCode":"44","phoneCode":"7700900123"' || fail "users"
curl -s -H "apikey: $KEY" "$SIM/sm/api/v2/wallet/balance" | grep -q '"currentBalance":0\.9' || fail "wallet balance"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "apikey: $KEY" "$SIM/sm/api/v1/wamedia/$APP/nope")
[ "$code" = 404 ] || fail "unknown media: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SIM/sm/api/v1/wamedia/$APP/nope")
[ "$code" = 401 ] || fail "media without the apikey: $code"

# Wallet: incoming + session (100 each) + template to 44 (39600 + 100).
sim wallet >"$T/wallet"
grep -q '^balance: \$0.960100 ' "$T/wallet" || fail "wallet: $(cat "$T/wallet")"
sim wallet --json | grep -q '"balance_micro":960100' || fail "wallet --json"

sim_stop
echo ok
