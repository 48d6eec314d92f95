/*
 * hub_cmd.c — desk sessions: hello, and every command as one table row.
 *
 * hub_command() checks the role the protocol table gives the command
 * (proto_type_role), runs the handler inside a transaction (unless the
 * row says it manages its own), commits, and returns the ack the handler
 * filled — or an error frame with the handler's stable code.  Handlers
 * never send anything themselves: their events go out with the commit.
 *
 * A handler gets a struct cmd with the request, the ack being built, and a
 * scratch area whose contents are freed after the ack is encoded, so ack
 * fields can point at store rows without copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "access.h"
#include "decide.h"
#include "hours.h"
#include "hub_int.h"
#include "media.h"
#include "sanitize.h"
#include "util.h"

#define TEXT_MAX   4096
#define NAME_MAX_B 64
#define TAG_MAX    32

struct cmd {
	struct hub         *h;
	struct hub_session *s;
	const struct proto_msg *req;
	struct proto_msg    ack;
	const char         *code;      /* error: stable code */
	char               *why;       /* error: sentence (xmalloc'd) */
	int64_t             count, allowed_at;
	/* scratch, freed after encoding */
	struct store_kv      *kv; int nkv;
	struct store_message *msgs; int nmsgs;
	struct proto_message *pmsgs;
	char                (*idbufs)[24];
	struct proto_canned  *pcanned;
	struct proto_counter *pcounters;
	struct access_links   links;
	char                 *strs[4];
};

static int
refuse(struct cmd *c, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
refuse(struct cmd *c, const char *code, const char *fmt, ...)
{
	c->code = code;
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		c->why = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
internal(struct cmd *c, char *cause)
{
	log_warn("command %s failed: %s", proto_type_name(c->req->type), cause);
	c->code = "internal";
	c->why = cause;
	return -1;
}

static int
need_phone(struct cmd *c)
{
	if (!hub_phone_valid(c->req->phone))
		return refuse(c, "bad_request", "'%.20s' is not a phone number in E.164 digits",
		              c->req->phone ? c->req->phone : "");
	return 0;
}

/* Loads the contact a command names; not_found when the hub never saw it. */
static int
need_contact(struct cmd *c, struct store_contact *ct)
{
	char *cause = NULL;
	if (need_phone(c) < 0)
		return -1;
	int rc = store_contact_get(c->h->st, c->req->phone, ct, &cause);
	if (rc < 0)
		return internal(c, cause);
	if (rc == 0)
		return refuse(c, "not_found", "no contact %s", c->req->phone);
	return 0;
}

/* ---- send ------------------------------------------------------------------------- */

static void
ack_send(struct cmd *c, const struct store_message *m)
{
	c->idbufs = xcalloc(1, sizeof *c->idbufs);
	snprintf(c->idbufs[0], 24, "%lld", (long long)m->id);
	c->ack.message_id = c->idbufs[0];
	c->strs[0] = xstrdup(store_state_name(m->state));
	c->ack.state = c->strs[0];
	c->ack.route = m->template_id ? "template" : "session";
	c->strs[1] = xstrdup(m->template_id);
	c->ack.template_id = c->strs[1];
}

static int
cmd_send(struct cmd *c)
{
	struct hub *h = c->h;
	const struct proto_msg *r = c->req;
	struct store_contact ct = {0};
	struct store_message m = {0};
	struct send_decision d = {0};
	struct hub_media_send ms = {0};
	char *cause = NULL, *text = NULL;
	int created, rc = -1;
	int64_t now = hub_now(h), id;

	if (need_phone(c) < 0)
		return -1;
	/* A repeated id is answered like the first time and not sent again. */
	int found = store_message_by_cid(h->st, c->s->agent, r->id, &m, &cause);
	if (found < 0)
		return internal(c, cause);
	if (found == 1) {
		ack_send(c, &m);
		store_message_release(&m);
		return 0;
	}
	if (r->media.mime == NULL && (r->text == NULL || r->text[0] == '\0'))
		return refuse(c, "bad_request", "nothing to send: text is empty");
	if (r->text != NULL && strlen(r->text) > TEXT_MAX)
		return refuse(c, "bad_request", "text is longer than %d bytes", TEXT_MAX);
	if (hub_contact(h, r->phone, &ct, &created, &cause) < 0)
		return internal(c, cause);

	if (r->media.mime != NULL) {
		/* The hub's stored, sniffed type is the truth, not the console's. */
		const char *mcode = NULL;
		char *mwhy = NULL;
		if (hub_media_for_send(h, &r->media, &ms, &mcode, &mwhy) < 0) {
			c->code = mcode;
			c->why = mwhy;
			goto out;
		}
		const char *caption = r->media.caption ? r->media.caption : r->text;
		if (caption != NULL && strlen(caption) > TEXT_MAX) {
			refuse(c, "bad_request", "caption is longer than %d bytes", TEXT_MAX);
			goto out;
		}
		text = text_sanitize(caption ? caption : "", caption ? strlen(caption) : 0);
	} else {
		text = text_sanitize(r->text ? r->text : "", r->text ? strlen(r->text) : 0);
	}
	struct send_input in = {0};
	in.template_messaging = hub_setting_bool(h, "template_messaging");
	in.last_inbound = ct.last_inbound;
	in.opted_in = ct.opted_in;
	in.kind = r->media.mime ? SEND_MEDIA : SEND_TEXT;
	in.text = text;
	in.mime = ms.mime;
	in.sandbox = h->cfg->sandbox;
	in.balance = -1;
	in.now = now;
	in.templates = h->tdefs;
	in.ntemplates = (size_t)h->ntpl;
	decide_send(&in, &d);
	if (d.result == SEND_REFUSED) {
		refuse(c, d.code, "%s", d.reason);
		goto out;
	}
	const struct media_type *mt = ms.mime ? media_lookup(ms.mime) : NULL;
	if (ms.mime != NULL && (mt == NULL || ms.size > media_cap(mt->category))) {
		/* decide_send() checked the type; inbound-only kinds and sizes here */
		refuse(c, mt ? "media.size" : "media.type", "%s",
		       mt ? "the file is larger than WhatsApp allows for its kind"
		          : "this file type cannot be sent on WhatsApp");
		goto out;
	}
	struct limit_verdict v;
	if (limits_check(h->lim, c->s->agent, ct.phone, now, &v) < 0) {
		c->count = v.count;
		c->allowed_at = v.allowed_at;
		c->code = v.code;
		c->why = limits_describe(&v, ct.phone);
		goto out;
	}

	m.phone = ct.phone;
	m.out = 1;
	m.type = (char *)(d.result == SEND_TEMPLATE ? "template" : "text");
	char murl[16 + 65];
	if (mt != NULL) {
		snprintf(murl, sizeof murl, "/v1/media/%s", ms.sha256);
		m.type = (char *)media_gupshup_type(mt->category);
		m.media_mime = ms.mime;
		m.media_url = murl;
		m.media_filename = ms.filename;
		m.media_sha256 = ms.sha256;
		m.media_size = ms.size;
		m.media_state = (char *)"ready";
	}
	m.text = text;
	m.state = ST_QUEUED;
	m.agent = c->s->agent;
	m.time = now;
	m.cid = (char *)r->id;
	if (d.result == SEND_TEMPLATE) {
		m.template_id = (char *)h->tdefs[d.template_index].id;
		m.params = d.params;
		m.nparams = d.nparams;
	}
	if (store_message_insert(h->st, &m, &id, &cause) < 0 ||
	    hub_queue_send(h, id, ct.phone, &cause) < 0) {
		internal(c, cause);
		memset(&m, 0, sizeof m);
		goto out;
	}
	m.id = id;
	hub_typing_clear(h, ct.phone);
	hub_contact_event(&ct, CHAT_EV_AGENT_MESSAGE);
	free(ct.agent);
	ct.agent = xstrdup(c->s->agent);
	if (store_contact_put(h->st, &ct, &cause) < 0 ||
	    (created && hub_emit_contact(h, &ct, &cause) < 0) ||
	    hub_emit_message_id(h, id, &cause) < 0 || hub_emit_status(h, &ct, &cause) < 0) {
		internal(c, cause);
		memset(&m, 0, sizeof m);
		goto out;
	}
	/* Counted only now; a rollback after this point would over-count by
	 * one until the next restart, which errs on the safe side. */
	limits_record(h->lim, c->s->agent, ct.phone, now);
	hub_agent_seen(h, c->s->agent);
	ack_send(c, &m);
	memset(&m, 0, sizeof m);
	rc = 0;
out:
	decision_release(&d);
	store_contact_release(&ct);
	hub_media_send_release(&ms);
	free(text);
	return rc;
}

/* ---- chat commands --------------------------------------------------------------------- */

static int
cmd_typing(struct cmd *c)
{
	struct store_contact ct;
	char *cause = NULL;
	if (need_contact(c, &ct) < 0)
		return -1;
	struct proto_msg ev = {0};
	ev.kind = PROTO_EV_TYPING;
	ev.phone = ct.phone;
	ev.agent = c->s->agent;
	int was = ct.status;
	hub_contact_event(&ct, CHAT_EV_TYPING);
	free(ct.agent);
	ct.agent = xstrdup(c->s->agent);
	int rc = store_contact_put(c->h->st, &ct, &cause);
	if (rc == 0)
		rc = hub_emit(c->h, &ev, &cause);
	if (rc == 0 && (was != ct.status || ct.status == CHAT_RESPONDING))
		rc = hub_emit_status(c->h, &ct, &cause);
	if (rc == 0)
		hub_typing(c->h, ct.phone, hub_now(c->h) + CHAT_TYPING_LAPSE);
	store_contact_release(&ct);
	return rc < 0 ? internal(c, cause) : 0;
}

static int
tag_valid(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n == 0 || n > TAG_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= ' ' || t[i] == 0x7f || t[i] == ',')
			return 0;
	return 1;
}

static int
cmd_tag(struct cmd *c)
{
	struct store_contact ct;
	char *cause = NULL;
	if (!tag_valid(c->req->tag))
		return refuse(c, "bad_request", "a tag is 1 to %d bytes without spaces or commas", TAG_MAX);
	if (need_contact(c, &ct) < 0)
		return -1;
	int rc = c->req->type == PROTO_TAG ? store_tag_add(c->h->st, ct.phone, c->req->tag, &cause)
	                                   : store_tag_rm(c->h->st, ct.phone, c->req->tag, &cause);
	if (rc > 0) {
		store_contact_release(&ct);
		rc = store_contact_get(c->h->st, c->req->phone, &ct, &cause) < 0 ? -1 : 0;
		if (rc == 0)
			rc = hub_emit_contact(c->h, &ct, &cause);
	}
	store_contact_release(&ct);
	return rc < 0 ? internal(c, cause) : 0;
}

static int
set_contact_text(struct cmd *c, int which)
{
	struct store_contact ct;
	char *cause = NULL;
	const char *v = which ? c->req->name : c->req->text;
	size_t max = which ? NAME_MAX_B : TEXT_MAX;
	if (strlen(v) > max)
		return refuse(c, "bad_request", "longer than %zu bytes", max);
	if (need_contact(c, &ct) < 0)
		return -1;
	char **field = which ? &ct.name : &ct.note;
	free(*field);
	*field = which ? text_sanitize_line(v, strlen(v)) : text_sanitize(v, strlen(v));
	int rc = store_contact_put(c->h->st, &ct, &cause);
	if (rc == 0)
		rc = hub_emit_contact(c->h, &ct, &cause);
	store_contact_release(&ct);
	return rc < 0 ? internal(c, cause) : 0;
}

static int cmd_note(struct cmd *c) { return set_contact_text(c, 0); }
static int cmd_name(struct cmd *c) { return set_contact_text(c, 1); }

static int
cmd_read(struct cmd *c)
{
	/* The agent read the chat.  Gupshup's v1 send API has no read-receipt
	 * call, so the hub records nothing the provider could use yet; the
	 * command exists so consoles send it at the right moment (DESIGN §7)
	 * and a provider adapter with receipts can act on it. */
	struct store_contact ct;
	if (need_contact(c, &ct) < 0)
		return -1;
	store_contact_release(&ct);
	return 0;
}

/* ---- canned, brb ----------------------------------------------------------------------------- */

static int
cmd_canned_list(struct cmd *c)
{
	char *cause = NULL;
	c->nkv = store_canned_all(c->h->st, &c->kv, &cause);
	if (c->nkv < 0) {
		c->nkv = 0;
		return internal(c, cause);
	}
	c->pcanned = xcalloc((size_t)c->nkv + 1, sizeof *c->pcanned);
	for (int i = 0; i < c->nkv; i++)
		c->pcanned[i] = (struct proto_canned){ c->kv[i].key, c->kv[i].value };
	c->ack.canned = c->pcanned;
	c->ack.ncanned = (size_t)c->nkv;
	return 0;
}

static int
cmd_canned_edit(struct cmd *c)
{
	char *cause = NULL;
	const char *name = c->req->name;
	if (name[0] == '\0' || strlen(name) > NAME_MAX_B)
		return refuse(c, "bad_request", "a canned reply's name is 1 to %d bytes", NAME_MAX_B);
	struct proto_msg ev = {0};
	ev.kind = PROTO_EV_CANNED;
	ev.name = name;
	int rc;
	char *text = NULL;
	if (c->req->type == PROTO_CANNED_ADD) {
		if (c->req->text[0] == '\0' || strlen(c->req->text) > TEXT_MAX)
			return refuse(c, "bad_request", "a canned reply is 1 to %d bytes", TEXT_MAX);
		text = text_sanitize(c->req->text, strlen(c->req->text));
		rc = store_canned_put(c->h->st, name, text, &cause);
		ev.text = text;
	} else {
		rc = store_canned_rm(c->h->st, name, &cause);
		if (rc == 0)
			return refuse(c, "not_found", "no canned reply named '%s'", name);
		ev.removed = 1;
	}
	if (rc >= 0)
		rc = hub_emit(c->h, &ev, &cause);
	free(text);
	return rc < 0 ? internal(c, cause) : 0;
}

static int
cmd_brb(struct cmd *c)
{
	char *cause = NULL;
	int on = c->req->type == PROTO_BRB_ON;
	struct proto_msg ev = {0};
	ev.kind = PROTO_EV_BRB;
	ev.brb = on;
	ev.agent = c->s->agent;
	if (store_meta_set_int(c->h->st, "brb", on, &cause) < 0 || hub_emit(c->h, &ev, &cause) < 0)
		return internal(c, cause);
	c->h->brb = on;   /* rolled back below if the commit fails */
	return 0;
}

/* ---- settings, templates -------------------------------------------------------------------- */

static int
setting_check(struct cmd *c, const struct proto_setting *s)
{
	const struct hub_setting_def *d = hub_setting_def(s->key);
	const char *why;
	if (d == NULL && strcmp(s->key, "sandbox") == 0)
		return refuse(c, "bad_request", "setting 'sandbox' is read-only: it is [provider] sandbox "
		              "in wadesk.conf");
	if (d == NULL)
		return refuse(c, "bad_request", "unknown setting '%.64s'", s->key);
	if (d->kind != s->kind)
		return refuse(c, "bad_request", "setting '%s' must be %s", s->key,
		              d->kind == PROTO_V_BOOL ? "a boolean" :
		              d->kind == PROTO_V_INT ? "an integer" : "a string");
	if (d->kind == PROTO_V_INT && strtoll(s->value, NULL, 10) < 0)
		return refuse(c, "bad_request", "setting '%s' must not be negative", s->key);
	if (strlen(s->value) > TEXT_MAX)
		return refuse(c, "bad_request", "setting '%s' is too long", s->key);
	if (strcmp(s->key, "business_hours") == 0 && hours_valid(s->value, &why) < 0)
		return refuse(c, "bad_request", "business_hours: %s", why);
	if (strcmp(s->key, "timezone") == 0 && strcmp(s->value, "UTC") != 0) {
		struct stat sb;
		char *path = xasprintf("/usr/share/zoneinfo/%s", s->value);
		int ok = strstr(s->value, "..") == NULL && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
		free(path);
		if (!ok)
			return refuse(c, "bad_request", "unknown time zone '%.64s'", s->value);
	}
	return 0;
}

static void
ack_settings(struct cmd *c)
{
	c->ack.nsettings = hub_public_settings(c->h, &c->ack.settings);
}

static int
cmd_settings_get(struct cmd *c)
{
	ack_settings(c);
	return 0;
}

static int
cmd_settings_set(struct cmd *c)
{
	char *cause = NULL;
	const struct proto_msg *r = c->req;
	for (size_t i = 0; i < r->nsettings; i++)
		if (setting_check(c, &r->settings[i]) < 0)
			return -1;
	for (size_t i = 0; i < r->nsettings; i++) {
		char *v = text_sanitize(r->settings[i].value, strlen(r->settings[i].value));
		int rc = store_setting_put(c->h->st, r->settings[i].key, v, &cause);
		free(v);
		if (rc < 0)
			return internal(c, cause);
	}
	if (hub_load_settings(c->h, &cause) < 0)
		return internal(c, cause);
	struct proto_msg ev = {0};
	ev.kind = PROTO_EV_SETTINGS;
	ev.nsettings = hub_public_settings(c->h, &ev.settings);
	if (hub_emit(c->h, &ev, &cause) < 0)
		return internal(c, cause);
	ack_settings(c);
	return 0;
}

static void
ack_templates(struct cmd *c)
{
	c->ack.templates = c->h->ptpl;
	c->ack.ntemplates = (size_t)c->h->ntpl;
}

static int
cmd_templates_list(struct cmd *c)
{
	ack_templates(c);
	return 0;
}

static int
cmd_templates_edit(struct cmd *c)
{
	char *cause = NULL;
	const struct proto_msg *r = c->req;
	int rc;
	if (r->template_id[0] == '\0' || strlen(r->template_id) > 128)
		return refuse(c, "bad_request", "a template id is 1 to 128 bytes");
	if (r->type == PROTO_TEMPLATES_ADD) {
		if (r->body[0] == '\0' || strlen(r->body) > TEXT_MAX || strlen(r->name) > NAME_MAX_B)
			return refuse(c, "bad_request", "a template needs a name and a body");
		rc = store_template_put(c->h->st, r->template_id, r->name, r->body, &cause);
	} else {
		rc = store_template_rm(c->h->st, r->template_id, &cause);
		if (rc == 0)
			return refuse(c, "not_found", "no template '%s'", r->template_id);
	}
	if (rc < 0 || hub_load_templates(c->h, &cause) < 0)
		return internal(c, cause);
	struct proto_msg ev = {0};
	ev.kind = PROTO_EV_TEMPLATES;
	ev.templates = c->h->ptpl;
	ev.ntemplates = (size_t)c->h->ntpl;
	if (hub_emit(c->h, &ev, &cause) < 0)
		return internal(c, cause);
	ack_templates(c);
	return 0;
}

/* ---- access, history, counters ----------------------------------------------------------------- */

static int
cmd_access_rotate(struct cmd *c)
{
	char *cause = NULL;
	int64_t gen;
	if (access_rotate(c->h->dir, c->h->st, &gen, &cause) < 0)
		return internal(c, cause);
	if (access_links(c->h->dir, c->h->cfg, &c->links, &cause) < 0)
		return internal(c, cause);
	log_info("access rotated by admin '%s'", c->s->agent);
	c->ack.links = (struct proto_links){ c->links.agent, c->links.supervisor, c->links.admin,
	                                     c->links.webhook };
	c->ack.generation = gen;
	/* hub_tick() sees the new generation, emits access.rotated and closes
	 * every older session (this one included) after this ack went out. */
	return 0;
}

static int
cmd_history(struct cmd *c)
{
	char *cause = NULL;
	int64_t before = 0;
	int limit = c->req->limit > 0 ? (int)c->req->limit : PROTO_HISTORY_DEFAULT, more = 0;
	if (need_phone(c) < 0)
		return -1;
	if (limit > PROTO_HISTORY_MAX)
		limit = PROTO_HISTORY_MAX;
	if (c->req->before != NULL && c->req->before[0] != '\0') {
		char *end;
		before = strtoll(c->req->before, &end, 10);
		if (*end != '\0' || before <= 0)
			return refuse(c, "bad_request", "before must be a message id");
	}
	c->nmsgs = store_history(c->h->st, c->req->phone, before, limit, &c->msgs, &more, &cause);
	if (c->nmsgs < 0) {
		c->nmsgs = 0;
		return internal(c, cause);
	}
	c->pmsgs = xcalloc((size_t)c->nmsgs + 1, sizeof *c->pmsgs);
	c->idbufs = xcalloc((size_t)c->nmsgs + 1, sizeof *c->idbufs);
	for (int i = 0; i < c->nmsgs; i++)
		hub_proto_message(&c->msgs[i], &c->pmsgs[i], c->idbufs[i]);
	c->ack.messages = c->pmsgs;
	c->ack.nmessages = (size_t)c->nmsgs;
	c->ack.more = more;
	return 0;
}

static int
cmd_counters(struct cmd *c)
{
	char *cause = NULL;
	int64_t now = hub_now(c->h);
	struct store_kv *day = NULL;
	c->nkv = store_agent_counts(c->h->st, now - LIMIT_AGENT_WINDOW, &c->kv, &cause);
	if (c->nkv < 0) {
		c->nkv = 0;
		return internal(c, cause);
	}
	int nday = store_agent_counts(c->h->st, now - LIMIT_CUSTOMER_WINDOW, &day, &cause);
	if (nday < 0)
		return internal(c, cause);
	c->pcounters = xcalloc((size_t)c->nkv + 1, sizeof *c->pcounters);
	for (int i = 0; i < c->nkv; i++) {
		c->pcounters[i].agent = c->kv[i].key;
		c->pcounters[i].month = strtoll(c->kv[i].value, NULL, 10);
		for (int j = 0; j < nday; j++)
			if (strcmp(day[j].key, c->kv[i].key) == 0)
				c->pcounters[i].day = strtoll(day[j].value, NULL, 10);
	}
	store_kv_free(day, nday);
	c->ack.counters = c->pcounters;
	c->ack.ncounters = (size_t)c->nkv;
	return 0;
}

/* ---- the table ------------------------------------------------------------------------------------ */

#define OWN_TX 1   /* the handler manages its own transaction */
#define READ   2   /* read-only: no transaction */

static const struct {
	enum proto_type type;
	int (*fn)(struct cmd *);
	int flags;
} commands[] = {
	{ PROTO_SEND, cmd_send, 0 },
	{ PROTO_TYPING, cmd_typing, 0 },
	{ PROTO_TAG, cmd_tag, 0 },
	{ PROTO_UNTAG, cmd_tag, 0 },
	{ PROTO_NOTE, cmd_note, 0 },
	{ PROTO_CONTACT_NAME, cmd_name, 0 },
	{ PROTO_READ, cmd_read, READ },
	{ PROTO_CANNED_LIST, cmd_canned_list, READ },
	{ PROTO_CANNED_ADD, cmd_canned_edit, 0 },
	{ PROTO_CANNED_RM, cmd_canned_edit, 0 },
	{ PROTO_BRB_ON, cmd_brb, 0 },
	{ PROTO_BRB_OFF, cmd_brb, 0 },
	{ PROTO_SETTINGS_GET, cmd_settings_get, READ },
	{ PROTO_SETTINGS_SET, cmd_settings_set, 0 },
	{ PROTO_TEMPLATES_LIST, cmd_templates_list, READ },
	{ PROTO_TEMPLATES_ADD, cmd_templates_edit, 0 },
	{ PROTO_TEMPLATES_RM, cmd_templates_edit, 0 },
	{ PROTO_ACCESS_ROTATE, cmd_access_rotate, OWN_TX },
	{ PROTO_HISTORY, cmd_history, READ },
	{ PROTO_COUNTERS, cmd_counters, READ },
};

static void
cmd_release(struct cmd *c)
{
	store_kv_free(c->kv, c->nkv);
	store_messages_free(c->msgs, c->nmsgs);
	free(c->pmsgs);
	free(c->idbufs);
	free(c->pcanned);
	free(c->pcounters);
	access_links_release(&c->links);
	for (size_t i = 0; i < ARRAY_LEN(c->strs); i++)
		free(c->strs[i]);
	free(c->why);
}

static char *
error_frame(struct cmd *c, size_t *len)
{
	struct proto_msg e = {0};
	const struct proto_error *pe = proto_error_lookup(c->code);
	e.type = PROTO_ERROR;
	e.id = c->req->id;
	e.code = c->code;
	e.sentence = c->why ? c->why : pe ? pe->sentence : "error";
	e.count = c->count;
	e.allowed_at = c->allowed_at;
	return proto_encode(&e, len);
}

char *
hub_command(struct hub *h, struct hub_session *s, const struct proto_msg *m, size_t *len)
{
	struct cmd c = {0};
	char *frame, *cause = NULL;
	c.h = h;
	c.s = s;
	c.req = m;
	c.ack.type = PROTO_ACK;
	c.ack.id = m->id;
	h->m.commands++;

	size_t i;
	for (i = 0; i < ARRAY_LEN(commands); i++)
		if (commands[i].type == m->type)
			break;
	if (i == ARRAY_LEN(commands) || !proto_type_is_command(m->type)) {
		refuse(&c, "proto.unknown", "'%s' is not a command", proto_type_name(m->type));
		goto err;
	}
	if (s->role < proto_type_role(m->type)) {
		refuse(&c, "auth.role", "%s may not %s (needs %s)", proto_role_name(s->role),
		       proto_type_name(m->type), proto_role_name(proto_type_role(m->type)));
		goto err;
	}
	if (commands[i].flags & (OWN_TX | READ)) {
		if (hub_settle(h, &cause) < 0) {
			internal(&c, cause);
			goto err;
		}
		if (commands[i].fn(&c) < 0)
			goto err;
	} else {
		int brb = h->brb;
		if (hub_begin(h, &cause) < 0) {
			internal(&c, cause);
			goto err;
		}
		if (commands[i].fn(&c) < 0) {
			hub_abort(h);
			h->brb = brb;
			goto err;
		}
		if (hub_commit(h, &cause) < 0) {
			h->brb = brb;
			free(c.why);
			c.why = NULL;
			internal(&c, cause);
			goto err;
		}
	}
	frame = proto_encode(&c.ack, len);
	cmd_release(&c);
	return frame;
err:
	h->m.command_errors++;
	frame = error_frame(&c, len);
	cmd_release(&c);
	return frame;
}

/* ---- hello ------------------------------------------------------------------------------------------ */

static char *
bye(const char *code, const char *sentence, size_t *len)
{
	struct proto_msg b = {0};
	b.type = PROTO_BYE;
	b.code = code;
	b.sentence = sentence ? sentence : proto_error_lookup(code)->sentence;
	return proto_encode(&b, len);
}

int
hub_hello(struct hub *h, const struct proto_msg *hello, struct hub_session *s, char **frame,
          size_t *len)
{
	enum proto_role role;
	int64_t gen;
	char *cause = NULL;

	memset(s, 0, sizeof *s);
	int rc = access_check(h->st, hello->token ? hello->token : "", &role, &gen, &cause);
	if (rc < 0) {
		log_warn("hello: %s", cause);
		free(cause);
		*frame = bye("internal", NULL, len);
		return -1;
	}
	if (rc == 0 || role == PROTO_ROLE_NONE) {
		h->m.hellos_failed++;
		*frame = bye("auth.token", NULL, len);
		return -1;
	}
	if (gen < h->generation) {
		h->m.hellos_failed++;
		*frame = bye("auth.expired", NULL, len);
		return -1;
	}
	/* The agent's name keys their limits: trimmed, one line, bounded. */
	const char *name = hello->agent ? hello->agent : "";
	char *clean = text_sanitize_line(name, strlen(name));
	char *p = clean;
	while (*p == ' ')
		p++;
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0) {
		p = (char *)"agent";
		n = 5;
	}
	if (n > sizeof s->agent - 1)
		n = text_fit(p, 64) < sizeof s->agent - 1 ? text_fit(p, 64) : sizeof s->agent - 1;
	memcpy(s->agent, p, n);
	s->agent[n] = '\0';
	free(clean);
	s->role = role;
	s->generation = gen;
	s->authed = 1;

	struct proto_msg w = {0};
	w.type = PROTO_WELCOME;
	w.hub_id = h->hub_id;
	w.role = proto_role_name(role);
	w.agent = s->agent;
	w.version = PROTO_VERSION;
	w.server_time = hub_now(h);
	w.last_event = h->released;
	w.brb = h->brb;
	w.nsettings = hub_public_settings(h, &w.settings);
	w.templates = h->ptpl;
	w.ntemplates = (size_t)h->ntpl;
	unsigned month = 0;
	limits_counts(h->lim, s->agent, "", hub_now(h), NULL, &month);
	w.limits = (struct proto_limits){ LIMIT_CUSTOMER_MAX, LIMIT_AGENT_MAX, month,
	                                  LIMIT_CUSTOMER_WINDOW, h->cfg->rate };
	*frame = proto_encode(&w, len);
	log_verbose("session opened: %s as %s", s->agent, w.role);
	return 0;
}
