#!/bin/sh
# SIGHUP rereads wadesk.conf and the running hub uses it: the outbox rate
# goes from 20/s to 1/s (the sim's ledger shows the sends a second apart),
# and a broken file is refused while the hub keeps its settings.
. "$(dirname "$0")/lib.sh"
e2e_init
start_desk
A=919812345621 B=919812345622
"$SIM" say $A "hi" >/dev/null && "$SIM" say $B "hi" >/dev/null || fail "sim say failed"
wait_for 10 sh -c "[ \"\$(sqlite3 '$D/wadesk.db' 'select count(*) from messages where out = 0')\" = 2 ]" ||
	fail "the inbound messages did not arrive"

# The sends' times in the sim's ledger, in ms, one per line.
sends() {
	curl -sf "$WADESK_SIM/sim/wallet" >"$T/wallet.json" || fail "cannot read the sim's wallet"
	python3 -c 'import json, sys
for e in json.load(open(sys.argv[1]))["ledger"]:
    if e.get("what") == "session message":
        print(e["time_ms"])' "$T/wallet.json"
}
# send_burst TAG: 4 sends, 2 per customer, queued at once (desk_send.py).
send_burst() {
	python3 "$(dirname "$0")/desk_send.py" "$AGENT_LINK" asha "$A:$1 1" "$B:$1 1" "$A:$1 2" "$B:$1 2" \
		>"$T/send.out" 2>&1 || fail "the '$1' sends were not all accepted: $(cat "$T/send.out")"
}
# spread FIRST: ms between the first and the last send, from line FIRST on.
spread() { sends | tail -n "+$1" | awk 'NR == 1 { a = $1 } { b = $1 } END { print b - a }'; }

# At the initial rate 20/s the four sends go out close together.
grep -q '^rate = 20$' "$D/wadesk.conf" || fail "wadesk.conf has no 'rate = 20' line to edit"
send_burst fast
wait_for 20 sh -c "[ \"\$(sqlite3 '$D/wadesk.db' 'select count(*) from outbox')\" = 0 ]" || fail "the fast sends did not go out"
wait_for 10 sh -c "[ \"\$(curl -sf '$WADESK_SIM/sim/wallet' | grep -o 'session message' | wc -l)\" -ge 4 ]" ||
	fail "the sim did not see the fast sends"
[ "$(spread 1)" -lt 900 ] || fail "at rate 20 four sends took $(spread 1) ms"

sed -i 's/^rate = .*/rate = 1/' "$D/wadesk.conf"
kill -HUP "$HUB_PID"
wait_for 10 grep -q 'configuration reloaded' "$T/hub.log" || fail "no reload after SIGHUP"
send_burst slow
wait_for 30 sh -c "[ \"\$(sqlite3 '$D/wadesk.db' 'select count(*) from outbox')\" = 0 ]" || fail "the slow sends did not go out"
wait_for 10 sh -c "[ \"\$(curl -sf '$WADESK_SIM/sim/wallet' | grep -o 'session message' | wc -l)\" -ge 8 ]" ||
	fail "the sim did not see the slow sends"
s=$(spread 5)
[ "$s" -ge 2900 ] || fail "after the reload to rate 1, four sends took only $s ms"

# A broken file is refused; the hub runs on with what it had.
echo "bogus = 1" >>"$D/wadesk.conf"
kill -HUP "$HUB_PID"
wait_for 10 grep -q 'reload refused' "$T/hub.log" || fail "a broken wadesk.conf was not refused"
healthy || fail "the hub is not healthy after a refused reload"
kill -0 "$HUB_PID" || fail "the hub died on a refused reload"
stop_hub
echo "ok (4 sends in $s ms after the reload)"
