/*
 * sim_server.c — wadesk-sim's event loop: one libwebsockets context that
 * serves HTTP, and libcurl's multi interface posting the provider's
 * callbacks, both driven from the lws loop so that nothing ever blocks.
 *
 * HTTP: a request's headers arrive in LWS_CALLBACK_HTTP, a POST body in
 * LWS_CALLBACK_HTTP_BODY chunks (capped at 1 MiB, SIM_UPLOAD_MAX for
 * /sim/upload; 413 beyond), and at
 * LWS_CALLBACK_HTTP_BODY_COMPLETION (or at once for GET) the model
 * answers (sim_handle).  The answer is written from LWS_CALLBACK_HTTP_
 * WRITEABLE only: headers first, then the body in chunks.
 *
 * Callbacks: one lws timer (a sorted-usec-list entry) wakes the loop when
 * the model's next callback or simulated customer is due, and every
 * millisecond while transfers are in flight, to drive curl_multi_perform
 * without blocking.  Posts about one customer go out one at a time, so
 * that without --chaos a message's events arrive in order.
 *
 * Outbound media: the model's downloads (sim_fetch_next) run on the same
 * curl multi handle, at most FETCHES_MAX at once, each collected in memory
 * up to its cap (CURLOPT_MAXFILESIZE_LARGE and the write callback both
 * stop it), http and https only, three redirects at most; the outcome
 * goes back to the model (sim_fetch_done).
 *
 * Signals only set a flag and call lws_cancel_service().
 */
#include "net/sim_net.h"

#include <curl/curl.h>
#include <errno.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "util.h"

#define BODY_MAX     (1024 * 1024)
#define POSTS_MAX    32          /* callbacks in flight */
#define FETCHES_MAX  8           /* media downloads in flight */
#define SAVE_EVERY   1000        /* ms */

static volatile sig_atomic_t stopping;
static struct lws_context *signal_ctx;

struct transfer {
	CURL             *easy;
	struct curl_slist *headers;
	struct sim_post   post;
	char              errbuf[CURL_ERROR_SIZE];
	/* A media download instead of a callback: */
	int               is_fetch;
	struct sim_fetch  fetch;
	struct buf        data;
	int               over_cap;
};

struct server {
	struct sim        *sim;
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
	CURLM             *multi;
	char              *callback;
	const char        *state;
	const char        *cafile;   /* $SSL_CERT_FILE, NULL when unset or empty */
	struct transfer   *xfer[POSTS_MAX];
	unsigned           nxfer;
	struct transfer   *fetches[FETCHES_MAX];
	unsigned           nfetches;
	struct sim_post   *held;     /* popped, waiting for their customer's turn */
	size_t             nheld, capheld;
	int64_t            last_save;
	unsigned long      posted, post_failures;
	FILE              *sink;
	int                sink_status;
};

static struct server *the_server;

struct pss {
	struct buf   body;
	size_t       body_max;
	int          too_big;
	int          is_post;
	char        *path;
	char        *apikey;
	struct sim_response rs;
	size_t       sent;
	int          phase;          /* 0 reading, 1 headers due, 2 body due */
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (signal_ctx != NULL)
		lws_cancel_service(signal_ctx);
}

/* ---- Callbacks to the hub ---- */

static int
phone_in_flight(const struct server *sv, const char *phone)
{
	for (unsigned i = 0; i < sv->nxfer; i++)
		if (strcmp(sv->xfer[i]->post.phone, phone) == 0)
			return 1;
	return 0;
}

/* The hub's answer body is not needed, only its status. */
static size_t
discard(char *data, size_t size, size_t n, void *user)
{
	(void)data;
	(void)user;
	return size * n;
}

static void
post_start(struct server *sv, struct sim_post *p)
{
	struct transfer *t = xcalloc(1, sizeof *t);
	CURLcode rc = CURLE_OK;

	t->post = *p;
	t->easy = curl_easy_init();
	if (t->easy == NULL) {
		log_warn("cannot start a callback: curl_easy_init failed");
		sim_post_failed(sv->sim, &t->post, now_ms(), 0);
		free(t);
		return;
	}
	t->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (t->headers == NULL)
		rc = CURLE_OUT_OF_MEMORY;
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_URL, sv->callback);
	if (rc == CURLE_OK && sv->cafile != NULL)
		rc = curl_easy_setopt(t->easy, CURLOPT_CAINFO, sv->cafile);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->post.body);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(t->post.body));
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, 10000L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	if (rc != CURLE_OK || curl_multi_add_handle(sv->multi, t->easy) != CURLM_OK) {
		log_warn("cannot start a callback: %s", curl_easy_strerror(rc));
		curl_slist_free_all(t->headers);
		curl_easy_cleanup(t->easy);
		sim_post_failed(sv->sim, &t->post, now_ms(), 0);
		free(t);
		return;
	}
	sv->xfer[sv->nxfer++] = t;
}

static void
post_finish(struct server *sv, struct transfer *t, CURLcode result)
{
	long status = 0;

	for (unsigned i = 0; i < sv->nxfer; i++) {
		if (sv->xfer[i] == t) {
			sv->xfer[i] = sv->xfer[--sv->nxfer];
			break;
		}
	}
	if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	if (result == CURLE_OK && status >= 200 && status < 300) {
		sv->posted++;
		free(t->post.body);
	} else if (result == CURLE_OK && status >= 400 && status < 500 && status != 429) {
		log_warn("callback refused by %s: HTTP %ld; dropped", sv->callback, status);
		sim_post_failed(sv->sim, &t->post, now_ms(), 1);
	} else {
		sv->post_failures++;
		if (t->post.attempts == 0)
			log_warn("callback to %s failed: %s; retrying", sv->callback,
			         result != CURLE_OK ? (t->errbuf[0] ? t->errbuf : curl_easy_strerror(result))
			                            : "server error");
		sim_post_failed(sv->sim, &t->post, now_ms(), 0);
	}
	curl_multi_remove_handle(sv->multi, t->easy);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t);
}

/* Starts what is due, oldest first, one post per customer at a time. */
static void
posts_pump(struct server *sv, int64_t now)
{
	struct sim_post p;

	for (size_t i = 0; i < sv->nheld && sv->nxfer < POSTS_MAX;) {
		if (phone_in_flight(sv, sv->held[i].phone)) {
			i++;
			continue;
		}
		p = sv->held[i];
		memmove(&sv->held[i], &sv->held[i + 1], (sv->nheld - i - 1) * sizeof *sv->held);
		sv->nheld--;
		post_start(sv, &p);
	}
	while (sv->nxfer < POSTS_MAX && sv->nheld < 4096 && sim_pop_due(sv->sim, now, &p)) {
		if (sv->callback == NULL) {
			free(p.body);        /* nowhere to go */
			continue;
		}
		if (phone_in_flight(sv, p.phone) || sv->nheld > 0) {
			if (sv->nheld == sv->capheld) {
				sv->capheld = sv->capheld ? sv->capheld * 2 : 64;
				sv->held = xrealloc(sv->held, sv->capheld * sizeof *sv->held);
			}
			sv->held[sv->nheld++] = p;
			continue;
		}
		post_start(sv, &p);
	}
}

/* ---- Outbound media downloads ---- */

static size_t
fetch_write(char *data, size_t size, size_t n, void *user)
{
	struct transfer *t = user;
	if ((int64_t)(t->data.len + size * n) > t->fetch.cap) {
		t->over_cap = 1;
		return 0;                /* aborts the transfer */
	}
	buf_append(&t->data, data, size * n);
	return size * n;
}

static void
fetch_report(struct server *sv, struct transfer *t, CURLcode result)
{
	struct sim_fetch_result r = { 0 };
	char *type = NULL;
	long status = 0;

	if (t->easy != NULL && curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	if (t->easy != NULL && curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &type) != CURLE_OK)
		type = NULL;
	r.over_cap = t->over_cap || result == CURLE_FILESIZE_EXCEEDED;
	r.answered = r.over_cap || (result == CURLE_OK && status > 0);
	r.status = status;
	r.error = t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(result);
	r.content_type = type;
	r.data = t->data.data != NULL ? t->data.data : "";
	r.len = t->data.len;
	if (!r.answered || status != 200)
		log_warn("media download %s failed: %s", t->fetch.url,
		         r.answered ? "HTTP error" : r.error);
	sim_fetch_done(sv->sim, t->fetch.id, &r, now_ms());
}

static void
fetch_free(struct transfer *t)
{
	if (t->easy != NULL)
		curl_easy_cleanup(t->easy);
	buf_free(&t->data);
	free(t->fetch.url);
	free(t);
}

static void
fetch_start(struct server *sv, struct sim_fetch *f)
{
	struct transfer *t = xcalloc(1, sizeof *t);
	CURLcode rc = CURLE_OK;

	t->is_fetch = 1;
	t->fetch = *f;
	t->easy = curl_easy_init();
	if (t->easy == NULL)
		rc = CURLE_FAILED_INIT;
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_URL, t->fetch.url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, 3L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->fetch.cap);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, 10L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME, 30L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, fetch_write);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	if (rc == CURLE_OK && curl_multi_add_handle(sv->multi, t->easy) != CURLM_OK)
		rc = CURLE_FAILED_INIT;
	if (rc != CURLE_OK) {
		snprintf(t->errbuf, sizeof t->errbuf, "cannot start the download: %s",
		         curl_easy_strerror(rc));
		fetch_report(sv, t, rc);
		fetch_free(t);
		return;
	}
	sv->fetches[sv->nfetches++] = t;
}

static void
fetch_finish(struct server *sv, struct transfer *t, CURLcode result)
{
	for (unsigned i = 0; i < sv->nfetches; i++) {
		if (sv->fetches[i] == t) {
			sv->fetches[i] = sv->fetches[--sv->nfetches];
			break;
		}
	}
	fetch_report(sv, t, result);
	curl_multi_remove_handle(sv->multi, t->easy);
	fetch_free(t);
}

static void
fetches_pump(struct server *sv)
{
	struct sim_fetch f;
	while (sv->nfetches < FETCHES_MAX && sim_fetch_next(sv->sim, &f))
		fetch_start(sv, &f);
}

static void
curl_drive(struct server *sv)
{
	CURLMsg *m;
	int running, left;

	if (sv->nxfer == 0 && sv->nfetches == 0)
		return;
	if (curl_multi_perform(sv->multi, &running) != CURLM_OK)
		log_warn("curl_multi_perform failed");
	while ((m = curl_multi_info_read(sv->multi, &left)) != NULL) {
		struct transfer *t = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t) != CURLE_OK ||
		    t == NULL)
			continue;
		if (t->is_fetch)
			fetch_finish(sv, t, m->data.result);
		else
			post_finish(sv, t, m->data.result);
	}
}

static void
save_state(struct server *sv, int64_t now)
{
	char *cause = NULL;
	if (sv->state == NULL || !sim_dirty(sv->sim))
		return;
	if (sim_save(sv->sim, sv->state, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	sv->last_save = now;
}

/* The loop's timer: customers, callbacks, curl, state; then re-arm. */
static void
on_timer(lws_sorted_usec_list_t *sul)
{
	struct server *sv = lws_container_of(sul, struct server, sul);
	int64_t now = now_ms(), next, wait;

	sim_tick(sv->sim, now);
	curl_drive(sv);
	fetches_pump(sv);
	posts_pump(sv, now);
	curl_drive(sv);
	if (now - sv->last_save >= SAVE_EVERY)
		save_state(sv, now);

	wait = 1000;
	if (sv->nxfer > 0 || sv->nfetches > 0)
		wait = 1;
	next = sim_next_due(sv->sim);
	if (next >= 0 && next - now < wait)
		wait = next - now;
	next = sim_next_tick(sv->sim);
	if (next >= 0 && next - now < wait)
		wait = next - now;
	if (sv->nheld > 0 && sv->nxfer < POSTS_MAX && wait > 1)
		wait = 1;
	if (wait < 0)
		wait = 0;
	lws_sul_schedule(sv->ctx, 0, &sv->sul, on_timer, (lws_usec_t)wait * LWS_US_PER_MS);
}

static void
kick(struct server *sv)
{
	lws_sul_schedule(sv->ctx, 0, &sv->sul, on_timer, 0);
}

/* ---- HTTP ---- */

static void
pss_release(struct pss *pss)
{
	buf_free(&pss->body);
	free(pss->path);
	free(pss->apikey);
	sim_response_release(&pss->rs);
	memset(pss, 0, sizeof *pss);
}

static void
answer(struct lws *wsi, struct pss *pss)
{
	struct sim_request rq = { .method = pss->is_post ? "POST" : "GET", .path = pss->path,
	        .apikey = pss->apikey, .body = pss->body.data, .len = pss->body.len };

	if (the_server->sink != NULL) {
		if (pss->is_post) {
			fwrite(pss->body.data != NULL ? pss->body.data : "", 1, pss->body.len,
			       the_server->sink);
			fputc('\n', the_server->sink);
			fflush(the_server->sink);
		}
		pss->rs.status = the_server->sink_status;
		pss->rs.content_type = "application/json";
		pss->rs.body = xstrdup("{}");
		pss->rs.len = 2;
		pss->phase = 1;
		lws_callback_on_writable(wsi);
		return;
	}
	if (pss->too_big) {
		pss->rs.status = 413;
		pss->rs.content_type = "application/json";
		pss->rs.body = gupshup_reply_error("Request Entity Too Large");
		pss->rs.len = strlen(pss->rs.body);
	} else {
		sim_handle(the_server->sim, &rq, now_ms(), &pss->rs);
	}
	pss->phase = 1;
	lws_callback_on_writable(wsi);
	kick(the_server);
}

static int
write_response(struct lws *wsi, struct pss *pss)
{
	unsigned char buf[LWS_PRE + 16384];
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
	size_t chunk;
	int final;

	if (pss->rs.drop)
		return -1;       /* --chaos: hang up without an answer */
	if (pss->phase == 1) {
		if (lws_add_http_common_headers(wsi, (unsigned)pss->rs.status, pss->rs.content_type,
		                                (lws_filepos_t)pss->rs.len, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		pss->phase = 2;
		if (pss->rs.len == 0)
			goto completed;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (pss->phase != 2)
		return 0;
	chunk = pss->rs.len - pss->sent;
	if (chunk > sizeof buf - LWS_PRE)
		chunk = sizeof buf - LWS_PRE;
	memcpy(start, pss->rs.body + pss->sent, chunk);
	final = pss->sent + chunk == pss->rs.len;
	if (lws_write(wsi, start, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)chunk)
		return -1;
	pss->sent += chunk;
	if (!final) {
		lws_callback_on_writable(wsi);
		return 0;
	}
completed:
	pss->phase = 0;
	if (pss->too_big)
		return -1;       /* the unread body makes the connection unusable */
	if (lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static int
on_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct pss *pss = user;
	char key[512];
	int n;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		pss_release(pss);
		pss->path = xstrdup(in != NULL ? (const char *)in : "/");
		pss->is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
		n = lws_hdr_custom_copy(wsi, key, sizeof key, "apikey:", 7);
		if (n >= 0)
			pss->apikey = xstrndup(key, (size_t)n);
		if (!pss->is_post && lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
			/* Neither GET nor POST: the model answers 405 for known paths. */
			pss->is_post = 0;
			free(pss->path);
			pss->path = xstrdup("/-unsupported-method");
		}
		pss->body_max = strcmp(pss->path, "/sim/upload") == 0 ? SIM_UPLOAD_MAX : BODY_MAX;
		if (pss->is_post) {
			long long cl = -1;
			n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
			if (n > 0 && n < 20) {
				char v[24];
				if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
					cl = strtoll(v, NULL, 10);
			} else if (n >= 20) {
				cl = (long long)pss->body_max + 1;
			}
			if (cl > (long long)pss->body_max)
				pss->too_big = 1;
			else if (cl > 0)
				return 0;        /* the body follows */
		}
		answer(wsi, pss);
		return 0;

	case LWS_CALLBACK_HTTP_BODY:
		if (pss->too_big || pss->body.len + len > pss->body_max) {
			pss->too_big = 1;
			return 0;
		}
		buf_append(&pss->body, in, len);
		return 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		answer(wsi, pss);
		return 0;

	case LWS_CALLBACK_HTTP_WRITEABLE:
		return write_response(wsi, pss);

	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		pss_release(pss);
		return 0;

	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "http", on_http, sizeof(struct pss), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void
write_url_file(const char *path, const char *url)
{
	char *tmp;
	FILE *f;

	if (path == NULL)
		return;
	tmp = xasprintf("%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%s\n", url) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		log_warn("cannot write '%s'", path);
	free(tmp);
}

int
sim_server_run(struct sim *s, const struct sim_server_opts *opts, char **cause)
{
	struct lws_context_creation_info info;
	struct server sv;
	struct sigaction sa;
	char *url;

	*cause = NULL;
	memset(&sv, 0, sizeof sv);
	sv.sim = s;
	sv.callback = opts->callback != NULL ? xstrdup(opts->callback) : NULL;
	sv.state = opts->state;
	/* libcurl keeps its own CA bundle; SSL_CERT_FILE (OpenSSL's name,
	 * which the console honours too) lets a test trust a self-signed hub. */
	sv.cafile = getenv("SSL_CERT_FILE");
	if (sv.cafile != NULL && sv.cafile[0] == '\0')
		sv.cafile = NULL;
	sv.last_save = now_ms();
	sv.sink_status = opts->sink_status ? opts->sink_status : 200;
	if (opts->sink_out != NULL && (sv.sink = fopen(opts->sink_out, "a")) == NULL) {
		*cause = xasprintf("cannot open '%s': %s", opts->sink_out, strerror(errno));
		free(sv.callback);
		return -1;
	}
	the_server = &sv;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*cause = xstrdup("cannot initialise libcurl");
		return -1;
	}
	sv.multi = curl_multi_init();
	if (sv.multi == NULL) {
		*cause = xstrdup("cannot initialise libcurl: curl_multi_init failed");
		curl_global_cleanup();
		return -1;
	}

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = opts->port;
	info.iface = opts->host;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (opts->host != NULL && strchr(opts->host, ':') != NULL)
		info.options = 0;
	info.ka_time = 0;
	sv.ctx = lws_create_context(&info);
	if (sv.ctx == NULL) {
		*cause = xasprintf("cannot listen on %s:%d: address in use or not available",
		                   opts->host, opts->port);
		curl_multi_cleanup(sv.multi);
		curl_global_cleanup();
		free(sv.callback);
		return -1;
	}

	signal_ctx = sv.ctx;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	url = xasprintf(strchr(opts->host, ':') ? "http://[%s]:%d" : "http://%s:%d", opts->host,
	                opts->port);
	write_url_file(opts->url_file, url);
	if (s != NULL)
		log_info("listening on %s (callback %s)", url,
		         sv.callback != NULL ? sv.callback : "none");
	else
		log_info("sink listening on %s, writing to %s", url, opts->sink_out);
	free(url);

	if (s != NULL)
		kick(&sv);
	while (!stopping) {
		if (lws_service(sv.ctx, 0) < 0)
			break;
	}

	if (s != NULL) {
		log_info("stopping: %lu callbacks posted, %zu still queued", sv.posted,
		         sim_queued(s) + sv.nheld + sv.nxfer);
		lws_sul_cancel(&sv.sul);
		if (sv.state != NULL && sim_dirty(s))
			save_state(&sv, now_ms());
	}
	if (sv.sink != NULL)
		fclose(sv.sink);
	for (unsigned i = 0; i < sv.nxfer; i++) {
		curl_multi_remove_handle(sv.multi, sv.xfer[i]->easy);
		curl_easy_cleanup(sv.xfer[i]->easy);
		curl_slist_free_all(sv.xfer[i]->headers);
		free(sv.xfer[i]->post.body);
		free(sv.xfer[i]);
	}
	for (unsigned i = 0; i < sv.nfetches; i++) {
		curl_multi_remove_handle(sv.multi, sv.fetches[i]->easy);
		fetch_free(sv.fetches[i]);
	}
	for (size_t i = 0; i < sv.nheld; i++)
		free(sv.held[i].body);
	free(sv.held);
	lws_context_destroy(sv.ctx);
	signal_ctx = NULL;
	curl_multi_cleanup(sv.multi);
	curl_global_cleanup();
	free(sv.callback);
	the_server = NULL;
	return 0;
}
