/*
 * hub_server.c — libwebsockets server for the hub (see hub_server.h).
 *
 * HTTP.  A webhook body is read whole (at most 1 MiB, else 413), then
 * queued to the current batch; a zero-delay lws timer fires once the loop
 * has handled every socket that was ready in this turn, applies the whole
 * batch as one group commit (hub_webhooks) and only then asks for each
 * request's WRITEABLE callback, where the 200 (or 400/500) is written.  The
 * answer is deferred, never the loop.
 *
 * Desk websocket.  Each session has a bounded queue of frames; the hub's
 * committed events are shared, reference-counted frames appended to every
 * caught-up session's queue, and a session writes one frame per WRITEABLE
 * callback.  A session that is behind (replaying after hello, or slow)
 * reads events straight from the log in pages instead, so replay costs no
 * memory; a session whose queue passes 4096 frames or 8 MiB is closed with
 * proto.slow and resumes from its last event when it reconnects.  A closing
 * session is closed only after its bye went out whole (the next WRITEABLE,
 * which lws gives only once a partial write was flushed), so a console
 * never reads a cut frame; one that reads nothing for CLOSE_SECS is dropped.
 *
 * Everything else runs on lws timers: the sender (hub_sender.c), a 250 ms
 * tick for typing lapses and access-rotation polling, and the drain on
 * SIGTERM.  Signal handlers only set flags and wake the loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "hub_config.h"
#include "hub.h"
#include "hub_fetch.h"
#include "hub_lws.h"
#include "hub_media.h"
#include "hub_sender.h"
#include "hub_server.h"
#include "mediastore.h"
#include "proto.h"
#include "sniff.h"
#include "store.h"
#include "util.h"

#define WEBHOOK_PREFIX  "/v1/webhook/gupshup/"
#define BODY_MAX        (1024 * 1024)
#define QUEUE_FRAMES    4096
#define QUEUE_BYTES     (8u * 1024 * 1024)
#define REPLAY_PAGE     256
#define HELLO_SECS      10
#define CLOSE_SECS      10
#define BAD_FRAMES_MAX  10
#define FAIL_WINDOW     60
#define FAIL_MAX        5
#define TICK_US         (250 * 1000)
#define DRAIN_MS        5000
#define DRAIN_GRACE_MS  2000

/* ---- shared frames ---------------------------------------------------------- */

struct frame {
	int    refs;
	size_t len;
	unsigned char data[];      /* LWS_PRE bytes of headroom, then the text */
};

static struct frame *
frame_new(const char *text, size_t len)
{
	struct frame *f = xmalloc(sizeof *f + LWS_PRE + len);
	f->refs = 1;
	f->len = len;
	memcpy(f->data + LWS_PRE, text, len);
	return f;
}

static void
frame_unref(struct frame *f)
{
	if (f != NULL && --f->refs == 0)
		free(f);
}

struct qitem {
	struct frame *f;
	struct qitem *next;
};

/* ---- per-connection state ----------------------------------------------------- */

enum desk_state { DESK_HELLO, DESK_LIVE, DESK_CLOSING };

struct server;

struct desk {
	struct lws   *wsi;
	struct server *srv;
	struct hub_session s;
	enum desk_state state;
	struct buf    rx;
	struct qitem *qhead, *qtail;
	size_t        qframes, qbytes;
	int64_t       sent_n;         /* last event queued to this console */
	int           caught_up;
	const char   *close_code;
	int           close_after;    /* the bye went out: close next time */
	int           want_write;     /* WRITEABLE asked and not yet delivered */
	unsigned char *wbuf;          /* frames coalesced for one raw write */
	size_t        wcap;
	int           bad;
	char          peer[64];
	struct desk  *prev, *next;
};

struct webreq {
	struct lws *wsi;
	struct buf  body;
	int         kind;             /* 0 none, 1 webhook */
	int         refused;          /* HTTP status decided before the body ended */
	int         too_big;
	int         queued;           /* in the current batch, or waiting for its sync */
	uint64_t    ticket;           /* when waiting: its batch's sync ticket */
	int         status;
	const char *ctype;
	char       *resp;
	size_t      resp_len;
	struct hub_upload *up;        /* kind 3: POST /v1/media (hub_media.c) */
	struct hub_media_answer held; /* kind 3: answer once the body is dropped */
};

/* Webhook requests between reading and answering. */
struct reqlist {
	struct webreq **v;
	size_t          n, cap;
};

struct peer_fail {
	char    addr[64];
	int     fails;
	int64_t since;
};

struct server {
	struct lws_context *ctx;
	struct hub         *h;
	struct hub_sender  *snd;
	struct hub_fetcher *fetch;
	struct hub_media_ctx media;
	struct config      *cfg;
	const char         *dir;
	char               *secret;
	struct desk        *desks;
	int                 ndesks;
	struct reqlist      batch;        /* read, to be applied by run_batch */
	struct reqlist      waiting;      /* applied, answered once on disk */
	uint64_t            durable;      /* the last sync ticket answered */
	lws_sorted_usec_list_t batch_sul, tick_sul;
	int                 batch_scheduled;
	struct peer_fail    fails[64];
	int64_t             start_ms;
	int                 draining;
	int64_t             drain_until;
	int                 done;
};

static volatile sig_atomic_t got_stop, got_hup;
static struct lws_context *signal_ctx;

/* ---- desk queue ----------------------------------------------------------------- */

/* lws_callback_on_writable once per WRITEABLE, not once per queued frame. */
static void
desk_want_write(struct desk *d)
{
	if (!d->want_write) {
		d->want_write = 1;
		lws_callback_on_writable(d->wsi);
	}
}

static void
desk_push(struct desk *d, struct frame *f)
{
	struct qitem *q = xmalloc(sizeof *q);
	f->refs++;
	q->f = f;
	q->next = NULL;
	if (d->qtail)
		d->qtail->next = q;
	else
		d->qhead = q;
	d->qtail = q;
	d->qframes++;
	d->qbytes += f->len;
	desk_want_write(d);
}

static void
desk_push_text(struct desk *d, char *text, size_t len)
{
	struct frame *f = frame_new(text, len);
	free(text);
	desk_push(d, f);
	frame_unref(f);
}

static void
desk_clear(struct desk *d)
{
	while (d->qhead) {
		struct qitem *q = d->qhead;
		d->qhead = q->next;
		frame_unref(q->f);
		free(q);
	}
	d->qtail = NULL;
	d->qframes = d->qbytes = 0;
}

/*
 * Queues a bye and closes after it went out.  Frames already queued go out
 * before it (the admin whose access.rotate closes their own session must
 * still get the answer with the new links), except for a console too slow
 * to take its queue, whose queue is the problem and is dropped.
 */
static void
desk_close(struct desk *d, const char *code, const char *sentence)
{
	if (d->state == DESK_CLOSING)
		return;
	struct proto_msg b = {0};
	size_t len;
	b.type = PROTO_BYE;
	b.code = code;
	b.sentence = sentence ? sentence : proto_error_lookup(code)->sentence;
	if (strcmp(code, "proto.slow") == 0)
		desk_clear(d);
	d->state = DESK_CLOSING;
	d->close_code = code;
	/* A console that reads nothing more is dropped after CLOSE_SECS. */
	lws_set_timeout(d->wsi, PENDING_TIMEOUT_CLOSE_SEND, CLOSE_SECS);
	char *text = proto_encode(&b, &len);
	desk_push_text(d, text, len);
	log_verbose("closing console %s (%s): %s", d->peer, d->s.agent, code);
}

/* ---- broadcast (hub_io) --------------------------------------------------------------- */

static void
on_broadcast(void *arg, int64_t n, const char *text, size_t len)
{
	struct server *srv = arg;
	struct frame *f = NULL;
	for (struct desk *d = srv->desks; d; d = d->next) {
		if (d->state != DESK_LIVE || !d->caught_up)
			continue;
		if (d->sent_n != n - 1) {
			d->caught_up = 0;     /* will read the gap from the log */
			desk_want_write(d);
			continue;
		}
		if (d->qframes >= QUEUE_FRAMES || d->qbytes + len > QUEUE_BYTES) {
			desk_close(d, "proto.slow", NULL);
			continue;
		}
		if (f == NULL)
			f = frame_new(text, len);
		desk_push(d, f);
		d->sent_n = n;
	}
	frame_unref(f);
}

static void
on_outbox_wake(void *arg)
{
	struct server *srv = arg;
	hub_sender_wake(srv->snd);
}

/* From the WAL sync thread: the loop answers the batch (answer_durable). */
static void
on_sync_wake(void *arg)
{
	struct server *srv = arg;
	if (srv->ctx != NULL)
		lws_cancel_service(srv->ctx);
}

static void
on_rotated(void *arg, int64_t generation)
{
	struct server *srv = arg;
	for (struct desk *d = srv->desks; d; d = d->next)
		if (d->state == DESK_LIVE && d->s.generation < generation)
			desk_close(d, "auth.expired", "access was refreshed; this link has expired");
}

/* ---- failed hellos, per peer ------------------------------------------------------------ */

static struct peer_fail *
peer_slot(struct server *srv, const char *addr, int create)
{
	int64_t now = mono_ms() / 1000;
	struct peer_fail *free_slot = NULL, *oldest = &srv->fails[0];
	for (size_t i = 0; i < ARRAY_LEN(srv->fails); i++) {
		struct peer_fail *p = &srv->fails[i];
		if (p->addr[0] && now - p->since > FAIL_WINDOW)
			p->addr[0] = '\0';
		if (p->addr[0] && strcmp(p->addr, addr) == 0)
			return p;
		if (!p->addr[0] && free_slot == NULL)
			free_slot = p;
		if (p->since < oldest->since)
			oldest = p;
	}
	if (!create)
		return NULL;
	struct peer_fail *p = free_slot ? free_slot : oldest;
	snprintf(p->addr, sizeof p->addr, "%s", addr);
	p->fails = 0;
	p->since = now;
	return p;
}

/* ---- desk frames -------------------------------------------------------------------------- */

static void
desk_frame(struct desk *d)
{
	struct server *srv = d->srv;
	struct proto_msg m;
	const char *code;
	char *cause = NULL, *out;
	size_t len;

	if (proto_decode(d->rx.data, d->rx.len, &m, &code, &cause) < 0) {
		if (d->state == DESK_HELLO) {
			desk_close(d, strcmp(code, "proto.too_big") == 0 ? code : "auth.hello", cause);
		} else if (++d->bad > BAD_FRAMES_MAX || strcmp(code, "proto.too_big") == 0) {
			desk_close(d, code, cause);
		} else {
			out = proto_error_frame(m.id, code, cause, &len);
			desk_push_text(d, out, len);
		}
		free(cause);
		proto_msg_release(&m);
		return;
	}
	if (d->state == DESK_HELLO) {
		struct peer_fail *pf = peer_slot(srv, d->peer, 0);
		if (m.type != PROTO_HELLO) {
			desk_close(d, "auth.hello", NULL);
		} else if (pf != NULL && pf->fails >= FAIL_MAX) {
			hub_metrics(srv->h);
			desk_close(d, "auth.rate", NULL);
		} else if (hub_hello(srv->h, &m, &d->s, &out, &len) < 0) {
			pf = peer_slot(srv, d->peer, 1);
			pf->fails++;
			log_info("failed hello from %s", d->peer);
			desk_clear(d);
			d->state = DESK_CLOSING;
			d->close_code = "auth.token";
			desk_push_text(d, out, len);
		} else {
			lws_set_timeout(d->wsi, NO_PENDING_TIMEOUT, 0);
			d->state = DESK_LIVE;
			d->sent_n = m.last_event > 0 && m.last_event <= hub_head(srv->h) ? m.last_event : 0;
			d->caught_up = d->sent_n == hub_head(srv->h);
			desk_push_text(d, out, len);
			log_info("console %s connected as %s (%s), resuming after event %lld", d->peer,
			         d->s.agent, proto_role_name(d->s.role), (long long)d->sent_n);
		}
	} else if (d->state == DESK_LIVE) {
		if (m.type == PROTO_HELLO)
			out = proto_error_frame(m.id, "proto.bad_frame", "already said hello", &len);
		else
			out = hub_command(srv->h, &d->s, &m, &len);
		desk_push_text(d, out, len);
	}
	proto_msg_release(&m);
}

/* Refills a session that is behind from the event log. */
static void
desk_refill(struct desk *d)
{
	struct store_event *e = NULL;
	int n = hub_replay(d->srv->h, d->sent_n, REPLAY_PAGE, &e);
	for (int i = 0; i < n; i++) {
		desk_push_text(d, e[i].frame, strlen(e[i].frame));
		e[i].frame = NULL;
		d->sent_n = e[i].n;
	}
	store_events_free(e, n > 0 ? n : 0);
	if (d->sent_n >= hub_head(d->srv->h))
		d->caught_up = 1;
}

/*
 * Writes queued frames, many per system call: the frames are framed here
 * (a server's text frames are a 2, 4 or 10 byte header and the payload,
 * unmasked) and coalesced into chunks of WRITE_CHUNK bytes, each handed to
 * lws as one raw write.  One lws_write (one send(2)) per frame per console
 * was most of the hub's time with ten consoles attached.  lws keeps the
 * unsent tail of a partial write and flushes it before the next WRITEABLE,
 * so frames are never interleaved or cut.  Up to WRITE_CHUNKS chunks go
 * out per callback while the socket takes them.
 */
#define WRITE_CHUNK  (64 * 1024)   /* lws sends at most rx_buffer_size per call */
#define WRITE_CHUNKS 4

static size_t
ws_header(unsigned char *h, size_t len)
{
	h[0] = 0x81;                       /* FIN, text */
	if (len < 126) {
		h[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

static int
desk_writable(struct desk *d)
{
	if (d->close_after) {
		lws_close_reason(d->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		                 (unsigned char *)d->close_code, strlen(d->close_code));
		return -1;
	}
	for (int chunk = 0; chunk < WRITE_CHUNKS && !d->close_after; chunk++) {
		if (chunk > 0 && lws_send_pipe_choked(d->wsi))
			break;
		size_t used = LWS_PRE;
		while (used - LWS_PRE < WRITE_CHUNK) {
			if (d->qhead == NULL && d->state == DESK_LIVE && !d->caught_up)
				desk_refill(d);
			struct qitem *q = d->qhead;
			if (q == NULL)
				break;
			size_t need = used + 10 + q->f->len;
			if (need > d->wcap) {
				d->wcap = need > LWS_PRE + WRITE_CHUNK + 10 ? need : LWS_PRE + WRITE_CHUNK + 10;
				d->wbuf = xrealloc(d->wbuf, d->wcap);
			}
			used += ws_header(d->wbuf + used, q->f->len);
			memcpy(d->wbuf + used, q->f->data + LWS_PRE, q->f->len);
			used += q->f->len;
			d->qhead = q->next;
			if (d->qhead == NULL)
				d->qtail = NULL;
			d->qframes--;
			d->qbytes -= q->f->len;
			frame_unref(q->f);
			free(q);
			if (d->state == DESK_CLOSING && d->qhead == NULL) {
				d->close_after = 1;
				break;
			}
		}
		if (used == LWS_PRE)
			break;
		if (lws_write(d->wsi, d->wbuf + LWS_PRE, used - LWS_PRE, LWS_WRITE_RAW) < 0)
			return -1;
	}
	if (d->wcap > 4 * (LWS_PRE + WRITE_CHUNK + 10)) {
		free(d->wbuf);             /* a huge frame went out: do not keep its buffer */
		d->wbuf = NULL;
		d->wcap = 0;
	}
	if (d->close_after || d->qhead != NULL || (d->state == DESK_LIVE && !d->caught_up))
		desk_want_write(d);
	return 0;
}

static int
cb_desk(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct desk *d = user;
	struct server *srv = lws_context_user(lws_get_context(wsi));
	char uri[64];

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
		    strcmp(uri, "/v1/desk") != 0)
			return 1;
		if (srv->draining || srv->ndesks >= srv->cfg->max_consoles)
			return 1;
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		memset(d, 0, sizeof *d);
		d->wsi = wsi;
		d->srv = srv;
		d->state = DESK_HELLO;
		lws_get_peer_simple(wsi, d->peer, sizeof d->peer);
		d->next = srv->desks;
		if (srv->desks)
			srv->desks->prev = d;
		srv->desks = d;
		srv->ndesks++;
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, HELLO_SECS);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (d->state == DESK_CLOSING)
			return 0;
		if (lws_frame_is_binary(wsi)) {
			desk_close(d, "proto.bad_frame", "binary frames are not part of wadesk.v1");
			return 0;
		}
		if (d->rx.len + len > PROTO_MAX_FRAME) {
			buf_free(&d->rx);
			desk_close(d, "proto.too_big", NULL);
			return 0;
		}
		buf_append(&d->rx, in, len);
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			desk_frame(d);
			buf_reset(&d->rx);
		}
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		d->want_write = 0;
		return desk_writable(d);
	case LWS_CALLBACK_CLOSED:
		if (d->prev)
			d->prev->next = d->next;
		else if (srv->desks == d)
			srv->desks = d->next;
		if (d->next)
			d->next->prev = d->prev;
		srv->ndesks--;
		desk_clear(d);
		buf_free(&d->rx);
		free(d->wbuf);
		log_verbose("console %s disconnected", d->peer);
		return 0;
	default:
		return 0;
	}
}

/* ---- HTTP ------------------------------------------------------------------------------------------ */

static void
set_resp(struct webreq *r, int status, const char *ctype, char *body)
{
	r->status = status;
	r->ctype = ctype;
	free(r->resp);
	r->resp = body;
	r->resp_len = strlen(body);
	lws_callback_on_writable(r->wsi);
}

/*
 * Writes the answer.  Over plain HTTP/1.1 the headers and the body go out
 * in one write (one send(2) per webhook instead of two); over TLS, where
 * lws may have negotiated HTTP/2 and must frame headers itself, in two.
 */
static int
respond(struct webreq *r)
{
	struct lws *wsi = r->wsi;
	size_t cap = LWS_PRE + 512 + r->resp_len;
	unsigned char *b = xmalloc(cap), *start = b + LWS_PRE, *p = start, *end = b + LWS_PRE + 511;
	int w = -1;

	if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->ctype, r->resp_len, &p, end))
		goto done;
	if (!lws_is_ssl(wsi)) {
		if (lws_finalize_http_header(wsi, &p, end))
			goto done;
		memcpy(p, r->resp, r->resp_len);
		p += r->resp_len;
		w = lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL);
	} else {
		if (lws_finalize_write_http_header(wsi, start, &p, end))
			goto done;
		memcpy(start, r->resp, r->resp_len);
		w = lws_write(wsi, start, r->resp_len, LWS_WRITE_HTTP_FINAL);
	}
done:
	free(b);
	int close_it = r->too_big;
	free(r->resp);
	r->resp = NULL;
	buf_free(&r->body);
	r->status = 0;
	r->kind = 0;
	if (w < 0 || close_it)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static char *
healthz(struct server *srv)
{
	return xasprintf("{\"status\":\"%s\",\"version\":\"%s\",\"hub_id\":\"%s\",\"uptime\":%lld,"
	                 "\"queue_depth\":%zu,\"consoles\":%d,\"last_event\":%lld,"
	                 "\"media_pending\":%zu}\n",
	                 srv->draining ? "draining" : "ok", WADESK_VERSION, hub_id(srv->h),
	                 (long long)((mono_ms() - srv->start_ms) / 1000), hub_outbox_depth(srv->h),
	                 srv->ndesks, (long long)hub_head(srv->h), hub_fetch_pending(srv->h));
}

/* Media downloads and uploads (docs/media.md). */
static void
media_metrics(struct server *srv, struct buf *b)
{
	const struct hub_metrics *m = hub_metrics(srv->h);
	buf_puts(b, "# HELP wadesk_media_downloads_total inbound media downloads by final result\n"
	         "# TYPE wadesk_media_downloads_total counter\n");
	buf_printf(b, "wadesk_media_downloads_total{result=\"ok\"} %llu\n", (unsigned long long)m->media_ok);
	buf_printf(b, "wadesk_media_downloads_total{result=\"refused\"} %llu\n",
	           (unsigned long long)m->media_refused);
	buf_printf(b, "wadesk_media_downloads_total{result=\"failed\"} %llu\n",
	           (unsigned long long)m->media_failed);
	buf_puts(b, "# HELP wadesk_media_download_retries_total download attempts retried\n"
	         "# TYPE wadesk_media_download_retries_total counter\n");
	buf_printf(b, "wadesk_media_download_retries_total %llu\n", (unsigned long long)m->media_retried);
	buf_puts(b, "# HELP wadesk_media_pending downloads waiting or in flight\n"
	         "# TYPE wadesk_media_pending gauge\n");
	buf_printf(b, "wadesk_media_pending %zu\n", hub_fetch_pending(srv->h));
	buf_puts(b, "# HELP wadesk_media_uploads_total uploads by result\n"
	         "# TYPE wadesk_media_uploads_total counter\n");
	buf_printf(b, "wadesk_media_uploads_total{result=\"ok\"} %llu\n", (unsigned long long)m->uploads_ok);
	buf_printf(b, "wadesk_media_uploads_total{result=\"refused\"} %llu\n",
	           (unsigned long long)m->uploads_refused);
}

static char *
metrics(struct server *srv)
{
	const struct hub_metrics *m = hub_metrics(srv->h);
	struct buf b = {0};
	static const char *const help[][2] = {
		{ "wadesk_webhooks_total", "provider webhooks by result" },
		{ "wadesk_sends_total", "outbound messages by final result" },
		{ "wadesk_send_retries_total", "send attempts retried (429, 5xx, timeouts, refused)" },
		{ "wadesk_outbox_depth", "messages waiting to be sent" },
		{ "wadesk_consoles", "connected consoles" },
		{ "wadesk_events_total", "events in the event log" },
		{ "wadesk_commands_total", "desk commands by result" },
		{ "wadesk_webhook_batches_total", "group commits of webhooks" },
		{ "wadesk_failed_hellos_total", "hellos refused" },
		{ "wadesk_uptime_seconds", "seconds since start" },
	};
	static const char *const type[] = { "counter", "counter", "counter", "gauge", "gauge",
	                                    "counter", "counter", "counter", "counter", "gauge" };
	for (size_t i = 0; i < ARRAY_LEN(help); i++)
		buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", help[i][0], help[i][1], help[i][0], type[i]);
	buf_printf(&b, "wadesk_webhooks_total{result=\"ok\"} %llu\n", (unsigned long long)m->webhooks_ok);
	buf_printf(&b, "wadesk_webhooks_total{result=\"duplicate\"} %llu\n", (unsigned long long)m->webhooks_dup);
	buf_printf(&b, "wadesk_webhooks_total{result=\"bad\"} %llu\n", (unsigned long long)m->webhooks_bad);
	buf_printf(&b, "wadesk_sends_total{result=\"ok\"} %llu\n", (unsigned long long)m->sends_ok);
	buf_printf(&b, "wadesk_sends_total{result=\"failed\"} %llu\n", (unsigned long long)m->sends_failed);
	buf_printf(&b, "wadesk_send_retries_total %llu\n", (unsigned long long)m->sends_retried);
	buf_printf(&b, "wadesk_outbox_depth %zu\n", hub_outbox_depth(srv->h));
	buf_printf(&b, "wadesk_consoles %d\n", srv->ndesks);
	buf_printf(&b, "wadesk_events_total %lld\n", (long long)hub_head(srv->h));
	buf_printf(&b, "wadesk_commands_total{result=\"ok\"} %llu\n",
	           (unsigned long long)(m->commands - m->command_errors));
	buf_printf(&b, "wadesk_commands_total{result=\"error\"} %llu\n", (unsigned long long)m->command_errors);
	buf_printf(&b, "wadesk_webhook_batches_total %llu\n", (unsigned long long)m->batches);
	buf_printf(&b, "wadesk_failed_hellos_total %llu\n", (unsigned long long)m->hellos_failed);
	buf_printf(&b, "wadesk_uptime_seconds %lld\n", (long long)((mono_ms() - srv->start_ms) / 1000));
	media_metrics(srv, &b);
	return buf_steal(&b);
}

static void
reqlist_add(struct reqlist *l, struct webreq *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = r;
	r->queued = 1;
}

static void
reqlist_remove(struct reqlist *l, struct webreq *r)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == r) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
			l->n--;
			break;
		}
	r->queued = 0;
}

static void
answer_ok(struct webreq *r)
{
	r->queued = 0;
	set_resp(r, 200, "application/json", xstrdup("{\"status\":\"ok\"}\n"));
}

/*
 * Applies the batch as one group commit.  A 400 or 500 is answered at
 * once; the 200s wait in srv->waiting until hub_durable() reports their
 * ticket (answer_durable), so nothing is acknowledged before it is on
 * disk, while the loop goes on with the next batch.
 */
static void
run_batch(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, batch_sul);
	size_t n = srv->batch.n;
	srv->batch_scheduled = 0;
	if (n == 0)
		return;
	if (hub_busy(srv->h))
		return;                    /* hub_serve runs it once the COMMIT is done */
	struct hub_webhook *w = xcalloc(n, sizeof *w);
	for (size_t i = 0; i < n; i++) {
		w[i].body = srv->batch.v[i]->body.data ? srv->batch.v[i]->body.data : "";
		w[i].len = srv->batch.v[i]->body.len;
	}
	uint64_t ticket = hub_webhooks(srv->h, w, n);
	hub_fetcher_wake(srv->fetch);      /* inbound media to download */
	for (size_t i = 0; i < n; i++) {
		struct webreq *r = srv->batch.v[i];
		r->queued = 0;
		if (w[i].status == 200 && ticket > srv->durable) {
			r->ticket = ticket;
			reqlist_add(&srv->waiting, r);
		} else if (w[i].status == 200) {
			answer_ok(r);
		} else {
			set_resp(r, w[i].status, "text/plain", xasprintf("%s\n", w[i].reason ? w[i].reason : "error"));
		}
		free(w[i].reason);
	}
	free(w);
	srv->batch.n = 0;
}

/* After every turn of the loop: answers the webhooks whose batch is on
 * disk now (hub_durable also broadcast its events).  -1 when a sync
 * failed: the hub must stop without answering anything more. */
static int
answer_durable(struct server *srv)
{
	uint64_t d = hub_durable(srv->h);
	if (hub_failed(srv->h) != NULL)
		return -1;
	if (d <= srv->durable)
		return 0;
	srv->durable = d;
	size_t k = 0, n_waiting = srv->waiting.n;
	for (size_t i = 0; i < n_waiting; i++) {
		struct webreq *r = srv->waiting.v[i];
		if (r->ticket <= d)
			answer_ok(r);
		else
			srv->waiting.v[k++] = r;
	}
	srv->waiting.n = k;
	/* The answers go out before the next batch is applied: a scheduled
	 * batch runs before the loop polls, which would hold them back by a
	 * whole batch's work; unscheduled, it runs after the poll that
	 * writes them (hub_serve, or scheduled again by batch_add). */
	if (k < n_waiting && srv->batch_scheduled) {
		lws_sul_cancel(&srv->batch_sul);
		srv->batch_scheduled = 0;
	}
	hub_fetcher_wake(srv->fetch);
	return 0;
}

static int
secret_ok(const char *given, const char *secret)
{
	size_t a = strlen(given), b = strlen(secret);
	unsigned char d = a != b;
	for (size_t i = 0; i < b; i++)
		d |= (unsigned char)(given[i < a ? i : 0] ^ secret[i]);
	return d == 0;
}

static void
batch_add(struct server *srv, struct webreq *r)
{
	reqlist_add(&srv->batch, r);
	r->ticket = 0;
	if (!srv->batch_scheduled) {
		srv->batch_scheduled = 1;
		/* Fires after the sockets ready in this turn were all served. */
		lws_sul_schedule(srv->ctx, 0, &srv->batch_sul, run_batch, 1);
	}
}

/* An answer from hub_media.c, written the usual deferred way. */
static void
media_answer(struct server *srv, struct webreq *r, struct hub_media_answer *a)
{
	if (r->kind == 3 && (a->status == 201 || a->status == 413 || a->status == 415))
		hub_media_uploaded(srv->h, a->status == 201);
	if (a->close)
		r->too_big = 1;          /* answered before the body: close after */
	set_resp(r, a->status, a->ctype, a->body ? a->body : xstrdup(""));
	a->body = NULL;
}

/* An upload's answer from the upload worker (hub_media_start), on the loop. */
static void
upload_answered(void *owner, struct hub_media_answer *a)
{
	struct webreq *r = owner;
	struct server *srv = lws_context_user(lws_get_context(r->wsi));
	r->up = NULL;                      /* hub_media frees it */
	media_answer(srv, r, a);
}

/*
 * The media endpoints (net/hub_media.c).  Returns 1 when path is not one
 * of them, else what the HTTP callback returns.
 */
static int
media_http(struct server *srv, struct webreq *r, struct lws *wsi, const char *path, int post)
{
	struct hub_media_answer a;
	int lrc = 0, k;
	if (!post) {
		k = hub_media_get(&srv->media, wsi, path, &lrc, &a);
		if (k == 0)
			return lrc;
		if (k == 1)
			media_answer(srv, r, &a);
		return k < 0 ? 1 : 0;
	}
	k = hub_upload_begin(&srv->media, wsi, path, r, &r->up, &a);
	if (k < 0)
		return 1;
	r->kind = 3;
	if (k == 1) {
		if (a.close)
			media_answer(srv, r, &a);      /* 413 now, then close */
		else
			r->held = a;                   /* 401/403 once the body is read */
	}
	return 0;
}

static int
cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct webreq *r = user;
	struct server *srv = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		const char *path = in;
		int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
		memset(r, 0, sizeof *r);
		r->wsi = wsi;
		if (!post && strcmp(path, "/healthz") == 0) {
			set_resp(r, 200, "application/json", healthz(srv));
			return 0;
		}
		if (!post && strcmp(path, "/metrics") == 0) {
			set_resp(r, 200, "text/plain; version=0.0.4", metrics(srv));
			return 0;
		}
		int mrc = media_http(srv, r, wsi, path, post);
		if (mrc != 1)
			return mrc;
		if (post && strncmp(path, WEBHOOK_PREFIX, strlen(WEBHOOK_PREFIX)) == 0 &&
		    secret_ok(path + strlen(WEBHOOK_PREFIX), srv->secret)) {
			char cl[32];
			r->kind = 1;
			if (srv->draining)
				r->refused = 503;
			if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
			    strtoll(cl, NULL, 10) > BODY_MAX) {
				r->too_big = 1;
				set_resp(r, 413, "text/plain", xstrdup("body larger than 1 MiB\n"));
			}
			return 0;
		}
		if (post) {
			/* Read (and drop) the body, then 404: never say which part was wrong. */
			r->kind = 2;
			r->refused = 404;
			if (strncmp(path, WEBHOOK_PREFIX, strlen(WEBHOOK_PREFIX)) == 0)
				log_info("webhook with a wrong secret refused");
			return 0;
		}
		set_resp(r, 404, "text/plain", xstrdup("not found\n"));
		return 0;
	}
	case LWS_CALLBACK_HTTP_BODY:
		if (r->too_big)
			return 0;
		if (r->kind == 3) {
			struct hub_media_answer a;
			if (r->up != NULL && hub_upload_body(r->up, in, len, &a) == 1)
				media_answer(srv, r, &a);
			return 0;
		}
		if (r->body.len + len > BODY_MAX) {
			r->too_big = 1;
			buf_free(&r->body);
			set_resp(r, 413, "text/plain", xstrdup("body larger than 1 MiB\n"));
			return 0;
		}
		if (r->kind == 1)
			buf_append(&r->body, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (r->too_big)
			return 0;
		if (r->kind == 3) {
			struct hub_media_answer a = r->held;
			memset(&r->held, 0, sizeof r->held);
			if (r->up != NULL) {
				if (hub_upload_end(r->up, &a) == 1)
					return 0;          /* upload_answered() follows */
				hub_upload_free(r->up);
				r->up = NULL;
			}
			media_answer(srv, r, &a);
			return 0;
		}
		if (r->refused) {
			set_resp(r, r->refused, "text/plain",
			         xstrdup(r->refused == 404 ? "not found\n" : "shutting down\n"));
			return 0;
		}
		if (r->kind == 1)
			batch_add(srv, r);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (r == NULL || r->status == 0)
			return 0;
		return respond(r);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (r != NULL) {
			if (r->queued)
				reqlist_remove(r->ticket ? &srv->waiting : &srv->batch, r);
			hub_upload_free(r->up);
			r->up = NULL;
			free(r->held.body);
			r->held.body = NULL;
			buf_free(&r->body);
			free(r->resp);
			r->resp = NULL;
		}
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		return -1;      /* a websocket without the wadesk.v1 subprotocol */
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", cb_http, sizeof(struct webreq), 0, 0, NULL, 0 },
	{ PROTO_SUBPROTOCOL, cb_desk, sizeof(struct desk), 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* ---- timers, signals, the loop --------------------------------------------------------------------- */

static void
on_tick(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, tick_sul);
	hub_tick(srv->h);
	if (srv->draining) {
		/* Past the deadline no send starts, but one in flight is waited
		 * for (up to DRAIN_GRACE_MS): abandoned, it would stay in the
		 * outbox and go out a second time after the restart. */
		int64_t now = mono_ms();
		if (now >= srv->drain_until)
			hub_sender_hold(srv->snd);
		if ((hub_outbox_depth(srv->h) == 0 && !hub_sender_busy(srv->snd) && srv->batch.n == 0 &&
		     srv->waiting.n == 0) ||
		    (now >= srv->drain_until && !hub_sender_busy(srv->snd)) ||
		    now >= srv->drain_until + DRAIN_GRACE_MS) {
			srv->done = 1;
			lws_cancel_service(srv->ctx);   /* the loop may be asleep in poll */
			return;
		}
		lws_sul_schedule(srv->ctx, 0, &srv->tick_sul, on_tick, 50 * 1000);
		return;
	}
	lws_sul_schedule(srv->ctx, 0, &srv->tick_sul, on_tick, TICK_US);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
	if (signal_ctx != NULL)
		lws_cancel_service(signal_ctx);
}

static void
lws_log(int level, const char *line)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", line);
	buf[strcspn(buf, "\n")] = '\0';
	if (level & LLL_ERR)
		log_warn("lws: %s", buf);
	else
		log_verbose("lws: %s", buf);
}

static char *
read_apikey(const struct config *cfg)
{
	char *cause = NULL, *key = NULL;
	if (cfg->apikey_file[0] == '\0')
		return xstrdup("");
	const char *slash = strrchr(cfg->apikey_file, '/');
	char *dir = slash ? xstrndup(cfg->apikey_file, (size_t)(slash - cfg->apikey_file)) : xstrdup(".");
	key = access_read_file(dir, slash ? slash + 1 : cfg->apikey_file, &cause);
	free(dir);
	if (key == NULL) {
		log_warn("%s; sending without an apikey", cause);
		free(cause);
		key = xstrdup("");
	}
	return key;
}

static void
reload(struct server *srv, const char *listen_override)
{
	struct config c;
	char *cause = NULL, *path = xasprintf("%s/wadesk.conf", srv->dir);
	hub_config_defaults(&c);
	if (hub_config_load(&c, path, &cause) < 0) {
		log_warn("reload refused: %s", cause);
		free(cause);
		hub_config_release(&c);
		free(path);
		return;
	}
	free(path);
	/* Fields read at use (rate, backoff, timeouts, provider) change now;
	 * the listen address and TLS need a restart. */
	if (listen_override != NULL) {
		free(c.listen);
		c.listen = xstrdup(listen_override);
	}
	if (strcmp(c.listen, srv->cfg->listen) != 0 || strcmp(c.tls_cert, srv->cfg->tls_cert) != 0)
		log_warn("reload: listen and tls changes take effect after a restart");
	struct config old = *srv->cfg;
	*srv->cfg = c;
	/* keep the old listen/tls so links and the running socket agree */
	free(srv->cfg->listen);
	free(srv->cfg->tls_cert);
	free(srv->cfg->tls_key);
	srv->cfg->listen = old.listen;
	srv->cfg->tls_cert = old.tls_cert;
	srv->cfg->tls_key = old.tls_key;
	old.listen = old.tls_cert = old.tls_key = NULL;
	hub_config_release(&old);
	char *key = read_apikey(srv->cfg);
	hub_sender_set_apikey(srv->snd, key);
	hub_fetcher_set_apikey(srv->fetch, key);
	explicit_bzero(key, strlen(key));
	free(key);
	log_info("configuration reloaded");
}

int
hub_serve(const char *dir, struct config *cfg, const char *listen_override)
{
	struct server srv;
	struct lws_context_creation_info info;
	char *cause = NULL, *host = NULL, *key = NULL;
	int port, rc = 1;

	memset(&srv, 0, sizeof srv);
	srv.cfg = cfg;
	srv.dir = dir;
	srv.start_ms = mono_ms();
	if (listen_override != NULL) {
		free(cfg->listen);
		cfg->listen = xstrdup(listen_override);
	}
	if (hub_config_split_listen(cfg->listen, &host, &port) < 0) {
		log_warn("listen: '%s' is not ADDR:PORT", cfg->listen);
		return 1;
	}
	if ((srv.secret = access_read_file(dir, ACCESS_SECRET_FILE, &cause)) == NULL)
		goto out;
	struct hub_io io = { &srv, on_broadcast, on_outbox_wake, on_rotated, on_sync_wake };
	if (hub_open(dir, cfg, &io, &srv.h, &cause) < 0)
		goto out;
	srv.media.h = srv.h;
	if ((srv.media.ms = mediastore_open(dir, &cause)) == NULL ||
	    (srv.media.sn = sniff_new(&cause)) == NULL)
		goto out;

	lws_set_log_level(log_level > 1 ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : LLL_ERR, lws_log);
	memset(&info, 0, sizeof info);
	info.port = port;
	info.iface = host[0] && strcmp(host, "0.0.0.0") != 0 ? host : NULL;
	info.protocols = protocols;
	info.user = &srv;
	info.vhost_name = "wadeskd";
	info.pt_serv_buf_size = 64 * 1024;
	info.timeout_secs = 30;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (strchr(host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (cfg->tls_cert[0] && cfg->tls_key[0]) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}
	srv.ctx = lws_create_context(&info);
	if (srv.ctx == NULL) {
		cause = xasprintf("cannot listen on %s", cfg->listen);
		goto out;
	}
	key = read_apikey(cfg);
	if (hub_sender_new(srv.ctx, srv.h, cfg, key, &srv.snd, &cause) < 0 ||
	    hub_fetcher_new(srv.ctx, srv.h, cfg, srv.media.ms, srv.media.sn, key, &srv.fetch,
	                    &cause) < 0 ||
	    hub_media_start(&srv.media, srv.ctx, upload_answered, &cause) < 0)
		goto out;
	explicit_bzero(key, strlen(key));

	signal_ctx = srv.ctx;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lws_sul_schedule(srv.ctx, 0, &srv.tick_sul, on_tick, TICK_US);
	log_info("listening on %s (hub %s, %zu queued, event %lld)", cfg->listen, hub_id(srv.h),
	         hub_outbox_depth(srv.h), (long long)hub_head(srv.h));
	while (!srv.done) {
		if (lws_service(srv.ctx, 0) < 0)
			break;
		/* A batch not scheduled waits for the last one's COMMIT. */
		if (srv.batch.n > 0 && !srv.batch_scheduled && !hub_busy(srv.h))
			run_batch(&srv.batch_sul);
		if (answer_durable(&srv) < 0) {
			log_warn("stopping: %s", hub_failed(srv.h));
			rc = 1;
			goto out;
		}
		if (got_hup) {
			got_hup = 0;
			reload(&srv, listen_override);
		}
		if (got_stop && !srv.draining) {
			log_info("stopping: draining for up to %d s", DRAIN_MS / 1000);
			srv.draining = 1;
			srv.drain_until = mono_ms() + DRAIN_MS;
			if (srv.batch.n > 0)
				run_batch(&srv.batch_sul);
			for (struct desk *d = srv.desks; d; d = d->next)
				desk_close(d, "shutdown", NULL);
			lws_sul_schedule(srv.ctx, 0, &srv.tick_sul, on_tick, 1000);
		}
	}
	rc = 0;
	log_info("stopped (%zu messages left in the outbox)", hub_outbox_depth(srv.h));
out:
	if (cause != NULL) {
		log_warn("%s", cause);
		free(cause);
	}
	signal_ctx = NULL;
	hub_media_stop(&srv.media);
	hub_fetcher_free(srv.fetch);
	hub_sender_free(srv.snd);
	if (srv.ctx != NULL)
		lws_context_destroy(srv.ctx);
	hub_free(srv.h);
	sniff_free(srv.media.sn);
	mediastore_free(srv.media.ms);
	free(srv.batch.v);
	free(srv.waiting.v);
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
	free(srv.secret);
	free(host);
	return rc;
}
