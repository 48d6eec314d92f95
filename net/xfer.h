/*
 * xfer.h — the console's HTTP transfers with the hub (libcurl): fetching
 * media into the local cache (GET /v1/media/SHA256) and uploading a file
 * to send (POST /v1/media), see docs/media.md.
 *
 * The console's loop must never block, so transfers run on a libcurl
 * multi handle in one worker thread.  The loop learns about them through
 * a pipe (xfer_fd(), watched with client_watch_fd()): when it is readable
 * the loop calls xfer_dispatch(), which runs the progress and completion
 * callbacks in the loop's own thread.  Callbacks never run anywhere else,
 * so they may touch the cache, the session and the screen freely.
 *
 * The access token travels in an `Authorization: Bearer` header, never in
 * a URL (URLs end up in logs).  A fetch streams into a mediastore writer
 * committed with the expected digest, so a corrupted or substituted
 * transfer is dropped, never stored.
 */
#ifndef WADESK_NET_XFER_H
#define WADESK_NET_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "mediastore.h"

struct xfer;

struct xfer_result {
	int     ok;             /* 1: the transfer completed with a 2xx (and, for
	                         * a fetch, the file is committed) */
	long    status;         /* HTTP status; 0 when none came */
	char   *error;          /* !ok: what went wrong, one line */
	char   *body;           /* upload: the answer's body (NUL-terminated, <= 64 kB) */
	size_t  body_len;
	char    sha256[MEDIASTORE_HEX_LEN + 1];   /* fetch: the stored digest */
	int     over_cap;       /* fetch: refused for the cap ("media.size") */
};

/* Progress: bytes done and expected (total 0 when not known yet). */
typedef void (*xfer_progress_fn)(void *arg, int64_t done, int64_t total);
/* The end of a transfer; r and its strings are valid during the call. */
typedef void (*xfer_done_fn)(void *arg, const struct xfer_result *r);

/* Starts the worker thread.  NULL with *cause (xmalloc'd). */
struct xfer *xfer_new(char **cause);
/* Stops the worker, drops every transfer (no callback runs).  NULL ok. */
void xfer_free(struct xfer *x);
/* The descriptor that becomes readable when xfer_dispatch() has work. */
int  xfer_fd(const struct xfer *x);
/* Runs the callbacks of what happened since the last call (loop thread). */
void xfer_dispatch(struct xfer *x);
/* Transfers not finished yet. */
int  xfer_active(const struct xfer *x);

/*
 * GET url with the bearer token into ms; the file is committed only when
 * its SHA-256 is expect (64 hex digits) and it fits in cap bytes.
 * progress may be NULL.  Returns 0 (done always follows), -1 with *cause
 * when the request cannot even start.
 */
int  xfer_fetch(struct xfer *x, const char *url, const char *token, struct mediastore *ms,
                const char *expect, int64_t cap, xfer_progress_fn progress,
                xfer_done_fn done, void *arg, char **cause);
/*
 * POST the file at path (streamed, never read whole) to url with the
 * bearer token, Content-Type mime and Content-Disposition naming
 * filename (percent-encoded).  0 (done follows) or -1 with *cause (the
 * file cannot be opened).
 */
int  xfer_upload(struct xfer *x, const char *url, const char *token, const char *path,
                 const char *mime, const char *filename, xfer_progress_fn progress,
                 xfer_done_fn done, void *arg, char **cause);

/* "filename*=UTF-8''" value: RFC 5987 percent-encoding of name (xmalloc'd). */
char *xfer_pct_encode(const char *name);

#endif
