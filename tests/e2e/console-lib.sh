# console-lib.sh — helpers for the console scenarios (t-console-*.sh).
# POSIX sh.  Sourcing it gives a scenario a private directory ($T) with its
# own XDG directories, a private tmux server, and a trap that stops every
# process it started and removes $T.  Functions:
#   desk_start [SIM_ARGS...]  wadeskd init (provider sim) + wadesk-sim + wadeskd
#                            on free loopback ports; sets $AGENT_LINK,
#                            $SUPERVISOR_LINK, $ADMIN_LINK, $WEBHOOK_URL, $SIM
#                            (and exports WADESK_SIM), $HUB_PORT
#   hub_stop / hub_start      stop (SIGKILL with -9) / restart the hub, same port
#   console NAME LINK AGENT [W H] a console in tmux window NAME (own XDG dirs)
#   screen NAME               the window's text (capture-pane -p)
#   wait_screen SECS NAME RE  until the window shows RE (grep -E)
#   keys NAME KEYS...         tmux send-keys; text NAME TEXT sends it literally
#   say PHONE TEXT [NAME]     a customer writes in (wadesk-sim say)
#   wadesk ARGS...            the CLI with the e2e config (XDG dirs of $T)
#   wait_for SECS CMD...      retries CMD every 0.1 s until it succeeds
#   fail MESSAGE              prints the screens and logs, exits 1
set -u
: "${WADESK_BIN:?WADESK_BIN must name the directory of the built programs}"
WADESKD=$WADESK_BIN/wadeskd
WADESK=$WADESK_BIN/wadesk
SIMBIN=$WADESK_BIN/wadesk-sim
T=$(mktemp -d "${TMPDIR:-/tmp}/wadesk-console-e2e.XXXXXX")
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data
unset WADESK_LINK WADESK_SIM NO_COLOR
TMUX_SOCK="wadesk-e2e-$$"
PIDS= HUB_PID=

tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }

cleanup() {
	tm kill-server 2>/dev/null
	for p in $PIDS $HUB_PID; do kill "$p" 2>/dev/null; done
	for p in $PIDS $HUB_PID; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM HUP

fail() {
	echo "FAIL: $*" >&2
	for w in $(tm list-windows -a -F '#{window_name}' 2>/dev/null); do
		echo "--- screen $w" >&2
		tm capture-pane -p -t "$w" >&2
	done
	for f in "$T"/*.log "$T"/c-*/data/wadesk/wadesk.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
	done
	exit 1
}

wait_for() {
	secs=$1; shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -gt $((secs * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

hub_start() {
	"$WADESKD" -d "$T/hub" --listen "127.0.0.1:$HUB_PORT" >>"$T/hub.log" 2>&1 &
	HUB_PID=$!
	wait_for 10 sh -c "exec 3<>/dev/tcp/127.0.0.1/$HUB_PORT" 2>/dev/null ||
		wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$HUB_PORT/healthz" ||
		fail "the hub did not start"
}

hub_stop() {
	[ -n "$HUB_PID" ] || return 0
	if [ "${1:-}" = -9 ]; then kill -9 "$HUB_PID"; else kill "$HUB_PID"; fi
	wait "$HUB_PID" 2>/dev/null
	HUB_PID=
}

desk_start() {
	HUB_PORT=$(free_port)
	SIM_PORT=$(free_port)
	echo "e2e-key" >"$T/apikey"
	"$WADESKD" -d "$T/hub" init --listen "127.0.0.1:$HUB_PORT" --provider sim \
		--api-url "http://127.0.0.1:$SIM_PORT" --app DeskApp --source 917834811114 \
		--apikey-file "$T/apikey" >>"$T/hub.log" 2>&1 || fail "wadeskd init failed"
	"$WADESKD" -d "$T/hub" access show >"$T/access" 2>>"$T/hub.log" || fail "access show failed"
	AGENT_LINK=$(sed -n 's/^agent: //p' "$T/access")
	SUPERVISOR_LINK=$(sed -n 's/^supervisor: //p' "$T/access")
	ADMIN_LINK=$(sed -n 's/^admin: //p' "$T/access")
	WEBHOOK_URL=$(sed -n 's/^webhook: //p' "$T/access")
	"$SIMBIN" --listen "127.0.0.1:$SIM_PORT" --callback "$WEBHOOK_URL" --app DeskApp \
		--apikey e2e-key --event-delay 100 "$@" >>"$T/sim.log" 2>&1 &
	PIDS="$PIDS $!"
	SIM=http://127.0.0.1:$SIM_PORT
	export WADESK_SIM=$SIM
	wait_for 10 curl -s -o /dev/null "$SIM/" || fail "the sim did not start"
	hub_start
}

# console NAME LINK AGENT [COLS ROWS]: each console has its own XDG dirs.
console() {
	name=$1 link=$2 agent=$3 cols=${4:-140} rows=${5:-40}
	mkdir -p "$T/c-$name"
	cmd="env HOME=$T/c-$name XDG_CONFIG_HOME=$T/c-$name/config XDG_DATA_HOME=$T/c-$name/data TERM=screen-256color $WADESK --link '$link' --name $agent"
	if tm has-session 2>/dev/null; then
		tm new-window -d -n "$name" "$cmd; echo EXIT=\$?; sleep 60"
	else
		tm new-session -d -s e2e -n "$name" -x "$cols" -y "$rows" "$cmd; echo EXIT=\$?; sleep 60"
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
	if [ $# -ge 3 ]; then "$SIMBIN" say "$1" "$2" --name "$3" --sim "$SIM"
	else "$SIMBIN" say "$1" "$2" --sim "$SIM"; fi >>"$T/say.log" 2>&1 || fail "wadesk-sim say failed"
}

# The CLI as a given console (its cache and config), default "cli".
wadesk() {
	mkdir -p "$T/c-cli"
	HOME=$T/c-cli XDG_CONFIG_HOME=$T/c-cli/config XDG_DATA_HOME=$T/c-cli/data "$WADESK" "$@"
}
