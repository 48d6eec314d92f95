/*
 * webhook_post.c — a paced poster of Gupshup inbound-message webhooks
 * whose text carries the moment each was posted, for the latency
 * benchmark (desk_client watch reads it back on the consoles).
 *
 *   webhook_post URL --count N --rate R [--customers K] [--inflight M] [--app APP]
 *
 * Webhook SEQ (0..N-1) is due at start + SEQ/R on the monotonic clock;
 * when it goes out its text becomes "bench SEQ USEC", USEC being
 * CLOCK_REALTIME in microseconds, so a reader on the same machine gets
 * the end-to-end latency from one subtraction.  A late webhook goes out
 * as soon as a slot is free (the schedule is not reset: the achieved
 * rate says when the target could not keep up).  Bodies come from the
 * Gupshup codec (gupshup_callback_build), as the sim's own generator.
 * Requests run on curl multi with at most M in flight (default 64),
 * connections kept alive.
 *
 * Prints what was sent, how many 200s came back, the achieved rate and
 * the percentiles of the HTTP answer time.  Exit 0 when the run went
 * through (even if some webhooks were refused: that is printed), 1 when
 * it could not run, 2 for usage.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gupshup.h"
#include "util.h"

struct slot {
	CURL    *easy;
	char    *body;
	int64_t  start_ns;
	int      busy;
};

static int64_t
real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t
sink(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* The body of webhook seq, stamped now. */
static char *
build(const char *app, unsigned long long run, unsigned long seq, unsigned customers)
{
	char phone[16], id[64], text[64];
	struct gupshup_callback cb;
	memset(&cb, 0, sizeof cb);
	snprintf(phone, sizeof phone, "9198%08lu", seq % customers);
	snprintf(id, sizeof id, "bench-%llx-%lu", run, seq);
	snprintf(text, sizeof text, "bench %lu %lld", seq, (long long)real_us());
	cb.kind = GUPSHUP_MESSAGE;
	cb.app = app;
	cb.timestamp = now_ms();
	cb.msg.id = id;
	cb.msg.phone = phone;
	cb.msg.name = "Bench";
	cb.msg.type = GUPSHUP_TEXT;
	cb.msg.text = text;
	return gupshup_callback_build(&cb);
}

static int
start(CURLM *multi, struct slot *s, const char *url, struct curl_slist *hdrs)
{
	if (s->easy == NULL && (s->easy = curl_easy_init()) == NULL)
		return -1;
	if (curl_easy_setopt(s->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 30000L) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, sink) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s) != CURLE_OK ||
	    curl_multi_add_handle(multi, s->easy) != CURLM_OK)
		return -1;
	s->busy = 1;
	s->start_ns = mono_ns();
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },     { "rate", required_argument, NULL, 'r' },
		{ "customers", required_argument, NULL, 'k' }, { "inflight", required_argument, NULL, 'i' },
		{ "app", required_argument, NULL, 'a' },       { NULL, 0, NULL, 0 },
	};
	unsigned long count = 0, sent = 0, ok = 0, bad = 0, noanswer = 0;
	unsigned customers = 100, inflight = 64, active = 0;
	double rate = 0, *lat;
	const char *app = "e2e", *url;
	unsigned long long run;
	struct curl_slist *hdrs = NULL;
	struct slot *slots;
	CURLM *multi;
	int64_t t0, now;
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': count = strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'k': customers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': inflight = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'a': app = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || count == 0 || rate <= 0 || customers == 0 || inflight == 0 ||
	    inflight > 1024)
		goto usage;
	url = argv[optind];

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "webhook_post: cannot initialise libcurl\n");
		return 1;
	}
	multi = curl_multi_init();
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (multi == NULL || hdrs == NULL ||
	    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)inflight) != CURLM_OK) {
		fprintf(stderr, "webhook_post: cannot initialise libcurl\n");
		goto out_curl;
	}
	slots = xcalloc(inflight, sizeof *slots);
	lat = xcalloc(count, sizeof *lat);
	run = (unsigned long long)real_us();

	t0 = mono_ns();
	while (sent < count || active > 0) {
		int running, left, wait_ms = 10;
		long suggested = -1;
		CURLMsg *msg;

		now = mono_ns();
		while (sent < count && active < inflight &&
		       now >= t0 + (int64_t)((double)sent * 1e9 / rate)) {
			struct slot *s = NULL;
			for (unsigned i = 0; i < inflight && s == NULL; i++)
				if (!slots[i].busy)
					s = &slots[i];
			s->body = build(app, run, sent, customers);
			if (start(multi, s, url, hdrs) != 0) {
				fprintf(stderr, "webhook_post: cannot start a request\n");
				free(s->body);
				s->body = NULL;
				goto out;
			}
			active++;
			sent++;
		}
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			fprintf(stderr, "webhook_post: curl_multi_perform failed\n");
			goto out;
		}
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			struct slot *s = NULL;
			long status = 0;
			if (msg->msg != CURLMSG_DONE ||
			    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s) != CURLE_OK ||
			    s == NULL)
				continue;
			if (msg->data.result != CURLE_OK)
				noanswer++;
			else if (curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
			         status == 200)
				lat[ok++] = (double)(mono_ns() - s->start_ns) / 1e6;
			else
				bad++;
			curl_multi_remove_handle(multi, s->easy);
			free(s->body);
			s->body = NULL;
			s->busy = 0;
			active--;
		}
		if (sent < count && active < inflight) {
			int64_t due = t0 + (int64_t)((double)sent * 1e9 / rate);
			int64_t ms = (due - mono_ns()) / 1000000;
			wait_ms = ms < 0 ? 0 : ms > 10 ? 10 : (int)ms;
		}
		if (curl_multi_timeout(multi, &suggested) == CURLM_OK && suggested >= 0 &&
		    suggested < wait_ms)
			wait_ms = (int)suggested;
		if (wait_ms > 0 && curl_multi_poll(multi, NULL, 0, wait_ms, NULL) != CURLM_OK) {
			fprintf(stderr, "webhook_post: curl_multi_poll failed\n");
			goto out;
		}
	}
	{
		double secs = (double)(mono_ns() - t0) / 1e9;
		doubles_sort(lat, ok);
		printf("webhooks: %lu sent, %lu answered 200, %lu other status, %lu no answer\n", sent, ok,
		       bad, noanswer);
		printf("webhooks: %.2f s, %.1f/s achieved (asked %.1f/s)\n", secs,
		       secs > 0 ? (double)ok / secs : 0.0, rate);
		printf("webhooks: answer time p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		       percentile(lat, ok, 0.5), percentile(lat, ok, 0.9), percentile(lat, ok, 0.99),
		       ok ? lat[ok - 1] : 0.0);
	}
	rc = 0;
out:
	for (unsigned i = 0; i < inflight; i++) {
		if (slots[i].easy != NULL) {
			if (slots[i].busy)
				curl_multi_remove_handle(multi, slots[i].easy);
			curl_easy_cleanup(slots[i].easy);
		}
		free(slots[i].body);
	}
	free(slots);
	free(lat);
out_curl:
	curl_slist_free_all(hdrs);
	if (multi != NULL)
		curl_multi_cleanup(multi);
	curl_global_cleanup();
	return rc;
usage:
	fprintf(stderr, "usage: webhook_post URL --count N --rate R [--customers K] [--inflight M] "
	                "[--app APP]\n");
	return 2;
}
