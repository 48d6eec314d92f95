/*
 * store_vfs.c — the store's VFS: WAL frames written together (see
 * store_vfs.h).
 *
 * The VFS is a copy of the default one whose xOpen wraps write-ahead
 * logs and hands every other file to the default xOpen untouched.  A
 * wrapped log keeps a buffer of contiguous writes: a write that extends
 * it, or falls inside it (SQLite rewrites a frame it wrote earlier in the
 * same transaction), goes into it; any other write, and every read, size,
 * truncate, sync, file control or close, first writes the buffer out.
 * One connection's file is only ever used by the thread holding that
 * connection, so the buffer needs no lock.
 *
 * xSync decides whether to sync: the sync SQLite asks for at the end of a
 * commit's frames (frame writes since the last sync, none of them at
 * offset 0) is left to the store; the sync after a log restart rewrote
 * the header (a write at offset 0), and the syncs of a checkpoint (no
 * frame written since the last sync), are done.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_vfs.h"
#include "util.h"

#define VFS_NAME "wadesk"
/* A commit larger than this is written in parts: the default VFS writes
 * at most 128 KiB - 1 bytes per call (SQLite 3.40, seekAndWriteFd). */
#define BUF_MAX  (120 * 1024)

struct walfile {
	sqlite3_file   base;
	sqlite3_file  *real;       /* the default VFS's file, after this struct */
	unsigned char *buf;        /* BUF_MAX bytes, from the first write on */
	size_t         len;
	sqlite3_int64  off;        /* where buf[0] goes in the file */
	int            framed;     /* written since the last sync: anything */
	int            restarted;  /* ... at offset 0 (the log's header) */
};

static sqlite3_vfs   vfs;
static sqlite3_vfs  *base_vfs;
static const char   *vfs_name;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define REAL(f) (((struct walfile *)(f))->real)

static int
wal_flush(struct walfile *w)
{
	if (w->len == 0)
		return SQLITE_OK;
	int rc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->len, w->off);
	w->len = 0;
	return rc;
}

static int
wal_close(sqlite3_file *f)
{
	struct walfile *w = (struct walfile *)f;
	int rc = wal_flush(w);
	int rc2 = w->real->pMethods->xClose(w->real);
	free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wal_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	int rc = wal_flush((struct walfile *)f);
	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int
wal_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct walfile *w = (struct walfile *)f;
	size_t amt = (size_t)n;

	w->framed = 1;
	if (off == 0)
		w->restarted = 1;
	if (w->len > 0 && off >= w->off && off + n <= w->off + (sqlite3_int64)w->len) {
		memcpy(w->buf + (off - w->off), p, amt);
		return SQLITE_OK;
	}
	if (w->len > 0 && (off != w->off + (sqlite3_int64)w->len || w->len + amt > BUF_MAX)) {
		int rc = wal_flush(w);
		if (rc != SQLITE_OK)
			return rc;
	}
	if (amt > BUF_MAX)
		return w->real->pMethods->xWrite(w->real, p, n, off);
	if (w->len == 0)
		w->off = off;
	if (w->buf == NULL)
		w->buf = xmalloc(BUF_MAX);
	memcpy(w->buf + w->len, p, amt);
	w->len += amt;
	return SQLITE_OK;
}

static int
wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = wal_flush((struct walfile *)f);
	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
wal_sync(sqlite3_file *f, int flags)
{
	struct walfile *w = (struct walfile *)f;
	int rc = wal_flush(w);
	int commit = w->framed && !w->restarted;
	w->framed = w->restarted = 0;
	if (rc != SQLITE_OK || commit)
		return rc;
	return w->real->pMethods->xSync(w->real, flags);
}

static int
wal_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = wal_flush((struct walfile *)f);
	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
wal_lock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int
wal_unlock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int
wal_check_lock(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
wal_control(sqlite3_file *f, int op, void *arg)
{
	int rc = wal_flush((struct walfile *)f);
	return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
wal_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
wal_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

/* Version 1: a log has no shared memory and is never memory-mapped. */
static const sqlite3_io_methods wal_methods = {
	.iVersion               = 1,
	.xClose                 = wal_close,
	.xRead                  = wal_read,
	.xWrite                 = wal_write,
	.xTruncate              = wal_truncate,
	.xSync                  = wal_sync,
	.xFileSize              = wal_size,
	.xLock                  = wal_lock,
	.xUnlock                = wal_unlock,
	.xCheckReservedLock     = wal_check_lock,
	.xFileControl           = wal_control,
	.xSectorSize            = wal_sector,
	.xDeviceCharacteristics = wal_device,
};

/* The real file goes after our struct, rounded up to keep it aligned. */
#define WAL_HEAD ((sizeof(struct walfile) + 15) & ~(size_t)15)

static int
vfs_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags)
{
	(void)v;
	if (!(flags & SQLITE_OPEN_WAL))
		return base_vfs->xOpen(base_vfs, name, f, flags, out_flags);
	struct walfile *w = (struct walfile *)f;
	memset(w, 0, sizeof *w);
	w->real = (sqlite3_file *)((unsigned char *)f + WAL_HEAD);
	int rc = base_vfs->xOpen(base_vfs, name, w->real, flags, out_flags);
	/* A failed open with methods set is still closed through them. */
	w->base.pMethods = rc == SQLITE_OK || w->real->pMethods != NULL ? &wal_methods : NULL;
	return rc;
}

static void
init(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (base_vfs == NULL)
		return;
	vfs = *base_vfs;
	vfs.pNext = NULL;
	vfs.zName = VFS_NAME;
	vfs.szOsFile = (int)(WAL_HEAD + (size_t)base_vfs->szOsFile);
	vfs.xOpen = vfs_open;
	if (sqlite3_vfs_register(&vfs, 0) == SQLITE_OK)
		vfs_name = VFS_NAME;
}

const char *
store_vfs(void)
{
	pthread_once(&once, init);
	return vfs_name;
}
