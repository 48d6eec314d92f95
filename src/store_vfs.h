/*
 * store_vfs.h — the hub store's SQLite VFS: the default one, except that
 * a commit's write-ahead-log frames reach the file in one write.
 *
 * SQLite writes each WAL frame as two pwrite(2)s, a 24-byte header and
 * the page, so a group commit of 40 pages is 80 system calls.  Through
 * this VFS the log's sequential writes gather in a buffer and go out
 * together when SQLite syncs the log at commit (the connection runs with
 * synchronous = FULL for that sync to happen); nothing is published to
 * readers before it (SQLite writes the wal-index header after the sync
 * returns), and a failed write fails the COMMIT as it would have.
 *
 * That commit sync itself is then skipped: the store makes commits
 * durable on its own terms (store.c: on_wal_commit and store_wal_sync),
 * exactly as it did with synchronous = NORMAL.  Every other sync goes
 * through: the log's header after a restart, checkpoints, the database.
 * Databases, journals and temporary files are the default VFS's own,
 * untouched.
 */
#ifndef WADESK_STORE_VFS_H
#define WADESK_STORE_VFS_H

/* The VFS's name for sqlite3_open_v2, registered on the first call
 * (not as the default); NULL if that failed (the default VFS will do). */
const char *store_vfs(void);

#endif
