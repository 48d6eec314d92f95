# simlib.sh — helpers for the wadesk-sim end-to-end scenarios (t-sim-*.sh).
# POSIX sh.  Each scenario sources this file, which gives it a private
# temporary directory ($T), a trap that stops every process it started, and:
#   sim_start ARGS...     starts wadesk-sim on a free loopback port with a
#                         webhook sink; sets $SIM (its URL), $SIM_PID,
#                         $SINK_URL, $HOOKS (the file of webhook bodies)
#   sim_stop              SIGTERM to the sim, waits, checks it exited 0
#   sim CMD ARGS...       runs a control command against $SIM
#   post PATH FIELDS...   POSTs form fields (each NAME=VALUE, url-encoded)
#                         with the apikey $KEY; prints "STATUS BODY"
#   wait_for SECS CMD...  retries CMD every 0.1 s until it succeeds
#   hooks_count PATTERN   number of webhook bodies matching a grep pattern
#   fail MESSAGE          prints and exits 1
set -u
: "${WADESK_BIN:?WADESK_BIN must name the directory of the built programs}"
SIMBIN=$WADESK_BIN/wadesk-sim
T=$(mktemp -d "${TMPDIR:-/tmp}/wadesk-sim-e2e.XXXXXX")
export XDG_RUNTIME_DIR=$T HOME=$T
unset WADESK_SIM
PIDS=
KEY=test-key
APP=DeskApp

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
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

# A random loopback port below the kernel's ephemeral range (as lib.sh's
# free_port): a port in that range can be the local end of an outgoing
# connection (even curl's self-connect to a port nobody listens on), which
# would answer start_listener's probe for a server that is not there.
random_port() {
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${lo:-0}" -gt 12000 ] 2>/dev/null || lo=32768
	echo $(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % (lo - 10000) ))
}

# start_listener NAME FUNC: runs FUNC (which listens on $PORT) in the
# background until it answers on that port; another port when it cannot.
start_listener() {
	name=$1 func=$2
	for attempt in 1 2 3 4 5 6 7 8; do
		PORT=$(random_port)
		"$func" >"$T/$name.out" 2>"$T/$name.err" &
		LPID=$!
		if wait_for 5 curl -s -o /dev/null "http://127.0.0.1:$PORT/" && kill -0 "$LPID" 2>/dev/null; then
			PIDS="$PIDS $LPID"
			return 0
		fi
		kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null
	done
	fail "cannot start $name"
}

run_sink() { exec "$SIMBIN" sink --listen "127.0.0.1:$PORT" --out "$HOOKS"; }
run_sim() { exec "$SIMBIN" --listen "127.0.0.1:$PORT" --callback "$SINK_URL" $SIM_ARGS; }

# sim_start ARGS...: ARGS must not contain spaces.
sim_start() {
	HOOKS=$T/hooks.log
	: >"$HOOKS"
	start_listener sink run_sink
	SINK_URL=http://127.0.0.1:$PORT/v1/webhook/gupshup/secret
	SIM_ARGS="$*"
	start_listener sim run_sim
	SIM=http://127.0.0.1:$PORT
	SIM_PID=$LPID
}

# sim_restart ARGS...: the sim again, same sink, a new port.
sim_restart() {
	SIM_ARGS="$*"
	start_listener sim run_sim
	SIM=http://127.0.0.1:$PORT
	SIM_PID=$LPID
}

sim_stop() {
	kill -TERM "$SIM_PID"
	wait "$SIM_PID"; rc=$?
	PIDS=$(echo "$PIDS" | sed "s/ $SIM_PID\b//")
	[ "$rc" -eq 0 ] || fail "wadesk-sim exited $rc on SIGTERM"
}

sim() {
	"$SIMBIN" "$@" --sim "$SIM"
}

post() {
	path=$1; shift
	n=$#; i=0
	while [ "$i" -lt "$n" ]; do
		f=$1; shift
		set -- "$@" --data-urlencode "$f"
		i=$((i + 1))
	done
	code=$(curl -s -o "$T/body" -w '%{http_code}' -H "apikey: ${POST_KEY:-$KEY}" "$@" "$SIM$path")
	printf '%s %s\n' "$code" "$(cat "$T/body")"
}

hooks_count() {
	grep -c -- "$1" "$HOOKS" 2>/dev/null || true
}

# send_text DEST TEXT: a session message through the send API.
send_text() {
	post /sm/api/v1/msg channel=whatsapp source=917834811114 "destination=$1" \
		"message={\"type\":\"text\",\"text\":\"$2\"}" "src.name=$APP"
}
