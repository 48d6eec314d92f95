/*
 * Unit tests for the hub's media rules (src/hub_media.c) without a network:
 * an inbound media webhook commits the message pending with a download job
 * (and nothing to download before the commit); outcomes move it to ready or
 * refused with a `message` event each; retries follow the backoff table,
 * a 404 gives up after five attempts and anything after 24 h; jobs survive
 * a reopen; a send names an uploaded file, takes the stored type, and goes
 * out with the public URL and the caption; unknown files are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "access.h"
#include "hub.h"
#include "hub_config.h"
#include "proto.h"
#include "store.h"
#include "util.h"

#define PHONE "919812345678"
#define T0    1795600000
#define SHA   "554f5147984d75fe7e43c6f15d08e3d52097907a122299c06613e84b3b4c8749"
#define SHA2  "ab4f5147984d75fe7e43c6f15d08e3d52097907a122299c06613e84b3b4c8749"

struct fx {
	char          dir[64];
	struct config cfg;
	struct hub   *h;
	char         *agent_tok;
	struct buf    events;
};

static void
on_broadcast(void *arg, int64_t n, const char *frame, size_t len)
{
	struct fx *f = arg;
	(void)n;
	buf_append(&f->events, frame, len);
	buf_putc(&f->events, '\n');
}

static void
open_hub(struct fx *f)
{
	char *cause = NULL;
	struct hub_io io = { f, on_broadcast, NULL, NULL, NULL };
	if (hub_open(f->dir, &f->cfg, &io, &f->h, &cause) < 0)
		fail_msg("%s", cause);
	hub_set_time(f->h, T0);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	char *cause = NULL;
	snprintf(f->dir, sizeof f->dir, "/tmp/wadesk-hubm-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	hub_config_defaults(&f->cfg);
	free(f->cfg.app);
	f->cfg.app = xstrdup("e2e");
	free(f->cfg.source);
	f->cfg.source = xstrdup("917000000000");
	free(f->cfg.public_url);
	f->cfg.public_url = xstrdup("https://desk.example.com/");
	f->cfg.media_backoff_ms = 1000;
	if (access_secret_create(f->dir, &cause) < 0 || hub_init_db(f->dir, &f->cfg, &cause) < 0)
		fail_msg("%s", cause);
	struct store *st;
	char *db = xasprintf("%s/wadesk.db", f->dir);
	int64_t gen;
	assert_int_equal(store_open(db, 0, NULL, &st, &cause), 0);
	assert_int_equal(access_rotate(f->dir, st, &gen, &cause), 0);
	store_close(st);
	free(db);
	assert_non_null(f->agent_tok = access_read_file(f->dir, "agent.token", &cause));
	open_hub(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	hub_free(f->h);
	hub_config_release(&f->cfg);
	free(f->agent_tok);
	buf_free(&f->events);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

/* An inbound image webhook from PHONE with provider id wamid.ID. */
static void
inbound_media(struct fx *f, const char *id, const char *url)
{
	char *body = xasprintf("{\"app\":\"e2e\",\"timestamp\":1,\"version\":2,\"type\":\"message\","
	    "\"payload\":{\"id\":\"%s\",\"source\":\"" PHONE "\",\"type\":\"image\",\"payload\":"
	    "{\"url\":\"%s\",\"contentType\":\"image/png\",\"caption\":\"the receipt\"},"
	    "\"sender\":{\"phone\":\"" PHONE "\",\"name\":\"Ravi\"}}}", id, url);
	struct hub_webhook w = { body, strlen(body), 0, NULL };
	hub_webhooks(f->h, &w, 1);
	assert_int_equal(w.status, 200);
	free(w.reason);
	free(body);
}

static void
last_media(struct fx *f, struct proto_media *out, char **frame)
{
	/* the last message event's frame, decoded */
	char *s = f->events.data, *last = NULL;
	for (char *p = s; p && (p = strstr(p, "\"kind\":\"message\"")); p++)
		last = p;
	assert_non_null(last);
	while (last > s && last[-1] != '\n')
		last--;
	size_t n = strcspn(last, "\n");
	struct proto_msg m;
	const char *code;
	char *cause = NULL;
	assert_int_equal(proto_decode(last, n, &m, &code, &cause), 0);
	*frame = xstrndup(last, n);
	*out = m.message.media;
	(void)out;
	proto_msg_release(&m);
}

static void
test_inbound_ready(void **state)
{
	struct fx *f = *state;
	struct hub_fetch j;
	int64_t now = 1000000;

	assert_int_equal(hub_fetch_next(f->h, now, &j), 0);
	inbound_media(f, "wamid.1", "http://provider/f/1.png");
	assert_int_equal(hub_fetch_pending(f->h), 1);
	assert_non_null(strstr(f->events.data, "\"state\":\"pending\""));
	assert_null(strstr(f->events.data, "http://provider"));     /* never shown */
	assert_int_equal(hub_fetch_next(f->h, now, &j), 1);
	assert_string_equal(j.url, "http://provider/f/1.png");
	assert_string_equal(j.mime, "image/png");
	assert_int_equal(j.cap, 5 * 1000 * 1000);
	assert_int_equal(hub_fetch_next(f->h, now, &j), 0);        /* in flight */
	int64_t id = j.msg_id;

	struct hub_fetch_outcome o = { HUB_FETCH_READY, SHA, "image/png", 67, NULL, NULL, 200 };
	hub_fetch_result(f->h, id, &o, now);
	assert_int_equal(hub_fetch_pending(f->h), 0);
	char *frame;
	struct proto_media pm;
	last_media(f, &pm, &frame);
	assert_non_null(strstr(frame, "\"state\":\"ready\""));
	assert_non_null(strstr(frame, "\"sha256\":\"" SHA "\""));
	assert_non_null(strstr(frame, "\"url\":\"/v1/media/" SHA "\""));
	assert_non_null(strstr(frame, "\"caption\":\"the receipt\""));
	free(frame);
	char *mime = NULL;
	int64_t size = 0;
	assert_int_equal(hub_media_lookup(f->h, SHA, &mime, &size), 1);
	assert_string_equal(mime, "image/png");
	assert_int_equal(size, 67);
	free(mime);
	assert_int_equal(hub_media_public(f->h, SHA), 0);          /* inbound: never public */
	assert_int_equal(hub_media_lookup(f->h, "../x", NULL, NULL), 0);
}

static void
test_retry_refuse_giveup(void **state)
{
	struct fx *f = *state;
	struct hub_fetch j;
	int64_t now = 1000000;

	/* 503: retried on the table (1 s, then 3 s, +-20 %), reason shown */
	inbound_media(f, "wamid.2", "http://provider/f/2.png");
	assert_int_equal(hub_fetch_next(f->h, now, &j), 1);
	int64_t id = j.msg_id;
	struct hub_fetch_outcome o = { HUB_FETCH_RETRY, NULL, NULL, 0, NULL, "HTTP 503 from the provider", 503 };
	hub_fetch_result(f->h, id, &o, now);
	int64_t w = hub_fetch_wait(f->h, now);
	assert_true(w >= 800 && w <= 1200);
	assert_int_equal(hub_fetch_next(f->h, now + 500, &j), 0);
	assert_non_null(strstr(f->events.data, "not downloaded yet: HTTP 503 from the provider (attempt 1; next try "));
	assert_int_equal(hub_fetch_next(f->h, now + w, &j), 1);
	hub_fetch_result(f->h, id, &o, now + w);
	w = hub_fetch_wait(f->h, now + 1200);
	assert_true(w >= 2400 - 1200 - 200 && w <= 3600);

	/* the job is in the store: a reopened hub has it (not in flight) */
	hub_free(f->h);
	open_hub(f);
	assert_int_equal(hub_fetch_pending(f->h), 1);
	assert_int_equal(hub_fetch_next(f->h, now + 10000, &j), 1);
	assert_int_equal(j.attempts, 2);

	/* a refusal is final */
	struct hub_fetch_outcome r = { HUB_FETCH_REFUSED, NULL, "application/x-pie-executable", 100,
	    "media.type", "is an ELF executable (application/x-pie-executable), not a PNG image", 200 };
	hub_fetch_result(f->h, id, &r, now + 10000);
	assert_int_equal(hub_fetch_pending(f->h), 0);
	char *frame;
	struct proto_media pm;
	last_media(f, &pm, &frame);
	assert_non_null(strstr(frame, "\"state\":\"refused\""));
	assert_non_null(strstr(frame, "\"code\":\"media.type\""));
	assert_non_null(strstr(frame, "ELF executable"));
	free(frame);

	/* 404: five attempts, then media.download */
	inbound_media(f, "wamid.3", "http://provider/f/3.png");
	struct hub_fetch_outcome nf = { HUB_FETCH_RETRY, NULL, NULL, 0, NULL, "HTTP 404 from the provider", 404 };
	int64_t t = now;
	for (int i = 0; i < 5; i++) {
		t += 10 * 3600 * 1000LL;
		assert_int_equal(hub_fetch_next(f->h, t, &j), 1);
		hub_fetch_result(f->h, j.msg_id, &nf, t);
	}
	assert_int_equal(hub_fetch_pending(f->h), 0);
	last_media(f, &pm, &frame);
	assert_non_null(strstr(frame, "\"code\":\"media.download\""));
	assert_non_null(strstr(frame, "gave up after 5 attempts"));
	free(frame);

	/* anything else: 24 h, then media.download */
	inbound_media(f, "wamid.4", "http://provider/f/4.png");
	assert_int_equal(hub_fetch_next(f->h, t, &j), 1);
	hub_set_time(f->h, T0 + 86400);
	hub_fetch_result(f->h, j.msg_id, &o, t);
	assert_int_equal(hub_fetch_pending(f->h), 0);
	last_media(f, &pm, &frame);
	assert_non_null(strstr(frame, "gave up after 24 h"));
	free(frame);
}

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

static void
test_send(void **state)
{
	struct fx *f = *state;
	struct hub_session s;
	struct proto_msg hello = {0};
	char *frame, *cause = NULL;
	size_t len;

	hello.type = PROTO_HELLO;
	hello.token = f->agent_tok;
	hello.agent = "asha";
	assert_int_equal(hub_hello(f->h, &hello, &s, &frame, &len), 0);
	free(frame);
	enum proto_role role;
	assert_int_equal(hub_token_role(f->h, f->agent_tok, &role), 1);
	assert_int_equal(role, PROTO_ROLE_AGENT);
	assert_int_equal(hub_token_role(f->h, "nope", &role), 0);

	/* the customer wrote: the window is open */
	const char *body = "{\"app\":\"e2e\",\"timestamp\":1,\"version\":2,\"type\":\"message\",\"payload\":"
	    "{\"id\":\"wamid.t\",\"source\":\"" PHONE "\",\"type\":\"text\",\"payload\":{\"text\":\"hi\"},"
	    "\"sender\":{\"phone\":\"" PHONE "\",\"name\":\"Ravi\"}}}";
	struct hub_webhook w = { body, strlen(body), 0, NULL };
	hub_webhooks(f->h, &w, 1);
	assert_int_equal(w.status, 200);

	char *out = run(f, &s, "{\"type\":\"send\",\"id\":\"m1\",\"phone\":\"" PHONE "\",\"media\":"
	    "{\"mime\":\"application/pdf\",\"sha256\":\"" SHA "\",\"filename\":\"a.pdf\"}}");
	assert_non_null(strstr(out, "\"code\":\"media.unknown\""));
	free(out);
	out = run(f, &s, "{\"type\":\"send\",\"id\":\"m2\",\"phone\":\"" PHONE "\",\"media\":"
	    "{\"mime\":\"application/pdf\",\"url\":\"/v1/media/../../etc\"}}");
	assert_non_null(strstr(out, "\"code\":\"media.unknown\""));
	free(out);

	/* uploaded as a PDF; the console claims an image: the store wins */
	assert_int_equal(hub_media_recorded(f->h, SHA, "application/pdf", 142, &cause), 0);
	out = run(f, &s, "{\"type\":\"send\",\"id\":\"m3\",\"phone\":\"" PHONE "\",\"media\":"
	    "{\"mime\":\"image/png\",\"url\":\"/v1/media/" SHA "\",\"filename\":\"../My invoice.exe\","
	    "\"caption\":\"your invoice\",\"size\":1}}");
	assert_non_null(strstr(out, "\"type\":\"ack\""));
	free(out);
	assert_int_equal(hub_media_public(f->h, SHA), 1);
	char *frame2;
	struct proto_media pm;
	last_media(f, &pm, &frame2);
	assert_non_null(strstr(frame2, "\"mime\":\"application/pdf\""));
	assert_non_null(strstr(frame2, "\"type\":\"file\""));
	assert_non_null(strstr(frame2, "\"filename\":\"My invoice.exe.pdf\""));
	free(frame2);

	struct hub_send hs;
	assert_int_equal(hub_outbox_next(f->h, mono_ms(), &hs), 1);
	assert_non_null(strstr(hs.form, "https%3A%2F%2Fdesk.example.com%2Fv1%2Fpublic%2F" SHA
	                       "%2FMy%2520invoice.exe.pdf"));
	assert_non_null(strstr(hs.form, "%22type%22%3A%22file%22"));
	hub_send_release(&hs);

	/* an inbound-only kind (a voice note) is never sent */
	assert_int_equal(hub_media_recorded(f->h, SHA2, "audio/ogg", 100, &cause), 0);
	out = run(f, &s, "{\"type\":\"send\",\"id\":\"m4\",\"phone\":\"" PHONE "\",\"media\":"
	    "{\"mime\":\"audio/ogg\",\"sha256\":\"" SHA2 "\"}}");
	assert_non_null(strstr(out, "\"code\":\"media.type\""));
	free(out);

	/* default public URL: the listen address */
	free(f->cfg.public_url);
	f->cfg.public_url = xstrdup("");
	char *u = hub_public_media_url(f->h, SHA, "a b.pdf");
	assert_string_equal(u, "http://127.0.0.1:8700/v1/public/" SHA "/a%20b.pdf");
	free(u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inbound_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_refuse_giveup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
	};
	return cmocka_run_group_tests_name("hub_media", tests, NULL, NULL);
}
