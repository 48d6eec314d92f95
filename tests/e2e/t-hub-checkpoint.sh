#!/bin/sh
# Checkpoints under a sustained ingest, with sync = full and sync = normal:
# a thread of the hub copies the WAL into the database while commits go
# on, and the commit after it copies what was written meanwhile, so the
# log starts over near its 4000-frame mark (16 MB) instead of growing
# until the hub's fallback (four times the mark) checkpoints inline.
# Nothing is lost on the way.
. "$(dirname "$0")/lib.sh"
e2e_init
COUNT=${COUNT:-20000}
start_desk

for mode in full normal; do
	if [ "$mode" = normal ]; then
		stop_hub
		sed -i 's/^sync = .*/sync = normal/' "$D/wadesk.conf"
		grep -q '^sync = normal$' "$D/wadesk.conf" || fail "no sync key in wadesk.conf"
		start_hub
	fi
	# The loop, the checkpoint thread and, with full, the sync thread.
	threads=$(ls "/proc/$HUB_PID/task" | wc -l)
	want=$([ "$mode" = full ] && echo 3 || echo 2)
	[ "$threads" -ge "$want" ] || fail "sync = $mode: the hub runs $threads threads"
	before=$(hub_sql 'select count(*) from messages where out = 0')
	"$SIM" load --count "$COUNT" --rate 1000000 --customers 500 >"$T/load.out" 2>&1 ||
		fail "sync = $mode: the load did not go through: $(cat "$T/load.out")"
	stored=$(hub_sql 'select count(*) from messages where out = 0')
	[ "$stored" -eq $((before + COUNT)) ] || fail "sync = $mode: $((stored - before)) of $COUNT messages stored"
	wal=$(wc -c <"$D/wadesk.db-wal")
	echo "sync = $mode: WAL after $COUNT webhooks: $wal bytes"
	# Without checkpoints the log would pass 100 MB here; left to the
	# fallback, 64 MB.
	[ "$wal" -lt $((32 * 1024 * 1024)) ] || fail "sync = $mode: the WAL grew to $wal bytes"
	! grep -q 'checkpoint' "$T/hub.log" || fail "a checkpoint failed: $(grep checkpoint "$T/hub.log")"
done
[ "$(hub_sql 'pragma integrity_check')" = ok ] || fail "the database is damaged"
stop_hub
echo ok
