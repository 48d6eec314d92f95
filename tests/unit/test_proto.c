/*
 * Unit tests for proto.c: every message type and event kind survives
 * encode -> decode -> encode unchanged, required fields are enforced, unknown
 * fields are ignored, and malformed frames get the right stable code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"
#include "util.h"

static char *tags[] = { (char *)"vip", (char *)"billing" };
static char *params[] = { (char *)"Asha", (char *)"42" };
static struct proto_setting settings[] = {
	{ "timezone", "Asia/Kolkata", PROTO_V_STRING },
	{ "template_messaging", "true", PROTO_V_BOOL },
	{ "greeting_cooldown", "86400", PROTO_V_INT },
};
static struct proto_template templates[] = {
	{ "t-1", "order", "Your order {{1}} is ready" },
	{ "t-2", "hello", "Hello {{1}}" },
};
static struct proto_canned canned[] = { { "thanks", "Thank you!" }, { "bye", "Bye *now*" } };
static struct proto_counter counters[] = { { "asha", 120, 7 }, { "ravi", 3, 0 } };

static void
fill_message(struct proto_message *x)
{
	x->id = "17";
	x->cid = "c-9";
	x->phone = "919812345678";
	x->direction = "out";
	x->type = "text";
	x->text = "héllo \"quoted\" \\ / \n second line 😀";
	x->state = "delivered";
	x->reason = "none";
	x->agent = "asha";
	x->automated = 1;
	x->time = 1795609843;
	x->template_id = "t-1";
	x->params = params;
	x->nparams = 2;
	x->provider_id = "gs-abc";
	x->media.mime = "image/png";
	x->media.url = "/v1/media/5";
	x->media.filename = "a.png";
	x->media.caption = "look";
	x->media.size = 1234;
	x->media.sha256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
	x->media.state = "pending";
	x->media.error = "not downloaded yet: HTTP 503 from the provider";
	x->media.code = "media.type";
}

/* Every field of every type set, so each table row is exercised. */
static void
fill(struct proto_msg *m, enum proto_type t, enum proto_kind k, struct proto_message *msgs)
{
	memset(m, 0, sizeof *m);
	m->type = t;
	m->id = "c-1";
	m->token = "0123456789abcdef";
	m->agent = "asha";
	m->last_event = 99;
	m->hub_id = "hub-1";
	m->role = "admin";
	m->server_time = 1795609843;
	m->version = PROTO_VERSION;
	m->brb = 1;
	m->limits = (struct proto_limits){ 10, 100000, 12, 86400, 20 };
	m->n = 100;
	m->t = 1795609844;
	m->kind = k;
	m->contact.phone = "919812345678";
	m->contact.name = "Asha ✓";
	m->contact.note = "prefers mornings";
	m->contact.tags = tags;
	m->contact.ntags = 2;
	m->contact.opted_in = 1;
	m->contact.opted_out = 0;
	m->contact.last_inbound = 1795600000;
	m->contact.status = "Notifying agent";
	m->contact.agent = "ravi";
	fill_message(&m->message);
	m->phone = "919812345678";
	m->text = "hi";
	m->tag = "vip";
	m->name = "thanks";
	m->body = "Hello {{1}}";
	m->status = "Responded";
	m->state = "read";
	m->reason = "Message undeliverable";
	m->message_id = "17";
	m->route = "template";
	m->template_id = "t-1";
	m->before = "12";
	m->limit = 50;
	m->removed = 1;
	m->more = 1;
	m->generation = 3;
	m->media.mime = "application/pdf";
	m->media.filename = "x.pdf";
	m->settings = settings;
	m->nsettings = ARRAY_LEN(settings);
	m->templates = templates;
	m->ntemplates = ARRAY_LEN(templates);
	m->canned = canned;
	m->ncanned = ARRAY_LEN(canned);
	fill_message(&msgs[0]);
	fill_message(&msgs[1]);
	msgs[1].id = "18";
	msgs[1].media.mime = NULL;
	m->messages = msgs;
	m->nmessages = 2;
	m->counters = counters;
	m->ncounters = ARRAY_LEN(counters);
	m->links = (struct proto_links){ "ws://h/v1/desk#a", "ws://h/v1/desk#s",
	                                 "ws://h/v1/desk#d", "http://h/v1/webhook/gupshup/x" };
	m->code = "limit.customer";
	m->sentence = "10 messages";
	m->count = 10;
	m->allowed_at = 1795700000;
}

static void
roundtrip(enum proto_type t, enum proto_kind k)
{
	struct proto_msg in, out;
	struct proto_message msgs[2];
	const char *code;
	char *cause;
	size_t len, len2;

	fill(&in, t, k, msgs);
	char *j1 = proto_encode(&in, &len);
	assert_int_equal(strlen(j1), len);
	int rc = proto_decode(j1, len, &out, &code, &cause);
	if (rc != 0)
		fail_msg("%s: %s (%s)", j1, cause, code);
	assert_int_equal(out.type, t);
	char *j2 = proto_encode(&out, &len2);
	assert_string_equal(j1, j2);
	proto_msg_release(&out);
	free(j1);
	free(j2);
}

static void
test_roundtrip_every_type(void **state)
{
	(void)state;
	for (int t = 0; t < PROTO_NTYPES; t++) {
		if (t == PROTO_EVENT)
			continue;
		const char *name = proto_type_name((enum proto_type)t);
		assert_non_null(name);
		assert_int_equal(proto_type_lookup(name), t);
		roundtrip((enum proto_type)t, 0);
	}
	assert_null(proto_type_name(PROTO_NTYPES));
	assert_int_equal(proto_type_lookup("nope"), -1);
}

static void
test_roundtrip_every_kind(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_NKINDS; k++) {
		const char *name = proto_kind_name((enum proto_kind)k);
		assert_non_null(name);
		assert_int_equal(proto_kind_lookup(name), k);
		roundtrip(PROTO_EVENT, (enum proto_kind)k);
	}
}

static void
test_decode_values(void **state)
{
	(void)state;
	static const char frame[] =
	    "{\"type\":\"event\",\"n\":5,\"t\":1795609843,\"kind\":\"message\",\"message\":{\"id\":\"9\","
	    "\"phone\":\"919812345678\",\"direction\":\"in\",\"type\":\"image\",\"text\":\"hi\","
	    "\"automated\":false,\"time\":1795609843,\"params\":[\"a\",\"b\"],"
	    "\"media\":{\"mime\":\"image/png\",\"size\":5}},\"future\":{\"x\":[1,2]}}";
	struct proto_msg m;
	const char *code;
	char *cause;
	assert_int_equal(proto_decode(frame, strlen(frame), &m, &code, &cause), 0);
	assert_int_equal(m.type, PROTO_EVENT);
	assert_int_equal(m.kind, PROTO_EV_MESSAGE);
	assert_int_equal(m.n, 5);
	assert_string_equal(m.message.id, "9");
	assert_string_equal(m.message.type, "image");
	assert_string_equal(m.message.direction, "in");
	assert_null(m.message.state);
	assert_int_equal(m.message.nparams, 2);
	assert_string_equal(m.message.params[1], "b");
	assert_string_equal(m.message.media.mime, "image/png");
	assert_int_equal(m.message.media.size, 5);
	assert_int_equal(m.message.automated, 0);
	proto_msg_release(&m);
}

static void
test_optional_omitted(void **state)
{
	(void)state;
	struct proto_msg in = {0};
	in.type = PROTO_EVENT;
	in.kind = PROTO_EV_MESSAGE_STATE;
	in.n = 7;
	in.t = 8;
	in.message_id = "3";
	in.phone = "919812345678";
	in.state = "read";
	char *j = proto_encode(&in, NULL);
	assert_string_equal(j, "{\"type\":\"event\",\"n\":7,\"t\":8,\"kind\":\"message.state\","
	                       "\"id\":\"3\",\"phone\":\"919812345678\",\"state\":\"read\"}");
	free(j);
	in = (struct proto_msg){0};
	in.type = PROTO_ACK;
	in.id = "a";
	j = proto_encode(&in, NULL);
	assert_string_equal(j, "{\"type\":\"ack\",\"id\":\"a\"}");
	free(j);
}

static void
test_unknown_fields_ignored(void **state)
{
	(void)state;
	static const char frame[] =
	    "{\"type\":\"send\",\"id\":\"a1\",\"phone\":\"919812345678\",\"text\":\"hi\","
	    "\"future\":{\"deep\":[1,{\"x\":null}]},\"n\":\"not-an-int-but-unknown-here\"}";
	struct proto_msg m;
	const char *code;
	char *cause;
	assert_int_equal(proto_decode(frame, strlen(frame), &m, &code, &cause), 0);
	assert_int_equal(m.type, PROTO_SEND);
	assert_string_equal(m.id, "a1");
	assert_string_equal(m.phone, "919812345678");
	assert_string_equal(m.text, "hi");
	assert_null(m.media.mime);
	proto_msg_release(&m);
	proto_msg_release(NULL);
}

static void
test_settings_kinds(void **state)
{
	(void)state;
	static const char frame[] =
	    "{\"type\":\"settings.set\",\"id\":\"s\",\"settings\":{\"a\":\"x\",\"b\":5,\"c\":true}}";
	struct proto_msg m;
	const char *code;
	char *cause;
	assert_int_equal(proto_decode(frame, strlen(frame), &m, &code, &cause), 0);
	assert_int_equal(m.nsettings, 3);
	assert_string_equal(proto_setting_get(m.settings, m.nsettings, "a"), "x");
	assert_string_equal(proto_setting_get(m.settings, m.nsettings, "b"), "5");
	assert_string_equal(proto_setting_get(m.settings, m.nsettings, "c"), "true");
	assert_null(proto_setting_get(m.settings, m.nsettings, "d"));
	proto_msg_release(&m);
}

static void
test_malformed(void **state)
{
	(void)state;
	static const struct { const char *frame; const char *code; const char *id; const char *why; } rows[] = {
		{ "", "proto.bad_frame", NULL, "empty" },
		{ "not json", "proto.bad_frame", NULL, "not JSON" },
		{ "{\"type\":\"send\"", "proto.bad_frame", NULL, "end of frame" },
		{ "[1,2]", "proto.bad_frame", NULL, "not a JSON object" },
		{ "\"hello\"", "proto.bad_frame", NULL, "not a JSON object" },
		{ "{}", "proto.bad_frame", NULL, "'type'" },
		{ "{\"type\":5}", "proto.bad_frame", NULL, "'type'" },
		{ "{\"type\":\"launch\",\"id\":\"x1\"}", "proto.unknown", "x1", "launch" },
		{ "{\"type\":\"send\",\"id\":\"x2\",\"text\":\"hi\"}", "proto.bad_frame", "x2", "'phone'" },
		{ "{\"type\":\"send\",\"id\":\"x3\",\"phone\":12}", "proto.bad_frame", "x3", "'phone'" },
		{ "{\"type\":\"send\",\"phone\":\"1\"}", "proto.bad_frame", NULL, "'id'" },
		{ "{\"type\":\"hello\",\"token\":\"t\",\"last_event\":\"5\"}", "proto.bad_frame", NULL, "last_event" },
		{ "{\"type\":\"hello\",\"token\":\"t\"} x", "proto.bad_frame", NULL, "trailing" },
		{ "{\"type\":\"event\",\"n\":1,\"t\":1}", "proto.bad_frame", NULL, "'kind'" },
		{ "{\"type\":\"event\",\"n\":1,\"t\":1,\"kind\":\"weather\"}", "proto.unknown", NULL, "weather" },
		{ "{\"type\":\"settings.set\",\"id\":\"q\",\"settings\":{\"a\":[1]}}", "proto.bad_frame", "q", "'a'" },
		{ "{\"type\":\"ack\",\"id\":\"q\",\"messages\":[1]}", "proto.bad_frame", "q", "messages" },
		{ "{\"type\":\"event\",\"n\":1,\"t\":1,\"kind\":\"contact\",\"contact\":{\"phone\":\"1\",\"name\":\"\","
		  "\"note\":\"\",\"tags\":[1],\"opted_in\":true,\"opted_out\":false,\"last_inbound\":0,"
		  "\"status\":\"x\"}}", "proto.bad_frame", NULL, "tags" },
		{ "{\"type\":\"tag\",\"id\":\"x\",\"phone\":\"1\",\"tag\":true}", "proto.bad_frame", "x", "'tag'" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct proto_msg m;
		const char *code;
		char *cause = NULL;
		int rc = proto_decode(rows[i].frame, strlen(rows[i].frame), &m, &code, &cause);
		if (rc != -1)
			fail_msg("row %zu decoded: %s", i, rows[i].frame);
		assert_string_equal(code, rows[i].code);
		assert_non_null(cause);
		if (strstr(cause, rows[i].why) == NULL)
			fail_msg("row %zu: cause '%s' lacks '%s'", i, cause, rows[i].why);
		if (rows[i].id == NULL)
			assert_null(m.id);
		else
			assert_string_equal(m.id, rows[i].id);
		free(cause);
		proto_msg_release(&m);
	}
}

static void
test_unknown_kind_keeps_n(void **state)
{
	(void)state;
	static const char f[] = "{\"type\":\"event\",\"n\":41,\"t\":7,\"kind\":\"weather.v2\",\"sky\":1}";
	struct proto_msg m;
	const char *code;
	char *cause;
	assert_int_equal(proto_decode(f, strlen(f), &m, &code, &cause), -1);
	assert_string_equal(code, "proto.unknown");
	assert_int_equal(m.type, PROTO_EVENT);
	assert_int_equal(m.n, 41);
	free(cause);
	proto_msg_release(&m);
}

static void
test_limits(void **state)
{
	(void)state;
	size_t n = PROTO_MAX_FRAME + 1;
	char *big = xmalloc(n);
	memset(big, ' ', n);
	struct proto_msg m;
	const char *code;
	char *cause;
	assert_int_equal(proto_decode(big, n, &m, &code, &cause), -1);
	assert_string_equal(code, "proto.too_big");
	free(cause);
	proto_msg_release(&m);
	/* A NUL inside is refused, not truncated. */
	static const char nul[] = "{\"type\":\"hello\",\"token\":\"a\"}\0{}";
	assert_int_equal(proto_decode(nul, sizeof nul - 1, &m, &code, &cause), -1);
	assert_string_equal(code, "proto.bad_frame");
	free(cause);
	proto_msg_release(&m);
	/* Deep nesting is refused by the parser, not a stack overflow. */
	struct buf b = {0};
	buf_puts(&b, "{\"type\":\"hello\",\"token\":\"t\",\"x\":");
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, '[');
	assert_int_equal(proto_decode(b.data, b.len, &m, &code, &cause), -1);
	assert_string_equal(code, "proto.bad_frame");
	free(cause);
	proto_msg_release(&m);
	buf_free(&b);
	free(big);
}

static void
test_tables(void **state)
{
	(void)state;
	size_t n;
	const struct proto_error *e = proto_error_table(&n);
	static const char *const required[] = {
		"window.closed", "template.nomatch", "optin.missing", "media.session_only",
		"sandbox.text_only", "media.type", "wallet.balance", "limit.customer",
		"limit.agent", "auth.token", "auth.expired", "auth.role", "proto.bad_frame",
		"proto.too_big", "proto.unknown", "not_found", "internal",
	};
	for (size_t i = 0; i < ARRAY_LEN(required); i++)
		assert_non_null(proto_error_lookup(required[i]));
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(proto_error_lookup(e[i].code), &e[i]);
		assert_true(strlen(e[i].sentence) > 0);
	}
	assert_null(proto_error_lookup("no.such"));

	assert_int_equal(proto_type_role(PROTO_SEND), PROTO_ROLE_AGENT);
	assert_int_equal(proto_type_role(PROTO_TAG), PROTO_ROLE_SUPERVISOR);
	assert_int_equal(proto_type_role(PROTO_CANNED_ADD), PROTO_ROLE_SUPERVISOR);
	assert_int_equal(proto_type_role(PROTO_SETTINGS_SET), PROTO_ROLE_ADMIN);
	assert_int_equal(proto_type_role(PROTO_ACCESS_ROTATE), PROTO_ROLE_ADMIN);
	assert_int_equal(proto_type_role(PROTO_HELLO), PROTO_ROLE_NONE);
	assert_true(proto_type_is_command(PROTO_HISTORY));
	assert_false(proto_type_is_command(PROTO_HELLO));
	assert_false(proto_type_is_command(PROTO_WELCOME));
	assert_string_equal(proto_role_name(PROTO_ROLE_SUPERVISOR), "supervisor");
	assert_int_equal(proto_role_lookup("admin"), PROTO_ROLE_ADMIN);
	assert_int_equal(proto_role_lookup("root"), PROTO_ROLE_NONE);
	assert_null(proto_role_name(PROTO_ROLE_NONE));

	size_t len;
	char *f = proto_error_frame("x", "auth.role", NULL, &len);
	assert_string_equal(f, "{\"type\":\"error\",\"id\":\"x\",\"code\":\"auth.role\","
	                       "\"message\":\"your role may not do this\"}");
	free(f);
	f = proto_error_frame(NULL, "proto.too_big", "too big", &len);
	assert_string_equal(f, "{\"type\":\"error\",\"code\":\"proto.too_big\",\"message\":\"too big\"}");
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_roundtrip_every_kind),
		cmocka_unit_test(test_decode_values),
		cmocka_unit_test(test_optional_omitted),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_settings_kinds),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unknown_kind_keeps_n),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tables),
	};
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
