/*
 * Unit tests for decide.c: every row of DESIGN.md §2's table, every refusal,
 * their precedence, and the 24 h boundary to the second.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decide.h"
#include "util.h"

#define NOW     INT64_C(1795609843)
#define NEVER   INT64_MIN            /* age meaning last_inbound = 0 */
#define ACTIVE  600                  /* ten minutes ago */
#define STALE   (3 * 86400)

static const struct template_def templates[] = {
	{ "t-order", "order", "Your order {{1}} shipped" },
	{ "t-hi",    "hi",    "Hi {{1}}, {{2}}" },
};

#define MATCH   "Your order 42 shipped"
#define NOMATCH "see you"
#define PNG     "image/png"

static const struct {
	const char *what;
	int         tm;          /* template messaging */
	int64_t     age;         /* now - last_inbound, or NEVER */
	int         optin;
	enum send_kind kind;
	const char *text, *mime;
	int         sandbox;
	int64_t     balance, cost;
	enum send_result result;
	const char *code;
	int         index;
	const char *param1;
} rows[] = {
	/* DESIGN.md §2 table, row by row */
	{ "off active text",        0, ACTIVE, 0, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "off active media",       0, ACTIVE, 0, SEND_MEDIA, NULL, PNG,   0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "off inactive",           0, STALE,  1, SEND_TEXT, MATCH, NULL,   0, -1, 0, SEND_REFUSED, "window.closed", -1, NULL },
	{ "off never wrote",        0, NEVER,  1, SEND_TEXT, MATCH, NULL,   0, -1, 0, SEND_REFUSED, "window.closed", -1, NULL },
	{ "on active any",          1, ACTIVE, 0, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "on active media",        1, ACTIVE, 0, SEND_MEDIA, "x", PNG,     0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "on inactive optin match", 1, STALE, 1, SEND_TEXT, MATCH, NULL,   0, -1, 0, SEND_TEMPLATE, NULL, 0, "42" },
	{ "on never wrote match",   1, NEVER,  1, SEND_TEXT, "Hi Ana, welcome", NULL, 0, -1, 0, SEND_TEMPLATE, NULL, 1, "Ana" },
	{ "on inactive optin nomatch", 1, STALE, 1, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_REFUSED, "template.nomatch", -1, NULL },
	{ "on inactive optin NULL text", 1, STALE, 1, SEND_TEXT, NULL, NULL, 0, -1, 0, SEND_REFUSED, "template.nomatch", -1, NULL },
	{ "on inactive no optin match", 1, STALE, 0, SEND_TEXT, MATCH, NULL, 0, -1, 0, SEND_REFUSED, "optin.missing", -1, NULL },
	{ "on inactive no optin nomatch", 1, STALE, 0, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_REFUSED, "optin.missing", -1, NULL },
	/* the 24 h boundary */
	{ "off 23:59:59",           0, 86399,  0, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "off 24:00:00",           0, 86400,  0, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_REFUSED, "window.closed", -1, NULL },
	{ "on 23:59:59 no optin",   1, 86399,  0, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "on 24:00:00 template",   1, 86400,  1, SEND_TEXT, MATCH, NULL,   0, -1, 0, SEND_TEMPLATE, NULL, 0, "42" },
	{ "media 23:59:59",         0, 86399,  0, SEND_MEDIA, NULL, PNG,    0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "media 24:00:00",         0, 86400,  0, SEND_MEDIA, NULL, PNG,    0, -1, 0, SEND_REFUSED, "media.session_only", -1, NULL },
	{ "clock skew: future",     0, -30,    0, SEND_TEXT, NOMATCH, NULL, 0, -1, 0, SEND_SESSION, NULL, -1, NULL },
	/* media refusals and their precedence */
	{ "media bad type",         0, ACTIVE, 0, SEND_MEDIA, NULL, "image/webp", 0, -1, 0, SEND_REFUSED, "media.type", -1, NULL },
	{ "media NULL type",        0, ACTIVE, 0, SEND_MEDIA, NULL, NULL,   0, -1, 0, SEND_REFUSED, "media.type", -1, NULL },
	{ "type before sandbox+window", 1, STALE, 0, SEND_MEDIA, NULL, "text/html", 1, 0, 9, SEND_REFUSED, "media.type", -1, NULL },
	{ "sandbox media active",   0, ACTIVE, 0, SEND_MEDIA, NULL, PNG,    1, -1, 0, SEND_REFUSED, "sandbox.text_only", -1, NULL },
	{ "sandbox before session", 1, STALE,  1, SEND_MEDIA, MATCH, PNG,   1, -1, 0, SEND_REFUSED, "sandbox.text_only", -1, NULL },
	{ "sandbox text is fine",   0, ACTIVE, 0, SEND_TEXT, NOMATCH, NULL, 1, -1, 0, SEND_SESSION, NULL, -1, NULL },
	{ "media inactive tm on",   1, STALE,  1, SEND_MEDIA, MATCH, PNG,   0, -1, 0, SEND_REFUSED, "media.session_only", -1, NULL },
	{ "media inactive tm off",  0, STALE,  1, SEND_MEDIA, NULL, PNG,    0, -1, 0, SEND_REFUSED, "media.session_only", -1, NULL },
	{ "media never wrote",      1, NEVER,  0, SEND_MEDIA, NULL, "application/pdf", 0, -1, 0, SEND_REFUSED, "media.session_only", -1, NULL },
	/* wallet: last, and only when the balance is known */
	{ "wallet short",           0, ACTIVE, 0, SEND_TEXT, NOMATCH, NULL, 0, 100, 101, SEND_REFUSED, "wallet.balance", -1, NULL },
	{ "wallet exact",           0, ACTIVE, 0, SEND_TEXT, NOMATCH, NULL, 0, 101, 101, SEND_SESSION, NULL, -1, NULL },
	{ "wallet unknown",         0, ACTIVE, 0, SEND_TEXT, NOMATCH, NULL, 0, -1, 5000, SEND_SESSION, NULL, -1, NULL },
	{ "wallet empty, free",     0, ACTIVE, 0, SEND_TEXT, NOMATCH, NULL, 0, 0, 0, SEND_SESSION, NULL, -1, NULL },
	{ "wallet short template",  1, STALE,  1, SEND_TEXT, MATCH, NULL,   0, 0, 1, SEND_REFUSED, "wallet.balance", -1, NULL },
	{ "wallet short media",     0, ACTIVE, 0, SEND_MEDIA, NULL, PNG,    0, 0, 1, SEND_REFUSED, "wallet.balance", -1, NULL },
	{ "window before wallet",   0, STALE,  0, SEND_TEXT, NOMATCH, NULL, 0, 0, 1, SEND_REFUSED, "window.closed", -1, NULL },
	{ "optin before wallet",    1, STALE,  0, SEND_TEXT, MATCH, NULL,   0, 0, 1, SEND_REFUSED, "optin.missing", -1, NULL },
	{ "nomatch before wallet",  1, STALE,  1, SEND_TEXT, NOMATCH, NULL, 0, 0, 1, SEND_REFUSED, "template.nomatch", -1, NULL },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct send_input in = {
			.template_messaging = rows[i].tm,
			.last_inbound = rows[i].age == NEVER ? 0 : NOW - rows[i].age,
			.opted_in = rows[i].optin,
			.kind = rows[i].kind,
			.text = rows[i].text,
			.mime = rows[i].mime,
			.sandbox = rows[i].sandbox,
			.balance = rows[i].balance,
			.cost = rows[i].cost,
			.now = NOW,
			.templates = templates,
			.ntemplates = ARRAY_LEN(templates),
		};
		struct send_decision d;
		decide_send(&in, &d);
		if (d.result != rows[i].result)
			fail_msg("row '%s': result %d, want %d (code %s)", rows[i].what,
			         d.result, rows[i].result, d.code ? d.code : "-");
		if (rows[i].code == NULL) {
			assert_null(d.code);
			assert_null(d.reason);
		} else {
			if (d.code == NULL || strcmp(d.code, rows[i].code) != 0)
				fail_msg("row '%s': code %s, want %s", rows[i].what,
				         d.code ? d.code : "-", rows[i].code);
			assert_non_null(d.reason);
			assert_true(strlen(d.reason) > 10);
		}
		assert_int_equal(d.template_index, rows[i].index);
		if (rows[i].param1 != NULL) {
			assert_true(d.nparams >= 1);
			assert_string_equal(d.params[0], rows[i].param1);
		} else {
			assert_null(d.params);
			assert_int_equal(d.nparams, 0);
		}
		decision_release(&d);
		decision_release(&d);
		assert_null(d.params);
	}
}

static void
test_active(void **state)
{
	(void)state;
	static const struct { int64_t last, now; int active; } act[] = {
		{ 0, NOW, 0 },                       /* never wrote */
		{ 0, 100, 0 },
		{ NOW, NOW, 1 },
		{ NOW - 86399, NOW, 1 },             /* 23:59:59 */
		{ NOW - 86400, NOW, 0 },             /* 24:00:00 */
		{ NOW - 86401, NOW, 0 },
		{ NOW + 5, NOW, 1 },
	};
	for (size_t i = 0; i < ARRAY_LEN(act); i++)
		assert_int_equal(contact_is_active(act[i].last, act[i].now), act[i].active);
}

static void
test_no_templates(void **state)
{
	(void)state;
	struct send_input in = {
		.template_messaging = 1, .last_inbound = 0, .opted_in = 1,
		.kind = SEND_TEXT, .text = "anything", .balance = -1, .now = NOW,
	};
	struct send_decision d;
	decide_send(&in, &d);
	assert_int_equal(d.result, SEND_REFUSED);
	assert_string_equal(d.code, "template.nomatch");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_no_templates),
	};
	return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
