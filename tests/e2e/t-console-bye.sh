#!/bin/sh
# After the hub's bye the session is over: whatever else arrives before the
# close (an empty message, a cut-off frame, as a hub cutting off a slow
# console once sent) is not decoded, and a one-shot command prints only the
# reason (exit 3) — no "bad frame" line.  A scripted hub on loopback.
. "$(dirname "$0")/lib.sh"
e2e_init
PORT=$(free_port)
python3 - "$PORT" >"$T/fake.log" 2>&1 <<'PY' &
import base64, hashlib, socket, sys
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(1)
srv.settimeout(30)
def frame(payload, op=1):
    n = len(payload)
    head = bytes([0x80 | op]) + (bytes([n]) if n < 126 else bytes([126]) + n.to_bytes(2, "big"))
    return head + payload
while True:
    c, _ = srv.accept()
    req = b""
    while b"\r\n\r\n" not in req:
        got = c.recv(4096)
        if not got:
            break
        req += got
    if b"\r\n\r\n" not in req:         # the test's readiness probe
        c.close()
        continue
    hdr = {l.split(b":", 1)[0].strip().lower(): l.split(b":", 1)[1].strip()
           for l in req.split(b"\r\n")[1:] if b":" in l}
    acc = base64.b64encode(hashlib.sha1(hdr[b"sec-websocket-key"] +
          b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + acc + b"\r\nSec-WebSocket-Protocol: " +
              hdr[b"sec-websocket-protocol"].split(b",")[0].strip() + b"\r\n\r\n")
    c.recv(65536)                         # the hello
    c.sendall(frame(b'{"type":"bye","code":"auth.expired","message":"this link has expired"}') +
              frame(b"") + frame(b'{"') + frame(b'{"type":"event","n":1,"t":1,"kind":"brb","on":true}') +
              frame((1008).to_bytes(2, "big") + b"auth.expired", op=8))
    try:
        c.settimeout(5)
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
PY
track $!
wait_for 5 sh -c "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $PORT))' 2>/dev/null" ||
	fail "the scripted hub did not start"
LINK="ws://127.0.0.1:$PORT/v1/desk#0123456789abcdef0123456789abcdef"
"$WADESK" --link "$LINK" chats >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "wadesk chats exited $rc: $(cat "$T/err")"
grep -q 'expired' "$T/err" || fail "the reason is not shown: $(cat "$T/err")"
grep -q 'frame' "$T/err" && fail "a stray line after the bye: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than the reason on stderr: $(cat "$T/err")"
echo ok
