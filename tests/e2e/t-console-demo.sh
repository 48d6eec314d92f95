#!/bin/sh
# `wadesk demo`: a private hub and simulated customers start, the first
# screen says it is a demo and how to reach a real hub, chats show up;
# quitting stops both children and removes the temporary directory.  The
# second run ends with Ctrl-C; the third by killing the hub (SIGCHLD).
. "$(dirname "$0")/console-lib.sh"
export TMPDIR=$T
run_demo() {
	tm kill-server 2>/dev/null && sleep 0.3
	tm new-session -d -s demo -x 140 -y 40 "TERM=screen-256color $WADESK demo 2>$T/demo.err; echo EXIT=\$? >$T/exit; sleep 60"
	wait_screen 15 demo 'DEMO' || fail "no demo banner"
	screen demo | grep -q 'wadesk connect LINK' || fail "the demo does not say how to connect to a real hub"
	wait_screen 15 demo 'online' || fail "the demo console did not connect"
	DEMO_DIR=$(ls -d "$T"/wadesk-demo.* 2>/dev/null | head -n 1)
	[ -n "$DEMO_DIR" ] || fail "no demo directory"
}
ended() {
	wait_for 10 test -f "$T/exit" || fail "the console did not exit"
	wait_for 5 sh -c "! ls -d $T/wadesk-demo.* >/dev/null 2>&1" || fail "the demo directory was left behind"
	! pgrep -f "$DEMO_DIR/hub" >/dev/null || fail "the hub was left running"
	rm -f "$T/exit"
}
run_demo
wait_screen 40 demo 'Notifying agent|Unanswered|Responded' || fail "no simulated customer wrote in"
keys demo q
ended
run_demo
keys demo C-c
ended
run_demo
pkill -f "$DEMO_DIR/hub" || fail "cannot find the demo hub"
ended
grep -q 'stopped unexpectedly' "$T/demo.err" || fail "the demo did not say its hub stopped"
# The terminal goes away (SIGHUP): the children stop, the directory goes.
run_demo
tm kill-server
wait_for 10 sh -c "! ls -d $T/wadesk-demo.* >/dev/null 2>&1" || fail "SIGHUP left the demo directory"
! pgrep -f "$DEMO_DIR/hub" >/dev/null || fail "SIGHUP left the hub running"
