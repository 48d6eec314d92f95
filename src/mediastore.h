/*
 * mediastore.h — the hub's media files, content-addressed on disk.
 *
 * A file lives at DIR/media/ab/abcdef... where abcdef... is the lower-case
 * hex SHA-256 of its bytes and ab its first two digits.  The same bytes are
 * kept once however many messages carry them, and a name is a promise: the
 * file under it has exactly that digest.
 *
 * Files arrive through a writer, fed chunk by chunk (a libcurl write
 * callback, an HTTP upload body), so nothing is ever held whole in memory:
 *
 *	w = mediastore_begin(ms, media_cap(MEDIA_DOCUMENT), &cause);
 *	while (...) media_writer_write(w, chunk, n, &cause);   -1: abort
 *	(sniff media_writer_path(w) here if the type must be checked)
 *	media_writer_commit(w, NULL, hex, &cause);
 *
 * A writer streams into a temporary file under DIR/media/tmp/ (the same
 * file system), hashing as it goes.  Commit fsyncs the file, renames it
 * to its name (or drops it when that name exists already: deduplication)
 * and fsyncs the directory, so a name either holds the whole file or does
 * not exist, even after a crash.  Temporary files older than a day are
 * removed by mediastore_open().
 *
 * A struct mediastore is read-only after mediastore_open(); any number of
 * writers, in any threads or processes, may run at once, including on the
 * same content.
 */
#ifndef WADESK_MEDIASTORE_H
#define WADESK_MEDIASTORE_H

#include <stddef.h>
#include <stdint.h>

#define MEDIASTORE_HEX_LEN 64   /* lower-case hex SHA-256 */

struct mediastore;
struct media_writer;

/*
 * Opens (creating them when missing, mode 0700) DIR/media and
 * DIR/media/tmp.  DIR must exist.  NULL with *cause (xmalloc'd) on error:
 * "cannot create 'DIR/media': Permission denied".  Free with
 * mediastore_free().
 */
struct mediastore *mediastore_open(const char *dir, char **cause);
void mediastore_free(struct mediastore *ms);

/*
 * Starts a file of at most cap bytes (cap < 0: no cap; pass the largest cap
 * the file may have, e.g. media_cap() of the declared category, and check
 * the exact cap with media_check() once the type is sniffed).  NULL with
 * *cause when no temporary file can be created.
 */
struct media_writer *mediastore_begin(struct mediastore *ms, int64_t cap, char **cause);
/*
 * Appends n bytes.  -1 with *cause when they cannot be written or would
 * take the file over its cap (then media_writer_over_cap() is 1 and the
 * stable code to report is "media.size").  After a -1 the writer only
 * accepts media_writer_abort().
 */
int media_writer_write(struct media_writer *w, const void *p, size_t n, char **cause);
/* 1 when a write was refused for the cap. */
int media_writer_over_cap(const struct media_writer *w);
/* Bytes written so far. */
int64_t media_writer_size(const struct media_writer *w);
/*
 * Path of the temporary file holding what was written so far (every byte
 * written is in it: there is no user-space buffer); valid until commit or
 * abort.  For sniff_file() before committing.
 */
const char *media_writer_path(const struct media_writer *w);
/*
 * Makes the file durable under its digest and writes the digest to hex.
 * When expect is not NULL the digest must equal it (a download verified
 * against a known hash), else the file is dropped: -1 with *cause
 * "content does not match its digest (expected X, got Y)".  0 also when
 * the same content was stored already.  Frees w in every case; on -1
 * nothing is left behind.
 */
int media_writer_commit(struct media_writer *w, const char *expect,
			char hex[MEDIASTORE_HEX_LEN + 1], char **cause);
/* Drops the file and frees w.  NULL is a no-op. */
void media_writer_abort(struct media_writer *w);

/* One call for bytes already in memory: begin, write, commit. */
int mediastore_put(struct mediastore *ms, const void *p, size_t n, int64_t cap,
		   char hex[MEDIASTORE_HEX_LEN + 1], char **cause);

/* 1 when s is 64 lower-case hex digits (the only names ever looked up). */
int mediastore_valid_hash(const char *s);
/*
 * The path of the file named hex, for serving (xmalloc'd), whether or not
 * it exists; NULL when hex is not a valid hash, so a name from a URL can
 * never walk out of the store.
 */
char *mediastore_path(const struct mediastore *ms, const char *hex);
/* 0 and *size (if not NULL) when the file exists; -1 otherwise. */
int mediastore_lookup(const struct mediastore *ms, const char *hex, int64_t *size);

#endif
