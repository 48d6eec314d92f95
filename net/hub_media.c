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
 * change, so an If-None-Match naming the digest is answered 304 at once.  An upload streams into a mediastore writer (never whole in
 * memory), is sniffed again once complete, and only then committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

struct hub_upload {
	int64_t               started;    /* mono ms */
	struct hub_media_ctx *c;
	struct media_writer  *w;
	char                  claim[128];
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
	static const char hex[] = "0123456789ABCDEF";
	buf_puts(b, "Content-Disposition: attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		buf_putc(b, *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' ? (char)*p : '_');
	buf_puts(b, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
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
hub_upload_begin(struct hub_media_ctx *c, struct lws *wsi, const char *path,
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

void
hub_upload_end(struct hub_upload *up, struct hub_media_answer *a)
{
	struct hub_media_ctx *c = up->c;
	struct sniff_result r = {0};
	char hex[MEDIASTORE_HEX_LEN + 1], *cause = NULL;

	memset(a, 0, sizeof *a);
	if (up->w == NULL) {
		answer(a, 500, "internal", "the upload was already refused");
		return;
	}
	int64_t size = media_writer_size(up->w);
	int64_t t0 = mono_ms();
	/* Never trust the console: the content decides, the claim only names. */
	if (sniff_file(c->sn, media_writer_path(up->w), up->claim[0] ? up->claim : NULL, &r) < 0) {
		if (r.code != NULL)
			answer(a, 415, "media.type", r.why);
		else
			answer(a, 500, "internal", r.why);
		goto drop;
	}
	const char *code, *why;
	if (media_check(r.type->mime, size, &code, &why) < 0) {
		char *m = xasprintf("is %.1f MB, over the %lld MB that WhatsApp allows for %s files",
		                    (double)size / 1e6, (long long)(media_cap(r.type->category) / 1000000),
		                    media_category_name(r.type->category));
		answer(a, strcmp(code, "media.size") == 0 ? 413 : 415, code, m);
		free(m);
		goto drop;
	}
	struct media_writer *w = up->w;
	up->w = NULL;
	if (media_writer_commit(w, NULL, hex, &cause) < 0 ||
	    hub_media_recorded(c->h, hex, r.type->mime, size, &cause) < 0) {
		log_warn("upload: %s", cause);
		answer(a, 500, "internal", "cannot store the file");
		free(cause);
		sniff_result_release(&r);
		return;
	}
	a->status = 201;
	a->ctype = "application/json";
	a->body = proto_upload_reply(hex, r.type->mime, size);
	log_info("upload stored: %s, %lld bytes, %s", r.type->mime, (long long)size, hex);
	log_verbose("upload: body in %lld ms, sniffed and committed in %lld ms",
	            (long long)(t0 - up->started), (long long)(mono_ms() - t0));
	sniff_result_release(&r);
	return;
drop:
	sniff_result_release(&r);
	media_writer_abort(up->w);
	up->w = NULL;
}

void
hub_upload_free(struct hub_upload *up)
{
	if (up == NULL)
		return;
	media_writer_abort(up->w);
	free(up);
}
