/*
 * hub_sender.c — see hub_sender.h.  One CURLM, one timer, no threads.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hub_config.h"
#include "gupshup.h"
#include "hub.h"
#include "hub_sender.h"
#include "hub_lws.h"
#include "util.h"

#define MAX_INFLIGHT 64
#define POLL_US      2000

struct xfer {
	CURL      *easy;
	int64_t    msg_id;
	struct buf body;
	char       err[CURL_ERROR_SIZE];
	struct curl_slist *headers;
	struct hub_sender *s;
	struct xfer *prev, *next;
};

struct hub_sender {
	struct lws_context *ctx;
	struct hub    *h;
	const struct config *cfg;
	CURLM         *multi;
	char          *apikey;
	double         tokens;
	int64_t        last_refill;     /* ms, monotonic */
	int            inflight;
	struct xfer   *xfers;           /* in flight */
	lws_sorted_usec_list_t sul;
	int            scheduled;
	lws_usec_t     due;
};

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
	x->next = s->xfers;
	if (s->xfers)
		s->xfers->prev = x;
	s->xfers = x;
	return 0;
}

static void
finish(struct hub_sender *s, struct xfer *x, CURLcode rc)
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
	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		finish(s, x, msg->data.result);
	}

	int64_t now = mono_ms();
	double rate = (double)s->cfg->rate, burst = rate / 10 < 1 ? 1 : rate / 10;
	s->tokens += (double)(now - s->last_refill) * rate / 1000.0;
	if (s->tokens > burst)
		s->tokens = burst;
	s->last_refill = now;

	struct hub_send job;
	while (s->tokens >= 1.0 && s->inflight < MAX_INFLIGHT && hub_outbox_next(s->h, now, &job) == 1) {
		if (start(s, &job) < 0)
			hub_outbox_result(s->h, job.msg_id, HUB_SEND_RETRY, NULL, "cannot start a transfer", now);
		else
			s->tokens -= 1.0;
		hub_send_release(&job);
	}
	if (s->inflight > 0) {
		curl_multi_perform(s->multi, &running);
		schedule(s, POLL_US);
		return;
	}
	int64_t wait = hub_outbox_wait(s->h, now);
	if (wait < 0)
		return;                         /* idle until hub_sender_wake() */
	if (s->tokens < 1.0) {
		int64_t t = (int64_t)((1.0 - s->tokens) * 1000.0 / rate) + 1;
		if (t > wait)
			wait = t;
	}
	schedule(s, (lws_usec_t)(wait > 0 ? wait : 1) * 1000);
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
	s->tokens = 1.0;
	s->last_refill = mono_ms();
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
	if (s->apikey != NULL)
		explicit_bzero(s->apikey, strlen(s->apikey));
	free(s->apikey);
	free(s);
}
