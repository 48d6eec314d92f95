# lib.sh — shared helpers for the end-to-end scenarios (tests/e2e/t-*.sh).
# POSIX sh; every scenario sources it and calls e2e_init first.
#
#   e2e_init              private temp dir $T (HOME and XDG dirs inside it), a
#                         trap that kills every started pid and the private
#                         tmux server; sets $WADESKD $WADESK $SIM (programs)
#                         and $TMUX_SOCK (use: tm CMD... = tmux -S $TMUX_SOCK)
#   free_port             prints a loopback TCP port nothing listens on
#   start_desk [ARGS]     `wadeskd init` (sim provider, app e2e, source
#                         917000000000, ARGS appended) in $D, reads
#                         `access show` into $AGENT_LINK $SUPERVISOR_LINK
#                         $ADMIN_LINK $WEBHOOK_URL, starts wadesk-sim
#                         ($SIM_PORT, $SIM_PID; exports WADESK_SIM) and the
#                         hub ($HUB_PORT, $HUB_PID, $HUB_URL), waits for
#                         /healthz.  Extra sim flags: $SIM_ARGS.
#   start_hub / stop_hub  (re)start the hub on the same dir and port; stop_hub
#                         sends SIGTERM and checks the exit status is 0;
#                         kill_hub sends SIGKILL (crash tests)
#   stop_sim / start_sim  stop and restart the provider (outage tests)
#   hub_sql SQL           runs SQL on the hub's database (sqlite3 CLI)
#   webhook BODY          POSTs BODY to $WEBHOOK_URL, prints the HTTP status
#   wait_for SECS CMD...  retries CMD every 0.1 s until it succeeds (1 on timeout)
#   fail MSG              prints MSG and the logs' tails, exits 1
#   track PID             adds PID to what the trap kills
set -u

e2e_init() {
	: "${WADESK_BIN:?WADESK_BIN must name the directory of the built programs}"
	WADESKD=$WADESK_BIN/wadeskd
	WADESK=$WADESK_BIN/wadesk
	SIM=$WADESK_BIN/wadesk-sim
	T=$(mktemp -d "${TMPDIR:-/tmp}/wadesk-e2e.XXXXXX")
	export HOME="$T" XDG_CONFIG_HOME="$T/config" XDG_DATA_HOME="$T/data" XDG_RUNTIME_DIR="$T"
	unset WADESK_LINK WADESK_SIM TMUX
	TMUX_SOCK=$T/tmux.sock
	PIDS=
	D=$T/hub
	trap e2e_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

e2e_cleanup() {
	rc=$?
	# A tracked pid may be a subshell running a shell function: its children too.
	for p in $PIDS; do pkill -9 -P "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -S "$TMUX_SOCK" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}

track() { PIDS="$PIDS $1"; }

tm() { tmux -S "$TMUX_SOCK" "$@"; }

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/hub.log "$T"/sim.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }
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

# A free loopback port, drawn below the kernel's ephemeral range: a port in
# that range can be taken as the local end of an outgoing connection (even
# a self-connect to a server that is down) before our server binds it.
free_port() {
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${lo:-0}" -gt 12000 ] 2>/dev/null || lo=32768
	while :; do
		p=$(( 10000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % (lo - 10000) ))
		# curl exit 7: connection refused, so nothing listens there
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" 2>/dev/null
		[ $? -eq 7 ] && { echo "$p"; return 0; }
	done
}

hub_sql() { sqlite3 -batch "$D/wadesk.db" "PRAGMA busy_timeout=5000; $1" | sed '/^5000$/d'; }

webhook() {
	curl -s -o "$T/webhook.out" -w '%{http_code}' --max-time 10 \
		-H 'Content-Type: application/json' --data-binary "$1" "$WEBHOOK_URL"
}

healthy() { curl -sf --max-time 1 -o /dev/null "$HUB_URL/healthz"; }

start_hub() {
	"$WADESKD" -d "$D" -v >>"$T/hub.log" 2>&1 &
	HUB_PID=$!
	track "$HUB_PID"
	wait_for 10 healthy || fail "the hub did not come up on $HUB_URL"
}

stop_hub() {
	kill -TERM "$HUB_PID" 2>/dev/null
	wait "$HUB_PID"
	st=$?
	[ "$st" -eq 0 ] || fail "the hub exited $st after SIGTERM"
}

kill_hub() {
	kill -9 "$HUB_PID" 2>/dev/null
	wait "$HUB_PID" 2>/dev/null
	return 0
}

sim_up() { curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$SIM_PORT/"; }

start_sim() {
	# shellcheck disable=SC2086
	"$SIM" --listen "127.0.0.1:$SIM_PORT" --callback "$WEBHOOK_URL" --app e2e \
		--apikey e2e-key --event-delay 50 ${SIM_ARGS:-} >>"$T/sim.log" 2>&1 &
	SIM_PID=$!
	track "$SIM_PID"
	wait_for 10 sim_up || fail "the sim did not come up on port $SIM_PORT"
}

stop_sim() {
	kill -TERM "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	return 0
}

start_desk() {
	SIM_PORT=$(free_port)
	HUB_PORT=$(free_port)
	HUB_URL=http://127.0.0.1:$HUB_PORT
	printf 'e2e-key\n' >"$T/apikey"
	"$WADESKD" -d "$D" init --listen "127.0.0.1:$HUB_PORT" --provider sim \
		--api-url "http://127.0.0.1:$SIM_PORT" --app e2e --source 917000000000 \
		--apikey-file "$T/apikey" "$@" >"$T/init.out" 2>&1 || { cat "$T/init.out" >&2; fail "init failed"; }
	"$WADESKD" -d "$D" access show >"$T/links" || fail "access show failed"
	AGENT_LINK=$(sed -n 's/^agent: //p' "$T/links")
	SUPERVISOR_LINK=$(sed -n 's/^supervisor: //p' "$T/links")
	ADMIN_LINK=$(sed -n 's/^admin: //p' "$T/links")
	WEBHOOK_URL=$(sed -n 's/^webhook: //p' "$T/links")
	export WADESK_SIM=http://127.0.0.1:$SIM_PORT
	start_sim
	start_hub
}
