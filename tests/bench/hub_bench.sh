#!/bin/sh
# hub_bench.sh — the hub's benchmarks (issue 3), on loopback, figures
# printed, not judged: the script fails only when a benchmark cannot run.
#
#  1. ingest   webhooks/s answered 200 (committed first) by the hub with 10
#              consoles attached and counting events (desk_client --count-only:
#              each frame checked for order, not decoded), against bare_http (a
#              libwebsockets server that answers 200 {} to any POST) in the
#              same run, with sync = full (the default) and sync = normal.
#              Load: `wadesk-sim load` at an unbounded rate (INGEST_INFLIGHT,
#              default 64, in flight, kept-alive connections);
#              for the baseline a second sim whose --callback is bare_http.
#              Each pair also prints the CPU per webhook of the hub, of
#              bare_http and of the load generator in the bare run: the
#              generator must cost less than bare_http, else the baseline
#              measures the generator (as the earlier curl-based one did).
#              INGEST_PAIRS (default 3) pairs are run, bare then hub, each
#              pair back to back with the same count and concurrency; each
#              pair's ratio is printed and the median is the figure (a
#              shared machine's load moves single runs a lot).
#  2. latency  webhook -> event on all 10 consoles at 1,000 webhooks/s:
#              webhook_post stamps each text with CLOCK_REALTIME µs,
#              desk_client subtracts on arrival (per console, and the
#              slowest of the 10 per webhook).  The consoles decode every
#              frame as a real console does; LATENCY_CONSOLES=--count-only
#              has them read only the stamp (see desk_client.c).
#  3. pacing   2,000 agent sends (desk_client send) to 250 customers who
#              wrote in through the sim (so the window is open): the sim's
#              wallet ledger gives the time each send was accepted; rate
#              overall and over 1 s and 10 s windows, and what was dropped.
#
# Each phase gets a fresh hub + sim (start_desk from tests/e2e/lib.sh).
# Sizes can be lowered for a quick look: INGEST_COUNT, LATENCY_COUNT,
# PACE_COUNT (PACE_CUSTOMERS customers, at most 10 sends each); PHASES
# picks phases (default "ingest latency pacing"), INGEST_MODES the sync
# modes (default "full normal"), LATENCY_SYNC the latency phase's (full).
# Helper programs: $BENCH_TOOLS, default $WADESK_BIN/../bench/tools
# (built by `make bench`).
. "$(dirname "$0")/../e2e/lib.sh"
e2e_init


TOOLS=${BENCH_TOOLS:-$WADESK_BIN/../bench/tools}
INGEST_COUNT=${INGEST_COUNT:-20000}
INGEST_PAIRS=${INGEST_PAIRS:-3}
INGEST_INFLIGHT=${INGEST_INFLIGHT:-64}
LATENCY_COUNT=${LATENCY_COUNT:-10000}
LATENCY_RATE=${LATENCY_RATE:-1000}
PACE_COUNT=${PACE_COUNT:-2000}
PACE_CUSTOMERS=${PACE_CUSTOMERS:-250}
CONSOLES=10
for t in bare_http desk_client webhook_post; do
	[ -x "$TOOLS/$t" ] || { echo "hub_bench: $TOOLS/$t is not built (make bench)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "hub_bench: sqlite3 is needed" >&2; exit 1; }

say() { printf '%s\n' "$*"; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
# The achieved rate in a load generator's output (wadesk-sim load, webhook_post).
achieved() { sed -n 's/.* \([0-9.]*\)\( webhooks\)\{0,1\}\/s achieved.*/\1/p' "$1" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else printf "?" }'; }

# A fresh hub + sim in $T/NAME.  The previous pair is stopped first, the
# hub with SIGKILL: its data is thrown away, and a SIGTERM drain would
# spend up to 5 s sending what is left in its outbox.
fresh_desk() {
	if [ -n "${HUB_PID:-}" ]; then
		kill_hub
		stop_sim
	fi
	D=$T/$1
	start_desk
}

# set_sync MODE: the fresh hub (made with sync = full) restarted with
# sync = MODE, unless that is full.
set_sync() {
	[ "$1" = full ] && return 0
	kill_hub
	sed -i "s/^sync = .*/sync = $1/" "$D/wadesk.conf"
	start_hub
}

# The head of the hub's event log.
head_event() { hub_sql 'select coalesce(max(n), 0) from events'; }

# watch_start OUT EXPECT [--count-only]: 10 consoles, counting from the
# current head (with --count-only they count events without decoding them).
watch_start() {
	rm -f "$T/ready"
	"$TOOLS/desk_client" watch "$AGENT_LINK" --consoles "$CONSOLES" --from "$(head_event)" \
		--expect "$2" --idle 15 --timeout 170 --ready "$T/ready" ${3:-} >"$1" 2>&1 &
	WATCH_PID=$!
	track "$WATCH_PID"
	wait_for 20 test -f "$T/ready" || { cat "$1" >&2; fail "the consoles did not get ready"; }
}

watch_wait() {
	wait "$WATCH_PID" || { cat "$1" >&2; fail "desk_client failed"; }
}

# ---- 1. ingest ------------------------------------------------------------

# Each half of a pair starts with nothing left for the kernel to write
# back: the previous half's database and log (tens of megabytes) would
# otherwise be flushed during this one and slow it down.
settle() { sync; }

# bare OUT: the baseline, same load against bare_http.
bare() {
	settle
	bp=$(free_port)
	sp=$(free_port)
	"$TOOLS/bare_http" --listen "127.0.0.1:$bp" >"$T/bare.log" 2>&1 &
	bpid=$!
	track "$bpid"
	"$SIM" --listen "127.0.0.1:$sp" --callback "http://127.0.0.1:$bp/v1/webhook/gupshup/bare" \
		--app e2e >>"$T/sim-bare.log" 2>&1 &
	spid=$!
	track "$spid"
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$bp/" || fail "bare_http did not come up"
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$sp/" || fail "the baseline's sim did not come up"
	c0=$(cpu_ticks "$bpid")
	g0=$(child_ticks)
	"$SIM" load --count "$INGEST_COUNT" --rate 1000000 --customers 1000 --inflight "$INGEST_INFLIGHT" \
		--sim "http://127.0.0.1:$sp" >"$1" 2>&1 || { cat "$1" >&2; fail "load against bare_http failed"; }
	BARE_US=$(per_webhook "$c0" "$(cpu_ticks "$bpid")")
	GEN_US=$(per_webhook "$g0" "$(child_ticks)")
	kill -TERM "$spid" "$bpid"
	wait "$spid" 2>/dev/null
	wait "$bpid" 2>/dev/null
}

# hub_run MODE OUT: a fresh hub with sync = MODE and 10 consoles counting
# events, under the same load as bare.
hub_run() {
	fresh_desk "ingest-$1-$pair"
	set_sync "$1"
	watch_start "$T/watch-$1-$pair.out" "$INGEST_COUNT" --count-only
	settle
	c0=$(cpu_ticks "$HUB_PID")
	"$SIM" load --count "$INGEST_COUNT" --rate 1000000 --customers 1000 --inflight "$INGEST_INFLIGHT" \
		>"$2" 2>&1 ||
		say "   (load: some webhooks were not answered 200)"
	watch_wait "$T/watch-$1-$pair.out"
	HUB_US=$(per_webhook "$c0" "$(cpu_ticks "$HUB_PID")")
}

# The CPU time (user + system, clock ticks) a process has used so far: the
# hub's CPU per webhook does not depend on what else the machine runs.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The same for this shell's finished children (the load generator, run in
# the foreground: the background servers are still running).
child_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
# per_webhook T0 T1: µs of CPU per webhook between two tick counts.
per_webhook() {
	awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" -v n="$INGEST_COUNT" \
		'BEGIN { printf "%.0f", (b - a) * 1e6 / hz / n }'
}

# median: the middle of the numbers on stdin (the mean of the two middle
# ones for an even count).
median() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "?"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ingest MODE: INGEST_PAIRS pairs, each bare_http then the hub, run one
# after the other with the same load generator, webhook count and
# concurrency, so that both halves of a pair see the same machine; the
# figure is the median of the pairs' ratios.
ingest() {
	mode=$1
	say "-- ingest, sync = $mode: $INGEST_PAIRS pairs (bare_http, then wadeskd with $CONSOLES consoles) of $INGEST_COUNT webhooks, unbounded rate, $INGEST_INFLIGHT in flight, 1000 customers"
	: >"$T/ratios-$mode"
	pair=1
	while [ "$pair" -le "$INGEST_PAIRS" ]; do
		bare "$T/bare-$mode-$pair.out"
		hub_run "$mode" "$T/hub-$mode-$pair.out"
		b=$(achieved "$T/bare-$mode-$pair.out")
		h=$(achieved "$T/hub-$mode-$pair.out")
		r=$(ratio "$h" "$b")
		echo "$r" >>"$T/ratios-$mode"
		say "   pair $pair (load $(load_avg)): bare $b/s, hub $h/s = $r %; CPU per webhook: hub $HUB_US µs, bare_http $BARE_US µs, load generator $GEN_US µs (bare run)"
		if [ -n "${VERBOSE:-}" ]; then
			sed 's/^/      bare_http: /' "$T/bare-$mode-$pair.out"
			sed 's/^/      wadeskd:   /' "$T/hub-$mode-$pair.out"
		fi
		sed -n '/^stopped/,$p' "$T/watch-$mode-$pair.out" | grep -v '^result' | sed 's/^/      consoles:  /' |
			grep -E 'stopped|reconnects'
		pair=$((pair + 1))
	done
	last=$((pair - 1))
	c=$(sed -n 's/.*messages_min=\([0-9]*\).*reconnects=\([0-9]*\).*/\1 of '"$INGEST_COUNT"' on every console, \2 reconnects/p' "$T/watch-$mode-$last.out")
	m=$(median <"$T/ratios-$mode")
	all=$(tr '\n' ' ' <"$T/ratios-$mode" | sed 's/ $//')
	say "   median of $INGEST_PAIRS pairs: $m % (pairs: $all)"
	eval "INGEST_${mode}_PCT=\$m INGEST_${mode}_PAIRS=\"\$all\" INGEST_${mode}_CONSOLES=\"\$c\""
}

# ---- 2. latency -----------------------------------------------------------

latency() {
	say "-- latency: $LATENCY_COUNT webhooks at $LATENCY_RATE/s, 1000 customers, $CONSOLES consoles, sync = ${LATENCY_SYNC:-full} (load $(load_avg))"
	fresh_desk latency
	set_sync "${LATENCY_SYNC:-full}"
	watch_start "$T/watch-latency.out" "$LATENCY_COUNT" ${LATENCY_CONSOLES:-}
	"$TOOLS/webhook_post" "$WEBHOOK_URL" --count "$LATENCY_COUNT" --rate "$LATENCY_RATE" \
		--customers 1000 >"$T/post-latency.out" 2>&1 || { cat "$T/post-latency.out" >&2; fail "webhook_post failed"; }
	sed 's/^/   poster:   /' "$T/post-latency.out"
	watch_wait "$T/watch-latency.out"
	sed -n '/^stopped/,$p' "$T/watch-latency.out" | grep -v '^result' | sed 's/^/   consoles: /'
	LAT_RATE=$(achieved "$T/post-latency.out")
	LAT=$(sed -n 's/.*p50_all=\([0-9.]*\) p99_all=\([0-9.]*\) n_all=\([0-9]*\).*/p50 \1 ms, p99 \2 ms (\3 webhooks seen by all)/p' "$T/watch-latency.out")
	LAT_ONE=$(sed -n 's/.*p50_one=\([0-9.]*\) p99_one=\([0-9.]*\).*/p50 \1 ms, p99 \2 ms/p' "$T/watch-latency.out")
}

# ---- 3. pacing ------------------------------------------------------------

queue_depth() { curl -sf --max-time 2 "$HUB_URL/healthz" | sed -n 's/.*"queue_depth":\([0-9]*\).*/\1/p'; }
inbound_count() { hub_sql 'select count(*) from messages where out = 0'; }

pacing() {
	fresh_desk pacing
	say "-- pacing: $PACE_COUNT sends to $PACE_CUSTOMERS customers at rate $(sed -n 's/^rate = //p' "$D/wadesk.conf") (load $(load_avg))"
	: >"$T/phones"
	i=0
	while [ "$i" -lt "$PACE_CUSTOMERS" ]; do
		p=$(printf '9197%08d' "$i")
		echo "$p" >>"$T/phones"
		"$SIM" say "$p" "hello" >/dev/null || fail "sim say $p failed"
		i=$((i + 1))
	done
	wait_for 60 test "$(inbound_count)" -ge "$PACE_CUSTOMERS" ||
		fail "only $(inbound_count) of $PACE_CUSTOMERS customers reached the hub"
	"$TOOLS/desk_client" send "$AGENT_LINK" --phones "$T/phones" --count "$PACE_COUNT" \
		--window 64 --timeout 60 >"$T/send.out" 2>&1 || { cat "$T/send.out" >&2; fail "desk_client send failed"; }
	sed -n '/^stopped/,$p' "$T/send.out" | grep -v '^result' | sed 's/^/   agent:  /'
	t0=$(date +%s)
	while [ "$(queue_depth)" != 0 ] && [ $(($(date +%s) - t0)) -lt 200 ]; do
		sleep 1
	done
	[ "$(queue_depth)" = 0 ] || say "   (the outbox was not empty after 200 s: $(queue_depth) left)"
	sleep 1
	curl -sf "$WADESK_SIM/sim/wallet" >"$T/wallet.json" || fail "cannot read the sim's wallet"
	sqlite3 -batch :memory: "select json_extract(value, '\$.time_ms') from
		json_each(readfile('$T/wallet.json'), '\$.ledger')
		where json_extract(value, '\$.what') = 'session message' order by 1" >"$T/send_times" ||
		fail "cannot read the ledger"
	curl -sf "$HUB_URL/metrics" >"$T/metrics" || fail "cannot read the hub's metrics"
	retries=$(sed -n 's/^wadesk_send_retries_total //p' "$T/metrics")
	failed=$(hub_sql 'select count(*) from messages where out = 1 and state = 5')
	notsent=$(hub_sql 'select count(*) from messages where out = 1 and state = 0')
	awk -v want="$PACE_COUNT" -v retries="${retries:-?}" -v failed="$failed" -v notsent="$notsent" '
		{ t[n++] = $1 }
		END {
			if (n < 2) { printf "   sim: %d sends accepted\n", n; print "PACE_SUMMARY=\"no sends measured\""; exit }
			span = (t[n - 1] - t[0]) / 1000
			full = int(span)                  # whole 1 s windows
			for (i = 0; i < n; i++) { w = int((t[i] - t[0]) / 1000); if (w < full) c[w]++ }
			min = 1e9; max = 0; s = 0; ss = 0; off = 0
			for (w = 0; w < full; w++) {
				v = c[w] + 0; s += v; ss += v * v
				if (v < min) min = v; if (v > max) max = v
			}
			mean = full ? s / full : 0; sd = full ? sqrt(ss / full - mean * mean) : 0
			tmin = 1e9; tmax = 0
			for (w = 0; w + 10 <= full; w += 10) {
				v = 0; for (k = w; k < w + 10; k++) v += c[k]
				if (v / 10 < tmin) tmin = v / 10; if (v / 10 > tmax) tmax = v / 10
			}
			for (i = 1; i < n; i++) g[i - 1] = t[i] - t[i - 1]
			asort_n = n - 1
			for (i = 0; i < asort_n; i++) for (j = i + 1; j < asort_n; j++) if (g[j] < g[i]) { x = g[i]; g[i] = g[j]; g[j] = x }
			rate = (n - 1) / span
			printf "   sim: %d sends accepted over %.2f s: %.2f /s overall\n", n, span, rate
			printf "   sim: 1 s windows (%d): mean %.2f, sd %.2f, min %d, max %d /s\n", full, mean, sd, min, max
			if (tmax > 0) printf "   sim: 10 s windows: %.1f .. %.1f /s\n", tmin, tmax
			printf "   sim: gap between sends: p50 %d ms, p99 %d ms, max %d ms\n", g[int(0.5 * (asort_n - 1))], g[int(0.99 * (asort_n - 1))], g[asort_n - 1]
			printf "   hub: %s retries (429 etc.), %d failed, %d never sent; dropped %d of %d\n", retries, failed, notsent, want - n, want
			printf "PACE_SUMMARY=\"%.2f /s overall; 1 s windows %.2f +- %.2f (min %d, max %d); dropped %d of %d, %s retries\"\n", rate, mean, sd, min, max, want - n, want, retries
		}' "$T/send_times" >"$T/pace.out"
	grep -v '^PACE_SUMMARY' "$T/pace.out"
	eval "$(grep '^PACE_SUMMARY' "$T/pace.out")"
}

say "hub benchmarks: $(nproc) cores, load $(load_avg); loopback; each phase on a fresh hub"
started=$(date +%s)
for phase in ${PHASES:-ingest latency pacing}; do
	case $phase in
	ingest) for m in ${INGEST_MODES:-full normal}; do ingest "$m"; done ;;
	latency) latency ;;
	pacing) pacing ;;
	*) echo "hub_bench: unknown phase '$phase'" >&2; exit 1 ;;
	esac
done

say ""
say "== hub benchmark summary ($(($(date +%s) - started)) s; machine shared, load $(load_avg))"
say "ingest, sync=full:   median ${INGEST_full_PCT:-?} % of bare (pairs: ${INGEST_full_PAIRS:-?} %; goal >= 40 %); consoles: ${INGEST_full_CONSOLES:-?}"
say "ingest, sync=normal: median ${INGEST_normal_PCT:-?} % of bare (pairs: ${INGEST_normal_PAIRS:-?} %); consoles: ${INGEST_normal_CONSOLES:-?}"
say "latency at ${LAT_RATE:-?}/s, webhook -> all $CONSOLES consoles: ${LAT:-?} (goal p99 <= 10 ms); one console: ${LAT_ONE:-?}"
say "pacing: ${PACE_SUMMARY:-?} (goal 20.0 +- 0.2 /s, 0 dropped)"
exit 0
