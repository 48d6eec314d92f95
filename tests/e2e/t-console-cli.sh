#!/bin/sh
# The subcommands: JSON shapes, exit codes 0/1/2/3, and the refusal line.
. "$(dirname "$0")/console-lib.sh"
desk_start
P=919812345610
say $P "Where is *my* parcel?" Noor
wait_for 10 sh -c "HOME=$T/c-cli XDG_CONFIG_HOME=$T/c-cli/config XDG_DATA_HOME=$T/c-cli/data $WADESK --link '$AGENT_LINK' chats | grep -q $P" || fail "no chat"
wadesk --link "$AGENT_LINK" --name ann send $P "On its way" >/dev/null || fail "send failed"
echo "Line one
line two" | wadesk --link "$AGENT_LINK" --name ann send $P - >/dev/null || fail "send - failed"
wadesk --link "$SUPERVISOR_LINK" tag $P gold || fail "tag failed"
wadesk --link "$AGENT_LINK" note $P "prefers mornings" || fail "note failed"
wadesk --link "$AGENT_LINK" name $P "Noor A." || fail "name failed"
wadesk --link "$AGENT_LINK" chats --json >"$T/chats.json" || fail "chats --json failed"
wadesk --link "$AGENT_LINK" history $P --json >"$T/history.json" || fail "history --json failed"
wadesk --link "$AGENT_LINK" chats --status responded --json >"$T/responded.json" || fail "chats --status failed"
python3 - "$T" <<'PY' || fail "bad JSON shapes"
import json, sys
t = sys.argv[1]
chats = json.load(open(t + "/chats.json"))
c = [x for x in chats if x["phone"] == "919812345610"][0]
for k in ("phone", "name", "status", "tags", "note", "opted_in", "last_inbound", "unread"):
    assert k in c, k
assert c["status"] in ("Responded", "Unanswered", "Agent responding", "Notifying agent")
assert c["tags"] == ["gold"] and c["note"] == "prefers mornings" and c["name"] == "Noor A.", c
assert isinstance(c["opted_in"], bool) and isinstance(c["unread"], int)
assert c["last_inbound"].endswith("Z")
h = json.load(open(t + "/history.json"))
assert [m["direction"] for m in h][:1] == ["in"], h
for m in h:
    for k in ("id", "direction", "type", "text", "agent", "time", "automated"):
        assert k in m, (k, m)
    assert m["type"] in ("text", "image", "file", "audio", "video", "location", "contact",
                         "button_reply", "list_reply", "template")
    assert (m["direction"] == "out") == ("state" in m)
assert h[-1]["text"] == "Line one\nline two", h[-1]
assert all(x["status"] == "Responded" for x in json.load(open(t + "/responded.json")))
PY
wadesk --link "$SUPERVISOR_LINK" canned add thanks 'Thank you {{name}}!' || fail "canned add failed"
wadesk --link "$AGENT_LINK" canned list | grep -q '^thanks	Thank you {{name}}!$' || fail "canned list does not show it"
wadesk --link "$SUPERVISOR_LINK" canned rm thanks || fail "canned rm failed"
wadesk --link "$AGENT_LINK" canned list | grep -q thanks && fail "canned rm did not remove it"
wadesk --link "$AGENT_LINK" brb on || fail "brb on failed"
wadesk --link "$AGENT_LINK" brb off || fail "brb off failed"
wadesk --link "$AGENT_LINK" access show 2>/dev/null; [ $? -eq 1 ] || fail "an agent's access show is not refused"
wadesk --link "$ADMIN_LINK" access show | grep -q '^admin: ws://' || fail "access show printed no admin link"
wadesk --link "$AGENT_LINK" tag $P x >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'refused (auth.role)' "$T/err" || fail "an agent tagging: exit $rc, $(cat "$T/err")"
wadesk --link "$AGENT_LINK" send 2>/dev/null; [ $? -eq 2 ] || fail "usage error is not exit 2"
wadesk --link "$AGENT_LINK" chats --status nonsense 2>/dev/null; [ $? -eq 2 ] || fail "bad status is not exit 2"
wadesk bogus-command 2>/dev/null; [ $? -eq 2 ] || fail "unknown command is not exit 2"
wadesk --link "http://nope" chats 2>/dev/null; [ $? -eq 3 ] || fail "a bad link is not exit 3"
port=$(free_port)
wadesk --link "ws://127.0.0.1:$port/v1/desk#x" chats 2>/dev/null; [ $? -eq 3 ] || fail "an unreachable hub is not exit 3"
wadesk --link "${AGENT_LINK%#*}#wrongtoken" chats 2>/dev/null; [ $? -eq 3 ] || fail "a wrong token is not exit 3"
WADESK_LINK=$AGENT_LINK wadesk chats >/dev/null || fail "WADESK_LINK is not used"
HOME=$T/c-cli XDG_CONFIG_HOME=$T/c-cli/config XDG_DATA_HOME=$T/c-cli/data \
	"$WADESK" --link "$AGENT_LINK" tail --json >"$T/tail.out" 2>&1 &
tailpid=$!
track "$tailpid"
sleep 1.5; "$SIMBIN" say "$P" 'tail me'; sleep 1
kill "$tailpid" 2>/dev/null
grep -q '"kind":"message"' "$T/tail.out" && grep -q 'tail me' "$T/tail.out" || fail "tail --json did not stream: $(cat $T/tail.out)"
