#!/bin/sh
# A closed 24 h window turns the composer to templates before a word is
# typed (template messaging on, customer opted in); the line above the
# composer says the text will go as that template.
. "$(dirname "$0")/console-lib.sh"
desk_start
P=919812345613
say $P "Is my order ready?" Mei
wait_for 10 sh -c "HOME=$T/c-cli XDG_CONFIG_HOME=$T/c-cli/config XDG_DATA_HOME=$T/c-cli/data $WADESK --link '$AGENT_LINK' chats | grep -q $P" || fail "no chat"
hub_stop
hub_sql "INSERT OR REPLACE INTO settings(key, value) VALUES ('template_messaging', 'true');
	INSERT OR REPLACE INTO templates(id, name, body) VALUES ('t-order', 'order_ready', 'Your order {{1}} is ready');
	UPDATE contacts SET last_inbound = strftime('%s', 'now') - 2 * 86400, opted_in = 1 WHERE phone = '$P';
	UPDATE messages SET time = strftime('%s', 'now') - 2 * 86400 WHERE phone = '$P' AND out = 0;" ||
	fail "cannot prepare the hub's database"
hub_start
wadesk --link "$SUPERVISOR_LINK" tag $P waiting || fail "tag failed"   # a contact event with the old window
console a "$AGENT_LINK" alice
wait_screen 10 a 'online' || fail "the console did not connect"
wait_screen 5 a 'window closed' || fail "the customer pane does not say the window is closed"
keys a r
wait_screen 3 a 'Templates: type to filter' || fail "the composer did not offer templates before a word"
screen a | grep -q 'order_ready' || fail "the template is not listed"
keys a Escape
text a 'Your order 4411 is ready'
wait_screen 3 a "sends as template 'order_ready'" || fail "the hint does not say it goes as a template"
keys a C-u
text a 'Hello?'
wait_screen 3 a 'refused \(template.nomatch\)' || fail "a text matching no template is not refused"
