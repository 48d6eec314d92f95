/*
 * sim_load.c — the load generator of "wadesk-sim load" for http:// webhook
 * URLs: keep-alive HTTP/1.1 connections driven by one epoll loop, the
 * requests written straight from a prepared buffer.
 *
 * The ingest benchmark divides the hub's rate by a bare HTTP server's, both
 * driven by this generator, so the generator must cost far less per
 * request than the servers it drives: a generator that saturates first
 * measures itself and flatters the hub.  libcurl's multi interface cost
 * ~42 µs per request here (an easy handle's options set and the handle
 * added and removed each time), more than the bare server's own ~31 µs.
 * This loop costs a write, a read and an epoll_wait per request, and the
 * body is one template with the id, the sender and the time written into
 * fixed-width fields (checked once against gupshup_callback_build, and
 * built by it for every request if the two ever disagree).
 *
 * https:// URLs go through libcurl (sim_client.c).
 */
#include "net/sim_net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gupshup.h"
#include "sim.h"
#include "util.h"

#define LOAD_TIMEOUT_NS  30000000000LL  /* a request unanswered this long fails */
#define LOAD_HEAD_MAX    16384          /* a response head longer than this fails */

/* Where a fixed-width field sits in the body template. */
struct field {
	size_t at[4];
	unsigned n;
	size_t width;
};

/* The webhook body: one template, fields patched per request. */
struct body_tpl {
	char         *text;      /* NULL: build each body with gupshup_callback_build */
	size_t        len;
	struct field  id, phone, ts;
};

enum rsp_state { RSP_HEAD, RSP_BODY, RSP_CHUNK_SIZE, RSP_CHUNK_DATA, RSP_CHUNK_CRLF,
	             RSP_TRAILER, RSP_CLOSE_DELIMITED };

struct lconn {
	int            fd;           /* -1: not connected */
	int            busy;         /* a request is out on it */
	int            connecting;
	int            want_out;     /* EPOLLOUT registered */
	int            served;       /* answered a request before this one (kept alive) */
	int            retried;      /* this request was resent once on a fresh connection */
	struct buf     out;          /* the request */
	size_t         off;          /* bytes of out written */
	char           head[LOAD_HEAD_MAX];
	size_t         headlen;
	size_t         got;          /* response bytes received for this request */
	enum rsp_state rsp;
	int            status;
	int            close_after;  /* "Connection: close" */
	uint64_t       left;         /* body or chunk bytes still to come */
	unsigned       line;         /* chunk-size line: 0 no digit yet, 1 in the digits,
	                              * 2 past them; trailer: the line's length */
	int64_t        started_ns;
	char           id[64];
	struct lconn  *next_idle;
};

struct load {
	const struct sim_load_opts *o;
	struct sim_load_result     *r;
	struct addrinfo            *ai;
	char                       *req_head_fmt;   /* "POST path HTTP/1.1...Content-Length: " */
	struct body_tpl             tpl;
	int                         ep;
	struct lconn               *conns, *idle;
	unsigned                    active;
	double                     *lat;
	size_t                      nlat;
	FILE                       *acked;
	char                       *cause;
};

/* ---- The body ---- */

static void
field_find(const char *text, const char *mark, struct field *f)
{
	const char *p = text;
	f->n = 0;
	f->width = strlen(mark);
	while ((p = strstr(p, mark)) != NULL && f->n < sizeof f->at / sizeof f->at[0]) {
		f->at[f->n++] = (size_t)(p - text);
		p += f->width;
	}
}

static void
field_put(char *text, const struct field *f, const char *digits)
{
	for (unsigned i = 0; i < f->n; i++)
		memcpy(text + f->at[i], digits, f->width);
}

static char *
body_build(const char *app, const char *id, const char *phone, int64_t ts)
{
	struct gupshup_callback cb = { .kind = GUPSHUP_MESSAGE, .app = app, .timestamp = ts };
	cb.msg.id = (char *)id;
	cb.msg.phone = (char *)phone;
	cb.msg.name = "Load Tester";
	cb.msg.type = GUPSHUP_TEXT;
	cb.msg.text = "load test message";
	return gupshup_callback_build(&cb);
}

/* Id "load-RUN-NNNNNNNNNN", sender "9199KKKKKKKK", timestamp 13 digits (ms). */
static void
load_ids(uint64_t run, unsigned long n, unsigned long customer, int64_t ts, char id[64],
         char phone[16], char tsd[16])
{
	snprintf(id, 64, "load-%016llx-%010lu", (unsigned long long)run, n % 10000000000UL);
	snprintf(phone, 16, "9199%08lu", customer % 100000000UL);
	snprintf(tsd, 16, "%013lld", (long long)(ts % 10000000000000LL));
}

static void
body_tpl_init(struct body_tpl *t, const char *app, uint64_t run)
{
	char id[64], phone[16], tsd[16], *mark_id, *sample, *want;
	size_t idw;

	memset(t, 0, sizeof *t);
	load_ids(run, 0, 0, 0, id, phone, tsd);
	idw = strlen(id) - 10;
	mark_id = xasprintf("%.*s@@@@@@@@@@", (int)idw, id);
	t->text = body_build(app, mark_id, "9199~~~~~~~~", 1234567890123LL);
	t->len = strlen(t->text);
	field_find(t->text, "@@@@@@@@@@", &t->id);
	field_find(t->text, "~~~~~~~~", &t->phone);
	field_find(t->text, "1234567890123", &t->ts);
	free(mark_id);
	/* The template must give what the builder gives, byte for byte. */
	load_ids(run, 4242424242UL, 31415926UL, 1767225600123LL, id, phone, tsd);
	want = body_build(app, id, phone, 1767225600123LL);
	sample = xstrdup(t->text);
	field_put(sample, &t->id, id + idw);
	field_put(sample, &t->phone, phone + 4);
	field_put(sample, &t->ts, tsd);
	if (t->id.n == 0 || t->phone.n == 0 || t->ts.n != 1 || strcmp(sample, want) != 0) {
		free(t->text);
		t->text = NULL;
	}
	free(sample);
	free(want);
}

/* ---- The URL ---- */

static int
url_split(const char *url, char **host, char **port, char **path)
{
	const char *h = url + strlen("http://"), *end, *colon = NULL, *slash;

	*host = *port = *path = NULL;
	slash = strchr(h, '/');
	end = slash != NULL ? slash : h + strlen(h);
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (rb == NULL)
			return -1;
		*host = xstrndup(h + 1, (size_t)(rb - h - 1));
		if (rb + 1 < end && rb[1] == ':')
			colon = rb + 1;
		else if (rb + 1 != end)
			goto bad;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		*host = xstrndup(h, (size_t)((colon != NULL ? colon : end) - h));
	}
	if (**host == '\0')
		goto bad;
	*port = colon != NULL ? xstrndup(colon + 1, (size_t)(end - colon - 1)) : xstrdup("80");
	*path = xstrdup(slash != NULL ? slash : "/");
	return 0;
bad:
	free(*host);
	*host = NULL;
	return -1;
}

/* ---- Connections ---- */

static void
conn_close(struct load *L, struct lconn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(L->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->served = 0;
	c->connecting = 0;
	c->want_out = 0;
}

static int
conn_watch(struct load *L, struct lconn *c, int out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = c };
	if (out == c->want_out)
		return 0;
	c->want_out = out;
	return epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int
conn_open(struct load *L, struct lconn *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(L->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->served = 0;
	c->connecting = 1;
	c->want_out = 1;
	if (connect(c->fd, L->ai->ai_addr, L->ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

/* The request is over: counted, its connection idle again (or closed). */
static void
finish(struct load *L, struct lconn *c, int status)
{
	struct sim_load_result *r = L->r;

	r->by_status[status >= 100 && status < 600 ? status / 100 : 0]++;
	if (status == 200) {
		r->ok++;
		L->lat[L->nlat++] = (double)(mono_ns() - c->started_ns) / 1e6;
		if (L->acked != NULL)
			fprintf(L->acked, "%s\n", c->id);
	} else {
		r->failed++;
	}
	if (status == 0 || c->close_after || c->rsp == RSP_CLOSE_DELIMITED)
		conn_close(L, c);
	else
		c->served = 1;
	c->busy = 0;
	c->next_idle = L->idle;
	L->idle = c;
	L->active--;
}

static int
write_some(struct load *L, struct lconn *c)
{
	while (c->off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->off, c->out.len - c->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return conn_watch(L, c, 1);
		if (n < 0)
			return -1;
		c->off += (size_t)n;
	}
	return conn_watch(L, c, 0);
}

static int
start_on(struct load *L, struct lconn *c)
{
	c->off = 0;
	c->headlen = 0;
	c->got = 0;
	c->rsp = RSP_HEAD;
	c->status = 0;
	c->close_after = 0;
	c->left = 0;
	c->line = 0;
	if (c->fd < 0 && conn_open(L, c) != 0)
		return -1;
	return c->connecting ? 0 : write_some(L, c);
}

/* A request that failed before any answer on a kept-alive connection went
 * to a connection the server had already closed: sent once more on a new
 * one, as HTTP clients do.  Otherwise it fails. */
static void
fail_or_retry(struct load *L, struct lconn *c)
{
	int stale = c->served && !c->retried && c->got == 0;

	conn_close(L, c);
	if (stale) {
		c->retried = 1;
		if (start_on(L, c) == 0)
			return;
		conn_close(L, c);
	}
	finish(L, c, 0);
}

static uint64_t
parse_u64_dec(const char *s, const char *end, int *ok)
{
	uint64_t v = 0;
	*ok = s < end;
	for (; s < end && *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s != end)
		*ok = 0;
	return v;
}

/* The head is complete (head[0..headlen) ends with CRLF CRLF): status and
 * framing.  -1 when it is not a response this client understands. */
static int
head_parse(struct lconn *c)
{
	const char *p = c->head, *end = c->head + c->headlen, *eol;
	int have_len = 0, chunked = 0;

	if (c->headlen < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return -1;
	c->status = atoi(p + 9);
	if (c->status < 100 || c->status > 599)
		return -1;
	if (p[7] == '0')
		c->close_after = 1;
	for (p = memchr(p, '\n', (size_t)(end - p)) + 1; p < end; p = eol + 1) {
		const char *colon, *v, *ve;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL)
			continue;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		ve = eol > v && eol[-1] == '\r' ? eol - 1 : eol;
		if ((size_t)(colon - p) == 14 && strncasecmp(p, "content-length", 14) == 0) {
			int ok;
			c->left = parse_u64_dec(v, ve, &ok);
			if (!ok)
				return -1;
			have_len = 1;
		} else if ((size_t)(colon - p) == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
			chunked = ve - v >= 7 && strncasecmp(ve - 7, "chunked", 7) == 0;
		} else if ((size_t)(colon - p) == 10 && strncasecmp(p, "connection", 10) == 0) {
			if (ve - v == 5 && strncasecmp(v, "close", 5) == 0)
				c->close_after = 1;
		}
	}
	if (c->status < 200) {
		c->rsp = RSP_HEAD;           /* 100 Continue and friends: the real answer follows */
		return 0;
	}
	if (chunked)
		c->rsp = RSP_CHUNK_SIZE;
	else if (have_len)
		c->rsp = RSP_BODY;
	else if (c->status == 204 || c->status == 304)
		c->rsp = RSP_BODY, c->left = 0;
	else
		c->rsp = RSP_CLOSE_DELIMITED;
	c->left = chunked ? 0 : c->left;
	return 0;
}

/* Consumes what is left of a body or chunk from *p. */
static void
skip(struct lconn *c, const char **p, size_t *n)
{
	size_t take = *n < c->left ? *n : (size_t)c->left;
	*p += take;
	*n -= take;
	c->left -= take;
}

/*
 * Feeds n response bytes; 1 when the response is complete (with no byte to
 * spare: one request is out per connection), 0 for more, -1 on a response
 * this client cannot follow.
 */
static int
feed(struct lconn *c, const char *p, size_t n)
{
	while (n > 0 || (c->rsp == RSP_BODY && c->left == 0)) {
		switch (c->rsp) {
		case RSP_HEAD: {
			size_t take = 0;
			int done = 0;
			while (take < n && !done) {
				if (c->headlen == sizeof c->head)
					return -1;
				c->head[c->headlen++] = p[take++];
				done = c->headlen >= 4 && memcmp(c->head + c->headlen - 4, "\r\n\r\n", 4) == 0;
			}
			p += take;
			n -= take;
			if (done) {
				if (head_parse(c) != 0)
					return -1;
				c->headlen = 0;
			}
			break;
		}
		case RSP_BODY:
			skip(c, &p, &n);
			if (c->left == 0)
				return n == 0 ? 1 : -1;
			break;
		case RSP_CLOSE_DELIMITED:
			return 0;
		case RSP_CHUNK_SIZE:
			if (*p == '\n') {
				if (c->line == 0)
					return -1;
				c->rsp = c->left == 0 ? RSP_TRAILER : RSP_CHUNK_DATA;
				c->line = 0;
			} else if (c->line < 2) {
				int d = *p >= '0' && *p <= '9' ? *p - '0'
				      : (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f' ? (*p | 0x20) - 'a' + 10 : -1;
				if (d >= 0 && c->left < (1ULL << 56)) {
					c->left = c->left * 16 + (uint64_t)d;
					c->line = 1;
				} else if (c->line == 1) {
					c->line = 2;      /* extensions or the CR: skipped */
				} else {
					return -1;
				}
			}
			p++;
			n--;
			break;
		case RSP_CHUNK_DATA:
			skip(c, &p, &n);
			if (c->left == 0)
				c->rsp = RSP_CHUNK_CRLF;
			break;
		case RSP_CHUNK_CRLF:
			if (*p == '\n')
				c->rsp = RSP_CHUNK_SIZE;
			else if (*p != '\r')
				return -1;
			p++;
			n--;
			break;
		case RSP_TRAILER:
			/* Lines up to an empty one. */
			if (*p == '\n') {
				if (c->line == 0)
					return n == 1 ? 1 : -1;
				c->line = 0;
			} else if (*p != '\r') {
				c->line++;
			}
			p++;
			n--;
			break;
		}
	}
	return 0;
}

static void
on_readable(struct load *L, struct lconn *c)
{
	char in[16384];

	for (;;) {
		ssize_t n = recv(c->fd, in, sizeof in, 0);
		int done;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n == 0 && c->busy && c->rsp == RSP_CLOSE_DELIMITED) {
			finish(L, c, c->status);
			return;
		}
		if (n <= 0) {
			if (c->busy)
				fail_or_retry(L, c);
			else
				conn_close(L, c);   /* the server closed an idle connection */
			return;
		}
		if (!c->busy) {
			conn_close(L, c);       /* bytes nobody asked for */
			return;
		}
		c->got += (size_t)n;
		done = feed(c, in, (size_t)n);
		if (done < 0) {
			c->close_after = 1;
			finish(L, c, 0);
			return;
		}
		if (done > 0) {
			finish(L, c, c->status);
			return;
		}
		if ((size_t)n < sizeof in)
			return;
	}
}

static void
on_writable(struct load *L, struct lconn *c)
{
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			fail_or_retry(L, c);
			return;
		}
		c->connecting = 0;
	}
	if (c->busy && write_some(L, c) != 0)
		fail_or_retry(L, c);
	else if (!c->busy)
		(void)conn_watch(L, c, 0);
}

/* ---- The run ---- */

static void
request_build(struct load *L, struct lconn *c, uint64_t run, uint64_t *rng)
{
	const struct sim_load_opts *o = L->o;
	unsigned long customer = (unsigned long)(sim_random(rng) % (o->customers ? o->customers : 100));
	char phone[16], tsd[16];
	int64_t ts = now_ms();

	load_ids(run, L->r->sent, customer, ts, c->id, phone, tsd);
	buf_reset(&c->out);
	if (L->tpl.text != NULL) {
		size_t at;
		buf_printf(&c->out, "%s%zu\r\n\r\n", L->req_head_fmt, L->tpl.len);
		at = c->out.len;
		buf_append(&c->out, L->tpl.text, L->tpl.len);
		field_put(c->out.data + at, &L->tpl.id, c->id + strlen(c->id) - 10);
		field_put(c->out.data + at, &L->tpl.phone, phone + 4);
		field_put(c->out.data + at, &L->tpl.ts, tsd);
	} else {
		char *body = body_build(o->app, c->id, phone, ts);
		size_t len = strlen(body);
		buf_printf(&c->out, "%s%zu\r\n\r\n", L->req_head_fmt, len);
		buf_append(&c->out, body, len);
		free(body);
	}
}

static void
sweep_timeouts(struct load *L, unsigned n)
{
	int64_t now = mono_ns();
	for (unsigned i = 0; i < n; i++) {
		struct lconn *c = &L->conns[i];
		if (c->busy && now - c->started_ns > LOAD_TIMEOUT_NS) {
			c->retried = 1;
			conn_close(L, c);
			finish(L, c, 0);
		}
	}
}

static int
load_http(const struct sim_load_opts *o, struct sim_load_result *r, char **cause)
{
	struct load L = { .o = o, .r = r, .ep = -1 };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct epoll_event evs[256];
	unsigned inflight = o->inflight ? o->inflight : 64;
	uint64_t rng = o->seed, run;
	int64_t t0, next_ns, last_sweep;
	double gap_ns = o->rate > 0 ? 1e9 / o->rate : 0;
	char *host = NULL, *port = NULL, *path = NULL;
	int rc = -1, gai;

	memset(r, 0, sizeof *r);
	*cause = NULL;
	if (url_split(o->callback, &host, &port, &path) != 0) {
		*cause = xasprintf("cannot read the webhook URL '%s'", o->callback);
		return -1;
	}
	if ((gai = getaddrinfo(host, port, &hints, &L.ai)) != 0) {
		*cause = xasprintf("cannot resolve '%s': %s", host, gai_strerror(gai));
		goto out;
	}
	if ((L.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		*cause = xasprintf("epoll_create1: %s", strerror(errno));
		goto out;
	}
	if (o->acked != NULL && (L.acked = fopen(o->acked, "w")) == NULL) {
		*cause = xasprintf("cannot create '%s'", o->acked);
		goto out;
	}
	/* A run id keeps message ids unique across runs, so the hub never
	 * mistakes a new run's messages for duplicates. */
	run = sim_random(&rng) ^ (uint64_t)now_ms();
	body_tpl_init(&L.tpl, o->app, run);
	L.req_head_fmt = xasprintf("POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\n"
	                           "Content-Type: application/json\r\nContent-Length: ",
	                           path, strchr(host, ':') ? "[" : "", host,
	                           strchr(host, ':') ? "]" : "", port);
	L.conns = xcalloc(inflight, sizeof *L.conns);
	for (unsigned i = inflight; i-- > 0;) {
		L.conns[i].fd = -1;
		L.conns[i].next_idle = L.idle;
		L.idle = &L.conns[i];
	}
	L.lat = xcalloc(o->count + 1, sizeof *L.lat);

	t0 = mono_ns();
	next_ns = t0;
	last_sweep = t0;
	while (r->sent < o->count || L.active > 0) {
		int64_t now = mono_ns();
		int wait_ms = 10, n;

		/* Start what the pace allows. */
		while (r->sent < o->count && L.idle != NULL && now >= next_ns) {
			struct lconn *c = L.idle;
			L.idle = c->next_idle;
			request_build(&L, c, run, &rng);
			c->busy = 1;
			c->retried = 0;
			c->started_ns = mono_ns();
			L.active++;
			r->sent++;
			if (start_on(&L, c) != 0)
				fail_or_retry(&L, c);
			next_ns += (int64_t)gap_ns;
			/* Behind schedule by more than a second: do not burst to catch up. */
			if (now - next_ns > 1000000000LL)
				next_ns = now - 1000000000LL;
		}
		if (r->sent < o->count && L.idle != NULL) {
			int64_t until = (next_ns - mono_ns()) / 1000000;
			wait_ms = until < 0 ? 0 : until > 10 ? 10 : (int)until;
		}
		n = epoll_wait(L.ep, evs, (int)(sizeof evs / sizeof evs[0]), wait_ms);
		if (n < 0 && errno != EINTR) {
			*cause = xasprintf("epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			struct lconn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;           /* closed by an earlier event of this round */
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP) && (c->connecting || c->want_out))
				on_writable(&L, c);
			if (c->fd >= 0 && evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(&L, c);
		}
		if (mono_ns() - last_sweep > 100000000LL) {
			sweep_timeouts(&L, inflight);
			last_sweep = mono_ns();
		}
	}
	r->seconds = (double)(mono_ns() - t0) / 1e9;
	r->rate = r->seconds > 0 ? (double)r->ok / r->seconds : 0;
	doubles_sort(L.lat, L.nlat);
	r->p50_ms = percentile(L.lat, L.nlat, 0.50);
	r->p90_ms = percentile(L.lat, L.nlat, 0.90);
	r->p99_ms = percentile(L.lat, L.nlat, 0.99);
	r->max_ms = L.nlat > 0 ? L.lat[L.nlat - 1] : 0;
	rc = 0;
out:
	if (L.conns != NULL)
		for (unsigned i = 0; i < inflight; i++) {
			conn_close(&L, &L.conns[i]);
			buf_free(&L.conns[i].out);
		}
	free(L.conns);
	free(L.lat);
	free(L.tpl.text);
	free(L.req_head_fmt);
	if (L.acked != NULL && fclose(L.acked) != 0 && rc == 0) {
		*cause = xasprintf("cannot write '%s'", o->acked);
		rc = -1;
	}
	if (L.ep >= 0)
		close(L.ep);
	if (L.ai != NULL)
		freeaddrinfo(L.ai);
	free(host);
	free(port);
	free(path);
	return rc;
}

int
sim_load_run(const struct sim_load_opts *o, struct sim_load_result *r, char **cause)
{
	if (strncmp(o->callback, "http://", 7) == 0)
		return load_http(o, r, cause);
	return sim_load_run_curl(o, r, cause);
}
