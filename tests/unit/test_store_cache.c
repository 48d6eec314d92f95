/* Unit tests for store_cache.c: chats paged in order with filters and
 * search, messages upserted with forward-only states and paged backwards,
 * metadata, canned replies, templates, the agent-send walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store_cache.h"
#include "util.h"

static struct cache *
open_mem(void)
{
	struct cache *c;
	char *cause = NULL;
	assert_int_equal(cache_open(":memory:", &c, &cause), 0);
	assert_null(cause);
	return c;
}

static void
put_chat(struct cache *c, const char *phone, const char *name, int status, const char *tags,
    int64_t t)
{
	struct cache_chat ch = { .phone = (char *)phone, .name = (char *)name, .note = (char *)"",
		.tags = (char *)tags, .status = status, .responding = (char *)"",
		.preview = (char *)"hello there", .last_time = t, .last_inbound = t };
	assert_int_equal(cache_chat_put(c, &ch, NULL), 0);
}

static void
test_chat_order_filter(void **state)
{
	(void)state;
	struct cache *c = open_mem();
	put_chat(c, "911", "Ana", 0, ",vip,", 100);
	put_chat(c, "912", "Bo", 3, "", 300);
	put_chat(c, "913", "Cy 100%", 1, ",vip,billing,", 200);
	put_chat(c, "914", "Di", 0, ",billing,", 300);
	assert_int_equal(cache_chat_count(c, NULL), 4);
	struct cache_chat *v;
	size_t n;
	assert_int_equal(cache_chat_page(c, NULL, 0, 10, &v, &n, NULL), 0);
	assert_int_equal(n, 4);
	/* Newest first, ties by phone. */
	assert_string_equal(v[0].phone, "912");
	assert_string_equal(v[1].phone, "914");
	assert_string_equal(v[2].phone, "913");
	assert_string_equal(v[3].phone, "911");
	assert_string_equal(v[2].tags, ",vip,billing,");
	cache_chats_free(v, n);
	/* Paging. */
	assert_int_equal(cache_chat_page(c, NULL, 2, 1, &v, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].phone, "913");
	cache_chats_free(v, n);
	/* Status filter. */
	struct cache_filter f = { .status = 0 };
	assert_int_equal(cache_chat_count(c, &f), 2);
	/* Tag filter: exact tag, not a substring of another. */
	f.status = -1;
	f.tag = "vip";
	assert_int_equal(cache_chat_count(c, &f), 2);
	f.tag = "bill";
	assert_int_equal(cache_chat_count(c, &f), 0);
	f.tag = "billing";
	f.status = 0;
	assert_int_equal(cache_chat_page(c, &f, 0, 10, &v, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].phone, "914");
	cache_chats_free(v, n);
	/* Search: name, phone, case-insensitive, wildcards literal. */
	struct cache_filter s = { .status = -1, .search = "ana" };
	assert_int_equal(cache_chat_count(c, &s), 1);
	s.search = "91";
	assert_int_equal(cache_chat_count(c, &s), 4);
	s.search = "100%";
	assert_int_equal(cache_chat_count(c, &s), 1);
	s.search = "_";
	assert_int_equal(cache_chat_count(c, &s), 0);
	/* Index of a chat in the order. */
	assert_int_equal(cache_chat_index(c, NULL, "913"), 2);
	assert_int_equal(cache_chat_index(c, NULL, "912"), 0);
	f.status = -1;
	f.tag = "vip";
	assert_int_equal(cache_chat_index(c, &f, "911"), 1);
	assert_int_equal(cache_chat_index(c, NULL, "000"), -1);
	/* New activity floats a chat up. */
	put_chat(c, "911", "Ana", 0, ",vip,", 400);
	assert_int_equal(cache_chat_index(c, NULL, "911"), 0);
	struct cache_chat one;
	assert_int_equal(cache_chat_get(c, "911", &one, NULL), 0);
	assert_string_equal(one.name, "Ana");
	cache_chat_release(&one);
	assert_int_equal(cache_chat_get(c, "000", &one, NULL), 1);
	cache_close(c);
}

static void
put_msg(struct cache *c, const char *id, const char *phone, int out, const char *state, int64_t t)
{
	struct cache_msg m = { .id = (char *)id, .phone = (char *)phone, .out = out,
		.type = (char *)"text", .text = (char *)id, .state = (char *)state,
		.reason = (char *)"", .agent = (char *)(out ? "ana" : ""), .time = t };
	assert_int_equal(cache_msg_put(c, &m, NULL), 0);
}

static void
test_messages(void **state)
{
	(void)state;
	struct cache *c = open_mem();
	for (int i = 0; i < 25; i++) {
		char id[16];
		snprintf(id, sizeof id, "m%02d", i);
		put_msg(c, id, i % 2 ? "911" : "912", i % 3 == 0, i % 3 == 0 ? "sent" : "", 1000 + i);
	}
	assert_int_equal(cache_msg_count(c, "911"), 12);
	struct cache_msg *v;
	size_t n;
	assert_int_equal(cache_msg_page(c, "912", 0, 5, &v, &n, NULL), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[0].id, "m16");   /* oldest first of the newest five */
	assert_string_equal(v[4].id, "m24");
	int64_t before = v[0].seq;
	cache_msgs_free(v, n);
	assert_int_equal(cache_msg_page(c, "912", before, 100, &v, &n, NULL), 0);
	assert_int_equal(n, 8);
	assert_string_equal(v[7].id, "m14");
	cache_msgs_free(v, n);
	/* States only move forward; failed is final; a duplicate changes nothing. */
	assert_int_equal(cache_msg_state(c, "m00", "read", "", NULL), 0);
	assert_int_equal(cache_msg_state(c, "m00", "delivered", "", NULL), 0);
	put_msg(c, "m00", "912", 1, "sent", 1000);
	struct cache_msg m;
	assert_int_equal(cache_msg_get(c, "m00", &m, NULL), 0);
	assert_string_equal(m.state, "read");
	cache_msg_release(&m);
	assert_int_equal(cache_msg_state(c, "m03", "failed", "window closed", NULL), 0);
	assert_int_equal(cache_msg_state(c, "m03", "read", "", NULL), 0);
	assert_int_equal(cache_msg_get(c, "m03", &m, NULL), 0);
	assert_string_equal(m.state, "failed");
	assert_string_equal(m.reason, "window closed");
	cache_msg_release(&m);
	assert_int_equal(cache_msg_count(c, "912"), 13);
	assert_int_equal(cache_state_rank("queued"), 0);
	assert_int_equal(cache_state_rank("bogus"), -1);
	cache_close(c);
}

struct walk { int outs, ins; int64_t last; };

static void
walk_fn(void *arg, int out, int64_t t)
{
	struct walk *w = arg;
	assert_true(t >= w->last);
	w->last = t;
	if (out)
		w->outs++;
	else
		w->ins++;
}

static void
test_agent_sends(void **state)
{
	(void)state;
	struct cache *c = open_mem();
	put_msg(c, "a", "911", 0, "", 100);
	put_msg(c, "b", "911", 1, "sent", 110);
	put_msg(c, "c", "912", 1, "sent", 120);
	put_msg(c, "d", "912", 0, "", 130);
	put_msg(c, "e", "911", 1, "sent", 10);  /* before since */
	struct walk w = {0};
	assert_int_equal(cache_customer_sends(c, "ana", "911", 50, walk_fn, &w, NULL), 0);
	assert_int_equal(w.outs, 1);
	assert_int_equal(w.ins, 1);
	assert_int_equal(cache_agent_count(c, "ana", 50), 2);
	assert_int_equal(cache_agent_count(c, "ana", 0), 3);
	assert_int_equal(cache_agent_count(c, "bob", 0), 0);
	assert_int_equal(cache_agent_nth_newest(c, "ana", 1), 120);
	assert_int_equal(cache_agent_nth_newest(c, "ana", 3), 10);
	assert_int_equal(cache_agent_nth_newest(c, "ana", 4), 0);
	cache_close(c);
}

static void
test_meta_canned_templates(void **state)
{
	(void)state;
	struct cache *c = open_mem();
	assert_int_equal(cache_last_event(c), 0);
	assert_int_equal(cache_begin(c, NULL), 0);
	assert_int_equal(cache_set_last_event(c, 42, NULL), 0);
	assert_int_equal(cache_commit(c, NULL), 0);
	assert_int_equal(cache_last_event(c), 42);
	assert_null(cache_meta_get(c, "hub_id"));
	assert_int_equal(cache_meta_set(c, "hub_id", "h1", NULL), 0);
	char *v = cache_meta_get(c, "hub_id");
	assert_string_equal(v, "h1");
	free(v);
	assert_int_equal(cache_canned_put(c, "thanks", "Thank you {{name}}!", NULL), 0);
	assert_int_equal(cache_canned_put(c, "hi", "Hello", NULL), 0);
	char **names, **bodies;
	size_t n;
	assert_int_equal(cache_canned_list(c, &names, &bodies, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "hi");
	assert_string_equal(bodies[1], "Thank you {{name}}!");
	cache_strv_free(names, n);
	cache_strv_free(bodies, n);
	assert_int_equal(cache_canned_rm(c, "hi", NULL), 0);
	assert_int_equal(cache_canned_list(c, &names, &bodies, &n, NULL), 0);
	assert_int_equal(n, 1);
	cache_strv_free(names, n);
	cache_strv_free(bodies, n);
	char **ids;
	assert_int_equal(cache_template_put(c, "t1", "order", "Your order {{1}} shipped", NULL), 0);
	assert_int_equal(cache_template_list(c, &ids, &names, &bodies, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "t1");
	cache_strv_free(ids, n);
	cache_strv_free(names, n);
	cache_strv_free(bodies, n);
	assert_int_equal(cache_template_clear(c, NULL), 0);
	cache_close(c);
	char *cause = NULL;
	assert_int_equal(cache_open("/nonexistent/dir/x.db", &c, &cause), -1);
	assert_non_null(strstr(cause, "cannot open cache '/nonexistent/dir/x.db'"));
	free(cause);
}

/*
 * Two processes on one cache file (the console open while `wadesk tail`
 * runs): each applies events the way console_session does (begin, read
 * last_event, write, set last_event, commit).  Every transaction must
 * succeed (no "database is locked") and none may be lost.
 */
#define RACE_TXNS 300

static int
race_child(const char *path, int who)
{
	struct cache *c;
	char *cause = NULL;
	if (cache_open(path, &c, &cause) != 0) {
		fprintf(stderr, "child %d: %s\n", who, cause);
		return 1;
	}
	for (int i = 0; i < RACE_TXNS; i++) {
		char id[32], key[32];
		snprintf(id, sizeof id, "m%d.%d", who, i);
		snprintf(key, sizeof key, "k%d", who);
		struct cache_msg m = { .id = id, .phone = (char *)"911", .type = (char *)"text",
			.text = (char *)"hi", .state = (char *)"", .reason = (char *)"",
			.agent = (char *)"", .time = 100 + i };
		if (cache_begin(c, &cause) != 0)
			goto fail;
		int64_t n = cache_last_event(c);
		if (cache_msg_put(c, &m, &cause) != 0 || cache_meta_set(c, key, id, &cause) != 0 ||
		    cache_set_last_event(c, n + 1, &cause) != 0 || cache_commit(c, &cause) != 0) {
			cache_rollback(c);
			goto fail;
		}
	}
	cache_close(c);
	return 0;
fail:
	fprintf(stderr, "child %d: %s\n", who, cause);
	free(cause);
	cache_close(c);
	return 1;
}

static void
test_two_writers(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_store_cache.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/hub.db", dir);
	struct cache *c;
	assert_int_equal(cache_open(path, &c, NULL), 0);   /* creates it first */
	pid_t pid[2];
	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0)
			_exit(race_child(path, k));
	}
	for (int k = 0; k < 2; k++) {
		int st;
		assert_int_equal(waitpid(pid[k], &st, 0), pid[k]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(cache_last_event(c), 2 * RACE_TXNS);
	assert_int_equal(cache_msg_count(c, "911"), 2 * RACE_TXNS);
	cache_close(c);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

/* Media fields survive a put/get, a page, and an update in place. */
static void
test_media(void **state)
{
	(void)state;
	struct cache *c = open_mem();
	struct cache_msg m = { .id = (char *)"7", .phone = (char *)"911", .type = (char *)"file",
		.text = (char *)"", .time = 100, .media_mime = (char *)"application/pdf",
		.media_name = (char *)"../../.bashrc", .media_caption = (char *)"the invoice",
		.media_state = (char *)"pending", .media_error = (char *)"HTTP 503 (attempt 1)" };
	assert_int_equal(cache_msg_put(c, &m, NULL), 0);
	struct cache_msg t = { .id = (char *)"8", .phone = (char *)"911", .type = (char *)"text",
		.text = (char *)"hello", .time = 101 };
	assert_int_equal(cache_msg_put(c, &t, NULL), 0);
	struct cache_msg g;
	assert_int_equal(cache_msg_get(c, "7", &g, NULL), 0);
	assert_string_equal(g.media_mime, "application/pdf");
	assert_string_equal(g.media_name, "../../.bashrc");
	assert_string_equal(g.media_caption, "the invoice");
	assert_string_equal(g.media_state, "pending");
	assert_string_equal(g.media_error, "HTTP 503 (attempt 1)");
	assert_string_equal(g.media_sha256, "");
	assert_int_equal(g.media_size, 0);
	cache_msg_release(&g);
	/* The hub's next event: stored. */
	m.media_state = (char *)"ready";
	m.media_error = (char *)"";
	m.media_size = 1234;
	m.media_sha256 = (char *)"ab12";
	assert_int_equal(cache_msg_put(c, &m, NULL), 0);
	struct cache_msg *v;
	size_t n;
	assert_int_equal(cache_msg_page(c, "911", 0, 10, &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "7");
	assert_string_equal(v[0].media_state, "ready");
	assert_int_equal(v[0].media_size, 1234);
	assert_string_equal(v[0].media_sha256, "ab12");
	assert_string_equal(v[1].media_mime, "");
	cache_msgs_free(v, n);
	/* Stepping between media messages skips text. */
	assert_int_equal(cache_msg_media_step(c, "911", 0, -1, &g, NULL), 0);
	assert_string_equal(g.id, "7");
	int64_t seq = g.seq;
	cache_msg_release(&g);
	assert_int_equal(cache_msg_media_step(c, "911", seq, -1, &g, NULL), 1);
	assert_int_equal(cache_msg_media_step(c, "911", seq, 1, &g, NULL), 1);
	assert_int_equal(cache_msg_media_step(c, "911", seq - 1, 1, &g, NULL), 0);
	assert_string_equal(g.id, "7");
	cache_msg_release(&g);
	cache_close(c);
}

/* A file from before the media columns is migrated on open and keeps its rows. */
static void
test_migration(void **state)
{
	(void)state;
	char path[] = "/tmp/wadesk-cache-test.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	char *cmd = xasprintf("sqlite3 '%s' \"CREATE TABLE messages(seq INTEGER PRIMARY KEY,"
	    " id TEXT NOT NULL UNIQUE, phone TEXT NOT NULL, out INTEGER NOT NULL, type TEXT NOT NULL"
	    " DEFAULT 'text', text TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '',"
	    " reason TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL DEFAULT '', time INTEGER NOT NULL,"
	    " automated INTEGER NOT NULL DEFAULT 0);"
	    " INSERT INTO messages(id, phone, out, text, time) VALUES ('1', '911', 0, 'old', 5);\"", path);
	int rc = system(cmd);
	free(cmd);
	if (rc != 0) {
		unlink(path);
		skip();
	}
	struct cache *c;
	char *cause = NULL;
	assert_int_equal(cache_open(path, &c, &cause), 0);
	struct cache_msg g;
	assert_int_equal(cache_msg_get(c, "1", &g, NULL), 0);
	assert_string_equal(g.text, "old");
	assert_string_equal(g.media_mime, "");
	cache_msg_release(&g);
	cache_close(c);
	/* Opening again runs nothing twice. */
	assert_int_equal(cache_open(path, &c, &cause), 0);
	cache_close(c);
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	unlink(path);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chat_order_filter),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_agent_sends),
		cmocka_unit_test(test_meta_canned_templates),
		cmocka_unit_test(test_two_writers),
		cmocka_unit_test(test_media),
		cmocka_unit_test(test_migration),
	};
	return cmocka_run_group_tests_name("store_cache", tests, NULL, NULL);
}
