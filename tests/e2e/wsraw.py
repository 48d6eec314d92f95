"""wsraw.py -- the few websocket pieces the hub's e2e scripts need raw.

Shared by desk_send.py and t-hub-slow.sh: a client handshake (subprotocol
wadesk.v1) on a plain socket, masked text frames out, and a parser that
splits a buffer into whole frames and the bytes left over.  Raw on
purpose: the tests look at exactly what the hub wrote.
"""
import base64, json, os, socket, struct


def connect(host, port, rcvbuf=None, timeout=30):
    """Opens GET /v1/desk; returns (socket, bytes already read past the answer)."""
    s = socket.socket()
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /v1/desk HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: wadesk.v1\r\n\r\n" % (host, port, key)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("no handshake answer")
        data += chunk
    head, data = data.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit("handshake refused: %r" % head[:80])
    return s, data


def send_text(s, obj):
    """Sends obj as JSON in one masked text frame."""
    payload = json.dumps(obj).encode()
    mask = os.urandom(4)
    n = len(payload)
    hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def frames(buf):
    """Whole frames at the start of buf as (fin, opcode, payload), and the rest."""
    out = []
    while len(buf) >= 2:
        if buf[1] & 0x80:
            raise SystemExit("the server masked a frame")
        n, i = buf[1] & 0x7f, 2
        if n == 126:
            if len(buf) < 4:
                break
            n, i = struct.unpack(">H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, i = struct.unpack(">Q", buf[2:10])[0], 10
        if len(buf) < i + n:
            break
        out.append((buf[0] & 0x80, buf[0] & 0x0f, buf[i:i + n]))
        buf = buf[i + n:]
    return out, buf
