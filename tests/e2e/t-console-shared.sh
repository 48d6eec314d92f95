#!/bin/sh
# Two `wadesk tail` and a stream of `wadesk chats` share one cache (same
# XDG_DATA_HOME): no "database is locked", no event skipped by either tail,
# and every message ends up in the cache.
. "$(dirname "$0")/console-lib.sh"
desk_start
mkdir -p "$T/c-cli"
shared() {
	HOME=$T/c-cli XDG_CONFIG_HOME=$T/c-cli/config XDG_DATA_HOME=$T/c-cli/data "$WADESK" "$@"
}
shared --link "$AGENT_LINK" --name ann chats >/dev/null || fail "first chats failed"
shared --link "$AGENT_LINK" --name ann tail >"$T/tail1.out" 2>"$T/tail1.err" &
track $!
shared --link "$AGENT_LINK" --name ann tail >"$T/tail2.out" 2>"$T/tail2.err" &
track $!
wait_for 10 sh -c "curl -s '$HUB_URL/healthz' | grep -q '\"consoles\":2'" || fail "the tails did not connect"
N=20
(
	i=0
	while [ $i -lt 30 ]; do
		shared --link "$AGENT_LINK" --name ann chats >/dev/null 2>>"$T/chats.err" ||
			echo "chats exited $?" >>"$T/chats.err"
		i=$((i + 1))
	done
) &
CHATS=$!
track $CHATS
i=1
while [ $i -le $N ]; do
	say 9198123456$((10 + i)) "shared cache message $i"
	i=$((i + 1))
done
for t in tail1 tail2; do
	wait_for 20 sh -c "[ \$(grep -c 'in: shared cache message' '$T/$t.out') -ge $N ]" ||
		fail "$t printed $(grep -c 'in: shared cache message' "$T/$t.out") of $N messages: $(cat "$T/$t.err")"
done
wait $CHATS
for f in tail1.err tail2.err chats.err; do
	[ -s "$T/$f" ] && fail "$f: $(cat "$T/$f")"
done
[ "$(sqlite3 "$T/c-cli/data/wadesk/"*.db "select count(*) from messages where text like 'shared cache message %'")" = $N ] ||
	fail "the cache lost messages"
echo ok
