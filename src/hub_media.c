/*
 * hub_media.c — the hub's media rules, apart from the network
 * (docs/media.md).
 *
 * Inbound.  A customer's media message is stored with its media
 * *pending* and a download job (store_media_job_add) in the webhook's
 * transaction; the job joins the in-memory list below only once that
 * transaction commits (hub_flush), like the outbox.  net/hub_fetch.c asks
 * for due jobs (hub_fetch_next), downloads and sniffs, and reports one
 * outcome per attempt (hub_fetch_result): ready (the file is in the media
 * store), refused (media.type / media.size / media.download: final), or
 * retry.  Every change of a message's media is committed with a new
 * `message` event carrying the whole message, so consoles update in
 * place.  Retries follow the backoff table of docs/media.md (5 s, 15 s,
 * 1 min, 5 min, 15 min, 1 h, then hourly; ±20 % jitter), scaled by the
 * config's media_backoff_ms for tests, for 24 h; a 404 is retried a few
 * times only (a provider's URL can lag its webhook, not for a day).
 *
 * Outbound.  An upload is recorded (hub_media_recorded) with its sniffed
 * type; a send names it by digest and the stored type is the truth
 * (hub_media_for_send).  The provider fetches it from the public URL,
 * which serves only digests that an outbound message carries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "filename.h"
#include "hub_int.h"
#include "media.h"
#include "mediastore.h"
#include "sniff.h"
#include "util.h"

#define FETCH_GIVE_UP_S  (24 * 3600)
#define FETCH_404_MAX    5

/* Backoff in units of media_backoff_ms (5 s by default): 5 s, 15 s, 1 min,
 * 5 min, 15 min, 1 h, then hourly. */
static const int backoff_units[] = { 1, 3, 12, 60, 180, 720 };

/* ---- the in-memory job list ---------------------------------------------------- */

static void
fjob_release(struct hub_fjob *j)
{
	free(j->url);
	free(j->mime);
	free(j->error);
}

static void
fjob_append(struct hub_fjob **v, size_t *n, size_t *cap, const struct hub_fjob *j)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = *j;
}

void
hub_fetch_push(struct hub *h, const struct hub_fjob *j)
{
	fjob_append(&h->fjobs, &h->nfjobs, &h->cfjobs, j);
}

static struct hub_fjob *
fjob_find(struct hub *h, int64_t msg_id, size_t *idx)
{
	for (size_t i = 0; i < h->nfjobs; i++)
		if (h->fjobs[i].msg_id == msg_id) {
			if (idx)
				*idx = i;
			return &h->fjobs[i];
		}
	return NULL;
}

static void
fjob_remove(struct hub *h, int64_t msg_id)
{
	size_t i;
	if (fjob_find(h, msg_id, &i) == NULL)
		return;
	fjob_release(&h->fjobs[i]);
	memmove(&h->fjobs[i], &h->fjobs[i + 1], (h->nfjobs - i - 1) * sizeof *h->fjobs);
	h->nfjobs--;
}

void
hub_fetch_free_all(struct hub *h)
{
	for (size_t i = 0; i < h->nfjobs; i++)
		fjob_release(&h->fjobs[i]);
	free(h->fjobs);
	h->fjobs = NULL;
	h->nfjobs = h->cfjobs = 0;
}

int
hub_fetch_load(struct hub *h, char **cause)
{
	struct store_media_job *j;
	int n = store_media_jobs_all(h->st, &j, cause);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct hub_fjob f = { j[i].msg_id, j[i].url, j[i].mime, j[i].error, j[i].attempts,
		                      j[i].next_try, j[i].created, 0 };
		j[i].url = j[i].mime = j[i].error = NULL;
		hub_fetch_push(h, &f);
	}
	store_media_jobs_free(j, n);
	return 0;
}

/* Inside the caller's transaction: the job row now, the memory view after
 * the commit (hub_flush), or never when the transaction is undone. */
int
hub_fetch_add(struct hub *h, int64_t msg_id, const char *url, const char *mime, char **cause)
{
	int64_t created = hub_now(h);
	if (store_media_job_add(h->st, msg_id, url, mime, created, cause) < 0)
		return -1;
	struct hub_fjob f = { msg_id, xstrdup(url), xstrdup(mime), xstrdup(""), 0, 0, created, 0 };
	fjob_append(&h->cur.newf, &h->cur.nnewf, &h->cur.cnewf, &f);
	return 0;
}

void
hub_fetch_undo(struct hub *h, size_t nnewf)
{
	while (h->cur.nnewf > nnewf)
		fjob_release(&h->cur.newf[--h->cur.nnewf]);
}

void
hub_fetch_flush(struct hub *h, struct hub_tx *t)
{
	for (size_t i = 0; i < t->nnewf; i++)
		hub_fetch_push(h, &t->newf[i]);
	t->nnewf = 0;
}

void
hub_fetch_tx_free(struct hub_tx *t)
{
	for (size_t i = 0; i < t->nnewf; i++)
		fjob_release(&t->newf[i]);
	free(t->newf);
	t->newf = NULL;
	t->nnewf = t->cnewf = 0;
}

size_t
hub_fetch_pending(struct hub *h)
{
	return h->nfjobs;
}

int
hub_fetch_next(struct hub *h, int64_t now_ms, struct hub_fetch *f)
{
	for (size_t i = 0; i < h->nfjobs; i++) {
		struct hub_fjob *j = &h->fjobs[i];
		if (j->inflight || j->next_try > now_ms)
			continue;
		j->inflight = 1;
		f->msg_id = j->msg_id;
		f->url = j->url;
		f->mime = j->mime;
		f->attempts = j->attempts;
		const struct media_type *t = media_lookup(j->mime);
		if (t == NULL)
			t = media_inbound_lookup(j->mime);
		f->cap = t ? media_cap(t->category) : media_cap(MEDIA_DOCUMENT);
		return 1;
	}
	return 0;
}

int64_t
hub_fetch_wait(struct hub *h, int64_t now_ms)
{
	int64_t wait = -1;
	for (size_t i = 0; i < h->nfjobs; i++) {
		if (h->fjobs[i].inflight)
			continue;
		int64_t w = h->fjobs[i].next_try - now_ms;
		if (w < 0)
			w = 0;
		if (wait < 0 || w < wait)
			wait = w;
	}
	return wait;
}

/* ---- outcomes ------------------------------------------------------------------------ */

static int64_t
backoff_ms(struct hub *h, int attempts)
{
	size_t i = attempts <= 0 ? 0 : (size_t)attempts - 1;
	if (i >= ARRAY_LEN(backoff_units))
		i = ARRAY_LEN(backoff_units) - 1;
	int64_t d = (int64_t)backoff_units[i] * h->cfg->media_backoff_ms;
	/* ±20 % so that many downloads failing together do not retry together */
	uint32_t rnd = 0;
	random_bytes(&rnd, sizeof rnd);
	int64_t span = d * 2 / 5;
	if (span > 0)
		d = d - d / 5 + (int64_t)(rnd % (uint32_t)(span + 1));
	return d > 0 ? d : 1;
}

/* Commits u for msg_id with a message event; the job is dropped when
 * final.  Logs and keeps the job (it will be tried again) on failure. */
static int
media_commit(struct hub *h, int64_t msg_id, const struct store_media_update *u, int final,
             const struct hub_fjob *retry)
{
	char *cause = NULL;
	if (hub_begin(h, &cause) < 0)
		goto err;
	int rc = store_message_set_media(h->st, msg_id, u, &cause);
	if (rc >= 0 && final)
		rc = store_media_job_done(h->st, msg_id, &cause);
	else if (rc >= 0 && retry != NULL)
		rc = store_media_job_retry(h->st, msg_id, retry->attempts, retry->next_try, u->error,
		                           &cause);
	if (rc >= 0 && u->sha256 != NULL)
		rc = store_media_put(h->st, u->sha256, u->mime, u->size, hub_now(h), &cause);
	if (rc >= 0)
		rc = hub_emit_message_id(h, msg_id, &cause);
	if (rc < 0) {
		hub_abort(h);
		goto err;
	}
	if (hub_commit(h, &cause) < 0)
		goto err;
	return 0;
err:
	log_warn("cannot record the download of message %lld: %s", (long long)msg_id, cause);
	free(cause);
	return -1;
}

static const char *
clock_utc(int64_t ms, char out[16])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%H:%M:%S", &tm);
	return out;
}

void
hub_fetch_result(struct hub *h, int64_t msg_id, const struct hub_fetch_outcome *o, int64_t now_ms)
{
	struct hub_fjob *j = fjob_find(h, msg_id, NULL);
	if (j == NULL)
		return;
	j->inflight = 0;
	j->attempts++;

	if (o->kind == HUB_FETCH_READY) {
		char url[16 + MEDIASTORE_HEX_LEN];
		snprintf(url, sizeof url, "/v1/media/%s", o->sha256);
		struct store_media_update u = { "ready", o->sha256, o->mime, url, NULL, NULL, o->size };
		if (media_commit(h, msg_id, &u, 1, NULL) < 0) {
			j->next_try = now_ms + backoff_ms(h, 1);
			return;
		}
		h->m.media_ok++;
		log_info("media of message %lld stored: %s, %lld bytes, %s", (long long)msg_id, o->mime,
		         (long long)o->size, o->sha256);
		fjob_remove(h, msg_id);
		return;
	}

	const char *code = o->code;
	char *why = NULL;
	int final = o->kind == HUB_FETCH_REFUSED;
	if (!final && o->status == 404 && j->attempts >= FETCH_404_MAX) {
		final = 1;
		code = "media.download";
		why = xasprintf("cannot download: %s (gave up after %d attempts)", o->why, j->attempts);
	} else if (!final && hub_now(h) - j->created >= FETCH_GIVE_UP_S) {
		final = 1;
		code = "media.download";
		why = xasprintf("cannot download: %s (gave up after 24 h, %d attempts)", o->why,
		                j->attempts);
	}
	if (final) {
		struct store_media_update u = { "refused", NULL, o->mime, NULL, why ? why : o->why,
		                                code, o->size };
		if (media_commit(h, msg_id, &u, 1, NULL) < 0) {
			j->next_try = now_ms + backoff_ms(h, 1);
			free(why);
			return;
		}
		if (code != NULL && strcmp(code, "media.download") == 0)
			h->m.media_failed++;
		else
			h->m.media_refused++;
		log_info("media of message %lld refused: %s", (long long)msg_id, why ? why : o->why);
		free(why);
		fjob_remove(h, msg_id);
		return;
	}

	int64_t d = backoff_ms(h, j->attempts);
	char hhmmss[16];
	j->next_try = now_ms + d;
	free(j->error);
	j->error = xasprintf("not downloaded yet: %s (attempt %d; next try %s UTC)", o->why,
	                     j->attempts, clock_utc(j->next_try, hhmmss));
	struct store_media_update u = { "pending", NULL, NULL, NULL, j->error, NULL, 0 };
	media_commit(h, msg_id, &u, 0, j);
	h->m.media_retried++;
	log_verbose("media of message %lld: %s", (long long)msg_id, j->error);
}

/* ---- uploads, lookups, sends -------------------------------------------------------------- */

void
hub_media_uploaded(struct hub *h, int ok)
{
	if (ok)
		h->m.uploads_ok++;
	else
		h->m.uploads_refused++;
}

int
hub_media_recorded(struct hub *h, const char *sha256, const char *mime, int64_t size,
                   char **cause)
{
	return store_media_put(h->st, sha256, mime, size, hub_now(h), cause);
}

int
hub_media_lookup(struct hub *h, const char *sha256, char **mime, int64_t *size)
{
	char *cause = NULL;
	if (!mediastore_valid_hash(sha256))
		return 0;
	int rc = store_media_get(h->st, sha256, mime, size, &cause);
	if (rc < 0) {
		log_warn("%s", cause);
		free(cause);
	}
	return rc;
}

int
hub_media_public(struct hub *h, const char *sha256)
{
	char *cause = NULL;
	if (!mediastore_valid_hash(sha256))
		return 0;
	int rc = store_media_outbound(h->st, sha256, &cause);
	if (rc < 0) {
		log_warn("%s", cause);
		free(cause);
	}
	return rc;
}

int
hub_token_role(struct hub *h, const char *token, enum proto_role *role)
{
	int64_t gen = 0;
	char *cause = NULL;
	int rc = access_check(h->st, token ? token : "", role, &gen, &cause);
	if (rc < 0) {
		log_warn("token check: %s", cause);
		free(cause);
		return -1;
	}
	if (rc == 0 || *role == PROTO_ROLE_NONE || gen < h->generation)
		return 0;
	return 1;
}

/* The digest a send names: media.sha256, or the last part of its url
 * ("/v1/media/SHA256", as an upload answered it). */
static const char *
send_digest(const struct proto_media *pm)
{
	if (pm->sha256 != NULL && pm->sha256[0])
		return pm->sha256;
	if (pm->url != NULL) {
		const char *slash = strrchr(pm->url, '/');
		return slash ? slash + 1 : pm->url;
	}
	return "";
}

int
hub_media_for_send(struct hub *h, const struct proto_media *pm, struct hub_media_send *out,
                   const char **code, char **why)
{
	memset(out, 0, sizeof *out);
	const char *sha = send_digest(pm);
	if (!mediastore_valid_hash(sha)) {
		*code = "media.unknown";
		*why = xstrdup("the media names no file of this hub: upload it first (POST /v1/media)");
		return -1;
	}
	int rc = hub_media_lookup(h, sha, &out->mime, &out->size);
	if (rc <= 0) {
		*code = rc < 0 ? "internal" : "media.unknown";
		*why = rc < 0 ? xstrdup("cannot read the media table")
		              : xasprintf("no uploaded file %.12s... on this hub: upload it first", sha);
		return -1;
	}
	memcpy(out->sha256, sha, MEDIASTORE_HEX_LEN + 1);
	const char *name = pm->filename && pm->filename[0] ? pm->filename : "file";
	char *safe = filename_safe(name);
	out->filename = sniff_fix_name(safe, out->mime);
	free(safe);
	return 0;
}

void
hub_media_send_release(struct hub_media_send *m)
{
	free(m->mime);
	free(m->filename);
	memset(m, 0, sizeof *m);
}

/* ---- the public URL ------------------------------------------------------------------------ */

char *
hub_public_media_url(struct hub *h, const char *sha256, const char *name)
{
	struct buf b = {0};
	const struct config *c = h->cfg;
	if (c->public_url[0]) {
		size_t n = strlen(c->public_url);
		while (n > 0 && c->public_url[n - 1] == '/')
			n--;
		buf_append(&b, c->public_url, n);
	} else {
		char *host = NULL;
		int port = 0;
		if (hub_config_split_listen(c->listen, &host, &port) < 0) {
			host = xstrdup("127.0.0.1");
			port = 8700;
		}
		const char *hn = c->public_host[0] ? c->public_host : host;
		int v6 = strchr(hn, ':') != NULL;
		buf_printf(&b, "%s://%s%s%s:%d", c->tls_cert[0] ? "https" : "http", v6 ? "[" : "", hn,
		           v6 ? "]" : "", port);
		free(host);
	}
	buf_printf(&b, "/v1/public/%s/", sha256);
	buf_put_pct(&b, name && name[0] ? name : "file");
	return buf_steal(&b);
}
