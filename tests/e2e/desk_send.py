#!/usr/bin/env python3
"""desk_send.py LINK AGENT PHONE:TEXT... -- queue sends at once.

A minimal desk-protocol client for the hub's end-to-end tests: one
websocket session (subprotocol wadesk.v1), hello with the link's token,
then every `send` back to back, then it waits for an answer to each.  It
prints one line per send (its id and "ack" or the error code) and exits 0
when every send was acknowledged, 1 otherwise.  Unlike `wadesk send` (a
process and a session per message), the whole burst reaches the hub in a
few milliseconds, even under sanitizers.
"""
import base64, json, os, socket, struct, sys

def main():
    if len(sys.argv) < 4:
        sys.exit("usage: desk_send.py LINK AGENT PHONE:TEXT...")
    link, agent, items = sys.argv[1], sys.argv[2], sys.argv[3:]
    rest, token = link.split("#", 1)
    hostport = rest.split("//", 1)[1].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /v1/desk HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: wadesk.v1\r\n\r\n" % (hostport, key)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("desk_send: no handshake answer")
        data += chunk
    head, data = data.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        sys.exit("desk_send: handshake refused")

    def send(obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0xfe]) + struct.pack(">H", n))
        s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def frames():
        nonlocal data
        while True:
            while len(data) >= 2:
                n, i = data[1] & 0x7f, 2
                if n == 126:
                    if len(data) < 4: break
                    n, i = struct.unpack(">H", data[2:4])[0], 4
                elif n == 127:
                    if len(data) < 10: break
                    n, i = struct.unpack(">Q", data[2:10])[0], 10
                if len(data) < i + n:
                    break
                op, payload, data = data[0] & 0x0f, data[i:i + n], data[i + n:]
                if op == 8:
                    sys.exit("desk_send: the hub closed the session")
                if op == 1:
                    yield json.loads(payload)
            chunk = s.recv(65536)
            if not chunk:
                sys.exit("desk_send: connection lost")
            data += chunk

    send({"type": "hello", "token": token, "agent": agent, "last_event": 0})
    it = frames()
    for m in it:
        if m.get("type") == "welcome":
            break
        if m.get("type") == "bye":
            sys.exit("desk_send: hello refused: %s" % m.get("code"))
    ids = {}
    for k, item in enumerate(items):
        phone, text = item.split(":", 1)
        cid = "ds%d.%d" % (os.getpid(), k)
        ids[cid] = None
        send({"type": "send", "id": cid, "phone": phone, "text": text})
    left = len(ids)
    for m in it:
        if m.get("type") in ("ack", "error") and m.get("id") in ids and ids[m["id"]] is None:
            ids[m["id"]] = "ack" if m["type"] == "ack" else m.get("code", "error")
            left -= 1
            if left == 0:
                break
    for cid, r in ids.items():
        print(cid, r)
    sys.exit(0 if all(r == "ack" for r in ids.values()) else 1)

main()
