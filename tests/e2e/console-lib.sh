# console-lib.sh — the console scenarios' helpers (t-console-*.sh), on top
# of lib.sh (e2e_init, start_desk, start_hub/stop_hub/kill_hub, wait_for,
# tm, track...).  POSIX sh.  Sourcing it runs e2e_init; then:
#   desk_start                start_desk (hub + wadesk-sim) as in lib.sh
#   hub_stop [-9] / hub_start stop the hub (SIGTERM, or SIGKILL) / restart it
#   console NAME LINK AGENT   a console in tmux window NAME, 140x40, with its
#                            own XDG directories ($T/c-NAME); extra
#                            VAR=VALUE words for its environment in $CONSOLE_ENV
#   screen NAME               the window's text (capture-pane -p)
#   wait_screen SECS NAME RE  until the window shows RE (grep -E)
#   keys NAME KEYS...         tmux send-keys; text NAME TEXT sends it literally
#   say PHONE TEXT [NAME]     a customer writes in (wadesk-sim say)
#   inbox PHONE               what the customer received (wadesk-sim inbox)
#   wadesk ARGS...            the CLI with its own XDG directories ($T/c-cli)
#   fail MESSAGE              also prints every console's screen and log
. "$(dirname "$0")/lib.sh"
e2e_init
SIMBIN=$SIM

desk_start() { start_desk "$@"; }
# start_hub, retried while the old listening port is still held (the hub
# does not always get its port back at once after a restart).
hub_start() {
	for attempt in 1 2 3 4 5 6 7 8 9 10; do
		"$WADESKD" -d "$D" -v >>"$T/hub.log" 2>&1 &
		HUB_PID=$!
		track "$HUB_PID"
		if wait_for 10 healthy_or_dead "$HUB_PID"; then
			healthy && return 0
		fi
		wait "$HUB_PID" 2>/dev/null
		sleep 0.5
	done
	fail "the hub did not come up on $HUB_URL"
}
healthy_or_dead() { healthy || ! kill -0 "$1" 2>/dev/null; }
hub_stop() { if [ "${1:-}" = -9 ]; then kill_hub; else stop_hub; fi; }

fail() {
	echo "FAIL: $*" >&2
	for w in $(tm list-windows -a -F '#{window_name}' 2>/dev/null); do
		echo "--- screen $w" >&2
		tm capture-pane -p -t "$w" >&2
	done
	for f in "$T"/hub.log "$T"/sim.log "$T"/c-*/data/wadesk/wadesk.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
	done
	exit 1
}

console() {
	name=$1 link=$2 agent=$3
	mkdir -p "$T/c-$name"
	cmd="env HOME=$T/c-$name XDG_CONFIG_HOME=$T/c-$name/config XDG_DATA_HOME=$T/c-$name/data TERM=screen-256color ${CONSOLE_ENV:-} $WADESK --link '$link' --name $agent"
	if tm has-session 2>/dev/null; then
		tm new-window -d -n "$name" "$cmd; echo EXIT=\$?; sleep 60"
	else
		tm new-session -d -s e2e -n "$name" -x 140 -y 40 "$cmd; echo EXIT=\$?; sleep 60"
	fi
}

screen() { tm capture-pane -p -t "$1"; }

wait_screen() {
	secs=$1 name=$2 re=$3
	i=0
	while ! screen "$name" | grep -Eq -- "$re"; do
		i=$((i + 1))
		[ "$i" -gt $((secs * 20)) ] && return 1
		sleep 0.05
	done
	return 0
}

keys() { name=$1; shift; tm send-keys -t "$name" "$@"; }
text() { tm send-keys -t "$1" -l "$2"; }

say() {
	if [ $# -ge 3 ]; then "$SIMBIN" say "$1" "$2" --name "$3"
	else "$SIMBIN" say "$1" "$2"; fi >>"$T/say.log" 2>&1 || fail "wadesk-sim say failed"
}

inbox() { "$SIMBIN" inbox "$1"; }

wadesk() {
	mkdir -p "$T/c-cli"
	HOME=$T/c-cli XDG_CONFIG_HOME=$T/c-cli/config XDG_DATA_HOME=$T/c-cli/data "$WADESK" "$@"
}
