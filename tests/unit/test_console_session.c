/* Unit tests for console_session.c: hello/welcome, events applied to the
 * cache exactly once (resume without gaps or duplicates), chat rows
 * derived from contacts and messages, bells, answers routed by id, the
 * agent limits built from the cache, and bye on an expired link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

#include "console_session.h"
#include "status.h"
#include "util.h"

struct rec {
	struct buf sent;        /* frames the session wrote, one per line */
	int bells, changes, replies, byes, resyncs;
	char *bye_code;
	char *reply_code;
};

static void h_send(void *arg, const char *f, size_t len)
{
	struct rec *r = arg;
	buf_append(&r->sent, f, len);
	buf_putc(&r->sent, '\n');
}
static void h_changed(void *arg, unsigned what, const char *phone)
{
	(void)what; (void)phone;
	((struct rec *)arg)->changes++;
}
static void h_notify(void *arg, const char *phone, const char *name)
{
	(void)phone; (void)name;
	((struct rec *)arg)->bells++;
}
static void h_reply(void *arg, const char *id, const struct proto_msg *m)
{
	struct rec *r = arg;
	(void)id;
	r->replies++;
	free(r->reply_code);
	r->reply_code = xstrdup(m->code);
}
static void h_bye(void *arg, const char *code, const char *s)
{
	struct rec *r = arg;
	(void)s;
	r->byes++;
	free(r->bye_code);
	r->bye_code = xstrdup(code);
}

static void h_resync(void *arg, const char *why)
{
	(void)why;
	((struct rec *)arg)->resyncs++;
}

static const struct session_hooks hooks = { h_send, h_changed, h_notify, h_reply, NULL, h_bye,
	h_resync };

static void
feed(struct session *s, const struct proto_msg *m)
{
	size_t len;
	char *f = proto_encode(m, &len);
	session_frame(s, f, len);
	free(f);
}

static void
welcome(struct session *s, int64_t head)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_WELCOME;
	m.hub_id = "hub1";
	m.role = "admin";
	m.version = 1;
	m.server_time = now_s();
	m.last_event = head;
	m.limits.customer_max = 10;
	m.limits.agent_max = 100000;
	feed(s, &m);
}

static void
ev_message(struct session *s, int64_t n, const char *id, const char *phone, const char *dir,
    const char *text, int64_t t, const char *agent)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_EVENT;
	m.n = n;
	m.t = t;
	m.kind = PROTO_EV_MESSAGE;
	m.message.id = id;
	m.message.phone = phone;
	m.message.direction = dir;
	m.message.type = "text";
	m.message.text = text;
	m.message.time = t;
	m.message.agent = agent;
	m.message.state = strcmp(dir, "out") == 0 ? "queued" : NULL;
	feed(s, &m);
}

static void
ev_contact(struct session *s, int64_t n, const char *phone, const char *status, int64_t li)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	char *tags[] = { (char *)"vip" };
	m.type = PROTO_EVENT;
	m.n = n;
	m.kind = PROTO_EV_CONTACT;
	m.contact.phone = phone;
	m.contact.name = "Asha";
	m.contact.note = "";
	m.contact.tags = tags;
	m.contact.ntags = 1;
	m.contact.last_inbound = li;
	m.contact.status = status;
	feed(s, &m);
}

/* A session over an in-memory cache, welcomed at event 0, that knows one
 * customer (911) who wrote 100 s before now. */
static void
open_with_contact(struct session *s, struct rec *r, struct cache **c, int64_t now)
{
	assert_int_equal(cache_open(":memory:", c, NULL), 0);
	session_init(s, "tok", "ravi", &hooks, r);
	session_set_cache(s, *c);
	session_open(s);
	welcome(s, 0);
	ev_contact(s, 1, "911", "Notifying agent", now - 100);
}

static void
test_session_flow(void **state)
{
	(void)state;
	struct rec r = {0};
	struct cache *c;
	assert_int_equal(cache_open(":memory:", &c, NULL), 0);
	struct session s;
	session_init(&s, "tok", "ravi", &hooks, &r);
	session_set_cache(&s, c);
	session_open(&s);
	assert_non_null(strstr(r.sent.data, "\"type\":\"hello\""));
	assert_non_null(strstr(r.sent.data, "\"token\":\"tok\""));
	assert_int_equal(s.state, SESS_HELLO);
	/* No command before welcome. */
	assert_null(session_send_text(&s, "911", "x"));
	welcome(&s, 3);
	assert_int_equal(s.state, SESS_READY);
	assert_int_equal(s.role, PROTO_ROLE_ADMIN);
	assert_false(session_caught_up(&s));
	int64_t now = now_s();
	ev_contact(&s, 1, "911", "Notifying agent", now - 10);
	ev_message(&s, 2, "m1", "911", "in", "hello \x1b]0;x\a", now - 10, NULL);
	ev_message(&s, 3, "m2", "911", "in", "anyone?", now - 5, NULL);
	assert_true(session_caught_up(&s));
	assert_int_equal(r.bells, 0);                /* replayed, not live */
	/* A replayed duplicate changes nothing. */
	ev_message(&s, 3, "m2", "911", "in", "anyone?", now - 5, NULL);
	struct cache_chat ch;
	assert_int_equal(cache_chat_get(c, "911", &ch, NULL), 0);
	assert_int_equal(ch.status, CHAT_NOTIFYING);
	assert_int_equal(ch.unread, 2);
	assert_string_equal(ch.preview, "anyone?");
	assert_string_equal(ch.tags, ",vip,");
	assert_int_equal(ch.last_time, now - 5);
	cache_chat_release(&ch);
	assert_int_equal(cache_msg_count(c, "911"), 2);
	assert_int_equal(cache_last_event(c), 3);
	/* Live: a new chat notifies. */
	ev_contact(&s, 4, "912", "Notifying agent", now);
	assert_int_equal(r.bells, 1);
	/* Status and typing. */
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_EVENT;
	m.n = 5;
	m.kind = PROTO_EV_STATUS;
	m.phone = "911";
	m.status = "Agent responding";
	m.agent = "asha";
	feed(&s, &m);
	assert_int_equal(cache_chat_get(c, "911", &ch, NULL), 0);
	assert_int_equal(ch.status, CHAT_RESPONDING);
	assert_string_equal(ch.responding, "asha");
	cache_chat_release(&ch);
	/* A failed state marks the chat. */
	ev_message(&s, 6, "m3", "911", "out", "hi", now, "ravi");
	memset(&m, 0, sizeof m);
	m.type = PROTO_EVENT;
	m.n = 7;
	m.kind = PROTO_EV_MESSAGE_STATE;
	m.message_id = "m3";
	m.phone = "911";
	m.state = "failed";
	m.reason = "re-engagement window closed";
	feed(&s, &m);
	assert_int_equal(cache_chat_get(c, "911", &ch, NULL), 0);
	assert_int_equal(ch.failed, 1);
	cache_chat_release(&ch);
	struct cache_msg cm;
	assert_int_equal(cache_msg_get(c, "m3", &cm, NULL), 0);
	assert_string_equal(cm.state, "failed");
	assert_string_equal(cm.reason, "re-engagement window closed");
	cache_msg_release(&cm);
	/* The agent's reply counted as reading; a new inbound is unread. */
	assert_int_equal(cache_chat_get(c, "911", &ch, NULL), 0);
	assert_int_equal(ch.unread, 0);
	cache_chat_release(&ch);
	ev_message(&s, 8, "m4", "911", "in", "and?", now, NULL);
	/* Mark read: unread 0 and a read command. */
	buf_reset(&r.sent);
	session_mark_read(&s, "911");
	assert_non_null(strstr(r.sent.data, "\"type\":\"read\""));
	assert_int_equal(cache_chat_get(c, "911", &ch, NULL), 0);
	assert_int_equal(ch.unread, 0);
	cache_chat_release(&ch);
	/* Commands get ids; answers are routed. */
	buf_reset(&r.sent);
	const char *id = session_simple(&s, PROTO_TAG, "911", "gold");
	assert_non_null(id);
	assert_non_null(strstr(r.sent.data, "\"tag\":\"gold\""));
	memset(&m, 0, sizeof m);
	m.type = PROTO_ERROR;
	m.id = id;
	m.code = "auth.role";
	m.sentence = "your role may not do this";
	feed(&s, &m);
	assert_int_equal(r.replies, 1);
	assert_string_equal(r.reply_code, "auth.role");
	/* An unanswered send goes again, same id, after a reconnection. */
	const char *sid = session_send_text(&s, "911", "are you there?");
	assert_non_null(sid);
	char *sid_copy = xstrdup(sid);
	session_closed(&s, "lost");
	buf_reset(&r.sent);
	session_open(&s);
	welcome(&s, 8);
	assert_non_null(strstr(r.sent.data, sid_copy));
	assert_non_null(strstr(r.sent.data, "are you there?"));
	memset(&m, 0, sizeof m);
	m.type = PROTO_ACK;
	m.id = sid_copy;
	m.message_id = "m9";
	feed(&s, &m);
	session_closed(&s, "lost");
	buf_reset(&r.sent);
	session_open(&s);
	welcome(&s, 8);
	assert_null(strstr(r.sent.data, "are you there?"));   /* answered: not again */
	free(sid_copy);
	/* Bye on rotation: expired. */
	memset(&m, 0, sizeof m);
	m.type = PROTO_BYE;
	m.code = "auth.expired";
	m.sentence = "this link has expired";
	feed(&s, &m);
	assert_int_equal(s.state, SESS_EXPIRED);
	assert_string_equal(r.bye_code, "auth.expired");
	assert_non_null(strstr(s.why, "your link has expired"));
	session_closed(&s, "closed");
	assert_int_equal(s.state, SESS_EXPIRED);
	session_release(&s);
	cache_close(c);
	buf_free(&r.sent);
	free(r.bye_code);
	free(r.reply_code);
}

static void
test_session_limits_decide(void **state)
{
	(void)state;
	struct rec r = {0};
	struct cache *c;
	struct session s;
	int64_t now = now_s();
	open_with_contact(&s, &r, &c, now);
	ev_message(&s, 2, "in1", "911", "in", "hi", now - 100, NULL);
	struct limit_verdict v;
	assert_int_equal(session_check_limits(&s, "911", now, 1, &v), 0);
	for (int i = 0; i < 10; i++) {
		char id[8];
		snprintf(id, sizeof id, "o%d", i);
		ev_message(&s, 3 + i, id, "911", "out", "reply", now - 50 + i, "ravi");
	}
	/* The 11th is refused on the spot. */
	assert_int_equal(session_check_limits(&s, "911", now, 1, &v), -1);
	assert_string_equal(v.code, "limit.customer");
	assert_int_equal(v.count, 10);
	unsigned cc;
	long ac;
	session_limit_counts(&s, "911", now, &cc, &ac);
	assert_int_equal(cc, 10);
	assert_int_equal(ac, 10);      /* welcome said 0; ten live messages since */
	/* Another agent's messages do not count against ravi. */
	/* A customer reply lifts it. */
	ev_message(&s, 20, "in2", "911", "in", "thanks", now - 1, NULL);
	assert_int_equal(session_check_limits(&s, "911", now, 1, &v), 0);
	/* Send decision: inside the window a session message. */
	struct send_decision d;
	session_decide(&s, "911", "hello", now, &d);
	assert_int_equal(d.result, SEND_SESSION);
	decision_release(&d);
	/* Outside the window, template messaging off: window.closed. */
	session_decide(&s, "999", "hello", now, &d);
	assert_int_equal(d.result, SEND_REFUSED);
	assert_string_equal(d.code, "window.closed");
	decision_release(&d);
	session_release(&s);
	cache_close(c);
	buf_free(&r.sent);
	free(r.bye_code);
	free(r.reply_code);
}

/* Runs sql on the cache file behind the session's back (fault injection). */
static void
sql_on(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * An event the cache cannot take is never skipped: the events after it
 * are held back (last_event stays before it), the owner is asked to
 * reconnect, and the replay on the next connection applies them all.
 */
static void
test_session_gap(void **state)
{
	(void)state;
	struct rec r = {0};
	char path[] = "/tmp/test_console_session.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct cache *c;
	assert_int_equal(cache_open(path, &c, NULL), 0);
	struct session s;
	session_init(&s, "tok", "ravi", &hooks, &r);
	session_set_cache(&s, c);
	session_open(&s);
	welcome(&s, 0);
	int64_t now = now_s();
	ev_message(&s, 1, "m1", "911", "in", "one", now - 3, NULL);
	assert_int_equal(cache_last_event(c), 1);
	sql_on(path, "ALTER TABLE messages RENAME TO away");
	ev_message(&s, 2, "m2", "911", "in", "two", now - 2, NULL);
	assert_int_equal(r.resyncs, 1);
	sql_on(path, "ALTER TABLE away RENAME TO messages");
	ev_contact(&s, 3, "912", "Notifying agent", now - 1);     /* would succeed: held */
	assert_int_equal(cache_last_event(c), 1);
	assert_int_equal(r.resyncs, 1);
	struct cache_chat ch;
	assert_int_equal(cache_chat_get(c, "912", &ch, NULL), 1);
	/* The next connection resumes after event 1 and gets both again. */
	session_closed(&s, "closed for a resync");
	assert_non_null(strstr(s.why, "cannot store event 2 in the cache"));
	buf_reset(&r.sent);
	session_open(&s);
	assert_non_null(strstr(r.sent.data, "\"last_event\":1"));
	welcome(&s, 3);
	ev_message(&s, 2, "m2", "911", "in", "two", now - 2, NULL);
	ev_contact(&s, 3, "912", "Notifying agent", now - 1);
	assert_true(session_caught_up(&s));
	assert_int_equal(cache_msg_count(c, "911"), 2);
	assert_int_equal(cache_chat_get(c, "912", &ch, NULL), 0);
	cache_chat_release(&ch);
	session_release(&s);
	cache_close(c);
	buf_free(&r.sent);
	free(r.bye_code);
	free(r.reply_code);
	unlink(path);
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
}

/* A media message event lands in the cache with its media; a media send
 * is decided as media (sandbox, window) and carries its media object. */
static void
test_session_media(void **state)
{
	(void)state;
	struct rec r = {0};
	struct cache *c;
	struct session s;
	int64_t now = now_s();
	open_with_contact(&s, &r, &c, now);
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_EVENT;
	m.n = 2;
	m.t = now - 100;
	m.kind = PROTO_EV_MESSAGE;
	m.message.id = "in1";
	m.message.phone = "911";
	m.message.direction = "in";
	m.message.type = "image";
	m.message.text = "";
	m.message.time = now - 100;
	m.message.media.mime = "image/png";
	m.message.media.filename = "cat.png";
	m.message.media.caption = "my cat";
	m.message.media.state = "pending";
	m.message.media.error = "not downloaded yet: HTTP 503";
	feed(&s, &m);
	struct cache_msg g;
	assert_int_equal(cache_msg_get(c, "in1", &g, NULL), 0);
	assert_string_equal(g.media_mime, "image/png");
	assert_string_equal(g.media_name, "cat.png");
	assert_string_equal(g.media_state, "pending");
	assert_string_equal(g.media_error, "not downloaded yet: HTTP 503");
	cache_msg_release(&g);
	struct cache_chat ch;
	assert_int_equal(cache_chat_get(c, "911", &ch, NULL), 0);
	assert_string_equal(ch.preview, "[image] cat.png my cat");
	cache_chat_release(&ch);
	/* Stored: the same message again, ready. */
	m.n = 3;
	m.message.media.state = "ready";
	m.message.media.error = NULL;
	m.message.media.size = 68;
	m.message.media.sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	feed(&s, &m);
	assert_int_equal(cache_msg_get(c, "in1", &g, NULL), 0);
	assert_string_equal(g.media_state, "ready");
	assert_string_equal(g.media_error, "");
	assert_int_equal(g.media_size, 68);
	cache_msg_release(&g);
	struct send_decision d;
	session_decide_kind(&s, "911", SEND_MEDIA, "look", "application/pdf", now, &d);
	assert_int_equal(d.result, SEND_SESSION);
	decision_release(&d);
	session_decide_kind(&s, "999", SEND_MEDIA, NULL, "application/pdf", now, &d);
	assert_string_equal(d.code, "media.session_only");
	decision_release(&d);
	s.sandbox = 1;
	session_decide_kind(&s, "911", SEND_MEDIA, NULL, "application/pdf", now, &d);
	assert_string_equal(d.code, "sandbox.text_only");
	decision_release(&d);
	s.sandbox = 0;
	struct proto_media md = { .mime = "application/pdf",
		.url = "/v1/media/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		.filename = "a.pdf", .caption = "here", .size = 10,
		.sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
	buf_reset(&r.sent);
	assert_non_null(session_send_media(&s, "911", &md));
	assert_non_null(strstr(r.sent.data, "\"type\":\"send\""));
	assert_non_null(strstr(r.sent.data, "\"media\":{"));
	assert_non_null(strstr(r.sent.data, "\"filename\":\"a.pdf\""));
	session_release(&s);
	cache_close(c);
	buf_free(&r.sent);
	free(r.bye_code);
	free(r.reply_code);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_flow),
		cmocka_unit_test(test_session_limits_decide),
		cmocka_unit_test(test_session_gap),
		cmocka_unit_test(test_session_media),
	};
	return cmocka_run_group_tests_name("console_session", tests, NULL, NULL);
}
