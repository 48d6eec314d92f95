/*
 * libFuzzer harness for wadesk-sim's request handling (sim_core.c): the
 * router, the send API's forms, the control API (say, upload, media,
 * opt-in), the media paths (payload URL, wamedia) and the outbound media
 * check, all of which take bytes from the network.
 *
 * The input is a list of requests separated by NUL bytes.  Each starts
 * with one letter: G/g a GET, P/p a POST (upper case with the right
 * apikey, lower case without), then the path up to a newline, then the
 * body.  "@ID" in a path or body stands for the id of the last upload
 * (the ids are random), so that a few bytes reach a kept file.  After
 * each request the sim's queued callbacks are popped (each must parse
 * as a Gupshup callback) and a waiting outbound download, if any,
 * completes with that request's body as the downloaded bytes.
 *
 * A new sim per input (sandbox mode when the first byte's top bit is
 * set), borrowing one libmagic handle loaded once: loading its database
 * for each input would cost more than the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gupshup.h"
#include "gupshup_sim.h"
#include "sim.h"
#include "sniff.h"
#include "util.h"

#define KEY "fuzz-key"
#define T0  1764065643000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s with every "@ID" replaced by id (xmalloc'd). */
static char *
with_id(const char *s, size_t len, const char *id)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < len; i++) {
		if (id != NULL && i + 3 <= len && memcmp(s + i, "@ID", 3) == 0) {
			buf_puts(&b, id);
			i += 2;
		} else {
			buf_append(&b, s + i, 1);
		}
	}
	buf_append(&b, "", 1);
	return b.data;
}

static void
drain(struct sim *s, int64_t now)
{
	struct sim_post p;
	while (sim_pop_due(s, now, &p)) {
		struct gupshup_callback cb;
		char *cause = NULL;
		if (gupshup_callback_parse(p.body, strlen(p.body), &cb, &cause) != 0)
			abort();                /* the sim must only post what parses */
		gupshup_callback_release(&cb);
		free(p.body);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sniff *magic;
	struct sim_config cfg = { .app = "FuzzApp", .apikey = KEY, .event_delay_ms = 10, .seed = 1,
	        .base_url = "http://127.0.0.1:1", .rate_limit = 1000 };
	const char *p = (const char *)data, *end = p + size;
	char *id = NULL, *cause = NULL;
	int64_t now = T0;
	struct sim *s;

	if (magic == NULL && (magic = sniff_new(&cause)) == NULL)
		abort();
	cfg.sniff = magic;
	cfg.sandbox = size > 0 && (data[0] & 0x80);
	s = sim_new(&cfg);
	while (p < end) {
		const char *rec_end = memchr(p, '\0', (size_t)(end - p)), *nl;
		struct sim_request rq = { 0 };
		struct sim_response rs;
		struct sim_fetch f;
		char *path, *body;
		size_t blen;

		if (rec_end == NULL)
			rec_end = end;
		if (rec_end - p < 1)
			goto next;
		rq.method = (*p == 'P' || *p == 'p') ? "POST" : "GET";
		rq.apikey = (*p == 'G' || *p == 'P') ? KEY : NULL;
		p++;
		nl = memchr(p, '\n', (size_t)(rec_end - p));
		if (nl == NULL)
			nl = rec_end;
		path = with_id(p, (size_t)(nl - p), id);
		body = nl < rec_end ? with_id(nl + 1, (size_t)(rec_end - nl - 1), id) : xstrdup("");
		blen = strlen(body);
		rq.path = path;
		rq.body = body;
		rq.len = blen;
		sim_handle(s, &rq, now, &rs);
		if (rs.status < 100 || rs.status > 599)
			abort();
		if (strcmp(path, "/sim/upload") == 0 && rs.status == 201) {
			free(id);
			id = gupshup_sim_reply_get(rs.body, rs.len, "id");
		}
		sim_response_release(&rs);
		if (sim_fetch_next(s, &f)) {
			struct sim_fetch_result r = { .answered = 1, .status = 200, .data = body,
			                              .len = blen };
			sim_fetch_done(s, f.id, &r, now);
			free(f.url);
		}
		now += 1000;
		sim_tick(s, now);
		drain(s, now + 60000);
		free(path);
		free(body);
	next:
		p = rec_end + 1;
	}
	free(id);
	sim_free(s);
	return 0;
}
