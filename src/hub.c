/*
 * hub.c — the hub's core: events, webhooks, the outbox view, sessions.
 *
 * Everything that changes state runs inside a store transaction and emits
 * its events with emit(): the frame is appended to the event log in that
 * transaction and kept in h->cur until the commit is durable, then
 * broadcast in order (tx_release()).  A rollback drops them and restores
 * the head (hub_drop()).  Webhook batches commit without waiting for the
 * disk (hub_commit_async): their effects are held, tagged with a sync
 * ticket, until the WAL sync worker reports the ticket durable
 * (hub_durable()); the COMMIT itself runs in walsync's commit thread, with
 * the connection lent to it (hub_busy() until it is back; a failed one
 * counts as a failed sync).  Any synchronous commit meanwhile syncs the
 * log itself and releases the held ones first, so the order of events
 * never changes.  Group commit for webhooks adds savepoints: each webhook
 * remembers where the pending lists stood, so undoing one webhook undoes
 * exactly its events.
 *
 * Commands are in hub_cmd.c, automation in hub_auto.c; they share the
 * helpers declared in hub_int.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "access.h"
#include "decide.h"
#include "gupshup.h"
#include "hub.h"
#include "hub_int.h"
#include "limits.h"
#include "media.h"
#include "sanitize.h"
#include "status.h"
#include "store.h"
#include "util.h"
#include "walsync.h"

/* ---- settings: one table of keys, types and defaults ---------------------- */

const struct hub_setting_def hub_setting_defs[] = {
	{ "template_messaging", PROTO_V_BOOL, "false" },
	{ "timezone", PROTO_V_STRING, "UTC" },
	{ "business_hours", PROTO_V_STRING, "" },
	{ "greeting", PROTO_V_STRING, "" },
	{ "greeting_cooldown", PROTO_V_INT, "86400" },
	{ "away", PROTO_V_STRING, "" },
	{ "away_cooldown", PROTO_V_INT, "3600" },
	{ "brb", PROTO_V_STRING, "We will be right back." },
	{ "brb_cooldown", PROTO_V_INT, "3600" },
	{ "optin_prompt", PROTO_V_STRING,
	  "Reply YES to receive messages from us, or STOP to opt out." },
};
const size_t hub_nsetting_defs = ARRAY_LEN(hub_setting_defs);

const struct hub_setting_def *
hub_setting_def(const char *key)
{
	for (size_t i = 0; i < hub_nsetting_defs; i++)
		if (strcmp(hub_setting_defs[i].key, key) == 0)
			return &hub_setting_defs[i];
	return NULL;
}

const char *
hub_setting(struct hub *h, const char *key)
{
	for (int i = 0; i < h->nsettings; i++)
		if (strcmp(h->settings[i].key, key) == 0)
			return h->settings[i].value;
	const struct hub_setting_def *d = hub_setting_def(key);
	return d ? d->dflt : "";
}

int64_t
hub_setting_int(struct hub *h, const char *key)
{
	return strtoll(hub_setting(h, key), NULL, 10);
}

int
hub_setting_bool(struct hub *h, const char *key)
{
	return strcmp(hub_setting(h, key), "true") == 0;
}

int
hub_load_settings(struct hub *h, char **cause)
{
	struct store_kv *kv;
	int n = store_settings_all(h->st, &kv, cause);
	if (n < 0)
		return -1;
	store_kv_free(h->settings, h->nsettings);
	h->settings = kv;
	h->nsettings = n;
	free(h->psettings);
	h->psettings = xcalloc(hub_nsetting_defs + 1, sizeof *h->psettings);
	for (size_t i = 0; i < hub_nsetting_defs; i++) {
		h->psettings[i].key = hub_setting_defs[i].key;
		h->psettings[i].value = hub_setting(h, hub_setting_defs[i].key);
		h->psettings[i].kind = hub_setting_defs[i].kind;
	}
	h->psettings[hub_nsetting_defs].key = "sandbox";
	h->psettings[hub_nsetting_defs].kind = PROTO_V_BOOL;
	return 0;
}

/*
 * The settings consoles see: the table's, then `sandbox` from wadesk.conf
 * ([provider] sandbox, read-only here), so that a console refuses media
 * in the sandbox before it uploads a byte.  Read at each use: a SIGHUP
 * reload may have changed it.
 */
size_t
hub_public_settings(struct hub *h, const struct proto_setting **out)
{
	h->psettings[hub_nsetting_defs].value = h->cfg->sandbox ? "true" : "false";
	*out = h->psettings;
	return hub_nsetting_defs + 1;
}

int
hub_load_templates(struct hub *h, char **cause)
{
	struct store_kv *kv;
	int n = store_templates_all(h->st, &kv, cause);
	if (n < 0)
		return -1;
	store_kv_free(h->tpl, h->ntpl);
	free(h->tdefs);
	free(h->ptpl);
	h->tpl = kv;
	h->ntpl = n;
	h->tdefs = xcalloc((size_t)n + 1, sizeof *h->tdefs);
	h->ptpl = xcalloc((size_t)n + 1, sizeof *h->ptpl);
	for (int i = 0; i < n; i++) {
		h->tdefs[i] = (struct template_def){ kv[i].key, kv[i].value, kv[i].extra };
		h->ptpl[i] = (struct proto_template){ kv[i].key, kv[i].value, kv[i].extra };
	}
	return 0;
}

/* ---- clock, accessors ------------------------------------------------------ */

int64_t
hub_now(struct hub *h)
{
	return h->fake_now ? h->fake_now : now_s();
}

void
hub_set_time(struct hub *h, int64_t t)
{
	h->fake_now = t;
}

const struct hub_metrics *hub_metrics(struct hub *h) { return &h->m; }
int64_t hub_head(struct hub *h) { return h->released; }
size_t hub_outbox_depth(struct hub *h) { return h->ob_depth; }
const char *hub_id(struct hub *h) { return h->hub_id; }
int64_t hub_generation(struct hub *h) { return h->generation; }

/* ---- events ------------------------------------------------------------------ */

int
hub_emit(struct hub *h, struct proto_msg *ev, char **cause)
{
	size_t len;
	struct hub_tx *t = &h->cur;
	ev->type = PROTO_EVENT;
	ev->n = h->head + 1;
	ev->t = hub_now(h);
	char *frame = proto_encode(ev, &len);
	if (store_event_append(h->st, ev->n, ev->t, frame, cause) < 0) {
		free(frame);
		return -1;
	}
	h->head = ev->n;
	if (t->npend == t->cpend) {
		t->cpend = t->cpend ? 2 * t->cpend : 64;
		t->pend = xrealloc(t->pend, t->cpend * sizeof *t->pend);
	}
	t->pend[t->npend++] = (struct hub_pending){ ev->n, frame, len };
	return 0;
}

void
hub_mark(struct hub *h, struct hub_mark *m)
{
	m->head = h->head;
	m->npend = h->cur.npend;
	m->nnewq = h->cur.nnewq;
	m->nnewf = h->cur.nnewf;
}

void
hub_undo(struct hub *h, const struct hub_mark *m)
{
	struct hub_tx *t = &h->cur;
	while (t->npend > m->npend)
		free(t->pend[--t->npend].frame);
	while (t->nnewq > m->nnewq)
		free(t->newq[--t->nnewq].phone);
	hub_fetch_undo(h, m->nnewf);
	h->head = m->head;
}

void
hub_drop(struct hub *h, int64_t head)
{
	struct hub_mark m = { head, 0, 0, 0 };
	hub_undo(h, &m);
}

/* A durable transaction's effects, in order: its events to every
 * console, its sends to the outbox, its downloads to the fetcher. */
static void
tx_release(struct hub *h, struct hub_tx *t)
{
	for (size_t i = 0; i < t->npend; i++) {
		if (h->io.broadcast != NULL)
			h->io.broadcast(h->io.arg, t->pend[i].n, t->pend[i].frame, t->pend[i].len);
		h->released = t->pend[i].n;
		free(t->pend[i].frame);
	}
	t->npend = 0;
	for (size_t i = 0; i < t->nnewq; i++) {
		hub_outbox_push(h, t->newq[i].msg_id, t->newq[i].phone, 0, 0);
		free(t->newq[i].phone);
	}
	if (t->nnewq > 0 && h->io.outbox_wake != NULL)
		h->io.outbox_wake(h->io.arg);
	t->nnewq = 0;
	hub_fetch_flush(h, t);
}

static void
tx_free(struct hub_tx *t)
{
	for (size_t i = 0; i < t->npend; i++)
		free(t->pend[i].frame);
	for (size_t i = 0; i < t->nnewq; i++)
		free(t->newq[i].phone);
	free(t->pend);
	free(t->newq);
	hub_fetch_tx_free(t);
	memset(t, 0, sizeof *t);
}

/* Releases the held transactions with a ticket up to seq, in order. */
static void
release_held(struct hub *h, uint64_t seq)
{
	size_t i = 0;
	for (; i < h->nheld && h->held[i].seq <= seq; i++) {
		tx_release(h, &h->held[i]);
		tx_free(&h->held[i]);
	}
	if (i > 0) {              /* held is NULL until something was held */
		memmove(h->held, h->held + i, (h->nheld - i) * sizeof *h->held);
		h->nheld -= i;
	}
	if (seq > h->durable)
		h->durable = seq;
}

static void
sync_failed(struct hub *h, const char *why)
{
	if (h->failed == NULL)
		h->failed = xasprintf("%s; what was committed since the last sync may not be on "
		                      "disk, so the hub stops and SQLite recovers the log at "
		                      "the next start", why);
}

/* Waits for the connection should the commit thread have it; -1 with
 * *cause once a lent COMMIT or a sync failed: nothing more is committed,
 * the hub is stopping (hub_failed, once hub_durable has seen it). */
static int
reclaim_usable(struct hub *h, char **cause)
{
	store_reclaim(h->st);
	if (h->ws != NULL && walsync_broken(h->ws)) {
		*cause = xstrdup("the hub is stopping: a commit or a sync of the log failed");
		return -1;
	}
	return 0;
}

int
hub_begin(struct hub *h, char **cause)
{
	if (reclaim_usable(h, cause) < 0)
		return -1;
	h->tx_head = h->head;
	return store_begin_deferred(h->st, cause);
}

int
hub_commit(struct hub *h, char **cause)
{
	if (store_commit(h->st, cause) < 0) {
		hub_drop(h, h->tx_head);
		return -1;
	}
	/* This sync covers every transaction committed before: the held
	 * ones go first, so events are broadcast in order. */
	if (store_wal_sync(h->st, cause) < 0) {
		sync_failed(h, *cause);
		hub_drop(h, h->tx_head);
		return -1;
	}
	release_held(h, h->seq);
	tx_release(h, &h->cur);
	walsync_checkpoint_check(h->ws);
	return 0;
}

int
hub_settle(struct hub *h, char **cause)
{
	if (h->nheld == 0)
		return 0;
	if (reclaim_usable(h, cause) < 0)
		return -1;
	if (store_wal_sync(h->st, cause) < 0) {
		sync_failed(h, *cause);
		return -1;
	}
	release_held(h, h->seq);
	return 0;
}

int
hub_commit_async(struct hub *h, uint64_t *seq, char **cause)
{
	*seq = 0;
	if (h->ws == NULL || !store_deferred(h->st))
		return hub_commit(h, cause);
	int lend = walsync_commits(h->ws);
	if (!lend && store_commit(h->st, cause) < 0) {
		hub_drop(h, h->tx_head);
		return -1;
	}
	if (h->nheld == h->cheld) {
		h->cheld = h->cheld ? 2 * h->cheld : 8;
		h->held = xrealloc(h->held, h->cheld * sizeof *h->held);
	}
	h->cur.seq = ++h->seq;
	h->held[h->nheld++] = h->cur;
	memset(&h->cur, 0, sizeof h->cur);
	if (lend)
		walsync_commit(h->ws, h->seq);
	else
		walsync_request(h->ws, h->seq);
	*seq = h->seq;
	return 0;
}

uint64_t
hub_durable(struct hub *h)
{
	if (h->ws != NULL && h->nheld > 0) {
		char *failed = NULL;
		uint64_t d = walsync_done(h->ws, &failed);
		if (failed != NULL) {
			sync_failed(h, failed);
			free(failed);
		}
		release_held(h, d);
	}
	return h->durable;
}

uint64_t
hub_durable_wait(struct hub *h)
{
	if (h->ws != NULL && h->nheld > 0)
		walsync_wait(h->ws, h->seq);
	return hub_durable(h);
}

int
hub_busy(struct hub *h)
{
	if (!store_lent(h->st))
		return 0;
	walsync_want_wake(h->ws);
	return store_lent(h->st);
}

const char *
hub_failed(struct hub *h)
{
	return h->failed;
}

void
hub_abort(struct hub *h)
{
	store_rollback(h->st);
	hub_drop(h, h->tx_head);
}

/* ---- conversions to protocol structs -------------------------------------------- */

void
hub_proto_contact(const struct store_contact *c, struct proto_contact *p)
{
	memset(p, 0, sizeof *p);
	p->phone = c->phone;
	p->name = c->name ? c->name : "";
	p->note = c->note ? c->note : "";
	p->tags = c->tags;
	p->ntags = c->ntags;
	p->opted_in = c->opted_in;
	p->opted_out = c->opted_out;
	p->last_inbound = c->last_inbound;
	p->status = status_name((enum chat_status)c->status);
	p->agent = c->agent && c->agent[0] ? c->agent : NULL;
}

void
hub_proto_message(const struct store_message *m, struct proto_message *p, char *idbuf)
{
	memset(p, 0, sizeof *p);
	snprintf(idbuf, 24, "%lld", (long long)m->id);
	p->id = idbuf;
	p->cid = m->cid;
	p->phone = m->phone;
	p->direction = m->out ? "out" : "in";
	p->type = m->type;
	p->text = m->text ? m->text : "";
	p->state = m->out ? store_state_name(m->state) : NULL;
	p->reason = m->reason && m->reason[0] ? m->reason : NULL;
	p->agent = m->agent && m->agent[0] ? m->agent : NULL;
	p->automated = m->automated;
	p->time = m->time;
	p->template_id = m->template_id;
	p->params = m->params;
	p->nparams = m->nparams;
	p->provider_id = m->provider_id;
	if (m->media_mime != NULL) {
		int ready = m->media_state == NULL || strcmp(m->media_state, "ready") == 0;
		p->media.mime = m->media_mime;
		/* the provider's URL is the hub's business; consoles get the hub's */
		p->media.url = ready && m->media_sha256 ? m->media_url : NULL;
		p->media.filename = m->media_filename;
		p->media.caption = m->text && m->text[0] ? m->text : NULL;
		p->media.size = m->media_size;
		p->media.sha256 = m->media_sha256;
		p->media.state = m->media_state ? m->media_state : "ready";
		p->media.error = m->media_error && m->media_error[0] ? m->media_error : NULL;
		p->media.code = m->media_code;
	}
}

int
hub_emit_contact(struct hub *h, const struct store_contact *c, char **cause)
{
	struct proto_msg ev = {0};
	ev.kind = PROTO_EV_CONTACT;
	hub_proto_contact(c, &ev.contact);
	return hub_emit(h, &ev, cause);
}

int
hub_emit_message(struct hub *h, const struct store_message *m, char **cause)
{
	struct proto_msg ev = {0};
	char idbuf[24];
	ev.kind = PROTO_EV_MESSAGE;
	hub_proto_message(m, &ev.message, idbuf);
	return hub_emit(h, &ev, cause);
}

int
hub_emit_message_id(struct hub *h, int64_t id, char **cause)
{
	struct store_message m;
	int rc = store_message_get(h->st, id, &m, cause);
	if (rc <= 0) {
		if (rc == 0)
			*cause = xasprintf("message %lld vanished", (long long)id);
		return -1;
	}
	rc = hub_emit_message(h, &m, cause);
	store_message_release(&m);
	return rc;
}

int
hub_emit_status(struct hub *h, const struct store_contact *c, char **cause)
{
	struct proto_msg ev = {0};
	ev.kind = PROTO_EV_STATUS;
	ev.phone = c->phone;
	ev.status = status_name((enum chat_status)c->status);
	ev.agent = c->agent && c->agent[0] ? c->agent : NULL;
	return hub_emit(h, &ev, cause);
}

/* ---- contacts --------------------------------------------------------------------- */

int
hub_contact(struct hub *h, const char *phone, struct store_contact *c, int *created, char **cause)
{
	int rc = store_contact_get(h->st, phone, c, cause);
	if (rc < 0)
		return -1;
	*created = rc == 0;
	if (rc == 0) {
		struct chat_state cs;
		status_init(&cs);
		c->phone = xstrdup(phone);
		c->name = xstrdup("");
		c->note = xstrdup("");
		c->agent = xstrdup("");
		c->status = (int)cs.status;
		c->resume = (int)cs.resume;
		c->created = hub_now(h);
	}
	return 0;
}

void
hub_contact_event(struct store_contact *c, enum chat_event ev)
{
	struct chat_state cs = { (enum chat_status)c->status, (enum chat_status)c->resume };
	status_apply(&cs, ev);
	c->status = (int)cs.status;
	c->resume = (int)cs.resume;
}

int
hub_phone_valid(const char *p)
{
	size_t n = 0;
	if (p == NULL)
		return 0;
	for (; p[n]; n++)
		if (p[n] < '0' || p[n] > '9')
			return 0;
	return n >= 8 && n <= 15 && p[0] != '0';
}

/* ---- outbox (memory view) ------------------------------------------------------------ */

static size_t
phone_hash(const char *s)
{
	size_t x = 1469598103934665603ull;
	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 1099511628211ull;
	return x;
}

static struct ob_phone *
ob_phone(struct hub *h, const char *phone)
{
	size_t b = phone_hash(phone) % HUB_PHONE_BUCKETS;
	for (struct ob_phone *p = h->phones[b]; p; p = p->next)
		if (strcmp(p->phone, phone) == 0)
			return p;
	struct ob_phone *p = xcalloc(1, sizeof *p);
	p->phone = xstrdup(phone);
	p->next = h->phones[b];
	h->phones[b] = p;
	return p;
}

void
hub_outbox_push(struct hub *h, int64_t msg_id, const char *phone, int attempts, int64_t next_try)
{
	struct ob_entry *e = xcalloc(1, sizeof *e);
	e->msg_id = msg_id;
	e->phone = ob_phone(h, phone);
	e->attempts = attempts;
	e->next_try = next_try;
	/* keep message order (ids grow, so this is an append but for replays) */
	struct ob_entry **pp = &h->ob_head;
	while (*pp && (*pp)->msg_id < msg_id)
		pp = &(*pp)->next;
	e->next = *pp;
	*pp = e;
	h->ob_depth++;
}

int
hub_queue_send(struct hub *h, int64_t msg_id, const char *phone, char **cause)
{
	if (store_outbox_add(h->st, msg_id, phone, cause) < 0)
		return -1;
	struct hub_tx *t = &h->cur;
	if (t->nnewq == t->cnewq) {
		t->cnewq = t->cnewq ? 2 * t->cnewq : 16;
		t->newq = xrealloc(t->newq, t->cnewq * sizeof *t->newq);
	}
	t->newq[t->nnewq++] = (struct hub_newq){ msg_id, xstrdup(phone) };
	return 0;
}

static struct ob_entry *
ob_find(struct hub *h, int64_t msg_id, struct ob_entry ***prev)
{
	struct ob_entry **pp = &h->ob_head;
	while (*pp && (*pp)->msg_id != msg_id)
		pp = &(*pp)->next;
	if (prev)
		*prev = pp;
	return *pp;
}

static void
ob_remove(struct hub *h, int64_t msg_id)
{
	struct ob_entry **pp, *e = ob_find(h, msg_id, &pp);
	if (e == NULL)
		return;
	*pp = e->next;
	e->phone->inflight = 0;
	free(e);
	h->ob_depth--;
}

/* Walks the outbox calling fn on each contact's oldest entry. */
static struct ob_entry *
ob_heads(struct hub *h, int64_t now_ms, int64_t *wait)
{
	h->ob_scan++;
	*wait = -1;
	for (struct ob_entry *e = h->ob_head; e; e = e->next) {
		if (e->phone->visit == h->ob_scan)
			continue;            /* an older message of this contact comes first */
		e->phone->visit = h->ob_scan;
		if (e->phone->inflight)
			continue;
		if (e->next_try <= now_ms) {
			*wait = 0;
			return e;
		}
		int64_t w = e->next_try - now_ms;
		if (*wait < 0 || w < *wait)
			*wait = w;
	}
	return NULL;
}

int64_t
hub_outbox_wait(struct hub *h, int64_t now_ms)
{
	int64_t wait;
	ob_heads(h, now_ms, &wait);
	return wait;
}

static void
fail_message(struct hub *h, int64_t msg_id, const char *reason)
{
	char *cause = NULL;
	struct store_message m = {0};
	if (hub_begin(h, &cause) < 0)
		goto err;
	if (store_message_get(h->st, msg_id, &m, &cause) < 0 ||
	    store_outbox_done(h->st, msg_id, &cause) < 0) {
		hub_abort(h);
		goto err;
	}
	int changed = m.phone ? store_message_set_state(h->st, msg_id, ST_FAILED, reason, &cause) : 0;
	if (changed < 0) {
		hub_abort(h);
		goto err;
	}
	if (changed > 0) {
		struct proto_msg ev = {0};
		char idbuf[24];
		snprintf(idbuf, sizeof idbuf, "%lld", (long long)msg_id);
		ev.kind = PROTO_EV_MESSAGE_STATE;
		ev.message_id = idbuf;
		ev.phone = m.phone;
		ev.state = "failed";
		ev.reason = reason;
		if (hub_emit(h, &ev, &cause) < 0) {
			hub_abort(h);
			goto err;
		}
	}
	if (hub_commit(h, &cause) < 0)
		goto err;
	ob_remove(h, msg_id);
	h->m.sends_failed++;
	log_info("message %lld failed: %s", (long long)msg_id, reason);
	store_message_release(&m);
	return;
err:
	log_warn("cannot mark message %lld failed: %s", (long long)msg_id, cause);
	free(cause);
	store_message_release(&m);
}

int
hub_outbox_next(struct hub *h, int64_t now_ms, struct hub_send *s)
{
	for (;;) {
		int64_t wait;
		struct ob_entry *e = ob_heads(h, now_ms, &wait);
		if (e == NULL)
			return 0;
		struct store_message m;
		char *cause = NULL;
		int rc = store_message_get(h->st, e->msg_id, &m, &cause);
		if (rc <= 0) {
			log_warn("outbox: message %lld: %s", (long long)e->msg_id,
			         cause ? cause : "not found");
			free(cause);
			if (rc == 0) {
				char *c2 = NULL;
				if (store_outbox_done(h->st, e->msg_id, &c2) < 0) {
					log_warn("%s", c2);
					free(c2);
				}
				ob_remove(h, e->msg_id);
				continue;
			}
			return 0;
		}
		struct gupshup_send gs = {0};
		char *public_url = NULL;
		gs.source = h->cfg->source;
		gs.destination = m.phone;
		gs.app = h->cfg->app;
		gs.text = m.text;
		gs.type = GUPSHUP_TEXT;
		if (m.template_id != NULL) {
			gs.is_template = 1;
			gs.template_id = m.template_id;
			gs.params = m.params;
			gs.nparams = m.nparams;
		} else if (m.media_mime != NULL) {
			const struct media_type *mt = media_lookup(m.media_mime);
			if (mt != NULL)
				gupshup_msg_type_parse(media_gupshup_type(mt->category), &gs.type);
			gs.filename = m.media_filename;
			gs.text = m.text && m.text[0] ? m.text : NULL;
			if (m.media_sha256 != NULL)
				public_url = hub_public_media_url(h, m.media_sha256, m.media_filename);
			gs.url = public_url ? public_url : m.media_url;
		}
		char *form = gupshup_send_form(&gs, &cause);
		free(public_url);
		if (form == NULL) {
			int64_t id = e->msg_id;
			store_message_release(&m);
			fail_message(h, id, cause);
			free(cause);
			continue;
		}
		s->msg_id = e->msg_id;
		s->path = (char *)gupshup_send_path(&gs);
		s->form = form;
		e->phone->inflight = 1;
		e->inflight = 1;
		store_message_release(&m);
		return 1;
	}
}

void
hub_send_release(struct hub_send *s)
{
	if (s == NULL)
		return;
	free(s->form);
	memset(s, 0, sizeof *s);
}

static int
apply_pending_states(struct hub *h, int64_t msg_id, const char *phone, const char *gs_id,
                     char **cause)
{
	struct store_pending *p = NULL;
	int n = store_pending_state_take(h->st, gs_id, &p, cause);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		int changed = store_message_set_state(h->st, msg_id, p[i].state, p[i].reason, cause);
		if (changed < 0) {
			rc = -1;
			break;
		}
		if (changed > 0)
			rc = hub_emit_state(h, msg_id, phone, p[i].state, p[i].reason, cause);
	}
	for (int i = 0; i < n; i++)
		free(p[i].reason);
	free(p);
	return n < 0 ? -1 : rc;
}

int
hub_emit_state(struct hub *h, int64_t msg_id, const char *phone, int state, const char *reason,
               char **cause)
{
	struct proto_msg ev = {0};
	char idbuf[24];
	snprintf(idbuf, sizeof idbuf, "%lld", (long long)msg_id);
	ev.kind = PROTO_EV_MESSAGE_STATE;
	ev.message_id = idbuf;
	ev.phone = phone;
	ev.state = store_state_name(state);
	ev.reason = reason && reason[0] && state == ST_FAILED ? reason : NULL;
	return hub_emit(h, &ev, cause);
}

void
hub_outbox_result(struct hub *h, int64_t msg_id, enum hub_send_result r, const char *provider_id,
                  const char *reason, int64_t now_ms)
{
	struct ob_entry *e = ob_find(h, msg_id, NULL);
	char *cause = NULL;

	if (e == NULL)
		return;
	e->inflight = 0;
	e->phone->inflight = 0;
	if (r == HUB_SEND_FAILED) {
		fail_message(h, msg_id, reason ? reason : "refused by the provider");
		return;
	}
	if (r == HUB_SEND_RETRY) {
		/* Exponential backoff with jitter: base * 2^attempts, capped, then
		 * a uniform factor in [0.5, 1.5) so retries of many messages spread. */
		e->attempts++;
		int64_t d = h->cfg->backoff_min_ms;
		for (int i = 1; i < e->attempts && d < h->cfg->backoff_max_ms; i++)
			d *= 2;
		if (d > h->cfg->backoff_max_ms)
			d = h->cfg->backoff_max_ms;
		uint32_t rnd = 0;
		random_bytes(&rnd, sizeof rnd);
		d = d / 2 + (int64_t)(rnd % (uint32_t)(d > 0 ? d : 1));
		e->next_try = now_ms + d;
		if (store_outbox_retry(h->st, msg_id, e->attempts, e->next_try, &cause) < 0) {
			log_warn("%s", cause);
			free(cause);
		}
		h->m.sends_retried++;
		log_verbose("message %lld: retry %d in %lld ms (%s)", (long long)msg_id, e->attempts,
		            (long long)d, reason ? reason : "");
		return;
	}
	/* Submitted. */
	struct store_message m = {0};
	if (hub_begin(h, &cause) < 0)
		goto err;
	if (store_message_get(h->st, msg_id, &m, &cause) < 0 ||
	    store_message_set_ids(h->st, msg_id, provider_id, NULL, &cause) < 0 ||
	    store_outbox_done(h->st, msg_id, &cause) < 0)
		goto abort;
	int changed = store_message_set_state(h->st, msg_id, ST_SUBMITTED, NULL, &cause);
	if (changed < 0)
		goto abort;
	if (changed > 0 && hub_emit_state(h, msg_id, m.phone, ST_SUBMITTED, NULL, &cause) < 0)
		goto abort;
	if (provider_id != NULL && apply_pending_states(h, msg_id, m.phone, provider_id, &cause) < 0)
		goto abort;
	if (hub_commit(h, &cause) < 0)
		goto err;
	ob_remove(h, msg_id);
	h->m.sends_ok++;
	store_message_release(&m);
	return;
abort:
	hub_abort(h);
err:
	/* Not recorded: it will be sent again (at-least-once towards the
	 * provider only when the database itself fails). */
	log_warn("cannot record the send of message %lld: %s", (long long)msg_id, cause);
	free(cause);
	store_message_release(&m);
}

/* ---- open / init ---------------------------------------------------------------------------- */

static void
rebuild_limit(void *arg, const struct store_message *m)
{
	struct hub *h = arg;
	if (!m->out)
		limits_inbound(h->lim, m->phone, m->time);
	else if (!m->automated && m->agent && m->agent[0]) {
		limits_record(h->lim, m->agent, m->phone, m->time);
		hub_agent_seen(h, m->agent);
	}
}

void
hub_agent_seen(struct hub *h, const char *agent)
{
	for (size_t i = 0; i < h->nagents; i++)
		if (strcmp(h->agents[i], agent) == 0)
			return;
	h->agents = xrealloc(h->agents, (h->nagents + 1) * sizeof *h->agents);
	h->agents[h->nagents++] = xstrdup(agent);
}

static char *
db_path(const char *dir)
{
	return xasprintf("%s/wadesk.db", dir);
}

int
hub_init_db(const char *dir, const struct config *cfg, char **cause)
{
	struct store *st;
	struct store_options o = { strcmp(cfg->sync, "normal") != 0, 0 };
	char *path = db_path(dir);
	int rc = store_open(path, 1, &o, &st, cause);
	free(path);
	if (rc < 0)
		return -1;
	unsigned char idb[8];
	char id[17];
	if (random_bytes(idb, sizeof idb) < 0) {
		*cause = xstrdup("cannot read random bytes (getrandom)");
		store_close(st);
		return -1;
	}
	hex_encode(idb, sizeof idb, id);
	rc = store_begin(st, cause);
	if (rc == 0)
		rc = store_meta_set(st, "hub_id", id, cause);
	for (size_t i = 0; rc == 0 && i < hub_nsetting_defs; i++)
		rc = store_setting_put(st, hub_setting_defs[i].key, hub_setting_defs[i].dflt, cause);
	if (rc == 0)
		rc = store_commit(st, cause);
	else
		store_rollback(st);
	store_close(st);
	return rc;
}

int
hub_open(const char *dir, const struct config *cfg, const struct hub_io *io, struct hub **out,
         char **cause)
{
	struct hub *h = xcalloc(1, sizeof *h);
	struct store_options o = { strcmp(cfg->sync, "normal") != 0, 0 };
	char *path = db_path(dir);

	*out = NULL;
	h->cfg = cfg;
	h->dir = xstrdup(dir);
	if (io != NULL)
		h->io = *io;
	int rc = store_open(path, 0, &o, &h->st, cause);
	free(path);
	if (rc < 0)
		goto fail;
	if (store_meta_get(h->st, "hub_id", &h->hub_id, cause) <= 0) {
		if (*cause == NULL)
			*cause = xasprintf("database in '%s' has no hub id (not made by wadeskd init)", dir);
		goto fail;
	}
	h->head = h->released = store_event_head(h->st);
	/* With a way to wake the caller's loop, webhook batches are synced by
	 * a worker thread (walsync.h) while the next batch is applied; else
	 * every commit waits for its sync.  sync = normal syncs nothing at
	 * commit, but a checkpoint (thousands of pages copied, the database
	 * synced) does not belong in the loop either: the checkpoint thread
	 * runs in both modes. */
	int sync = store_deferred(h->st);
	if (h->io.wake != NULL &&
	    (h->ws = walsync_start(h->st, sync, h->io.wake, h->io.arg, cause)) == NULL)
		goto fail;
	h->generation = store_meta_int(h->st, "access_generation", 0);
	h->brb = store_meta_int(h->st, "brb", 0) != 0;
	if (hub_load_settings(h, cause) < 0 || hub_load_templates(h, cause) < 0)
		goto fail;
	h->lim = limits_new();
	if (store_messages_since(h->st, hub_now(h) - LIMIT_AGENT_WINDOW, rebuild_limit, h, cause) < 0)
		goto fail;
	struct store_outbox *ob;
	int n = store_outbox_all(h->st, &ob, cause);
	if (n < 0)
		goto fail;
	for (int i = 0; i < n; i++)
		hub_outbox_push(h, ob[i].msg_id, ob[i].phone, ob[i].attempts, 0);
	store_outbox_free(ob, n);
	if (hub_fetch_load(h, cause) < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	hub_free(h);
	return -1;
}

void
hub_free(struct hub *h)
{
	if (h == NULL)
		return;
	walsync_stop(h->ws);
	for (size_t i = 0; i < h->nheld; i++)
		tx_free(&h->held[i]);
	free(h->held);
	tx_free(&h->cur);
	hub_fetch_free_all(h);
	free(h->failed);
	store_close(h->st);
	limits_free(h->lim);
	store_kv_free(h->settings, h->nsettings);
	free(h->psettings);
	store_kv_free(h->tpl, h->ntpl);
	free(h->tdefs);
	free(h->ptpl);
	while (h->ob_head) {
		struct ob_entry *e = h->ob_head;
		h->ob_head = e->next;
		free(e);
	}
	for (size_t b = 0; b < HUB_PHONE_BUCKETS; b++)
		while (h->phones[b]) {
			struct ob_phone *p = h->phones[b];
			h->phones[b] = p->next;
			free(p->phone);
			free(p);
		}
	for (size_t i = 0; i < h->ntyping; i++)
		free(h->typing[i].phone);
	free(h->typing);
	for (size_t i = 0; i < h->nagents; i++)
		free(h->agents[i]);
	free(h->agents);
	free(h->hub_id);
	free(h->dir);
	free(h);
}

int
hub_replay(struct hub *h, int64_t after, int limit, struct store_event **out)
{
	char *cause = NULL;
	int n = store_events_after(h->st, after, limit, out, &cause);
	if (n < 0) {
		log_warn("%s", cause);
		free(cause);
	}
	/* Committed but not yet on disk: not for consoles (a crash could
	 * take them back, and their numbers would be given again). */
	int keep = n;
	while (keep > 0 && (*out)[keep - 1].n > h->released)
		free((*out)[--keep].frame);
	return keep;
}

/* ---- periodic --------------------------------------------------------------------------------- */

void
hub_tick(struct hub *h)
{
	int64_t now = hub_now(h);
	char *cause = NULL;

	/* An access rotation committed by `wadeskd access rotate` (or by the
	 * admin command) shows up as a new generation. */
	int64_t gen = store_meta_int(h->st, "access_generation", h->generation);
	if (gen != h->generation) {
		h->generation = gen;
		struct proto_msg ev = {0};
		ev.kind = PROTO_EV_ACCESS_ROTATED;
		ev.generation = gen;
		if (hub_begin(h, &cause) == 0 && hub_emit(h, &ev, &cause) == 0 &&
		    hub_commit(h, &cause) == 0) {
			log_info("access rotated to generation %lld", (long long)gen);
		} else {
			hub_abort(h);
			log_warn("cannot record the access rotation: %s", cause);
			free(cause);
			cause = NULL;
		}
		if (h->io.rotated != NULL)
			h->io.rotated(h->io.arg, gen);
	}

	/* Typing lapses after CHAT_TYPING_LAPSE seconds without a new typing. */
	for (size_t i = 0; i < h->ntyping;) {
		if (h->typing[i].until > now) {
			i++;
			continue;
		}
		char *phone = h->typing[i].phone;
		h->typing[i] = h->typing[--h->ntyping];
		struct store_contact c;
		int created;
		if (hub_begin(h, &cause) < 0)
			goto fail;
		if (hub_contact(h, phone, &c, &created, &cause) < 0) {
			hub_abort(h);
			goto fail;
		}
		if (!created && c.status == CHAT_RESPONDING) {
			hub_contact_event(&c, CHAT_EV_TYPING_LAPSED);
			if (store_contact_put(h->st, &c, &cause) < 0 || hub_emit_status(h, &c, &cause) < 0) {
				store_contact_release(&c);
				hub_abort(h);
				goto fail;
			}
		}
		store_contact_release(&c);
		if (hub_commit(h, &cause) < 0)
			goto fail;
		free(phone);
		continue;
fail:
		log_warn("cannot lapse typing on %s: %s", phone, cause);
		free(cause);
		cause = NULL;
		free(phone);
	}
}

void
hub_typing(struct hub *h, const char *phone, int64_t until)
{
	for (size_t i = 0; i < h->ntyping; i++)
		if (strcmp(h->typing[i].phone, phone) == 0) {
			h->typing[i].until = until;
			return;
		}
	h->typing = xrealloc(h->typing, (h->ntyping + 1) * sizeof *h->typing);
	h->typing[h->ntyping++] = (struct hub_typing){ xstrdup(phone), until };
}

void
hub_typing_clear(struct hub *h, const char *phone)
{
	for (size_t i = 0; i < h->ntyping; i++)
		if (strcmp(h->typing[i].phone, phone) == 0) {
			free(h->typing[i].phone);
			h->typing[i] = h->typing[--h->ntyping];
			return;
		}
}
