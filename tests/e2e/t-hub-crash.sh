#!/bin/sh
# kill -9 of the hub during an ingest from the sim's load generator: every
# webhook the load generator saw acknowledged (200) is in the store exactly
# once.  `make check` scale: KILLS kills (default 5) during COUNT webhooks
# (default 2000); tests/bench/crash-full.sh runs the issue's 20 x 20,000.
. "$(dirname "$0")/lib.sh"
e2e_init
KILLS=${KILLS:-5}
COUNT=${COUNT:-2000}
RATE=${RATE:-1000}
start_desk

"$SIM" load --count "$COUNT" --rate "$RATE" --customers 200 --acked "$T/acked" >"$T/load.out" 2>&1 &
LOAD=$!
track "$LOAD"
gap_ms=$(( COUNT * 1000 / RATE / (KILLS + 1) ))
k=0
while [ "$k" -lt "$KILLS" ]; do
	sleep "$(awk "BEGIN { printf \"%.3f\", $gap_ms / 1000 }")"
	kill_hub
	start_hub
	k=$((k + 1))
done
wait "$LOAD"      # non-zero when some webhooks went unanswered: expected here
grep -q "^load: $COUNT sent" "$T/load.out" || fail "load generator failed: $(cat "$T/load.out")"
acked=$(wc -l <"$T/acked")
[ "$acked" -gt 0 ] || fail "nothing was acknowledged: $(cat "$T/load.out")"
# Every acknowledged id is stored, exactly once (the UNIQUE constraint
# makes "more than once" impossible; check it anyway).
{
	echo "CREATE TEMP TABLE acked (id TEXT PRIMARY KEY);"
	echo "BEGIN;"
	sed "s/.*/INSERT OR IGNORE INTO acked VALUES ('&');/" "$T/acked"
	echo "COMMIT;"
	echo "SELECT COUNT(*) FROM acked WHERE id NOT IN (SELECT provider_id FROM messages WHERE provider_id IS NOT NULL);"
	echo "SELECT COUNT(*) FROM (SELECT provider_id FROM messages WHERE out = 0 GROUP BY provider_id HAVING COUNT(*) > 1);"
} >"$T/check.sql"
res=$(sqlite3 -batch "$D/wadesk.db" <"$T/check.sql" | tr '\n' ' ')
stored=$(hub_sql 'select count(*) from messages where out = 0')
# One line of figures (tests/bench/crash-full.sh reads it).
set -- $res
echo "crash: kills $KILLS, webhooks $COUNT, acked $acked, stored $stored, missing ${1:-?}, duplicates ${2:-?}"
tail -n 3 "$T/load.out"
[ "$res" = "0 0 " ] || fail "acknowledged webhooks missing / duplicated: $res (of $acked)"
# Every event number is there once, no gap.
[ "$(hub_sql 'select max(n) = count(*) from events')" = 1 ] || fail "the event log has gaps"
stop_hub
echo ok
