#!/bin/sh
# The desk side end to end: a customer writes through the sim and a
# console (`wadesk tail --json`) receives the events; an agent's reply goes
# through the outbox to the sim with the right fields, and the sim's
# delivery events move it to read; roles are enforced; a console that
# reconnects resumes from its last event with no gap and no duplicate.
. "$(dirname "$0")/lib.sh"
e2e_init
start_desk
P=919812345678

XDG_DATA_HOME=$T/tailcache "$WADESK" --link "$AGENT_LINK" --name asha tail --json >"$T/tail.out" 2>"$T/tail.err" &
TAIL=$!
track "$TAIL"
sleep 0.3
"$SIM" say $P "Where is my order #4411?" --name "Asha K" >/dev/null || fail "sim say failed"
wait_for 5 grep -q 'Where is my order #4411?' "$T/tail.out" || fail "the console did not get the message"
grep -q '"kind":"contact".*"name":"Asha K".*"status":"Notifying agent"' "$T/tail.out" ||
	fail "no contact event: $(cat "$T/tail.out")"

"$WADESK" --link "$AGENT_LINK" --name ravi send $P "It ships *today*" >"$T/send.out" ||
	fail "send refused: $(cat "$T/send.out")"
wait_for 10 grep -q '"state":"read"' "$T/tail.out" || fail "the message never reached read: $(tail -n 5 "$T/tail.out")"
for s in submitted sent delivered read; do
	grep -q "\"kind\":\"message.state\",\"id\":\"2\",\"phone\":\"$P\",\"state\":\"$s\"" "$T/tail.out" ||
		fail "no $s event"
done
"$SIM" inbox $P --json >"$T/inbox.json" || fail "sim inbox failed"
grep -q '"type":"text","text":"It ships \*today\*","status":"read"' "$T/inbox.json" ||
	fail "the sim did not receive exactly the text: $(cat "$T/inbox.json")"
[ "$(grep -o '"text":"It ships' "$T/inbox.json" | wc -l)" -eq 1 ] || fail "sent more than once"
[ "$(hub_sql "select agent || '|' || state || '|' || (provider_id is not null) from messages where out=1")" = "ravi|4|1" ] ||
	fail "stored outbound message wrong: $(hub_sql 'select * from messages where out=1')"

# Roles: tags need a supervisor, rotation an admin.
"$WADESK" --link "$AGENT_LINK" --name asha tag $P vip 2>"$T/err" && fail "an agent could tag"
grep -q 'auth.role' "$T/err" || fail "agent tag: $(cat "$T/err")"
"$WADESK" --link "$SUPERVISOR_LINK" --name sue tag $P vip >/dev/null || fail "a supervisor could not tag"
"$WADESK" --link "$SUPERVISOR_LINK" --name sue access rotate 2>"$T/err" >/dev/null &&
	fail "a supervisor could rotate"
grep -q 'auth.role' "$T/err" || fail "supervisor rotate: $(cat "$T/err")"
wait_for 5 grep -q '"tags":\["vip"\]' "$T/tail.out" || fail "the tag did not reach the console"

# The event numbers the console saw are 1..N with no gap and no duplicate.
grep -o '"n":[0-9]*' "$T/tail.out" | cut -d: -f2 >"$T/ns"
last=$(tail -n 1 "$T/ns")
[ "$(sort -n -u "$T/ns" | wc -l)" -eq "$last" ] && [ "$(wc -l <"$T/ns")" -eq "$last" ] ||
	fail "events with gaps or duplicates: $(tr '\n' ' ' <"$T/ns")"
[ "$last" -eq "$(hub_sql 'select max(n) from events')" ] || fail "the console missed the last events"

# History pages through the chat.
"$WADESK" --link "$AGENT_LINK" --name asha history --json $P >"$T/hist.json" || fail "history failed"
grep -q '"direction": *"in"' "$T/hist.json" && grep -q '"direction": *"out"' "$T/hist.json" ||
	fail "history: $(cat "$T/hist.json")"
stop_hub
echo ok
