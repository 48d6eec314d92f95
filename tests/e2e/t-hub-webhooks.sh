#!/bin/sh
# The provider side of the hub: bad webhooks of each kind (404 wrong secret,
# 413 over 1 MiB, 400 not JSON / unknown shape / bad phone) apply nothing;
# a duplicate delivery is stored once; late, repeated and reordered
# message-events only move a message's state forward; an event that
# arrives before the send reply named its message is applied afterwards.
. "$(dirname "$0")/lib.sh"
e2e_init
start_desk

msg() {  # msg ID PHONE TEXT
	printf '{"app":"e2e","timestamp":1764065643000,"version":2,"type":"message","payload":{"id":"%s","source":"%s","type":"text","payload":{"text":"%s"},"sender":{"phone":"%s","name":"Ravi"}}}' "$1" "$2" "$3" "$2"
}
ev() {  # ev TYPE GSID WAID
	if [ "$1" = enqueued ]; then
		printf '{"app":"e2e","timestamp":1,"version":2,"type":"message-event","payload":{"id":"%s","type":"enqueued","destination":"919812345678","payload":{"whatsappMessageId":"%s","type":"session"}}}' "$2" "$3"
	elif [ "$1" = failed ]; then
		printf '{"app":"e2e","timestamp":1,"version":2,"type":"message-event","payload":{"id":"%s","type":"failed","destination":"919812345678","payload":{"code":1002,"reason":"Number does not exist"}}}' "$2"
	else
		printf '{"app":"e2e","timestamp":1,"version":2,"type":"message-event","payload":{"id":"%s","gsId":"%s","type":"%s","destination":"919812345678","payload":{"ts":1764065650}}}' "$3" "$2" "$1"
	fi
}

# ---- bad webhooks
good=$(msg wamid.A1 919812345678 hello)
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$good" "${WEBHOOK_URL}x")
[ "$st" = 404 ] || fail "wrong secret gave $st"
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$good" "$HUB_URL/v1/webhook/gupshup/")
[ "$st" = 404 ] || fail "empty secret gave $st"
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/big" "$WEBHOOK_URL")
[ "$st" = 413 ] || fail "1.1 MB body gave $st"
st=$(webhook 'this is not json')
[ "$st" = 400 ] || fail "not JSON gave $st"
grep -q . "$T/webhook.out" || fail "400 without a reason"
st=$(webhook '{"app":"e2e","version":2,"type":"weather","payload":{}}')
[ "$st" = 400 ] || fail "unknown type gave $st"
st=$(webhook "$(msg wamid.bad 12ab 'x')")
[ "$st" = 400 ] || fail "bad phone gave $st"
[ "$(hub_sql 'select count(*) from messages')" = 0 ] || fail "a bad webhook left a message"
[ "$(hub_sql 'select count(*) from events')" = 0 ] || fail "a bad webhook left an event"
grep -q 'webhook refused' "$T/hub.log" || fail "no log line for a refused webhook"

# ---- duplicates
[ "$(webhook "$good")" = 200 ] || fail "good webhook refused: $(cat "$T/webhook.out")"
[ "$(webhook "$good")" = 200 ] || fail "duplicate not answered 200"
[ "$(hub_sql "select count(*) from messages where provider_id='wamid.A1'")" = 1 ] ||
	fail "duplicate stored twice"
events=$(hub_sql 'select count(*) from events')

# ---- states only move forward: make an outbound message, then replay its events
# (the customer writes through the sim, so the sim's own 24 h window is open)
"$SIM" say 919812345678 "hello from the sim" >/dev/null || fail "sim say failed"
wait_for 5 sh -c "[ \"\$(sqlite3 '$D/wadesk.db' 'select count(*) from messages')\" = 2 ]" ||
	fail "sim's message did not arrive"
"$WADESK" --link "$AGENT_LINK" --name asha send 919812345678 "Hello Ravi" >/dev/null ||
	fail "send refused"
wait_for 10 sh -c "[ \"\$(sqlite3 '$D/wadesk.db' \"select state from messages where out=1\")\" = 4 ]" ||
	fail "the sim's events did not bring the message to read: $(hub_sql 'select state from messages where out=1')"
gs=$(hub_sql "select provider_id from messages where out=1")
wa=$(hub_sql "select wa_id from messages where out=1")
[ -n "$gs" ] && [ -n "$wa" ] || fail "provider ids not recorded (gs=$gs wa=$wa)"
before=$(hub_sql 'select count(*) from events')
for t in sent delivered enqueued sent read delivered; do
	[ "$(webhook "$(ev $t "$gs" "$wa")")" = 200 ] || fail "late $t refused"
done
[ "$(webhook "$(ev failed "$gs" "$wa")")" = 200 ] || fail "late failed refused"
[ "$(hub_sql "select state from messages where out=1")" = 4 ] || fail "state moved backwards"
[ "$(hub_sql 'select count(*) from events')" = "$before" ] || fail "late events produced events"

# ---- an event before its send reply is kept and applied later: seen via the
# pending table directly (the sim always answers first)
[ "$(webhook "$(ev delivered gs-unknown wa-unknown)")" = 200 ] || fail "early event refused"
[ "$(hub_sql "select state from pending_states where gs_id='gs-unknown'")" = 3 ] ||
	fail "early event not kept"

# ---- metrics and health
curl -sf "$HUB_URL/metrics" | grep -q '^wadesk_webhooks_total{result="duplicate"} [1-9]' ||
	fail "metrics lack the duplicate"
curl -sf "$HUB_URL/healthz" | grep -q '"queue_depth":0' || fail "healthz: $(curl -s "$HUB_URL/healthz")"
stop_hub
echo ok
