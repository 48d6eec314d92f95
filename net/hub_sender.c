/*
 * hub_sender.c — see hub_sender.h.  One CURLM, one timer, no threads.
 *
 * Pacing.  The provider counts, per app, the sends it accepted in the last
 * second and answers 429 past `rate` (wadesk-sim does the same).  A token
 * bucket with any depth above one lets `rate` + 1 sends into some second,
 * so the sender keeps two rules instead, both on a microsecond monotonic
 * clock:
 *  - spacing: sends start 1/rate s apart, scheduled from the previous due
 *    time (not from when the timer happened to fire), so timer lateness
 *    does not accumulate (see pace_started);
 *  - window: at most `rate` sends may "count" in any second.  The
 *    provider sees a request somewhere between the moment it was started
 *    and the moment its answer came back, so a send counts from its start
 *    until one second after its answer, or after it was sent + PACE_CAP_US
 *    if the answer is slower than that (a slow provider must not halve the rate;
 *    only there can jitter still cost an occasional 429, which backoff
 *    absorbs).
 * On loopback this is exact: `rate` sends per (1 s + one round trip),
 * never a 429.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "hub_config.h"
#include "gupshup.h"
#include "hub.h"
#include "hub_sender.h"
#include "hub_lws.h"
#include "util.h"

#define MAX_INFLIGHT 64
#define POLL_US      2000
#define PACE_CAP_US  (100 * 1000)   /* a send counts from at most this after its start */
#define SECOND_US    (1000 * 1000)
#define PACE_CATCHUP_US (500 * 1000)

struct xfer {
	CURL      *easy;
	int64_t    msg_id;
	struct buf body;
	char       err[CURL_ERROR_SIZE];
	struct curl_slist *headers;
	int64_t    start_us;
	int64_t    anchor_us;           /* start + PACE_CAP_US until the answer comes */
	struct hub_sender *s;
	struct xfer *prev, *next;
};

struct hub_sender {
	struct lws_context *ctx;
	struct hub    *h;
	const struct config *cfg;
	CURLM         *multi;
	char          *apikey;
	int64_t        due_us;          /* earliest start of the next send */
	int            backlog;         /* a send was waiting at the last look */
	int64_t       *recent;          /* anchors of answered sends that may still count */
	size_t         nrecent, crecent;
	int            inflight;
	int            held;            /* hub_sender_hold(): start nothing new */
	struct xfer   *xfers;           /* in flight */
	lws_sorted_usec_list_t sul;
	int            scheduled;
	lws_usec_t     due;
};

static int64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SECOND_US + ts.tv_nsec / 1000;
}

/* ---- pacing (see the top of the file) ------------------------------------------- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * 0 when a send may start at now, else the microseconds to wait (at
 * least 1).  Forgets answered sends that stopped counting.
 */
static int64_t
pace_wait(struct hub_sender *s, int64_t now)
{
	int64_t rate = s->cfg->rate > 0 ? s->cfg->rate : 1, floor = now - SECOND_US, wait = 0;
	size_t n = 0;

	for (size_t i = 0; i < s->nrecent; i++)
		if (s->recent[i] > floor)
			s->recent[n++] = s->recent[i];
	s->nrecent = n;
	if (s->due_us > now)
		wait = s->due_us - now;
	for (struct xfer *x = s->xfers; x; x = x->next)
		if (x->anchor_us > floor)
			n++;
	if (n < (size_t)rate)
		return wait;
	/* n - rate + 1 of the counted sends must stop counting first. */
	int64_t *a = xmalloc(n * sizeof *a);
	size_t k = 0;
	for (size_t i = 0; i < s->nrecent; i++)
		a[k++] = s->recent[i];
	for (struct xfer *x = s->xfers; x; x = x->next)
		if (x->anchor_us > floor)
			a[k++] = x->anchor_us;
	qsort(a, k, sizeof *a, cmp_i64);
	int64_t until = a[k - (size_t)rate] + SECOND_US - now;
	free(a);
	if (until < 1)
		until = 1;
	return until > wait ? until : wait;
}

/*
 * A send starts at now: the next one is due 1/rate s after this one was
 * due.  A loop that stalled (a slow fsync on a busy disk) catches up on
 * at most PACE_CATCHUP_US of schedule, sends closer together but never
 * more than `rate` in a second; after an idle spell (nothing was waiting)
 * the schedule restarts at now, with no saved-up credit.
 */
static void
pace_started(struct hub_sender *s, int64_t now)
{
	int64_t rate = s->cfg->rate > 0 ? s->cfg->rate : 1, period = SECOND_US / rate;
	int64_t due = s->due_us;
	if (!s->backlog || due == 0)
		due = now;
	else if (now - due > PACE_CATCHUP_US)
		due = now - PACE_CATCHUP_US;
	s->due_us = due + period;
	s->backlog = 1;
}

/*
 * A send was answered at now: it counts until a second after that, or
 * after PACE_CAP_US past the moment libcurl actually sent it (its
 * pretransfer time: a loop that stalled between starting the transfer
 * and writing the request must not make the send count too early).
 */
static void
pace_answered(struct hub_sender *s, const struct xfer *x, int64_t now)
{
	curl_off_t pre = 0;
	int64_t cap = x->anchor_us;
	if (curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK && pre > 0)
		cap = x->start_us + (int64_t)pre + PACE_CAP_US;
	int64_t anchor = now < cap ? now : cap;
	if (s->nrecent == s->crecent) {
		s->crecent = s->crecent ? 2 * s->crecent : 64;
		s->recent = xrealloc(s->recent, s->crecent * sizeof *s->recent);
	}
	s->recent[s->nrecent++] = anchor;
}

/* ---- transfers ---------------------------------------------------------------------- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	if (x->body.len + size * n > 65536)
		return 0;        /* a send reply is small; refuse anything else */
	buf_append(&x->body, p, size * n);
	return size * n;
}

static void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	if (x->prev)
		x->prev->next = x->next;
	else
		x->s->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	curl_multi_remove_handle(x->s->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	buf_free(&x->body);
	free(x);
}

static int
start(struct hub_sender *s, const struct hub_send *job)
{
	struct xfer *x = xcalloc(1, sizeof *x);
	char *url = xasprintf("%s%s", s->cfg->api_url, job->path);
	char *key = xasprintf("apikey: %s", s->apikey ? s->apikey : "");
	int ok = 1;

	x->s = s;
	x->msg_id = job->msg_id;
	x->easy = curl_easy_init();
	x->headers = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	x->headers = curl_slist_append(x->headers, key);
	x->headers = curl_slist_append(x->headers, "Expect:");
	explicit_bzero(key, strlen(key));
	free(key);
	if (x->easy == NULL || x->headers == NULL)
		ok = 0;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_URL, url) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, job->form) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->err) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)s->cfg->timeout_ms) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok = ok && curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok = ok && curl_multi_add_handle(s->multi, x->easy) == CURLM_OK;
	free(url);
	if (!ok) {
		log_warn("cannot start a send of message %lld", (long long)job->msg_id);
		if (x->easy != NULL)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->headers);
		free(x);
		return -1;
	}
	s->inflight++;
	x->start_us = mono_us();
	x->anchor_us = x->start_us + PACE_CAP_US;
	x->next = s->xfers;
	if (s->xfers)
		s->xfers->prev = x;
	s->xfers = x;
	return 0;
}

/* The answer came at answered_us (µs, taken after the perform that read it). */
static void
finish(struct hub_sender *s, struct xfer *x, CURLcode rc, int64_t answered_us)
{
	long code = 0;
	char *id = NULL, *why = NULL;
	int64_t now = mono_ms();

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		log_verbose("message %lld: %s", (long long)x->msg_id, x->err[0] ? x->err : curl_easy_strerror(rc));
		hub_outbox_result(s->h, x->msg_id, HUB_SEND_RETRY, NULL, curl_easy_strerror(rc), now);
	} else if (code == 429 || code >= 500) {
		char *r = xasprintf("HTTP %ld", code);
		hub_outbox_result(s->h, x->msg_id, HUB_SEND_RETRY, NULL, r, now);
		free(r);
	} else if (gupshup_reply_parse(x->body.data ? x->body.data : "", x->body.len, &id, &why) == 0 &&
	           code >= 200 && code < 300) {
		hub_outbox_result(s->h, x->msg_id, HUB_SEND_OK, id, NULL, now);
	} else if (code >= 200 && code < 300) {
		/* A 2xx we cannot read: retrying could send twice, failing hides
		 * a message that may be out.  Fail it, loudly, with the reason. */
		hub_outbox_result(s->h, x->msg_id, HUB_SEND_FAILED, NULL, why, now);
	} else {
		char *r = xasprintf("%s (HTTP %ld)", why ? why : "refused by the provider", code);
		hub_outbox_result(s->h, x->msg_id, HUB_SEND_FAILED, NULL, r, now);
		free(r);
	}
	free(id);
	free(why);
	pace_answered(s, x, answered_us);
	s->inflight--;
	xfer_free(x);
}

static void schedule(struct hub_sender *s, lws_usec_t us);

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct hub_sender *s = lws_container_of(sul, struct hub_sender, sul);
	int running;
	CURLMsg *msg;
	int left;

	s->scheduled = 0;
	curl_multi_perform(s->multi, &running);
	int64_t answered_us = mono_us();
	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		finish(s, x, msg->data.result, answered_us);
	}

	int64_t now = mono_ms(), now_us = mono_us(), pace = 0;
	struct hub_send job;
	while (!s->held && (pace = pace_wait(s, now_us)) == 0 && s->inflight < MAX_INFLIGHT &&
	       hub_outbox_next(s->h, now, &job) == 1) {
		if (start(s, &job) < 0) {
			hub_outbox_result(s->h, job.msg_id, HUB_SEND_RETRY, NULL, "cannot start a transfer", now);
		} else {
			pace_started(s, now_us);
			curl_multi_perform(s->multi, &running);   /* the request leaves now */
		}
		hub_send_release(&job);
		now_us = mono_us();
	}
	int64_t wait = s->held ? -1 : hub_outbox_wait(s->h, now);
	s->backlog = wait == 0;
	lws_usec_t us = -1;                 /* -1: idle until hub_sender_wake() */
	if (wait == 0 && pace > 0)
		us = pace;                      /* ready, held back by the pacing */
	else if (wait == 0)
		us = s->inflight > 0 ? POLL_US : 100 * 1000;  /* MAX_INFLIGHT, or the store failed */
	else if (wait > 0)
		us = wait * 1000 > pace ? wait * 1000 : pace;
	if (s->inflight > 0 && (us < 0 || us > POLL_US))
		us = POLL_US;
	if (us >= 0)
		schedule(s, us);
}

static void
schedule(struct hub_sender *s, lws_usec_t us)
{
	lws_usec_t due = lws_now_usecs() + us;
	if (s->scheduled && s->due <= due)
		return;
	s->scheduled = 1;
	s->due = due;
	lws_sul_schedule(s->ctx, 0, &s->sul, tick, us);
}

void
hub_sender_wake(struct hub_sender *s)
{
	if (s != NULL)
		schedule(s, 1);
}

void
hub_sender_hold(struct hub_sender *s)
{
	s->held = 1;
}

int
hub_sender_busy(struct hub_sender *s)
{
	return s->inflight;
}

void
hub_sender_set_apikey(struct hub_sender *s, const char *apikey)
{
	if (s->apikey != NULL)
		explicit_bzero(s->apikey, strlen(s->apikey));
	free(s->apikey);
	s->apikey = xstrdup(apikey);
}

int
hub_sender_new(struct lws_context *ctx, struct hub *h, const struct config *cfg, const char *apikey,
               struct hub_sender **out, char **cause)
{
	struct hub_sender *s = xcalloc(1, sizeof *s);
	static int curl_ready;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			*cause = xstrdup("cannot initialise libcurl");
			free(s);
			return -1;
		}
		curl_ready = 1;
	}
	s->ctx = ctx;
	s->h = h;
	s->cfg = cfg;
	s->multi = curl_multi_init();
	if (s->multi == NULL) {
		*cause = xstrdup("cannot create a libcurl multi handle");
		free(s);
		return -1;
	}
	s->apikey = xstrdup(apikey);
	*out = s;
	hub_sender_wake(s);       /* the outbox may hold messages from before a restart */
	return 0;
}

void
hub_sender_free(struct hub_sender *s)
{
	if (s == NULL)
		return;
	lws_sul_cancel(&s->sul);
	/* Transfers still in flight are abandoned: their messages stay in the
	 * outbox and go out again after a restart. */
	while (s->xfers)
		xfer_free(s->xfers);
	curl_multi_cleanup(s->multi);
	free(s->recent);
	if (s->apikey != NULL)
		explicit_bzero(s->apikey, strlen(s->apikey));
	free(s->apikey);
	free(s);
}
