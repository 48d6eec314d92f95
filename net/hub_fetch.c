/*
 * hub_fetch.c — see hub_fetch.h.  One CURLM, one timer, no threads.
 *
 * A transfer writes only a 200's body into its writer: the body of an
 * error status is counted and dropped.  The writer's cap and
 * CURLOPT_MAXFILESIZE_LARGE are the declared category's cap, so a file
 * over it stops at once (media.size, final); the exact cap of the sniffed
 * category is checked at the end.  The Gupshup media API
 * ({api_url}/sm/api/v1/wamedia/...) gets the apikey header; any other
 * payload URL is fetched as given, without it.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hub.h"
#include "hub_config.h"
#include "hub_fetch.h"
#include "hub_lws.h"
#include "media.h"
#include "mediastore.h"
#include "sniff.h"
#include "util.h"

#define MAX_INFLIGHT 4
#define POLL_US      1000
#define WAMEDIA_PATH "/sm/api/v1/wamedia/"

struct fx {
	CURL      *easy;
	int64_t    msg_id;
	char      *mime;                  /* declared */
	int64_t    cap;
	struct media_writer *w;
	int        over_cap;
	char      *werr;                  /* the writer's error, if it failed */
	long       status;
	char       err[CURL_ERROR_SIZE];
	struct curl_slist *headers;
	struct hub_fetcher *f;
	struct fx *prev, *next;
};

struct hub_fetcher {
	struct lws_context *ctx;
	struct hub    *h;
	const struct config *cfg;
	struct mediastore *ms;
	struct sniff  *sn;
	CURLM         *multi;
	char          *apikey;
	int            inflight;
	struct fx     *xfers;
	lws_sorted_usec_list_t sul;
	int            scheduled;
	lws_usec_t     due;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct fx *x = arg;
	size_t len = size * n;
	if (x->status == 0)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status != 200)
		return len;                   /* an error page: not the file */
	char *cause = NULL;
	if (media_writer_write(x->w, p, len, &cause) < 0) {
		x->over_cap = media_writer_over_cap(x->w);
		x->werr = cause;
		return 0;                     /* aborts the transfer */
	}
	return len;
}

/* A redirect's body belongs to the redirect: forget its status. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct fx *x = arg;
	if (size * n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		x->status = 0;
	return size * n;
}

static void
fx_free(struct fx *x)
{
	if (x == NULL)
		return;
	if (x->prev)
		x->prev->next = x->next;
	else
		x->f->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	curl_multi_remove_handle(x->f->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	media_writer_abort(x->w);
	free(x->werr);
	free(x->mime);
	free(x);
}

static int
wamedia(const struct hub_fetcher *f, const char *url)
{
	size_t n = strlen(f->cfg->api_url);
	while (n > 0 && f->cfg->api_url[n - 1] == '/')
		n--;
	return n > 0 && strncmp(url, f->cfg->api_url, n) == 0 &&
	       strncmp(url + n, WAMEDIA_PATH, strlen(WAMEDIA_PATH)) == 0;
}

static int
start(struct hub_fetcher *f, const struct hub_fetch *job, char **cause)
{
	struct fx *x = xcalloc(1, sizeof *x);
	int ok = 1;

	x->f = f;
	x->msg_id = job->msg_id;
	x->mime = xstrdup(job->mime);
	x->cap = job->cap;
	x->w = mediastore_begin(f->ms, job->cap, cause);
	if (x->w == NULL) {
		free(x->mime);
		free(x);
		return -1;
	}
	x->easy = curl_easy_init();
	if (wamedia(f, job->url)) {
		char *key = xasprintf("apikey: %s", f->apikey ? f->apikey : "");
		x->headers = curl_slist_append(NULL, key);
		explicit_bzero(key, strlen(key));
		free(key);
		ok = x->headers != NULL;
	}
	ok = ok && x->easy != NULL;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_URL, job->url) == CURLE_OK;
	if (x->headers != NULL)
		ok = ok && curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->err) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_MAXREDIRS, 3L) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, 10L) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1024L) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME, 30L) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE,
	                            (curl_off_t)job->cap) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "wadeskd/" WADESK_VERSION) == CURLE_OK;
	ok = ok && curl_multi_add_handle(f->multi, x->easy) == CURLM_OK;
	if (!ok) {
		*cause = xstrdup("cannot set up a libcurl transfer");
		if (x->easy != NULL)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		media_writer_abort(x->w);
		free(x->mime);
		free(x);
		return -1;
	}
	f->inflight++;
	x->next = f->xfers;
	if (f->xfers)
		f->xfers->prev = x;
	f->xfers = x;
	return 0;
}

static int
retryable(long status)
{
	return status == 404 || status == 408 || status == 425 || status == 429 || status >= 500;
}

static void
cap_sentence(char *out, size_t n, int64_t size, enum media_category c)
{
	snprintf(out, n, "is %.1f MB, over the %lld MB that WhatsApp allows for %s files",
	         (double)size / 1e6, (long long)(media_cap(c) / 1000000), media_category_name(c));
}

/* One finished transfer: sniff, check the cap, commit, report. */
static void
finish(struct hub_fetcher *f, struct fx *x, CURLcode rc)
{
	struct hub_fetch_outcome o = {0};
	char why[512];
	char *cause = NULL;
	struct sniff_result r = {0};
	int64_t now = now_ms();

	if (x->status == 0)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	o.status = (int)x->status;
	if (x->over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
		const struct media_type *t = media_lookup(x->mime);
		if (t == NULL)
			t = media_inbound_lookup(x->mime);
		o.kind = HUB_FETCH_REFUSED;
		o.code = "media.size";
		if (t != NULL)
			snprintf(why, sizeof why, "is larger than the %lld MB that WhatsApp allows for %s files",
			         (long long)(media_cap(t->category) / 1000000), media_category_name(t->category));
		else
			snprintf(why, sizeof why, "is larger than %lld MB", (long long)(x->cap / 1000000));
		o.why = why;
	} else if (rc != CURLE_OK) {
		o.kind = HUB_FETCH_RETRY;
		snprintf(why, sizeof why, "%s", x->werr ? x->werr : x->err[0] ? x->err : curl_easy_strerror(rc));
		o.why = why;
		o.status = 0;
	} else if (x->status != 200) {
		snprintf(why, sizeof why, "HTTP %ld from the provider", x->status);
		o.why = why;
		if (retryable(x->status)) {
			o.kind = HUB_FETCH_RETRY;
		} else {
			o.kind = HUB_FETCH_REFUSED;
			o.code = "media.download";
		}
	} else {
		const struct media_type *t = NULL;
		int64_t size = media_writer_size(x->w);
		if (sniff_file(f->sn, media_writer_path(x->w), x->mime, &r) == 0)
			t = r.type;
		else if (r.code != NULL && media_inbound_ok(r.mime))
			t = media_inbound_lookup(r.mime);        /* voice notes, stickers */
		if (t == NULL) {
			o.kind = r.code ? HUB_FETCH_REFUSED : HUB_FETCH_RETRY;
			o.code = r.code;
			o.mime = r.mime[0] ? r.mime : NULL;
			o.size = size;
			snprintf(why, sizeof why, "%s", r.why ? r.why : "cannot tell its type");
			o.why = why;
		} else if (size > media_cap(t->category)) {
			o.kind = HUB_FETCH_REFUSED;
			o.code = "media.size";
			o.mime = t->mime;
			o.size = size;
			cap_sentence(why, sizeof why, size, t->category);
			o.why = why;
		} else {
			char hex[MEDIASTORE_HEX_LEN + 1];
			struct media_writer *w = x->w;
			x->w = NULL;
			if (media_writer_commit(w, NULL, hex, &cause) < 0) {
				o.kind = HUB_FETCH_RETRY;
				snprintf(why, sizeof why, "%s", cause);
				o.why = why;
				free(cause);
			} else {
				o.kind = HUB_FETCH_READY;
				o.sha256 = hex;
				o.mime = t->mime;
				o.size = size;
				hub_fetch_result(f->h, x->msg_id, &o, now);
				goto out;
			}
		}
	}
	hub_fetch_result(f->h, x->msg_id, &o, now);
out:
	sniff_result_release(&r);
	f->inflight--;
	fx_free(x);
}

static void schedule(struct hub_fetcher *f, lws_usec_t us);

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct hub_fetcher *f = lws_container_of(sul, struct hub_fetcher, sul);
	int running, left;
	CURLMsg *msg;

	f->scheduled = 0;
	curl_multi_perform(f->multi, &running);
	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct fx *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		finish(f, x, msg->data.result);
	}

	int64_t now = now_ms();
	struct hub_fetch job;
	while (f->inflight < MAX_INFLIGHT && hub_fetch_next(f->h, now, &job) == 1) {
		char *cause = NULL;
		if (start(f, &job, &cause) < 0) {
			struct hub_fetch_outcome o = { HUB_FETCH_RETRY, NULL, NULL, 0, NULL, cause, 0 };
			log_warn("cannot start the download of message %lld: %s", (long long)job.msg_id, cause);
			hub_fetch_result(f->h, job.msg_id, &o, now);
			free(cause);
		}
	}
	if (f->inflight > 0) {
		curl_multi_perform(f->multi, &running);
		schedule(f, POLL_US);
		return;
	}
	int64_t wait = hub_fetch_wait(f->h, now);
	if (wait >= 0)
		schedule(f, (lws_usec_t)(wait > 0 ? wait : 1) * 1000);
}

static void
schedule(struct hub_fetcher *f, lws_usec_t us)
{
	lws_usec_t due = lws_now_usecs() + us;
	if (f->scheduled && f->due <= due)
		return;
	f->scheduled = 1;
	f->due = due;
	lws_sul_schedule(f->ctx, 0, &f->sul, tick, us);
}

void
hub_fetcher_wake(struct hub_fetcher *f)
{
	if (f != NULL)
		schedule(f, 1);
}

int
hub_fetcher_busy(struct hub_fetcher *f)
{
	return f ? f->inflight : 0;
}

void
hub_fetcher_set_apikey(struct hub_fetcher *f, const char *apikey)
{
	if (f->apikey != NULL)
		explicit_bzero(f->apikey, strlen(f->apikey));
	free(f->apikey);
	f->apikey = xstrdup(apikey);
}

int
hub_fetcher_new(struct lws_context *ctx, struct hub *h, const struct config *cfg,
                struct mediastore *ms, struct sniff *sn, const char *apikey,
                struct hub_fetcher **out, char **cause)
{
	struct hub_fetcher *f = xcalloc(1, sizeof *f);
	/* hub_sender_new() ran curl_global_init() already */
	f->ctx = ctx;
	f->h = h;
	f->cfg = cfg;
	f->ms = ms;
	f->sn = sn;
	f->multi = curl_multi_init();
	if (f->multi == NULL) {
		*cause = xstrdup("cannot create a libcurl multi handle");
		free(f);
		return -1;
	}
	f->apikey = xstrdup(apikey);
	*out = f;
	hub_fetcher_wake(f);      /* jobs from before a restart resume now */
	return 0;
}

void
hub_fetcher_free(struct hub_fetcher *f)
{
	if (f == NULL)
		return;
	lws_sul_cancel(&f->sul);
	while (f->xfers)
		fx_free(f->xfers);
	curl_multi_cleanup(f->multi);
	if (f->apikey != NULL)
		explicit_bzero(f->apikey, strlen(f->apikey));
	free(f->apikey);
	free(f);
}
