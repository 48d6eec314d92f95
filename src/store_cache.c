/*
 * store_cache.c — the console's SQLite cache (see store_cache.h).
 *
 * Design: a handful of small tables, each read through an index so that a
 * screenful costs the same with ten chats or ten thousand.  The chat list
 * is ordered by (last_time DESC, phone) and paged with LIMIT/OFFSET over
 * the index chats_order; a conversation is paged backwards by the local
 * sequence number (keyset paging on messages_chat).  Writes come from the
 * event stream and are grouped by the caller with cache_begin/commit.
 * The file is in WAL mode with synchronous=NORMAL: the hub is the
 * durable copy, so losing the last events on a power cut only means
 * fetching them again (last_event is written in the same transaction as
 * the events it counts, so the cache never skips one).
 *
 * Several processes may share one cache (the console open while `wadesk
 * chats` or `wadesk tail` runs), and each of them applies the event
 * stream.  They are serialised, not made read-only (a one-shot command
 * must still catch up when no console is open): every transaction is
 * BEGIN IMMEDIATE, so it takes the write lock before its first read and
 * waits for it (busy_timeout) instead of failing.  A deferred BEGIN would
 * read first and then fail at once with "database is locked" when the
 * other process committed in between, since SQLite cannot upgrade a stale
 * snapshot and does not call the busy handler for that case.  Readers
 * never wait for writers (WAL).  The caller re-reads last_event inside
 * its transaction, so an event the other process applied first is skipped
 * as a duplicate, never applied twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_cache.h"
#include "util.h"

#define CACHE_STMTS 64
#define CACHE_BUSY_MS 10000

/* Prepared statements are kept and reused, keyed by their SQL text: the
 * event stream and the painter run the same few queries over and over. */
struct cache_stmt {
	char         *sql;
	sqlite3_stmt *st;
};

struct cache {
	sqlite3 *db;
	struct cache_stmt stmts[CACHE_STMTS];
	unsigned next;           /* round-robin eviction */
};

static const char *schema =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS chats("
	" phone TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',"
	" note TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '',"
	" status INTEGER NOT NULL DEFAULT 3, responding TEXT NOT NULL DEFAULT '',"
	" responding_at INTEGER NOT NULL DEFAULT 0,"
	" unread INTEGER NOT NULL DEFAULT 0, preview TEXT NOT NULL DEFAULT '',"
	" last_time INTEGER NOT NULL DEFAULT 0, last_inbound INTEGER NOT NULL DEFAULT 0,"
	" opted_in INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS chats_order ON chats(last_time DESC, phone);"
	"CREATE TABLE IF NOT EXISTS messages("
	" seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, phone TEXT NOT NULL,"
	" out INTEGER NOT NULL, type TEXT NOT NULL DEFAULT 'text', text TEXT NOT NULL DEFAULT '',"
	" state TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',"
	" agent TEXT NOT NULL DEFAULT '', time INTEGER NOT NULL, automated INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS messages_chat ON messages(phone, seq);"
	"CREATE INDEX IF NOT EXISTS messages_agent ON messages(agent, time);"
	"CREATE TABLE IF NOT EXISTS canned(name TEXT PRIMARY KEY, body TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS templates(id TEXT PRIMARY KEY, name TEXT NOT NULL,"
	" body TEXT NOT NULL);";

/*
 * Migrations, in order: migrations[i] takes a file from user_version i to
 * i + 1.  A new file gets the base schema above and then every migration,
 * so old and new files end up alike.
 */
static const char *const migrations[] = {
	/* 1: media fields on messages (docs/media.md). */
	"ALTER TABLE messages ADD COLUMN media_mime TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN media_name TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN media_caption TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN media_size INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN media_sha256 TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN media_state TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN media_error TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE messages ADD COLUMN media_code TEXT NOT NULL DEFAULT '';",
};

/* The file's user_version, or -1. */
static int
user_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Applies the migrations the file has not seen, each in a transaction
 * with its user_version bump.  The version is read under the write lock
 * (BEGIN IMMEDIATE), so two processes opening an old file at once
 * migrate it once.  0 / -1 with *err (sqlite3_free'd). */
static int
migrate(sqlite3 *db, char **err)
{
	for (;;) {
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, err) != SQLITE_OK)
			return -1;
		int v = user_version(db);
		if (v < 0 || v >= (int)ARRAY_LEN(migrations)) {
			if (v < 0)
				*err = sqlite3_mprintf("cannot read the schema version: %s", sqlite3_errmsg(db));
			sqlite3_exec(db, v < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
			return v < 0 ? -1 : 0;
		}
		char *sql = sqlite3_mprintf("%s PRAGMA user_version = %d; COMMIT;", migrations[v], v + 1);
		int rc = sql != NULL ? sqlite3_exec(db, sql, NULL, NULL, err) : SQLITE_NOMEM;
		sqlite3_free(sql);
		if (rc != SQLITE_OK) {
			if (*err == NULL)
				*err = sqlite3_mprintf("out of memory");
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
}

static int
fail(struct cache *c, char **cause, const char *what)
{
	if (cause != NULL)
		*cause = xasprintf("cache: cannot %s: %s", what, sqlite3_errmsg(c->db));
	return -1;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s != NULL ? (const char *)s : "";
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_TRANSIENT);
}

int
cache_open(const char *path, struct cache **out, char **cause)
{
	struct cache *c = xcalloc(1, sizeof *c);
	*out = NULL;
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xasprintf("cannot open cache '%s': %s", path,
			    c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
		goto fail;
	}
	/* Another process holds the write lock for one event's transaction
	 * (milliseconds); seconds means something is wrong. */
	sqlite3_busy_timeout(c->db, CACHE_BUSY_MS);
	char *err = NULL;
	if (sqlite3_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
	    NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(c->db, schema, NULL, NULL, &err) != SQLITE_OK ||
	    migrate(c->db, &err) != 0) {
		if (cause != NULL)
			*cause = xasprintf("cannot set up cache '%s': %s", path,
			    err != NULL ? err : "unknown error");
		sqlite3_free(err);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	sqlite3_close(c->db);
	free(c);
	return -1;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CACHE_STMTS; i++) {
		sqlite3_finalize(c->stmts[i].st);
		free(c->stmts[i].sql);
	}
	sqlite3_close(c->db);
	free(c);
}

static int
exec(struct cache *c, const char *sql, char **cause)
{
	char *err = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		if (cause != NULL)
			*cause = xasprintf("cache: cannot run '%s': %s", sql, err != NULL ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int
cache_begin(struct cache *c, char **cause)
{
	return exec(c, "BEGIN IMMEDIATE", cause);
}

int
cache_commit(struct cache *c, char **cause)
{
	return exec(c, "COMMIT", cause);
}

void
cache_rollback(struct cache *c)
{
	if (!sqlite3_get_autocommit(c->db))
		exec(c, "ROLLBACK", NULL);
}

/* The prepared statement for sql (reused when cached), or NULL with
 * cause.  Give it back with done(). */
static sqlite3_stmt *
prep(struct cache *c, const char *sql, char **cause)
{
	for (int i = 0; i < CACHE_STMTS; i++)
		if (c->stmts[i].sql != NULL && strcmp(c->stmts[i].sql, sql) == 0)
			return c->stmts[i].st;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		fail(c, cause, "prepare a query");
		return NULL;
	}
	struct cache_stmt *slot = &c->stmts[c->next++ % CACHE_STMTS];
	sqlite3_finalize(slot->st);
	free(slot->sql);
	slot->sql = xstrdup(sql);
	slot->st = st;
	return st;
}

/* Resets a statement from prep() for its next use. */
static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no row, finalises it. */
static int
run(struct cache *c, sqlite3_stmt *st, char **cause, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		fail(c, cause, what);
		done(st);
		return -1;
	}
	done(st);
	return 0;
}

/* Steps a statement that returns at most one row: 0 with the statement on
 * that row (the caller reads it, then done()), 1 when there is none, -1 on
 * an error; done() already called in those two cases. */
static int
step_one(struct cache *c, sqlite3_stmt *st, char **cause, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 0;
	int r = rc == SQLITE_DONE ? 1 : fail(c, cause, what);
	done(st);
	return r;
}

char *
cache_meta_get(struct cache *c, const char *key)
{
	sqlite3_stmt *st = prep(c, "SELECT v FROM meta WHERE k = ?", NULL);
	char *v = NULL;
	if (st == NULL)
		return NULL;
	bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup(col_text(st, 0));
	done(st);
	return v;
}

int
cache_meta_set(struct cache *c, const char *key, const char *value, char **cause)
{
	sqlite3_stmt *st = prep(c, "INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return run(c, st, cause, "store metadata");
}

int64_t
cache_last_event(struct cache *c)
{
	char *v = cache_meta_get(c, "last_event");
	int64_t n = v != NULL ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

int
cache_set_last_event(struct cache *c, int64_t n, char **cause)
{
	char s[32];
	snprintf(s, sizeof s, "%lld", (long long)n);
	return cache_meta_set(c, "last_event", s, cause);
}

#define CHAT_COLS "phone, name, note, tags, status, responding, responding_at, unread, preview," \
	" last_time, last_inbound, opted_in, failed"

static void
chat_read(sqlite3_stmt *st, struct cache_chat *ch)
{
	ch->phone = xstrdup(col_text(st, 0));
	ch->name = xstrdup(col_text(st, 1));
	ch->note = xstrdup(col_text(st, 2));
	ch->tags = xstrdup(col_text(st, 3));
	ch->status = sqlite3_column_int(st, 4);
	ch->responding = xstrdup(col_text(st, 5));
	ch->responding_at = sqlite3_column_int64(st, 6);
	ch->unread = sqlite3_column_int(st, 7);
	ch->preview = xstrdup(col_text(st, 8));
	ch->last_time = sqlite3_column_int64(st, 9);
	ch->last_inbound = sqlite3_column_int64(st, 10);
	ch->opted_in = sqlite3_column_int(st, 11);
	ch->failed = sqlite3_column_int(st, 12);
}

int
cache_chat_put(struct cache *c, const struct cache_chat *ch, char **cause)
{
	sqlite3_stmt *st = prep(c, "INSERT OR REPLACE INTO chats(" CHAT_COLS ")"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, ch->phone);
	bind_text(st, 2, ch->name);
	bind_text(st, 3, ch->note);
	bind_text(st, 4, ch->tags);
	sqlite3_bind_int(st, 5, ch->status);
	bind_text(st, 6, ch->responding);
	sqlite3_bind_int64(st, 7, ch->responding_at);
	sqlite3_bind_int(st, 8, ch->unread);
	bind_text(st, 9, ch->preview);
	sqlite3_bind_int64(st, 10, ch->last_time);
	sqlite3_bind_int64(st, 11, ch->last_inbound);
	sqlite3_bind_int(st, 12, ch->opted_in);
	sqlite3_bind_int(st, 13, ch->failed);
	return run(c, st, cause, "store a chat");
}

int
cache_chat_get(struct cache *c, const char *phone, struct cache_chat *out, char **cause)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = prep(c, "SELECT " CHAT_COLS " FROM chats WHERE phone = ?", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, phone);
	int r = step_one(c, st, cause, "read a chat");
	if (r == 0) {
		chat_read(st, out);
		done(st);
	}
	return r;
}

/*
 * The WHERE clause for a filter.  Parameters are bound by filter_bind in
 * the same order; the search is a case-insensitive substring of name,
 * phone or preview (LIKE with the pattern's own wildcards escaped).
 */
static void
filter_sql(const struct cache_filter *f, struct buf *b)
{
	buf_puts(b, " WHERE 1");
	if (f == NULL)
		return;
	if (f->status >= 0)
		buf_puts(b, " AND status = ?1");
	if (f->tag != NULL && *f->tag != '\0')
		buf_puts(b, " AND instr(tags, ?2) > 0");
	if (f->search != NULL && *f->search != '\0')
		buf_puts(b, " AND (name LIKE ?3 ESCAPE '\\' OR phone LIKE ?3 ESCAPE '\\'"
		    " OR preview LIKE ?3 ESCAPE '\\')");
}

static void
filter_bind(sqlite3_stmt *st, const struct cache_filter *f)
{
	if (f == NULL)
		return;
	if (f->status >= 0)
		sqlite3_bind_int(st, 1, f->status);
	if (f->tag != NULL && *f->tag != '\0') {
		char *t = xasprintf(",%s,", f->tag);
		sqlite3_bind_text(st, 2, t, -1, SQLITE_TRANSIENT);
		free(t);
	}
	if (f->search != NULL && *f->search != '\0') {
		struct buf p = {0};
		buf_putc(&p, '%');
		for (const char *s = f->search; *s != '\0'; s++) {
			if (*s == '%' || *s == '_' || *s == '\\')
				buf_putc(&p, '\\');
			buf_putc(&p, *s);
		}
		buf_putc(&p, '%');
		sqlite3_bind_text(st, 3, p.data, -1, SQLITE_TRANSIENT);
		buf_free(&p);
	}
}

long
cache_chat_count(struct cache *c, const struct cache_filter *f)
{
	struct buf b = {0};
	buf_puts(&b, "SELECT count(*) FROM chats");
	filter_sql(f, &b);
	sqlite3_stmt *st = prep(c, b.data, NULL);
	buf_free(&b);
	if (st == NULL)
		return -1;
	filter_bind(st, f);
	long n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	done(st);
	return n;
}

int
cache_chat_page(struct cache *c, const struct cache_filter *f, long offset, int limit,
    struct cache_chat **out, size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	struct buf b = {0};
	buf_puts(&b, "SELECT " CHAT_COLS " FROM chats");
	filter_sql(f, &b);
	buf_puts(&b, " ORDER BY last_time DESC, phone LIMIT ?4 OFFSET ?5");
	sqlite3_stmt *st = prep(c, b.data, cause);
	buf_free(&b);
	if (st == NULL)
		return -1;
	filter_bind(st, f);
	sqlite3_bind_int(st, 4, limit);
	sqlite3_bind_int64(st, 5, offset < 0 ? 0 : offset);
	struct cache_chat *v = xcalloc(limit > 0 ? (size_t)limit : 1, sizeof *v);
	size_t k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < (size_t)limit)
		chat_read(st, &v[k++]);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(c, cause, "read chats");
		done(st);
		cache_chats_free(v, k);
		return -1;
	}
	done(st);
	*out = v;
	*n = k;
	return 0;
}

long
cache_chat_index(struct cache *c, const struct cache_filter *f, const char *phone)
{
	struct cache_chat ch;
	if (cache_chat_get(c, phone, &ch, NULL) != 0)
		return -1;
	/* Rows before (last_time, phone) in the order, among the filtered. */
	struct buf b = {0};
	buf_puts(&b, "SELECT count(*) FROM chats");
	filter_sql(f, &b);
	buf_puts(&b, " AND (last_time > ?6 OR (last_time = ?6 AND phone < ?7))");
	sqlite3_stmt *st = prep(c, b.data, NULL);
	buf_free(&b);
	long r = -1;
	if (st != NULL) {
		filter_bind(st, f);
		sqlite3_bind_int64(st, 6, ch.last_time);
		bind_text(st, 7, ch.phone);
		if (sqlite3_step(st) == SQLITE_ROW)
			r = (long)sqlite3_column_int64(st, 0);
		done(st);
	}
	cache_chat_release(&ch);
	return r;
}

void
cache_chat_release(struct cache_chat *ch)
{
	if (ch == NULL)
		return;
	free(ch->phone);
	free(ch->name);
	free(ch->note);
	free(ch->tags);
	free(ch->responding);
	free(ch->preview);
	memset(ch, 0, sizeof *ch);
}

void
cache_chats_free(struct cache_chat *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		cache_chat_release(&v[i]);
	free(v);
}

int
cache_state_rank(const char *state)
{
	static const char *const order[] = { "queued", "submitted", "sent", "delivered", "read" };
	if (state == NULL)
		return -1;
	if (strcmp(state, "failed") == 0)
		return 9;
	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		if (strcmp(state, order[i]) == 0)
			return (int)i;
	return -1;
}

#define MSG_COLS "seq, id, phone, out, type, text, state, reason, agent, time, automated," \
	" media_mime, media_name, media_caption, media_size, media_sha256, media_state," \
	" media_error, media_code"

static void
msg_read(sqlite3_stmt *st, struct cache_msg *m)
{
	m->seq = sqlite3_column_int64(st, 0);
	m->id = xstrdup(col_text(st, 1));
	m->phone = xstrdup(col_text(st, 2));
	m->out = sqlite3_column_int(st, 3);
	m->type = xstrdup(col_text(st, 4));
	m->text = xstrdup(col_text(st, 5));
	m->state = xstrdup(col_text(st, 6));
	m->reason = xstrdup(col_text(st, 7));
	m->agent = xstrdup(col_text(st, 8));
	m->time = sqlite3_column_int64(st, 9);
	m->automated = sqlite3_column_int(st, 10);
	m->media_mime = xstrdup(col_text(st, 11));
	m->media_name = xstrdup(col_text(st, 12));
	m->media_caption = xstrdup(col_text(st, 13));
	m->media_size = sqlite3_column_int64(st, 14);
	m->media_sha256 = xstrdup(col_text(st, 15));
	m->media_state = xstrdup(col_text(st, 16));
	m->media_error = xstrdup(col_text(st, 17));
	m->media_code = xstrdup(col_text(st, 18));
}

int
cache_msg_get(struct cache *c, const char *id, struct cache_msg *out, char **cause)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = prep(c, "SELECT " MSG_COLS " FROM messages WHERE id = ?", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, id);
	int r = step_one(c, st, cause, "read a message");
	if (r == 0) {
		msg_read(st, out);
		done(st);
	}
	return r;
}

int
cache_msg_put(struct cache *c, const struct cache_msg *m, char **cause)
{
	struct cache_msg old;
	int have = cache_msg_get(c, m->id, &old, cause);
	if (have < 0)
		return -1;
	const char *state = m->state, *reason = m->reason;
	if (have == 0) {
		/* Keep a state that is further along than the incoming one. */
		if (cache_state_rank(old.state) > cache_state_rank(m->state)) {
			state = old.state;
			reason = old.reason;
		}
	}
	sqlite3_stmt *st = prep(c, have == 0 ?
	    "UPDATE messages SET phone = ?1, out = ?2, type = ?3, text = ?4, state = ?5, reason = ?6,"
	    " agent = ?7, time = ?8, automated = ?9, media_mime = ?11, media_name = ?12,"
	    " media_caption = ?13, media_size = ?14, media_sha256 = ?15, media_state = ?16,"
	    " media_error = ?17, media_code = ?18 WHERE id = ?10" :
	    "INSERT INTO messages(phone, out, type, text, state, reason, agent, time, automated, id,"
	    " media_mime, media_name, media_caption, media_size, media_sha256, media_state,"
	    " media_error, media_code)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
	    cause);
	int r = -1;
	if (st != NULL) {
		bind_text(st, 1, m->phone);
		sqlite3_bind_int(st, 2, m->out);
		bind_text(st, 3, m->type != NULL ? m->type : "text");
		bind_text(st, 4, m->text);
		bind_text(st, 5, state);
		bind_text(st, 6, reason);
		bind_text(st, 7, m->agent);
		sqlite3_bind_int64(st, 8, m->time);
		sqlite3_bind_int(st, 9, m->automated);
		bind_text(st, 10, m->id);
		bind_text(st, 11, m->media_mime);
		bind_text(st, 12, m->media_name);
		bind_text(st, 13, m->media_caption);
		sqlite3_bind_int64(st, 14, m->media_size);
		bind_text(st, 15, m->media_sha256);
		bind_text(st, 16, m->media_state);
		bind_text(st, 17, m->media_error);
		bind_text(st, 18, m->media_code);
		r = run(c, st, cause, "store a message");
	}
	if (have == 0)
		cache_msg_release(&old);
	return r;
}

int
cache_msg_state(struct cache *c, const char *id, const char *state, const char *reason,
    char **cause)
{
	struct cache_msg old;
	int have = cache_msg_get(c, id, &old, cause);
	if (have != 0)
		return have < 0 ? -1 : 0;
	int r = 0;
	if (cache_state_rank(state) > cache_state_rank(old.state)) {
		sqlite3_stmt *st = prep(c, "UPDATE messages SET state = ?, reason = ? WHERE id = ?", cause);
		if (st == NULL)
			r = -1;
		else {
			bind_text(st, 1, state);
			bind_text(st, 2, reason);
			bind_text(st, 3, id);
			r = run(c, st, cause, "update a message");
		}
	}
	cache_msg_release(&old);
	return r;
}

int
cache_msg_page(struct cache *c, const char *phone, int64_t before, int limit,
    struct cache_msg **out, size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = prep(c, "SELECT " MSG_COLS " FROM messages WHERE phone = ? AND seq < ?"
	    " ORDER BY seq DESC LIMIT ?", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, phone);
	sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	struct cache_msg *v = xcalloc(limit > 0 ? (size_t)limit : 1, sizeof *v);
	size_t k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < (size_t)limit)
		msg_read(st, &v[k++]);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(c, cause, "read messages");
		done(st);
		cache_msgs_free(v, k);
		return -1;
	}
	done(st);
	for (size_t i = 0; i < k / 2; i++) {       /* newest-first -> oldest-first */
		struct cache_msg t = v[i];
		v[i] = v[k - 1 - i];
		v[k - 1 - i] = t;
	}
	*out = v;
	*n = k;
	return 0;
}

long
cache_msg_count(struct cache *c, const char *phone)
{
	sqlite3_stmt *st = prep(c, "SELECT count(*) FROM messages WHERE phone = ?", NULL);
	if (st == NULL)
		return -1;
	bind_text(st, 1, phone);
	long n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	done(st);
	return n;
}

int
cache_msg_media_step(struct cache *c, const char *phone, int64_t seq, int dir,
    struct cache_msg *out, char **cause)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = prep(c, dir < 0 ?
	    "SELECT " MSG_COLS " FROM messages WHERE phone = ? AND seq < ? AND media_mime != ''"
	    " ORDER BY seq DESC LIMIT 1" :
	    "SELECT " MSG_COLS " FROM messages WHERE phone = ? AND seq > ? AND media_mime != ''"
	    " ORDER BY seq LIMIT 1", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, phone);
	sqlite3_bind_int64(st, 2, dir < 0 && seq <= 0 ? INT64_MAX : seq);
	int r = step_one(c, st, cause, "read a media message");
	if (r == 0) {
		msg_read(st, out);
		done(st);
	}
	return r;
}

int
cache_customer_sends(struct cache *c, const char *agent, const char *customer, int64_t since,
    void (*fn)(void *arg, int out, int64_t t), void *arg, char **cause)
{
	sqlite3_stmt *st = prep(c,
	    "SELECT out, time FROM messages INDEXED BY messages_chat WHERE phone = ?2 AND time >= ?3"
	    " AND (out = 0 OR (automated = 0 AND agent = ?1)) ORDER BY time, seq", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, agent);
	bind_text(st, 2, customer);
	sqlite3_bind_int64(st, 3, since);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1));
	done(st);
	if (rc != SQLITE_DONE)
		return fail(c, cause, "read a customer's messages");
	return 0;
}

long
cache_agent_count(struct cache *c, const char *agent, int64_t since)
{
	sqlite3_stmt *st = prep(c, "SELECT count(*) FROM messages INDEXED BY messages_agent"
	    " WHERE agent = ? AND time >= ? AND out = 1 AND automated = 0", NULL);
	if (st == NULL)
		return -1;
	bind_text(st, 1, agent);
	sqlite3_bind_int64(st, 2, since);
	long n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	done(st);
	return n;
}

int64_t
cache_agent_nth_newest(struct cache *c, const char *agent, long nth)
{
	sqlite3_stmt *st = prep(c, "SELECT time FROM messages INDEXED BY messages_agent"
	    " WHERE agent = ? AND out = 1 AND automated = 0 ORDER BY time DESC LIMIT 1 OFFSET ?", NULL);
	if (st == NULL)
		return 0;
	bind_text(st, 1, agent);
	sqlite3_bind_int64(st, 2, nth > 0 ? nth - 1 : 0);
	int64_t t = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	done(st);
	return t;
}

void
cache_msg_release(struct cache_msg *m)
{
	if (m == NULL)
		return;
	free(m->id);
	free(m->phone);
	free(m->type);
	free(m->text);
	free(m->state);
	free(m->reason);
	free(m->agent);
	free(m->media_mime);
	free(m->media_name);
	free(m->media_caption);
	free(m->media_sha256);
	free(m->media_state);
	free(m->media_error);
	free(m->media_code);
	memset(m, 0, sizeof *m);
}

void
cache_msgs_free(struct cache_msg *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		cache_msg_release(&v[i]);
	free(v);
}

int
cache_canned_put(struct cache *c, const char *name, const char *body, char **cause)
{
	sqlite3_stmt *st = prep(c, "INSERT OR REPLACE INTO canned(name, body) VALUES (?, ?)", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, name);
	bind_text(st, 2, body);
	return run(c, st, cause, "store a canned reply");
}

int
cache_canned_rm(struct cache *c, const char *name, char **cause)
{
	sqlite3_stmt *st = prep(c, "DELETE FROM canned WHERE name = ?", cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, name);
	return run(c, st, cause, "remove a canned reply");
}

/* Reads every row of sql (k text columns) into k parallel arrays. */
static int
list_rows(struct cache *c, const char *sql, int k, char ***cols[], size_t *n, char **cause)
{
	*n = 0;
	for (int j = 0; j < k; j++)
		*cols[j] = NULL;
	sqlite3_stmt *st = prep(c, sql, cause);
	if (st == NULL)
		return -1;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			for (int j = 0; j < k; j++)
				*cols[j] = xrealloc(*cols[j], cap * sizeof(char *));
		}
		for (int j = 0; j < k; j++)
			(*cols[j])[*n] = xstrdup(col_text(st, j));
		(*n)++;
	}
	done(st);
	if (rc != SQLITE_DONE) {
		for (int j = 0; j < k; j++) {
			cache_strv_free(*cols[j], *n);
			*cols[j] = NULL;
		}
		*n = 0;
		return fail(c, cause, "list rows");
	}
	return 0;
}

int
cache_canned_list(struct cache *c, char ***names, char ***bodies, size_t *n, char **cause)
{
	char ***cols[] = { names, bodies };
	return list_rows(c, "SELECT name, body FROM canned ORDER BY name", 2, cols, n, cause);
}

int
cache_template_put(struct cache *c, const char *id, const char *name, const char *body,
    char **cause)
{
	sqlite3_stmt *st = prep(c, "INSERT OR REPLACE INTO templates(id, name, body) VALUES (?, ?, ?)",
	    cause);
	if (st == NULL)
		return -1;
	bind_text(st, 1, id);
	bind_text(st, 2, name);
	bind_text(st, 3, body);
	return run(c, st, cause, "store a template");
}

int
cache_template_clear(struct cache *c, char **cause)
{
	return exec(c, "DELETE FROM templates", cause);
}

int
cache_template_list(struct cache *c, char ***ids, char ***names, char ***bodies, size_t *n,
    char **cause)
{
	char ***cols[] = { ids, names, bodies };
	return list_rows(c, "SELECT id, name, body FROM templates ORDER BY name", 3, cols, n, cause);
}

void
cache_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
