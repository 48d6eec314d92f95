#!/bin/sh
# Every error path of the send API, with Gupshup's status and body, and
# the control commands' exit codes.
. "$(dirname "$0")/simlib.sh"
sim_start --app "$APP" --apikey "$KEY" --event-delay 50

expect() {  # expect WHAT "STATUS BODY" ACTUAL
	[ "$2" = "$3" ] || fail "$1: want '$2', got '$3'"
}
MSG='{"type":"text","text":"hi"}'
C=919812345678

expect "wrong apikey" '401 {"status":"error","message":"Authentication Failed"}' \
	"$(POST_KEY=wrong post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=$C "message=$MSG" src.name=$APP)"
expect "no apikey" '401 {"status":"error","message":"Authentication Failed"}' \
	"$(curl -s -o "$T/b" -w '%{http_code}' -d x=1 "$SIM/sm/api/v1/msg") $(cat "$T/b")"
expect "missing destination" '400 {"status":"error","message":"Missing destination"}' \
	"$(post /sm/api/v1/msg channel=whatsapp source=917834811114 "message=$MSG" src.name=$APP)"
expect "missing message" '400 {"status":"error","message":"Missing message"}' \
	"$(post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=$C src.name=$APP)"
expect "missing template" '400 {"status":"error","message":"Missing template"}' \
	"$(post /sm/api/v1/template/msg channel=whatsapp source=917834811114 destination=$C src.name=$APP)"
expect "bad number" '400 {"status":"error","message":"Invalid Destination"}' \
	"$(post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=12ab "message=$MSG" src.name=$APP)"
expect "short number" '400 {"status":"error","message":"Invalid Destination"}' \
	"$(post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=12345 "message=$MSG" src.name=$APP)"
r=$(post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=$C 'message={"type":"text",' src.name=$APP)
case $r in '400 {"status":"error","message":"Invalid message: message is not JSON'*) ;; *) fail "bad JSON: $r" ;; esac
expect "unknown type" "400 {\"status\":\"error\",\"message\":\"Invalid message type 'sticker'\"}" \
	"$(post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=$C 'message={"type":"sticker"}' src.name=$APP)"
expect "wrong app" '400 {"status":"error","message":"Invalid App Details"}' \
	"$(post /sm/api/v1/msg channel=whatsapp source=917834811114 destination=$C "message=$MSG" src.name=Other)"
expect "unknown path" '404 {"status":"error","message":"Not Found"}' "$(post /sm/api/v1/nope a=b)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "apikey: $KEY" "$SIM/sm/api/v1/msg")
[ "$code" = 405 ] || fail "GET on the send path: $code"
head -c 1100000 /dev/zero | tr '\0' a >"$T/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "apikey: $KEY" --data-binary @"$T/big" "$SIM/sm/api/v1/msg")
[ "$code" = 413 ] || fail "1.1 MB body: $code"

# More than 20 messages a second: 429 with an error body, then fine again.
# (one curl process, 30 requests on one connection, well within a second)
i=0
: >"$T/burst.cfg"
while [ $i -lt 30 ]; do
	cat >>"$T/burst.cfg" <<CFG
url = "$SIM/sm/api/v1/msg"
header = "apikey: $KEY"
data-urlencode = "channel=whatsapp"
data-urlencode = "source=917834811114"
data-urlencode = "destination=$C"
data-urlencode = "message={\"type\":\"text\",\"text\":\"burst $i\"}"
data-urlencode = "src.name=$APP"
write-out = "%{http_code}\n"
output = "$T/burst.$i"
CFG
	i=$((i + 1))
	[ $i -lt 30 ] && echo next >>"$T/burst.cfg"
done
curl -s -K "$T/burst.cfg" >"$T/burst.codes"
ok=$(grep -c '^202$' "$T/burst.codes")
limited=$(grep -c '^429$' "$T/burst.codes")
[ "$limited" -gt 0 ] || fail "30 sends in a burst: none limited ($ok accepted)"
[ "$ok" -le 20 ] || fail "more than 20 accepted in a burst: $ok"
[ $((ok + limited)) -eq 30 ] || fail "burst answers: $(sort "$T/burst.codes" | uniq -c)"
last="429 $(cat "$T/burst.29")"
expect "429 body" '429 {"status":"error","message":"Too Many Requests"}' "$last"
sleep 1.1
r=$(send_text $C "after the burst")
[ "${r%% *}" = 202 ] || fail "after a second: $r"

# Control commands: usage 2, refused 1, unreachable 3.
"$SIMBIN" say >/dev/null 2>&1; [ $? -eq 2 ] || fail "say without arguments: not 2"
"$SIMBIN" bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command: not 2"
sim say 12 "hi" >/dev/null 2>&1; [ $? -eq 1 ] || fail "say to a bad number: not 1"
sim optin abc >/dev/null 2>&1; [ $? -eq 1 ] || fail "optin of a bad number: not 1"
"$SIMBIN" wallet --sim http://127.0.0.1:1 >/dev/null 2>&1; [ $? -eq 3 ] || fail "unreachable sim: not 3"
for c in "" say optin optout inbox wallet load sink; do
	"$SIMBIN" $c --help | grep -q usage || fail "$c --help"
done
# The last started sim is the default.
"$SIMBIN" wallet >/dev/null || fail "wallet without --sim"
echo ok
