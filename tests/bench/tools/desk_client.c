/*
 * desk_client.c — benchmark consoles: N desk-protocol sessions in one
 * process, one libwebsockets client context, no curses.
 *
 *   desk_client watch LINK [--consoles N] [--from EVENT] [--expect M]
 *                          [--idle S] [--timeout S] [--ready FILE]
 *   desk_client send LINK --phones FILE --count N [--window W] [--timeout S]
 *
 * LINK is an access link, ws://HOST:PORT/v1/desk#TOKEN; the token goes
 * in hello, as a real console does.  Every frame is built and parsed with
 * src/proto.h, so the consoles pay what a real console pays per event;
 * except with watch --count-only, where the sessions speak the websocket
 * framing over plain sockets and count events from their first bytes
 * (see "The raw transport" below: ten lws clients on the benchmark's two
 * cores cost more CPU than the hub they watch).
 *
 * watch: opens N sessions (hello with last_event = --from, default 0),
 * prints "ready" on stdout (and creates --ready FILE) once every session
 * has caught up with the log head its welcome named, then counts the live
 * events (n beyond that head).  An inbound message whose text is
 * "bench SEQ USEC" (USEC: CLOCK_REALTIME microseconds when it was posted,
 * see webhook_post.c) gives a latency sample per console; the latency of
 * SEQ "on all consoles" is the largest of them.  It stops when every
 * session has seen M live inbound messages, after S seconds without a
 * frame (--idle), at --timeout, or on SIGTERM/SIGINT, and prints counts
 * and percentiles.  A session the hub closes (bye proto.slow: the console
 * fell behind) reconnects and resumes from its last event, as the real
 * console does; reconnects and duplicates are reported.
 *
 * send: one session queues --count `send` commands, a bounded --window of
 * them in flight, round-robin over the phones in FILE (one per line),
 * text "pace I", and waits for every ack or error.
 *
 * Exit status: 0 when the run went through (figures are printed, not
 * judged), 1 when the benchmark itself broke (cannot connect, refused
 * hello, bad usage), 2 for usage.
 */
#include <errno.h>
#include <getopt.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "util.h"

#define TICK_US      (20 * 1000)
#define RETRY_US     (200 * 1000)
#define MAX_FAILS    25           /* consecutive failed connects: give up (5 s) */
#define MAX_CODES    16

enum mode { WATCH, SEND };

struct frame {
	struct frame *next;
	size_t        len;
	unsigned char data[];         /* LWS_PRE bytes, then the frame */
};

struct conn {
	struct bench *b;
	unsigned      idx;
	struct lws   *wsi;
	struct buf    rx;
	struct frame *qhead, *qtail;
	int           alive;          /* a connection is open or being opened */
	int           welcomed, caught_up, ever_welcomed;
	unsigned      fails;          /* consecutive failed connects */
	int64_t       last_n;         /* last event applied */
	int64_t       base;           /* the head at the first welcome: older events are not counted */
	int64_t       head;           /* the head named by the latest welcome */
	unsigned long events, messages, dups;
	unsigned      reconnects;
	unsigned char *seen;          /* per SEQ: this console has its sample */
	lws_sorted_usec_list_t retry;
};

struct counted {
	char          code[48];
	unsigned long n;
};

struct bench {
	enum mode     mode;
	struct lws_context *ctx;
	char          host[128], path[256];
	int           port;
	const char   *token;
	struct conn  *c;
	unsigned      n;
	int64_t       from;
	unsigned long expect;
	int           count_only;     /* --count-only: events counted from their first bytes */
	int64_t       idle_ms, deadline_ms, start_ms, last_rx_ms, ready_ms;
	const char   *ready_file;
	int           ready, done, broken;
	const char   *stop_why;
	unsigned long bad_frames;
	struct counted byes[MAX_CODES];
	size_t        nbyes;
	/* latency */
	double       *lat;            /* every console's samples, ms */
	size_t        nlat;
	double       *allmax;         /* per SEQ: the slowest console, ms */
	unsigned     *allcnt;         /* per SEQ: consoles that have it */
	int64_t       first_msg_ms, last_msg_ms;
	/* send */
	char        **phones;
	size_t        nphones;
	unsigned long count, sent, answered, window, acks;
	struct counted errs[MAX_CODES];
	size_t        nerrs;
	int64_t       send_start_ms, send_end_ms;
	lws_sorted_usec_list_t tick;
};

static volatile sig_atomic_t got_stop;
static struct lws_context *sig_ctx;

static void
on_signal(int sig)
{
	(void)sig;
	got_stop = 1;
	if (sig_ctx != NULL)
		lws_cancel_service(sig_ctx);
}

static int64_t
real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
count_code(struct counted *t, size_t *n, const char *code)
{
	if (code == NULL || code[0] == '\0')
		code = "(none)";
	for (size_t i = 0; i < *n; i++)
		if (strcmp(t[i].code, code) == 0) {
			t[i].n++;
			return;
		}
	if (*n == MAX_CODES)
		return;
	snprintf(t[*n].code, sizeof t[*n].code, "%s", code);
	t[(*n)++].n = 1;
}

static void
print_codes(const char *what, const struct counted *t, size_t n)
{
	printf("%s:", what);
	if (n == 0)
		printf(" none");
	for (size_t i = 0; i < n; i++)
		printf(" %s %lu", t[i].code, t[i].n);
	printf("\n");
}

/* Ends the run: the loop stops after this service turn.  A sul callback
 * runs before lws polls, so the poll is woken too, or it would sleep on. */
static void
finish(struct bench *b, const char *why)
{
	if (b->done)
		return;
	b->done = 1;
	b->stop_why = why;
	if (b->ctx != NULL)
		lws_cancel_service(b->ctx);
}

/* ---- Writing: frames are queued and written only from WRITEABLE ---- */

static void
conn_queue(struct conn *c, const char *data, size_t len)
{
	struct frame *f = xmalloc(sizeof *f + LWS_PRE + len);
	f->next = NULL;
	f->len = len;
	memcpy(f->data + LWS_PRE, data, len);
	if (c->qtail != NULL)
		c->qtail->next = f;
	else
		c->qhead = f;
	c->qtail = f;
	if (c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
}

static void
conn_queue_msg(struct conn *c, const struct proto_msg *m)
{
	size_t len;
	char *s = proto_encode(m, &len);
	conn_queue(c, s, len);
	free(s);
}

/* A session's hello: resume after the last event it applied. */
static char *
hello_frame(const struct conn *c, size_t *len)
{
	struct proto_msg m = { .type = PROTO_HELLO };
	char name[32];
	snprintf(name, sizeof name, "bench%u", c->idx);
	m.token = c->b->token;
	m.agent = name;
	m.last_event = c->last_n;
	m.version = PROTO_VERSION;
	return proto_encode(&m, len);
}

static void
conn_drop_queue(struct conn *c)
{
	while (c->qhead != NULL) {
		struct frame *f = c->qhead;
		c->qhead = f->next;
		free(f);
	}
	c->qtail = NULL;
}

static int
conn_write(struct conn *c)
{
	struct frame *f = c->qhead;
	if (f == NULL)
		return 0;
	if (lws_write(c->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
		return -1;
	c->qhead = f->next;
	if (c->qhead == NULL)
		c->qtail = NULL;
	free(f);
	if (c->qhead != NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* ---- Connecting ---- */

static void conn_connect(struct conn *c);

static void
retry_fired(lws_sorted_usec_list_t *sul)
{
	struct conn *c = lws_container_of(sul, struct conn, retry);
	conn_connect(c);
}

/* A session ended (either transport): 1 when it is to be opened again
 * after RETRY_US, 0 when the run is over or gave up connecting. */
static int
conn_down(struct conn *c)
{
	struct bench *b = c->b;
	c->alive = 0;
	c->welcomed = 0;
	c->caught_up = 0;
	if (b->done)
		return 0;
	if (!c->ever_welcomed && ++c->fails > MAX_FAILS) {
		fprintf(stderr, "desk_client: console %u: cannot connect to %s:%d\n", c->idx, b->host,
		        b->port);
		b->broken = 1;
		finish(b, "cannot connect");
		return 0;
	}
	c->reconnects += c->ever_welcomed;
	return 1;
}

static void
conn_lost(struct conn *c)
{
	if (!c->alive)
		return;
	c->wsi = NULL;
	buf_reset(&c->rx);
	conn_drop_queue(c);
	if (conn_down(c))
		lws_sul_schedule(c->b->ctx, 0, &c->retry, retry_fired, RETRY_US);
}

static void
conn_connect(struct conn *c)
{
	struct bench *b = c->b;
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof ci);
	ci.context = b->ctx;
	ci.address = b->host;
	ci.port = b->port;
	ci.path = b->path;
	ci.host = b->host;
	ci.origin = b->host;
	ci.protocol = PROTO_SUBPROTOCOL;
	ci.opaque_user_data = c;
	c->alive = 1;
	if (lws_client_connect_via_info(&ci) == NULL)
		conn_lost(c);       /* no-op when the error callback already ran */
}

/* ---- The two modes ---- */

static int
all_caught_up(const struct bench *b)
{
	for (unsigned i = 0; i < b->n; i++)
		if (!b->c[i].caught_up)
			return 0;
	return 1;
}

static void
send_pump(struct bench *b)
{
	struct conn *c = &b->c[0];
	while (b->sent < b->count && b->sent - b->answered < b->window) {
		char id[32], text[32];
		struct proto_msg m = { .type = PROTO_SEND };
		snprintf(id, sizeof id, "b%lu", b->sent);
		snprintf(text, sizeof text, "pace %lu", b->sent);
		m.id = id;
		m.phone = b->phones[b->sent % b->nphones];
		m.text = text;
		if (b->sent == 0)
			b->send_start_ms = mono_ms();
		conn_queue_msg(c, &m);
		b->sent++;
	}
}

static void
became_ready(struct bench *b)
{
	b->ready = 1;
	b->ready_ms = mono_ms();
	if (b->mode == SEND) {
		send_pump(b);
		return;
	}
	printf("ready\n");
	fflush(stdout);
	if (b->ready_file != NULL) {
		FILE *f = fopen(b->ready_file, "w");
		if (f == NULL || fclose(f) != 0)
			fprintf(stderr, "desk_client: cannot create '%s'\n", b->ready_file);
	}
}

static void
check_done(struct bench *b)
{
	int64_t now = mono_ms();
	if (b->done)
		return;
	if (got_stop)
		finish(b, "stopped by a signal");
	else if (b->mode == SEND && b->ready && b->answered == b->count)
		finish(b, "every send answered");
	else if (b->mode == WATCH && b->ready && b->expect > 0) {
		unsigned i;
		for (i = 0; i < b->n; i++)
			if (b->c[i].messages < b->expect)
				break;
		if (i == b->n)
			finish(b, "every console has every message");
	}
	if (!b->done && b->ready && b->idle_ms > 0 &&
	    now - (b->last_rx_ms > b->ready_ms ? b->last_rx_ms : b->ready_ms) >= b->idle_ms)
		finish(b, "idle");
	if (!b->done && b->deadline_ms > 0 && now >= b->deadline_ms)
		finish(b, "timeout");
}

/* An inbound message event: count it, and take its latency sample. */
static void
on_message(struct conn *c, const struct proto_message *msg, int64_t rx_us)
{
	struct bench *b = c->b;
	unsigned long seq;
	long long us;
	double ms;

	c->messages++;
	if (b->first_msg_ms == 0)
		b->first_msg_ms = mono_ms();
	b->last_msg_ms = mono_ms();
	if (b->expect == 0 || msg->text == NULL ||
	    sscanf(msg->text, "bench %lu %lld", &seq, &us) != 2 || seq >= b->expect || c->seen[seq])
		return;
	c->seen[seq] = 1;
	ms = (double)(rx_us - us) / 1000.0;
	b->lat[b->nlat++] = ms;
	if (b->allcnt[seq]++ == 0 || ms > b->allmax[seq])
		b->allmax[seq] = ms;
}

/*
 * --count-only: what the ingest benchmark calls consoles "counting
 * events".  An event frame is counted from its first bytes (the hub writes
 * `{"type":"event","n":N,` first) and an inbound message is recognised by
 * two substrings, instead of a full decode: ten decoding consoles on the
 * benchmark's two cores would otherwise take more CPU than the hub itself.
 * Order and gaps are still checked through n, and a latency stamp in the
 * text ("bench SEQ USEC") is still read.  1 when handled.
 */
static int
count_only(struct conn *c, const char *data, size_t len)
{
	static const char head[] = "{\"type\":\"event\",\"n\":";
	struct bench *b = c->b;
	char num[24];
	size_t i, k = sizeof head - 1;
	int64_t n;

	if (len <= k || memcmp(data, head, k) != 0)
		return 0;
	for (i = 0; k + i < len && i < sizeof num - 1 && data[k + i] >= '0' && data[k + i] <= '9'; i++)
		num[i] = data[k + i];
	if (i == 0)
		return 0;
	num[i] = '\0';
	n = strtoll(num, NULL, 10);
	b->last_rx_ms = mono_ms();
	if (n <= c->last_n) {
		c->dups++;
		return 1;
	}
	c->last_n = n;
	if (n >= c->head)
		c->caught_up = 1;
	if (n <= c->base)
		return 1;
	c->events++;
	if (memmem(data, len, "\"kind\":\"message\"", 16) != NULL &&
	    memmem(data, len, "\"direction\":\"in\"", 16) != NULL) {
		/* The latency stamp, when the text is one: "bench SEQ USEC". */
		struct proto_message pm = { 0 };
		char text[64];
		const char *t = memmem(data, len, "\"text\":\"bench ", 14);
		if (t != NULL) {
			size_t m = 0;
			for (t += 8; t < data + len && *t != '"' && m < sizeof text - 1; t++)
				text[m++] = *t;
			text[m] = '\0';
			pm.text = text;
		}
		on_message(c, &pm, real_us());
	}
	if (!b->ready && all_caught_up(b))
		became_ready(b);
	return 1;
}

static void
on_frame(struct conn *c, const char *data, size_t len)
{
	struct bench *b = c->b;
	struct proto_msg m;
	const char *code = NULL;
	char *cause = NULL;
	int64_t rx_us = real_us();
	if (b->count_only && count_only(c, data, len))
		return;
	int rc = proto_decode(data, len, &m, &code, &cause);

	b->last_rx_ms = mono_ms();
	if (rc != 0 && m.type != PROTO_EVENT) {
		if (b->bad_frames++ == 0)
			fprintf(stderr, "desk_client: console %u: %s (%zu bytes: %.80s)\n", c->idx,
			        cause, len, data);
		goto out;
	}
	switch (m.type) {
	case PROTO_WELCOME:
		c->welcomed = c->ever_welcomed = 1;
		c->fails = 0;
		c->head = m.last_event;
		if (c->base < 0)
			c->base = m.last_event > c->last_n ? m.last_event : c->last_n;
		if (c->last_n >= c->head)
			c->caught_up = 1;
		break;
	case PROTO_EVENT:
		if (m.n <= c->last_n) {
			c->dups++;
			break;
		}
		c->last_n = m.n;
		if (m.n >= c->head)
			c->caught_up = 1;
		if (m.n <= c->base)
			break;
		c->events++;
		if (rc == 0 && m.kind == PROTO_EV_MESSAGE && m.message.direction != NULL &&
		    strcmp(m.message.direction, "in") == 0)
			on_message(c, &m.message, rx_us);
		break;
	case PROTO_ACK:
	case PROTO_ERROR:
		if (b->mode != SEND || m.id == NULL || m.id[0] != 'b')
			break;
		b->answered++;
		if (m.type == PROTO_ACK)
			b->acks++;
		else
			count_code(b->errs, &b->nerrs, m.code);
		if (b->answered == b->count)
			b->send_end_ms = mono_ms();
		send_pump(b);
		break;
	case PROTO_BYE:
		count_code(b->byes, &b->nbyes, m.code);
		if (m.code != NULL && strncmp(m.code, "auth.", 5) == 0) {
			fprintf(stderr, "desk_client: console %u: hello refused: %s\n", c->idx,
			        m.sentence != NULL ? m.sentence : m.code);
			b->broken = 1;
			finish(b, "hello refused");
		}
		break;
	default:
		break;
	}
	if (!b->ready && all_caught_up(b))
		became_ready(b);
out:
	free(cause);
	proto_msg_release(&m);
}

static int
cb_desk(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = lws_get_opaque_user_data(wsi);
	(void)user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED: {
		size_t n;
		char *hello = hello_frame(c, &n);
		c->wsi = wsi;
		conn_queue(c, hello, n);
		free(hello);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c != NULL)
			conn_lost(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		buf_append(&c->rx, in, len);
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			on_frame(c, c->rx.data, c->rx.len);
			buf_reset(&c->rx);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return conn_write(c);
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ PROTO_SUBPROTOCOL, cb_desk, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void
tick_fired(lws_sorted_usec_list_t *sul)
{
	struct bench *b = lws_container_of(sul, struct bench, tick);
	check_done(b);
	if (!b->done)
		lws_sul_schedule(b->ctx, 0, &b->tick, tick_fired, TICK_US);
}

/* ---- The raw transport of watch --count-only ----
 *
 * libwebsockets' client parses what it receives a byte at a time, and ten
 * consoles on the benchmark's two cores then cost about half as much CPU
 * as the hub they watch.  --count-only therefore speaks the websocket
 * framing itself (RFC 6455, the little of it a reader needs): a plain
 * blocking TCP socket per console, the upgrade request, one masked text
 * frame for hello, and the server's frames cut out of large reads.  Pings
 * are answered, a close or EOF reconnects after RETRY_US (resuming from
 * the last event, as the lws path does).  Sec-WebSocket-Accept is not
 * verified: this is a benchmark tool on loopback, not a console.
 */

static int
write_all(int fd, const void *p, size_t n)
{
	const char *q = p;
	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

struct raw {
	int           fd;             /* -1: not connected */
	int           upgraded;       /* the 101 and its headers are read */
	unsigned char *in;
	size_t        len, cap;
	int64_t       retry_ms;       /* when to connect again (0: not waiting) */
	struct buf    msg;            /* a fragmented message being gathered */
};

static int
raw_send(int fd, int opcode, const void *data, size_t len)
{
	unsigned char hdr[14];
	size_t h = 0;
	static const unsigned char mask[4] = { 0x5a, 0x17, 0xc3, 0x8e };
	hdr[h++] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		hdr[h++] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(len >> 8);
		hdr[h++] = (unsigned char)len;
	} else {
		hdr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	memcpy(hdr + h, mask, 4);
	h += 4;
	unsigned char *out = xmalloc(h + len);
	memcpy(out, hdr, h);
	for (size_t i = 0; i < len; i++)
		out[h + i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
	int rc = write_all(fd, out, h + len);
	free(out);
	return rc;
}

static void
raw_lost(struct conn *c, struct raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->len = 0;
	r->upgraded = 0;
	buf_reset(&r->msg);
	if (conn_down(c))
		r->retry_ms = mono_ms() + RETRY_US / 1000;
}

static void
raw_connect(struct conn *c, struct raw *r)
{
	struct bench *b = c->b;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[16];
	r->retry_ms = 0;
	snprintf(port, sizeof port, "%d", b->port);
	if (getaddrinfo(b->host, port, &hints, &ai) != 0 || ai == NULL) {
		raw_lost(c, r);
		return;
	}
	r->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0 || connect(r->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		freeaddrinfo(ai);
		raw_lost(c, r);
		return;
	}
	freeaddrinfo(ai);
	c->alive = 1;
	struct buf req = { 0 };
	buf_printf(&req,
	           "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	           "Sec-WebSocket-Key: d2FkZXNrLWJlbmNoLWtleQ==\r\nSec-WebSocket-Version: 13\r\n"
	           "Sec-WebSocket-Protocol: %s\r\n\r\n",
	           b->path, b->host, b->port, PROTO_SUBPROTOCOL);
	if (write_all(r->fd, req.data, req.len) != 0)
		raw_lost(c, r);
	buf_free(&req);
}

/* After the 101: the hello, as cb_desk sends it. */
static int
raw_hello(struct conn *c, struct raw *r)
{
	size_t len;
	char *s = hello_frame(c, &len);
	int rc = raw_send(r->fd, 0x1, s, len);
	free(s);
	return rc;
}

/* Cuts the complete frames out of r->in; -1 when the connection is over. */
static int
raw_frames(struct conn *c, struct raw *r)
{
	size_t off = 0;
	if (!r->upgraded) {
		unsigned char *end = memmem(r->in, r->len, "\r\n\r\n", 4);
		if (end == NULL)
			return r->len > 16384 ? -1 : 0;
		if (r->len < 12 || memcmp(r->in, "HTTP/1.1 101", 12) != 0) {
			fprintf(stderr, "desk_client: console %u: no upgrade: %.40s\n", c->idx,
			        (const char *)r->in);
			return -1;
		}
		r->upgraded = 1;
		off = (size_t)(end - r->in) + 4;
		if (raw_hello(c, r) != 0)
			return -1;
	}
	for (;;) {
		unsigned char *p = r->in + off;
		size_t avail = r->len - off, h = 2;
		uint64_t n;
		if (avail < 2)
			break;
		n = p[1] & 0x7f;
		if (n == 126) {
			h = 4;
			if (avail < h)
				break;
			n = (uint64_t)p[2] << 8 | p[3];
		} else if (n == 127) {
			h = 10;
			if (avail < h)
				break;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | p[2 + i];
		}
		if (p[1] & 0x80 || n > (64u << 20)) {
			fprintf(stderr, "desk_client: console %u: bad frame from the hub\n", c->idx);
			return -1;
		}
		if (avail - h < n)
			break;
		int fin = p[0] & 0x80, op = p[0] & 0x0f;
		const char *data = (const char *)p + h;
		off += h + (size_t)n;
		if (op == 0x8)
			return -1;
		if (op == 0x9) {
			if (raw_send(r->fd, 0xa, data, (size_t)n) != 0)
				return -1;
			continue;
		}
		if (op != 0x0 && op != 0x1 && op != 0x2)
			continue;
		if (fin && r->msg.len == 0) {
			on_frame(c, data, (size_t)n);
			continue;
		}
		buf_append(&r->msg, data, (size_t)n);
		if (fin) {
			on_frame(c, r->msg.data, r->msg.len);
			buf_reset(&r->msg);
		}
	}
	memmove(r->in, r->in + off, r->len - off);
	r->len -= off;
	return 0;
}

static void
raw_run(struct bench *b)
{
	struct raw *r = xcalloc(b->n, sizeof *r);
	struct pollfd *pfd = xcalloc(b->n, sizeof *pfd);
	int64_t next_tick = 0;
	for (unsigned i = 0; i < b->n; i++) {
		r[i].fd = -1;
		raw_connect(&b->c[i], &r[i]);
	}
	while (!b->done) {
		int64_t now = mono_ms();
		for (unsigned i = 0; i < b->n; i++) {
			if (r[i].fd < 0 && r[i].retry_ms != 0 && now >= r[i].retry_ms)
				raw_connect(&b->c[i], &r[i]);
			pfd[i].fd = r[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, b->n, TICK_US / 1000) < 0 && errno != EINTR) {
			fprintf(stderr, "desk_client: poll: %s\n", strerror(errno));
			b->broken = 1;
			break;
		}
		for (unsigned i = 0; i < b->n && !b->done; i++) {
			struct raw *ri = &r[i];
			if (ri->fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (ri->cap - ri->len < 65536) {
				ri->cap = ri->cap ? 2 * ri->cap : 262144;
				ri->in = xrealloc(ri->in, ri->cap);
			}
			ssize_t got = read(ri->fd, ri->in + ri->len, ri->cap - ri->len);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				raw_lost(&b->c[i], ri);
				continue;
			}
			ri->len += (size_t)got;
			if (raw_frames(&b->c[i], ri) != 0)
				raw_lost(&b->c[i], ri);
		}
		now = mono_ms();
		if (now >= next_tick) {
			check_done(b);
			next_tick = now + TICK_US / 1000;
		}
	}
	for (unsigned i = 0; i < b->n; i++) {
		if (r[i].fd >= 0)
			close(r[i].fd);
		free(r[i].in);
		buf_free(&r[i].msg);
	}
	free(r);
	free(pfd);
}

/* ---- Reporting ---- */

static void
print_lat(const char *what, double *v, size_t n)
{
	doubles_sort(v, n);
	printf("%s: %zu samples, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", what, n,
	       percentile(v, n, 0.50), percentile(v, n, 0.90), percentile(v, n, 0.99),
	       n ? v[n - 1] : 0.0);
}

static void
report(struct bench *b)
{
	unsigned long emin = (unsigned long)-1, emax = 0, mmin = (unsigned long)-1, mmax = 0, dups = 0;
	unsigned rec = 0;
	for (unsigned i = 0; i < b->n; i++) {
		const struct conn *c = &b->c[i];
		emin = c->events < emin ? c->events : emin;
		emax = c->events > emax ? c->events : emax;
		mmin = c->messages < mmin ? c->messages : mmin;
		mmax = c->messages > mmax ? c->messages : mmax;
		dups += c->dups;
		rec += c->reconnects;
	}
	printf("stopped: %s after %.1f s\n", b->stop_why ? b->stop_why : "?",
	       (double)(mono_ms() - b->start_ms) / 1000.0);
	printf("consoles: %u, reconnects %u, duplicate events %lu, undecodable frames %lu\n", b->n,
	       rec, dups, b->bad_frames);
	print_codes("closed by the hub (bye)", b->byes, b->nbyes);
	printf("live events per console: %lu..%lu; inbound messages per console: %lu..%lu",
	       emin, emax, mmin, mmax);
	if (b->mode == WATCH && b->expect > 0)
		printf(" (expected %lu)", b->expect);
	printf("\n");
	if (b->first_msg_ms != 0 && b->last_msg_ms > b->first_msg_ms)
		printf("inbound messages seen from first to last: %.2f s (%.0f per console per s)\n",
		       (double)(b->last_msg_ms - b->first_msg_ms) / 1000.0,
		       (double)mmax * 1000.0 / (double)(b->last_msg_ms - b->first_msg_ms));
	if (b->mode == WATCH && b->nlat > 0) {
		size_t nall = 0;
		double *all = xcalloc(b->expect + 1, sizeof *all);
		for (unsigned long s = 0; s < b->expect; s++)
			if (b->allcnt[s] == b->n)
				all[nall++] = b->allmax[s];
		print_lat("latency webhook -> one console", b->lat, b->nlat);
		print_lat("latency webhook -> every console", all, nall);
		printf("result: p50_one=%.2f p99_one=%.2f p50_all=%.2f p99_all=%.2f n_all=%zu\n",
		       percentile(b->lat, b->nlat, 0.5), percentile(b->lat, b->nlat, 0.99),
		       percentile(all, nall, 0.5), percentile(all, nall, 0.99), nall);
		free(all);
	}
	if (b->mode == WATCH)
		printf("result: messages_min=%lu messages_max=%lu reconnects=%u dups=%lu\n", mmin, mmax,
		       rec, dups);
	if (b->mode == SEND) {
		double s = b->send_end_ms > b->send_start_ms
		                   ? (double)(b->send_end_ms - b->send_start_ms) / 1000.0 : 0;
		printf("sends: %lu queued, %lu answered in %.2f s: %lu ack\n", b->sent, b->answered, s,
		       b->acks);
		print_codes("send errors", b->errs, b->nerrs);
		printf("result: sent=%lu acked=%lu errors=%lu\n", b->sent, b->acks,
		       b->answered - b->acks);
	}
}

/* ---- Setup ---- */

static int
parse_link(struct bench *b, const char *link)
{
	const char *p, *slash, *colon, *hash;
	if (strncmp(link, "ws://", 5) != 0) {
		fprintf(stderr, "desk_client: '%s' is not a ws:// link\n", link);
		return -1;
	}
	p = link + 5;
	hash = strchr(p, '#');
	slash = strchr(p, '/');
	colon = strchr(p, ':');
	if (hash == NULL || slash == NULL || colon == NULL || colon > slash || slash > hash ||
	    (size_t)(colon - p) >= sizeof b->host || (size_t)(hash - slash) >= sizeof b->path) {
		fprintf(stderr, "desk_client: '%s' is not ws://HOST:PORT/PATH#TOKEN\n", link);
		return -1;
	}
	memcpy(b->host, p, (size_t)(colon - p));
	b->host[colon - p] = '\0';
	b->port = atoi(colon + 1);
	memcpy(b->path, slash, (size_t)(hash - slash));
	b->path[hash - slash] = '\0';
	b->token = hash + 1;
	return b->port > 0 ? 0 : -1;
}

static int
read_phones(struct bench *b, const char *path)
{
	char line[64];
	size_t cap = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "desk_client: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (b->nphones == cap) {
			cap = cap ? 2 * cap : 64;
			b->phones = xrealloc(b->phones, cap * sizeof *b->phones);
		}
		b->phones[b->nphones++] = xstrdup(line);
	}
	fclose(f);
	if (b->nphones == 0) {
		fprintf(stderr, "desk_client: no phones in '%s'\n", path);
		return -1;
	}
	return 0;
}

static int
usage(void)
{
	fprintf(stderr,
	        "usage: desk_client watch LINK [--consoles N] [--from EVENT] [--expect M]\n"
	        "                              [--idle S] [--timeout S] [--ready FILE] [--count-only]\n"
	        "       desk_client send LINK --phones FILE --count N [--window W] [--timeout S]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "consoles", required_argument, NULL, 'n' }, { "from", required_argument, NULL, 'f' },
		{ "expect", required_argument, NULL, 'e' },   { "idle", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },  { "ready", required_argument, NULL, 'r' },
		{ "phones", required_argument, NULL, 'p' },   { "count", required_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },   { "count-only", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b;
	struct lws_context_creation_info info;
	struct sigaction sa;
	const char *phones = NULL;
	double timeout = 120, idle = 0;
	int opt, rc = 1;

	memset(&b, 0, sizeof b);
	b.n = 1;
	b.window = 64;
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "watch") == 0)
		b.mode = WATCH;
	else if (strcmp(argv[1], "send") == 0)
		b.mode = SEND;
	else
		return usage();
	if (parse_link(&b, argv[2]) != 0)
		return 2;
	optind = 3;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': b.n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': b.from = strtoll(optarg, NULL, 10); break;
		case 'e': b.expect = strtoul(optarg, NULL, 10); break;
		case 'i': idle = strtod(optarg, NULL); break;
		case 't': timeout = strtod(optarg, NULL); break;
		case 'r': b.ready_file = optarg; break;
		case 'p': phones = optarg; break;
		case 'c': b.count = strtoul(optarg, NULL, 10); break;
		case 'w': b.window = strtoul(optarg, NULL, 10); break;
		case 'C': b.count_only = 1; break;
		default: return usage();
		}
	}
	if (optind != argc || b.n == 0 || b.n > 1000 || b.window == 0 ||
	    (b.mode == SEND && (phones == NULL || b.count == 0)))
		return usage();
	if (b.mode == SEND) {
		b.n = 1;
		if (read_phones(&b, phones) != 0)
			return 1;
	}
	if (b.mode == WATCH && b.expect > 0) {
		b.lat = xcalloc(b.expect * b.n + 1, sizeof *b.lat);
		b.allmax = xcalloc(b.expect + 1, sizeof *b.allmax);
		b.allcnt = xcalloc(b.expect + 1, sizeof *b.allcnt);
	}
	b.idle_ms = (int64_t)(idle * 1000);
	b.start_ms = mono_ms();
	b.deadline_ms = timeout > 0 ? b.start_ms + (int64_t)(timeout * 1000) : 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	b.c = xcalloc(b.n, sizeof *b.c);
	for (unsigned i = 0; i < b.n; i++) {
		struct conn *c = &b.c[i];
		c->b = &b;
		c->idx = i;
		c->last_n = b.from;
		c->base = -1;
		if (b.expect > 0 && b.mode == WATCH)
			c->seen = xcalloc(b.expect, 1);
	}
	if (b.mode == WATCH && b.count_only) {
		raw_run(&b);
		rc = b.broken ? 1 : 0;
		report(&b);
		goto out;
	}

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = 0;
	b.ctx = lws_create_context(&info);
	if (b.ctx == NULL) {
		fprintf(stderr, "desk_client: cannot create the lws context\n");
		return 1;
	}
	sig_ctx = b.ctx;
	for (unsigned i = 0; i < b.n; i++)
		conn_connect(&b.c[i]);
	lws_sul_schedule(b.ctx, 0, &b.tick, tick_fired, TICK_US);
	while (!b.done)
		if (lws_service(b.ctx, 0) < 0) {
			fprintf(stderr, "desk_client: the lws loop failed\n");
			b.broken = 1;
			break;
		}
	if (!b.broken)
		rc = 0;
	report(&b);
	sig_ctx = NULL;
	lws_sul_cancel(&b.tick);
	for (unsigned i = 0; i < b.n; i++)
		lws_sul_cancel(&b.c[i].retry);
	lws_context_destroy(b.ctx);
out:
	for (unsigned i = 0; i < b.n; i++) {
		buf_free(&b.c[i].rx);
		conn_drop_queue(&b.c[i]);
		free(b.c[i].seen);
	}
	free(b.c);
	for (size_t i = 0; i < b.nphones; i++)
		free(b.phones[i]);
	free(b.phones);
	free(b.lat);
	free(b.allmax);
	free(b.allcnt);
	return rc;
}
