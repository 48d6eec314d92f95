#!/bin/sh
# Every exit path restores the terminal: a fatal signal (SIGABRT, SIGSEGV)
# leaves the alternate screen and ends with the signal's status; SIGTERM
# quits cleanly.
. "$(dirname "$0")/console-lib.sh"
desk_start
for sig in ABRT SEGV TERM; do
	console "c$sig" "$AGENT_LINK" alice
	wait_screen 10 "c$sig" 'online' || fail "the console did not start"
	[ "$(tm display -p -t "c$sig" '#{alternate_on}')" = 1 ] || fail "the console is not on the alternate screen"
	pid=$(pgrep -P "$(tm display -p -t "c$sig" '#{pane_pid}')" -f wadesk | head -n 1)
	[ -n "$pid" ] || fail "cannot find the console's pid"
	kill -"$sig" "$pid"
	wait_screen 5 "c$sig" 'EXIT=' || fail "the console did not exit on SIG$sig"
	[ "$(tm display -p -t "c$sig" '#{alternate_on}')" = 0 ] || fail "SIG$sig left the alternate screen on"
	case $sig in
	ABRT) screen "c$sig" | grep -q 'EXIT=134' || fail "SIGABRT did not end with its status" ;;
	SEGV) screen "c$sig" | grep -q 'EXIT=139' || fail "SIGSEGV did not end with its status" ;;
	TERM) screen "c$sig" | grep -q 'EXIT=0' || fail "SIGTERM did not quit cleanly" ;;
	esac
done
