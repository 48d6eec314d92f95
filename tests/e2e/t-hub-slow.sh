#!/bin/sh
# A console that stops reading is cut off (proto.slow) without stalling the
# hub, and what it finally reads is whole: complete frames, each one JSON,
# ending with the bye or a clean close, never a truncated frame.  The slow
# console is a raw websocket client (python3) with a small receive buffer
# that says hello and then stops reading while the sim's load generator
# drives more events than the hub queues for one console (4096 frames),
# beyond what the kernel buffers (a few MiB).  SLOW_WAIT=S waits S seconds
# more before reading again (past the hub's 10 s close grace the console
# is dropped without its bye: try it by hand, it is not part of the test).
. "$(dirname "$0")/lib.sh"
e2e_init
COUNT=${COUNT:-20000}
start_desk

python3 - "$HUB_PORT" "$AGENT_LINK" "$T" "$(cd "$(dirname "$0")" && pwd)" >"$T/slow.out" 2>&1 <<'PY' &
import json, os, socket, sys, time
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[4])
import wsraw

port, link, tdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
token = link.split("#", 1)[1]
s, data = wsraw.connect("127.0.0.1", port, rcvbuf=4096)
frames = wsraw.frames

wsraw.send_text(s, {"type": "hello", "token": token, "agent": "slowpoke", "last_event": 0})
s.settimeout(10)
while True:
    got, rest = frames(data)
    if got:
        break
    data += s.recv(4096)
first = json.loads(got[0][2])
if first.get("type") != "welcome":
    sys.exit("no welcome: %r" % first)
open(os.path.join(tdir, "slow.ready"), "w").close()
# Stop reading until told to go on.
while not os.path.exists(os.path.join(tdir, "slow.go")):
    time.sleep(0.1)
s.settimeout(20)
while True:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        sys.exit("the hub neither finished nor closed the connection in 20 s")
    except ConnectionResetError:
        chunk = b""
    if not chunk:
        break
    data += chunk
got, rest = frames(data)
texts, bye, closed = 0, None, False
for fin, op, payload in got:
    if closed:
        sys.exit("a frame after the close frame")
    if op == 8:
        closed = True
        continue
    if op != 1 or not fin:
        sys.exit("unexpected frame: opcode %d fin %d" % (op, fin))
    try:
        m = json.loads(payload)
    except ValueError:
        sys.exit("truncated or bad frame %d: %r" % (texts + 1, payload[:40]))
    texts += 1
    if bye is not None:
        sys.exit("a frame after the bye: %r" % payload[:60])
    if m.get("type") == "bye":
        bye = m.get("code")
if rest:
    sys.exit("the connection ended inside a frame (%d bytes left: %r)" % (len(rest), rest[:20]))
print("frames %d, bye %s, close frame %s" % (texts, bye, closed))
if bye != "proto.slow":
    sys.exit("no proto.slow bye")
PY
SLOW=$!
track "$SLOW"
wait_for 10 test -f "$T/slow.ready" || { cat "$T/slow.out" >&2; fail "the slow console did not say hello"; }

# The load runs in the background: the console starts reading again as soon
# as it has been cut off, well inside the hub's 10 s grace for the bye,
# however long the rest of the load takes (under sanitizers, longer).
"$SIM" load --count "$COUNT" --rate 100000 --customers 200 >"$T/load.out" 2>&1 &
LOAD=$!
track "$LOAD"
wait_for 60 grep -q 'closing console .*slowpoke.*proto.slow' "$T/hub.log" ||
	fail "the slow console was not cut off"
sleep "${SLOW_WAIT:-0}"
touch "$T/slow.go"
wait "$LOAD" ||
	fail "the hub stalled: not every webhook was answered ($(tail -n 2 "$T/load.out" | tr '\n' ' '))"
wait "$SLOW" || { cat "$T/slow.out" >&2; fail "the slow console read a broken stream"; }
cat "$T/slow.out"
healthy || fail "the hub is not healthy"
stop_hub
echo ok
