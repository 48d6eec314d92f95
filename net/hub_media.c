/*
 * hub_media.c — see hub_media.h.
 *
 * Tokens come only from the Authorization header (never the URL, which
 * logs and proxies keep) and are checked as a console's hello is
 * (hub_token_role: stored SHA-256 hashes, constant-time comparison,
 * current access generation).  Files are served from the content-addressed
 * store with the type recorded when they were stored (sniffed, never the
 * sender's word), `X-Content-Type-Options: nosniff`, and an immutable
 * cache lifetime with the digest as ETag: the bytes under a name never
 * change, so an If-None-Match naming the digest is answered 304 at once.
 * An upload streams into a mediastore writer (never whole in memory), is
 * sniffed again once complete, and only then committed.
 *
 * The sniff (libmagic reads up to 7 MiB: about 0.2 s for 16 MB) and the
 * commit's two fsyncs run in one upload worker thread, never on the loop,
 * as the fetcher's finisher does for downloads: the loop hands the
 * finished upload over, a 1 ms lws timer collects it while any is in the
 * worker, records it in the store (the store is the loop's) and gives the
 * answer back to the server (answered(), which asks for WRITEABLE).  The
 * worker touches only the upload it holds and c->sn, which nothing else
 * uses once the worker runs (a libmagic cookie is not thread-safe).  A
 * connection that closes meanwhile orphans its upload: the collector
 * drops it (a committed file is still recorded: it is in the store).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "filename.h"
#include "hub.h"
#include "hub_lws.h"
#include "hub_media.h"
#include "media.h"
#include "mediastore.h"
#include "proto.h"
#include "sniff.h"
#include "util.h"

#define MEDIA_PREFIX  "/v1/media/"
#define PUBLIC_PREFIX "/v1/public/"
#define UPLOAD_PATH   "/v1/media"

#define COLLECT_US 1000

struct hub_upload {
	int64_t               started;    /* mono ms */
	struct hub_media_ctx *c;
	void                 *owner;
	struct media_writer  *w;
	char                  claim[128];
	int                   in_worker;  /* loop: handed over, not collected */
	int                   orphan;     /* under mu: the connection closed */
	/* the worker's outcome */
	struct hub_media_answer a;        /* when refused or failed */
	char                  hex[MEDIASTORE_HEX_LEN + 1];   /* committed */
	char                  mime[80];
	int64_t               size;
	int64_t               t_sniff, t_done;               /* mono ms */
	struct hub_upload    *next;
};

/* The upload worker (see the top of the file). */
struct hub_upworker {
	pthread_t          thread;
	int                thread_ok;
	pthread_mutex_t    mu;
	pthread_cond_t     cv;
	struct hub_upload *todo, *done;   /* under mu */
	int                stop;          /* under mu */
	int                pending;       /* loop only: handed over, not collected */
	lws_sorted_usec_list_t sul;
	int                scheduled;
	const char        *gate;          /* WADESK_TEST_UPLOAD_GATE */
	struct hub_media_ctx *c;
};

static void
answer(struct hub_media_answer *a, int status, const char *code, const char *message)
{
	a->status = status;
	a->ctype = "application/json";
	a->body = proto_http_error(code, message);
}

static int64_t
largest_cap(void)
{
	int64_t m = 0;
	for (int c = MEDIA_DOCUMENT; c <= MEDIA_VIDEO; c++)
		if (media_cap((enum media_category)c) > m)
			m = media_cap((enum media_category)c);
	return m;
}

/* 1 with *role when the Authorization header holds a valid token; 0 when
 * not (*a is the 401); -1 on a database error (*a is the 500). */
static int
authorize(struct hub_media_ctx *c, struct lws *wsi, enum proto_role *role,
          struct hub_media_answer *a)
{
	char hdr[256];
	int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
	const char *tok = NULL;
	if (n > 7 && strncasecmp(hdr, "Bearer ", 7) == 0) {
		tok = hdr + 7;
		while (*tok == ' ')
			tok++;
	}
	int rc = tok ? hub_token_role(c->h, tok, role) : 0;
	explicit_bzero(hdr, sizeof hdr);
	if (rc < 0) {
		answer(a, 500, "internal", "cannot check the token");
		return -1;
	}
	if (rc == 0) {
		answer(a, 401, "auth.token", "a valid access token is required "
		       "(Authorization: Bearer TOKEN)");
		return 0;
	}
	return 1;
}

/* Content-Disposition for a public name: a plain ASCII fallback and the
 * exact name in RFC 5987 form. */
static void
disposition(struct buf *b, const char *name)
{
	buf_puts(b, "Content-Disposition: attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		buf_putc(b, *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' ? (char)*p : '_');
	buf_puts(b, "\"; filename*=UTF-8''");
	buf_put_pct(b, name);
	buf_puts(b, "\r\n");
}

/* Percent-decodes s in place (lws leaves the path as sent). */
static void
pct_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		int hi, lo;
		if (*s == '%' && s[1] && s[2] &&
		    (hi = (s[1] >= '0' && s[1] <= '9') ? s[1] - '0' : ((s[1] | 32) >= 'a' && (s[1] | 32) <= 'f') ? (s[1] | 32) - 'a' + 10 : -1) >= 0 &&
		    (lo = (s[2] >= '0' && s[2] <= '9') ? s[2] - '0' : ((s[2] | 32) >= 'a' && (s[2] | 32) <= 'f') ? (s[2] | 32) - 'a' + 10 : -1) >= 0) {
			*o++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * 1 when the client already holds these bytes: If-None-Match names the
 * digest (its ETag, in any of the header's forms: "SHA", W/"SHA", a list)
 * or is `*`.  The content under a digest never changes, so that is all a
 * revalidation needs.
 */
static int
not_modified(struct lws *wsi, const char *sha)
{
	char inm[1024];
	if (lws_hdr_copy(wsi, inm, sizeof inm, WSI_TOKEN_HTTP_IF_NONE_MATCH) <= 0)
		return 0;
	const char *p = inm;
	while (*p == ' ')
		p++;
	return strcmp(p, "*") == 0 || strstr(inm, sha) != NULL;
}

/* 304 with the headers a 200 would carry about caching (RFC 9110 §15.4.5);
 * no body.  0 or -1, what the HTTP callback returns. */
static int
answer_304(struct lws *wsi, const char *sha, int public)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
	char etag[MEDIASTORE_HEX_LEN + 3];
	const char *cc = public ? "public, max-age=31536000, immutable"
	                        : "private, max-age=31536000, immutable";
	snprintf(etag, sizeof etag, "\"%s\"", sha);
	if (lws_add_http_header_status(wsi, HTTP_STATUS_NOT_MODIFIED, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"etag:", (const unsigned char *)etag,
	                                (int)strlen(etag), &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
	                                (const unsigned char *)cc, (int)strlen(cc), &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
	                                (const unsigned char *)"nosniff", 7, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int
serve(struct hub_media_ctx *c, struct lws *wsi, const char *sha, const char *mime,
      const char *name, int public, int *lws_rc, struct hub_media_answer *a)
{
	char *path = mediastore_path(c->ms, sha);
	if (path == NULL || mediastore_lookup(c->ms, sha, NULL) < 0) {
		free(path);
		answer(a, 404, "not_found", "no such media");
		return 1;
	}
	if (not_modified(wsi, sha)) {
		free(path);
		*lws_rc = answer_304(wsi, sha, public);
		return 0;
	}
	struct buf h = {0};
	buf_printf(&h, "X-Content-Type-Options: nosniff\r\nCache-Control: %s, max-age=31536000, "
	           "immutable\r\nETag: \"%s\"\r\n", public ? "public" : "private", sha);
	if (name != NULL)
		disposition(&h, name);
	*lws_rc = lws_serve_http_file(wsi, path, mime && mime[0] ? mime : "application/octet-stream",
	                              h.data, (int)h.len);
	/* lws_serve_http_file: <0 close, >0 done (transaction completed), 0 going on */
	if (*lws_rc > 0)
		*lws_rc = lws_http_transaction_completed(wsi) ? -1 : 0;
	buf_free(&h);
	free(path);
	return 0;
}

int
hub_media_get(struct hub_media_ctx *c, struct lws *wsi, const char *path, int *lws_rc,
              struct hub_media_answer *a)
{
	enum proto_role role;
	char sha[MEDIASTORE_HEX_LEN + 1];
	char *mime = NULL;
	int rc;

	memset(a, 0, sizeof *a);
	if (strncmp(path, MEDIA_PREFIX, strlen(MEDIA_PREFIX)) == 0) {
		if (authorize(c, wsi, &role, a) <= 0)
			return 1;
		snprintf(sha, sizeof sha, "%s", path + strlen(MEDIA_PREFIX));
		if (strlen(path + strlen(MEDIA_PREFIX)) != MEDIASTORE_HEX_LEN ||
		    hub_media_lookup(c->h, sha, &mime, NULL) <= 0) {
			answer(a, 404, "not_found", "no such media");
			return 1;
		}
		rc = serve(c, wsi, sha, mime, NULL, 0, lws_rc, a);
		free(mime);
		return rc;
	}
	if (strncmp(path, PUBLIC_PREFIX, strlen(PUBLIC_PREFIX)) == 0) {
		const char *p = path + strlen(PUBLIC_PREFIX);
		const char *slash = strchr(p, '/');
		/* Only files an outbound message carries: a customer's file is
		 * never public, whatever its digest. */
		if (slash == NULL || slash - p != MEDIASTORE_HEX_LEN) {
			answer(a, 404, "not_found", "no such media");
			return 1;
		}
		memcpy(sha, p, MEDIASTORE_HEX_LEN);
		sha[MEDIASTORE_HEX_LEN] = '\0';
		if (hub_media_public(c->h, sha) <= 0 || hub_media_lookup(c->h, sha, &mime, NULL) <= 0) {
			answer(a, 404, "not_found", "no such media");
			return 1;
		}
		char *raw = xstrdup(slash + 1);
		pct_decode(raw);
		char *name = filename_safe(raw);
		rc = serve(c, wsi, sha, mime, name, 1, lws_rc, a);
		free(name);
		free(raw);
		free(mime);
		return rc;
	}
	return -1;
}

int
hub_upload_begin(struct hub_media_ctx *c, struct lws *wsi, const char *path, void *owner,
                 struct hub_upload **up, struct hub_media_answer *a)
{
	enum proto_role role;
	char cl[32];
	char *cause = NULL;

	memset(a, 0, sizeof *a);
	*up = NULL;
	if (strcmp(path, UPLOAD_PATH) != 0)
		return -1;
	if (authorize(c, wsi, &role, a) <= 0)
		return 1;
	if (role < proto_type_role(PROTO_SEND)) {
		answer(a, 403, "auth.role", NULL);
		return 1;
	}
	if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
	    strtoll(cl, NULL, 10) > largest_cap()) {
		char *m = xasprintf("larger than %lld MB, the largest file WhatsApp takes",
		                    (long long)(largest_cap() / 1000000));
		answer(a, 413, "media.size", m);
		a->close = 1;
		free(m);
		return 1;
	}
	struct hub_upload *u = xcalloc(1, sizeof *u);
	u->c = c;
	u->owner = owner;
	u->started = mono_ms();
	if (lws_hdr_copy(wsi, u->claim, sizeof u->claim, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
		u->claim[0] = '\0';
	u->w = mediastore_begin(c->ms, largest_cap(), &cause);
	if (u->w == NULL) {
		log_warn("upload: %s", cause);
		answer(a, 500, "internal", "cannot store the file");
		free(cause);
		free(u);
		return 1;
	}
	*up = u;
	return 0;
}

int
hub_upload_body(struct hub_upload *up, const void *p, size_t n, struct hub_media_answer *a)
{
	char *cause = NULL;
	if (up->w == NULL)
		return 0;
	if (media_writer_write(up->w, p, n, &cause) == 0)
		return 0;
	memset(a, 0, sizeof *a);
	if (media_writer_over_cap(up->w)) {
		char *m = xasprintf("larger than %lld MB, the largest file WhatsApp takes",
		                    (long long)(largest_cap() / 1000000));
		answer(a, 413, "media.size", m);
		free(m);
	} else {
		log_warn("upload: %s", cause);
		answer(a, 500, "internal", "cannot store the file");
	}
	a->close = 1;
	free(cause);
	media_writer_abort(up->w);
	up->w = NULL;
	return 1;
}

/*
 * A test hook (tests/e2e/t-hub-media.sh): with WADESK_TEST_UPLOAD_GATE=PATH
 * in the environment the worker creates PATH.held and waits, before the
 * sniff, until PATH exists (60 s at most), so a test can act while an
 * upload is known to be in the worker.
 */
static void
gate_wait(struct hub_upworker *wk)
{
	char held[4096];
	if (wk->gate == NULL || wk->gate[0] == '\0')
		return;
	snprintf(held, sizeof held, "%s.held", wk->gate);
	FILE *f = fopen(held, "w");
	if (f != NULL)
		fclose(f);
	for (int i = 0; i < 6000 && access(wk->gate, F_OK) != 0; i++) {
		pthread_mutex_lock(&wk->mu);
		int stop = wk->stop;
		pthread_mutex_unlock(&wk->mu);
		if (stop)
			return;
		usleep(10000);
	}
}

/* In the worker: sniff (never trust the console: the content decides, the
 * claim only names), check the cap, commit.  Touches only u and c->sn. */
static void
upload_finish(struct hub_upload *u)
{
	struct hub_media_ctx *c = u->c;
	struct sniff_result r = {0};
	const char *code, *why;
	char *cause = NULL;

	u->size = media_writer_size(u->w);
	if (sniff_file(c->sn, media_writer_path(u->w), u->claim[0] ? u->claim : NULL, &r) < 0) {
		if (r.code != NULL)
			answer(&u->a, 415, "media.type", r.why);
		else
			answer(&u->a, 500, "internal", r.why);
	} else if (media_check(r.type->mime, u->size, &code, &why) < 0) {
		char *m = xasprintf("is %.1f MB, over the %lld MB that WhatsApp allows for %s files",
		                    (double)u->size / 1e6, (long long)(media_cap(r.type->category) / 1000000),
		                    media_category_name(r.type->category));
		answer(&u->a, strcmp(code, "media.size") == 0 ? 413 : 415, code, m);
		free(m);
	} else {
		struct media_writer *w = u->w;
		u->w = NULL;
		snprintf(u->mime, sizeof u->mime, "%s", r.type->mime);
		if (media_writer_commit(w, NULL, u->hex, &cause) < 0) {
			log_warn("upload: %s", cause);
			free(cause);
			u->hex[0] = '\0';
			answer(&u->a, 500, "internal", "cannot store the file");
		}
	}
	sniff_result_release(&r);
	media_writer_abort(u->w);         /* refused: nothing is kept */
	u->w = NULL;
	u->t_done = mono_ms();
}

static void *
upworker(void *arg)
{
	struct hub_upworker *wk = arg;
	pthread_mutex_lock(&wk->mu);
	for (;;) {
		while (wk->todo == NULL && !wk->stop)
			pthread_cond_wait(&wk->cv, &wk->mu);
		if (wk->stop)
			break;
		struct hub_upload *u = wk->todo;
		wk->todo = u->next;
		pthread_mutex_unlock(&wk->mu);
		u->t_sniff = mono_ms();
		gate_wait(wk);
		upload_finish(u);
		pthread_mutex_lock(&wk->mu);
		u->next = wk->done;
		wk->done = u;
	}
	pthread_mutex_unlock(&wk->mu);
	return NULL;
}

static void collect_tick(lws_sorted_usec_list_t *sul);

static void
collect_schedule(struct hub_media_ctx *c)
{
	if (!c->wk->scheduled) {
		c->wk->scheduled = 1;
		lws_sul_schedule(c->ctx, 0, &c->wk->sul, collect_tick, COLLECT_US);
	}
}

/* On the loop: records what the worker stored and answers each upload
 * whose connection is still there. */
static void
collect_tick(lws_sorted_usec_list_t *sul)
{
	struct hub_upworker *wk = lws_container_of(sul, struct hub_upworker, sul);
	wk->scheduled = 0;
	pthread_mutex_lock(&wk->mu);
	struct hub_upload *u = wk->done;
	wk->done = NULL;
	pthread_mutex_unlock(&wk->mu);
	while (u != NULL) {
		struct hub_upload *next = u->next;
		struct hub_media_ctx *c = u->c;
		char *cause = NULL;
		wk->pending--;
		if (u->hex[0] != '\0') {
			if (hub_media_recorded(c->h, u->hex, u->mime, u->size, &cause) < 0) {
				log_warn("upload: %s", cause);
				free(cause);
				answer(&u->a, 500, "internal", "cannot store the file");
			} else {
				u->a.status = 201;
				u->a.ctype = "application/json";
				u->a.body = proto_upload_reply(u->hex, u->mime, u->size);
				log_info("upload stored: %s, %lld bytes, %s", u->mime, (long long)u->size, u->hex);
			}
		}
		log_verbose("upload: body in %lld ms, sniffed and committed in %lld ms (upload worker), "
		            "answered %lld ms later", (long long)(u->t_sniff - u->started),
		            (long long)(u->t_done - u->t_sniff), (long long)(mono_ms() - u->t_done));
		pthread_mutex_lock(&wk->mu);
		int orphan = u->orphan;
		pthread_mutex_unlock(&wk->mu);
		if (!orphan)
			c->answered(u->owner, &u->a);
		free(u->a.body);
		free(u);
		u = next;
	}
	if (wk->pending > 0)
		collect_schedule(wk->c);
}

int
hub_upload_end(struct hub_upload *up, struct hub_media_answer *a)
{
	struct hub_media_ctx *c = up->c;
	struct hub_upworker *wk = c->wk;

	memset(a, 0, sizeof *a);
	if (up->w == NULL) {
		answer(a, 500, "internal", "the upload was already refused");
		return 0;
	}
	up->in_worker = 1;
	pthread_mutex_lock(&wk->mu);
	up->next = wk->todo;
	wk->todo = up;
	pthread_cond_signal(&wk->cv);
	pthread_mutex_unlock(&wk->mu);
	wk->pending++;
	collect_schedule(c);
	return 1;
}

void
hub_upload_free(struct hub_upload *up)
{
	if (up == NULL)
		return;
	if (up->in_worker) {
		/* the worker or the collector holds it: the collector frees it */
		pthread_mutex_lock(&up->c->wk->mu);
		up->orphan = 1;
		pthread_mutex_unlock(&up->c->wk->mu);
		return;
	}
	media_writer_abort(up->w);
	free(up->a.body);
	free(up);
}

int
hub_media_start(struct hub_media_ctx *c, struct lws_context *ctx,
                void (*answered)(void *owner, struct hub_media_answer *a), char **cause)
{
	struct hub_upworker *wk = xcalloc(1, sizeof *wk);
	c->ctx = ctx;
	c->answered = answered;
	wk->gate = getenv("WADESK_TEST_UPLOAD_GATE");
	wk->c = c;
	pthread_mutex_init(&wk->mu, NULL);
	pthread_cond_init(&wk->cv, NULL);
	if (pthread_create(&wk->thread, NULL, upworker, wk) != 0) {
		*cause = xstrdup("cannot start the upload worker thread");
		pthread_mutex_destroy(&wk->mu);
		pthread_cond_destroy(&wk->cv);
		free(wk);
		return -1;
	}
	wk->thread_ok = 1;
	c->wk = wk;
	return 0;
}

/* Frees a list of uploads the worker held: orphans go; the others go back
 * to their connections, whose close (lws_context_destroy) frees them. */
static void
release_list(struct hub_upload *u)
{
	while (u != NULL) {
		struct hub_upload *next = u->next;
		u->in_worker = 0;
		if (u->orphan)
			hub_upload_free(u);
		u = next;
	}
}

void
hub_media_stop(struct hub_media_ctx *c)
{
	struct hub_upworker *wk = c->wk;
	if (wk == NULL)
		return;
	lws_sul_cancel(&wk->sul);
	pthread_mutex_lock(&wk->mu);
	wk->stop = 1;
	pthread_cond_signal(&wk->cv);
	pthread_mutex_unlock(&wk->mu);
	if (wk->thread_ok)
		pthread_join(wk->thread, NULL);
	release_list(wk->todo);
	release_list(wk->done);
	pthread_mutex_destroy(&wk->mu);
	pthread_cond_destroy(&wk->cv);
	free(wk);
	c->wk = NULL;
}
