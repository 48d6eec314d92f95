/*
 * sim_client.c — the HTTP client side of wadesk-sim: one blocking request
 * for the short-lived control commands (curl easy; these processes have
 * no loop to block), and the load generator, which keeps a bounded number
 * of webhook POSTs in flight at a paced rate with curl multi and records
 * each one's latency.
 */
#include "net/sim_net.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gupshup.h"
#include "sim.h"
#include "util.h"

static size_t
collect(char *data, size_t size, size_t n, void *user)
{
	struct buf *b = user;
	buf_append(b, data, size * n);
	return size * n;
}

static int
client_request(const char *base, const char *method, const char *path, const char *type,
               const void *data, size_t datalen, long *status, char **body, size_t *len,
               char **cause)
{
	struct buf b = { 0 };
	struct curl_slist *headers = NULL;
	char err[CURL_ERROR_SIZE] = "";
	char *url = xasprintf("%s%s", base, path);
	CURL *c;
	CURLcode rc;

	*body = NULL;
	*len = 0;
	*cause = NULL;
	*status = 0;
	c = curl_easy_init();
	if (c == NULL) {
		*cause = xstrdup("cannot initialise libcurl");
		free(url);
		return -1;
	}
	rc = curl_easy_setopt(c, CURLOPT_URL, url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, data != NULL && datalen > 1000000 ? 120000L
		                                                                               : 10000L);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (rc == CURLE_OK && type != NULL) {
		char *h = xasprintf("Content-Type: %s", type);
		headers = curl_slist_append(NULL, h);
		free(h);
		rc = headers != NULL ? curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers)
		                     : CURLE_OUT_OF_MEMORY;
	}
	if (rc == CURLE_OK && data != NULL)
		rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)datalen);
	if (rc == CURLE_OK && data != NULL)
		rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	if (rc == CURLE_OK && data == NULL && strcmp(method, "POST") == 0)
		rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		*cause = xasprintf("cannot reach the sim at %s: %s", base,
		                   err[0] != '\0' ? err : curl_easy_strerror(rc));
		curl_easy_cleanup(c);
		buf_free(&b);
		free(url);
		return -1;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status) != CURLE_OK)
		*status = 0;
	curl_easy_cleanup(c);
	free(url);
	*len = b.len;
	*body = buf_steal(&b);
	return 0;
}

int
sim_client_request(const char *base, const char *method, const char *path, const char *form,
                   long *status, char **body, size_t *len, char **cause)
{
	return client_request(base, method, path, NULL, form, form != NULL ? strlen(form) : 0,
	                      status, body, len, cause);
}

int
sim_client_upload(const char *base, const char *path, const void *data, size_t datalen,
                  long *status, char **body, size_t *len, char **cause)
{
	return client_request(base, "POST", path, "application/octet-stream",
	                      data != NULL ? data : "", datalen, status, body, len, cause);
}

/* ---- The load generator ---- */

static size_t
discard(char *data, size_t size, size_t n, void *user)
{
	(void)data;
	(void)user;
	return size * n;
}

struct slot {
	CURL    *easy;
	int64_t  started_ns;
	char    *body;
	char    *id;
	int      busy;
};

int
sim_load_run_curl(const struct sim_load_opts *o, struct sim_load_result *r, char **cause)
{
	struct curl_slist *headers = NULL;
	struct slot *slots;
	double *lat;
	size_t nlat = 0;
	unsigned inflight = o->inflight ? o->inflight : 64, active = 0;
	unsigned customers = o->customers ? o->customers : 100;
	uint64_t rng = o->seed, run;
	int64_t t0, next_ns;
	double gap_ns = o->rate > 0 ? 1e9 / o->rate : 0;
	FILE *acked = NULL;
	CURLM *multi;
	int rc = -1;

	memset(r, 0, sizeof *r);
	*cause = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*cause = xstrdup("cannot initialise libcurl");
		return -1;
	}
	multi = curl_multi_init();
	headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (multi == NULL || headers == NULL) {
		*cause = xstrdup("cannot initialise libcurl");
		goto out_curl;
	}
	if (curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)inflight) != CURLM_OK)
		log_warn("cannot cap connections per host");
	if (o->acked != NULL && (acked = fopen(o->acked, "w")) == NULL) {
		*cause = xasprintf("cannot create '%s'", o->acked);
		goto out_curl;
	}
	slots = xcalloc(inflight, sizeof *slots);
	lat = xcalloc(o->count + 1, sizeof *lat);
	/* A run id keeps message ids unique across runs, so the hub never
	 * mistakes a new run's messages for duplicates. */
	run = sim_random(&rng) ^ (uint64_t)now_ms();

	t0 = mono_ns();
	next_ns = t0;
	while (r->sent < o->count || active > 0) {
		int running, left, wait_ms = 10;
		long suggested = -1;
		CURLMsg *m;
		int64_t now = mono_ns();

		/* Start what the pace allows. */
		while (r->sent < o->count && active < inflight && now >= next_ns) {
			struct slot *s = NULL;
			char phone[16], *id;
			struct gupshup_callback cb = { .kind = GUPSHUP_MESSAGE, .app = o->app,
			        .timestamp = now_ms() };
			for (unsigned i = 0; i < inflight; i++)
				if (!slots[i].busy) {
					s = &slots[i];
					break;
				}
			snprintf(phone, sizeof phone, "9199%08lu",
			         (unsigned long)(sim_random(&rng) % customers));
			id = xasprintf("load-%016llx-%lu", (unsigned long long)run, r->sent);
			cb.msg.id = id;
			cb.msg.phone = phone;
			cb.msg.name = "Load Tester";
			cb.msg.type = GUPSHUP_TEXT;
			cb.msg.text = "load test message";
			s->body = gupshup_callback_build(&cb);
			s->id = id;
			if (s->easy == NULL)
				s->easy = curl_easy_init();
			if (s->easy == NULL ||
			    curl_easy_setopt(s->easy, CURLOPT_URL, o->callback) != CURLE_OK ||
			    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
			    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body) != CURLE_OK ||
			    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 30000L) != CURLE_OK ||
			    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
			    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
			    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s) != CURLE_OK ||
			    curl_multi_add_handle(multi, s->easy) != CURLM_OK) {
				*cause = xstrdup("cannot start a request");
				free(s->body);
				free(s->id);
				goto out;
			}
			s->busy = 1;
			s->started_ns = mono_ns();
			active++;
			r->sent++;
			next_ns += (int64_t)gap_ns;
			/* Behind schedule by more than a second: do not burst to catch up. */
			if (now - next_ns > 1000000000LL)
				next_ns = now - 1000000000LL;
		}

		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			*cause = xstrdup("curl_multi_perform failed");
			goto out;
		}
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct slot *s = NULL;
			long status = 0;
			if (m->msg != CURLMSG_DONE)
				continue;
			if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s) != CURLE_OK ||
			    s == NULL)
				continue;
			if (m->data.result == CURLE_OK &&
			    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
				status = 0;
			if (m->data.result != CURLE_OK)
				status = 0;
			r->by_status[status >= 100 && status < 600 ? status / 100 : 0]++;
			if (status == 200) {
				r->ok++;
				lat[nlat++] = (double)(mono_ns() - s->started_ns) / 1e6;
				if (acked != NULL)
					fprintf(acked, "%s\n", s->id);
			} else {
				r->failed++;
			}
			curl_multi_remove_handle(multi, s->easy);
			free(s->body);
			free(s->id);
			s->body = s->id = NULL;
			s->busy = 0;
			active--;
		}
		if (r->sent < o->count && active < inflight) {
			int64_t until = (next_ns - mono_ns()) / 1000000;
			wait_ms = until < 0 ? 0 : until > 10 ? 10 : (int)until;
		}
		if (curl_multi_timeout(multi, &suggested) == CURLM_OK && suggested >= 0 &&
		    suggested < wait_ms)
			wait_ms = (int)suggested;
		if (curl_multi_poll(multi, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			*cause = xstrdup("curl_multi_poll failed");
			goto out;
		}
	}
	r->seconds = (double)(mono_ns() - t0) / 1e9;
	r->rate = r->seconds > 0 ? (double)r->ok / r->seconds : 0;
	doubles_sort(lat, nlat);
	r->p50_ms = percentile(lat, nlat, 0.50);
	r->p90_ms = percentile(lat, nlat, 0.90);
	r->p99_ms = percentile(lat, nlat, 0.99);
	r->max_ms = nlat > 0 ? lat[nlat - 1] : 0;
	rc = 0;
out:
	for (unsigned i = 0; i < inflight; i++) {
		if (slots[i].easy != NULL) {
			if (slots[i].busy)
				curl_multi_remove_handle(multi, slots[i].easy);
			curl_easy_cleanup(slots[i].easy);
		}
		free(slots[i].body);
		free(slots[i].id);
	}
	free(slots);
	free(lat);
	if (acked != NULL && fclose(acked) != 0 && rc == 0) {
		*cause = xasprintf("cannot write '%s'", o->acked);
		rc = -1;
	}
out_curl:
	curl_slist_free_all(headers);
	if (multi != NULL)
		curl_multi_cleanup(multi);
	curl_global_cleanup();
	return rc;
}
