/*
 * store.c — the hub's SQLite store: schema, migrations and every query.
 *
 * One connection, WAL journal, durable commits by default (sync = full)
 * so that an acknowledged webhook is on disk (group commit keeps that
 * cheap).  Durability is done here rather than by SQLite: a WAL hook,
 * called after every commit, fdatasyncs the log, which is what FULL does
 * in WAL mode; a deferred transaction's commit skips that sync and its
 * caller asks for it later, from any thread (store_wal_sync).  Toggling
 * the synchronous pragma per transaction instead re-prepared two
 * statements per group commit.  The connection goes through the store's
 * VFS (store_vfs.c), which writes a commit's log frames in one go at the
 * sync SQLite asks for at commit with synchronous = FULL, and leaves that
 * sync to the hook; without that VFS the connection runs with NORMAL,
 * which syncs the log at commit no more than the VFS does.  The
 * schema is created by a list of migrations indexed by PRAGMA user_version:
 * migration i brings version i to i+1, inside one transaction, so a
 * database opened by a newer binary is upgraded in place and one opened by
 * an older binary than its version is refused.
 *
 * Statements are prepared once per use with sqlite3_prepare_v3 and the
 * SQLITE_PREPARE_PERSISTENT flag through a small cache keyed by the SQL
 * text's address: every query below is a string literal, so the address is
 * a stable key and hot paths (event append, message insert) never re-parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_vfs.h"
#include "util.h"

#define STMT_CACHE 64

struct stmt_slot {
	const char   *sql;
	sqlite3_stmt *stmt;
};

/* An open-addressing table of contacts by phone, no deletion (it is only
 * ever emptied whole). */
struct ccache {
	struct store_contact *e;        /* e[i].phone == NULL: free slot */
	size_t                cap, n;
};

struct store {
	sqlite3         *db;
	char            *path;
	struct stmt_slot cache[STMT_CACHE];
	int              ncache;
	int              sync_full;     /* the durability asked for */
	int              deferred;      /* this transaction commits without fsync */
	int              autockpt;      /* WAL frames that start a checkpoint */
	int              ckpt_offload;  /* checkpoints are store_checkpoint()'s (another thread) */
	int              ckpt_state;    /* atomic: CKPT_IDLE ... CKPT_TAIL, below */
	sqlite3         *ckdb;          /* store_checkpoint()'s own connection */
	struct ccache    contacts;      /* see "contact cache" below */
	int64_t          data_version;  /* PRAGMA data_version when it was last checked */
	/* The write-ahead log as store_wal_sync() sees it (any thread, under
	 * wal_mu): our own descriptor, and which file it is. */
	pthread_mutex_t  wal_mu;
	int              wal_fd;
	dev_t            wal_dev;
	ino_t            wal_ino;
	/* Lent to another thread for one COMMIT (store_lend): lent is 1
	 * until store_commit_lent() has returned; under lend_mu, read
	 * without it by reclaim()'s fast path. */
	pthread_mutex_t  lend_mu;
	pthread_cond_t   lend_cv;
	int              lent;
};

/* The thread running a lent COMMIT: reclaim() must not wait for itself. */
static _Thread_local const struct store *lent_to_me;

/*
 * Every way into the connection or the contact cache comes through here
 * first (prep, exec_sql, pragma_int and the ccache_ functions): while the
 * connection is lent for a COMMIT, whoever else wants it waits until that
 * COMMIT has returned (normally less than a millisecond: the loop would
 * have spent the same time running it).
 */
static void
reclaim(struct store *st)
{
	if (!__atomic_load_n(&st->lent, __ATOMIC_ACQUIRE) || lent_to_me == st)
		return;
	pthread_mutex_lock(&st->lend_mu);
	while (st->lent)
		pthread_cond_wait(&st->lend_cv, &st->lend_mu);
	pthread_mutex_unlock(&st->lend_mu);
}

static void ccache_clear(struct store *st);
static void ccache_check(struct store *st);

/* ---- schema ---------------------------------------------------------------- */

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE events (n INTEGER PRIMARY KEY, t INTEGER NOT NULL, frame TEXT NOT NULL);"
	"CREATE TABLE contacts ("
	"  phone TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',"
	"  opted_in INTEGER NOT NULL DEFAULT 0 CHECK (opted_in IN (0,1)),"
	"  opted_out INTEGER NOT NULL DEFAULT 0 CHECK (opted_out IN (0,1)),"
	"  last_inbound INTEGER NOT NULL DEFAULT 0,"
	"  status INTEGER NOT NULL DEFAULT 3 CHECK (status BETWEEN 0 AND 3),"
	"  resume INTEGER NOT NULL DEFAULT 3 CHECK (resume BETWEEN 0 AND 3),"
	"  agent TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL DEFAULT 0,"
	"  greeted_at INTEGER NOT NULL DEFAULT 0, away_at INTEGER NOT NULL DEFAULT 0,"
	"  brb_at INTEGER NOT NULL DEFAULT 0, prompted_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE tags (phone TEXT NOT NULL REFERENCES contacts(phone), tag TEXT NOT NULL,"
	"  PRIMARY KEY (phone, tag)) WITHOUT ROWID;"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY, phone TEXT NOT NULL,"
	"  out INTEGER NOT NULL CHECK (out IN (0,1)), type TEXT NOT NULL, text TEXT NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 5),"
	"  reason TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL DEFAULT '',"
	"  automated INTEGER NOT NULL DEFAULT 0, time INTEGER NOT NULL,"
	"  template_id TEXT, params TEXT, provider_id TEXT UNIQUE, wa_id TEXT, cid TEXT,"
	"  media_mime TEXT, media_url TEXT, media_filename TEXT, payload TEXT,"
	"  UNIQUE (agent, cid));"
	"CREATE INDEX messages_phone ON messages (phone, id);"
	"CREATE INDEX messages_wa ON messages (wa_id) WHERE wa_id IS NOT NULL;"
	"CREATE INDEX messages_time ON messages (time);"
	/* States move forward only; failed is final and follows only
	 * queued/submitted/sent.  Anything else is silently ignored. */
	"CREATE TRIGGER messages_state_forward BEFORE UPDATE OF state ON messages"
	"  WHEN NEW.state <> OLD.state AND (OLD.state = 5"
	"    OR (NEW.state <> 5 AND NEW.state < OLD.state)"
	"    OR (NEW.state = 5 AND OLD.state >= 3))"
	"  BEGIN SELECT RAISE(IGNORE); END;"
	"CREATE TABLE pending_states (gs_id TEXT NOT NULL, state INTEGER NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX pending_gs ON pending_states (gs_id);"
	"CREATE TABLE outbox (msg_id INTEGER PRIMARY KEY REFERENCES messages(id),"
	"  phone TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE canned (name TEXT PRIMARY KEY, text TEXT NOT NULL);"
	"CREATE TABLE templates (id TEXT PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL);"
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE tokens (hash TEXT PRIMARY KEY, role TEXT NOT NULL"
	"  CHECK (role IN ('agent','supervisor','admin')), generation INTEGER NOT NULL);"
	"CREATE TABLE agents (name TEXT PRIMARY KEY, first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL);",
	/* 1 -> 2: media (docs/media.md).  A message's media gets its digest,
	 * size, state and, while pending or once refused, why; stored files
	 * are rows of media (their sniffed type); downloads still to do are
	 * rows of media_jobs, so a restart resumes them.  Inbound media
	 * stored before this version (provider URLs only) become pending
	 * downloads. */
	"ALTER TABLE messages ADD COLUMN media_sha256 TEXT;"
	"ALTER TABLE messages ADD COLUMN media_size INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN media_state TEXT"
	"  CHECK (media_state IN ('pending','ready','refused'));"
	"ALTER TABLE messages ADD COLUMN media_error TEXT;"
	"ALTER TABLE messages ADD COLUMN media_code TEXT;"
	"CREATE INDEX messages_media ON messages (media_sha256, out)"
	"  WHERE media_sha256 IS NOT NULL;"
	"CREATE TABLE media (sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),"
	"  mime TEXT NOT NULL, size INTEGER NOT NULL CHECK (size >= 0),"
	"  created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE media_jobs (msg_id INTEGER PRIMARY KEY REFERENCES messages(id),"
	"  url TEXT NOT NULL, mime TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,"
	"  error TEXT NOT NULL DEFAULT '');"
	"INSERT INTO media_jobs (msg_id, url, mime, created)"
	"  SELECT id, media_url, media_mime, time FROM messages"
	"  WHERE out = 0 AND media_url IS NOT NULL AND media_url <> '';"
	"UPDATE messages SET media_state = 'pending', media_error = 'not downloaded yet'"
	"  WHERE id IN (SELECT msg_id FROM media_jobs);",
	/* 2 -> 3: media_state's CHECK as a chain of equalities, same meaning
	 * (NULL still passes).  SQLite (3.40, seen with EXPLAIN) evaluates an
	 * IN list of more than two constants by filling an ephemeral b-tree,
	 * every time the CHECK runs: on every INSERT into messages, one per
	 * inbound webhook.  The same rebuild makes (agent, cid)'s uniqueness
	 * a partial index over the rows that have a client id (an agent's
	 * sends): NULLs never collide, so the meaning is the same, and an
	 * inbound message no longer adds an entry to it.  A
	 * constraint cannot be altered, so messages is rebuilt as
	 * lang_altertable.html ("making other kinds of table schema changes")
	 * describes: same columns in the same order, same rows and ids; the
	 * DROP takes the indexes and the trigger with it, so they are made
	 * again, word for word.  The new table is built under another name
	 * and renamed to messages, never the other way round: renaming
	 * messages away would rewrite outbox's and media_jobs' REFERENCES
	 * messages(id) to follow it.  migrate() runs this with foreign keys
	 * off (else DROP TABLE deletes every row first and fails on outbox)
	 * and checks them before the COMMIT. */
	"CREATE TABLE messages_new ("
	"  id INTEGER PRIMARY KEY, phone TEXT NOT NULL,"
	"  out INTEGER NOT NULL CHECK (out IN (0,1)), type TEXT NOT NULL, text TEXT NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 5),"
	"  reason TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL DEFAULT '',"
	"  automated INTEGER NOT NULL DEFAULT 0, time INTEGER NOT NULL,"
	"  template_id TEXT, params TEXT, provider_id TEXT UNIQUE, wa_id TEXT, cid TEXT,"
	"  media_mime TEXT, media_url TEXT, media_filename TEXT, payload TEXT,"
	"  media_sha256 TEXT, media_size INTEGER NOT NULL DEFAULT 0,"
	"  media_state TEXT CHECK (media_state = 'pending' OR media_state = 'ready'"
	"    OR media_state = 'refused'),"
	"  media_error TEXT, media_code TEXT);"
	"INSERT INTO messages_new (id, phone, out, type, text, state, reason, agent,"
	"  automated, time, template_id, params, provider_id, wa_id, cid, media_mime,"
	"  media_url, media_filename, payload, media_sha256, media_size, media_state,"
	"  media_error, media_code)"
	"  SELECT id, phone, out, type, text, state, reason, agent,"
	"  automated, time, template_id, params, provider_id, wa_id, cid, media_mime,"
	"  media_url, media_filename, payload, media_sha256, media_size, media_state,"
	"  media_error, media_code FROM messages ORDER BY id;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_new RENAME TO messages;"
	"CREATE INDEX messages_phone ON messages (phone, id);"
	"CREATE INDEX messages_wa ON messages (wa_id) WHERE wa_id IS NOT NULL;"
	"CREATE INDEX messages_time ON messages (time);"
	"CREATE UNIQUE INDEX messages_cid ON messages (agent, cid) WHERE cid IS NOT NULL;"
	"CREATE INDEX messages_media ON messages (media_sha256, out)"
	"  WHERE media_sha256 IS NOT NULL;"
	"CREATE TRIGGER messages_state_forward BEFORE UPDATE OF state ON messages"
	"  WHEN NEW.state <> OLD.state AND (OLD.state = 5"
	"    OR (NEW.state <> 5 AND NEW.state < OLD.state)"
	"    OR (NEW.state = 5 AND OLD.state >= 3))"
	"  BEGIN SELECT RAISE(IGNORE); END;",
};
_Static_assert(ARRAY_LEN(migrations) == STORE_SCHEMA_VERSION,
               "STORE_SCHEMA_VERSION is the number of migrations");

/* ---- helpers ------------------------------------------------------------------ */

static int
fail(struct store *st, char **cause, const char *what)
{
	*cause = xasprintf("cannot %s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

static sqlite3_stmt *
prep(struct store *st, const char *sql, char **cause)
{
	reclaim(st);
	for (int i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		*cause = xasprintf("cannot prepare query: %s", sqlite3_errmsg(st->db));
		return NULL;
	}
	if (st->ncache < STMT_CACHE) {
		st->cache[st->ncache].sql = sql;
		st->cache[st->ncache].stmt = s;
		st->ncache++;
	} else {
		/* Not expected: the cache is sized for every query here. */
		log_warn("store: statement cache full");
	}
	return s;
}

/* Statements not in the cache (only when it is full) are finalized. */
static void
done(struct store *st, sqlite3_stmt *s)
{
	for (int i = 0; i < st->ncache; i++)
		if (st->cache[i].stmt == s) {
			sqlite3_reset(s);
			return;
		}
	sqlite3_finalize(s);
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static char *
col_text0(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return xstrdup(t ? (const char *)t : "");
}

/* Runs a statement that returns no rows.  Returns sqlite3_changes or -1. */
static int
exec_stmt(struct store *st, sqlite3_stmt *s, char **cause, const char *what)
{
	int rc = sqlite3_step(s);
	done(st, s);
	if (rc != SQLITE_DONE)
		return fail(st, cause, what);
	return sqlite3_changes(st->db);
}

static int
exec_sql(struct store *st, const char *sql, char **cause, const char *what)
{
	char *err = NULL;
	reclaim(st);
	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		*cause = xasprintf("cannot %s: %s", what, err ? err : sqlite3_errmsg(st->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Params are stored joined by the unit separator (0x1f), which sanitised
 * text never contains. */
static char *
params_join(char *const *p, size_t n)
{
	if (n == 0)
		return NULL;
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, '\x1f');
		buf_puts(&b, p[i] ? p[i] : "");
	}
	return buf_steal(&b);
}

static void
params_split(const char *s, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (s == NULL)
		return;
	size_t cnt = 1;
	for (const char *p = s; *p; p++)
		cnt += *p == '\x1f';
	char **v = xcalloc(cnt, sizeof *v);
	const char *start = s;
	for (size_t i = 0; i < cnt; i++) {
		const char *end = strchr(start, '\x1f');
		if (end == NULL)
			end = start + strlen(start);
		v[i] = xstrndup(start, (size_t)(end - start));
		start = *end ? end + 1 : end;
	}
	*out = v;
	*n = cnt;
}

/* ---- open / close / transactions ----------------------------------------------- */

/* An offloaded checkpoint's course: a COMMIT that finds the log past
 * autockpt makes one due (from idle only), store_checkpoint() runs it,
 * and the next COMMIT finishes it (the tail). */
enum {
	CKPT_IDLE,
	CKPT_DUE,       /* store_checkpoint_due() */
	CKPT_RUNNING,   /* store_checkpoint() is copying */
	CKPT_TAIL,      /* the next COMMIT copies the rest */
};

static pthread_once_t configured = PTHREAD_ONCE_INIT;

/* No allocation statistics: they take a global mutex around every malloc
 * SQLite makes, and nothing here reads them.  Only possible before SQLite
 * is first used in the process (else refused, harmlessly). */
static void
configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* After every commit.  With sync = full the log is fdatasynced before
 * the COMMIT statement returns, unless the transaction was deferred; a
 * failed sync makes COMMIT fail (the commit itself has happened: the
 * caller must not acknowledge it, and the hub stops).  In both modes the
 * hook replaces SQLite's automatic checkpoint, so it checkpoints too, at
 * the same size, or flags the checkpoint for another thread. */
static int
on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;
	char *cause = NULL;
	if (!st->deferred && store_wal_sync(st, &cause) < 0) {
		log_warn("store: %s", cause);
		free(cause);
		return SQLITE_IOERR_FSYNC;
	}
	/* Offloaded, the other thread copies what the log held when it began
	 * while commits go on; the log can start over only once all of it is
	 * in the database, so the next commit copies the few frames written
	 * meanwhile.  Only one checkpoint is due or running at a time: one
	 * asked for again while the last is still running would hold the
	 * checkpoint lock when the tail runs, and the tail would find it busy.
	 * Inline as a last resort, should the other thread fall far behind. */
	int state = st->ckpt_offload ? __atomic_load_n(&st->ckpt_state, __ATOMIC_ACQUIRE) : CKPT_IDLE;
	if (state == CKPT_TAIL) {
		__atomic_store_n(&st->ckpt_state, CKPT_IDLE, __ATOMIC_RELEASE);
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (frames >= st->autockpt) {
		int idle = CKPT_IDLE;
		if (st->ckpt_offload && frames < 4 * st->autockpt)
			__atomic_compare_exchange_n(&st->ckpt_state, &idle, CKPT_DUE, 0, __ATOMIC_ACQ_REL,
			                            __ATOMIC_ACQUIRE);
		else
			sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	return SQLITE_OK;
}

/* The first column of a one-row PRAGMA's result, or -1. */
static int
pragma_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int v = -1;
	reclaim(st);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Sets PRAGMA foreign_keys and reads it back: inside a transaction the
 * pragma is silently a no-op. */
static int
set_foreign_keys(struct store *st, int on, char **cause)
{
	if (exec_sql(st, on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF", cause,
	             on ? "turn foreign keys back on" : "turn foreign keys off to migrate") < 0)
		return -1;
	if (pragma_int(st, "PRAGMA foreign_keys") != on) {
		*cause = xasprintf("cannot turn foreign keys %s%s", on ? "back on" : "off",
		                   sqlite3_get_autocommit(st->db) ? "" : ": a transaction is open");
		return -1;
	}
	return 0;
}

/* PRAGMA foreign_key_check over the whole database: 0 when no row points
 * at a missing parent, else -1 with *cause naming the first one. */
static int
check_foreign_keys(struct store *st, char **cause)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK)
		return fail(st, cause, "check foreign keys");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *table = sqlite3_column_text(s, 0);
		const unsigned char *parent = sqlite3_column_text(s, 2);
		*cause = xasprintf("row %lld of %s refers to a missing row of %s",
		                   (long long)sqlite3_column_int64(s, 1),
		                   table ? (const char *)table : "?",
		                   parent ? (const char *)parent : "?");
	} else if (rc != SQLITE_DONE) {
		fail(st, cause, "check foreign keys");
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Migration v -> v+1 in one transaction; its foreign keys are checked
 * before the COMMIT (they are not enforced while it runs). */
static int
migrate_one(struct store *st, int v, char **cause)
{
	if (exec_sql(st, "BEGIN IMMEDIATE", cause, "begin migration") < 0)
		return -1;
	char *pragma = xasprintf("PRAGMA user_version = %d", v + 1);
	int rc = exec_sql(st, migrations[v], cause, "migrate the schema");
	if (rc == 0 && check_foreign_keys(st, cause) < 0) {
		char *c = *cause;
		*cause = xasprintf("migration to schema version %d: %s", v + 1, c);
		free(c);
		rc = -1;
	}
	if (rc == 0)
		rc = exec_sql(st, pragma, cause, "set the schema version");
	free(pragma);
	if (rc == 0)
		rc = exec_sql(st, "COMMIT", cause, "commit the migration");
	if (rc < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Brings the schema to max_version (0: the latest).  A migration may
 * rebuild a table (DROP, CREATE, RENAME), which needs foreign keys off
 * for the DROP not to delete every row first; PRAGMA foreign_keys is a
 * no-op inside a transaction, so it is switched here, around the
 * migrations' transactions, and restored afterwards whatever happened. */
static int
migrate(struct store *st, int max_version, char **cause)
{
	int v = store_schema_version(st);
	int target = (int)ARRAY_LEN(migrations);
	int upto = max_version > 0 && max_version < target ? max_version : target;

	if (v > target) {
		*cause = xasprintf("database '%s' has schema version %d, newer than this "
		                   "wadeskd (%d)", st->path, v, target);
		return -1;
	}
	if (v >= upto)
		return 0;
	int fk = pragma_int(st, "PRAGMA foreign_keys");
	if (fk < 0) {
		*cause = xstrdup("cannot read PRAGMA foreign_keys");
		return -1;
	}
	if (fk && set_foreign_keys(st, 0, cause) < 0)
		return -1;
	int rc = 0;
	for (; rc == 0 && v < upto; v++)
		rc = migrate_one(st, v, cause);
	if (fk) {
		char *c = NULL;
		if (set_foreign_keys(st, 1, &c) < 0) {
			if (rc == 0)
				*cause = c;
			else
				free(c);
			rc = -1;
		}
	}
	return rc;
}

int
store_open(const char *path, int create, const struct store_options *o, struct store **out,
           char **cause)
{
	return store_open_upto(path, create, o, 0, out, cause);
}

int
store_open_upto(const char *path, int create, const struct store_options *o, int max_version,
                struct store **out, char **cause)
{
	struct store *st = xcalloc(1, sizeof *st);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);

	*out = NULL;
	st->path = xstrdup(path);
	st->sync_full = o == NULL || o->sync_full;
	st->wal_fd = -1;
	pthread_mutex_init(&st->wal_mu, NULL);
	pthread_mutex_init(&st->lend_mu, NULL);
	pthread_cond_init(&st->lend_cv, NULL);
	pthread_once(&configured, configure);
	const char *vfs = store_vfs();
	if (sqlite3_open_v2(path, &st->db, flags, vfs) != SQLITE_OK) {
		*cause = xasprintf("cannot open database '%s': %s", path,
		                   st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return -1;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* The page cache is 4 MiB, not more: when a B-tree split leaves its
	 * new pages out of order, SQLite renumbers them through a scratch page
	 * number past the 1 GiB mark, and every commit after that scans the
	 * whole cache to drop pages past the end of the database (SQLite 3.40,
	 * pcache1Truncate).  With 16 MiB that scan was ~4 % of the hub's CPU
	 * under ingest; with 4 MiB it is ~1 %, and the extra reads the smaller
	 * cache costs (from the OS's cache) ~0.4 %.  Checkpoints every 4000
	 * WAL pages rather than 1000 copy a page written by many group commits
	 * once; on_wal_commit() starts them (a WAL hook replaces SQLite's
	 * wal_autocheckpoint).  Neither touches durability: with sync = full
	 * every commit's WAL frames are fsynced before it returns
	 * (on_wal_commit).  NORMAL syncs the log before a checkpoint copies it
	 * and the database after. */
	st->autockpt = o != NULL && o->checkpoint > 0 ? o->checkpoint : 4000;
	/* A new database gets 2 KiB pages, not 4: most pages a webhook batch
	 * writes are index leaves hit at random (one per chat written to),
	 * and the fdatasync each batch waits for grows with the log's bytes
	 * (here about 130 us plus 1.3 us per KiB).  hub_bench, interleaved
	 * single pairs: 37.0 % of the bare server against 35.9 % with 4 KiB,
	 * 34.1 % with 1 KiB (deeper trees cost more than the smaller writes
	 * save).  An existing database keeps its page size (a no-op there). */
	int rc = create ? exec_sql(st, "PRAGMA page_size=2048", cause, "set the page size") : 0;
	if (rc == 0)
		rc = exec_sql(st, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
		                  "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-4096;",
		              cause, "configure the database");
	/* FULL only for the store's VFS to see the end of a commit's frames
	 * (see store_vfs.h): SQLite writes each frame as two pwrite(2)s, 50
	 * to 100 of them per group commit under ingest, which the VFS makes
	 * one or two.  hub_bench, sync = full, interleaved single pairs:
	 * 41.6 % of the bare server against 37.6 % without it (10 each). */
	if (rc == 0)
		rc = exec_sql(st, vfs ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", cause,
		              "configure the database");
	if (rc == 0)
		sqlite3_wal_hook(st->db, on_wal_commit, st);
	if (rc < 0 || migrate(st, max_version, cause) < 0) {
		char *c = *cause;
		*cause = xasprintf("database '%s': %s", path, c);
		free(c);
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	reclaim(st);
	for (int i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	ccache_clear(st);
	free(st->contacts.e);
	if (st->ckdb != NULL)
		sqlite3_close(st->ckdb);
	if (st->db != NULL)
		sqlite3_close(st->db);
	if (st->wal_fd >= 0)
		close(st->wal_fd);
	pthread_mutex_destroy(&st->wal_mu);
	pthread_mutex_destroy(&st->lend_mu);
	pthread_cond_destroy(&st->lend_cv);
	free(st->path);
	free(st);
}

int
store_schema_version(struct store *st)
{
	return pragma_int(st, "PRAGMA user_version");
}

/* Transaction control on the hot path (a savepoint per webhook, a group
 * commit per batch) goes through the statement cache, not sqlite3_exec,
 * so none of it is parsed again. */
static int
exec_cached(struct store *st, const char *sql, char **cause, const char *what)
{
	sqlite3_stmt *s = prep(st, sql, cause);
	if (s == NULL)
		return -1;
	return exec_stmt(st, s, cause, what) < 0 ? -1 : 0;
}

int
store_begin(struct store *st, char **cause)
{
	if (exec_cached(st, "BEGIN IMMEDIATE", cause, "begin a transaction") < 0)
		return -1;
	ccache_check(st);
	return 0;
}

/* A deferred transaction's COMMIT writes the WAL frames but the hook
 * does not sync them; the flag lives until the transaction ends. */
int
store_begin_deferred(struct store *st, char **cause)
{
	if (store_begin(st, cause) < 0)
		return -1;
	st->deferred = st->sync_full;
	return 0;
}

int
store_commit(struct store *st, char **cause)
{
	int rc = exec_cached(st, "COMMIT", cause, "commit");
	if (rc < 0)
		store_rollback(st);
	st->deferred = 0;
	return rc < 0 ? -1 : 0;
}

void
store_lend(struct store *st)
{
	reclaim(st);
	__atomic_store_n(&st->lent, 1, __ATOMIC_RELEASE);
}

int
store_lent(struct store *st)
{
	return __atomic_load_n(&st->lent, __ATOMIC_SEQ_CST);
}

void
store_reclaim(struct store *st)
{
	reclaim(st);
}

int
store_commit_lent(struct store *st, char **cause)
{
	lent_to_me = st;
	int rc = store_commit(st, cause);
	lent_to_me = NULL;
	pthread_mutex_lock(&st->lend_mu);
	__atomic_store_n(&st->lent, 0, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&st->lend_cv);
	pthread_mutex_unlock(&st->lend_mu);
	return rc;
}

void
store_rollback(struct store *st)
{
	reclaim(st);
	ccache_clear(st);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->deferred = 0;
}

int
store_deferred(struct store *st)
{
	return st->sync_full;
}

/* The WAL is DB-wal; our descriptor is checked against the path at every
 * sync (one stat) and reopened if the file is another one, which happens
 * only if SQLite deleted and recreated it (it does not while the hub's
 * connection is open).  A fresh descriptor also syncs the directory, so
 * that the log's name survives a crash as well as its contents. */
static int
wal_sync_locked(struct store *st, char **cause)
{
	char *wal = xasprintf("%s-wal", st->path);
	struct stat sb;
	int rc = -1;

	if (stat(wal, &sb) < 0) {
		*cause = xasprintf("cannot sync '%s': %s", wal, strerror(errno));
		goto out;
	}
	if (st->wal_fd < 0 || sb.st_dev != st->wal_dev || sb.st_ino != st->wal_ino) {
		if (st->wal_fd >= 0)
			close(st->wal_fd);
		st->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
		if (st->wal_fd < 0 || fstat(st->wal_fd, &sb) < 0) {
			*cause = xasprintf("cannot open '%s': %s", wal, strerror(errno));
			goto out;
		}
		st->wal_dev = sb.st_dev;
		st->wal_ino = sb.st_ino;
		const char *slash = strrchr(st->path, '/');
		char *dir = slash ? xstrndup(st->path, (size_t)(slash - st->path + 1)) : xstrdup(".");
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int bad = dfd < 0 || fsync(dfd) < 0;
		if (bad)
			*cause = xasprintf("cannot sync directory '%s': %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		free(dir);
		if (bad)
			goto out;
	}
	if (fdatasync(st->wal_fd) < 0) {
		*cause = xasprintf("cannot sync '%s': %s", wal, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(wal);
	return rc;
}

int
store_wal_sync(struct store *st, char **cause)
{
	if (!st->sync_full)
		return 0;
	pthread_mutex_lock(&st->wal_mu);
	int rc = wal_sync_locked(st, cause);
	pthread_mutex_unlock(&st->wal_mu);
	return rc;
}

void
store_checkpoint_offload(struct store *st)
{
	st->ckpt_offload = 1;
}

int
store_checkpoint_due(struct store *st)
{
	return __atomic_load_n(&st->ckpt_state, __ATOMIC_ACQUIRE) == CKPT_DUE;
}

/* fdatasync of the database through the connection's own file. */
static int
sync_db(sqlite3 *db)
{
	sqlite3_file *f = NULL;
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
	    f == NULL || f->pMethods == NULL)
		return SQLITE_ERROR;
	return f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

/* At most this many PASSIVE passes per offloaded checkpoint, and the
 * frames a pass may leave to the tail without another. */
#define CKPT_PASSES 4
#define CKPT_TAIL_FRAMES 64

/*
 * PASSIVE checkpoints through a connection of its own, so that they can
 * run in another thread while the hub's connection writes (WAL mode lets
 * one checkpointer and one writer work at once).  The connection syncs
 * the log before copying it.  SQLite syncs the database only when a
 * checkpoint reaches the end of the log, which one running beside
 * commits never does: that sync fell to the tail, in the COMMIT that
 * follows, and wrote everything copied here (a few MiB, 5 to 25 ms with
 * the loop's connection held).  So each pass syncs the database itself,
 * and passes repeat while they leave more than CKPT_TAIL_FRAMES frames:
 * the tail copies and syncs a few pages.
 */
int
store_checkpoint(struct store *st, char **cause)
{
	__atomic_store_n(&st->ckpt_state, CKPT_RUNNING, __ATOMIC_RELEASE);
	/* A new connection knows the database is in WAL mode only once it
	 * has read it: until then a checkpoint silently does nothing. */
	if (st->ckdb == NULL &&
	    (sqlite3_open_v2(st->path, &st->ckdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                     NULL) != SQLITE_OK ||
	     sqlite3_exec(st->ckdb, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)) {
		*cause = xasprintf("cannot open '%s' to checkpoint: %s", st->path,
		                   st->ckdb ? sqlite3_errmsg(st->ckdb) : "out of memory");
		sqlite3_close(st->ckdb);
		st->ckdb = NULL;
		goto fail;
	}
	/* frames: in the log; copied: of them, in the database by now */
	for (int pass = 0, before = 0; pass < CKPT_PASSES; pass++) {
		int frames = 0, copied = 0;
		int rc = sqlite3_wal_checkpoint_v2(st->ckdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames,
		                                   &copied);
		if (rc == SQLITE_BUSY)
			break;
		if (rc != SQLITE_OK) {
			*cause = xasprintf("cannot checkpoint '%s': %s", st->path, sqlite3_errmsg(st->ckdb));
			goto fail;
		}
		if (frames < 0) {
			*cause = xasprintf("cannot checkpoint '%s': not in WAL mode", st->path);
			goto fail;
		}
		if (copied > before && sync_db(st->ckdb) != SQLITE_OK) {
			*cause = xasprintf("cannot sync '%s' after a checkpoint", st->path);
			goto fail;
		}
		if (frames - copied <= CKPT_TAIL_FRAMES)
			break;
		before = copied;
	}
	__atomic_store_n(&st->ckpt_state, CKPT_TAIL, __ATOMIC_RELEASE);
	return 0;
fail:
	__atomic_store_n(&st->ckpt_state, CKPT_IDLE, __ATOMIC_RELEASE);
	return -1;
}

int
store_savepoint(struct store *st, char **cause)
{
	return exec_cached(st, "SAVEPOINT one", cause, "open a savepoint");
}

void
store_release(struct store *st)
{
	char *cause = NULL;
	if (exec_cached(st, "RELEASE one", &cause, "release a savepoint") < 0)
		log_warn("store: %s", cause);
	free(cause);
}

void
store_rollback_to(struct store *st)
{
	char *cause = NULL;
	ccache_clear(st);
	if (exec_cached(st, "ROLLBACK TO one", &cause, "roll back to a savepoint") < 0 ||
	    exec_cached(st, "RELEASE one", &cause, "release a savepoint") < 0)
		log_warn("store: %s", cause);
	free(cause);
}

/* ---- meta ------------------------------------------------------------------------ */

int
store_meta_get(struct store *st, const char *key, char **value, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT value FROM meta WHERE key = ?", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, key);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*value = col_text0(s, 0);
		done(st, s);
		return 1;
	}
	done(st, s);
	if (rc != SQLITE_DONE)
		return fail(st, cause, "read metadata");
	*value = NULL;
	return 0;
}

int
store_meta_set(struct store *st, const char *key, const char *value, char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, key);
	bind_text(s, 2, value);
	return exec_stmt(st, s, cause, "write metadata") < 0 ? -1 : 0;
}

int64_t
store_meta_int(struct store *st, const char *key, int64_t dflt)
{
	char *v = NULL, *cause = NULL;
	int rc = store_meta_get(st, key, &v, &cause);
	int64_t r = dflt;
	if (rc == 1)
		r = strtoll(v, NULL, 10);
	else if (rc < 0)
		log_warn("%s", cause);
	free(v);
	free(cause);
	return r;
}

int
store_meta_set_int(struct store *st, const char *key, int64_t v, char **cause)
{
	char num[32];
	snprintf(num, sizeof num, "%lld", (long long)v);
	return store_meta_set(st, key, num, cause);
}

/* ---- events ------------------------------------------------------------------------- */

int
store_event_append(struct store *st, int64_t n, int64_t t, const char *frame, char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO events (n, t, frame) VALUES (?, ?, ?)", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, n);
	sqlite3_bind_int64(s, 2, t);
	bind_text(s, 3, frame);
	return exec_stmt(st, s, cause, "append an event") < 0 ? -1 : 0;
}

int64_t
store_event_head(struct store *st)
{
	char *cause = NULL;
	sqlite3_stmt *s = prep(st, "SELECT COALESCE(MAX(n), 0) FROM events", &cause);
	int64_t n = 0;
	if (s == NULL) {
		log_warn("%s", cause);
		free(cause);
		return 0;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	done(st, s);
	return n;
}

int
store_events_after(struct store *st, int64_t after, int limit, struct store_event **out,
                   char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT n, frame FROM events WHERE n > ? ORDER BY n LIMIT ?", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, limit);
	struct store_event *e = xcalloc((size_t)(limit > 0 ? limit : 1), sizeof *e);
	int n = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < limit) {
		e[n].n = sqlite3_column_int64(s, 0);
		e[n].frame = col_text0(s, 1);
		n++;
	}
	done(st, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_events_free(e, n);
		return fail(st, cause, "read events");
	}
	*out = e;
	return n;
}

void
store_events_free(struct store_event *e, int n)
{
	if (e == NULL)
		return;
	for (int i = 0; i < n; i++)
		free(e[i].frame);
	free(e);
}

/* ---- contacts ------------------------------------------------------------------------ */

/*
 * The contact cache.  The hub reads the contact of every inbound webhook
 * and writes it back; two SELECTs per webhook (the row and its tags) were
 * a twentieth of its time at full ingest.  The cache holds contacts as
 * this connection last read or wrote them, including what the current
 * transaction wrote, so it is emptied whenever anything is rolled back
 * (store_rollback, store_rollback_to), when a tag changes, when another
 * connection has committed since it was last checked (PRAGMA
 * data_version, read at every BEGIN and before a read outside a
 * transaction), and when it passes CCACHE_MAX contacts.
 */
#define CCACHE_MAX 16384

static void
contact_copy(struct store_contact *d, const struct store_contact *c)
{
	*d = *c;
	d->phone = xstrdup(c->phone);
	d->name = xstrdup(c->name ? c->name : "");
	d->note = xstrdup(c->note ? c->note : "");
	d->agent = xstrdup(c->agent ? c->agent : "");
	d->tags = c->ntags ? xcalloc(c->ntags, sizeof *d->tags) : NULL;
	for (size_t i = 0; i < c->ntags; i++)
		d->tags[i] = xstrdup(c->tags[i]);
}

static void
ccache_clear(struct store *st)
{
	reclaim(st);
	struct ccache *cc = &st->contacts;
	if (cc->n == 0)
		return;
	for (size_t i = 0; i < cc->cap; i++)
		if (cc->e[i].phone != NULL)
			store_contact_release(&cc->e[i]);
	cc->n = 0;
}

static struct store_contact *
ccache_slot(const struct ccache *cc, const char *phone)
{
	size_t h = 1469598103934665603ull;
	for (const char *p = phone; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (size_t i = h & (cc->cap - 1);; i = (i + 1) & (cc->cap - 1))
		if (cc->e[i].phone == NULL || strcmp(cc->e[i].phone, phone) == 0)
			return &cc->e[i];
}

static struct store_contact *
ccache_find(struct store *st, const char *phone)
{
	reclaim(st);
	struct ccache *cc = &st->contacts;
	if (cc->n == 0)
		return NULL;
	struct store_contact *e = ccache_slot(cc, phone);
	return e->phone != NULL ? e : NULL;
}

/* Caches c, tags and all. */
static void
ccache_put(struct store *st, const struct store_contact *c)
{
	reclaim(st);
	struct ccache *cc = &st->contacts;
	if (cc->n >= CCACHE_MAX)
		ccache_clear(st);
	if (cc->cap == 0) {
		cc->cap = 2 * CCACHE_MAX;       /* a power of two: the load stays <= 1/2 */
		cc->e = xcalloc(cc->cap, sizeof *cc->e);
	}
	struct store_contact *e = ccache_slot(cc, c->phone);
	if (e->phone != NULL)
		store_contact_release(e);
	else
		cc->n++;
	contact_copy(e, c);
}

/* Empties the cache if another connection committed since the last look
 * (or if the look fails). */
static void
ccache_check(struct store *st)
{
	char *cause = NULL;
	int64_t v = -1;
	sqlite3_stmt *s = prep(st, "PRAGMA data_version", &cause);
	if (s != NULL) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		done(st, s);
	}
	free(cause);
	if (v < 0 || v != st->data_version)
		ccache_clear(st);
	st->data_version = v;
}

static int
load_tags(struct store *st, struct store_contact *c, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT tag FROM tags WHERE phone = ? ORDER BY tag", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, c->phone);
	int rc;
	size_t cap = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (c->ntags == cap) {
			cap = cap ? cap * 2 : 4;
			c->tags = xrealloc(c->tags, cap * sizeof *c->tags);
		}
		c->tags[c->ntags++] = col_text0(s, 0);
	}
	done(st, s);
	if (rc != SQLITE_DONE)
		return fail(st, cause, "read tags");
	return 0;
}

int
store_contact_get(struct store *st, const char *phone, struct store_contact *c, char **cause)
{
	memset(c, 0, sizeof *c);
	reclaim(st);
	if (sqlite3_get_autocommit(st->db))
		ccache_check(st);
	const struct store_contact *hit = ccache_find(st, phone);
	if (hit != NULL) {
		contact_copy(c, hit);
		return 1;
	}
	/* last_inbound: the row's, or its newest inbound message's time when
	 * that is later (store_contact_touch() leaves the row alone). */
	sqlite3_stmt *s = prep(st,
	    "SELECT phone, name, note, opted_in, opted_out, max(last_inbound, coalesce("
	    "  (SELECT m.time FROM messages m WHERE m.phone = contacts.phone AND m.out = 0"
	    "   ORDER BY m.id DESC LIMIT 1), 0)), status, resume,"
	    " agent, created, greeted_at, away_at, brb_at, prompted_at FROM contacts WHERE phone = ?",
	    cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, phone);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		done(st, s);
		return rc == SQLITE_DONE ? 0 : fail(st, cause, "read a contact");
	}
	c->phone = col_text0(s, 0);
	c->name = col_text0(s, 1);
	c->note = col_text0(s, 2);
	c->opted_in = sqlite3_column_int(s, 3);
	c->opted_out = sqlite3_column_int(s, 4);
	c->last_inbound = sqlite3_column_int64(s, 5);
	c->status = sqlite3_column_int(s, 6);
	c->resume = sqlite3_column_int(s, 7);
	c->agent = col_text0(s, 8);
	c->created = sqlite3_column_int64(s, 9);
	c->greeted_at = sqlite3_column_int64(s, 10);
	c->away_at = sqlite3_column_int64(s, 11);
	c->brb_at = sqlite3_column_int64(s, 12);
	c->prompted_at = sqlite3_column_int64(s, 13);
	done(st, s);
	if (load_tags(st, c, cause) < 0) {
		store_contact_release(c);
		return -1;
	}
	ccache_put(st, c);
	return 1;
}

int
store_contact_put(struct store *st, const struct store_contact *c, char **cause)
{
	sqlite3_stmt *s = prep(st,
	    "INSERT INTO contacts (phone, name, note, opted_in, opted_out, last_inbound, status,"
	    " resume, agent, created, greeted_at, away_at, brb_at, prompted_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
	    " ON CONFLICT (phone) DO UPDATE SET name = ?2, note = ?3, opted_in = ?4,"
	    " opted_out = ?5, last_inbound = ?6, status = ?7, resume = ?8, agent = ?9,"
	    " greeted_at = ?11, away_at = ?12, brb_at = ?13, prompted_at = ?14", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, c->phone);
	bind_text(s, 2, c->name ? c->name : "");
	bind_text(s, 3, c->note ? c->note : "");
	sqlite3_bind_int(s, 4, c->opted_in != 0);
	sqlite3_bind_int(s, 5, c->opted_out != 0);
	sqlite3_bind_int64(s, 6, c->last_inbound);
	sqlite3_bind_int(s, 7, c->status);
	sqlite3_bind_int(s, 8, c->resume);
	bind_text(s, 9, c->agent ? c->agent : "");
	sqlite3_bind_int64(s, 10, c->created);
	sqlite3_bind_int64(s, 11, c->greeted_at);
	sqlite3_bind_int64(s, 12, c->away_at);
	sqlite3_bind_int64(s, 13, c->brb_at);
	sqlite3_bind_int64(s, 14, c->prompted_at);
	if (exec_stmt(st, s, cause, "write a contact") < 0)
		return -1;
	/* Tags are not written here: a cached contact keeps its own (tag
	 * changes empty the cache), and one not cached stays out. */
	struct store_contact *e = ccache_find(st, c->phone);
	if (e != NULL) {
		struct store_contact t = *c, fresh;
		t.tags = e->tags;
		t.ntags = e->ntags;
		contact_copy(&fresh, &t);
		store_contact_release(e);
		*e = fresh;                     /* the same phone: the same slot */
	}
	return 0;
}

void
store_contact_touch(struct store *st, const char *phone, int64_t last_inbound)
{
	struct store_contact *e = ccache_find(st, phone);
	if (e != NULL && last_inbound > e->last_inbound)
		e->last_inbound = last_inbound;
}

int
store_tag_add(struct store *st, const char *phone, const char *tag, char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO tags (phone, tag) VALUES (?, ?)"
	    " ON CONFLICT DO NOTHING", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, phone);
	bind_text(s, 2, tag);
	ccache_clear(st);
	return exec_stmt(st, s, cause, "add a tag");
}

int
store_tag_rm(struct store *st, const char *phone, const char *tag, char **cause)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM tags WHERE phone = ? AND tag = ?", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, phone);
	bind_text(s, 2, tag);
	ccache_clear(st);
	return exec_stmt(st, s, cause, "remove a tag");
}

void
store_contact_release(struct store_contact *c)
{
	if (c == NULL)
		return;
	free(c->phone);
	free(c->name);
	free(c->note);
	for (size_t i = 0; i < c->ntags; i++)
		free(c->tags[i]);
	free(c->tags);
	free(c->agent);
	memset(c, 0, sizeof *c);
}

int
store_contacts_with_status(struct store *st, unsigned mask, char ***phones, size_t *n,
                           char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT phone FROM contacts WHERE ((1 << status) & ?) != 0", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, (int)mask);
	size_t cap = 0;
	int rc;
	*phones = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*phones = xrealloc(*phones, cap * sizeof **phones);
		}
		(*phones)[(*n)++] = col_text0(s, 0);
	}
	done(st, s);
	if (rc != SQLITE_DONE)
		return fail(st, cause, "list contacts");
	return 0;
}

/* ---- messages -------------------------------------------------------------------------- */

static const char *const state_names[] = { "queued", "submitted", "sent", "delivered", "read", "failed" };

const char *
store_state_name(int state)
{
	if (state < 0 || (size_t)state >= ARRAY_LEN(state_names))
		return "queued";
	return state_names[state];
}

int
store_state_parse(const char *name)
{
	for (size_t i = 0; name != NULL && i < ARRAY_LEN(state_names); i++)
		if (strcmp(state_names[i], name) == 0)
			return (int)i;
	return -1;
}

#define MSG_COLS "id, phone, out, type, text, state, reason, agent, automated, time," \
	" template_id, params, provider_id, wa_id, cid, media_mime, media_url, media_filename, payload," \
	" media_sha256, media_size, media_state, media_error, media_code"

static void
read_message(sqlite3_stmt *s, struct store_message *m)
{
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(s, 0);
	m->phone = col_text0(s, 1);
	m->out = sqlite3_column_int(s, 2);
	m->type = col_text0(s, 3);
	m->text = col_text0(s, 4);
	m->state = sqlite3_column_int(s, 5);
	m->reason = col_text0(s, 6);
	m->agent = col_text0(s, 7);
	m->automated = sqlite3_column_int(s, 8);
	m->time = sqlite3_column_int64(s, 9);
	m->template_id = col_text(s, 10);
	params_split((const char *)sqlite3_column_text(s, 11), &m->params, &m->nparams);
	m->provider_id = col_text(s, 12);
	m->wa_id = col_text(s, 13);
	m->cid = col_text(s, 14);
	m->media_mime = col_text(s, 15);
	m->media_url = col_text(s, 16);
	m->media_filename = col_text(s, 17);
	m->payload = col_text(s, 18);
	m->media_sha256 = col_text(s, 19);
	m->media_size = sqlite3_column_int64(s, 20);
	m->media_state = col_text(s, 21);
	m->media_error = col_text(s, 22);
	m->media_code = col_text(s, 23);
}

/* A message already there (same provider id, or same agent and client id)
 * is skipped: ON CONFLICT DO NOTHING covers uniqueness only, so a row a
 * CHECK or NOT NULL refuses is an error, never silently dropped (INSERT OR
 * IGNORE would skip it too). */
int
store_message_insert(struct store *st, const struct store_message *m, int64_t *id, char **cause)
{
	sqlite3_stmt *s = prep(st,
	    "INSERT INTO messages (phone, out, type, text, state, reason, agent,"
	    " automated, time, template_id, params, provider_id, wa_id, cid, media_mime,"
	    " media_url, media_filename, payload, media_sha256, media_size, media_state,"
	    " media_error, media_code)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT DO NOTHING", cause);
	if (s == NULL)
		return -1;
	char *params = params_join(m->params, m->nparams);
	bind_text(s, 1, m->phone);
	sqlite3_bind_int(s, 2, m->out != 0);
	bind_text(s, 3, m->type ? m->type : "text");
	bind_text(s, 4, m->text ? m->text : "");
	sqlite3_bind_int(s, 5, m->state);
	bind_text(s, 6, m->reason ? m->reason : "");
	bind_text(s, 7, m->agent ? m->agent : "");
	sqlite3_bind_int(s, 8, m->automated != 0);
	sqlite3_bind_int64(s, 9, m->time);
	bind_text(s, 10, m->template_id);
	bind_text(s, 11, params);
	bind_text(s, 12, m->provider_id);
	bind_text(s, 13, m->wa_id);
	bind_text(s, 14, m->cid);
	bind_text(s, 15, m->media_mime);
	bind_text(s, 16, m->media_url);
	bind_text(s, 17, m->media_filename);
	bind_text(s, 18, m->payload);
	bind_text(s, 19, m->media_sha256);
	sqlite3_bind_int64(s, 20, m->media_size);
	bind_text(s, 21, m->media_state);
	bind_text(s, 22, m->media_error);
	bind_text(s, 23, m->media_code);
	int rc = exec_stmt(st, s, cause, "insert a message");
	free(params);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return 0;
	*id = sqlite3_last_insert_rowid(st->db);
	return 1;
}

static int
message_one(struct store *st, sqlite3_stmt *s, struct store_message *m, char **cause)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_message(s, m);
		done(st, s);
		return 1;
	}
	done(st, s);
	memset(m, 0, sizeof *m);
	return rc == SQLITE_DONE ? 0 : fail(st, cause, "read a message");
}

int
store_message_get(struct store *st, int64_t id, struct store_message *m, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS " FROM messages WHERE id = ?", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return message_one(st, s, m, cause);
}

int
store_message_by_cid(struct store *st, const char *agent, const char *cid,
                     struct store_message *m, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS " FROM messages WHERE agent = ? AND cid = ?",
	                       cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, agent);
	bind_text(s, 2, cid);
	return message_one(st, s, m, cause);
}

int
store_message_by_provider(struct store *st, const char *gs_id, const char *wa_id,
                          struct store_message *m, char **cause)
{
	int rc = 0;
	if (gs_id != NULL) {
		sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS " FROM messages WHERE provider_id = ?",
		                       cause);
		if (s == NULL)
			return -1;
		bind_text(s, 1, gs_id);
		rc = message_one(st, s, m, cause);
	}
	if (rc == 0 && wa_id != NULL) {
		sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS " FROM messages WHERE wa_id = ? AND out = 1",
		                       cause);
		if (s == NULL)
			return -1;
		bind_text(s, 1, wa_id);
		rc = message_one(st, s, m, cause);
	}
	return rc;
}

int
store_message_set_state(struct store *st, int64_t id, int state, const char *reason, char **cause)
{
	sqlite3_stmt *s = prep(st,
	    "UPDATE messages SET state = ?2, reason = CASE WHEN ?2 = 5 THEN ?3 ELSE reason END"
	    " WHERE id = ?1 AND state <> ?2", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, state);
	bind_text(s, 3, reason ? reason : "");
	return exec_stmt(st, s, cause, "update a message state");
}

int
store_message_set_ids(struct store *st, int64_t id, const char *gs_id, const char *wa_id,
                      char **cause)
{
	sqlite3_stmt *s = prep(st,
	    "UPDATE messages SET provider_id = COALESCE(?2, provider_id),"
	    " wa_id = COALESCE(?3, wa_id) WHERE id = ?1", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, gs_id);
	bind_text(s, 3, wa_id);
	return exec_stmt(st, s, cause, "record provider ids") < 0 ? -1 : 0;
}

int
store_history(struct store *st, const char *phone, int64_t before, int limit,
              struct store_message **out, int *more, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS " FROM messages WHERE phone = ?1"
	    " AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, phone);
	sqlite3_bind_int64(s, 2, before);
	sqlite3_bind_int(s, 3, limit + 1);
	struct store_message *m = xcalloc((size_t)limit + 1, sizeof *m);
	int n = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < limit + 1)
		read_message(s, &m[n++]);
	done(st, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_messages_free(m, n);
		return fail(st, cause, "read history");
	}
	*more = n > limit;
	if (n > limit)
		store_message_release(&m[--n]);
	/* newest first from SQL; callers want oldest first */
	for (int i = 0; i < n / 2; i++) {
		struct store_message t = m[i];
		m[i] = m[n - 1 - i];
		m[n - 1 - i] = t;
	}
	*out = m;
	return n;
}

void
store_message_release(struct store_message *m)
{
	if (m == NULL)
		return;
	free(m->phone);
	free(m->type);
	free(m->text);
	free(m->reason);
	free(m->agent);
	free(m->template_id);
	for (size_t i = 0; i < m->nparams; i++)
		free(m->params[i]);
	free(m->params);
	free(m->provider_id);
	free(m->wa_id);
	free(m->cid);
	free(m->media_mime);
	free(m->media_url);
	free(m->media_filename);
	free(m->payload);
	free(m->media_sha256);
	free(m->media_state);
	free(m->media_error);
	free(m->media_code);
	memset(m, 0, sizeof *m);
}

void
store_messages_free(struct store_message *m, int n)
{
	if (m == NULL)
		return;
	for (int i = 0; i < n; i++)
		store_message_release(&m[i]);
	free(m);
}

int
store_messages_since(struct store *st, int64_t t0,
                     void (*fn)(void *arg, const struct store_message *m), void *arg, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT " MSG_COLS " FROM messages WHERE time >= ? ORDER BY time, id",
	                       cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, t0);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_message m;
		read_message(s, &m);
		fn(arg, &m);
		store_message_release(&m);
	}
	done(st, s);
	return rc == SQLITE_DONE ? 0 : fail(st, cause, "read messages");
}

int64_t
store_message_count(struct store *st)
{
	char *cause = NULL;
	sqlite3_stmt *s = prep(st, "SELECT COUNT(*) FROM messages", &cause);
	int64_t n = -1;
	if (s == NULL) {
		free(cause);
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	done(st, s);
	return n;
}

static int kv_all(struct store *st, const char *sql, int cols, struct store_kv **out,
                  char **cause);

int
store_agent_counts(struct store *st, int64_t t0, struct store_kv **out, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT agent, COUNT(*) FROM messages WHERE out = 1 AND"
	    " automated = 0 AND agent <> '' AND time >= ? GROUP BY agent ORDER BY agent", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, t0);
	struct store_kv *kv = NULL;
	int n = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		kv = xrealloc(kv, (size_t)(n + 1) * sizeof *kv);
		kv[n].key = col_text0(s, 0);
		kv[n].value = col_text0(s, 1);
		kv[n].extra = NULL;
		n++;
	}
	done(st, s);
	if (rc != SQLITE_DONE) {
		store_kv_free(kv, n);
		return fail(st, cause, "count agent messages");
	}
	*out = kv;
	return n;
}

int
store_pending_state_add(struct store *st, const char *gs_id, int state, const char *reason,
                        char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO pending_states (gs_id, state, reason) VALUES (?, ?, ?)",
	                       cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, gs_id);
	sqlite3_bind_int(s, 2, state);
	bind_text(s, 3, reason ? reason : "");
	return exec_stmt(st, s, cause, "keep a pending state") < 0 ? -1 : 0;
}

int
store_pending_state_take(struct store *st, const char *gs_id, struct store_pending **out,
                         char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT state, reason FROM pending_states WHERE gs_id = ?"
	    " ORDER BY state", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, gs_id);
	struct store_pending *p = NULL;
	int n = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		p = xrealloc(p, (size_t)(n + 1) * sizeof *p);
		p[n].state = sqlite3_column_int(s, 0);
		p[n].reason = col_text0(s, 1);
		n++;
	}
	done(st, s);
	if (rc != SQLITE_DONE) {
		for (int i = 0; i < n; i++)
			free(p[i].reason);
		free(p);
		return fail(st, cause, "read pending states");
	}
	*out = p;
	if (n > 0) {
		s = prep(st, "DELETE FROM pending_states WHERE gs_id = ?", cause);
		if (s == NULL)
			return -1;
		bind_text(s, 1, gs_id);
		if (exec_stmt(st, s, cause, "drop pending states") < 0)
			return -1;
	}
	return n;
}

/* ---- outbox ---------------------------------------------------------------------------- */

int
store_outbox_add(struct store *st, int64_t msg_id, const char *phone, char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO outbox (msg_id, phone) VALUES (?, ?)", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	bind_text(s, 2, phone);
	return exec_stmt(st, s, cause, "queue a message") < 0 ? -1 : 0;
}

int
store_outbox_retry(struct store *st, int64_t msg_id, int attempts, int64_t next_try, char **cause)
{
	sqlite3_stmt *s = prep(st, "UPDATE outbox SET attempts = ?, next_try = ? WHERE msg_id = ?",
	                       cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, attempts);
	sqlite3_bind_int64(s, 2, next_try);
	sqlite3_bind_int64(s, 3, msg_id);
	return exec_stmt(st, s, cause, "reschedule a message") < 0 ? -1 : 0;
}

int
store_outbox_done(struct store *st, int64_t msg_id, char **cause)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM outbox WHERE msg_id = ?", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	return exec_stmt(st, s, cause, "unqueue a message") < 0 ? -1 : 0;
}

int
store_outbox_all(struct store *st, struct store_outbox **out, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT msg_id, phone, attempts, next_try FROM outbox ORDER BY msg_id",
	                       cause);
	if (s == NULL)
		return -1;
	struct store_outbox *o = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			o = xrealloc(o, (size_t)cap * sizeof *o);
		}
		o[n].msg_id = sqlite3_column_int64(s, 0);
		o[n].phone = col_text0(s, 1);
		o[n].attempts = sqlite3_column_int(s, 2);
		o[n].next_try = sqlite3_column_int64(s, 3);
		n++;
	}
	done(st, s);
	if (rc != SQLITE_DONE) {
		store_outbox_free(o, n);
		return fail(st, cause, "read the outbox");
	}
	*out = o;
	return n;
}

void
store_outbox_free(struct store_outbox *o, int n)
{
	if (o == NULL)
		return;
	for (int i = 0; i < n; i++)
		free(o[i].phone);
	free(o);
}

/* ---- canned, templates, settings --------------------------------------------------------- */

void
store_kv_free(struct store_kv *kv, int n)
{
	if (kv == NULL)
		return;
	for (int i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
		free(kv[i].extra);
	}
	free(kv);
}

static int
kv_all(struct store *st, const char *sql, int cols, struct store_kv **out, char **cause)
{
	sqlite3_stmt *s = prep(st, sql, cause);
	if (s == NULL)
		return -1;
	struct store_kv *kv = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			kv = xrealloc(kv, (size_t)cap * sizeof *kv);
		}
		kv[n].key = col_text0(s, 0);
		kv[n].value = col_text0(s, 1);
		kv[n].extra = cols > 2 ? col_text0(s, 2) : NULL;
		n++;
	}
	done(st, s);
	if (rc != SQLITE_DONE) {
		store_kv_free(kv, n);
		return fail(st, cause, "read a list");
	}
	*out = kv;
	return n;
}

int
store_canned_all(struct store *st, struct store_kv **out, char **cause)
{
	return kv_all(st, "SELECT name, text FROM canned ORDER BY name", 2, out, cause);
}

int
store_canned_put(struct store *st, const char *name, const char *text, char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO canned (name, text) VALUES (?, ?)", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, name);
	bind_text(s, 2, text);
	return exec_stmt(st, s, cause, "save a canned reply") < 0 ? -1 : 0;
}

int
store_canned_rm(struct store *st, const char *name, char **cause)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM canned WHERE name = ?", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, name);
	return exec_stmt(st, s, cause, "remove a canned reply");
}

int
store_templates_all(struct store *st, struct store_kv **out, char **cause)
{
	return kv_all(st, "SELECT id, name, body FROM templates ORDER BY name, id", 3, out, cause);
}

int
store_template_put(struct store *st, const char *id, const char *name, const char *body,
                   char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO templates (id, name, body) VALUES (?, ?, ?)",
	                       cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, id);
	bind_text(s, 2, name);
	bind_text(s, 3, body);
	return exec_stmt(st, s, cause, "save a template") < 0 ? -1 : 0;
}

int
store_template_rm(struct store *st, const char *id, char **cause)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM templates WHERE id = ?", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, id);
	return exec_stmt(st, s, cause, "remove a template");
}

int
store_settings_all(struct store *st, struct store_kv **out, char **cause)
{
	return kv_all(st, "SELECT key, value FROM settings ORDER BY key", 2, out, cause);
}

int
store_setting_put(struct store *st, const char *key, const char *value, char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, key);
	bind_text(s, 2, value);
	return exec_stmt(st, s, cause, "save a setting") < 0 ? -1 : 0;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

int
store_token_set(struct store *st, const char *role, const char *hash_hex, int64_t generation,
                char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO tokens (hash, role, generation)"
	    " VALUES (?, ?, ?)", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, hash_hex);
	bind_text(s, 2, role);
	sqlite3_bind_int64(s, 3, generation);
	return exec_stmt(st, s, cause, "store an access token") < 0 ? -1 : 0;
}

/* Compares two equal-length strings without an early exit. */
static int
ct_equal(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int
store_token_find(struct store *st, const char *hash_hex, char **role, int64_t *generation,
                 char **cause)
{
	/* Every row is compared, in constant time each, so the time taken does
	 * not depend on which (if any) hash matched. */
	sqlite3_stmt *s = prep(st, "SELECT hash, role, generation FROM tokens", cause);
	if (s == NULL)
		return -1;
	size_t len = strlen(hash_hex);
	int found = 0, rc;
	*role = NULL;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 0);
		int eq = h != NULL && strlen(h) == len && ct_equal(h, hash_hex, len);
		if (eq && !found) {
			found = 1;
			*role = col_text0(s, 1);
			*generation = sqlite3_column_int64(s, 2);
		}
	}
	done(st, s);
	if (rc != SQLITE_DONE) {
		free(*role);
		*role = NULL;
		return fail(st, cause, "read access tokens");
	}
	return found;
}

/* ---- media ------------------------------------------------------------------------------------- */

int
store_media_put(struct store *st, const char *sha256, const char *mime, int64_t size, int64_t t,
                char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO media (sha256, mime, size, created)"
	    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, sha256);
	bind_text(s, 2, mime);
	sqlite3_bind_int64(s, 3, size);
	sqlite3_bind_int64(s, 4, t);
	return exec_stmt(st, s, cause, "record a media file") < 0 ? -1 : 0;
}

int
store_media_get(struct store *st, const char *sha256, char **mime, int64_t *size, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT mime, size FROM media WHERE sha256 = ?", cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, sha256);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (mime != NULL)
			*mime = col_text0(s, 0);
		if (size != NULL)
			*size = sqlite3_column_int64(s, 1);
		done(st, s);
		return 1;
	}
	done(st, s);
	return rc == SQLITE_DONE ? 0 : fail(st, cause, "read a media file");
}

int
store_media_outbound(struct store *st, const char *sha256, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT 1 FROM messages WHERE media_sha256 = ? AND out = 1 LIMIT 1",
	                       cause);
	if (s == NULL)
		return -1;
	bind_text(s, 1, sha256);
	int rc = sqlite3_step(s);
	done(st, s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(st, cause, "look a media file up");
}

int
store_message_set_media(struct store *st, int64_t id, const struct store_media_update *u,
                        char **cause)
{
	sqlite3_stmt *s = prep(st,
	    "UPDATE messages SET media_state = ?2, media_sha256 = COALESCE(?3, media_sha256),"
	    " media_mime = COALESCE(?4, media_mime), media_size = CASE WHEN ?5 > 0 THEN ?5"
	    " ELSE media_size END, media_url = COALESCE(?6, media_url), media_error = ?7,"
	    " media_code = ?8 WHERE id = ?1", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, u->state);
	bind_text(s, 3, u->sha256);
	bind_text(s, 4, u->mime);
	sqlite3_bind_int64(s, 5, u->size);
	bind_text(s, 6, u->url);
	bind_text(s, 7, u->error);
	bind_text(s, 8, u->code);
	return exec_stmt(st, s, cause, "update a message's media");
}

int
store_media_job_add(struct store *st, int64_t msg_id, const char *url, const char *mime,
                    int64_t created, char **cause)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO media_jobs (msg_id, url, mime, created)"
	    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	bind_text(s, 2, url);
	bind_text(s, 3, mime);
	sqlite3_bind_int64(s, 4, created);
	return exec_stmt(st, s, cause, "add a download job") < 0 ? -1 : 0;
}

int
store_media_job_retry(struct store *st, int64_t msg_id, int attempts, int64_t next_try,
                      const char *error, char **cause)
{
	sqlite3_stmt *s = prep(st, "UPDATE media_jobs SET attempts = ?, next_try = ?, error = ?"
	    " WHERE msg_id = ?", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, attempts);
	sqlite3_bind_int64(s, 2, next_try);
	bind_text(s, 3, error ? error : "");
	sqlite3_bind_int64(s, 4, msg_id);
	return exec_stmt(st, s, cause, "reschedule a download") < 0 ? -1 : 0;
}

int
store_media_job_done(struct store *st, int64_t msg_id, char **cause)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM media_jobs WHERE msg_id = ?", cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, msg_id);
	return exec_stmt(st, s, cause, "drop a download job") < 0 ? -1 : 0;
}

int
store_media_jobs_all(struct store *st, struct store_media_job **out, char **cause)
{
	sqlite3_stmt *s = prep(st, "SELECT msg_id, url, mime, attempts, next_try, created, error"
	    " FROM media_jobs ORDER BY msg_id", cause);
	if (s == NULL)
		return -1;
	struct store_media_job *j = NULL;
	int n = 0, cap = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			j = xrealloc(j, (size_t)cap * sizeof *j);
		}
		j[n].msg_id = sqlite3_column_int64(s, 0);
		j[n].url = col_text0(s, 1);
		j[n].mime = col_text(s, 2);
		j[n].attempts = sqlite3_column_int(s, 3);
		j[n].next_try = sqlite3_column_int64(s, 4);
		j[n].created = sqlite3_column_int64(s, 5);
		j[n].error = col_text0(s, 6);
		n++;
	}
	done(st, s);
	if (rc != SQLITE_DONE) {
		store_media_jobs_free(j, n);
		return fail(st, cause, "read download jobs");
	}
	*out = j;
	return n;
}

void
store_media_jobs_free(struct store_media_job *j, int n)
{
	if (j == NULL)
		return;
	for (int i = 0; i < n; i++) {
		free(j[i].url);
		free(j[i].mime);
		free(j[i].error);
	}
	free(j);
}
