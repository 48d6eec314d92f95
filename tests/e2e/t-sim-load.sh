#!/bin/sh
# load: N inbound webhooks straight to the callback at R/s, bounded in
# flight; counts the 200s, prints the achieved rate and latency
# percentiles, and lists the acknowledged ids with --acked.
. "$(dirname "$0")/simlib.sh"
sim_start --app "$APP" --apikey "$KEY"

sim load --count 300 --rate 1000 --customers 7 --inflight 16 --acked "$T/acked" >"$T/out" \
	|| fail "load: $(cat "$T/out")"
grep -q '^load: 300 sent, 300 answered 200, 0 failed' "$T/out" || fail "$(cat "$T/out")"
grep -q '^load: .* webhooks/s achieved (asked 1000.0/s)' "$T/out" || fail "$(cat "$T/out")"
grep -q '^load: latency p50 [0-9.]* ms, p90 [0-9.]* ms, p99 [0-9.]* ms' "$T/out" || fail "$(cat "$T/out")"
[ "$(wc -l <"$T/acked")" -eq 300 ] || fail "acked ids: $(wc -l <"$T/acked")"
[ "$(sort -u "$T/acked" | wc -l)" -eq 300 ] || fail "duplicate ids"
[ "$(hooks_count '"type":"message"')" -eq 300 ] || fail "the sink saw $(hooks_count '"type":"message"')"
# Every body is a valid v2 message callback from one of 7 senders.
[ "$(grep -o '"phone":"[0-9]*"' "$HOOKS" | sort -u | wc -l)" -le 7 ] || fail "more than 7 senders"
# Paced: 50 at 100/s take about half a second.
sim load --count 50 --rate 100 >"$T/out2" || fail "load: $(cat "$T/out2")"
secs=$(sed -n 's/^load: \([0-9.]*\) s,.*/\1/p' "$T/out2")
awk -v s="$secs" 'BEGIN { exit (s >= 0.4 && s < 3) ? 0 : 1 }' || fail "50 at 100/s took $secs s"
# A refusing webhook: counted as failed, exit 1.
for p in $PIDS; do kill "$p"; wait "$p" 2>/dev/null; done
PIDS=
run_sink() { exec "$SIMBIN" sink --listen "127.0.0.1:$PORT" --out "$HOOKS" --status 503; }
sim_start --app "$APP"
if sim load --count 5 --rate 100 >"$T/out3"; then fail "load succeeded against a 503 sink"; fi
grep -q '5 failed (no answer 0, 4xx 0, 5xx 5)' "$T/out3" || fail "$(cat "$T/out3")"
echo ok
