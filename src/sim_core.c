/*
 * sim_core.c — wadesk-sim's provider model (see sim.h).
 *
 * Requests are routed by one table (method, path or path prefix, whether
 * the apikey is checked, handler).  A send goes through the same steps as
 * at Gupshup: authentication, the per-app rate limit, form validation
 * (synchronous 4xx with Gupshup's error body), then acceptance (202 with
 * a messageId) and WhatsApp's verdict delivered later as message-events:
 * enqueued, sent, delivered, read — or one failed event with Gupshup's
 * code and reason.  The verdict rules are one table of failure rows.
 *
 * Media: customers' files are kept in memory (a list, oldest dropped
 * past SIM_MEDIA_KEEP bytes) and served by the wamedia path with their
 * injected faults; outbound media sends wait in a list of downloads that
 * the network layer runs (sim_fetch_next / sim_fetch_done) before their
 * verdict.  libmagic (sniff.h) decides what a file is, both ways.
 *
 * Callbacks wait in a binary heap ordered by (due time, sequence); with
 * --chaos some are duplicated or delayed out of order.  Items in a
 * customer's inbox carry the state of the last event popped for them, so
 * `inbox` shows what the business has been told so far.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gupshup_sim.h"
#include "media.h"
#include "sha256.h"
#include "sim_crowd.h"
#include "sim_sample.h"
#include "sniff.h"
#include "util.h"

/* ---- Tables ---- */

const struct sim_template sim_templates[] = {
	{ "6c1a2e52-order-update", "order_update", "Your order {{1}} is {{2}}." },
	{ "9f3b7d10-support-followup", "support_followup",
	  "Hi {{1}}, we have an update on your request: {{2}}" },
	{ "2d8e4c77-ticket-closed", "ticket_closed",
	  "Your ticket {{1}} has been resolved. Reply to this message to reopen it." },
	{ "b5a9f031-appointment", "appointment_reminder",
	  "Reminder: your appointment is on {{1}} at {{2}}." },
	{ "e7c2d4a8-callback", "callback_request",
	  "Hello {{1}}, you asked us to get back to you. Reply here to continue the conversation." },
};
const size_t sim_ntemplates = ARRAY_LEN(sim_templates);

/* Micro-dollars.  WhatsApp charges templates only, per destination
 * country; Gupshup charges every message both ways. */
static const struct sim_fee fees[] = {
	{ "91", 4600, 100 },
	{ "1", 8500, 100 },
	{ "44", 39600, 100 },
	{ "55", 31500, 100 },
	{ "62", 30000, 100 },
	{ "234", 25200, 100 },
	{ "", 20000, 100 },
};

/* Gupshup's failure codes the sim produces. */
enum fail {
	FAIL_WALLET,                /* 1003 */
	FAIL_WINDOW,                /* 1004 */
	FAIL_TEMPLATE,              /* 1005 */
	FAIL_OPTIN,                 /* 1006 */
	FAIL_SANDBOX_UNBOUND,       /* 1008 */
	FAIL_SANDBOX_MEDIA,         /* 1010 */
	FAIL_OPTED_OUT,             /* 1012 */
	FAIL_MEDIA_SIZE,            /* 1011 */
	FAIL_MEDIA_UPLOAD,          /* 131053, WhatsApp's */
};
static const struct {
	int         code;
	const char *reason;
} failures[] = {
	[FAIL_WALLET] = { 1003, "Wallet balance low: unable to send the message, check your wallet balance" },
	[FAIL_WINDOW] = { 1004, "Message sending failed as the user is inactive for session message "
	                        "(last message over 24 hours ago)" },
	[FAIL_TEMPLATE] = { 1005, "Message sending failed as the template did not match" },
	[FAIL_OPTIN] = { 1006, "Message sending failed as the user is inactive for session message "
	                       "and has not opted in for template message" },
	[FAIL_SANDBOX_UNBOUND] = { 1008, "User is not opted in and inactive: in the sandbox the user must "
	                                 "first send 'PROXY <APPNAME>'" },
	[FAIL_SANDBOX_MEDIA] = { 1010, "Sandbox apps can send text messages only" },
	[FAIL_OPTED_OUT] = { 1012, "Message sending failed as the phone number is opted out" },
	[FAIL_MEDIA_SIZE] = { 1011, "Invalid Media Size" },
	[FAIL_MEDIA_UPLOAD] = { 131053, "Media upload error" },
};

/* ---- The model ---- */

struct qentry {
	struct sim_post post;
	char   *phone;              /* message-events: whose item */
	char   *gs_id;              /* message-events: which item */
	enum gupshup_event_type ev;
	int     is_event;
};

/* A customer's file, served by the payload URL and the wamedia path. */
struct media_entry {
	char          *id;
	unsigned char *data;
	size_t         len;
	unsigned       fail_left;   /* GETs still to answer 503 */
	int            expire;      /* gone after its first 200 */
	int            expired;
	int64_t        expiry_ms;   /* the payload URL's urlExpiry; 0 = none yet */
};

/* An outbound media send waiting for its download. */
struct fetch_job {
	uint64_t id;
	char    *phone, *gs_id, *wa_id, *url;
	enum gupshup_msg_type type;
	int      started;
};

struct sim {
	char    *app, *apikey, *source, *base_url, *callback;
	int      sandbox, chaos;
	unsigned fail_downloads;    /* default faults of customers' files */
	int      expire_after_download;
	int64_t  event_delay;
	unsigned rate_limit;
	uint64_t rng;

	struct sim_customer *cust;
	size_t   ncust, capcust;

	int64_t  balance;
	struct sim_ledger *ledger;
	size_t   nledger, capledger;

	struct qentry *heap;
	size_t   nheap, capheap;
	uint64_t seq;

	uint64_t refused[64];       /* --chaos: bodies answered 500 or dropped once */
	size_t   nrefused;
	int64_t *sends;             /* ring of the last rate_limit accepted sends */
	size_t   nsends, sendhead;

	struct media_entry *media;
	size_t   nmedia, capmedia, media_bytes;
	struct fetch_job *fetch;
	size_t   nfetch, capfetch;
	uint64_t fetch_seq;
	struct sniff *sniff;        /* libmagic, loaded on first use (or borrowed) */
	int      own_sniff;

	struct sim_crowd *crowd;
	int      dirty;
};

uint64_t
sim_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rnd(struct sim *s, uint64_t n)
{
	return n == 0 ? 0 : sim_random(&s->rng) % n;
}

static char *
new_uuid(struct sim *s)
{
	uint64_t a = sim_random(&s->rng), b = sim_random(&s->rng);
	return xasprintf("%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
	                 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
	                 (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
	                 (unsigned long long)(b & 0xffffffffffffULL));
}

/* WhatsApp-looking ids: prefix + 22 url-safe characters. */
static char *
new_wa_id(struct sim *s, const char *prefix)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char tail[23];
	for (size_t i = 0; i < 22; i++)
		tail[i] = alphabet[rnd(s, 64)];
	tail[22] = '\0';
	return xasprintf("%s%s", prefix, tail);
}

struct sim *
sim_new(const struct sim_config *cfg)
{
	struct sim *s = xcalloc(1, sizeof *s);

	s->app = xstrdup(cfg->app != NULL ? cfg->app : SIM_DEFAULT_APP);
	s->apikey = xstrdup(cfg->apikey);
	s->source = xstrdup(cfg->source != NULL ? cfg->source : SIM_DEFAULT_SOURCE);
	s->base_url = xstrdup(cfg->base_url != NULL ? cfg->base_url : "http://127.0.0.1");
	s->callback = xstrdup(cfg->callback);
	s->sandbox = cfg->sandbox;
	s->chaos = cfg->chaos;
	s->sniff = cfg->sniff;
	s->fail_downloads = cfg->fail_downloads;
	s->expire_after_download = cfg->expire_after_download != 0;
	s->event_delay = cfg->event_delay_ms >= 0 ? cfg->event_delay_ms : 5000;
	s->rate_limit = cfg->rate_limit != 0 ? cfg->rate_limit : SIM_RATE_LIMIT;
	s->rng = cfg->seed;
	s->balance = SIM_CREDIT;
	s->sends = xcalloc(s->rate_limit, sizeof *s->sends);
	return s;
}

static void
qentry_release(struct qentry *q)
{
	free(q->post.body);
	free(q->phone);
	free(q->gs_id);
}

void
sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ncust; i++)
		gupshup_sim_customer_release(&s->cust[i]);
	free(s->cust);
	gupshup_sim_ledger_free(s->ledger, s->nledger);
	for (size_t i = 0; i < s->nheap; i++)
		qentry_release(&s->heap[i]);
	free(s->heap);
	free(s->sends);
	sim_crowd_free(s->crowd);
	for (size_t i = 0; i < s->nmedia; i++) {
		free(s->media[i].id);
		free(s->media[i].data);
	}
	free(s->media);
	for (size_t i = 0; i < s->nfetch; i++) {
		free(s->fetch[i].phone);
		free(s->fetch[i].gs_id);
		free(s->fetch[i].wa_id);
		free(s->fetch[i].url);
	}
	free(s->fetch);
	if (s->own_sniff)
		sniff_free(s->sniff);
	free(s->app);
	free(s->apikey);
	free(s->source);
	free(s->base_url);
	free(s->callback);
	free(s);
}

/* ---- Phones, fees, customers ---- */

int
sim_phone(const char *in, char out[16])
{
	size_t n = 0;
	const char *p = in;

	if (in == NULL)
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '+')
		p++;
	else if (p[0] == '0' && p[1] == '0')
		p += 2;
	for (; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n == 15)
				return -1;
			out[n++] = *p;
		} else if (strchr(" -.()", *p) == NULL) {
			return -1;
		}
	}
	out[n] = '\0';
	if (n < 8 || out[0] == '0' || gupshup_country_code_len(out) == 0)
		return -1;
	return 0;
}

const struct sim_fee *
sim_fee_for(const char *phone)
{
	for (size_t i = 0; i + 1 < ARRAY_LEN(fees); i++) {
		size_t l = strlen(fees[i].code);
		if (strncmp(phone, fees[i].code, l) == 0 && gupshup_country_code_len(phone) == l)
			return &fees[i];
	}
	return &fees[ARRAY_LEN(fees) - 1];
}

int64_t
sim_cost(const char *phone, int is_template)
{
	const struct sim_fee *f = sim_fee_for(phone);
	return f->gupshup + (is_template ? f->whatsapp_template : 0);
}

static struct sim_customer *
customer_find(const struct sim *s, const char *phone)
{
	for (size_t i = 0; i < s->ncust; i++)
		if (strcmp(s->cust[i].phone, phone) == 0)
			return &s->cust[i];
	return NULL;
}

const struct sim_customer *
sim_customer_find(const struct sim *s, const char *phone)
{
	return customer_find(s, phone);
}

static struct sim_customer *
customer_get(struct sim *s, const char *phone)
{
	struct sim_customer *c = customer_find(s, phone);
	if (c != NULL)
		return c;
	if (s->ncust == s->capcust) {
		s->capcust = s->capcust ? s->capcust * 2 : 16;
		s->cust = xrealloc(s->cust, s->capcust * sizeof *s->cust);
	}
	c = &s->cust[s->ncust++];
	memset(c, 0, sizeof *c);
	snprintf(c->phone, sizeof c->phone, "%s", phone);
	s->dirty = 1;
	return c;
}

size_t
sim_ncustomers(const struct sim *s)
{
	return s->ncust;
}

const struct sim_customer *
sim_customer_at(const struct sim *s, size_t i)
{
	return i < s->ncust ? &s->cust[i] : NULL;
}

static struct sim_item *
item_add(struct sim_customer *c)
{
	if (c->nitems == c->capitems) {
		c->capitems = c->capitems ? c->capitems * 2 : 8;
		c->items = xrealloc(c->items, c->capitems * sizeof *c->items);
	}
	memset(&c->items[c->nitems], 0, sizeof c->items[0]);
	return &c->items[c->nitems++];
}

static void
charge(struct sim *s, int64_t now_ms, int64_t amount, const char *what, const char *phone,
       const char *id)
{
	struct sim_ledger *l;
	if (s->nledger == s->capledger) {
		s->capledger = s->capledger ? s->capledger * 2 : 32;
		s->ledger = xrealloc(s->ledger, s->capledger * sizeof *s->ledger);
	}
	l = &s->ledger[s->nledger++];
	l->time_ms = now_ms;
	l->amount = -amount;
	l->what = xstrdup(what);
	l->phone = xstrdup(phone);
	l->id = xstrdup(id);
	s->balance -= amount;
	s->dirty = 1;
}

int64_t
sim_balance(const struct sim *s)
{
	return s->balance;
}

const struct sim_ledger *
sim_ledger(const struct sim *s, size_t *n)
{
	*n = s->nledger;
	return s->ledger;
}

int
sim_dirty(const struct sim *s)
{
	return s->dirty;
}

/* ---- The callback queue ---- */

static int
qless(const struct qentry *a, const struct qentry *b)
{
	if (a->post.due_ms != b->post.due_ms)
		return a->post.due_ms < b->post.due_ms;
	return a->post.seq < b->post.seq;
}

static void
heap_push(struct sim *s, struct qentry *q)
{
	size_t i;
	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? s->capheap * 2 : 64;
		s->heap = xrealloc(s->heap, s->capheap * sizeof *s->heap);
	}
	i = s->nheap++;
	s->heap[i] = *q;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		struct qentry t;
		if (!qless(&s->heap[i], &s->heap[parent]))
			break;
		t = s->heap[i];
		s->heap[i] = s->heap[parent];
		s->heap[parent] = t;
		i = parent;
	}
}

static void
heap_pop(struct sim *s, struct qentry *out)
{
	size_t i = 0;
	*out = s->heap[0];
	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct qentry t;
		if (l < s->nheap && qless(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->nheap && qless(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

/* Queues body at due; with --chaos sometimes twice, sometimes late. */
static void
enqueue(struct sim *s, char *body, int64_t due, const char *phone, const char *gs_id, int is_event,
        enum gupshup_event_type ev, int64_t jitter)
{
	int copies = 1;
	if (s->chaos) {
		if (rnd(s, 100) < 30)
			due += (int64_t)rnd(s, (uint64_t)(jitter * 4 + 1));
		if (rnd(s, 100) < 20)
			copies = 2;
	}
	for (int i = 0; i < copies; i++) {
		struct qentry q = { 0 };
		q.post.due_ms = due + (i > 0 ? (int64_t)rnd(s, (uint64_t)(jitter * 2 + 1)) : 0);
		q.post.body = i == 0 ? body : xstrdup(body);
		q.post.seq = s->seq++;
		snprintf(q.post.phone, sizeof q.post.phone, "%s", phone != NULL ? phone : "");
		q.phone = xstrdup(phone);
		q.gs_id = xstrdup(gs_id);
		q.is_event = is_event;
		q.ev = ev;
		heap_push(s, &q);
	}
}

int64_t
sim_next_due(const struct sim *s)
{
	return s->nheap > 0 ? s->heap[0].post.due_ms : -1;
}

size_t
sim_queued(const struct sim *s)
{
	return s->nheap;
}

/* Events move an item forward only, like the hub's state machine. */
static int
event_rank(const char *status)
{
	static const char *const order[] = { "accepted", "enqueued", "sent", "delivered", "read" };
	if (status == NULL)
		return -1;
	if (strcmp(status, "failed") == 0)
		return 100;
	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		if (strcmp(status, order[i]) == 0)
			return (int)i;
	return -1;
}

int
sim_pop_due(struct sim *s, int64_t now_ms, struct sim_post *p)
{
	struct qentry q;
	struct sim_customer *c;

	if (s->nheap == 0 || s->heap[0].post.due_ms > now_ms)
		return 0;
	heap_pop(s, &q);
	if (q.is_event && (c = customer_find(s, q.phone)) != NULL) {
		for (size_t i = 0; i < c->nitems; i++) {
			struct sim_item *it = &c->items[i];
			const char *name = gupshup_event_type_name(q.ev);
			if (it->gs_id == NULL || strcmp(it->gs_id, q.gs_id) != 0)
				continue;
			if (event_rank(name) > event_rank(it->status)) {
				free(it->status);
				it->status = xstrdup(name);
				s->dirty = 1;
				if (q.ev == GUPSHUP_EV_READ && s->crowd != NULL)
					sim_crowd_received(s->crowd, c->phone, now_ms);
			}
			break;
		}
	}
	*p = q.post;
	free(q.phone);
	free(q.gs_id);
	return 1;
}

void
sim_post_failed(struct sim *s, struct sim_post *p, int64_t now_ms, int permanent)
{
	struct qentry q = { 0 };
	int64_t backoff;

	if (permanent || p->attempts >= 11) {
		free(p->body);
		p->body = NULL;
		return;
	}
	backoff = (int64_t)250 << (p->attempts < 7 ? p->attempts : 7);   /* 0.25 s .. 32 s */
	q.post = *p;
	q.post.attempts++;
	q.post.due_ms = now_ms + backoff + (int64_t)rnd(s, (uint64_t)backoff / 4 + 1);
	q.post.seq = s->seq++;
	p->body = NULL;
	heap_push(s, &q);
}

/* ---- Inbound ---- */

static int
is_proxy(const char *text, const char *app)
{
	while (*text == ' ' || *text == '\t' || *text == '\n')
		text++;
	if (strncasecmp(text, "PROXY", 5) != 0 || (text[5] != ' ' && text[5] != '\t'))
		return 0;
	text += 6;
	while (*text == ' ' || *text == '\t')
		text++;
	size_t n = strlen(app);
	if (strncasecmp(text, app, n) != 0)
		return 0;
	text += n;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	return *text == '\0';
}

static void
post_user_event(struct sim *s, enum gupshup_user_type type, const char *phone, int64_t now_ms)
{
	struct gupshup_callback cb = { .kind = GUPSHUP_USER_EVENT, .app = s->app,
	        .timestamp = now_ms, .user = { .type = type, .phone = phone } };
	enqueue(s, gupshup_callback_build(&cb), now_ms, phone, NULL, 0, 0, 100);
}

/* The media part of an inbound message (NULL for text). */
struct inbound_media {
	const char *url, *mime, *filename;
	int64_t     expiry;
};

static int
inbound(struct sim *s, const char *phone_in, const char *name, enum gupshup_msg_type type,
        const char *text, const struct inbound_media *im, int64_t now_ms, char **cause)
{
	struct gupshup_callback cb = { .kind = GUPSHUP_MESSAGE, .app = s->app, .timestamp = now_ms };
	struct sim_customer *c;
	char phone[16], *id;

	if (sim_phone(phone_in, phone) != 0) {
		*cause = xasprintf("invalid phone number '%.32s': want 8 to 15 digits with a country code",
		                   phone_in != NULL ? phone_in : "");
		return -1;
	}
	if (type == GUPSHUP_TEXT && (text == NULL || *text == '\0')) {
		*cause = xstrdup("empty message text");
		return -1;
	}
	c = customer_get(s, phone);
	if (name != NULL && *name != '\0' && (c->name == NULL || strcmp(c->name, name) != 0)) {
		free(c->name);
		c->name = xstrdup(name);
		s->dirty = 1;
	}
	if (s->sandbox && type == GUPSHUP_TEXT && is_proxy(text, s->app)) {
		c->bound = 1;
		s->dirty = 1;
		post_user_event(s, GUPSHUP_USER_SANDBOX_START, phone, now_ms);
		return 0;
	}
	if (s->sandbox && !c->bound)
		return 1;

	id = new_wa_id(s, "ABEGkZ");
	charge(s, now_ms, sim_fee_for(phone)->gupshup, "incoming message", phone, id);
	c->last_inbound_ms = now_ms;
	cb.msg.id = id;
	cb.msg.phone = phone;
	cb.msg.name = c->name;
	cb.msg.type = type;
	cb.msg.text = text != NULL && *text != '\0' ? text : NULL;
	if (im != NULL) {
		cb.msg.url = im->url;
		cb.msg.mime = im->mime;
		cb.msg.filename = im->filename;
		cb.msg.url_expiry = im->expiry;
	}
	enqueue(s, gupshup_callback_build(&cb), now_ms, phone, NULL, 0, 0, 50);
	free(id);
	return 0;
}

int
sim_inbound(struct sim *s, const char *phone, const char *name, const char *text, int64_t now_ms,
            char **cause)
{
	*cause = NULL;
	return inbound(s, phone, name, GUPSHUP_TEXT, text, NULL, now_ms, cause);
}

/* ---- Media ---- */

static struct sniff *
sniffer(struct sim *s, char **cause)
{
	if (s->sniff == NULL) {
		s->sniff = sniff_new(cause);
		s->own_sniff = s->sniff != NULL;
	}
	return s->sniff;
}

static void
media_drop(struct sim *s, size_t i)
{
	s->media_bytes -= s->media[i].len;
	free(s->media[i].id);
	free(s->media[i].data);
	memmove(&s->media[i], &s->media[i + 1], (s->nmedia - i - 1) * sizeof *s->media);
	s->nmedia--;
}

char *
sim_media_put(struct sim *s, const void *data, size_t len)
{
	struct media_entry *e;

	while (s->nmedia > 0 && (s->media_bytes + len > SIM_MEDIA_KEEP || s->nmedia >= SIM_MEDIA_FILES))
		media_drop(s, 0);
	if (s->nmedia == s->capmedia) {
		s->capmedia = s->capmedia ? s->capmedia * 2 : 16;
		s->media = xrealloc(s->media, s->capmedia * sizeof *s->media);
	}
	e = &s->media[s->nmedia++];
	memset(e, 0, sizeof *e);
	e->id = new_uuid(s);
	e->data = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(e->data, data, len);
	e->len = len;
	s->media_bytes += len;
	return xstrdup(e->id);
}

static struct media_entry *
media_find(struct sim *s, const char *id)
{
	for (size_t i = 0; i < s->nmedia; i++)
		if (strcmp(s->media[i].id, id) == 0)
			return &s->media[i];
	return NULL;
}

void
sim_media_info_release(struct sim_media_info *info)
{
	if (info == NULL)
		return;
	free(info->mime);
	free(info->url);
	free(info->sniffed);
	memset(info, 0, sizeof *info);
}

/* Gupshup's inner type for a MIME type off the whitelist: by its top level. */
static enum gupshup_msg_type
type_of_mime(const char *mime)
{
	static const struct {
		const char *prefix;
		enum gupshup_msg_type type;
	} tops[] = {
		{ "image/", GUPSHUP_IMAGE }, { "audio/", GUPSHUP_AUDIO }, { "video/", GUPSHUP_VIDEO },
	};
	for (size_t i = 0; i < ARRAY_LEN(tops); i++)
		if (strncasecmp(mime, tops[i].prefix, strlen(tops[i].prefix)) == 0)
			return tops[i].type;
	return GUPSHUP_FILE;
}

static enum gupshup_msg_type
type_of_category(enum media_category c)
{
	enum gupshup_msg_type t;
	if (gupshup_msg_type_parse(media_gupshup_type(c), &t) != 0)
		return GUPSHUP_FILE;
	return t;
}

int
sim_inbound_file(struct sim *s, const char *phone, const char *name, const char *media_id,
                 const struct sim_media_opts *o, int64_t now_ms, struct sim_media_info *info,
                 char **cause)
{
	static const struct sim_media_opts none = SIM_MEDIA_OPTS_DEFAULT;
	struct sniff_result r = { 0 };
	struct inbound_media im = { 0 };
	struct media_entry *e;
	struct sniff *sn;
	enum gupshup_msg_type type;
	const char *claim;
	char digits[16], *mime, *url;
	int rc;

	*cause = NULL;
	if (info != NULL)
		memset(info, 0, sizeof *info);
	if (o == NULL)
		o = &none;
	if (s->sandbox) {
		*cause = xstrdup("Sandbox apps receive text messages only: the customer's media was not "
		                 "delivered");
		return -1;
	}
	if (sim_phone(phone, digits) != 0) {
		*cause = xasprintf("invalid phone number '%.32s': want 8 to 15 digits with a country code",
		                   phone != NULL ? phone : "");
		return -1;
	}
	if (media_id == NULL || (e = media_find(s, media_id)) == NULL) {
		*cause = xasprintf("no media '%.64s' (upload it first)", media_id != NULL ? media_id : "");
		return -1;
	}
	if ((sn = sniffer(s, cause)) == NULL)
		return -1;
	claim = o->filename != NULL ? sniff_claim_from_name(o->filename) : NULL;
	if (sniff_buffer(sn, e->data, e->len, claim, &r) == 0) {
		/* contentType is what the file is, as Gupshup announces it
		 * (libmagic's name: audio/mpeg, not the whitelist's audio/mpeg3). */
		mime = xstrdup(r.mime[0] != '\0' ? r.mime : r.type->mime);
		type = type_of_category(r.type->category);
	} else if (r.code != NULL) {
		/* Off the whitelist: delivered as the phone would, with its pretence. */
		mime = xstrdup(claim != NULL ? claim : r.mime[0] != '\0' ? r.mime
		                                                       : "application/octet-stream");
		type = type_of_mime(mime);
	} else {
		*cause = xasprintf("cannot tell what the file is: %s", r.why);
		sniff_result_release(&r);
		return -1;
	}
	if (o->content_type != NULL && *o->content_type != '\0') {
		free(mime);
		mime = xstrdup(o->content_type);
	}
	e->fail_left = o->fail_downloads >= 0 ? (unsigned)o->fail_downloads : s->fail_downloads;
	e->expire = o->expire_after_download >= 0 ? o->expire_after_download != 0
	                                          : s->expire_after_download;
	e->expired = 0;
	e->expiry_ms = now_ms + SIM_MEDIA_EXPIRY_MS;
	url = xasprintf("%s/wa/%s/wa/media/%s?download=false", s->base_url, s->app, e->id);
	im.url = url;
	im.mime = mime;
	im.filename = type == GUPSHUP_FILE ? o->filename : NULL;
	im.expiry = e->expiry_ms;
	rc = inbound(s, digits, name, type, o->caption, &im, now_ms, cause);
	if (rc == 0 && info != NULL) {
		info->type = type;
		info->mime = mime;
		info->url = url;
		info->sniffed = xstrdup(r.mime);
		mime = url = NULL;
	}
	free(mime);
	free(url);
	sniff_result_release(&r);
	return rc < 0 ? -1 : 0;
}

int
sim_inbound_media(struct sim *s, const char *phone, const char *name, enum gupshup_msg_type type,
                  const char *caption, int64_t now_ms, char **cause)
{
	struct sim_media_opts o = SIM_MEDIA_OPTS_DEFAULT;
	struct buf b = { 0 };
	char *id, *filename = NULL;
	int rc;

	*cause = NULL;
	if (s->sandbox)
		return inbound(s, phone, name, GUPSHUP_TEXT, caption, NULL, now_ms, cause);
	o.caption = caption;
	if (type == GUPSHUP_IMAGE) {
		sim_sample_png(sim_random(&s->rng), &b);
	} else {
		char number[16];
		snprintf(number, sizeof number, "INV-%04u", (unsigned)rnd(s, 10000));
		sim_sample_pdf(number, &b);
		filename = xasprintf("invoice-%s.pdf", number + 4);
		o.filename = filename;
	}
	id = sim_media_put(s, b.data, b.len);
	rc = sim_inbound_file(s, phone, name, id, &o, now_ms, NULL, cause);
	free(id);
	free(filename);
	buf_free(&b);
	return rc;
}

int
sim_optin(struct sim *s, const char *phone_in, int in, int64_t now_ms, char **cause)
{
	struct sim_customer *c;
	char phone[16];

	*cause = NULL;
	if (sim_phone(phone_in, phone) != 0) {
		*cause = xasprintf("invalid phone number '%.32s'", phone_in != NULL ? phone_in : "");
		return -1;
	}
	c = customer_get(s, phone);
	c->opted_in = in;
	c->optin_ms = now_ms;
	s->dirty = 1;
	post_user_event(s, in ? GUPSHUP_USER_OPTED_IN : GUPSHUP_USER_OPTED_OUT, phone, now_ms);
	return 0;
}

/* ---- Simulated customers ---- */

void
sim_crowd_start(struct sim *s, unsigned n, double rate_per_min, int64_t now_ms)
{
	sim_crowd_free(s->crowd);
	s->crowd = n > 0 ? sim_crowd_new(s->rng ^ 0xc20dULL, n, rate_per_min, s->sandbox, s->app,
	                                 now_ms)
	                 : NULL;
}

void
sim_tick(struct sim *s, int64_t now_ms)
{
	struct sim_crowd_action a;
	char *cause = NULL;

	while (s->crowd != NULL && sim_crowd_next(s->crowd, now_ms, &a)) {
		int rc = a.kind == CROWD_TEXT
		                 ? sim_inbound(s, a.phone, a.name, a.text, now_ms, &cause)
		                 : sim_inbound_media(s, a.phone, a.name,
		                                     a.kind == CROWD_IMAGE ? GUPSHUP_IMAGE : GUPSHUP_FILE,
		                                     a.text, now_ms, &cause);
		if (rc < 0) {
			log_warn("simulated customer %s: %s", a.phone, cause);
			free(cause);
			cause = NULL;
		}
		free(a.text);
	}
}

int64_t
sim_next_tick(const struct sim *s)
{
	return s->crowd != NULL ? sim_crowd_due(s->crowd) : -1;
}

/* ---- Sends ---- */

static int
template_fits(const struct gupshup_send *rq, const struct sim_template **out)
{
	for (size_t i = 0; i < sim_ntemplates; i++) {
		const char *p;
		size_t want = 0;
		if (strcmp(sim_templates[i].id, rq->template_id) != 0 &&
		    strcmp(sim_templates[i].name, rq->template_id) != 0)
			continue;
		*out = &sim_templates[i];
		for (p = sim_templates[i].body; (p = strstr(p, "{{")) != NULL; p += 2)
			want++;
		if (rq->nparams != want)
			return 0;
		for (size_t j = 0; j < rq->nparams; j++)
			if (rq->params[j] == NULL || rq->params[j][0] == '\0')
				return 0;
		return 1;
	}
	*out = NULL;
	return 0;
}

/* The template body with {{n}} replaced by params. */
static char *
render(const char *body, char *const *params, size_t n)
{
	struct buf b = { 0 };
	const char *p = body;
	while (*p != '\0') {
		char *end;
		long k;
		if (p[0] == '{' && p[1] == '{' && (k = strtol(p + 2, &end, 10)) > 0 && end[0] == '}' &&
		    end[1] == '}') {
			if ((size_t)k <= n)
				buf_puts(&b, params[k - 1]);
			p = end + 2;
		} else {
			buf_putc(&b, *p++);
		}
	}
	return buf_steal(&b);
}

/* WhatsApp's verdict on an accepted send: -1 delivered, else a failure row. */
static int
verdict(struct sim *s, const struct gupshup_send *rq, const struct sim_customer *c, int64_t now_ms,
        int64_t cost, char **rendered)
{
	int active = c->last_inbound_ms > 0 && now_ms - c->last_inbound_ms < (int64_t)SIM_WINDOW_S * 1000;
	const struct sim_template *t = NULL;

	if (s->sandbox && !c->bound)
		return FAIL_SANDBOX_UNBOUND;
	if (rq->is_template) {
		if (!template_fits(rq, &t))
			return FAIL_TEMPLATE;
		*rendered = render(t->body, rq->params, rq->nparams);
		if (!active && !c->opted_in)
			return c->optin_ms > 0 ? FAIL_OPTED_OUT : FAIL_OPTIN;
	} else {
		if (s->sandbox && rq->type != GUPSHUP_TEXT)
			return FAIL_SANDBOX_MEDIA;
		if (!active)
			return FAIL_WINDOW;
	}
	if (s->balance < cost)
		return FAIL_WALLET;
	return -1;
}

/* Queues a send's message-events: enqueued .. read when code is 0, else
 * one failed event with code and reason. */
static void
schedule_events(struct sim *s, const char *phone, const char *gs_id, const char *wa_id,
                int is_template, int code, const char *reason, int64_t now_ms)
{
	struct gupshup_callback cb = { .kind = GUPSHUP_MESSAGE_EVENT, .app = s->app };
	int64_t base = now_ms + s->event_delay, step = s->event_delay / 10 > 0 ? s->event_delay / 10 : 1;

	cb.ev.gs_id = gs_id;
	cb.ev.destination = phone;
	if (code != 0) {
		cb.timestamp = base;
		cb.ev.type = GUPSHUP_EV_FAILED;
		cb.ev.code = code;
		cb.ev.reason = reason;
		enqueue(s, gupshup_callback_build(&cb), base, phone, gs_id, 1, GUPSHUP_EV_FAILED, step);
		return;
	}
	static const enum gupshup_event_type seq[] = {
		GUPSHUP_EV_ENQUEUED, GUPSHUP_EV_SENT, GUPSHUP_EV_DELIVERED, GUPSHUP_EV_READ,
	};
	for (size_t i = 0; i < ARRAY_LEN(seq); i++) {
		int64_t due = base + (int64_t)i * step;
		cb.timestamp = due;
		cb.ev.type = seq[i];
		cb.ev.wa_id = wa_id;
		cb.ev.ts = due / 1000;
		cb.ev.conversation = is_template ? "template" : "session";
		enqueue(s, gupshup_callback_build(&cb), due, phone, gs_id, 1, seq[i], step);
	}
}

/* Over the per-app rate in the last second? */
static int
rate_exceeded(const struct sim *s, int64_t now_ms)
{
	if (s->nsends < s->rate_limit)
		return 0;
	return now_ms - s->sends[s->sendhead] < 1000;
}

static void
rate_record(struct sim *s, int64_t now_ms)
{
	if (s->nsends < s->rate_limit) {
		s->sends[(s->sendhead + s->nsends++) % s->rate_limit] = now_ms;
		return;
	}
	s->sends[s->sendhead] = now_ms;
	s->sendhead = (s->sendhead + 1) % s->rate_limit;
}

/* ---- Outbound media downloads ---- */

static void
fetch_add(struct sim *s, const char *phone, const char *gs_id, const char *wa_id,
          enum gupshup_msg_type type, const char *url)
{
	struct fetch_job *j;
	if (s->nfetch == s->capfetch) {
		s->capfetch = s->capfetch ? s->capfetch * 2 : 8;
		s->fetch = xrealloc(s->fetch, s->capfetch * sizeof *s->fetch);
	}
	j = &s->fetch[s->nfetch++];
	memset(j, 0, sizeof *j);
	j->id = ++s->fetch_seq;
	j->phone = xstrdup(phone);
	j->gs_id = xstrdup(gs_id);
	j->wa_id = xstrdup(wa_id);
	j->url = xstrdup(url);
	j->type = type;
}

static enum media_category
category_of_type(enum gupshup_msg_type t)
{
	switch (t) {
	case GUPSHUP_IMAGE: return MEDIA_IMAGE;
	case GUPSHUP_AUDIO: return MEDIA_AUDIO;
	case GUPSHUP_VIDEO: return MEDIA_VIDEO;
	default: return MEDIA_DOCUMENT;
	}
}

int
sim_fetch_next(struct sim *s, struct sim_fetch *f)
{
	for (size_t i = 0; i < s->nfetch; i++) {
		struct fetch_job *j = &s->fetch[i];
		if (j->started)
			continue;
		j->started = 1;
		f->id = j->id;
		f->url = xstrdup(j->url);
		f->cap = media_cap(category_of_type(j->type));
		return 1;
	}
	return 0;
}

size_t
sim_fetches(const struct sim *s)
{
	return s->nfetch;
}

/* The last path segment of a URL, without query or fragment (xmalloc'd;
 * "media" when there is none). */
static char *
url_name(const char *url)
{
	const char *p = strstr(url, "://"), *end, *slash;
	p = p != NULL ? p + 3 : url;
	end = p + strcspn(p, "?#");
	slash = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '/')
			slash = q;
	if (slash == NULL || slash + 1 >= end)
		return xstrdup("media");
	return xstrndup(slash + 1, (size_t)(end - slash - 1) < 200 ? (size_t)(end - slash - 1) : 200);
}

/* Checks a finished download; 0 with *mime set (static, the whitelist's),
 * or a failure row with *detail (xmalloc'd). */
static int
fetch_judge(struct sim *s, const struct fetch_job *j, const struct sim_fetch_result *r,
            const char **mime, char **detail)
{
	struct sniff_result sr = { 0 };
	struct sniff *sn;
	const char *code, *why;
	char *cause = NULL;
	enum media_category want = category_of_type(j->type);

	if (!r->answered) {
		*detail = xasprintf("cannot download the media from its URL: %s",
		                    r->error != NULL ? r->error : "no answer");
		return FAIL_MEDIA_UPLOAD;
	}
	if (r->over_cap) {
		*detail = xasprintf("the media is over the %s limit of %lld bytes",
		                    media_category_name(want), (long long)media_cap(want));
		return FAIL_MEDIA_SIZE;
	}
	if (r->status != 200) {
		*detail = xasprintf("cannot download the media from its URL: HTTP %ld", r->status);
		return FAIL_MEDIA_UPLOAD;
	}
	if ((sn = sniffer(s, &cause)) == NULL) {
		*detail = xasprintf("cannot check the media: %s", cause);
		free(cause);
		return FAIL_MEDIA_UPLOAD;
	}
	if (sniff_buffer(sn, r->data, r->len, r->content_type, &sr) != 0) {
		*detail = xasprintf("unsupported media: %s", sr.why);
		sniff_result_release(&sr);
		return FAIL_MEDIA_UPLOAD;
	}
	/* A document may carry any whitelisted file (WhatsApp delivers a
	 * picture sent as a document as a document); the other types only
	 * their own category. */
	if (want != MEDIA_DOCUMENT && sr.type->category != want) {
		*detail = xasprintf("%s message cannot carry %s (%s)", media_gupshup_type(want),
		                    sniff_noun(sr.type->mime) != NULL ? sniff_noun(sr.type->mime)
		                                                      : media_category_name(sr.type->category),
		                    sr.type->mime);
		sniff_result_release(&sr);
		return FAIL_MEDIA_UPLOAD;
	}
	*mime = sr.type->mime;
	sniff_result_release(&sr);
	if (media_check(*mime, (int64_t)r->len, &code, &why) != 0) {
		*detail = xstrdup(why);
		return strcmp(code, "media.size") == 0 ? FAIL_MEDIA_SIZE : FAIL_MEDIA_UPLOAD;
	}
	return -1;
}

void
sim_fetch_done(struct sim *s, uint64_t id, const struct sim_fetch_result *r, int64_t now_ms)
{
	struct fetch_job *j = NULL;
	struct sim_customer *c;
	struct sim_item *it = NULL;
	const char *mime = NULL;
	char *detail = NULL;
	size_t k;
	int fail;

	for (k = 0; k < s->nfetch; k++) {
		if (s->fetch[k].id == id) {
			j = &s->fetch[k];
			break;
		}
	}
	if (j == NULL)
		return;
	if ((c = customer_find(s, j->phone)) != NULL)
		for (size_t i = 0; i < c->nitems; i++)
			if (c->items[i].gs_id != NULL && strcmp(c->items[i].gs_id, j->gs_id) == 0)
				it = &c->items[i];
	fail = fetch_judge(s, j, r, &mime, &detail);
	if (fail < 0 && s->balance < sim_cost(j->phone, 0))
		fail = FAIL_WALLET;
	if (it != NULL) {
		if (fail >= 0) {
			it->code = failures[fail].code;
			free(it->reason);
			it->reason = detail != NULL ? xasprintf("%s: %s", failures[fail].reason, detail)
			                            : xstrdup(failures[fail].reason);
			schedule_events(s, j->phone, j->gs_id, j->wa_id, 0, it->code, it->reason, now_ms);
		} else {
			unsigned char digest[SHA256_LEN];
			sha256(r->data, r->len, digest);
			it->media_sha256 = xmalloc(2 * SHA256_LEN + 1);
			hex_encode(digest, SHA256_LEN, it->media_sha256);
			it->media_mime = xstrdup(mime);
			it->media_size = (int64_t)r->len;
			it->media_name = it->filename != NULL ? xstrdup(it->filename) : url_name(j->url);
			it->cost = sim_cost(j->phone, 0);
			charge(s, now_ms, it->cost, "session message", j->phone, j->gs_id);
			schedule_events(s, j->phone, j->gs_id, j->wa_id, 0, 0, NULL, now_ms);
		}
		s->dirty = 1;
	}
	free(detail);
	free(j->phone);
	free(j->gs_id);
	free(j->wa_id);
	free(j->url);
	memmove(&s->fetch[k], &s->fetch[k + 1], (s->nfetch - k - 1) * sizeof *s->fetch);
	s->nfetch--;
}

/* ---- Requests ---- */

static void
respond(struct sim_response *rs, int status, char *json)
{
	rs->status = status;
	rs->content_type = "application/json";
	rs->body = json;
	rs->len = strlen(json);
}

static void
respond_error(struct sim_response *rs, int status, const char *message)
{
	respond(rs, status, gupshup_reply_error(message));
}

static void
send_message(struct sim *s, const struct sim_request *rq, int is_template, int64_t now_ms,
             struct sim_response *rs)
{
	struct gupshup_send m;
	struct sim_customer *c;
	struct sim_item *it;
	char dest[16], src[16], *cause = NULL, *rendered = NULL, *gs_id, *wa_id;
	int64_t cost;
	int fail;

	/* --chaos: a send is sometimes refused the first time (500 or a
	 * dropped connection); the same body again is then accepted, so a
	 * client that retries gets through. */
	if (s->chaos) {
		uint64_t h = 1469598103934665603ULL, r;
		int seen = 0;
		for (size_t i = 0; i < rq->len; i++)
			h = (h ^ (unsigned char)rq->body[i]) * 1099511628211ULL;
		for (size_t i = 0; i < ARRAY_LEN(s->refused) && i < s->nrefused; i++)
			if (s->refused[i] == h)
				seen = 1;
		r = rnd(s, 100);
		if (!seen && r < 14) {
			s->refused[s->nrefused++ % ARRAY_LEN(s->refused)] = h;
			if (r < 8)
				respond_error(rs, 500, "Internal Server Error");
			else
				rs->drop = 1;
			return;
		}
	}
	if (rate_exceeded(s, now_ms)) {
		respond_error(rs, 429, "Too Many Requests");
		return;
	}
	if (gupshup_send_parse(rq->body, rq->len, is_template, &m, &cause) != 0) {
		respond_error(rs, 400, cause);
		free(cause);
		return;
	}
	if (strcmp(m.app, s->app) != 0) {
		respond_error(rs, 400, "Invalid App Details");
		goto done;
	}
	if (sim_phone(m.source, src) != 0) {
		respond_error(rs, 400, "Invalid Source");
		goto done;
	}
	if (sim_phone(m.destination, dest) != 0) {
		respond_error(rs, 400, "Invalid Destination");
		goto done;
	}
	rate_record(s, now_ms);
	gs_id = new_uuid(s);
	wa_id = new_wa_id(s, "gBEGkY");
	c = customer_get(s, dest);
	cost = sim_cost(dest, is_template);
	fail = verdict(s, &m, c, now_ms, cost, &rendered);

	it = item_add(c);
	it->gs_id = gs_id;
	it->wa_id = wa_id;
	it->time_ms = now_ms;
	it->is_template = is_template;
	it->type = is_template ? GUPSHUP_TEXT : m.type;
	it->text = rendered != NULL ? rendered : xstrdup(m.text);
	it->url = xstrdup(m.url);
	it->filename = xstrdup(m.filename);
	if (is_template) {
		it->template_id = xstrdup(m.template_id);
		it->params = xcalloc(m.nparams + 1, sizeof *it->params);
		for (size_t i = 0; i < m.nparams; i++)
			it->params[i] = xstrdup(m.params[i]);
		it->nparams = m.nparams;
	}
	it->status = xstrdup("accepted");
	if (fail >= 0) {
		it->code = failures[fail].code;
		it->reason = xstrdup(failures[fail].reason);
		schedule_events(s, dest, gs_id, wa_id, is_template, it->code, it->reason, now_ms);
	} else if (!is_template && m.type != GUPSHUP_TEXT) {
		fetch_add(s, dest, gs_id, wa_id, m.type, m.url);   /* verdict after the download */
	} else {
		it->cost = cost;
		charge(s, now_ms, cost, is_template ? "template message" : "session message", dest, gs_id);
		schedule_events(s, dest, gs_id, wa_id, is_template, 0, NULL, now_ms);
	}
	s->dirty = 1;
	respond(rs, 202, gupshup_reply_submitted(gs_id));
done:
	gupshup_send_release(&m);
}

static int
path_app_is(const struct sim *s, const char *rest)
{
	return strcmp(rest, s->app) == 0;
}

static void
h_msg(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
      struct sim_response *rs)
{
	(void)rest;
	send_message(s, rq, 0, now, rs);
}

static void
h_template_msg(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
               struct sim_response *rs)
{
	(void)rest;
	send_message(s, rq, 1, now, rs);
}

static void
h_template_list(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
                struct sim_response *rs)
{
	struct gupshup_template t[ARRAY_LEN(sim_templates)];
	(void)rq;
	(void)now;
	if (!path_app_is(s, rest)) {
		respond_error(rs, 400, "Invalid App Details");
		return;
	}
	for (size_t i = 0; i < sim_ntemplates; i++)
		t[i] = (struct gupshup_template){ .id = sim_templates[i].id,
		        .name = sim_templates[i].name, .body = sim_templates[i].body };
	respond(rs, 200, gupshup_templates_build(t, sim_ntemplates));
}

static void
opt_api(struct sim *s, const struct sim_request *rq, const char *rest, int in, int64_t now,
        struct sim_response *rs)
{
	struct gupshup_field *f;
	const char *user;
	char *cause = NULL;
	size_t n;

	if (!path_app_is(s, rest)) {
		respond_error(rs, 400, "Invalid App Details");
		return;
	}
	gupshup_form_decode(rq->body, rq->len, &f, &n);
	user = gupshup_form_get(f, n, "user");
	if (user == NULL || *user == '\0')
		respond_error(rs, 400, "Missing user");
	else if (sim_optin(s, user, in, now, &cause) != 0)
		respond_error(rs, 400, "Invalid User");
	else
		respond(rs, 202, xstrdup("{\"status\":\"success\"}"));
	free(cause);
	gupshup_form_free(f, n);
}

static void
h_optin(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
        struct sim_response *rs)
{
	opt_api(s, rq, rest, 1, now, rs);
}

static void
h_optout(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
         struct sim_response *rs)
{
	opt_api(s, rq, rest, 0, now, rs);
}

static void
h_users(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
        struct sim_response *rs)
{
	struct gupshup_user *u;
	(void)rq;
	(void)now;
	if (!path_app_is(s, rest)) {
		respond_error(rs, 400, "Invalid App Details");
		return;
	}
	u = xcalloc(s->ncust + 1, sizeof *u);
	for (size_t i = 0; i < s->ncust; i++)
		u[i] = (struct gupshup_user){ .phone = s->cust[i].phone, .opted_in = s->cust[i].opted_in,
		        .optin_ms = s->cust[i].optin_ms, .last_message_ms = s->cust[i].last_inbound_ms };
	respond(rs, 200, gupshup_users_build(u, s->ncust));
	free(u);
}

static void
h_balance(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
          struct sim_response *rs)
{
	(void)rq;
	(void)rest;
	(void)now;
	respond(rs, 200, gupshup_wallet_build(s->balance, 0));
}

/* The faults, then the bytes as application/octet-stream. */
static void
media_serve(struct media_entry *e, struct sim_response *rs)
{
	if (e->fail_left > 0) {
		e->fail_left--;
		respond_error(rs, 503, "Service Unavailable");
		return;
	}
	rs->status = 200;
	rs->content_type = "application/octet-stream";
	rs->body = xmalloc(e->len > 0 ? e->len : 1);
	if (e->len > 0)
		memcpy(rs->body, e->data, e->len);
	rs->len = e->len;
	if (e->expire)
		e->expired = 1;
}

/*
 * The media API, GET /sm/api/v1/wamedia/APP/ID (apikey checked by the
 * router).  Unknown ids, and expired ones, get Gupshup's documented 404
 * {"status":"error","message":"Invalid Media Id"}.
 */
static void
h_wamedia(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
          struct sim_response *rs)
{
	size_t n = strlen(s->app);
	struct media_entry *e = NULL;
	(void)rq;
	(void)now;
	if (strncmp(rest, s->app, n) == 0 && rest[n] == '/')
		e = media_find(s, rest + n + 1);
	if (e == NULL || e->expired) {
		respond_error(rs, 404, "Invalid Media Id");
		return;
	}
	media_serve(e, rs);
}

/*
 * The webhook's payload URL, GET /wa/APP/wa/media/ID[?download=false], as
 * Gupshup's file-manager link: no apikey (the random id is the secret);
 * 404 for an unknown id, 410 once past urlExpiry or after its one
 * download (--expire-after-download).
 */
static void
h_payload(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
          struct sim_response *rs)
{
	static const char mid[] = "/wa/media/";
	size_t n = strlen(s->app);
	struct media_entry *e = NULL;
	(void)rq;
	if (strncmp(rest, s->app, n) == 0 && strncmp(rest + n, mid, sizeof mid - 1) == 0) {
		const char *id = rest + n + sizeof mid - 1;
		char *bare = xstrndup(id, strcspn(id, "?#"));
		e = media_find(s, bare);
		free(bare);
	}
	if (e == NULL) {
		respond_error(rs, 404, "Not Found");
		return;
	}
	if (e->expired || (e->expiry_ms > 0 && now >= e->expiry_ms)) {
		respond_error(rs, 410, "Media URL expired");
		return;
	}
	media_serve(e, rs);
}

/* Control API. */

static void
h_info(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
       struct sim_response *rs)
{
	struct gupshup_sim_info info = { .app = s->app, .source = s->source, .callback = s->callback,
	        .base_url = s->base_url, .sandbox = s->sandbox };
	(void)rq;
	(void)rest;
	(void)now;
	respond(rs, 200, gupshup_sim_info_build(&info));
}

static void
h_say(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
      struct sim_response *rs)
{
	struct gupshup_field *f;
	char *cause = NULL;
	size_t n;
	int rc;
	(void)rest;

	gupshup_form_decode(rq->body, rq->len, &f, &n);
	rc = sim_inbound(s, gupshup_form_get(f, n, "phone"), gupshup_form_get(f, n, "name"),
	                 gupshup_form_get(f, n, "text"), now, &cause);
	if (rc < 0)
		respond_error(rs, 400, cause);
	else
		respond(rs, 200, gupshup_sim_ok("result", rc == 0 ? "delivered" : "dropped"));
	free(cause);
	gupshup_form_free(f, n);
}

/* POST /sim/upload: the raw body is kept; 201 {"status":"ok","id":ID}. */
static void
h_upload(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
         struct sim_response *rs)
{
	char *id;
	(void)rest;
	(void)now;
	if (rq->len == 0) {
		respond_error(rs, 400, "empty upload");
		return;
	}
	id = sim_media_put(s, rq->body, rq->len);
	respond(rs, 201, gupshup_sim_ok("id", id));
	free(id);
}

/* A form count field (0 to 1000000): *out -1 when absent; -1 when not a number. */
static int
form_count(const struct gupshup_field *f, size_t n, const char *name, int *out)
{
	const char *v = gupshup_form_get(f, n, name);
	char *end;
	unsigned long x;
	*out = -1;
	if (v == NULL || *v == '\0')
		return 0;
	x = strtoul(v, &end, 10);
	if (*end != '\0' || *v < '0' || *v > '9' || x > 1000000)
		return -1;
	*out = (int)x;
	return 0;
}

/*
 * POST /sim/media (form: phone, id, name, filename, caption,
 * content_type, fail_downloads, expire_after_download): the customer
 * sends the uploaded id.  200 with what was announced; 403 in the
 * sandbox; 404 for an unknown id; 400 otherwise.
 */
static void
h_media(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
        struct sim_response *rs)
{
	struct gupshup_field *f;
	struct sim_media_opts o = SIM_MEDIA_OPTS_DEFAULT;
	struct sim_media_info info;
	const char *id;
	char *cause = NULL;
	size_t n;
	(void)rest;

	gupshup_form_decode(rq->body, rq->len, &f, &n);
	id = gupshup_form_get(f, n, "id");
	o.filename = gupshup_form_get(f, n, "filename");
	o.caption = gupshup_form_get(f, n, "caption");
	o.content_type = gupshup_form_get(f, n, "content_type");
	if (form_count(f, n, "fail_downloads", &o.fail_downloads) != 0 ||
	    form_count(f, n, "expire_after_download", &o.expire_after_download) != 0) {
		respond_error(rs, 400, "fail_downloads and expire_after_download want numbers");
	} else if (id == NULL || media_find(s, id) == NULL) {
		char *m = xasprintf("no media '%.64s' (upload it first)", id != NULL ? id : "");
		respond_error(rs, 404, m);
		free(m);
	} else if (sim_inbound_file(s, gupshup_form_get(f, n, "phone"), gupshup_form_get(f, n, "name"),
	                            id, &o, now, &info, &cause) != 0) {
		respond_error(rs, s->sandbox ? 403 : 400, cause);
	} else {
		respond(rs, 200, gupshup_sim_media_reply(id, gupshup_msg_type_name(info.type), info.mime,
		                                         info.sniffed, info.url));
		sim_media_info_release(&info);
	}
	free(cause);
	gupshup_form_free(f, n);
}

static void
control_opt(struct sim *s, const struct sim_request *rq, int in, int64_t now,
            struct sim_response *rs)
{
	struct gupshup_field *f;
	char *cause = NULL;
	size_t n;

	gupshup_form_decode(rq->body, rq->len, &f, &n);
	if (sim_optin(s, gupshup_form_get(f, n, "phone"), in, now, &cause) != 0)
		respond_error(rs, 400, cause);
	else
		respond(rs, 200, gupshup_sim_ok(NULL, NULL));
	free(cause);
	gupshup_form_free(f, n);
}

static void
h_ctl_optin(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
            struct sim_response *rs)
{
	(void)rest;
	control_opt(s, rq, 1, now, rs);
}

static void
h_ctl_optout(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
             struct sim_response *rs)
{
	(void)rest;
	control_opt(s, rq, 0, now, rs);
}

static void
h_inbox(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
        struct sim_response *rs)
{
	char phone[16];
	const struct sim_customer *c;
	(void)rq;
	(void)now;
	if (sim_phone(rest, phone) != 0) {
		char *m = xasprintf("invalid phone number '%.32s'", rest);
		respond_error(rs, 400, m);
		free(m);
		return;
	}
	c = customer_find(s, phone);
	if (c == NULL) {
		struct sim_customer empty = { 0 };
		memcpy(empty.phone, phone, sizeof phone);
		respond(rs, 200, gupshup_sim_inbox_build(&empty));
		return;
	}
	respond(rs, 200, gupshup_sim_inbox_build(c));
}

static void
h_wallet(struct sim *s, const struct sim_request *rq, const char *rest, int64_t now,
         struct sim_response *rs)
{
	(void)rq;
	(void)rest;
	(void)now;
	respond(rs, 200, gupshup_sim_wallet_build(s->balance, s->ledger, s->nledger));
}

typedef void handler_fn(struct sim *, const struct sim_request *, const char *, int64_t,
                        struct sim_response *);

static const struct route {
	const char *method;
	const char *path;           /* ends in '/': a prefix, the rest goes to the handler */
	int         auth;
	handler_fn *fn;
} routes[] = {
	{ "POST", "/sm/api/v1/msg", 1, h_msg },
	{ "POST", "/sm/api/v1/template/msg", 1, h_template_msg },
	{ "GET", "/sm/api/v1/template/list/", 1, h_template_list },
	{ "POST", "/sm/api/v1/app/opt/in/", 1, h_optin },
	{ "POST", "/sm/api/v1/app/opt/out/", 1, h_optout },
	{ "GET", "/sm/api/v1/users/", 1, h_users },
	{ "GET", "/sm/api/v2/wallet/balance", 1, h_balance },
	{ "GET", "/sm/api/v1/wallet/balance", 1, h_balance },
	{ "GET", "/sm/api/v1/wamedia/", 1, h_wamedia },
	{ "GET", "/wa/", 0, h_payload },
	{ "GET", "/sim/info", 0, h_info },
	{ "POST", "/sim/say", 0, h_say },
	{ "POST", "/sim/upload", 0, h_upload },
	{ "POST", "/sim/media", 0, h_media },
	{ "POST", "/sim/optin", 0, h_ctl_optin },
	{ "POST", "/sim/optout", 0, h_ctl_optout },
	{ "GET", "/sim/inbox/", 0, h_inbox },
	{ "GET", "/sim/wallet", 0, h_wallet },
};

void
sim_handle(struct sim *s, const struct sim_request *rq, int64_t now_ms, struct sim_response *rs)
{
	int path_known = 0;

	memset(rs, 0, sizeof *rs);
	for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
		const struct route *r = &routes[i];
		size_t n = strlen(r->path);
		const char *rest;
		if (r->path[n - 1] == '/') {
			if (strncmp(rq->path, r->path, n) != 0 || rq->path[n] == '\0')
				continue;
			rest = rq->path + n;
		} else {
			if (strcmp(rq->path, r->path) != 0)
				continue;
			rest = "";
		}
		path_known = 1;
		if (strcmp(rq->method, r->method) != 0)
			continue;
		if (r->auth && s->apikey != NULL &&
		    (rq->apikey == NULL || strcmp(rq->apikey, s->apikey) != 0)) {
			respond_error(rs, 401, "Authentication Failed");
			return;
		}
		r->fn(s, rq, rest, now_ms, rs);
		return;
	}
	if (path_known)
		respond_error(rs, 405, "Method Not Allowed");
	else
		respond_error(rs, 404, "Not Found");
}

void
sim_response_release(struct sim_response *rs)
{
	if (rs == NULL)
		return;
	free(rs->body);
	memset(rs, 0, sizeof *rs);
}

/* ---- State ---- */

int
sim_save(struct sim *s, const char *path, char **cause)
{
	char *doc = gupshup_sim_state_build(s->balance, s->ledger, s->nledger, s->cust, s->ncust);
	char *tmp = xasprintf("%s.tmp", path);
	size_t len = strlen(doc), off = 0;
	int fd, rc = -1;

	*cause = NULL;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		*cause = xasprintf("cannot create '%s': %s", tmp, strerror(errno));
		goto done;
	}
	while (off < len) {
		ssize_t w = write(fd, doc + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			*cause = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto done;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		*cause = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, path) != 0) {
		*cause = xasprintf("cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		unlink(tmp);
		goto done;
	}
	s->dirty = 0;
	rc = 0;
done:
	free(tmp);
	free(doc);
	return rc;
}

int
sim_load(struct sim *s, const char *path, char **cause)
{
	struct buf b = { 0 };
	struct sim_ledger *l;
	struct sim_customer *c;
	size_t nl, nc;
	int64_t balance;
	char chunk[65536], *why = NULL;
	int fd;

	*cause = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*cause = xasprintf("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*cause = xasprintf("cannot read '%s': %s", path, strerror(errno));
			close(fd);
			buf_free(&b);
			return -1;
		}
		if (r == 0)
			break;
		buf_append(&b, chunk, (size_t)r);
	}
	close(fd);
	if (gupshup_sim_state_parse(b.data, b.len, &balance, &l, &nl, &c, &nc, &why) != 0) {
		*cause = xasprintf("cannot load '%s': %s", path, why);
		free(why);
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	for (size_t i = 0; i < s->ncust; i++)
		gupshup_sim_customer_release(&s->cust[i]);
	free(s->cust);
	gupshup_sim_ledger_free(s->ledger, s->nledger);
	s->cust = c;
	s->ncust = nc;
	s->capcust = nc + 1;
	s->ledger = l;
	s->nledger = nl;
	s->capledger = nl + 1;
	s->balance = balance;
	s->dirty = 0;
	/* Media sends whose download had not finished: download them again. */
	for (size_t i = 0; i < s->ncust; i++) {
		for (size_t k = 0; k < s->cust[i].nitems; k++) {
			const struct sim_item *it = &s->cust[i].items[k];
			if (!it->is_template && it->type != GUPSHUP_TEXT && it->code == 0 &&
			    it->media_mime == NULL && it->url != NULL && it->gs_id != NULL &&
			    it->wa_id != NULL && it->status != NULL && strcmp(it->status, "accepted") == 0)
				fetch_add(s, s->cust[i].phone, it->gs_id, it->wa_id, it->type, it->url);
		}
	}
	return 0;
}
