#!/bin/sh
# Rich media on the hub (docs/media.md), real processes on loopback.
# Inbound: a document, images (PNG, JPEG), audio (MP3) and video (MP4) sent
# by a customer are committed pending, downloaded by the hub, sniffed and
# kept: a console (`wadesk tail --json`) sees pending then ready with the
# sha256, and GET /v1/media/SHA256 gives the exact bytes with the token,
# 401 without, 304 to an If-None-Match naming the digest (also on the
# public URL).  A renamed ELF is refused (media.type), a file over its cap
# (media.size); the provider's URL gone after the download does not matter;
# a download failing twice then succeeds; a hub killed mid-download resumes
# the job after its restart.  Outbound: an upload with curl(1) then a send
# gives the provider the public URL, which serves the bytes; an inbound
# file's public URL is 404.  The provider side is a small python3 origin
# server (the sim's media support comes separately).
. "$(dirname "$0")/lib.sh"
e2e_init
command -v python3 >/dev/null || fail "python3 is needed"
# The hub's upload worker waits before each sniff until $T/gate exists
# (creating $T/gate.held first): open unless a case closes it.
export WADESK_TEST_UPLOAD_GATE="$T/gate"
: >"$T/gate"
start_desk

AGENT_TOKEN=${AGENT_LINK#*#}
PHONE=919812345678

# ---- the origin: serves $T/www, with failure modes by path prefix
mkdir -p "$T/www"
cat >"$T/origin.py" <<'EOF'
import http.server, os, sys, time, threading
root, logf = sys.argv[2], sys.argv[3]
counts = {}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        parts = self.path.split('/')
        mode, name = parts[1], parts[-1]
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            n = counts[self.path]
        with open(logf, 'a') as f:
            f.write('%s %d\n' % (self.path, n))
        path = os.path.join(root, name)
        if (mode == 'fail2' and n <= 2) or not os.path.isfile(path):
            self.send_response(503 if mode == 'fail2' and n <= 2 else 404)
            self.send_header('Content-Length', '0'); self.end_headers(); return
        if mode == 'once' and n > 1:
            self.send_response(404); self.send_header('Content-Length', '0'); self.end_headers(); return
        data = open(path, 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if mode == 'slow':
            for i in range(0, len(data), 16384):
                self.wfile.write(data[i:i + 16384]); self.wfile.flush(); time.sleep(0.05)
        else:
            self.wfile.write(data)
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
EOF
ORIGIN_PORT=$(free_port)
python3 "$T/origin.py" "$ORIGIN_PORT" "$T/www" "$T/origin.log" 2>>"$T/origin.err" &
track $!
ORIGIN=http://127.0.0.1:$ORIGIN_PORT
origin_up() { curl -s -o /dev/null --max-time 1 "$ORIGIN/f/none"; }
wait_for 10 origin_up || fail "the origin server did not come up"

# ---- samples, made here (as tests/unit/test_sniff.c does)
python3 - "$T/www" <<'EOF'
import os, struct, sys, zlib
d = sys.argv[1]
def w(name, data): open(os.path.join(d, name), 'wb').write(data)
def chunk(t, b): return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
w('invoice.pdf', b'%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'
  b'2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')
w('shot.png', b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 0, 0, 0, 0))
  + chunk(b'IDAT', zlib.compress(b'\x00\x00')) + chunk(b'IEND', b''))
w('photo.jpg', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]) + b'JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00' + bytes([0xff, 0xd9]))
w('song.mp3', b'ID3\x03' + bytes(6) + (bytes([0xff, 0xfb, 0x90, 0x64]) + bytes(413)) * 2)
w('clip.mp4', struct.pack('>I', 24) + b'ftypisom' + struct.pack('>I', 0x200) + b'isommp41'
  + struct.pack('>I', 8) + b'free')
# over the 5 MB image cap, but a real PNG header
w('huge.png', b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 1, 1, 8, 0, 0, 0, 0))
  + b'\0' * 6000000)
# a 1 MB MP3 served slowly (the hub is killed while it downloads)
w('long.mp3', b'ID3\x03' + bytes(6) + (bytes([0xff, 0xfb, 0x90, 0x64]) + bytes(413)) * 2500)
EOF
cp /bin/true "$T/www/x.pdf"
cp "$T/www/invoice.pdf" "$T/www/gone.pdf"
cp "$T/www/shot.png" "$T/www/flaky.png"
printf 'uploaded %s\n' "$(date +%s%N)" >"$T/www/up.txt"

# Fast retries for the test: 0.2 s, 0.6 s, 2.4 s ... (read at use: SIGHUP)
printf '\n[provider]\nmedia_backoff_ms = 200\n' >>"$D/wadesk.conf"
kill -HUP "$HUB_PID"
wait_for 10 grep -q 'configuration reloaded' "$T/hub.log" || fail "the hub did not reload"

XDG_DATA_HOME=$T/tailcache "$WADESK" --link "$AGENT_LINK" --name asha tail --json \
	>"$T/tail.out" 2>"$T/tail.err" &
track $!
wait_for 10 grep -q 'connected as asha' "$T/hub.log" || fail "the console did not connect"

SEQ=0
media_msg() {  # media_msg TYPE URL CONTENTTYPE NAME CAPTION (id wamid.M$SEQ)
	printf '{"app":"e2e","timestamp":1764065643000,"version":2,"type":"message","payload":{"id":"wamid.M%s","source":"%s","type":"%s","payload":{"url":"%s","contentType":"%s","name":"%s","caption":"%s"},"sender":{"phone":"%s","name":"Ravi"}}}' \
		"$SEQ" "$PHONE" "$1" "$2" "$3" "$4" "$5" "$PHONE"
}
mid() { hub_sql "select id from messages where provider_id = 'wamid.M$1'"; }
mstate() { hub_sql "select media_state from messages where provider_id = 'wamid.M$1'"; }
msha() { hub_sql "select media_sha256 from messages where provider_id = 'wamid.M$1'"; }
is_state() { [ "$(mstate "$1")" = "$2" ]; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
get_media() {  # get_media SHA OUT [TOKEN] -> HTTP status
	curl -s -o "$2" -w '%{http_code}' --max-time 10 ${3:+-H "Authorization: Bearer $3"} \
		"$HUB_URL/v1/media/$1"
}

# ---- inbound, one per category (and the 200 does not wait for the download)
i=0
for row in "file invoice.pdf application/pdf application/pdf" \
	"image shot.png image/png image/png" "image photo.jpg image/jpeg image/jpeg" \
	"audio song.mp3 audio/mpeg audio/mpeg3" "video clip.mp4 video/mp4 video/mp4"; do
	set -- $row
	i=$((i + 1))
	SEQ=$i
	st=$(webhook "$(media_msg "$1" "$ORIGIN/f/$2" "$3" "$2" "caption $i")")
	[ "$st" = 200 ] || fail "media webhook $2 gave $st"
	eval "want_$i=$4 file_$i=$2"
done
for k in 1 2 3 4 5; do
	eval "f=\$file_$k w=\$want_$k"
	wait_for 20 is_state "$k" ready || fail "$f: media state $(mstate "$k"), not ready"
	sha=$(msha "$k")
	[ "$sha" = "$(sha_of "$T/www/$f")" ] || fail "$f: stored digest $sha"
	[ "$(hub_sql "select media_mime from messages where provider_id = 'wamid.M$k'")" = "$w" ] ||
		fail "$f: stored type $(hub_sql "select media_mime from messages where provider_id = 'wamid.M$k'"), want $w"
	st=$(get_media "$sha" "$T/got" "$AGENT_TOKEN")
	[ "$st" = 200 ] || fail "$f: GET /v1/media with the token gave $st"
	cmp -s "$T/got" "$T/www/$f" || fail "$f: GET /v1/media returned other bytes"
	st=$(get_media "$sha" "$T/got")
	[ "$st" = 401 ] || fail "$f: GET /v1/media without a token gave $st"
	st=$(get_media "$sha" "$T/got" "not-a-token")
	[ "$st" = 401 ] || fail "$f: GET /v1/media with a wrong token gave $st"
	# the console saw pending, then ready with the digest
	id=$(mid "$k")
	wait_for 10 grep -q "\"id\":\"$id\".*\"sha256\":\"$sha\".*\"state\":\"ready\"" "$T/tail.out" ||
		fail "$f: no ready message event on the console: $(grep "\"id\":\"$id\"" "$T/tail.out")"
	grep -q "\"id\":\"$id\".*\"state\":\"pending\"" "$T/tail.out" ||
		fail "$f: the console never saw it pending"
done
curl -s -D "$T/hdrs" -o /dev/null -H "Authorization: Bearer $AGENT_TOKEN" "$HUB_URL/v1/media/$(msha 1)"
grep -qi '^content-type: application/pdf' "$T/hdrs" || fail "no Content-Type: $(cat "$T/hdrs")"
grep -qi '^x-content-type-options: nosniff' "$T/hdrs" || fail "no nosniff header"
grep -qi "^etag: \"$(msha 1)\"" "$T/hdrs" || fail "no ETag"
grep -qi '^cache-control: .*immutable' "$T/hdrs" || fail "no immutable Cache-Control"
# revalidation: the ETag is the digest and the bytes never change -> 304, no body
st=$(curl -s -D "$T/h304" -o "$T/b304" -w '%{http_code}' -H "Authorization: Bearer $AGENT_TOKEN" \
	-H "If-None-Match: \"$(msha 1)\"" "$HUB_URL/v1/media/$(msha 1)")
[ "$st" = 304 ] || fail "If-None-Match with the ETag gave $st, not 304"
[ ! -s "$T/b304" ] || fail "a 304 carried a body"
grep -qi "^etag: \"$(msha 1)\"" "$T/h304" || fail "the 304 has no ETag: $(cat "$T/h304")"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AGENT_TOKEN" \
	-H 'If-None-Match: W/"x", *' "$HUB_URL/v1/media/$(msha 1)")
[ "$st" = 304 ] || [ "$st" = 200 ] || fail "If-None-Match with a list gave $st"
st=$(curl -s -o "$T/b200" -w '%{http_code}' -H "Authorization: Bearer $AGENT_TOKEN" \
	-H "If-None-Match: \"$(msha 2)\"" "$HUB_URL/v1/media/$(msha 1)")
[ "$st" = 200 ] && [ -s "$T/b200" ] || fail "If-None-Match with another digest gave $st"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"$(msha 1)\"" "$HUB_URL/v1/media/$(msha 1)")
[ "$st" = 401 ] || fail "If-None-Match without a token gave $st, not 401"
st=$(get_media 0000000000000000000000000000000000000000000000000000000000000000 "$T/got" "$AGENT_TOKEN")
[ "$st" = 404 ] || fail "unknown hash gave $st"
st=$(get_media "../../wadesk.db" "$T/got" "$AGENT_TOKEN")
[ "$st" = 404 ] || [ "$st" = 403 ] || [ "$st" = 400 ] || fail "a path as hash gave $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$HUB_URL/v1/media/$(msha 1)?token=$AGENT_TOKEN")
[ "$st" = 401 ] || fail "a token in the URL was accepted ($st)"

# ---- a renamed executable, a file over its cap: refused, final
SEQ=$((SEQ + 1)); webhook "$(media_msg file "$ORIGIN/f/x.pdf" application/pdf x.pdf "")" >/dev/null
EXE=$SEQ
SEQ=$((SEQ + 1)); webhook "$(media_msg image "$ORIGIN/f/huge.png" image/png huge.png "")" >/dev/null
HUGE=$SEQ
wait_for 20 is_state "$EXE" refused || fail "renamed ELF: state $(mstate "$EXE")"
[ "$(hub_sql "select media_code from messages where id = $(mid "$EXE")")" = media.type ] || fail "renamed ELF: not media.type"
hub_sql "select media_error from messages where id = $(mid "$EXE")" | grep -q 'ELF' ||
	fail "renamed ELF: the sentence does not say what it is: $(hub_sql "select media_error from messages where id = $(mid "$EXE")")"
wait_for 20 is_state "$HUGE" refused || fail "over-cap image: state $(mstate "$HUGE")"
[ "$(hub_sql "select media_code from messages where id = $(mid "$HUGE")")" = media.size ] || fail "over-cap image: not media.size"
wait_for 10 grep -q "\"id\":\"$(mid "$EXE")\".*\"code\":\"media.type\"" "$T/tail.out" ||
	fail "the console did not see the media.type refusal"
[ "$(hub_sql "select count(*) from media_jobs where msg_id in ($(mid "$EXE"), $(mid "$HUGE"))")" = 0 ] ||
	fail "a refused download is still queued"

# ---- the provider's URL is gone after the download; the file stays served
SEQ=$((SEQ + 1)); webhook "$(media_msg file "$ORIGIN/once/gone.pdf" application/pdf gone.pdf "")" >/dev/null
GONE=$SEQ
wait_for 20 is_state "$GONE" ready || fail "once-URL: state $(mstate "$GONE")"
st=$(curl -s -o /dev/null -w '%{http_code}' "$ORIGIN/once/gone.pdf")
[ "$st" = 404 ] || fail "the origin still serves the once-URL ($st)"
st=$(get_media "$(msha "$GONE")" "$T/got" "$AGENT_TOKEN")
[ "$st" = 200 ] && cmp -s "$T/got" "$T/www/gone.pdf" || fail "the file is not served after its URL expired ($st)"

# ---- failing twice, then succeeding; the reason shows meanwhile
SEQ=$((SEQ + 1)); webhook "$(media_msg image "$ORIGIN/fail2/flaky.png" image/png flaky.png "")" >/dev/null
FLAKY=$SEQ
wait_for 30 is_state "$FLAKY" ready || fail "flaky download: state $(mstate "$FLAKY") ($(hub_sql "select media_error from messages where id = $(mid "$FLAKY")"))"
[ "$(grep -c '^/fail2/flaky.png' "$T/origin.log")" = 3 ] || fail "flaky download: $(grep -c '^/fail2/flaky.png' "$T/origin.log") requests, want 3"
grep "\"id\":\"$(mid "$FLAKY")\"" "$T/tail.out" | grep -q 'not downloaded yet: HTTP 503 from the provider (attempt 1; next try' ||
	fail "the console was not told why the download waits"
curl -s "$HUB_URL/metrics" >"$T/metrics"
grep -q '^wadesk_media_download_retries_total [1-9]' "$T/metrics" || fail "no retries in /metrics"
grep -q '^wadesk_media_downloads_total{result="ok"} [1-9]' "$T/metrics" || fail "no downloads in /metrics"
grep -q '^wadesk_media_downloads_total{result="refused"} 2' "$T/metrics" || fail "refusals not counted"

# ---- the hub killed mid-download resumes the job after its restart
SEQ=$((SEQ + 1)); webhook "$(media_msg audio "$ORIGIN/slow/long.mp3" audio/mpeg long.mp3 "")" >/dev/null
LONG=$SEQ
wait_for 10 grep -q '^/slow/long.mp3 1' "$T/origin.log" || fail "the slow download did not start"
sleep 0.3
kill_hub
is_state "$LONG" pending || fail "killed mid-download: state $(mstate "$LONG")"
[ "$(hub_sql "select count(*) from media_jobs where msg_id = $(mid "$LONG")")" = 1 ] || fail "the job was lost"
start_hub
wait_for 60 is_state "$LONG" ready || fail "after the restart: state $(mstate "$LONG")"
[ "$(msha "$LONG")" = "$(sha_of "$T/www/long.mp3")" ] || fail "resumed download: wrong digest"
grep -q '^/slow/long.mp3 2' "$T/origin.log" || fail "the job was not fetched again after the restart"
[ "$(ls "$D/media/tmp" | wc -l)" -le 1 ] || fail "temporary files pile up: $(ls "$D/media/tmp")"

# ---- outbound: upload, send, the provider fetches the public URL
up() {  # up FILE CTYPE [TOKEN] -> status, body in $T/up.out
	curl -s -o "$T/up.out" -w '%{http_code}' --max-time 20 -H 'Expect:' -H "Content-Type: $2" \
		${3:+-H "Authorization: Bearer $3"} --data-binary @"$1" "$HUB_URL/v1/media"
}
st=$(up "$T/www/up.txt" text/plain)
[ "$st" = 401 ] || fail "upload without a token gave $st"
st=$(up /bin/true application/pdf "$AGENT_TOKEN")
[ "$st" = 415 ] || fail "upload of an ELF gave $st"
grep -q '"code":"media.type"' "$T/up.out" || fail "ELF upload: $(cat "$T/up.out")"
st=$(up "$T/www/huge.png" image/png "$AGENT_TOKEN")
[ "$st" = 413 ] || fail "upload of a 6 MB image gave $st"
grep -q '"code":"media.size"' "$T/up.out" || fail "big upload: $(cat "$T/up.out")"
# Content-Length over the largest cap: 413 before the body (a raw client, as
# curl(1) may still be sending when the hub answers and closes)
cat >"$T/bigpost.py" <<'EOF'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
s.sendall(('POST /v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n'
           'Content-Type: application/pdf\r\nContent-Length: 200000000\r\n\r\n' % sys.argv[2]).encode()
          + b'%PDF-1.4\n' + b'\0' * 65536)
r = b''
while b'\r\n' not in r:
    d = s.recv(4096)
    if not d:
        break
    r += d
print(r.split(b' ')[1].decode() if r else '000')
EOF
st=$(python3 "$T/bigpost.py" "$HUB_PORT" "$AGENT_TOKEN")
[ "$st" = 413 ] || fail "upload over the largest cap gave $st"
st=$(up "$T/www/invoice.pdf" application/pdf "$AGENT_TOKEN")
[ "$st" = 201 ] || fail "upload gave $st: $(cat "$T/up.out")"
USHA=$(sha_of "$T/www/invoice.pdf")
grep -q "\"sha256\":\"$USHA\"" "$T/up.out" && grep -q '"mime":"application/pdf"' "$T/up.out" ||
	fail "upload reply: $(cat "$T/up.out")"

# The sniff and commit of an upload run off the loop: with a 12 MB video
# held in the upload worker (the gate closed), a webhook is still answered
# and committed, and the upload is answered once the worker goes on.
python3 - "$T/big.mp4" <<'EOF'
import struct, sys
ftyp = b'ftypisom\0\0\x02\0isomiso2mp41'
mdat = b'mdat' + bytes(range(256)) * (12 * 4096)
open(sys.argv[1], 'wb').write(struct.pack('>I', len(ftyp) + 4) + ftyp + struct.pack('>I', len(mdat) + 4) + mdat)
EOF
rm -f "$T/gate" "$T/gate.held" "$T/bigup.st"
( up "$T/big.mp4" video/mp4 "$AGENT_TOKEN" >"$T/bigup.tmp"; mv "$T/bigup.tmp" "$T/bigup.st" ) &
track $!
wait_for 30 test -e "$T/gate.held" || { : >"$T/gate"; fail "the upload never reached the upload worker"; }
SEQ=$((SEQ + 1))
st=$(webhook "{\"app\":\"e2e\",\"timestamp\":1764065643000,\"version\":2,\"type\":\"message\",\"payload\":{\"id\":\"wamid.M$SEQ\",\"source\":\"$PHONE\",\"type\":\"text\",\"payload\":{\"text\":\"during the upload\"},\"sender\":{\"phone\":\"$PHONE\",\"name\":\"Ravi\"}}}")
[ "$st" = 200 ] || { : >"$T/gate"; fail "a webhook during an upload's sniff gave $st"; }
[ "$(hub_sql "select count(*) from messages where provider_id = 'wamid.M$SEQ'")" = 1 ] ||
	{ : >"$T/gate"; fail "the webhook during the upload was not committed"; }
[ ! -e "$T/bigup.st" ] || fail "the upload was answered before its sniff ($(cat "$T/bigup.st"))"
: >"$T/gate"
wait_for 30 test -e "$T/bigup.st" || fail "the upload was not answered after its sniff"
[ "$(cat "$T/bigup.st")" = 201 ] || fail "the held upload gave $(cat "$T/bigup.st"): $(cat "$T/up.out")"
grep -q "\"sha256\":\"$(sha_of "$T/big.mp4")\"" "$T/up.out" || fail "held upload reply: $(cat "$T/up.out")"
# an upload whose client goes away while it is in the worker: nothing breaks
rm -f "$T/gate" "$T/gate.held"
printf '%%PDF-1.4\n%% gone\n%%%%EOF\n' >"$T/gone.pdf"
curl -s -o /dev/null --max-time 20 -H 'Expect:' -H "Authorization: Bearer $AGENT_TOKEN" \
	-H 'Content-Type: application/pdf' --data-binary @"$T/gone.pdf" "$HUB_URL/v1/media" &
GONE=$!
track $GONE
wait_for 30 test -e "$T/gate.held" || { : >"$T/gate"; fail "the second upload never reached the worker"; }
kill $GONE 2>/dev/null
wait $GONE 2>/dev/null
: >"$T/gate"
wait_for 10 healthy || fail "the hub is not healthy after an upload's client went away"

# The public URL serves only what an outbound message carries.
st=$(curl -s -o /dev/null -w '%{http_code}' "$HUB_URL/v1/public/$USHA/invoice.pdf")
[ "$st" = 404 ] || fail "an unsent upload is public ($st)"
st=$(curl -s -o /dev/null -w '%{http_code}' "$HUB_URL/v1/public/$(msha 2)/shot.png")
[ "$st" = 404 ] || fail "an inbound file is public ($st)"

# The customer writes through the sim too, so the sim's session window is open.
"$SIM" say $PHONE "send me the invoice" >/dev/null || fail "sim say failed"

# A desk client (python, RFC 6455 by hand) sends it.
cat >"$T/desk.py" <<'EOF'
import base64, json, os, socket, struct, sys
port, token, frame = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(('127.0.0.1', port), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(('GET /v1/desk HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
           'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wadesk.v1\r\n\r\n' % key).encode())
buf = b''
while b'\r\n\r\n' not in buf:
    buf += s.recv(4096)
buf = buf.split(b'\r\n\r\n', 1)[1]
def send(obj):
    data = json.dumps(obj).encode(); mask = os.urandom(4)
    hdr = bytes([0x81]) + (bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + struct.pack('>H', len(data)))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
def recv():
    global buf
    while True:
        if len(buf) >= 2:
            n = buf[1] & 0x7f; off = 2
            if n == 126: n, off = struct.unpack('>H', buf[2:4])[0], 4
            elif n == 127: n, off = struct.unpack('>Q', buf[2:10])[0], 10
            if len(buf) >= off + n:
                data, buf = buf[off:off + n], buf[off + n:]
                return json.loads(data)
        buf += s.recv(65536)
send({'type': 'hello', 'token': token, 'agent': 'asha', 'last_event': 1 << 40})
w = recv()
assert w['type'] == 'welcome', w
cmd = json.loads(frame)
send(cmd)
while True:
    m = recv()
    if m.get('type') in ('ack', 'error') and m.get('id') == cmd['id']:
        print(json.dumps(m, separators=(',', ':'))); break
EOF
send_media() {  # send_media JSON-MEDIA -> the ack/error frame (a fresh command id each)
	python3 "$T/desk.py" "$HUB_PORT" "$AGENT_TOKEN" \
		"{\"type\":\"send\",\"id\":\"up$(date +%s%N)\",\"phone\":\"$PHONE\",\"media\":$1}"
}
# unknown digest first: refused with a stable code
r=$(send_media '{"mime":"application/pdf","sha256":"1111111111111111111111111111111111111111111111111111111111111111","filename":"a.pdf"}')
echo "$r" | grep -q '"code":"media.unknown"' || fail "a send of an unknown file: $r"
r=$(send_media "{\"mime\":\"image/png\",\"url\":\"/v1/media/$USHA\",\"filename\":\"../../Invoice 7.pdf\",\"caption\":\"your invoice\",\"size\":1}")
echo "$r" | grep -q '"type":"ack"' || fail "media send refused: $r"
OUT=$(echo "$r" | sed 's/.*"message_id":"\([0-9]*\)".*/\1/')
[ "$(hub_sql "select media_mime || ' ' || type from messages where id = $OUT")" = "application/pdf file" ] ||
	fail "the stored type is not the truth: $(hub_sql "select media_mime, type from messages where id = $OUT")"
# the sim got the Gupshup message with the public URL and the caption
wait_for 20 sh -c "curl -s '$WADESK_SIM/sim/inbox/$PHONE' | grep -q 'v1/public/$USHA'" ||
	fail "the provider did not get the public URL: $(curl -s "$WADESK_SIM/sim/inbox/$PHONE" | tail -c 600)"
PUB=$(curl -s "$WADESK_SIM/sim/inbox/$PHONE" | grep -o "http://[^\"]*/v1/public/$USHA/[^\"]*" | head -n1)
case "$PUB" in
*/v1/public/$USHA/Invoice%207.pdf) ;;
*) fail "public URL is $PUB" ;;
esac
# a document goes out with its caption (Gupshup's file message carries one)
curl -s "$WADESK_SIM/sim/inbox/$PHONE" >"$T/inbox.json"
python3 - "$T/inbox.json" "$USHA" <<'EOF' || fail "the document's caption did not go out: $(tail -c 600 "$T/inbox.json")"
import json, sys
doc = [m for m in json.load(open(sys.argv[1]))["messages"] if sys.argv[2] in (m.get("url") or "")]
sys.exit(0 if any(m.get("type") == "file" and m.get("text") == "your invoice" for m in doc) else 1)
EOF
curl -s -D "$T/phdrs" -o "$T/pub" "$PUB"
cmp -s "$T/pub" "$T/www/invoice.pdf" || fail "the public URL does not give the bytes"
grep -qi '^content-disposition: attachment; filename="Invoice 7.pdf"' "$T/phdrs" ||
	fail "no Content-Disposition: $(cat "$T/phdrs")"
st=$(curl -s -o "$T/pub304" -w '%{http_code}' -H "If-None-Match: \"$USHA\"" "$PUB")
[ "$st" = 304 ] && [ ! -s "$T/pub304" ] || fail "If-None-Match on the public URL gave $st"
# an image goes out as type image with its caption
st=$(up "$T/www/photo.jpg" image/jpeg "$AGENT_TOKEN")
[ "$st" = 201 ] || fail "JPEG upload gave $st"
r=$(send_media "{\"mime\":\"image/jpeg\",\"sha256\":\"$(sha_of "$T/www/photo.jpg")\",\"filename\":\"p.jpg\",\"caption\":\"see the photo\"}")
echo "$r" | grep -q '"type":"ack"' || fail "image send refused: $r"
wait_for 20 sh -c "curl -s '$WADESK_SIM/sim/inbox/$PHONE' | grep -q 'see the photo'" ||
	fail "the caption did not go out: $(curl -s "$WADESK_SIM/sim/inbox/$PHONE" | tail -c 600)"
curl -s "$WADESK_SIM/sim/inbox/$PHONE" | grep -q '"type":"image"' || fail "not sent as an image"

# ---- through the sim: its payload URL failing twice then expiring after the
# download, and its media API, which needs the apikey the hub holds
SP=919812345699
"$SIM" media $SP "$T/www/clip.mp4" --caption "from the sim" --fail-downloads 2 \
	--expire-after-download --json >"$T/simmedia.json" || fail "sim media failed: $(cat "$T/simmedia.json")"
SURL=$(sed 's/.*"url":"\([^"]*\)".*/\1/' "$T/simmedia.json")
SID=$(sed 's/.*"id":"\([^"]*\)".*/\1/' "$T/simmedia.json")
sim_ready() { [ "$(hub_sql "select media_state from messages where phone = '$SP' and text = 'from the sim'")" = ready ]; }
wait_for 30 sim_ready || fail "sim media: $(hub_sql "select media_state, media_error from messages where phone = '$SP'")"
[ "$(hub_sql "select media_sha256 || ' ' || media_mime from messages where phone = '$SP' and text = 'from the sim'")" = "$(sha_of "$T/www/clip.mp4") video/mp4" ] ||
	fail "sim media stored as $(hub_sql "select media_sha256, media_mime from messages where phone = '$SP'")"
st=$(curl -s -o /dev/null -w '%{http_code}' "$SURL")
[ "$st" = 410 ] || fail "the sim's payload URL still answers $st after the download"
# the media API of the provider: the hub adds the apikey (and only there)
st=$(curl -s -o /dev/null -w '%{http_code}' "$WADESK_SIM/sm/api/v1/wamedia/e2e/$SID")
[ "$st" = 401 ] || [ "$st" = 404 ] || fail "the sim's media API answered $st without the apikey"
"$SIM" media $SP "$T/www/song.mp3" --json >"$T/simmedia2.json" || fail "sim media failed"
SID2=$(sed 's/.*"id":"\([^"]*\)".*/\1/' "$T/simmedia2.json")
# the sim announces what the file is (audio/mpeg, as Gupshup does); the hub
# keeps it under the whitelist's name
grep -q '"mime":"audio/mpeg"' "$T/simmedia2.json" || fail "the sim announced $(cat "$T/simmedia2.json")"
sim_mp3() { [ "$(hub_sql "select media_state || ' ' || media_mime from messages where phone = '$SP' and type = 'audio'")" = "ready audio/mpeg3" ]; }
wait_for 20 sim_mp3 || fail "the sim's MP3: $(hub_sql "select media_state, media_mime, media_error from messages where phone = '$SP' and type = 'audio'")"
SEQ=$((SEQ + 1)); webhook "$(media_msg audio "$WADESK_SIM/sm/api/v1/wamedia/e2e/$SID2" audio/mpeg "" "via api")" >/dev/null
wait_for 20 is_state "$SEQ" ready || fail "media API download: $(hub_sql "select media_state, media_error from messages where provider_id = 'wamid.M$SEQ'")"
[ "$(msha "$SEQ")" = "$(sha_of "$T/www/song.mp3")" ] || fail "media API download: wrong digest"

curl -s "$HUB_URL/healthz" | grep -q '"media_pending":0' || fail "healthz: $(curl -s "$HUB_URL/healthz")"
exit 0
