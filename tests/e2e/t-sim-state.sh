#!/bin/sh
# --state: customers, opt-ins, the wallet and messages survive a restart;
# the file is replaced atomically (no .tmp left behind).
. "$(dirname "$0")/simlib.sh"
sim_start --app "$APP" --apikey "$KEY" --event-delay 20 --state "$T/sim.state"

C=6281234567890
sim say $C "Halo" --name Budi >/dev/null || fail "say refused"
sim optin 2348031234567 >/dev/null || fail "optin refused"
r=$(send_text $C "Halo Budi")
id=$(printf '%s' "$r" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
wait_for 5 grep -q "\"gsId\":\"$id\",\"type\":\"read\"" "$HOOKS" || fail "not read"
sim wallet >"$T/w1"
sim_stop
[ -s "$T/sim.state" ] || fail "no state file"
[ -e "$T/sim.state.tmp" ] && fail "a temporary file was left"

sim_restart --app "$APP" --apikey "$KEY" --event-delay 20 --state "$T/sim.state"
sim wallet >"$T/w2"
cmp -s "$T/w1" "$T/w2" || fail "wallet changed across a restart: $(cat "$T/w1") / $(cat "$T/w2")"
sim inbox $C | grep -q "read      text     Halo Budi" || fail "inbox lost: $(sim inbox $C)"
sim inbox $C --json | grep -q '"name":"Budi"' || fail "name lost"
curl -s -H "apikey: $KEY" "$SIM/sm/api/v1/users/$APP" | grep -q '"phoneCode":"8031234567","lastMessageTimeStamp":0,"optinSource":"API","optinStatus":"OPT_IN"' \
	|| fail "opt-in lost"
# Still inside the window after the restart: a session message is read.
r=$(send_text $C "still here")
id=$(printf '%s' "$r" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
wait_for 5 grep -q "\"gsId\":\"$id\",\"type\":\"read\"" "$HOOKS" || fail "window lost across the restart"
sim_stop

echo 'not json' >"$T/bad.state"
if "$SIMBIN" --listen 127.0.0.1:1 --state "$T/bad.state" 2>"$T/bad.err"; then fail "a bad state file was accepted"; fi
grep -q "cannot load '$T/bad.state': state is not JSON" "$T/bad.err" || fail "bad state: $(cat "$T/bad.err")"
echo ok
