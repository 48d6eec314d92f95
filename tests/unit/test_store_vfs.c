/*
 * Unit tests for store_vfs.c: a commit's log frames reach the file in a
 * few large writes, the commit's own sync is left to the store while a
 * restarted log's header and checkpoints are still synced, a connection
 * that spills pages mid-transaction reads them back right, another
 * connection sees every committed row as soon as COMMIT returns, and a
 * write that fails fails the COMMIT and loses nothing committed before.
 * Also the store's offloaded checkpoint, which syncs the database itself.
 *
 * What reaches the disk is counted by a VFS registered as the default
 * before the store's first use, so that the store's VFS wraps it.
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

#include "store.h"
#include "store_vfs.h"
#include "util.h"
#include "slurp.h"

/* ---- the counting VFS: the default one, with the writes and syncs of
 * logs and databases counted */

struct counted {
	sqlite3_file  base;
	sqlite3_file *real;
	int           wal;      /* a log, else a database */
};

static sqlite3_vfs  counting;
static sqlite3_vfs *os_vfs;
static long wal_writes, wal_syncs, db_syncs;
static sqlite3_int64 wal_end;       /* where the last write to a log ended */
static int wal_gaps;                /* writes that did not start there */

#define C(f) (((struct counted *)(f))->real)

static int c_close(sqlite3_file *f) { return C(f)->pMethods->xClose(C(f)); }
static int c_read(sqlite3_file *f, void *p, int n, sqlite3_int64 o)
{
	return C(f)->pMethods->xRead(C(f), p, n, o);
}
static int c_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 o)
{
	if (((struct counted *)f)->wal) {
		wal_writes++;
		if (o != 0 && o != wal_end)
			wal_gaps++;
		wal_end = o + n;
	}
	return C(f)->pMethods->xWrite(C(f), p, n, o);
}
static int c_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return C(f)->pMethods->xTruncate(C(f), n);
}
static int c_sync(sqlite3_file *f, int flags)
{
	if (((struct counted *)f)->wal)
		wal_syncs++;
	else
		db_syncs++;
	return C(f)->pMethods->xSync(C(f), flags);
}
static int c_size(sqlite3_file *f, sqlite3_int64 *n) { return C(f)->pMethods->xFileSize(C(f), n); }
static int c_lock(sqlite3_file *f, int l) { return C(f)->pMethods->xLock(C(f), l); }
static int c_unlock(sqlite3_file *f, int l) { return C(f)->pMethods->xUnlock(C(f), l); }
static int c_check(sqlite3_file *f, int *o) { return C(f)->pMethods->xCheckReservedLock(C(f), o); }
static int c_control(sqlite3_file *f, int op, void *a)
{
	return C(f)->pMethods->xFileControl(C(f), op, a);
}
static int c_sector(sqlite3_file *f) { return C(f)->pMethods->xSectorSize(C(f)); }
static int c_device(sqlite3_file *f) { return C(f)->pMethods->xDeviceCharacteristics(C(f)); }
static int c_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **p)
{
	return C(f)->pMethods->xShmMap(C(f), pg, sz, ext, p);
}
static int c_shm_lock(sqlite3_file *f, int off, int n, int fl)
{
	return C(f)->pMethods->xShmLock(C(f), off, n, fl);
}
static void c_shm_barrier(sqlite3_file *f) { C(f)->pMethods->xShmBarrier(C(f)); }
static int c_shm_unmap(sqlite3_file *f, int del) { return C(f)->pMethods->xShmUnmap(C(f), del); }

/* Version 2: no memory-mapped reads (they would bypass the counts anyway). */
static const sqlite3_io_methods counted_methods = {
	2, c_close, c_read, c_write, c_truncate, c_sync, c_size, c_lock, c_unlock, c_check,
	c_control, c_sector, c_device, c_shm_map, c_shm_lock, c_shm_barrier, c_shm_unmap,
	NULL, NULL,
};

#define HEAD ((sizeof(struct counted) + 15) & ~(size_t)15)

static int
c_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	(void)v;
	if (!(flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_DB)))
		return os_vfs->xOpen(os_vfs, name, f, flags, out);
	struct counted *c = (struct counted *)f;
	c->real = (sqlite3_file *)((unsigned char *)f + HEAD);
	c->wal = (flags & SQLITE_OPEN_WAL) != 0;
	int rc = os_vfs->xOpen(os_vfs, name, c->real, flags, out);
	c->base.pMethods = rc == SQLITE_OK || c->real->pMethods ? &counted_methods : NULL;
	return rc;
}

/* ---- fixtures ------------------------------------------------------------ */

static char dir[64], path[96];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/wadesk-vfs-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	remove_db(dir, path);
	return 0;
}

static void
run(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static sqlite3_int64
one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	sqlite3_int64 v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The store's way: the store's VFS, WAL, synchronous = FULL (the commit
 * sync that gathers the frames), 2 KiB pages; with a table t (id, v). */
static sqlite3 *
open_store_vfs(void)
{
	sqlite3 *db;
	assert_non_null(store_vfs());
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                                 store_vfs()), SQLITE_OK);
	run(db, "PRAGMA page_size=2048; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	        "PRAGMA wal_autocheckpoint=0; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
	return db;
}

/* Another connection, through the default (counting) VFS. */
static sqlite3 *
open_plain(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

/* n rows of 1000 bytes each, in one transaction. */
static int
insert(sqlite3 *db, int first, int n)
{
	char *sql = xasprintf("WITH RECURSIVE k(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM k "
	                      "WHERE i < %d) INSERT INTO t SELECT i, randomblob(1000) FROM k",
	                      first, first + n - 1);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	free(sql);
	return rc;
}

/* ---- tests ----------------------------------------------------------------- */

/* About 600 KiB of frames in a handful of writes, back to back, and no
 * sync of the log: the store syncs it (on_wal_commit, store_wal_sync). */
static void
test_frames_gathered(void **state)
{
	(void)state;
	sqlite3 *db = open_store_vfs();
	long w0 = wal_writes, s0 = wal_syncs;
	wal_gaps = 0;
	assert_int_equal(insert(db, 1, 500), SQLITE_OK);
	long writes = wal_writes - w0;
	/* ~290 frames of 2072 bytes: 580 writes without the VFS */
	assert_true(writes >= 5);
	assert_true(writes <= 8);
	assert_int_equal(wal_gaps, 0);
	assert_int_equal(wal_syncs - s0, 0);

	sqlite3 *other = open_plain();
	assert_int_equal(one(other, "SELECT count(*) FROM t"), 500);
	assert_int_equal(one(other, "SELECT sum(length(v)) FROM t"), 500 * 1000);
	sqlite3_close(other);
	sqlite3_close(db);
}

/* A checkpoint syncs the log before copying it, and the first commit
 * after the log restarts syncs its new header: both go through. */
static void
test_other_syncs_kept(void **state)
{
	(void)state;
	sqlite3 *db = open_store_vfs();
	assert_int_equal(insert(db, 1, 50), SQLITE_OK);
	long s0 = wal_syncs;
	int logged = -1, copied = -1;
	assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART, &logged,
	                                           &copied), SQLITE_OK);
	assert_true(logged > 0);
	assert_int_equal(copied, logged);
	assert_true(wal_syncs - s0 >= 1);

	s0 = wal_syncs;
	assert_int_equal(insert(db, 51, 10), SQLITE_OK);     /* the log starts over */
	assert_int_equal(wal_syncs - s0, 1);                 /* its header, not the commit */
	s0 = wal_syncs;
	assert_int_equal(insert(db, 61, 10), SQLITE_OK);
	assert_int_equal(wal_syncs - s0, 0);

	sqlite3 *other = open_plain();
	assert_int_equal(one(other, "SELECT count(*) FROM t"), 70);
	sqlite3_close(other);
	sqlite3_close(db);
}

/* A transaction larger than its page cache spills frames to the log and
 * reads them back before it commits: every read sees what was written. */
static void
test_spill_reads_back(void **state)
{
	(void)state;
	sqlite3 *db = open_store_vfs();
	run(db, "PRAGMA cache_size=20; CREATE INDEX t_v ON t (v)");
	run(db, "BEGIN;"
	        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 2000)"
	        "  INSERT INTO t SELECT i, printf('%0999d', i) || 'x' FROM k;"
	        "UPDATE t SET v = printf('%01499d', id) || 'y' WHERE id % 3 = 0");
	const char *check = "SELECT count(*) FROM t WHERE v = CASE WHEN id % 3 = 0"
	                    " THEN printf('%01499d', id) || 'y' ELSE printf('%0999d', id) || 'x' END";
	assert_int_equal(one(db, check), 2000);
	run(db, "COMMIT");
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);

	sqlite3 *other = open_plain();
	assert_int_equal(one(other, check), 2000);
	assert_int_equal(one(other, "SELECT count(*) FROM t"), 2000);
	sqlite3_close(other);
	sqlite3_close(db);
}

/* The log may not grow (RLIMIT_FSIZE): the writes the VFS held back fail
 * when it writes them, at the commit's sync, and so does the COMMIT;
 * nothing of it is seen, everything before it is. */
static void
test_failed_write_fails_commit(void **state)
{
	(void)state;
	sqlite3 *db = open_store_vfs();
	assert_int_equal(insert(db, 1, 100), SQLITE_OK);

	char *wal = xasprintf("%s-wal", path);
	struct stat sb;
	assert_int_equal(stat(wal, &sb), 0);
	struct rlimit old;
	files_cap((rlim_t)sb.st_size, &old);
	int rc = insert(db, 101, 100);
	files_uncap(&old);
	assert_int_not_equal(rc, SQLITE_OK);
	free(wal);

	sqlite3 *other = open_plain();
	assert_int_equal(one(other, "SELECT count(*) FROM t"), 100);
	sqlite3_close(other);
	assert_int_equal(insert(db, 101, 100), SQLITE_OK);
	assert_int_equal(one(db, "SELECT count(*) FROM t"), 200);
	sqlite3_close(db);
}

/* One event appended and committed through the store. */
static void
append_event(struct store *st)
{
	char *cause = NULL;
	int64_t n = store_event_head(st) + 1;
	if (store_begin(st, &cause) < 0 ||
	    store_event_append(st, n, 1000, "{\"type\":\"test\"}", &cause) < 0 ||
	    store_commit(st, &cause) < 0)
		fail_msg("%s", cause);
}

/* An offloaded checkpoint syncs the database itself.  SQLite syncs it
 * only when a checkpoint reaches the end of the log, which one running
 * beside commits never does (here a reader's older snapshot stands for
 * them): the sync of everything it copied fell to the tail, in the
 * COMMIT after it, with the hub's connection held. */
static void
test_checkpoint_syncs_database(void **state)
{
	(void)state;
	struct store *st;
	char *cause = NULL;
	struct store_options o = { 1, 8 };
	if (store_open(path, 1, &o, &st, &cause) != 0)
		fail_msg("%s", cause);
	store_checkpoint_offload(st);
	append_event(st);
	sqlite3 *reader = open_plain();
	run(reader, "BEGIN");
	assert_int_equal(one(reader, "SELECT count(*) FROM events"), 1);
	for (int i = 0; i < 50 && !store_checkpoint_due(st); i++)
		append_event(st);
	assert_true(store_checkpoint_due(st));

	long d0 = db_syncs;
	assert_int_equal(store_checkpoint(st, &cause), 0);
	assert_true(db_syncs > d0);
	assert_false(store_checkpoint_due(st));

	run(reader, "COMMIT");
	sqlite3_close(reader);
	append_event(st);                    /* the tail */
	sqlite3 *other = open_plain();
	assert_int_equal(one(other, "SELECT count(*) FROM events"), store_event_head(st));
	sqlite3_close(other);
	store_close(st);
}

int
main(void)
{
	/* The counting VFS becomes the default before the store's VFS is
	 * made, so that the store's wraps it. */
	os_vfs = sqlite3_vfs_find(NULL);
	assert_non_null(os_vfs);
	counting = *os_vfs;
	counting.pNext = NULL;
	counting.zName = "counting";
	counting.szOsFile = (int)(HEAD + (size_t)os_vfs->szOsFile);
	counting.xOpen = c_open;
	if (sqlite3_vfs_register(&counting, 1) != SQLITE_OK)
		return 1;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frames_gathered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_syncs_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spill_reads_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_fails_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_syncs_database, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
