/*
 * Unit tests for store.c: schema and migration by user_version, the
 * constraints (provider-id dedup, forward-only states enforced by the
 * schema), savepoints inside a group commit, events, outbox, tokens.
 * Also the SHA-256 vectors (the token hash).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "sha256.h"
#include "store.h"
#include "util.h"
#include "slurp.h"

static char dbpath[64];

static int
setup(void **state)
{
	char dir[] = "/tmp/wadesk-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
	struct store *st;
	char *cause = NULL;
	struct store_options o = { 1, 0 };
	if (store_open(dbpath, 1, &o, &st, &cause) != 0)
		fail_msg("%s", cause);
	*state = st;
	return 0;
}

static int
teardown(void **state)
{
	store_close(*state);
	char *dir = xstrdup(dbpath);
	*strrchr(dir, '/') = 0;
	remove_db(dir, dbpath);
	free(dir);
	return 0;
}

static int64_t
insert(struct store *st, const char *phone, int out, const char *provider_id)
{
	struct store_message m = {0};
	int64_t id = -1;
	char *cause = NULL;
	m.phone = (char *)phone;
	m.out = out;
	m.type = (char *)"text";
	m.text = (char *)"hello";
	m.time = 1000;
	m.provider_id = (char *)provider_id;
	int rc = store_message_insert(st, &m, &id, &cause);
	if (rc < 0)
		fail_msg("%s", cause);
	return rc == 1 ? id : 0;
}

static void
test_schema(void **state)
{
	struct store *st = *state;
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	/* A new database has 2 KiB pages (store_open_upto says why). */
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 2048);
	sqlite3_finalize(q);
	sqlite3_close(db);
	/* Reopening does not migrate again; a newer schema is refused. */
	struct store *st2;
	char *cause = NULL;
	assert_int_equal(store_open(dbpath, 0, NULL, &st2, &cause), 0);
	assert_int_equal(store_schema_version(st2), STORE_SCHEMA_VERSION);
	store_close(st2);
	/* Missing file without create is an error naming the file. */
	assert_int_equal(store_open("/nonexistent/dir/x.db", 0, NULL, &st2, &cause), -1);
	assert_non_null(strstr(cause, "/nonexistent/dir/x.db"));
	free(cause);
}

static void
test_dedup(void **state)
{
	struct store *st = *state;
	int64_t a = insert(st, "919800000001", 0, "wamid.1");
	assert_true(a > 0);
	assert_int_equal(insert(st, "919800000001", 0, "wamid.1"), 0);  /* duplicate ignored */
	assert_true(insert(st, "919800000001", 0, "wamid.2") > a);
	assert_int_equal(store_message_count(st), 2);
	struct store_message m;
	char *cause = NULL;
	assert_int_equal(store_message_by_provider(st, "wamid.2", NULL, &m, &cause), 1);
	assert_string_equal(m.phone, "919800000001");
	store_message_release(&m);
	assert_int_equal(store_message_by_provider(st, "nope", NULL, &m, &cause), 0);
}

static void
test_forward_only(void **state)
{
	struct store *st = *state;
	char *cause = NULL;
	static const struct { int to; int changed; int after; } rows[] = {
		{ ST_SUBMITTED, 1, ST_SUBMITTED },
		{ ST_DELIVERED, 1, ST_DELIVERED },
		{ ST_SENT, 0, ST_DELIVERED },         /* late "sent" never undoes delivered */
		{ ST_DELIVERED, 0, ST_DELIVERED },    /* twice */
		{ ST_FAILED, 0, ST_DELIVERED },       /* failed cannot follow delivered */
		{ ST_READ, 1, ST_READ },
		{ ST_QUEUED, 0, ST_READ },
	};
	int64_t id = insert(st, "919800000002", 1, NULL);
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		int rc = store_message_set_state(st, id, rows[i].to, "why", &cause);
		assert_int_equal(rc, rows[i].changed);
		struct store_message m;
		assert_int_equal(store_message_get(st, id, &m, &cause), 1);
		assert_int_equal(m.state, rows[i].after);
		store_message_release(&m);
	}
	/* failed is final */
	int64_t id2 = insert(st, "919800000002", 1, NULL);
	assert_int_equal(store_message_set_state(st, id2, ST_FAILED, "bad number", &cause), 1);
	assert_int_equal(store_message_set_state(st, id2, ST_READ, NULL, &cause), 0);
	struct store_message m;
	assert_int_equal(store_message_get(st, id2, &m, &cause), 1);
	assert_int_equal(m.state, ST_FAILED);
	assert_string_equal(m.reason, "bad number");
	store_message_release(&m);
	assert_int_equal(store_state_parse("delivered"), ST_DELIVERED);
	assert_string_equal(store_state_name(ST_READ), "read");
	assert_int_equal(store_state_parse("bounced"), -1);
}

static void
test_savepoints(void **state)
{
	struct store *st = *state;
	char *cause = NULL;
	assert_int_equal(store_begin(st, &cause), 0);
	assert_int_equal(store_savepoint(st, &cause), 0);
	insert(st, "919800000003", 0, "sp.1");
	store_release(st);
	assert_int_equal(store_savepoint(st, &cause), 0);
	insert(st, "919800000003", 0, "sp.2");
	store_rollback_to(st);            /* this webhook alone is undone */
	assert_int_equal(store_commit(st, &cause), 0);
	struct store_message m;
	assert_int_equal(store_message_by_provider(st, "sp.1", NULL, &m, &cause), 1);
	store_message_release(&m);
	assert_int_equal(store_message_by_provider(st, "sp.2", NULL, &m, &cause), 0);
	/* a rolled back transaction leaves nothing */
	assert_int_equal(store_begin(st, &cause), 0);
	insert(st, "919800000003", 0, "sp.3");
	store_rollback(st);
	assert_int_equal(store_message_by_provider(st, "sp.3", NULL, &m, &cause), 0);
}

static void
test_contacts_tags(void **state)
{
	struct store *st = *state;
	char *cause = NULL;
	struct store_contact c = {0}, r;
	c.phone = (char *)"919800000004";
	c.name = (char *)"Asha";
	c.status = 0;
	c.last_inbound = 77;
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 0);
	assert_int_equal(store_contact_put(st, &c, &cause), 0);
	assert_int_equal(store_tag_add(st, c.phone, "vip", &cause), 1);
	assert_int_equal(store_tag_add(st, c.phone, "vip", &cause), 0);
	assert_int_equal(store_tag_add(st, c.phone, "b", &cause), 1);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_string_equal(r.name, "Asha");
	assert_int_equal(r.last_inbound, 77);
	assert_int_equal(r.ntags, 2);
	assert_string_equal(r.tags[0], "b");
	store_contact_release(&r);
	assert_int_equal(store_tag_rm(st, c.phone, "vip", &cause), 1);
	assert_int_equal(store_tag_rm(st, c.phone, "vip", &cause), 0);
	/* tags need a contact (foreign key) */
	assert_int_equal(store_tag_add(st, "nobody", "x", &cause), -1);
	free(cause);
	char **phones;
	size_t n;
	assert_int_equal(store_contacts_with_status(st, 1u << 0, &phones, &n, &cause), 0);
	assert_int_equal(n, 1);
	free(phones[0]);
	free(phones);
}

/* The contact cache never shows what the database does not hold: writes
 * through the store, tag changes, rollbacks and another connection's
 * commits are all seen by the next read. */
static void
test_contact_cache(void **state)
{
	struct store *st = *state;
	char *cause = NULL;
	struct store_contact c = {0}, r;
	c.phone = (char *)"919800000005";
	c.name = (char *)"Asha";
	c.last_inbound = 10;
	assert_int_equal(store_contact_put(st, &c, &cause), 0);
	assert_int_equal(store_tag_add(st, c.phone, "vip", &cause), 1);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);     /* cached now */
	store_contact_release(&r);
	/* A write through the store: the cached copy follows, tags kept. */
	c.last_inbound = 20;
	c.name = (char *)"Asha K";
	assert_int_equal(store_contact_put(st, &c, &cause), 0);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_string_equal(r.name, "Asha K");
	assert_int_equal(r.last_inbound, 20);
	assert_int_equal(r.ntags, 1);
	store_contact_release(&r);
	/* A tag change. */
	assert_int_equal(store_tag_add(st, c.phone, "late", &cause), 1);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_int_equal(r.ntags, 2);
	store_contact_release(&r);
	/* A rolled-back transaction and a rolled-back savepoint. */
	assert_int_equal(store_begin(st, &cause), 0);
	c.last_inbound = 30;
	assert_int_equal(store_contact_put(st, &c, &cause), 0);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_int_equal(r.last_inbound, 30);                               /* its own write */
	store_contact_release(&r);
	store_rollback(st);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_int_equal(r.last_inbound, 20);
	store_contact_release(&r);
	assert_int_equal(store_begin(st, &cause), 0);
	assert_int_equal(store_savepoint(st, &cause), 0);
	c.last_inbound = 40;
	assert_int_equal(store_contact_put(st, &c, &cause), 0);
	store_rollback_to(st);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_int_equal(r.last_inbound, 20);
	store_contact_release(&r);
	assert_int_equal(store_commit(st, &cause), 0);
	/* store_contact_touch(): the row keeps its last_inbound; a read gives
	 * the newest inbound message's time when that is later, cached or not.
	 * Outbound messages do not count, older inbound ones do not lower it. */
	struct store_message in = {0};
	int64_t mid;
	in.phone = c.phone;
	in.type = (char *)"text";
	in.text = (char *)"later";
	in.time = 70;
	in.provider_id = (char *)"touch-in";
	assert_int_equal(store_message_insert(st, &in, &mid, &cause), 1);
	store_contact_touch(st, c.phone, 70);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_int_equal(r.last_inbound, 70);
	store_contact_release(&r);
	in.out = 1;
	in.time = 90;
	in.provider_id = (char *)"touch-out";
	assert_int_equal(store_message_insert(st, &in, &mid, &cause), 1);
	assert_int_equal(store_tag_rm(st, c.phone, "late", &cause), 1);        /* empties the cache */
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_int_equal(r.last_inbound, 70);
	store_contact_release(&r);
	char *row = NULL;
	{
		sqlite3 *ro;
		assert_int_equal(sqlite3_open(dbpath, &ro), SQLITE_OK);
		sqlite3_stmt *q;
		assert_int_equal(sqlite3_prepare_v2(ro, "SELECT last_inbound FROM contacts WHERE phone ="
		                                        " '919800000005'", -1, &q, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		row = xasprintf("%lld", (long long)sqlite3_column_int64(q, 0));
		sqlite3_finalize(q);
		sqlite3_close(ro);
	}
	assert_string_equal(row, "20");                   /* the row was not written */
	free(row);

	/* Another connection's commit, seen outside and inside a transaction. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, "UPDATE contacts SET name = 'Other' WHERE phone = "
	                                  "'919800000005'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_string_equal(r.name, "Other");
	store_contact_release(&r);
	assert_int_equal(sqlite3_exec(db, "UPDATE contacts SET last_inbound = 80 WHERE phone = "
	                                  "'919800000005'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_begin(st, &cause), 0);
	assert_int_equal(store_contact_get(st, c.phone, &r, &cause), 1);
	assert_int_equal(r.last_inbound, 80);
	store_contact_release(&r);
	assert_int_equal(store_commit(st, &cause), 0);
	sqlite3_close(db);
}

/* Offloaded checkpoints: the COMMIT that crosses the mark only flags one,
 * store_checkpoint() (another thread in the hub) copies the log into the
 * database through its own connection. */
static void
checkpoint_offload(int sync_full)
{
	char dir[] = "/tmp/wadesk-ckpt-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/t.db", dir);
	struct store *st;
	char *cause = NULL;
	struct store_options o = { sync_full, 8 };
	if (store_open(path, 1, &o, &st, &cause) != 0)
		fail_msg("%s", cause);
	store_checkpoint_offload(st);
	assert_int_equal(store_checkpoint_due(st), 0);
	char *before = slurp(path, NULL), *after;
	int i;
	for (i = 0; i < 20 && !store_checkpoint_due(st); i++) {
		char id[16];
		snprintf(id, sizeof id, "ck%d", i);
		assert_int_equal(store_begin(st, &cause), 0);
		insert(st, "919800000001", 0, id);
		assert_int_equal(store_commit(st, &cause), 0);
	}
	assert_true(store_checkpoint_due(st));
	size_t n0, n1;
	free(before);
	before = slurp(path, &n0);
	after = slurp(path, &n1);
	assert_true(n0 == n1 && memcmp(before, after, n0) == 0);  /* nothing copied yet */
	free(after);
	assert_int_equal(store_checkpoint(st, &cause), 0);
	assert_int_equal(store_checkpoint_due(st), 0);
	after = slurp(path, &n1);
	assert_true(n0 != n1 || memcmp(before, after, n0) != 0);  /* the log went in */
	free(before);
	free(after);
	/* The next commit copies what came after (here: itself), so the one
	 * after that starts the log over instead of making it longer. */
	char *wal = xasprintf("%s-wal", path);
	struct stat w0, w1;
	for (int k = 0; k < 3; k++) {
		char id[16];
		snprintf(id, sizeof id, "tail%d", k);
		assert_int_equal(store_begin(st, &cause), 0);
		insert(st, "919800000001", 0, id);
		assert_int_equal(store_commit(st, &cause), 0);
		assert_int_equal(stat(wal, k == 0 ? &w0 : &w1), 0);
	}
	assert_int_equal(w1.st_size, w0.st_size);
	store_close(st);
	remove_db(dir, path);
	free(wal);
	free(path);
}

/* The thread a COMMIT is lent to (walsync's commit thread in the hub). */
static void *
commit_lent(void *arg)
{
	struct store *st = arg;
	char *cause = NULL;
	usleep(50 * 1000);               /* long enough for the reader to be waiting */
	int rc = store_commit_lent(st, &cause);
	free(cause);
	return (void *)(intptr_t)rc;
}

/* A deferred transaction's COMMIT lent to another thread: the connection
 * is out until that COMMIT returns, and any store call meanwhile (here a
 * read of the event log) waits for it, then sees the committed rows. */
static void
test_lend(void **state)
{
	struct store *st = *state;
	char *cause = NULL;
	assert_int_equal(store_lent(st), 0);
	for (int round = 1; round <= 3; round++) {
		assert_int_equal(store_begin_deferred(st, &cause), 0);
		assert_int_equal(store_event_append(st, round, 1, "{}", &cause), 0);
		store_lend(st);
		assert_int_equal(store_lent(st), 1);
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, commit_lent, st), 0);
		assert_int_equal(store_event_head(st), round);   /* waited for the COMMIT */
		assert_int_equal(store_lent(st), 0);
		void *rc;
		pthread_join(t, &rc);
		assert_int_equal((intptr_t)rc, 0);
	}
	/* Reclaiming a connection that is not lent returns at once. */
	store_reclaim(st);
	assert_int_equal(store_begin(st, &cause), 0);
	assert_int_equal(store_commit(st, &cause), 0);
}

static void
test_checkpoint_offload(void **state)
{
	(void)state;
	checkpoint_offload(1);
}

/* sync = normal hands its checkpoints over the same way. */
static void
test_checkpoint_offload_normal(void **state)
{
	(void)state;
	checkpoint_offload(0);
}

static void
test_events_outbox(void **state)
{
	struct store *st = *state;
	char *cause = NULL;
	assert_int_equal(store_event_head(st), 0);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(store_event_append(st, i, 100 + i, "{}", &cause), 0);
	assert_int_equal(store_event_append(st, 3, 1, "{}", &cause), -1);  /* n is unique */
	free(cause);
	assert_int_equal(store_event_head(st), 5);
	struct store_event *e;
	int n = store_events_after(st, 2, 2, &e, &cause);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].n, 3);
	assert_int_equal(e[1].n, 4);
	store_events_free(e, n);

	int64_t a = insert(st, "919800000005", 1, NULL), b = insert(st, "919800000005", 1, NULL);
	assert_int_equal(store_outbox_add(st, b, "919800000005", &cause), 0);
	assert_int_equal(store_outbox_add(st, a, "919800000005", &cause), 0);
	assert_int_equal(store_outbox_retry(st, a, 2, 5000, &cause), 0);
	struct store_outbox *o;
	n = store_outbox_all(st, &o, &cause);
	assert_int_equal(n, 2);
	assert_int_equal(o[0].msg_id, a);     /* message order */
	assert_int_equal(o[0].attempts, 2);
	store_outbox_free(o, n);
	assert_int_equal(store_outbox_done(st, a, &cause), 0);
	n = store_outbox_all(st, &o, &cause);
	assert_int_equal(n, 1);
	store_outbox_free(o, n);
}

static void
test_history_pending(void **state)
{
	struct store *st = *state;
	char *cause = NULL;
	int64_t ids[7];
	for (int i = 0; i < 7; i++)
		ids[i] = insert(st, "919800000006", i % 2, NULL);
	struct store_message *m;
	int more;
	int n = store_history(st, "919800000006", 0, 5, &m, &more, &cause);
	assert_int_equal(n, 5);
	assert_true(more);
	assert_int_equal(m[0].id, ids[2]);
	assert_int_equal(m[4].id, ids[6]);
	store_messages_free(m, n);
	n = store_history(st, "919800000006", ids[2], 5, &m, &more, &cause);
	assert_int_equal(n, 2);
	assert_false(more);
	store_messages_free(m, n);

	assert_int_equal(store_pending_state_add(st, "gs-1", ST_READ, NULL, &cause), 0);
	assert_int_equal(store_pending_state_add(st, "gs-1", ST_SENT, NULL, &cause), 0);
	struct store_pending *p;
	n = store_pending_state_take(st, "gs-1", &p, &cause);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].state, ST_SENT);
	for (int i = 0; i < n; i++)
		free(p[i].reason);
	free(p);
	n = store_pending_state_take(st, "gs-1", &p, &cause);
	assert_int_equal(n, 0);
	free(p);
}

static void
test_tokens_kv(void **state)
{
	struct store *st = *state;
	char *cause = NULL, *role;
	int64_t gen;
	char h[65];
	sha256_hex("secret-token", h);
	assert_int_equal(store_token_set(st, "admin", h, 1, &cause), 0);
	assert_int_equal(store_token_set(st, "root", "x", 1, &cause), -1);   /* CHECK role */
	free(cause);
	assert_int_equal(store_token_find(st, h, &role, &gen, &cause), 1);
	assert_string_equal(role, "admin");
	assert_int_equal(gen, 1);
	free(role);
	sha256_hex("other", h);
	assert_int_equal(store_token_find(st, h, &role, &gen, &cause), 0);

	assert_int_equal(store_canned_put(st, "thanks", "Thank you", &cause), 0);
	assert_int_equal(store_canned_put(st, "thanks", "Thanks!", &cause), 0);
	struct store_kv *kv;
	int n = store_canned_all(st, &kv, &cause);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].value, "Thanks!");
	store_kv_free(kv, n);
	assert_int_equal(store_canned_rm(st, "thanks", &cause), 1);
	assert_int_equal(store_canned_rm(st, "thanks", &cause), 0);
	assert_int_equal(store_template_put(st, "t1", "order", "Order {{1}}", &cause), 0);
	n = store_templates_all(st, &kv, &cause);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].extra, "Order {{1}}");
	store_kv_free(kv, n);
	assert_int_equal(store_setting_put(st, "timezone", "UTC", &cause), 0);
	assert_int_equal(store_meta_set_int(st, "gen", 7, &cause), 0);
	assert_int_equal(store_meta_int(st, "gen", 0), 7);
	assert_int_equal(store_meta_int(st, "absent", 42), 42);
}

static void
test_sha256(void **state)
{
	(void)state;
	static const struct { const char *in; const char *hex; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char out[65];
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		sha256_hex(v[i].in, out);
		assert_string_equal(out, v[i].hex);
	}
	/* a million 'a's, fed in odd-sized pieces */
	struct sha256 c;
	unsigned char d[32];
	char a[997];
	memset(a, 'a', sizeof a);
	sha256_init(&c);
	size_t left = 1000000;
	while (left) {
		size_t k = left < sizeof a ? left : sizeof a;
		sha256_update(&c, a, k);
		left -= k;
	}
	sha256_final(&c, d);
	hex_encode(d, 32, out);
	assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* A version-1 database (before media) upgrades in place: its inbound
 * media become pending downloads, its other rows are untouched. */
static void
test_migrate_media(void **state)
{
	(void)state;
	char dir[] = "/tmp/wadesk-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/old.db", dir), *cause = NULL;
	struct store *st;
	struct store_options o = { 1, 0 };
	if (store_open_upto(path, 1, &o, 1, &st, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(store_schema_version(st), 1);
	store_close(st);

	/* What a version-1 hub wrote: one inbound image, one text. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO messages (phone, out, type, text, time, provider_id, media_mime,"
	    " media_url, media_filename) VALUES ('919800000001', 0, 'image', 'look', 50,"
	    " 'w1', 'image/png', 'http://x/a.png', 'a.png');"
	    "INSERT INTO messages (phone, out, type, text, time, provider_id)"
	    " VALUES ('919800000001', 0, 'text', 'hi', 51, 'w2');", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	if (store_open(path, 0, NULL, &st, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	struct store_message m;
	assert_int_equal(store_message_by_provider(st, "w1", NULL, &m, &cause), 1);
	assert_string_equal(m.media_state, "pending");
	assert_null(m.media_sha256);
	assert_string_equal(m.media_url, "http://x/a.png");
	int64_t id1 = m.id;
	store_message_release(&m);
	assert_int_equal(store_message_by_provider(st, "w2", NULL, &m, &cause), 1);
	assert_null(m.media_state);
	assert_string_equal(m.text, "hi");
	store_message_release(&m);
	struct store_media_job *j;
	assert_int_equal(store_media_jobs_all(st, &j, &cause), 1);
	assert_int_equal(j[0].msg_id, id1);
	assert_string_equal(j[0].url, "http://x/a.png");
	assert_string_equal(j[0].mime, "image/png");
	assert_int_equal(j[0].created, 50);
	store_media_jobs_free(j, 1);
	store_close(st);
	remove_db(dir, path);
	free(path);
}

/* Every row that sql returns, each column as its storage class and text,
 * one line per row: what two snapshots of a database compare. */
static void
dump(struct buf *b, sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	buf_printf(b, "-- %s\n", sql);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(s); i++) {
			int type = sqlite3_column_type(s, i);   /* before any conversion */
			const unsigned char *v = sqlite3_column_text(s, i);
			buf_printf(b, "%s%d:%s", i ? "|" : "", type, v ? (const char *)v : "");
		}
		buf_putc(b, '\n');
	}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(s);
}

/* Rows, ids, columns, indexes (named and automatic, with their
 * columns), triggers and foreign keys: everything but the text of the
 * messages table itself. */
static char *
snapshot(sqlite3 *db)
{
	static const char *const q[] = {
		"SELECT * FROM messages ORDER BY id",
		"SELECT * FROM outbox ORDER BY msg_id",
		"SELECT * FROM media_jobs ORDER BY msg_id",
		"SELECT * FROM media ORDER BY sha256",
		"SELECT * FROM contacts ORDER BY phone",
		"SELECT * FROM tags ORDER BY phone, tag",
		"SELECT type, name, tbl_name, sql FROM sqlite_schema"
		" WHERE name NOT IN ('messages', 'messages_cid', 'sqlite_autoindex_messages_2')"
		" ORDER BY type, name",
		"SELECT * FROM pragma_table_xinfo('messages')",
		"SELECT l.name, l.\"unique\", l.origin, l.partial, x.seqno, x.cid, x.name,"
		" x.\"desc\", x.coll, x.key FROM pragma_index_list('messages') l,"
		" pragma_index_xinfo(l.name) x"
		" WHERE l.name NOT IN ('sqlite_autoindex_messages_2', 'messages_cid')"
		" ORDER BY l.name, x.seqno",
		"SELECT m.name, f.* FROM sqlite_schema m, pragma_foreign_key_list(m.name) f"
		" WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
	};
	struct buf b = {0};
	for (size_t i = 0; i < ARRAY_LEN(q); i++)
		dump(&b, db, q[i]);
	return buf_steal(&b);
}

static char *
query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	char *v = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		v = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v;
}

/* How many OpenEphemeral opcodes the program of sql has. */
static int
ephemeral_ops(sqlite3 *db, const char *sql)
{
	char *explain = xasprintf("EXPLAIN %s", sql);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, explain, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", explain, sqlite3_errmsg(db));
	int n = 0;
	while (sqlite3_step(s) == SQLITE_ROW)
		n += strcmp((const char *)sqlite3_column_text(s, 1), "OpenEphemeral") == 0;
	sqlite3_finalize(s);
	free(explain);
	return n;
}

/* A database at version 2 with every kind of message row. */
static char *
make_v2(char *dir)
{
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/v2.db", dir), *cause = NULL;
	struct store *st;
	struct store_options o = { 1, 0 };
	if (store_open_upto(path, 1, &o, 2, &st, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(store_schema_version(st), 2);
	store_close(st);

	sqlite3 *db;
	char *err = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db,
	    "PRAGMA foreign_keys=ON;"
	    "INSERT INTO contacts (phone, name, opted_in, last_inbound, status)"
	    " VALUES ('919800000001', 'Asha', 1, 52, 1);"
	    "INSERT INTO tags VALUES ('919800000001', 'vip');"
	    /* inbound: a pending download, a stored file, plain text */
	    "INSERT INTO messages (id, phone, out, type, text, time, provider_id, wa_id,"
	    " media_mime, media_url, media_filename, payload, media_state, media_error)"
	    " VALUES (10, '919800000001', 0, 'image', 'look', 50, 'w1', 'wa1', 'image/png',"
	    " 'http://x/a.png', 'a.png', '{\"p\":1}', 'pending', 'not downloaded yet');"
	    "INSERT INTO messages (id, phone, out, type, text, time, provider_id, media_mime,"
	    " media_url, media_filename, media_sha256, media_size, media_state)"
	    " VALUES (11, '919800000001', 0, 'document', '', 51, 'w2', 'application/pdf',"
	    " '/v1/media/" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "', 'b.pdf', '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',"
	    " 1234, 'ready');"
	    "INSERT INTO messages (id, phone, out, type, text, time, provider_id)"
	    " VALUES (12, '919800000001', 0, 'text', 'hi', 52, 'w3');"
	    /* outbound: a template with params and media, a refused one */
	    "INSERT INTO messages (id, phone, out, type, text, state, agent, time,"
	    " template_id, params, provider_id, cid, media_mime, media_url, media_sha256,"
	    " media_size, media_state)"
	    " VALUES (20, '919800000001', 1, 'image', 'caption', 2, 'ravi', 60, 'tpl1',"
	    " 'a' || char(31) || 'b', 'gs20', 'c1', 'application/pdf', '/v1/media/x',"
	    " '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 1234,"
	    " 'ready');"
	    "INSERT INTO messages (id, phone, out, type, text, state, reason, agent,"
	    " automated, time, cid, media_state, media_error, media_code)"
	    " VALUES (21, '919800000001', 1, 'document', '', 5, 'is an ELF executable',"
	    " 'ravi', 1, 61, 'c2', 'refused', 'is an ELF executable', 'media.type');"
	    "INSERT INTO outbox (msg_id, phone, attempts, next_try)"
	    " VALUES (20, '919800000001', 2, 7000);"
	    "INSERT INTO media_jobs (msg_id, url, mime, attempts, next_try, created, error)"
	    " VALUES (10, 'http://x/a.png', 'image/png', 1, 9000, 50, 'HTTP 503');"
	    "INSERT INTO media (sha256, mime, size, created) VALUES"
	    " ('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',"
	    " 'application/pdf', 1234, 51);", NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s", err);
	sqlite3_close(db);
	return path;
}

/* Any insert runs every CHECK of the table. */
#define INSERT_MESSAGE "INSERT INTO messages (phone, out, type, text, time, media_state)" \
	" VALUES ('919800000009', 0, 'text', 'x', 1, ?)"

/* 2 -> 3 rebuilds messages with media_state's CHECK as equalities: the
 * same table, rows, ids, indexes, trigger and foreign keys, but for
 * (agent, cid)'s uniqueness, now a partial index; inserts no longer open
 * an ephemeral b-tree; the constraints still hold. */
static void
test_migrate_check(void **state)
{
	(void)state;
	char dir[] = "/tmp/wadesk-store-XXXXXX";
	char *path = make_v2(dir), *cause = NULL;

	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *before = snapshot(db);
	char *sql = query_text(db, "SELECT sql FROM sqlite_schema WHERE name = 'messages'");
	assert_non_null(strstr(sql, "media_state IN ('pending','ready','refused')"));
	free(sql);
	assert_true(ephemeral_ops(db, INSERT_MESSAGE) > 0);   /* what 3 removes */
	sqlite3_close(db);

	struct store *st;
	if (store_open(path, 0, NULL, &st, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(store_schema_version(st), 3);
	assert_int_equal(STORE_SCHEMA_VERSION, 3);
	/* Foreign keys are on again on the connection that migrated. */
	assert_int_equal(store_outbox_add(st, 999, "919800000001", &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_media_job_add(st, 999, "http://x/b", NULL, 1, &cause), -1);
	free(cause);
	cause = NULL;
	store_close(st);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *after = snapshot(db);
	assert_string_equal(after, before);
	assert_non_null(strstr(after, "3:trigger|3:messages_state_forward|3:messages|"));
	for (const char *const *ix = (const char *const[]){ "messages_phone", "messages_wa",
	         "messages_time", "messages_media", "sqlite_autoindex_messages_1",
	         NULL }; *ix; ix++) {
		char *want = xasprintf("3:index|3:%s|3:messages|", *ix);
		assert_non_null(strstr(after, want));
		free(want);
	}
	sql = query_text(db, "SELECT sql FROM sqlite_schema WHERE name = 'messages'");
	assert_non_null(strstr(sql, "CHECK (media_state = 'pending' OR media_state = 'ready'"));
	assert_null(strstr(sql, " IN ('pending'"));
	assert_null(strstr(sql, "UNIQUE (agent, cid)"));
	free(sql);
	/* (agent, cid) is unique where there is a client id, and a lookup
	 * by it uses the partial index. */
	assert_null(query_text(db, "SELECT name FROM pragma_index_list('messages')"
	                           " WHERE name = 'sqlite_autoindex_messages_2'"));
	sql = query_text(db, "SELECT l.\"unique\" || l.partial || group_concat(x.name, ',')"
	                     " FROM pragma_index_list('messages') l, pragma_index_info(l.name) x"
	                     " WHERE l.name = 'messages_cid'");
	assert_string_equal(sql, "11agent,cid");
	free(sql);
	{
		sqlite3_stmt *plan;
		int uses = 0;
		assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT id FROM messages"
		                                        " WHERE agent = 'a' AND cid = 'c'",
		                                    -1, &plan, NULL), SQLITE_OK);
		while (sqlite3_step(plan) == SQLITE_ROW)
			uses |= strstr((const char *)sqlite3_column_text(plan, 3), "messages_cid") != NULL;
		sqlite3_finalize(plan);
		assert_true(uses);
	}
	char *ok = query_text(db, "PRAGMA integrity_check");
	assert_string_equal(ok, "ok");
	free(ok);
	assert_null(query_text(db, "PRAGMA foreign_key_check"));
	assert_int_equal(ephemeral_ops(db, INSERT_MESSAGE), 0);
	/* A plain INSERT: the three states and NULL pass, nothing else. */
	static const struct { const char *state; int rc; } ins[] = {
		{ "pending", SQLITE_DONE }, { "ready", SQLITE_DONE }, { "refused", SQLITE_DONE },
		{ NULL, SQLITE_DONE }, { "lost", SQLITE_CONSTRAINT }, { "", SQLITE_CONSTRAINT },
		{ "Ready", SQLITE_CONSTRAINT },
	};
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, INSERT_MESSAGE, -1, &s, NULL), SQLITE_OK);
	for (size_t i = 0; i < ARRAY_LEN(ins); i++) {
		if (ins[i].state)
			sqlite3_bind_text(s, 1, ins[i].state, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 1);
		assert_int_equal(sqlite3_step(s), ins[i].rc);
		if (ins[i].rc == SQLITE_CONSTRAINT)
			assert_int_equal(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_CHECK);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(before);
	free(after);

	/* The constraints hold on the rebuilt table. */
	if (store_open(path, 0, NULL, &st, &cause) != 0)
		fail_msg("%s", cause);
	struct store_media_update bad = { "lost", NULL, NULL, NULL, NULL, NULL, 0 };
	assert_int_equal(store_message_set_media(st, 12, &bad, &cause), -1);
	assert_non_null(strstr(cause, "CHECK"));
	free(cause);
	cause = NULL;
	struct store_message m = {0};
	int64_t id = 0;
	m.phone = (char *)"919800000001";
	m.type = (char *)"text";
	m.text = (char *)"x";
	m.time = 70;
	/* A row breaking a CHECK is an error, not silently skipped as a
	 * duplicate is. */
	m.media_state = (char *)"gone";
	assert_int_equal(store_message_insert(st, &m, &id, &cause), -1);
	assert_non_null(strstr(cause, "CHECK"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_message_count(st), 5);
	m.media_state = NULL;
	assert_int_equal(store_message_insert(st, &m, &id, &cause), 1);
	assert_int_equal(id, 22);
	m.media_state = (char *)"refused";
	assert_int_equal(store_message_insert(st, &m, &id, &cause), 1);
	struct store_media_update ready = { "ready", NULL, NULL, NULL, NULL, NULL, 0 };
	assert_int_equal(store_message_set_media(st, 12, &ready, &cause), 1);
	/* The trigger: failed is final, states never go back. */
	assert_int_equal(store_message_set_state(st, 21, ST_READ, "", &cause), 0);
	assert_int_equal(store_message_set_state(st, 20, ST_SUBMITTED, "", &cause), 0);
	assert_int_equal(store_message_set_state(st, 20, ST_DELIVERED, "", &cause), 1);
	/* The unique constraints. */
	m.provider_id = (char *)"w1";
	assert_int_equal(store_message_insert(st, &m, &id, &cause), 0);
	m.provider_id = NULL;
	m.agent = (char *)"ravi";
	m.cid = (char *)"c1";
	assert_int_equal(store_message_insert(st, &m, &id, &cause), 0);
	assert_int_equal(store_outbox_add(st, 21, "919800000001", &cause), 0);
	struct store_outbox *ob;
	assert_int_equal(store_outbox_all(st, &ob, &cause), 2);
	assert_int_equal(ob[0].msg_id, 20);
	assert_int_equal(ob[0].attempts, 2);
	store_outbox_free(ob, 2);
	store_close(st);

	remove_db(dir, path);
	free(path);
}

/* A migration that leaves a row pointing at a missing one is rolled
 * back: the database stays at its version and the error says which. */
static void
test_migrate_fk_refused(void **state)
{
	(void)state;
	char dir[] = "/tmp/wadesk-store-XXXXXX";
	char *path = make_v2(dir), *cause = NULL;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=OFF;"
	    "INSERT INTO outbox (msg_id, phone) VALUES (77, '919800000001');",
	    NULL, NULL, NULL), SQLITE_OK);
	char *before = snapshot(db);
	sqlite3_close(db);

	struct store *st;
	assert_int_equal(store_open(path, 0, NULL, &st, &cause), -1);
	assert_non_null(strstr(cause, "schema version 3"));
	assert_non_null(strstr(cause, "row 77 of outbox"));
	free(cause);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *v = query_text(db, "PRAGMA user_version");
	assert_string_equal(v, "2");
	free(v);
	char *sql = query_text(db, "SELECT sql FROM sqlite_schema WHERE name = 'messages'");
	assert_non_null(strstr(sql, "media_state IN ('pending','ready','refused')"));
	free(sql);
	char *after = snapshot(db);
	assert_string_equal(after, before);
	sqlite3_close(db);
	free(before);
	free(after);
	remove_db(dir, path);
	free(path);
}

static void
test_media(void **state)
{
	struct store *st = *state;
	char *cause = NULL, *mime = NULL;
	const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	int64_t size = 0;

	assert_int_equal(store_media_get(st, sha, &mime, &size, &cause), 0);
	assert_int_equal(store_media_put(st, sha, "application/pdf", 1234, 7, &cause), 0);
	assert_int_equal(store_media_put(st, sha, "text/plain", 1, 8, &cause), 0);  /* kept */
	assert_int_equal(store_media_get(st, sha, &mime, &size, &cause), 1);
	assert_string_equal(mime, "application/pdf");
	assert_int_equal(size, 1234);
	free(mime);
	/* A bad digest never enters the table, and says so. */
	assert_int_equal(store_media_put(st, "abc", "text/plain", 1, 8, &cause), -1);
	assert_non_null(strstr(cause, "CHECK"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_media_get(st, "abc", NULL, NULL, &cause), 0);

	/* Public only once an outbound message carries it. */
	int64_t in = insert(st, "919800000001", 0, "w.in");
	int64_t out = insert(st, "919800000001", 1, NULL);
	struct store_media_update u = { "ready", sha, "application/pdf", "/v1/media/x", NULL, NULL, 1234 };
	assert_int_equal(store_message_set_media(st, in, &u, &cause), 1);
	assert_int_equal(store_media_outbound(st, sha, &cause), 0);
	assert_int_equal(store_message_set_media(st, out, &u, &cause), 1);
	assert_int_equal(store_media_outbound(st, sha, &cause), 1);
	assert_int_equal(store_message_set_media(st, 999999, &u, &cause), 0);

	/* Refused: state and code, the digest stays unset. */
	int64_t in2 = insert(st, "919800000001", 0, "w.in2");
	struct store_media_update r = { "refused", NULL, NULL, NULL, "is an ELF executable", "media.type", 0 };
	assert_int_equal(store_message_set_media(st, in2, &r, &cause), 1);
	struct store_message m;
	assert_int_equal(store_message_get(st, in2, &m, &cause), 1);
	assert_string_equal(m.media_state, "refused");
	assert_string_equal(m.media_code, "media.type");
	assert_null(m.media_sha256);
	store_message_release(&m);
	/* A state outside the three is refused by the schema. */
	struct store_media_update bad = { "lost", NULL, NULL, NULL, NULL, NULL, 0 };
	assert_int_equal(store_message_set_media(st, in2, &bad, &cause), -1);
	free(cause);
	cause = NULL;

	/* Jobs: add (twice is once), retry, list, done. */
	assert_int_equal(store_media_job_add(st, in, "http://p/1", "image/png", 100, &cause), 0);
	assert_int_equal(store_media_job_add(st, in, "http://p/other", NULL, 101, &cause), 0);
	assert_int_equal(store_media_job_add(st, in2, "http://p/2", NULL, 102, &cause), 0);
	assert_int_equal(store_media_job_retry(st, in, 2, 5000, "HTTP 503", &cause), 0);
	struct store_media_job *j;
	assert_int_equal(store_media_jobs_all(st, &j, &cause), 2);
	assert_int_equal(j[0].msg_id, in);
	assert_string_equal(j[0].url, "http://p/1");
	assert_int_equal(j[0].attempts, 2);
	assert_int_equal(j[0].next_try, 5000);
	assert_string_equal(j[0].error, "HTTP 503");
	assert_null(j[1].mime);
	store_media_jobs_free(j, 2);
	assert_int_equal(store_media_job_done(st, in, &cause), 0);
	assert_int_equal(store_media_jobs_all(st, &j, &cause), 1);
	store_media_jobs_free(j, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_savepoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contacts_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lend, setup, teardown),
		cmocka_unit_test(test_checkpoint_offload),
		cmocka_unit_test(test_checkpoint_offload_normal),
		cmocka_unit_test_setup_teardown(test_events_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_kv, setup, teardown),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_migrate_media),
		cmocka_unit_test(test_migrate_check),
		cmocka_unit_test(test_migrate_fk_refused),
		cmocka_unit_test_setup_teardown(test_media, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
