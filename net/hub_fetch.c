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
#include <pthread.h>
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
#define BUFFER_BYTES (512L * 1024)     /* per read: a large file at loopback speed */
#define PERFORM_MAX  32                /* performs per tick while data keeps coming */
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
	int64_t    started;               /* mono ms */
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
	curl_off_t     last_bytes;      /* bytes written by every transfer, last perform */
	/* the finisher thread */
	struct sniff  *fsn;             /* its own libmagic cookie */
	pthread_t      thread;
	int            thread_ok;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct finjob *todo, *done;     /* under mu */
	int            stop;            /* under mu */
	int            finishing;       /* loop only: jobs handed over, not collected */
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
	x->started = mono_ms();
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
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, BUFFER_BYTES) == CURLE_OK;
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
	log_verbose("downloading the media of message %lld (attempt %d)", (long long)job->msg_id,
	            job->attempts + 1);
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

/*
 * The sniff and the commit of a complete file run in the finisher thread
 * (libmagic reads up to 7 MiB, the commit fsyncs twice: together 0.2-0.4 s
 * for a 16 MB file here, too long for the loop).  It has its own struct
 * sniff (a libmagic cookie is not thread-safe) and touches nothing but the
 * job: the loop's timer, which runs every millisecond while anything is in
 * flight or finishing, collects done jobs and reports them to the hub.
 */
struct finjob {
	int64_t    msg_id;
	struct media_writer *w;
	char      *mime;                  /* declared */
	int64_t    started;               /* mono ms, the transfer's start */
	/* the outcome, filled by the thread */
	enum hub_fetch_kind kind;
	const char *code;
	char       why[512];
	char       mime_out[80];
	int64_t    size;
	char       hex[MEDIASTORE_HEX_LEN + 1];
	struct finjob *next;
};

static void
finjob_free(struct finjob *j)
{
	media_writer_abort(j->w);
	free(j->mime);
	free(j);
}

/* In the finisher thread: sniff, check the cap, commit. */
static void
finish_file(struct sniff *sn, struct finjob *j)
{
	struct sniff_result r = {0};
	const struct media_type *t = NULL;
	char *cause = NULL;
	int64_t t0 = mono_ms();

	j->size = media_writer_size(j->w);
	if (sniff_file(sn, media_writer_path(j->w), j->mime, &r) == 0)
		t = r.type;
	else if (r.code != NULL && media_inbound_ok(r.mime))
		t = media_inbound_lookup(r.mime);        /* voice notes, stickers */
	if (t == NULL) {
		j->kind = r.code ? HUB_FETCH_REFUSED : HUB_FETCH_RETRY;
		j->code = r.code;
		snprintf(j->mime_out, sizeof j->mime_out, "%s", r.mime);
		snprintf(j->why, sizeof j->why, "%s", r.why ? r.why : "cannot tell its type");
	} else if (j->size > media_cap(t->category)) {
		j->kind = HUB_FETCH_REFUSED;
		j->code = "media.size";
		snprintf(j->mime_out, sizeof j->mime_out, "%s", t->mime);
		cap_sentence(j->why, sizeof j->why, j->size, t->category);
	} else {
		struct media_writer *w = j->w;
		int64_t t1 = mono_ms();
		j->w = NULL;
		snprintf(j->mime_out, sizeof j->mime_out, "%s", t->mime);
		if (media_writer_commit(w, NULL, j->hex, &cause) < 0) {
			j->kind = HUB_FETCH_RETRY;
			snprintf(j->why, sizeof j->why, "%s", cause);
			free(cause);
		} else {
			j->kind = HUB_FETCH_READY;
		}
		log_verbose("download of message %lld: %lld bytes in %lld ms, sniffed in %lld ms, "
		            "committed in %lld ms (finisher thread)", (long long)j->msg_id,
		            (long long)j->size, (long long)(t0 - j->started), (long long)(t1 - t0),
		            (long long)(mono_ms() - t1));
	}
	sniff_result_release(&r);
	media_writer_abort(j->w);         /* refused: nothing is kept */
	j->w = NULL;
}

static void *
finisher(void *arg)
{
	struct hub_fetcher *f = arg;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->todo == NULL && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		struct finjob *j = f->todo;
		f->todo = j->next;
		pthread_mutex_unlock(&f->mu);
		finish_file(f->fsn, j);
		pthread_mutex_lock(&f->mu);
		j->next = f->done;
		f->done = j;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* On the loop: reports what the finisher completed. */
static void
collect(struct hub_fetcher *f)
{
	pthread_mutex_lock(&f->mu);
	struct finjob *j = f->done;
	f->done = NULL;
	pthread_mutex_unlock(&f->mu);
	while (j != NULL) {
		struct finjob *next = j->next;
		struct hub_fetch_outcome o = { j->kind, j->kind == HUB_FETCH_READY ? j->hex : NULL,
		                               j->mime_out[0] ? j->mime_out : NULL, j->size, j->code,
		                               j->why, 200 };
		hub_fetch_result(f->h, j->msg_id, &o, now_ms());
		f->finishing--;
		finjob_free(j);
		j = next;
	}
}

/* One finished transfer: a complete 200 goes to the finisher; anything
 * else is reported now. */
static void
finish(struct hub_fetcher *f, struct fx *x, CURLcode rc)
{
	struct hub_fetch_outcome o = {0};
	char why[512];

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
		struct finjob *j = xcalloc(1, sizeof *j);
		j->msg_id = x->msg_id;
		j->w = x->w;
		j->mime = x->mime;
		j->started = x->started;
		x->w = NULL;
		x->mime = NULL;
		pthread_mutex_lock(&f->mu);
		j->next = f->todo;
		f->todo = j;
		pthread_cond_signal(&f->cv);
		pthread_mutex_unlock(&f->mu);
		f->finishing++;
		f->inflight--;
		fx_free(x);
		return;
	}
	hub_fetch_result(f->h, x->msg_id, &o, now_ms());
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
	/* Several performs per tick: each reads at most one buffer per
	 * transfer, and a timer tick costs far more than a perform that finds
	 * nothing to read (it returns at once: the sockets are non-blocking). */
	for (int i = 0; i < PERFORM_MAX; i++) {
		int before = f->inflight;
		curl_off_t got = 0;
		curl_multi_perform(f->multi, &running);
		if (running < before)
			break;                 /* something finished: collect it */
		for (struct fx *x = f->xfers; x; x = x->next)
			if (x->w != NULL)
				got += media_writer_size(x->w);
		if (got == f->last_bytes)
			break;                 /* nothing new this time */
		f->last_bytes = got;
	}
	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct fx *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		finish(f, x, msg->data.result);
	}
	collect(f);

	int64_t now = now_ms();
	struct hub_fetch job;
	while (f->inflight + f->finishing < MAX_INFLIGHT && hub_fetch_next(f->h, now, &job) == 1) {
		char *cause = NULL;
		if (start(f, &job, &cause) < 0) {
			struct hub_fetch_outcome o = { HUB_FETCH_RETRY, NULL, NULL, 0, NULL, cause, 0 };
			log_warn("cannot start the download of message %lld: %s", (long long)job.msg_id, cause);
			hub_fetch_result(f->h, job.msg_id, &o, now);
			free(cause);
		}
	}
	if (f->inflight > 0 || f->finishing > 0) {
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
	return f ? f->inflight + f->finishing : 0;
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
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if ((f->fsn = sniff_new(cause)) == NULL) {
		hub_fetcher_free(f);
		return -1;
	}
	if (pthread_create(&f->thread, NULL, finisher, f) != 0) {
		*cause = xstrdup("cannot start the media finisher thread");
		hub_fetcher_free(f);
		return -1;
	}
	f->thread_ok = 1;
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
	/* Jobs being finished are abandoned (their download jobs stay in the
	 * store and run again after a restart). */
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->thread_ok)
		pthread_join(f->thread, NULL);
	for (struct finjob *l = f->todo; l;) {
		struct finjob *n = l->next;
		finjob_free(l);
		l = n;
	}
	for (struct finjob *l = f->done; l;) {
		struct finjob *n = l->next;
		finjob_free(l);
		l = n;
	}
	sniff_free(f->fsn);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	curl_multi_cleanup(f->multi);
	if (f->apikey != NULL)
		explicit_bzero(f->apikey, strlen(f->apikey));
	free(f->apikey);
	free(f);
}
