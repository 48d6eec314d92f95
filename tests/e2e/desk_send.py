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
import json, os, sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wsraw  # noqa: E402

def main():
    if len(sys.argv) < 4:
        sys.exit("usage: desk_send.py LINK AGENT PHONE:TEXT...")
    link, agent, items = sys.argv[1], sys.argv[2], sys.argv[3:]
    rest, token = link.split("#", 1)
    host, port = rest.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    s, data = wsraw.connect(host, int(port))

    def send(obj):
        wsraw.send_text(s, obj)

    def frames():
        nonlocal data
        while True:
            got, data = wsraw.frames(data)
            for _, op, payload in got:
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
