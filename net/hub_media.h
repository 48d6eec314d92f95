/*
 * hub_media.h — the hub's HTTP media endpoints (docs/protocol.md §HTTP
 * media endpoints), called from hub_server.c's HTTP callback:
 *
 *   GET  /v1/media/SHA256          Authorization: Bearer TOKEN (any role)
 *   POST /v1/media                 Authorization: Bearer TOKEN (send's role)
 *   GET  /v1/public/SHA256/NAME    no token; outbound media only
 *
 * Each entry point either answers itself (a file served with
 * lws_serve_http_file) or hands back a status, content type and body for
 * the server's usual deferred answer.
 */
#ifndef WADESK_HUB_MEDIA_H
#define WADESK_HUB_MEDIA_H

#include <stddef.h>
#include <stdint.h>

struct lws;
struct lws_context;
struct hub;
struct mediastore;
struct sniff;

struct hub_media_answer;
struct hub_upworker;

struct hub_media_ctx {
	struct hub        *h;
	struct mediastore *ms;
	struct sniff      *sn;        /* the upload worker's once it runs */
	/* set by hub_media_start() */
	struct lws_context *ctx;
	void (*answered)(void *owner, struct hub_media_answer *a);
	struct hub_upworker *wk;
};

/* An answer for the server to write: status, ctype (static), body
 * (xmalloc'd, taken by the server). */
struct hub_media_answer {
	int         status;
	const char *ctype;
	char       *body;
	int         close;        /* close the connection after it (body not read) */
};

/*
 * A GET on path.  -1: not a media path (the server goes on).  0: a file is
 * being served; *lws_rc is what the HTTP callback must return.  1: *a is
 * the answer (401, 404, 500).
 */
int hub_media_get(struct hub_media_ctx *c, struct lws *wsi, const char *path, int *lws_rc,
                  struct hub_media_answer *a);

/*
 * Starts the upload worker, a thread that sniffs, checks and commits
 * finished uploads off the loop (c->sn becomes its own).  Its answers come
 * back on the loop through answered(owner, a): *a is 201, 413, 415 or 500,
 * a->body the server's to take (set it NULL); the upload is freed after
 * the call, so the server forgets its pointer there.  0 or -1 with *cause.
 */
int  hub_media_start(struct hub_media_ctx *c, struct lws_context *ctx,
                     void (*answered)(void *owner, struct hub_media_answer *a), char **cause);
/* Stops the worker (before lws_context_destroy, which then frees, through
 * hub_upload_free, the uploads their connections still hold).  Uploads
 * not finished are dropped.  No-op when not started. */
void hub_media_stop(struct hub_media_ctx *c);

struct hub_upload;
/*
 * A POST on path.  -1: not /v1/media.  0: *up started (feed the body with
 * hub_upload_body, end with hub_upload_end); owner is what answered()
 * will be given.  1: *a is the answer now (401, 403, 413 from
 * Content-Length, 500); the body is to be dropped.
 */
int hub_upload_begin(struct hub_media_ctx *c, struct lws *wsi, const char *path, void *owner,
                     struct hub_upload **up, struct hub_media_answer *a);
/* 0 to go on; 1 with *a (413 media.size): the upload is over, drop the rest. */
int hub_upload_body(struct hub_upload *up, const void *p, size_t n, struct hub_media_answer *a);
/*
 * The body is complete.  1: handed to the upload worker (sniff, check,
 * commit), recorded and answered later through answered(); keep up until
 * then (a close meanwhile: hub_upload_free).  0: *a is the answer now
 * (500: the upload had already failed); free up.
 */
int  hub_upload_end(struct hub_upload *up, struct hub_media_answer *a);
/* NULL ok; drops an unfinished file.  An upload in the worker is only
 * marked: the worker's collector frees it, and never answers it. */
void hub_upload_free(struct hub_upload *up);

#endif
