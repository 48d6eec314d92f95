/*
 * Unit tests for sim_core.c: request parsing and routing, Gupshup's error
 * answers, the rate limit, the fee table and the wallet, WhatsApp's
 * refusals, the sandbox, the callback queue, and the state file — all
 * through sim_handle() with a controlled clock, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gupshup.h"
#include "gupshup_sim.h"
#include "media.h"
#include "sha256.h"
#include "sim.h"
#include "sim_sample.h"
#include "util.h"

#define T0 1764065643000LL          /* a fixed "now" */
#define KEY "k3y"
#define APP "DeskApp"

static struct sim *
new_sim(int sandbox)
{
	struct sim_config cfg = { .app = APP, .apikey = KEY, .sandbox = sandbox,
	        .event_delay_ms = 100, .seed = 7, .base_url = "http://127.0.0.1:1" };
	return sim_new(&cfg);
}

/* Runs one request; returns the status, *body the answer (caller frees). */
static int
request(struct sim *s, const char *method, const char *path, const char *key, const char *body,
        int64_t now, char **out)
{
	struct sim_request rq = { .method = method, .path = path, .apikey = key, .body = body,
	        .len = body != NULL ? strlen(body) : 0 };
	struct sim_response rs;
	int status;

	sim_handle(s, &rq, now, &rs);
	status = rs.status;
	if (out != NULL)
		*out = rs.body != NULL ? xstrndup(rs.body, rs.len) : xstrdup("");
	sim_response_release(&rs);
	return status;
}

static char *
text_form(const char *dest, const char *text)
{
	struct gupshup_send m = { .source = "917834811114", .destination = dest, .app = APP,
	        .type = GUPSHUP_TEXT, .text = text };
	char *cause = NULL, *f = gupshup_send_form(&m, &cause);
	assert_non_null(f);
	return f;
}

static char *
template_form(const char *dest, const char *id, char *const *params, size_t n)
{
	struct gupshup_send m = { .source = "917834811114", .destination = dest, .app = APP,
	        .is_template = 1, .template_id = id, .params = params, .nparams = n };
	char *cause = NULL, *f = gupshup_send_form(&m, &cause);
	assert_non_null(f);
	return f;
}

/* Sends and returns the HTTP status; *id gets the messageId on 202. */
static int
send_form(struct sim *s, const char *path, char *form, int64_t now, char **id)
{
	char *body, *cause = NULL;
	int st = request(s, "POST", path, KEY, form, now, &body);
	free(form);
	if (id != NULL) {
		*id = NULL;
		if (st == 202)
			assert_int_equal(gupshup_reply_parse(body, strlen(body), id, &cause), 0);
	}
	free(body);
	return st;
}

/* Pops every callback due by now; returns how many, parsed into cb[]. */
static size_t
drain(struct sim *s, int64_t now, struct gupshup_callback *cb, size_t max)
{
	struct sim_post p;
	size_t n = 0;
	while (sim_pop_due(s, now, &p)) {
		char *cause = NULL;
		if (n < max) {
			if (gupshup_callback_parse(p.body, strlen(p.body), &cb[n], &cause) != 0)
				fail_msg("callback does not parse: %s: %s", cause, p.body);
			n++;
		}
		free(p.body);
	}
	return n;
}

static void
release_all(struct gupshup_callback *cb, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gupshup_callback_release(&cb[i]);
}

static void
test_phone(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } ok[] = {
		{ "919812345678", "919812345678" }, { "+91 98123 45678", "919812345678" },
		{ "0044 7700-900.123", "447700900123" }, { "+1 (415) 555-0100", "14155550100" },
	};
	static const char *const bad[] = { "", "12345", "0919812345678x", "abc", "1234567890123456",
	                                   "+0 123 456 789", NULL };
	char out[16];
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		assert_int_equal(sim_phone(ok[i].in, out), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_int_equal(sim_phone(bad[i], out), -1);
	assert_int_equal(sim_phone(NULL, out), -1);
}

static void
test_fees(void **state)
{
	(void)state;
	static const struct { const char *phone; int64_t session, tmpl; } rows[] = {
		{ "919812345678", 100, 4700 }, { "14155550100", 100, 8600 },
		{ "447700900123", 100, 39700 }, { "5511987654321", 100, 31600 },
		{ "6281234567890", 100, 30100 }, { "2348031234567", 100, 25300 },
		{ "971501234567", 100, 20100 },   /* default row */
		{ "9234567890", 100, 20100 },     /* 92 is not 91 */
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		assert_true(sim_cost(rows[i].phone, 0) == rows[i].session);
		assert_true(sim_cost(rows[i].phone, 1) == rows[i].tmpl);
	}
}

static void
test_auth_and_routing(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	char *body;
	static const struct {
		const char *method, *path, *key;
		int status;
		const char *body;
	} rows[] = {
		{ "POST", "/sm/api/v1/msg", NULL, 401, "{\"status\":\"error\",\"message\":\"Authentication Failed\"}" },
		{ "POST", "/sm/api/v1/msg", "wrong", 401, "{\"status\":\"error\",\"message\":\"Authentication Failed\"}" },
		{ "POST", "/sm/api/v1/template/msg", "", 401, NULL },
		{ "GET", "/sm/api/v1/template/list/" APP, NULL, 401, NULL },
		{ "GET", "/sm/api/v1/template/list/" APP, KEY, 200, NULL },
		{ "GET", "/sm/api/v1/template/list/Other", KEY, 400, "{\"status\":\"error\",\"message\":\"Invalid App Details\"}" },
		{ "GET", "/sm/api/v1/users/" APP, KEY, 200, "{\"status\":\"success\",\"users\":[]}" },
		{ "GET", "/sm/api/v2/wallet/balance", KEY, 200, NULL },
		{ "GET", "/sm/api/v1/msg", KEY, 405, "{\"status\":\"error\",\"message\":\"Method Not Allowed\"}" },
		{ "GET", "/nowhere", KEY, 404, "{\"status\":\"error\",\"message\":\"Not Found\"}" },
		{ "GET", "/sm/api/v1/wamedia/" APP "/nope", KEY, 404, "{\"status\":\"error\",\"message\":\"Invalid Media Id\"}" },
		{ "GET", "/sm/api/v1/wamedia/" APP "/nope", NULL, 401, NULL },
		{ "GET", "/sm/api/v1/wamedia/" APP "/nope", "wrong", 401, NULL },
		{ "GET", "/sm/api/v1/wamedia/Other/nope", KEY, 404, NULL },
		{ "GET", "/wa/" APP "/wa/media/nope", NULL, 404, NULL },
		{ "GET", "/wa/" APP "/wa/media/nope", "wrong", 404, NULL },
		{ "POST", "/wa/" APP "/wa/media/nope", NULL, 405, NULL },
		{ "POST", "/sim/upload", NULL, 400, NULL },
		{ "POST", "/sim/media", NULL, 404, NULL },
		{ "GET", "/sim/info", NULL, 200, NULL },
		{ "GET", "/sim/wallet", NULL, 200, NULL },
		{ "GET", "/sim/inbox/919812345678", NULL, 200, NULL },
		{ "GET", "/sim/inbox/12", NULL, 400, NULL },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		int st = request(s, rows[i].method, rows[i].path, rows[i].key, "", T0, &body);
		if (st != rows[i].status)
			fail_msg("row %zu %s %s: %d, want %d (%s)", i, rows[i].method, rows[i].path, st,
			         rows[i].status, body);
		if (rows[i].body != NULL)
			assert_string_equal(body, rows[i].body);
		free(body);
	}
	sim_free(s);
}

static void
test_send_validation(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	static const struct { const char *form; const char *message; } rows[] = {
		{ "channel=whatsapp&source=917834811114&message=x&src.name=" APP, "Missing destination" },
		{ "channel=whatsapp&source=917834811114&destination=919812345678&src.name=" APP, "Missing message" },
		{ "channel=whatsapp&source=917834811114&destination=919812345678&message=%7B&src.name=" APP,
		  "Invalid message: message is not JSON" },
		{ "channel=whatsapp&source=917834811114&destination=919812345678&message=%7B%22type%22%3A%22text%22%2C%22text%22%3A%22x%22%7D&src.name=Other",
		  "Invalid App Details" },
		{ "channel=whatsapp&source=91&destination=919812345678&message=%7B%22type%22%3A%22text%22%2C%22text%22%3A%22x%22%7D&src.name=" APP,
		  "Invalid Source" },
		{ "channel=whatsapp&source=917834811114&destination=0919812345678&message=%7B%22type%22%3A%22text%22%2C%22text%22%3A%22x%22%7D&src.name=" APP,
		  "Invalid Destination" },
		{ "channel=whatsapp&source=917834811114&destination=91abc&message=%7B%22type%22%3A%22text%22%2C%22text%22%3A%22x%22%7D&src.name=" APP,
		  "Invalid Destination" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char *body, *msg;
		assert_int_equal(request(s, "POST", "/sm/api/v1/msg", KEY, rows[i].form, T0, &body), 400);
		msg = gupshup_sim_error_message(body, strlen(body));
		if (msg == NULL || strncmp(msg, rows[i].message, strlen(rows[i].message)) != 0)
			fail_msg("row %zu: %s", i, body);
		free(msg);
		free(body);
	}
	/* Nothing refused synchronously reached the queue or the wallet. */
	assert_int_equal(sim_queued(s), 0);
	assert_true(sim_balance(s) == SIM_CREDIT);
	sim_free(s);
}

static void
test_rate_limit(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	char *body;
	int ok = 0, limited = 0;

	for (int i = 0; i < 25; i++) {
		int st = send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "x"), T0 + i * 10, NULL);
		ok += st == 202;
		limited += st == 429;
	}
	assert_int_equal(ok, 20);
	assert_int_equal(limited, 5);
	assert_int_equal(request(s, "POST", GUPSHUP_PATH_MSG, KEY, "", T0 + 300, &body), 429);
	assert_string_equal(body, "{\"status\":\"error\",\"message\":\"Too Many Requests\"}");
	free(body);
	/* A second after the first of the twenty, one more fits. */
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "x"), T0 + 1000, NULL), 202);
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "x"), T0 + 1001, NULL), 429);
	sim_free(s);
}

/* A session message inside the window: enqueued, sent, delivered, read,
 * in order, with the right ids; the wallet pays Gupshup's fee both ways. */
static void
test_delivery(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	struct gupshup_callback cb[16];
	char *cause = NULL, *id;
	size_t n;

	assert_int_equal(sim_inbound(s, "+91 98123 45678", "Asha", "hello", T0, &cause), 0);
	n = drain(s, T0, cb, 16);
	assert_int_equal(n, 1);
	assert_int_equal(cb[0].kind, GUPSHUP_MESSAGE);
	assert_string_equal(cb[0].msg.phone, "919812345678");
	assert_string_equal(cb[0].msg.name, "Asha");
	assert_string_equal(cb[0].msg.text, "hello");
	assert_string_equal(cb[0].app, APP);
	release_all(cb, n);

	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "hi"), T0 + 1000, &id), 202);
	assert_int_equal(drain(s, T0 + 1099, cb, 16), 0);       /* --event-delay 100 */
	n = drain(s, T0 + 2000, cb, 16);
	assert_int_equal(n, 4);
	static const enum gupshup_event_type order[] = { GUPSHUP_EV_ENQUEUED, GUPSHUP_EV_SENT,
	                                                GUPSHUP_EV_DELIVERED, GUPSHUP_EV_READ };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(cb[i].kind, GUPSHUP_MESSAGE_EVENT);
		assert_int_equal(cb[i].ev.type, order[i]);
		assert_string_equal(cb[i].ev.gs_id, id);
		assert_string_equal(cb[i].ev.wa_id, cb[0].ev.wa_id);
		assert_string_equal(cb[i].ev.destination, "919812345678");
	}
	assert_string_equal(cb[0].ev.conversation, "session");
	release_all(cb, n);

	const struct sim_customer *c = sim_customer_find(s, "919812345678");
	assert_non_null(c);
	assert_int_equal(c->nitems, 1);
	assert_string_equal(c->items[0].status, "read");
	assert_string_equal(c->items[0].text, "hi");
	assert_true(sim_balance(s) == SIM_CREDIT - 200);
	size_t nl;
	const struct sim_ledger *l = sim_ledger(s, &nl);
	assert_int_equal(nl, 2);
	assert_string_equal(l[0].what, "incoming message");
	assert_string_equal(l[1].what, "session message");
	assert_string_equal(l[1].id, id);
	free(id);
	sim_free(s);
}

/* Failure rows: which send fails with which code; the wallet is charged
 * only for delivered messages. */
static void
test_refusals(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	struct gupshup_callback cb[8];
	char *cause = NULL, *id;
	char p1[] = "#1", p2[] = "packed", empty[] = "";
	char *two[] = { p1, p2 }, *one[] = { p1 }, *blank[] = { p1, empty };
	int64_t now = T0;
	size_t n;
	static const char *const tid = "6c1a2e52-order-update";
	struct {
		char *form;
		const char *path;
		int code;
	} rows[] = {
		/* never wrote: a session message cannot go */
		{ text_form("447700900123", "hi"), GUPSHUP_PATH_MSG, 1004 },
		/* not opted in, inactive */
		{ template_form("447700900123", tid, two, 2), GUPSHUP_PATH_TEMPLATE, 1006 },
		/* params do not fit */
		{ template_form("447700900123", tid, one, 1), GUPSHUP_PATH_TEMPLATE, 1005 },
		{ template_form("447700900123", tid, blank, 2), GUPSHUP_PATH_TEMPLATE, 1005 },
		{ template_form("447700900123", "unknown", two, 2), GUPSHUP_PATH_TEMPLATE, 1005 },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		now += 100;
		assert_int_equal(send_form(s, rows[i].path, rows[i].form, now, &id), 202);
		n = drain(s, now + 1000, cb, 8);
		assert_int_equal(n, 1);
		assert_int_equal(cb[0].ev.type, GUPSHUP_EV_FAILED);
		if (cb[0].ev.code != rows[i].code)
			fail_msg("row %zu: code %d, want %d", i, cb[0].ev.code, rows[i].code);
		assert_string_equal(cb[0].ev.gs_id, id);
		assert_non_null(cb[0].ev.reason);
		release_all(cb, n);
		free(id);
	}
	assert_true(sim_balance(s) == SIM_CREDIT);

	/* Opted in: the template goes, charged WhatsApp's UK fee plus Gupshup's. */
	assert_int_equal(sim_optin(s, "447700900123", 1, now, &cause), 0);
	n = drain(s, now, cb, 8);
	assert_int_equal(n, 1);
	assert_int_equal(cb[0].kind, GUPSHUP_USER_EVENT);
	assert_int_equal(cb[0].user.type, GUPSHUP_USER_OPTED_IN);
	release_all(cb, n);
	assert_int_equal(send_form(s, GUPSHUP_PATH_TEMPLATE, template_form("447700900123", tid, two, 2),
	                           now + 100, &id), 202);
	n = drain(s, now + 2000, cb, 8);
	assert_int_equal(n, 4);
	assert_string_equal(cb[0].ev.conversation, "template");
	assert_int_equal(cb[3].ev.type, GUPSHUP_EV_READ);
	release_all(cb, n);
	free(id);
	assert_true(sim_balance(s) == SIM_CREDIT - 39700);
	const struct sim_customer *c = sim_customer_find(s, "447700900123");
	const struct sim_item *last = &c->items[c->nitems - 1];
	assert_int_equal(last->is_template, 1);
	assert_string_equal(last->text, "Your order #1 is packed.");
	assert_int_equal(last->nparams, 2);

	/* Opted out: 1012. */
	assert_int_equal(sim_optin(s, "447700900123", 0, now + 200, &cause), 0);
	drain(s, now + 200, cb, 0);
	assert_int_equal(send_form(s, GUPSHUP_PATH_TEMPLATE, template_form("447700900123", tid, two, 2),
	                           now + 3000, &id), 202);
	n = drain(s, now + 5000, cb, 8);
	assert_int_equal(cb[0].ev.code, 1012);
	release_all(cb, n);
	free(id);

	/* The 24 h window, exactly: 23:59:59.999 inside, 24:00:00 outside. */
	assert_int_equal(sim_inbound(s, "919812345678", NULL, "hi", T0, &cause), 0);
	drain(s, T0, cb, 0);
	int64_t edge = T0 + (int64_t)SIM_WINDOW_S * 1000;
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "in"), edge - 1, &id), 202);
	n = drain(s, edge + 5000, cb, 8);
	assert_int_equal(cb[0].ev.type, GUPSHUP_EV_ENQUEUED);
	release_all(cb, n);
	free(id);
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "out"), edge + 6000, &id), 202);
	n = drain(s, edge + 9000, cb, 8);
	assert_int_equal(cb[0].ev.code, 1004);
	release_all(cb, n);
	free(id);
	sim_free(s);
}

static void
test_wallet_short(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	struct gupshup_callback cb[8];
	char *cause = NULL, *id;
	int64_t now = T0;
	size_t n, sent = 0;

	assert_int_equal(sim_inbound(s, "919812345678", NULL, "hi", now, &cause), 0);
	drain(s, now, cb, 0);
	/* Spend the credit 100 at a time (one send per 100 ms stays under the rate). */
	while (sim_balance(s) >= 100) {
		now += 100;
		assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "x"), now, &id), 202);
		free(id);
		sent++;
	}
	assert_int_equal(sent, (SIM_CREDIT - 100) / 100);
	drain(s, now + 1000, cb, 0);
	now += 2000;
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "x"), now, &id), 202);
	n = drain(s, now + 1000, cb, 8);
	assert_int_equal(n, 1);
	assert_int_equal(cb[0].ev.code, 1003);
	release_all(cb, n);
	free(id);
	/* Incoming messages are still charged and still delivered. */
	assert_int_equal(sim_inbound(s, "919812345678", NULL, "hello?", now, &cause), 0);
	n = drain(s, now, cb, 8);
	assert_int_equal(n, 1);
	release_all(cb, n);
	assert_true(sim_balance(s) == -100);
	sim_free(s);
}

static void
test_sandbox(void **state)
{
	(void)state;
	struct sim *s = new_sim(1);
	struct gupshup_callback cb[8];
	char *cause = NULL, *id;
	size_t n;

	assert_int_equal(sim_inbound(s, "919812345678", NULL, "hello", T0, &cause), 1);
	assert_int_equal(sim_queued(s), 0);
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "hi"), T0, &id), 202);
	n = drain(s, T0 + 1000, cb, 8);
	assert_int_equal(cb[0].ev.code, 1008);
	release_all(cb, n);
	free(id);

	static const char *const wrong[] = { "PROXY", "PROXY Other", "PROXYDESKAPP", "xPROXY DeskApp" };
	for (size_t i = 0; i < ARRAY_LEN(wrong); i++)
		assert_int_equal(sim_inbound(s, "919812345678", NULL, wrong[i], T0, &cause), 1);
	assert_int_equal(sim_inbound(s, "919812345678", NULL, "  proxy   deskapp \n", T0 + 10, &cause), 0);
	n = drain(s, T0 + 10, cb, 8);
	assert_int_equal(n, 1);
	assert_int_equal(cb[0].kind, GUPSHUP_USER_EVENT);
	assert_int_equal(cb[0].user.type, GUPSHUP_USER_SANDBOX_START);
	release_all(cb, n);
	assert_int_equal(sim_inbound(s, "919812345678", NULL, "hello again", T0 + 20, &cause), 0);
	n = drain(s, T0 + 20, cb, 8);
	assert_int_equal(n, 1);
	assert_string_equal(cb[0].msg.text, "hello again");
	release_all(cb, n);

	struct gupshup_send m = { .source = "917834811114", .destination = "919812345678", .app = APP,
	        .type = GUPSHUP_IMAGE, .url = "http://h/i.png" };
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, gupshup_send_form(&m, &cause), T0 + 30, &id), 202);
	n = drain(s, T0 + 1000, cb, 8);
	assert_int_equal(cb[0].ev.code, 1010);
	release_all(cb, n);
	free(id);
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "text is fine"),
	                           T0 + 40, &id), 202);
	n = drain(s, T0 + 2000, cb, 8);
	assert_int_equal(n, 4);
	release_all(cb, n);
	free(id);
	sim_free(s);
}

static void
test_retry_backoff(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	struct sim_post p;
	char *cause = NULL;
	int64_t now = T0;

	assert_int_equal(sim_inbound(s, "919812345678", NULL, "hi", now, &cause), 0);
	assert_int_equal(sim_pop_due(s, now, &p), 1);
	assert_string_equal(p.phone, "919812345678");
	for (unsigned i = 0; i < 11; i++) {
		sim_post_failed(s, &p, now, 0);
		assert_null(p.body);
		assert_int_equal(sim_pop_due(s, now, &p), 0);   /* not yet */
		int64_t due = sim_next_due(s);
		assert_true(due > now);
		now = due;
		assert_int_equal(sim_pop_due(s, now, &p), 1);
		assert_int_equal(p.attempts, i + 1);
	}
	sim_post_failed(s, &p, now, 0);                      /* the 12th: dropped */
	assert_int_equal(sim_queued(s), 0);
	assert_int_equal(sim_inbound(s, "919812345678", NULL, "again", now, &cause), 0);
	assert_int_equal(sim_pop_due(s, now, &p), 1);
	sim_post_failed(s, &p, now, 1);                      /* permanent */
	assert_int_equal(sim_queued(s), 0);
	sim_free(s);
}

static void
test_state_round_trip(void **state)
{
	(void)state;
	struct sim *s = new_sim(0), *t;
	char path[] = "/tmp/test_sim_core.XXXXXX", *cause = NULL, *id, *a, *b;
	int fd = mkstemp(path);
	struct gupshup_callback cb[8];

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sim_inbound(s, "919812345678", "आशा", "नमस्ते", T0, &cause), 0);
	assert_int_equal(sim_optin(s, "447700900123", 1, T0, &cause), 0);
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, text_form("919812345678", "hi \"there\""), T0, &id), 202);
	free(id);
	drain(s, T0 + 5000, cb, 0);
	assert_true(sim_dirty(s));
	assert_int_equal(sim_save(s, path, &cause), 0);
	assert_false(sim_dirty(s));

	t = new_sim(0);
	assert_int_equal(sim_load(t, path, &cause), 0);
	assert_true(sim_balance(t) == sim_balance(s));
	assert_int_equal(sim_ncustomers(t), 2);
	a = gupshup_sim_inbox_build(sim_customer_find(s, "919812345678"));
	b = gupshup_sim_inbox_build(sim_customer_find(t, "919812345678"));
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(sim_customer_find(t, "447700900123")->opted_in, 1);
	sim_free(t);

	/* A missing file is an empty start; a broken one is an error. */
	t = new_sim(0);
	assert_int_equal(sim_load(t, "/nonexistent/state.json", &cause), 0);
	FILE *f = fopen(path, "w");
	fputs("{\"version\":2}", f);
	fclose(f);
	assert_int_equal(sim_load(t, path, &cause), -1);
	assert_non_null(strstr(cause, "state is not version 1"));
	free(cause);
	sim_free(t);
	unlink(path);
	sim_free(s);
}

static void
test_control_api(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	struct gupshup_sim_info info;
	char *body, *cause = NULL;

	assert_int_equal(request(s, "POST", "/sim/say", NULL, "phone=%2B919812345678&text=hi+there&name=Asha",
	                         T0, &body), 200);
	assert_string_equal(body, "{\"status\":\"ok\",\"result\":\"delivered\"}");
	free(body);
	assert_int_equal(request(s, "POST", "/sim/say", NULL, "phone=12&text=x", T0, &body), 400);
	free(body);
	assert_int_equal(request(s, "POST", "/sim/say", NULL, "phone=919812345678&text=", T0, &body), 400);
	free(body);
	assert_int_equal(request(s, "POST", "/sim/optin", NULL, "phone=919812345678", T0, &body), 200);
	free(body);
	assert_int_equal(request(s, "POST", "/sim/optout", NULL, "phone=x", T0, &body), 400);
	free(body);
	assert_int_equal(request(s, "GET", "/sim/info", NULL, NULL, T0, &body), 200);
	assert_int_equal(gupshup_sim_info_parse(body, strlen(body), &info, &cause), 0);
	assert_string_equal(info.app, APP);
	assert_int_equal(info.sandbox, 0);
	gupshup_sim_info_release(&info);
	free(body);
	/* Opt-in API of Gupshup: form "user". */
	assert_int_equal(request(s, "POST", "/sm/api/v1/app/opt/in/" APP, KEY, "user=447700900123", T0, &body), 202);
	free(body);
	assert_int_equal(request(s, "POST", "/sm/api/v1/app/opt/in/" APP, KEY, "", T0, &body), 400);
	assert_string_equal(body, "{\"status\":\"error\",\"message\":\"Missing user\"}");
	free(body);
	assert_int_equal(request(s, "GET", "/sm/api/v1/users/" APP, KEY, NULL, T0, &body), 200);
	struct gupshup_user *u;
	size_t n;
	assert_int_equal(gupshup_users_parse(body, strlen(body), &u, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(u[0].opted_in, 1);
	assert_true(u[0].last_message_ms == T0);
	gupshup_users_free(u, n);
	free(body);
	sim_free(s);
}

/* ---- Media ---- */

/* The start of an ELF shared object: off the whitelist whatever it claims. */
static const char elf[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00"
                          "\x3e\x00\x01\x00\x00\x00";

/* POSTs len raw bytes to /sim/upload; returns the id (caller frees). */
static char *
upload(struct sim *s, const void *data, size_t len)
{
	struct sim_request rq = { .method = "POST", .path = "/sim/upload", .body = data, .len = len };
	struct sim_response rs;
	char *id;
	sim_handle(s, &rq, T0, &rs);
	assert_int_equal(rs.status, 201);
	id = gupshup_sim_reply_get(rs.body, rs.len, "id");
	assert_non_null(id);
	sim_response_release(&rs);
	return id;
}

/* GET path at now; the status, *out the bytes (when out is not NULL). */
static int
get_at(struct sim *s, const char *path, const char *key, int64_t now, struct buf *out)
{
	struct sim_request rq = { .method = "GET", .path = path, .apikey = key };
	struct sim_response rs;
	int st;
	sim_handle(s, &rq, now, &rs);
	st = rs.status;
	if (out != NULL) {
		buf_reset(out);
		buf_append(out, rs.body != NULL ? rs.body : "", rs.len);
	}
	sim_response_release(&rs);
	return st;
}

/* GET the payload URL of id (no key) at now. */
static int
payload_get(struct sim *s, const char *id, int64_t now, struct buf *out)
{
	char *path = xasprintf("/wa/%s/wa/media/%s?download=false", APP, id);
	int st = get_at(s, path, NULL, now, out);
	free(path);
	return st;
}

/* GET the wamedia URL of id with key; the status, *out the bytes. */
static int
wamedia(struct sim *s, const char *id, const char *key, struct buf *out)
{
	char *path = xasprintf("/sm/api/v1/wamedia/%s/%s", APP, id);
	int st = get_at(s, path, key, T0, out);
	free(path);
	return st;
}

static void
test_media_inbound(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	struct buf png = { 0 }, pdf = { 0 }, got = { 0 };
	struct gupshup_callback cb[4];
	char *id, *form, *body, *type, *mime, *sniffed, *url, *cause = NULL;
	size_t n;

	sim_sample_png(1, &png);
	sim_sample_pdf("INV-7", &pdf);

	/* A picture: type image, contentType from the content, no name. */
	id = upload(s, png.data, png.len);
	form = xasprintf("phone=%%2B91+98123+45678&id=%s&caption=look&name=Asha&filename=x.jpg", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 200);
	assert_int_equal(gupshup_sim_media_reply_parse(body, strlen(body), &type, &mime, &sniffed, &url,
	                                               &cause), 0);
	assert_string_equal(type, "image");
	assert_string_equal(mime, "image/png");
	assert_string_equal(sniffed, "image/png");
	{
		char *rid = gupshup_sim_reply_get(body, strlen(body), "id");
		assert_string_equal(rid, id);
		free(rid);
	}
	{
		char *want = xasprintf("http://127.0.0.1:1/wa/" APP "/wa/media/%s?download=false", id);
		assert_string_equal(url, want);
		free(want);
	}
	n = drain(s, T0, cb, 4);
	assert_int_equal(n, 1);
	assert_int_equal(cb[0].kind, GUPSHUP_MESSAGE);
	assert_int_equal(cb[0].msg.type, GUPSHUP_IMAGE);
	assert_string_equal(cb[0].msg.url, url);
	assert_string_equal(cb[0].msg.mime, "image/png");
	assert_string_equal(cb[0].msg.text, "look");
	assert_string_equal(cb[0].msg.name, "Asha");
	assert_null(cb[0].msg.filename);
	assert_true(cb[0].msg.url_expiry == T0 + SIM_MEDIA_EXPIRY_MS);
	release_all(cb, n);
	assert_int_equal(wamedia(s, id, KEY, &got), 200);
	assert_int_equal(got.len, png.len);
	assert_memory_equal(got.data, png.data, png.len);
	assert_int_equal(payload_get(s, id, T0, &got), 200);          /* no key needed */
	assert_int_equal(got.len, png.len);
	assert_memory_equal(got.data, png.data, png.len);
	assert_int_equal(payload_get(s, id, T0 + SIM_MEDIA_EXPIRY_MS, &got), 410);
	assert_non_null(strstr(got.data, "Media URL expired"));
	assert_int_equal(wamedia(s, id, KEY, &got), 200);             /* the media API still has it */
	free(type), free(mime), free(sniffed), free(url), free(body), free(form), free(id);

	/* A document keeps its name; no caption is no caption. */
	id = upload(s, pdf.data, pdf.len);
	form = xasprintf("phone=919812345678&id=%s&filename=..%%2F..%%2F.bashrc", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 200);
	n = drain(s, T0, cb, 4);
	assert_int_equal(n, 1);
	assert_int_equal(cb[0].msg.type, GUPSHUP_FILE);
	assert_string_equal(cb[0].msg.mime, "application/pdf");
	assert_string_equal(cb[0].msg.filename, "../../.bashrc");
	assert_null(cb[0].msg.text);
	release_all(cb, n);
	free(body), free(form), free(id);

	/* Off the whitelist: delivered with what its name claims; --content-type wins. */
	id = upload(s, elf, sizeof elf - 1);
	form = xasprintf("phone=919812345678&id=%s&filename=report.pdf", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 200);
	assert_null(strstr(body, "\"sniffed\":\"application/pdf\""));
	n = drain(s, T0, cb, 4);
	assert_int_equal(cb[0].msg.type, GUPSHUP_FILE);
	assert_string_equal(cb[0].msg.mime, "application/pdf");
	release_all(cb, n);
	free(body), free(form);
	form = xasprintf("phone=919812345678&id=%s&filename=a.bin&content_type=video%%2Fmp4", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 200);
	n = drain(s, T0, cb, 4);
	assert_int_equal(cb[0].msg.type, GUPSHUP_FILE);
	assert_string_equal(cb[0].msg.mime, "video/mp4");
	release_all(cb, n);
	free(body), free(form);

	/* Errors: bad phone, unknown id, bad numbers; nothing posted. */
	form = xasprintf("phone=12&id=%s", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 400);
	free(body), free(form);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, "phone=919812345678&id=nope", T0, &body), 404);
	free(body);
	form = xasprintf("phone=919812345678&id=%s&fail_downloads=x", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 400);
	free(body), free(form), free(id);
	assert_int_equal(sim_queued(s), 0);
	assert_true(sim_balance(s) == SIM_CREDIT - 4 * 100);   /* four incoming messages */

	/* Simulated customers send generated files through the same path. */
	assert_int_equal(sim_inbound_media(s, "5511987654321", "Bia", GUPSHUP_FILE, "nota", T0, &cause), 0);
	n = drain(s, T0, cb, 4);
	assert_int_equal(cb[0].msg.type, GUPSHUP_FILE);
	assert_string_equal(cb[0].msg.mime, "application/pdf");
	assert_non_null(strstr(cb[0].msg.filename, "invoice-"));
	id = xstrndup(strrchr(cb[0].msg.url, '/') + 1, strcspn(strrchr(cb[0].msg.url, '/') + 1, "?"));
	assert_int_equal(wamedia(s, id, KEY, &got), 200);
	assert_memory_equal(got.data, "%PDF-1.4", 8);
	release_all(cb, n);
	free(id);
	assert_int_equal(sim_inbound_media(s, "5511987654321", "Bia", GUPSHUP_IMAGE, "foto", T0, &cause), 0);
	n = drain(s, T0, cb, 4);
	assert_int_equal(cb[0].msg.type, GUPSHUP_IMAGE);
	assert_string_equal(cb[0].msg.mime, "image/png");
	release_all(cb, n);

	buf_free(&png);
	buf_free(&pdf);
	buf_free(&got);
	sim_free(s);
}

static void
test_media_faults(void **state)
{
	(void)state;
	struct sim *s = new_sim(0);
	struct buf pdf = { 0 }, got = { 0 };
	char *id, *form, *body;

	sim_sample_pdf("1", &pdf);
	id = upload(s, pdf.data, pdf.len);
	assert_int_equal(wamedia(s, id, KEY, &got), 200);     /* plain: any number of times */
	assert_int_equal(wamedia(s, id, KEY, &got), 200);
	form = xasprintf("phone=919812345678&id=%s&fail_downloads=2&expire_after_download=1", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 200);
	free(body), free(form);
	assert_int_equal(wamedia(s, id, NULL, NULL), 401);    /* the key first */
	assert_int_equal(wamedia(s, id, KEY, NULL), 503);
	assert_int_equal(payload_get(s, id, T0, NULL), 503);  /* both URLs count */
	assert_int_equal(wamedia(s, id, KEY, &got), 200);
	assert_int_equal(got.len, pdf.len);
	assert_memory_equal(got.data, pdf.data, pdf.len);
	assert_int_equal(wamedia(s, id, KEY, &got), 404);
	assert_non_null(strstr(got.data, "Invalid Media Id"));
	assert_int_equal(payload_get(s, id, T0, &got), 410);
	free(id);

	/* Announced again with no faults: served any number of times. */
	id = upload(s, "x", 1);
	form = xasprintf("phone=919812345678&id=%s&fail_downloads=0&expire_after_download=0", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 200);
	free(body), free(form);
	for (int i = 0; i < 3; i++)
		assert_int_equal(payload_get(s, id, T0, NULL), 200);
	free(id);
	sim_free(s);

	/* The run's defaults (--fail-downloads 1 --expire-after-download) apply
	 * to every customer's file, the simulated customers' too, unless the
	 * media command says otherwise. */
	{
		struct sim_config cfg = { .app = APP, .apikey = KEY, .event_delay_ms = 100, .seed = 7,
		        .base_url = "http://127.0.0.1:1", .fail_downloads = 1, .expire_after_download = 1 };
		struct gupshup_callback cb[4];
		char *cause = NULL, *mid;
		size_t n;
		s = sim_new(&cfg);
		assert_int_equal(sim_inbound_media(s, "919812345678", NULL, GUPSHUP_IMAGE, NULL, T0, &cause), 0);
		n = drain(s, T0, cb, 4);
		assert_int_equal(n, 1);
		mid = strrchr(cb[0].msg.url, '/') + 1;
		mid = xstrndup(mid, strcspn(mid, "?"));
		release_all(cb, n);
		assert_int_equal(payload_get(s, mid, T0, NULL), 503);
		assert_int_equal(payload_get(s, mid, T0, &got), 200);
		assert_memory_equal(got.data, "\x89PNG", 4);
		assert_int_equal(payload_get(s, mid, T0, NULL), 410);
		free(mid);
		id = upload(s, pdf.data, pdf.len);
		form = xasprintf("phone=919812345678&id=%s&fail_downloads=0", id);
		assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 200);
		free(body), free(form);
		assert_int_equal(payload_get(s, id, T0, NULL), 200);
		assert_int_equal(payload_get(s, id, T0, NULL), 410);
		free(id);
		drain(s, T0, cb, 0);
	}
	buf_free(&pdf);
	buf_free(&got);
	sim_free(s);
}

static void
test_media_sandbox(void **state)
{
	(void)state;
	struct sim *s = new_sim(1);
	struct gupshup_callback cb[4];
	struct buf png = { 0 };
	char *id, *form, *body, *cause = NULL;
	size_t n;

	assert_int_equal(sim_inbound(s, "919812345678", NULL, "PROXY " APP, T0, &cause), 0);
	drain(s, T0, cb, 0);
	sim_sample_png(2, &png);
	id = upload(s, png.data, png.len);
	form = xasprintf("phone=919812345678&id=%s", id);
	assert_int_equal(request(s, "POST", "/sim/media", NULL, form, T0, &body), 403);
	assert_non_null(strstr(body, "Sandbox apps receive text messages only"));
	assert_int_equal(sim_queued(s), 0);
	assert_true(sim_balance(s) == SIM_CREDIT);
	free(body), free(form), free(id);
	/* The simulated customers' media become their caption in the sandbox. */
	assert_int_equal(sim_inbound_media(s, "919812345678", NULL, GUPSHUP_IMAGE, "photo", T0, &cause), 0);
	n = drain(s, T0, cb, 4);
	assert_int_equal(n, 1);
	assert_int_equal(cb[0].msg.type, GUPSHUP_TEXT);
	release_all(cb, n);
	buf_free(&png);
	sim_free(s);
}

static char *
media_form(const char *dest, enum gupshup_msg_type type, const char *url, const char *filename,
           const char *caption)
{
	struct gupshup_send m = { .source = "917834811114", .destination = dest, .app = APP,
	        .type = type, .url = url, .filename = filename, .text = caption };
	char *cause = NULL, *f = gupshup_send_form(&m, &cause);
	assert_non_null(f);
	return f;
}

static void
test_media_outbound(void **state)
{
	(void)state;
	struct buf png = { 0 }, pdf = { 0 }, big = { 0 };
	struct gupshup_callback cb[8];
	struct sim *s = new_sim(0), *t;
	struct sim_fetch f;
	struct sim_customer cu;
	const struct sim_customer *c;
	unsigned char digest[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], *id, *json, *cause = NULL;
	int64_t balance;
	size_t n;

	sim_sample_png(3, &png);
	sim_sample_pdf("9", &pdf);
	buf_append(&big, png.data, png.len);
	while (big.len <= (size_t)media_cap(MEDIA_IMAGE))
		buf_append(&big, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);

	assert_int_equal(sim_inbound(s, "919812345678", NULL, "hi", T0, &cause), 0);
	drain(s, T0, cb, 0);
	balance = sim_balance(s);

	/* Accepted, then held until the download is done. */
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, media_form("919812345678", GUPSHUP_IMAGE,
	        "http://hub.example/v1/public/abc/photo%20one.png?x=1", NULL, "your photo"), T0, &id), 202);
	assert_int_equal(sim_fetches(s), 1);
	assert_int_equal(drain(s, T0 + 60000, cb, 0), 0);
	assert_int_equal(sim_fetch_next(s, &f), 1);
	assert_string_equal(f.url, "http://hub.example/v1/public/abc/photo%20one.png?x=1");
	assert_true(f.cap == media_cap(MEDIA_IMAGE));
	{
		struct sim_fetch none;
		assert_int_equal(sim_fetch_next(s, &none), 0);
	}
	struct sim_fetch_result ok = { .answered = 1, .status = 200, .content_type = "image/png",
	        .data = png.data, .len = png.len };
	sim_fetch_done(s, f.id, &ok, T0 + 10);
	free(f.url);
	assert_int_equal(sim_fetches(s), 0);
	n = drain(s, T0 + 60000, cb, 8);
	assert_int_equal(n, 4);
	assert_int_equal(cb[0].ev.type, GUPSHUP_EV_ENQUEUED);
	assert_int_equal(cb[3].ev.type, GUPSHUP_EV_READ);
	release_all(cb, n);
	assert_true(sim_balance(s) == balance - 100);
	c = sim_customer_find(s, "919812345678");
	const struct sim_item *it = &c->items[c->nitems - 1];
	sha256(png.data, png.len, digest);
	hex_encode(digest, SHA256_LEN, hex);
	assert_string_equal(it->media_sha256, hex);
	assert_string_equal(it->media_mime, "image/png");
	assert_string_equal(it->media_name, "photo%20one.png");
	assert_true(it->media_size == (int64_t)png.len);
	assert_string_equal(it->text, "your photo");
	/* The inbox JSON carries it, and reads back the same. */
	json = gupshup_sim_inbox_build(c);
	assert_non_null(strstr(json, "\"media\":{\"name\":\"photo%20one.png\",\"mime\":\"image/png\",\"size\":"));
	assert_int_equal(gupshup_sim_inbox_parse(json, strlen(json), &cu, &cause), 0);
	assert_string_equal(cu.items[cu.nitems - 1].media_sha256, hex);
	{
		char *again = gupshup_sim_inbox_build(&cu);
		assert_string_equal(again, json);
		free(again);
	}
	gupshup_sim_customer_release(&cu);
	free(json);
	free(id);

	/* Each way a download can go wrong: one failed event, nothing charged. */
	static const struct {
		enum gupshup_msg_type type;
		struct sim_fetch_result r;
		int which;          /* data: 0 png, 1 pdf, 2 elf, 3 big */
		int code;
		const char *reason;
	} rows[] = {
		{ GUPSHUP_FILE, { .answered = 0, .error = "Couldn't connect to server" }, 1, 131053,
		  "Media upload error: cannot download the media from its URL: Couldn't connect to server" },
		{ GUPSHUP_FILE, { .answered = 1, .status = 404 }, 1, 131053,
		  "Media upload error: cannot download the media from its URL: HTTP 404" },
		{ GUPSHUP_IMAGE, { .answered = 1, .over_cap = 1 }, 0, 1011,
		  "Invalid Media Size: the media is over the image limit of 5000000 bytes" },
		{ GUPSHUP_IMAGE, { .answered = 1, .status = 200 }, 1, 131053,
		  "Media upload error: image message cannot carry a PDF (application/pdf)" },
		{ GUPSHUP_FILE, { .answered = 1, .status = 200, .content_type = "application/pdf" }, 2, 131053,
		  "Media upload error: unsupported media: " },
		{ GUPSHUP_IMAGE, { .answered = 1, .status = 200 }, 3, 1011, "Invalid Media Size: " },
		{ GUPSHUP_FILE, { .answered = 1, .status = 200 }, 0, 0, NULL },   /* a picture as a document */
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct sim_fetch_result r = rows[i].r;
		const struct buf *d = rows[i].which == 0 ? &png : rows[i].which == 1 ? &pdf : &big;
		if (rows[i].which == 2) {
			r.data = elf;
			r.len = sizeof elf - 1;
		} else {
			r.data = d->data;
			r.len = d->len;
		}
		balance = sim_balance(s);
		assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, media_form("919812345678", rows[i].type,
		        "http://hub.example/m", rows[i].type == GUPSHUP_FILE ? "m.pdf" : NULL, NULL),
		        T0 + 100, &id), 202);
		assert_int_equal(sim_fetch_next(s, &f), 1);
		sim_fetch_done(s, f.id, &r, T0 + 200);
		free(f.url);
		n = drain(s, T0 + 60000, cb, 8);
		if (rows[i].code == 0) {
			assert_int_equal(n, 4);
			assert_true(sim_balance(s) == balance - 100);
		} else {
			assert_int_equal(n, 1);
			assert_int_equal(cb[0].ev.type, GUPSHUP_EV_FAILED);
			if (cb[0].ev.code != rows[i].code ||
			    strncmp(cb[0].ev.reason, rows[i].reason, strlen(rows[i].reason)) != 0)
				fail_msg("row %zu: %d %s", i, cb[0].ev.code, cb[0].ev.reason);
			assert_true(sim_balance(s) == balance);
			c = sim_customer_find(s, "919812345678");
			assert_null(c->items[c->nitems - 1].media_mime);
		}
		release_all(cb, n);
		free(id);
	}

	/* Outside the window: refused at once, nothing downloaded. */
	assert_int_equal(send_form(s, GUPSHUP_PATH_MSG, media_form("447700900123", GUPSHUP_IMAGE,
	        "http://hub.example/m", NULL, NULL), T0, &id), 202);
	assert_int_equal(sim_fetches(s), 0);
	n = drain(s, T0 + 60000, cb, 8);
	assert_int_equal(cb[0].ev.code, 1004);
	release_all(cb, n);
	free(id);

	/* A download in flight when the sim stops is just dropped (no leak). */
	t = new_sim(0);
	assert_int_equal(sim_inbound(t, "919812345678", NULL, "hi", T0, &cause), 0);
	assert_int_equal(send_form(t, GUPSHUP_PATH_MSG, media_form("919812345678", GUPSHUP_AUDIO,
	        "http://hub.example/a.mp3", NULL, NULL), T0, &id), 202);
	assert_int_equal(sim_fetch_next(t, &f), 1);
	assert_true(f.cap == media_cap(MEDIA_AUDIO));
	free(f.url);
	sim_fetch_done(t, 999, &rows[0].r, T0);                 /* unknown id: ignored */
	assert_int_equal(sim_fetches(t), 1);
	free(id);
	/* ... and with --state, downloaded again at the next start. */
	{
		char path[] = "/tmp/test_sim_core.XXXXXX";
		int fd = mkstemp(path);
		struct sim *u = new_sim(0);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(sim_save(t, path, &cause), 0);
		assert_int_equal(sim_load(u, path, &cause), 0);
		unlink(path);
		assert_int_equal(sim_fetches(u), 1);
		assert_int_equal(sim_fetch_next(u, &f), 1);
		assert_string_equal(f.url, "http://hub.example/a.mp3");
		assert_true(f.cap == media_cap(MEDIA_AUDIO));
		free(f.url);
		sim_free(u);
	}
	sim_free(t);

	buf_free(&png);
	buf_free(&pdf);
	buf_free(&big);
	sim_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_fees),
		cmocka_unit_test(test_auth_and_routing),
		cmocka_unit_test(test_send_validation),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_delivery),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_wallet_short),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_retry_backoff),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_control_api),
		cmocka_unit_test(test_media_inbound),
		cmocka_unit_test(test_media_faults),
		cmocka_unit_test(test_media_sandbox),
		cmocka_unit_test(test_media_outbound),
	};
	return cmocka_run_group_tests_name("sim_core", tests, NULL, NULL);
}
