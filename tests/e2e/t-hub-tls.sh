#!/bin/sh
# A hub with tls_cert/tls_key serves wss:// and https://: its links say so,
# a console that trusts the certificate (SSL_CERT_FILE) connects, sends and
# receives; one that does not is refused with a sentence about the
# certificate, and plain http:// to the TLS port gets nothing.
. "$(dirname "$0")/lib.sh"
e2e_init
command -v openssl >/dev/null || fail "openssl(1) is needed to make a test certificate"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1 ||
	fail "openssl could not make a certificate: $(cat "$T/openssl.log")"

# start_desk, with the TLS keys written into wadesk.conf between init and run.
SIM_PORT=$(free_port)
HUB_PORT=$(free_port)
printf 'e2e-key\n' >"$T/apikey"
"$WADESKD" -d "$D" init --listen "127.0.0.1:$HUB_PORT" --provider sim \
	--api-url "http://127.0.0.1:$SIM_PORT" --app e2e --source 917000000000 \
	--apikey-file "$T/apikey" >"$T/init.out" 2>&1 || fail "init failed: $(cat "$T/init.out")"
sed -i "s|^tls_cert *=.*|tls_cert = $T/cert.pem|; s|^tls_key *=.*|tls_key = $T/key.pem|" "$D/wadesk.conf"
grep -q "^tls_cert = $T/cert.pem" "$D/wadesk.conf" || fail "wadesk.conf has no tls_cert line"

"$WADESKD" -d "$D" access show >"$T/links" || fail "access show failed"
AGENT_LINK=$(sed -n 's/^agent: //p' "$T/links")
WEBHOOK_URL=$(sed -n 's/^webhook: //p' "$T/links")
case $AGENT_LINK in wss://127.0.0.1:"$HUB_PORT"/v1/desk\#*) ;; *) fail "agent link is not wss://: $AGENT_LINK" ;; esac
case $WEBHOOK_URL in https://*) ;; *) fail "webhook URL is not https://: $WEBHOOK_URL" ;; esac
export WADESK_SIM=http://127.0.0.1:$SIM_PORT
HUB_URL=https://127.0.0.1:$HUB_PORT
healthy() { curl -sf --max-time 1 --cacert "$T/cert.pem" -o /dev/null "$HUB_URL/healthz"; }
# The sim posts webhooks to an https:// URL: it must trust the certificate too.
SSL_CERT_FILE=$T/cert.pem start_sim
start_hub

curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$HUB_PORT/healthz" &&
	fail "plain http:// to the TLS port was answered"
curl -s --max-time 2 -o /dev/null "$HUB_URL/healthz" &&
	fail "curl without the certificate trusted was answered"

# Not trusted: refused, saying why.
XDG_DATA_HOME=$T/d1 "$WADESK" --link "$AGENT_LINK" --name asha chats >"$T/out1" 2>"$T/err1"
st=$?
[ "$st" -eq 3 ] || fail "an untrusted hub: exit $st, want 3 ($(cat "$T/err1"))"
grep -q "certificate" "$T/err1" || fail "the refusal does not mention the certificate: $(cat "$T/err1")"

# Trusted: a customer's message arrives over the sim's https:// webhook,
# the console sees it over wss://, answers, and the sim receives the answer.
export SSL_CERT_FILE=$T/cert.pem
"$SIM" say 919812345678 "hello over tls" >/dev/null || fail "sim say failed"
wait_for 10 sh -c "XDG_DATA_HOME='$T/d2' '$WADESK' --link '$AGENT_LINK' --name asha chats --json 2>>'$T/err2' | grep -q 919812345678" ||
	fail "the chat did not reach a console over wss://: $(tail -3 "$T/err2")"
XDG_DATA_HOME=$T/d2 "$WADESK" --link "$AGENT_LINK" --name asha send 919812345678 "answer over tls" \
	>"$T/send.out" 2>"$T/send.err" || fail "send over wss:// failed: $(cat "$T/send.err")"
wait_for 10 sh -c "'$SIM' inbox 919812345678 | grep -q 'answer over tls'" ||
	fail "the sim did not receive the answer"
stop_hub
echo ok
