/*
 * Unit tests for the hub's core (src/hub*.c) without a network: hello and
 * roles, every command x every role, the send path (decision, limits,
 * repeated ids, outbox order, retries), automation (greeting, away, BRB,
 * opt-in prompt, YES/STOP), typing lapse, rotation, and the event log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "access.h"
#include "gupshup.h"
#include "hub.h"
#include "hub_config.h"
#include "proto.h"
#include "store.h"
#include "util.h"
#include "slurp.h"

#define PHONE "919812345678"
#define T0    1795600000     /* a Wednesday, 2026-11-25 09:46:40 UTC */

struct fx {
	char          dir[64];
	struct config cfg;
	struct hub   *h;
	char         *tok[3];
	struct buf    events;       /* every broadcast frame, one per line */
	int64_t       last_n;
	int           wakes;
	int64_t       rotated;
};

static void
on_broadcast(void *arg, int64_t n, const char *frame, size_t len)
{
	struct fx *f = arg;
	assert_true(n > f->last_n);       /* strictly increasing, in order */
	f->last_n = n;
	buf_append(&f->events, frame, len);
	buf_putc(&f->events, '\n');
}

static void on_wake(void *arg) { ((struct fx *)arg)->wakes++; }
static void on_rotated(void *arg, int64_t g) { ((struct fx *)arg)->rotated = g; }

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	char *cause = NULL;
	snprintf(f->dir, sizeof f->dir, "/tmp/wadesk-hub-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	hub_config_defaults(&f->cfg);
	free(f->cfg.app);
	f->cfg.app = xstrdup("e2e");
	free(f->cfg.source);
	f->cfg.source = xstrdup("917000000000");
	if (access_secret_create(f->dir, &cause) < 0 || hub_init_db(f->dir, &f->cfg, &cause) < 0)
		fail_msg("%s", cause);
	struct store *st;
	char *db = xasprintf("%s/wadesk.db", f->dir);
	int64_t gen;
	assert_int_equal(store_open(db, 0, NULL, &st, &cause), 0);
	assert_int_equal(access_rotate(f->dir, st, &gen, &cause), 0);
	store_close(st);
	free(db);
	static const char *const names[] = { "agent.token", "supervisor.token", "admin.token" };
	for (int i = 0; i < 3; i++)
		assert_non_null(f->tok[i] = access_read_file(f->dir, names[i], &cause));
	struct hub_io io = { f, on_broadcast, on_wake, on_rotated, NULL };
	if (hub_open(f->dir, &f->cfg, &io, &f->h, &cause) < 0)
		fail_msg("%s", cause);
	hub_set_time(f->h, T0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	hub_free(f->h);
	hub_config_release(&f->cfg);
	for (int i = 0; i < 3; i++)
		free(f->tok[i]);
	buf_free(&f->events);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

/* ---- helpers --------------------------------------------------------------------- */

static void
session(struct fx *f, enum proto_role role, const char *agent, struct hub_session *s)
{
	struct proto_msg hello = {0};
	char *frame;
	size_t len;
	hello.type = PROTO_HELLO;
	hello.token = f->tok[role];
	hello.agent = agent;
	assert_int_equal(hub_hello(f->h, &hello, s, &frame, &len), 0);
	assert_non_null(strstr(frame, "\"type\":\"welcome\""));
	free(frame);
	assert_int_equal(s->role, role);
}

/* Runs a command given as JSON; returns the answer frame (caller frees). */
static char *
run(struct fx *f, struct hub_session *s, const char *json)
{
	struct proto_msg m;
	const char *code;
	char *cause = NULL;
	size_t len;
	if (proto_decode(json, strlen(json), &m, &code, &cause) < 0)
		fail_msg("bad test frame %s: %s", json, cause);
	char *out = hub_command(f->h, s, &m, &len);
	proto_msg_release(&m);
	return out;
}

static int
acked(const char *frame)
{
	return strstr(frame, "\"type\":\"ack\"") != NULL;
}

static void
expect_code(char *frame, const char *code)
{
	char *want = xasprintf("\"code\":\"%s\"", code);
	if (strstr(frame, want) == NULL)
		fail_msg("expected %s, got %s", code, frame);
	free(want);
	free(frame);
}

static void
expect_ack(char *frame)
{
	if (!acked(frame))
		fail_msg("expected an ack, got %s", frame);
	free(frame);
}

static void
inbound(struct fx *f, const char *id, const char *phone, const char *text)
{
	struct gupshup_callback cb = {0};
	cb.kind = GUPSHUP_MESSAGE;
	cb.app = "e2e";
	cb.msg.id = id;
	cb.msg.phone = phone;
	cb.msg.name = "Ravi";
	cb.msg.type = GUPSHUP_TEXT;
	cb.msg.text = text;
	char *body = gupshup_callback_build(&cb);
	struct hub_webhook w = { body, strlen(body), 0, NULL };
	hub_webhooks(f->h, &w, 1);
	if (w.status != 200)
		fail_msg("webhook %d: %s", w.status, w.reason);
	free(body);
}

static int
contains(struct fx *f, const char *s)
{
	return f->events.data != NULL && strstr(f->events.data, s) != NULL;
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- hello --------------------------------------------------------------------------- */

static void
test_hello(void **state)
{
	struct fx *f = *state;
	struct hub_session s;
	struct proto_msg hello = {0};
	char *frame;
	size_t len;

	for (int r = 0; r < 3; r++)
		session(f, (enum proto_role)r, "  Asha  ", &s);
	assert_string_equal(s.agent, "Asha");
	hello.type = PROTO_HELLO;
	hello.token = "not-a-token";
	assert_int_equal(hub_hello(f->h, &hello, &s, &frame, &len), -1);
	expect_code(frame, "auth.token");

	/* Rotation: old tokens are refused as expired, new ones work. */
	char *old = xstrdup(f->tok[0]);
	struct hub_session admin;
	session(f, PROTO_ROLE_ADMIN, "boss", &admin);
	char *ack = run(f, &admin, "{\"type\":\"access.rotate\",\"id\":\"r1\"}");
	assert_true(acked(ack));
	assert_non_null(strstr(ack, "\"links\":{\"agent\":\"ws://127.0.0.1:8700/v1/desk#"));
	free(ack);
	hub_tick(f->h);
	assert_int_equal(f->rotated, 2);
	assert_true(contains(f, "\"kind\":\"access.rotated\""));
	hello.token = old;
	assert_int_equal(hub_hello(f->h, &hello, &s, &frame, &len), -1);
	expect_code(frame, "auth.expired");
	free(old);
	char *cause = NULL;
	free(f->tok[0]);
	f->tok[0] = access_read_file(f->dir, "agent.token", &cause);
	session(f, PROTO_ROLE_AGENT, "asha", &s);
}

/* ---- every command x every role ------------------------------------------------------------ */

static void
test_roles(void **state)
{
	struct fx *f = *state;
	static const struct { const char *json; enum proto_type type; } rows[] = {
		{ "{\"type\":\"send\",\"id\":\"%s\",\"phone\":\"" PHONE "\",\"text\":\"hi\"}", PROTO_SEND },
		{ "{\"type\":\"typing\",\"id\":\"%s\",\"phone\":\"" PHONE "\"}", PROTO_TYPING },
		{ "{\"type\":\"tag\",\"id\":\"%s\",\"phone\":\"" PHONE "\",\"tag\":\"vip\"}", PROTO_TAG },
		{ "{\"type\":\"untag\",\"id\":\"%s\",\"phone\":\"" PHONE "\",\"tag\":\"vip\"}", PROTO_UNTAG },
		{ "{\"type\":\"note\",\"id\":\"%s\",\"phone\":\"" PHONE "\",\"text\":\"n\"}", PROTO_NOTE },
		{ "{\"type\":\"contact.name\",\"id\":\"%s\",\"phone\":\"" PHONE "\",\"name\":\"R\"}", PROTO_CONTACT_NAME },
		{ "{\"type\":\"read\",\"id\":\"%s\",\"phone\":\"" PHONE "\"}", PROTO_READ },
		{ "{\"type\":\"canned.list\",\"id\":\"%s\"}", PROTO_CANNED_LIST },
		{ "{\"type\":\"canned.add\",\"id\":\"%s\",\"name\":\"c\",\"text\":\"t\"}", PROTO_CANNED_ADD },
		{ "{\"type\":\"canned.rm\",\"id\":\"%s\",\"name\":\"c\"}", PROTO_CANNED_RM },
		{ "{\"type\":\"brb.on\",\"id\":\"%s\"}", PROTO_BRB_ON },
		{ "{\"type\":\"brb.off\",\"id\":\"%s\"}", PROTO_BRB_OFF },
		{ "{\"type\":\"settings.get\",\"id\":\"%s\"}", PROTO_SETTINGS_GET },
		{ "{\"type\":\"settings.set\",\"id\":\"%s\",\"settings\":{\"away\":\"x\"}}", PROTO_SETTINGS_SET },
		{ "{\"type\":\"templates.list\",\"id\":\"%s\"}", PROTO_TEMPLATES_LIST },
		{ "{\"type\":\"templates.add\",\"id\":\"%s\",\"template_id\":\"t\",\"name\":\"n\",\"body\":\"b {{1}}\"}", PROTO_TEMPLATES_ADD },
		{ "{\"type\":\"templates.rm\",\"id\":\"%s\",\"template_id\":\"t\"}", PROTO_TEMPLATES_RM },
		{ "{\"type\":\"access.rotate\",\"id\":\"%s\"}", PROTO_ACCESS_ROTATE },
		{ "{\"type\":\"history\",\"id\":\"%s\",\"phone\":\"" PHONE "\"}", PROTO_HISTORY },
		{ "{\"type\":\"counters\",\"id\":\"%s\"}", PROTO_COUNTERS },
	};
	/* Every command in the protocol is in this table. */
	int seen[PROTO_NTYPES] = {0};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		seen[rows[i].type] = 1;
	for (int t = 0; t < PROTO_NTYPES; t++)
		if (proto_type_is_command((enum proto_type)t) && !seen[t])
			fail_msg("command %s has no row", proto_type_name((enum proto_type)t));

	inbound(f, "wamid.r1", PHONE, "hello");
	int n = 0;
	for (int r = PROTO_ROLE_AGENT; r <= PROTO_ROLE_ADMIN; r++) {
		for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
			struct hub_session s;
			char id[16];
			char *cause = NULL;
			static const char *const names[] = { "agent.token", "supervisor.token", "admin.token" };
			/* rotation (admin) changes the tokens: read them afresh */
			for (int k = 0; k < 3; k++) {
				free(f->tok[k]);
				f->tok[k] = access_read_file(f->dir, names[k], &cause);
			}
			hub_tick(f->h);
			session(f, (enum proto_role)r, "asha", &s);
			snprintf(id, sizeof id, "c%d", n++);
			const char *hole = strstr(rows[i].json, "%s");
			char *json = xasprintf("%.*s%s%s", (int)(hole - rows[i].json), rows[i].json, id,
			                       hole + 2);
			char *out = run(f, &s, json);
			int allowed = r >= (int)proto_type_role(rows[i].type);
			if (allowed && !acked(out))
				fail_msg("%s as %s: %s", json, proto_role_name((enum proto_role)r), out);
			if (!allowed && strstr(out, "\"code\":\"auth.role\"") == NULL)
				fail_msg("%s as %s was not refused: %s", json,
				         proto_role_name((enum proto_role)r), out);
			if (strstr(out, id) == NULL)
				fail_msg("answer lacks the command id: %s", out);
			free(json);
			free(out);
		}
	}
}

/* ---- the send path ---------------------------------------------------------------------------- */

static void
test_send(void **state)
{
	struct fx *f = *state;
	struct hub_session s;
	struct hub_send job;

	session(f, PROTO_ROLE_AGENT, "asha", &s);
	/* Never wrote: window closed, template messaging off. */
	expect_code(run(f, &s, "{\"type\":\"send\",\"id\":\"a\",\"phone\":\"" PHONE "\",\"text\":\"hi\"}"),
	            "window.closed");
	expect_code(run(f, &s, "{\"type\":\"send\",\"id\":\"b\",\"phone\":\"12\",\"text\":\"hi\"}"),
	            "bad_request");
	inbound(f, "wamid.s1", PHONE, "where is my order?");
	inbound(f, "wamid.s1", PHONE, "where is my order?");      /* duplicate */
	assert_int_equal(count_of(f->events.data, "where is my order"), 1);
	char *ack = run(f, &s, "{\"type\":\"send\",\"id\":\"c\",\"phone\":\"" PHONE "\",\"text\":\"On its way\"}");
	assert_non_null(strstr(ack, "\"route\":\"session\""));
	assert_non_null(strstr(ack, "\"state\":\"queued\""));
	free(ack);
	assert_true(f->wakes > 0);
	assert_int_equal(hub_outbox_depth(f->h), 1);
	/* Repeated id: same answer, nothing queued again. */
	ack = run(f, &s, "{\"type\":\"send\",\"id\":\"c\",\"phone\":\"" PHONE "\",\"text\":\"On its way\"}");
	assert_non_null(strstr(ack, "\"message_id\":\"2\""));
	free(ack);
	assert_int_equal(hub_outbox_depth(f->h), 1);
	assert_true(contains(f, "\"status\":\"Responded\",\"agent\":\"asha\""));

	/* A second message to the same contact waits for the first. */
	expect_ack(run(f, &s, "{\"type\":\"send\",\"id\":\"d\",\"phone\":\"" PHONE "\",\"text\":\"Second\"}"));
	assert_int_equal(hub_outbox_next(f->h, 1000, &job), 1);
	assert_int_equal(job.msg_id, 2);
	assert_string_equal(job.path, GUPSHUP_PATH_MSG);
	assert_non_null(strstr(job.form, "channel=whatsapp&source=917000000000&destination=" PHONE));
	assert_non_null(strstr(job.form, "src.name=e2e"));
	hub_send_release(&job);
	assert_int_equal(hub_outbox_next(f->h, 1000, &job), 0);      /* in flight: order kept */
	/* Provider says 429: retried later, still first. */
	hub_outbox_result(f->h, 2, HUB_SEND_RETRY, NULL, "HTTP 429", 1000);
	assert_int_equal(hub_outbox_next(f->h, 1001, &job), 0);
	int64_t wait = hub_outbox_wait(f->h, 1001);
	assert_true(wait >= 200 && wait <= 800);      /* 500 ms +- 50 % */
	assert_int_equal(hub_outbox_next(f->h, 1001 + wait, &job), 1);
	assert_int_equal(job.msg_id, 2);
	hub_send_release(&job);
	hub_outbox_result(f->h, 2, HUB_SEND_OK, "gs-2", NULL, 2000);
	assert_true(contains(f, "\"kind\":\"message.state\",\"id\":\"2\",\"phone\":\"" PHONE "\",\"state\":\"submitted\""));
	assert_int_equal(hub_outbox_next(f->h, 2000, &job), 1);
	assert_int_equal(job.msg_id, 3);
	hub_send_release(&job);
	hub_outbox_result(f->h, 3, HUB_SEND_FAILED, NULL, "Invalid destination (HTTP 400)", 2000);
	assert_true(contains(f, "\"state\":\"failed\",\"reason\":\"Invalid destination (HTTP 400)\""));
	assert_int_equal(hub_outbox_depth(f->h), 0);

	/* 24 h later the window is closed again. */
	hub_set_time(f->h, T0 + 86400);
	expect_code(run(f, &s, "{\"type\":\"send\",\"id\":\"e\",\"phone\":\"" PHONE "\",\"text\":\"late\"}"),
	            "window.closed");
	/* Template messaging on: not opted in, then a template match. */
	struct hub_session admin;
	session(f, PROTO_ROLE_ADMIN, "boss", &admin);
	expect_ack(run(f, &admin, "{\"type\":\"settings.set\",\"id\":\"s\",\"settings\":{\"template_messaging\":true,\"optin_prompt\":\"\"}}"));
	expect_code(run(f, &s, "{\"type\":\"send\",\"id\":\"f\",\"phone\":\"" PHONE "\",\"text\":\"Order 42 is ready\"}"),
	            "optin.missing");
	struct gupshup_callback cb = {0};
	cb.kind = GUPSHUP_USER_EVENT;
	cb.user.type = GUPSHUP_USER_OPTED_IN;
	cb.user.phone = PHONE;
	char *body = gupshup_callback_build(&cb);
	struct hub_webhook w = { body, strlen(body), 0, NULL };
	hub_webhooks(f->h, &w, 1);
	assert_int_equal(w.status, 200);
	free(body);
	expect_code(run(f, &s, "{\"type\":\"send\",\"id\":\"g\",\"phone\":\"" PHONE "\",\"text\":\"Order 42 is ready\"}"),
	            "template.nomatch");
	expect_ack(run(f, &admin, "{\"type\":\"templates.add\",\"id\":\"t\",\"template_id\":\"tpl-1\",\"name\":\"order\",\"body\":\"Order {{1}} is ready\"}"));
	ack = run(f, &s, "{\"type\":\"send\",\"id\":\"h\",\"phone\":\"" PHONE "\",\"text\":\"Order 42 is ready\"}");
	assert_non_null(strstr(ack, "\"route\":\"template\",\"template_id\":\"tpl-1\""));
	free(ack);
	assert_int_equal(hub_outbox_next(f->h, 9000, &job), 1);
	assert_string_equal(job.path, GUPSHUP_PATH_TEMPLATE);
	assert_non_null(strstr(job.form, "template="));
	hub_send_release(&job);
}

static void
test_limits(void **state)
{
	struct fx *f = *state;
	struct hub_session s;
	session(f, PROTO_ROLE_AGENT, "asha", &s);
	inbound(f, "wamid.l1", PHONE, "hi");
	for (int i = 0; i < 10; i++) {
		char *json = xasprintf("{\"type\":\"send\",\"id\":\"l%d\",\"phone\":\"" PHONE "\",\"text\":\"m%d\"}", i, i);
		expect_ack(run(f, &s, json));
		free(json);
	}
	char *err = run(f, &s, "{\"type\":\"send\",\"id\":\"l10\",\"phone\":\"" PHONE "\",\"text\":\"m10\"}");
	assert_non_null(strstr(err, "\"count\":10"));
	assert_non_null(strstr(err, "allowed again at"));
	expect_code(err, "limit.customer");
	/* Another agent has their own count; a customer reply resets both. */
	struct hub_session s2;
	session(f, PROTO_ROLE_AGENT, "ravi", &s2);
	expect_ack(run(f, &s2, "{\"type\":\"send\",\"id\":\"r0\",\"phone\":\"" PHONE "\",\"text\":\"x\"}"));
	inbound(f, "wamid.l2", PHONE, "thanks");
	expect_ack(run(f, &s, "{\"type\":\"send\",\"id\":\"l11\",\"phone\":\"" PHONE "\",\"text\":\"m11\"}"));
	/* Counters (supervisor) and a restart rebuild the same counts. */
	struct hub_session sup;
	session(f, PROTO_ROLE_SUPERVISOR, "sue", &sup);
	char *c = run(f, &sup, "{\"type\":\"counters\",\"id\":\"k\"}");
	assert_non_null(strstr(c, "{\"agent\":\"asha\",\"month\":11,\"day\":11}"));
	free(c);
}

/* ---- automation ----------------------------------------------------------------------------------- */

static void
test_automation(void **state)
{
	struct fx *f = *state;
	struct hub_session admin, s;
	session(f, PROTO_ROLE_ADMIN, "boss", &admin);
	session(f, PROTO_ROLE_AGENT, "asha", &s);
	expect_ack(run(f, &admin, "{\"type\":\"settings.set\",\"id\":\"1\",\"settings\":{"
	    "\"greeting\":\"Welcome!\",\"away\":\"We are closed.\",\"business_hours\":\"mon-fri 10:00-18:00\","
	    "\"timezone\":\"UTC\",\"brb\":\"Back soon.\"}}"));
	expect_code(run(f, &admin, "{\"type\":\"settings.set\",\"id\":\"2\",\"settings\":{\"business_hours\":\"someday\"}}"),
	            "bad_request");
	expect_code(run(f, &admin, "{\"type\":\"settings.set\",\"id\":\"3\",\"settings\":{\"colour\":\"red\"}}"),
	            "bad_request");
	expect_code(run(f, &admin, "{\"type\":\"settings.set\",\"id\":\"4\",\"settings\":{\"greeting_cooldown\":\"x\"}}"),
	            "bad_request");

	/* 09:46 UTC on a Wednesday, hours from 10:00: closed.  First message ever: greeting wins. */
	inbound(f, "wamid.a1", PHONE, "hi");
	assert_true(contains(f, "\"text\":\"Welcome!\""));
	assert_true(contains(f, "\"status\":\"Unanswered\""));
	/* A second message: away (outside hours), once per cooldown. */
	inbound(f, "wamid.a2", PHONE, "anyone?");
	assert_int_equal(count_of(f->events.data, "\"text\":\"We are closed.\""), 1);
	inbound(f, "wamid.a3", PHONE, "hello??");
	assert_int_equal(count_of(f->events.data, "\"text\":\"We are closed.\""), 1);
	/* 11:20: open.  BRB on answers, agent reply takes over. */
	hub_set_time(f->h, T0 + 5600);
	expect_ack(run(f, &s, "{\"type\":\"brb.on\",\"id\":\"b\"}"));
	assert_true(contains(f, "\"kind\":\"brb\",\"on\":true,\"agent\":\"asha\""));
	inbound(f, "wamid.a4", PHONE, "still there?");
	assert_int_equal(count_of(f->events.data, "\"text\":\"Back soon.\""), 1);
	expect_ack(run(f, &s, "{\"type\":\"send\",\"id\":\"x\",\"phone\":\"" PHONE "\",\"text\":\"Here!\"}"));
	assert_true(contains(f, "\"status\":\"Responded\",\"agent\":\"asha\""));
	expect_ack(run(f, &s, "{\"type\":\"brb.off\",\"id\":\"b2\"}"));

	/* Opt-in prompt when template messaging is on; YES opts in, STOP out. */
	expect_ack(run(f, &admin, "{\"type\":\"settings.set\",\"id\":\"5\",\"settings\":{\"template_messaging\":true}}"));
	inbound(f, "wamid.o1", "919800000009", "hello");
	assert_true(contains(f, "Reply YES to receive messages"));
	inbound(f, "wamid.o2", "919800000009", " Yes! ");
	assert_true(contains(f, "\"phone\":\"919800000009\",\"name\":\"Ravi\",\"note\":\"\",\"tags\":[],\"opted_in\":true"));
	inbound(f, "wamid.o3", "919800000009", "STOP");
	assert_true(contains(f, "\"opted_in\":false,\"opted_out\":true"));
	assert_int_equal(count_of(f->events.data, "\"text\":\"Reply YES to receive"), 1);
}

/* One batch with a refused webhook in the middle: the others go in (the
 * batch is applied again, each in a savepoint), the refused one leaves
 * nothing, and a duplicate in the same batch is a 200 that adds nothing. */
static void
test_batch_refused(void **state)
{
	struct fx *f = *state;
	static const char *const ids[] = { "wamid.b1", "wamid.b2", "wamid.b3", "wamid.b1" };
	static const char *const phones[] = { "919800000011", "0123", "919800000012", "919800000011" };
	static const char *const texts[] = { "first", "lost", "third", "first" };
	struct hub_webhook w[4];
	char *body[4];
	for (int i = 0; i < 4; i++) {
		struct gupshup_callback cb = {0};
		cb.kind = GUPSHUP_MESSAGE;
		cb.app = "e2e";
		cb.msg.id = ids[i];
		cb.msg.phone = phones[i];
		cb.msg.name = "Ravi";
		cb.msg.type = GUPSHUP_TEXT;
		cb.msg.text = texts[i];
		body[i] = gupshup_callback_build(&cb);
		w[i] = (struct hub_webhook){ body[i], strlen(body[i]), 0, NULL };
	}
	hub_webhooks(f->h, w, 4);
	assert_int_equal(w[0].status, 200);
	assert_int_equal(w[1].status, 400);
	assert_non_null(strstr(w[1].reason, "E.164"));
	assert_int_equal(w[2].status, 200);
	assert_int_equal(w[3].status, 200);
	assert_int_equal(count_of(f->events.data, "\"text\":\"first\""), 1);
	assert_int_equal(count_of(f->events.data, "\"text\":\"third\""), 1);
	assert_null(strstr(f->events.data, "lost"));
	assert_int_equal(count_of(f->events.data, "\"direction\":\"in\""), 2);
	for (int i = 0; i < 4; i++) {
		free(w[i].reason);
		free(body[i]);
	}
	/* An all-good batch afterwards takes the usual pass. */
	inbound(f, "wamid.b4", "919800000012", "fourth");
	assert_int_equal(count_of(f->events.data, "\"direction\":\"in\""), 3);
}

/* An inbound message is one event when its contact only gained a later
 * last_inbound (the console takes that from the message); a contact event
 * comes first when the contact is new or its status, name, agent or
 * opt-in moved. */
static void
test_inbound_events(void **state)
{
	struct fx *f = *state;
	struct hub_session s;
	session(f, PROTO_ROLE_AGENT, "asha", &s);
	inbound(f, "wamid.e1", "919800000007", "one");
	assert_int_equal(count_of(f->events.data, "\"kind\":\"contact\""), 1);
	inbound(f, "wamid.e2", "919800000007", "two");
	int contacts = count_of(f->events.data, "\"kind\":\"contact\"");
	hub_set_time(f->h, T0 + 100);
	inbound(f, "wamid.e3", "919800000007", "three");
	hub_set_time(f->h, T0 + 200);
	inbound(f, "wamid.e4", "919800000007", "four");
	assert_int_equal(count_of(f->events.data, "\"kind\":\"contact\""), contacts);
	assert_int_equal(count_of(f->events.data, "\"direction\":\"in\""), 4);
	/* Nor was the contact's row written for them, yet its last_inbound
	 * reads as the newest message's time, through another connection too. */
	{
		char *path = xasprintf("%s/wadesk.db", f->dir), *cause = NULL;
		struct store *st;
		struct store_contact ct;
		struct store_options o = { 1, 0 };
		assert_int_equal(store_open(path, 0, &o, &st, &cause), 0);
		assert_int_equal(store_contact_get(st, "919800000007", &ct, &cause), 1);
		assert_int_equal(ct.last_inbound, T0 + 200);
		store_contact_release(&ct);
		store_close(st);
		sqlite3 *db;
		sqlite3_stmt *q;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT last_inbound FROM contacts"
		                                        " WHERE phone = '919800000007'", -1, &q, NULL),
		                 SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_true(sqlite3_column_int64(q, 0) < T0 + 100);
		sqlite3_finalize(q);
		sqlite3_close(db);
		free(path);
	}
	/* An agent answers; the next message moves the chat back to the agents. */
	expect_ack(run(f, &s, "{\"type\":\"send\",\"id\":\"r\",\"phone\":\"919800000007\",\"text\":\"Yes?\"}"));
	assert_true(contains(f, "\"status\":\"Responded\""));
	inbound(f, "wamid.e5", "919800000007", "five");
	assert_int_equal(count_of(f->events.data, "\"kind\":\"contact\""), contacts + 1);
	char *tail = strstr(f->events.data, "\"text\":\"five\"");
	assert_non_null(tail);
	/* the contact event precedes its message */
	char *ev = f->events.data, *lastc = NULL;
	for (char *p = ev; (p = strstr(p, "\"kind\":\"contact\"")) != NULL; p++)
		lastc = p;
	assert_true(lastc != NULL && lastc < tail);
	assert_non_null(strstr(lastc, "\"status\":\"Notifying agent\""));
}

static void
test_typing_tags_history(void **state)
{
	struct fx *f = *state;
	struct hub_session s, sup;
	session(f, PROTO_ROLE_AGENT, "asha", &s);
	session(f, PROTO_ROLE_SUPERVISOR, "sue", &sup);
	expect_code(run(f, &s, "{\"type\":\"typing\",\"id\":\"t0\",\"phone\":\"" PHONE "\"}"), "not_found");
	inbound(f, "wamid.t1", PHONE, "hi");
	expect_ack(run(f, &s, "{\"type\":\"typing\",\"id\":\"t1\",\"phone\":\"" PHONE "\"}"));
	assert_true(contains(f, "\"kind\":\"typing\",\"phone\":\"" PHONE "\",\"agent\":\"asha\""));
	assert_true(contains(f, "\"status\":\"Agent responding\",\"agent\":\"asha\""));
	hub_set_time(f->h, T0 + 31);
	hub_tick(f->h);
	assert_true(contains(f, "\"status\":\"Notifying agent\""));

	expect_code(run(f, &sup, "{\"type\":\"tag\",\"id\":\"g0\",\"phone\":\"" PHONE "\",\"tag\":\"two words\"}"),
	            "bad_request");
	expect_ack(run(f, &sup, "{\"type\":\"tag\",\"id\":\"g1\",\"phone\":\"" PHONE "\",\"tag\":\"vip\"}"));
	assert_true(contains(f, "\"tags\":[\"vip\"]"));
	expect_ack(run(f, &s, "{\"type\":\"note\",\"id\":\"n\",\"phone\":\"" PHONE "\",\"text\":\"likes \\u001b[2Jmornings\"}"));
	assert_true(contains(f, "\"note\":\"likes [2Jmornings\""));        /* ESC dropped */
	expect_ack(run(f, &sup, "{\"type\":\"canned.add\",\"id\":\"k\",\"name\":\"thanks\",\"text\":\"Thank you!\"}"));
	char *list = run(f, &s, "{\"type\":\"canned.list\",\"id\":\"kl\"}");
	assert_non_null(strstr(list, "\"canned\":[{\"name\":\"thanks\",\"text\":\"Thank you!\"}]"));
	free(list);
	expect_code(run(f, &sup, "{\"type\":\"canned.rm\",\"id\":\"k2\",\"name\":\"nope\"}"), "not_found");

	for (int i = 0; i < 7; i++) {
		char id[32];
		snprintf(id, sizeof id, "wamid.h%d", i);
		inbound(f, id, PHONE, "more");
	}
	char *page = run(f, &s, "{\"type\":\"history\",\"id\":\"h\",\"phone\":\"" PHONE "\",\"limit\":3}");
	assert_int_equal(count_of(page, "\"direction\":\"in\""), 3);
	assert_non_null(strstr(page, "\"more\":true"));
	free(page);
	page = run(f, &s, "{\"type\":\"history\",\"id\":\"h2\",\"phone\":\"" PHONE "\",\"before\":\"3\"}");
	assert_int_equal(count_of(page, "\"direction\":\"in\""), 2);
	assert_null(strstr(page, "\"more\":true"));
	free(page);
	expect_code(run(f, &s, "{\"type\":\"history\",\"id\":\"h3\",\"phone\":\"" PHONE "\",\"before\":\"x\"}"),
	            "bad_request");
}

static void
test_replay(void **state)
{
	struct fx *f = *state;
	inbound(f, "wamid.e1", PHONE, "one");
	inbound(f, "wamid.e2", PHONE, "two");
	struct store_event *e;
	int n = hub_replay(f->h, 0, 100, &e);
	assert_int_equal(n, (int)hub_head(f->h));
	for (int i = 0; i < n; i++) {
		assert_int_equal(e[i].n, i + 1);
		assert_non_null(strstr(f->events.data, e[i].frame));   /* same bytes live and replayed */
	}
	store_events_free(e, n);
	n = hub_replay(f->h, 2, 100, &e);
	assert_int_equal(n, (int)hub_head(f->h) - 2);
	store_events_free(e, n);
	/* Reopening resumes the numbering. */
	int64_t head = hub_head(f->h);
	hub_free(f->h);
	char *cause = NULL;
	struct hub_io io = { f, on_broadcast, on_wake, on_rotated, NULL };
	assert_int_equal(hub_open(f->dir, &f->cfg, &io, &f->h, &cause), 0);
	assert_int_equal(hub_head(f->h), head);
}

/* From the WAL sync thread: only counts. */
static int sync_wakes;
static void on_sync(void *arg) { (void)arg; __atomic_add_fetch(&sync_wakes, 1, __ATOMIC_SEQ_CST); }

/* A text from PHONE as a batch of its own: its status, and its ticket. */
static uint64_t
inbound_batch(struct fx *f, const char *id, const char *text, int *status)
{
	struct gupshup_callback cb = {0};
	cb.kind = GUPSHUP_MESSAGE;
	cb.app = "e2e";
	cb.msg.id = id;
	cb.msg.phone = PHONE;
	cb.msg.type = GUPSHUP_TEXT;
	cb.msg.text = text;
	char *body = gupshup_callback_build(&cb);
	struct hub_webhook w = { body, strlen(body), 0, NULL };
	uint64_t ticket = hub_webhooks(f->h, &w, 1);
	*status = w.status;
	free(w.reason);
	free(body);
	return ticket;
}

static uint64_t
inbound_async(struct fx *f, const char *id, const char *text)
{
	int status;
	uint64_t ticket = inbound_batch(f, id, text, &status);
	assert_int_equal(status, 200);
	return ticket;
}

/* The hub reopened with a WAL sync worker (and so the commit thread). */
static void
reopen_async(struct fx *f)
{
	char *cause = NULL;
	hub_free(f->h);
	struct hub_io io = { f, on_broadcast, on_wake, on_rotated, on_sync };
	assert_int_equal(hub_open(f->dir, &f->cfg, &io, &f->h, &cause), 0);
	hub_set_time(f->h, T0);
}

/* With a wake callback, webhook batches are committed without waiting
 * for the disk: nothing of theirs is broadcast or replayed until the sync
 * worker reports their ticket, and a synchronous commit meanwhile (an
 * agent's command) releases them first, in order. */
static void
test_deferred_commit(void **state)
{
	struct fx *f = *state;
	reopen_async(f);
	int64_t head0 = hub_head(f->h);
	struct store_event *e;

	uint64_t t1 = inbound_async(f, "wamid.d1", "one");
	uint64_t t2 = inbound_async(f, "wamid.d2", "two");
	assert_true(t1 > 0 && t2 > t1);
	assert_int_equal(hub_head(f->h), head0);              /* nothing released yet */
	assert_null(f->events.data);
	assert_int_equal(hub_replay(f->h, head0, 100, &e), 0);
	store_events_free(e, 0);
	/* A duplicate of a held message is a 200 too, and waits as well. */
	uint64_t t3 = inbound_async(f, "wamid.d1", "one");
	assert_true(t3 > t2);

	assert_true(hub_durable_wait(f->h) >= t3);
	assert_true(__atomic_load_n(&sync_wakes, __ATOMIC_SEQ_CST) > 0);
	assert_true(contains(f, "\"text\":\"one\"") && contains(f, "\"text\":\"two\""));
	assert_int_equal(count_of(f->events.data, "\"text\":\"one\""), 1);
	int64_t head1 = hub_head(f->h);
	assert_true(head1 > head0);
	int n = hub_replay(f->h, head0, 100, &e);
	assert_int_equal(n, (int)(head1 - head0));
	store_events_free(e, n);

	/* Held batch, then a command: its sync covers the batch, whose events
	 * go out first (on_broadcast checks the order). */
	uint64_t t4 = inbound_async(f, "wamid.d3", "three");
	struct hub_session s;
	session(f, PROTO_ROLE_SUPERVISOR, "sam", &s);
	expect_ack(run(f, &s, "{\"type\":\"tag\",\"id\":\"t\",\"phone\":\"" PHONE "\",\"tag\":\"vip\"}"));
	assert_true(hub_durable(f->h) >= t4);
	assert_true(contains(f, "\"text\":\"three\"") && contains(f, "vip"));
	assert_true(strstr(f->events.data, "\"text\":\"three\"") < strstr(f->events.data, "vip"));
	/* A read (history) settles the held batch first: it never shows a
	 * message that is not on disk yet. */
	uint64_t t5 = inbound_async(f, "wamid.d4", "four");
	char *page = run(f, &s, "{\"type\":\"history\",\"id\":\"h\",\"phone\":\"" PHONE "\"}");
	assert_non_null(strstr(page, "\"text\":\"four\""));
	free(page);
	assert_true(hub_durable(f->h) >= t5);
	assert_true(contains(f, "\"text\":\"four\""));
	assert_null(hub_failed(f->h));
}

/* Batches back to back, none waited for: each one's COMMIT runs in the
 * commit thread while the next is applied (the connection lent and
 * reclaimed every time), and every one ends up durable, once, in order. */
static void
test_lent_commits(void **state)
{
	struct fx *f = *state;
	reopen_async(f);
	int64_t head0 = hub_head(f->h);
	uint64_t last = 0;
	enum { N = 300 };
	for (int i = 0; i < N; i++) {
		char id[32], text[32];
		snprintf(id, sizeof id, "wamid.lent%d", i);
		snprintf(text, sizeof text, "lent %d.", i);
		uint64_t t = inbound_async(f, id, text);
		assert_true(t > last);
		last = t;
		hub_durable(f->h);                /* releases whatever is on disk by now */
	}
	assert_true(hub_durable_wait(f->h) >= last);
	assert_false(hub_busy(f->h));
	assert_null(hub_failed(f->h));
	for (int i = 0; i < N; i++) {
		char text[48];
		snprintf(text, sizeof text, "\"text\":\"lent %d.\"", i);
		assert_int_equal(count_of(f->events.data, text), 1);
	}
	struct store_event *e;
	int n = hub_replay(f->h, head0, 2 * N, &e);
	assert_int_equal(n, (int)(hub_head(f->h) - head0));
	assert_true(n >= N);
	store_events_free(e, n);
}

/* A COMMIT that fails in the commit thread (here the log may not grow:
 * RLIMIT_FSIZE) counts as a failed sync: its batch is never reported
 * durable, the hub says why it must stop, and nothing more is begun. */
static void
test_lent_commit_fails(void **state)
{
	struct fx *f = *state;
	reopen_async(f);
	uint64_t ok = inbound_async(f, "wamid.f0", "before");
	assert_true(hub_durable_wait(f->h) >= ok);

	char *wal = xasprintf("%s/wadesk.db-wal", f->dir);
	struct stat sb;
	assert_int_equal(stat(wal, &sb), 0);
	struct rlimit old;
	files_cap((rlim_t)sb.st_size, &old);         /* the log cannot grow */
	uint64_t t = inbound_async(f, "wamid.f1", "lost");
	assert_true(t > ok);
	uint64_t d = hub_durable_wait(f->h);
	files_uncap(&old);
	assert_true(d < t);
	assert_non_null(hub_failed(f->h));
	assert_null(contains(f, "\"text\":\"lost\"") ? "broadcast" : NULL);
	int status;
	inbound_batch(f, "wamid.f2", "after", &status);
	assert_int_equal(status, 500);
	free(wal);
}

int
main(void)
{
	log_init("test_hub");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_automation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typing_tags_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lent_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lent_commit_fails, setup, teardown),
	};
	return cmocka_run_group_tests_name("hub", tests, NULL, NULL);
}
