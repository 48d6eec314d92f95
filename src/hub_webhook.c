/*
 * hub_webhook.c — provider webhooks in, and the automation they trigger.
 *
 * A batch of bodies is parsed first (a body that does not parse is a 400
 * and never touches the database), then applied in one transaction, each
 * body in a savepoint, and committed once: group commit.  Only once the
 * commit is on disk are the webhooks answered 200 and their events
 * broadcast; the sync runs in a worker while the next batch is applied
 * (hub_commit_async, walsync.h).
 *
 * Inbound message: stored once (the provider id is UNIQUE; a duplicate
 * delivery stops here and changes nothing), the contact's last inbound time
 * and the agent limits reset, the chat status moves (Notifying agent),
 * keywords ("yes" after the opt-in prompt, "STOP") change opt-in, then
 * automation may answer: the opt-in prompt (template messaging on, never
 * prompted), else greeting (first message ever), away (outside business
 * hours) or BRB (mode on), each with its per-contact cooldown.
 *
 * Message events move a sent message's state forward (the store ignores
 * backward moves).  An event naming a Gupshup id the hub has not recorded
 * yet (the reply to the send is still on its way) is kept as a pending
 * state and applied when the reply arrives.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gupshup.h"
#include "hours.h"
#include "hub_int.h"
#include "sanitize.h"
#include "util.h"

/* Inserts an automated reply to c and queues it; *id gets its message id. */
static int
auto_reply(struct hub *h, struct store_contact *c, const char *text, int64_t *id, char **cause)
{
	struct store_message m = {0};
	m.phone = c->phone;
	m.out = 1;
	m.type = (char *)"text";
	m.text = (char *)text;
	m.state = ST_QUEUED;
	m.automated = 1;
	m.time = hub_now(h);
	if (store_message_insert(h->st, &m, id, cause) < 0)
		return -1;
	return hub_queue_send(h, *id, c->phone, cause);
}

static int
word_is(const char *text, const char *word)
{
	while (isspace((unsigned char)*text))
		text++;
	size_t n = strlen(word);
	if (strncasecmp(text, word, n) != 0)
		return 0;
	text += n;
	while (*text && (isspace((unsigned char)*text) || *text == '.' || *text == '!'))
		text++;
	return *text == '\0';
}

int
hub_automate(struct hub *h, struct store_contact *c, int created, const char *text,
             int64_t **ids, size_t *nids, char **cause)
{
	int64_t now = hub_now(h), id;
	const char *reply = NULL;
	int64_t *stamp = NULL;

	*ids = NULL;
	*nids = 0;
	/* Keywords first: they change what the prompt logic sees. */
	if (text != NULL && word_is(text, "stop")) {
		c->opted_out = 1;
		c->opted_in = 0;
	} else if (text != NULL && c->prompted_at != 0 && !c->opted_in && word_is(text, "yes")) {
		c->opted_in = 1;
		c->opted_out = 0;
	}

	if (hub_setting_bool(h, "template_messaging") && !c->opted_in && !c->opted_out &&
	    c->prompted_at == 0 && hub_setting(h, "optin_prompt")[0]) {
		if (auto_reply(h, c, hub_setting(h, "optin_prompt"), &id, cause) < 0)
			return -1;
		c->prompted_at = now;
		*ids = xrealloc(*ids, (*nids + 1) * sizeof **ids);
		(*ids)[(*nids)++] = id;
	}

	if (created && hub_setting(h, "greeting")[0] &&
	    now - c->greeted_at >= hub_setting_int(h, "greeting_cooldown")) {
		reply = hub_setting(h, "greeting");
		stamp = &c->greeted_at;
	} else if (hub_setting(h, "away")[0] &&
	           hours_open(hub_setting(h, "business_hours"), hub_setting(h, "timezone"), now) == 0) {
		if (now - c->away_at >= hub_setting_int(h, "away_cooldown")) {
			reply = hub_setting(h, "away");
			stamp = &c->away_at;
		}
	} else if (h->brb && hub_setting(h, "brb")[0]) {
		if (now - c->brb_at >= hub_setting_int(h, "brb_cooldown")) {
			reply = hub_setting(h, "brb");
			stamp = &c->brb_at;
		}
	}
	if (reply != NULL) {
		if (auto_reply(h, c, reply, &id, cause) < 0)
			return -1;
		*stamp = now;
		*ids = xrealloc(*ids, (*nids + 1) * sizeof **ids);
		(*ids)[(*nids)++] = id;
		hub_contact_event(c, CHAT_EV_AUTOREPLY);
	}
	return 0;
}

/*
 * A contact as it was before an inbound message, but for last_inbound.
 * The message event moves last_inbound by itself (docs/protocol.md), so
 * a contact event follows an inbound message only when the contact is
 * new or what a console sees of it changed (name, status, agent, opt-in,
 * opt-out), and the row is written only when the contact is new or any
 * column but last_inbound changed (store_contact_touch() otherwise).
 * Most messages then cost one event and no contact write.
 */
struct contact_before {
	char   *name, *agent;
	int     status, resume, opted_in, opted_out;
	int64_t greeted_at, away_at, brb_at, prompted_at;
};

static void
contact_before_take(struct contact_before *v, const struct store_contact *c)
{
	v->name = xstrdup(c->name ? c->name : "");
	v->agent = xstrdup(c->agent ? c->agent : "");
	v->status = c->status;
	v->resume = c->resume;
	v->opted_in = c->opted_in;
	v->opted_out = c->opted_out;
	v->greeted_at = c->greeted_at;
	v->away_at = c->away_at;
	v->brb_at = c->brb_at;
	v->prompted_at = c->prompted_at;
}

static int
contact_shown_changed(const struct contact_before *v, const struct store_contact *c)
{
	return strcmp(v->name, c->name ? c->name : "") != 0 ||
	       strcmp(v->agent, c->agent ? c->agent : "") != 0 || v->status != c->status ||
	       v->opted_in != c->opted_in || v->opted_out != c->opted_out;
}

/* Inbound handling touches nothing else of a contact (note, tags and
 * created stay as they were). */
static int
contact_row_changed(const struct contact_before *v, const struct store_contact *c)
{
	return contact_shown_changed(v, c) || v->resume != c->resume ||
	       v->greeted_at != c->greeted_at || v->away_at != c->away_at ||
	       v->brb_at != c->brb_at || v->prompted_at != c->prompted_at;
}

static void
contact_before_release(struct contact_before *v)
{
	free(v->name);
	free(v->agent);
}

static int
apply_message(struct hub *h, const struct gupshup_message *gm, int *dup, char **cause)
{
	struct store_contact c;
	int created, rc = -1;
	int64_t now = hub_now(h), id;
	int64_t *auto_ids = NULL;
	size_t nauto = 0;
	char *text = text_sanitize(gm->text ? gm->text : "", gm->text ? strlen(gm->text) : 0);
	const char *type = gupshup_msg_type_name(gm->type);

	if (!hub_phone_valid(gm->phone)) {
		*cause = xasprintf("sender phone '%.20s' is not E.164 digits", gm->phone);
		free(text);
		return -1;
	}
	if (hub_contact(h, gm->phone, &c, &created, cause) < 0) {
		free(text);
		return -1;
	}
	struct contact_before before;
	contact_before_take(&before, &c);
	struct store_message m = {0};
	m.phone = c.phone;
	m.out = 0;
	m.type = (char *)(type ? type : "text");
	m.text = text;
	m.time = now;
	m.provider_id = (char *)gm->id;
	int media = gm->url != NULL && gm->url[0] != '\0';
	char *fname = gm->filename ? text_sanitize_line(gm->filename, strlen(gm->filename)) : NULL;
	if (media) {
		/* Kept pending: the download runs after the commit, never before
		 * the 200 (docs/media.md); the provider's URL lives in the job. */
		m.media_mime = (char *)(gm->mime && gm->mime[0] ? gm->mime : "application/octet-stream");
		m.media_filename = fname;
		m.media_state = (char *)"pending";
		m.media_error = (char *)"downloading";
	}
	m.payload = (char *)gm->payload_json;
	int ins = store_message_insert(h->st, &m, &id, cause);
	if (ins < 0)
		goto out;
	if (ins == 0) {
		*dup = 1;
		rc = 0;
		goto out;
	}
	m.id = id;
	if (media && hub_fetch_add(h, id, gm->url, gm->mime, cause) < 0)
		goto out;
	c.last_inbound = now;
	if ((c.name == NULL || c.name[0] == '\0') && gm->name != NULL) {
		free(c.name);
		c.name = text_sanitize_line(gm->name, strlen(gm->name));
	}
	limits_inbound(h->lim, c.phone, now);
	hub_typing_clear(h, c.phone);
	hub_contact_event(&c, CHAT_EV_INBOUND);
	if (hub_automate(h, &c, created, text, &auto_ids, &nauto, cause) < 0)
		goto out;
	if (created || contact_row_changed(&before, &c)) {
		if (store_contact_put(h->st, &c, cause) < 0)
			goto out;
	} else {
		store_contact_touch(h->st, c.phone, c.last_inbound);
	}
	if (((created || contact_shown_changed(&before, &c)) && hub_emit_contact(h, &c, cause) < 0) ||
	    hub_emit_message(h, &m, cause) < 0)
		goto out;
	for (size_t i = 0; i < nauto; i++)
		if (hub_emit_message_id(h, auto_ids[i], cause) < 0)
			goto out;
	rc = 0;
out:
	contact_before_release(&before);
	free(auto_ids);
	free(fname);
	free(text);
	store_contact_release(&c);
	return rc;
}

static int
event_state(enum gupshup_event_type t)
{
	switch (t) {
	case GUPSHUP_EV_ENQUEUED:  return ST_SUBMITTED;
	case GUPSHUP_EV_SENT:      return ST_SENT;
	case GUPSHUP_EV_DELIVERED: return ST_DELIVERED;
	case GUPSHUP_EV_READ:      return ST_READ;
	case GUPSHUP_EV_FAILED:    return ST_FAILED;
	case GUPSHUP_EV_DELETED:   return -1;
	}
	return -1;
}

static int
apply_event(struct hub *h, const struct gupshup_event *ev, int *dup, char **cause)
{
	int state = event_state(ev->type);
	if (state < 0)
		return 0;
	struct store_message m;
	int rc = store_message_by_provider(h->st, ev->gs_id, ev->wa_id, &m, cause);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		/* The send reply naming this Gupshup id may still be on its way. */
		if (ev->gs_id == NULL) {
			*dup = 1;
			return 0;
		}
		return store_pending_state_add(h->st, ev->gs_id, state, ev->reason, cause);
	}
	rc = 0;
	if (ev->type == GUPSHUP_EV_ENQUEUED && ev->wa_id != NULL && m.wa_id == NULL)
		rc = store_message_set_ids(h->st, m.id, NULL, ev->wa_id, cause);
	int changed = rc < 0 ? -1 : store_message_set_state(h->st, m.id, state, ev->reason, cause);
	if (changed < 0)
		rc = -1;
	else if (changed == 0)
		*dup = 1;
	else
		rc = hub_emit_state(h, m.id, m.phone, state, ev->reason, cause);
	store_message_release(&m);
	return rc;
}

static int
apply_user(struct hub *h, const struct gupshup_user_event *u, char **cause)
{
	struct store_contact c;
	int created;
	if (!hub_phone_valid(u->phone)) {
		*cause = xasprintf("user-event phone '%.20s' is not E.164 digits", u->phone);
		return -1;
	}
	if (hub_contact(h, u->phone, &c, &created, cause) < 0)
		return -1;
	int before_in = c.opted_in, before_out = c.opted_out;
	if (u->type == GUPSHUP_USER_OPTED_IN) {
		c.opted_in = 1;
		c.opted_out = 0;
	} else if (u->type == GUPSHUP_USER_OPTED_OUT) {
		c.opted_in = 0;
		c.opted_out = 1;
	}
	int rc = 0;
	if (created || before_in != c.opted_in || before_out != c.opted_out) {
		if (store_contact_put(h->st, &c, cause) < 0 || hub_emit_contact(h, &c, cause) < 0)
			rc = -1;
	}
	store_contact_release(&c);
	return rc;
}

static int
apply_one(struct hub *h, const struct gupshup_callback *cb, int *dup, char **cause)
{
	switch (cb->kind) {
	case GUPSHUP_MESSAGE:       return apply_message(h, &cb->msg, dup, cause);
	case GUPSHUP_MESSAGE_EVENT: return apply_event(h, &cb->ev, dup, cause);
	case GUPSHUP_USER_EVENT:    return apply_user(h, &cb->user, cause);
	}
	return 0;
}

/*
 * The usual pass: every webhook of the batch applied in its transaction,
 * none in a savepoint of its own (a savepoint costs two statements, and
 * every page the batch had already written is copied to a statement
 * journal the first time the webhook writes it).  0 when all went in
 * (their statuses set), -1 as soon as one fails: the caller rolls the
 * transaction back and takes apply_each().  What a webhook does outside
 * the database and the hub's transaction (limits_inbound(), typing
 * lapses) may then be done twice, which is harmless by design.
 */
static int
apply_all(struct hub *h, struct hub_webhook *w, const struct gupshup_callback *cb, size_t n)
{
	char *cause = NULL;
	int *dup = xcalloc(n, sizeof *dup);
	for (size_t i = 0; i < n; i++)
		if (w[i].status == 0 && apply_one(h, &cb[i], &dup[i], &cause) < 0) {
			free(cause);
			free(dup);
			return -1;
		}
	for (size_t i = 0; i < n; i++)
		if (w[i].status == 0) {
			w[i].status = 200;
			h->m.webhooks_dup += dup[i] != 0;
		}
	free(dup);
	return 0;
}

/* The careful pass: one savepoint per webhook, so that one refused by a
 * rule (a bad phone) or by the database leaves nothing behind and the
 * others still go in. */
static void
apply_each(struct hub *h, struct hub_webhook *w, const struct gupshup_callback *cb, size_t n)
{
	char *cause = NULL;
	for (size_t i = 0; i < n; i++) {
		if (w[i].status != 0)
			continue;
		struct hub_mark mark;
		int dup = 0, rc = -1;
		hub_mark(h, &mark);
		if (store_savepoint(h->st, &cause) == 0) {
			rc = apply_one(h, &cb[i], &dup, &cause);
			if (rc < 0) {
				store_rollback_to(h->st);
				hub_undo(h, &mark);
			} else {
				store_release(h->st);
			}
		}
		if (rc < 0) {
			w[i].status = 400;
			w[i].reason = cause;
			cause = NULL;
			h->m.webhooks_bad++;
			log_info("webhook refused: %s", w[i].reason);
		} else {
			w[i].status = 200;
			h->m.webhooks_dup += dup != 0;
		}
	}
}

/* Every webhook still at status `from` (0: not applied yet) gets a 500. */
static void
fail_all(struct hub_webhook *w, size_t n, int from, const char *cause)
{
	log_warn("%s", cause);
	for (size_t i = 0; i < n; i++)
		if (w[i].status == from) {
			w[i].status = 500;
			w[i].reason = xstrdup(cause);
		}
}

uint64_t
hub_webhooks(struct hub *h, struct hub_webhook *w, size_t n)
{
	struct gupshup_callback *cb = xcalloc(n ? n : 1, sizeof *cb);
	char *cause = NULL;
	size_t good = 0;
	uint64_t seq = 0;

	for (size_t i = 0; i < n; i++) {
		w[i].status = 0;
		w[i].reason = NULL;
		if (gupshup_callback_parse(w[i].body, w[i].len, &cb[i], &w[i].reason) < 0) {
			w[i].status = 400;
			h->m.webhooks_bad++;
			log_info("webhook refused: %s", w[i].reason);
		} else {
			good++;
		}
	}
	if (good == 0)
		goto out;
	h->m.batches++;
	if (hub_begin(h, &cause) < 0) {
		fail_all(w, n, 0, cause);
		goto out;
	}
	struct hub_mark start;
	hub_mark(h, &start);
	if (apply_all(h, w, cb, n) < 0) {
		/* One was refused (or the database failed): start over, each in
		 * a savepoint, so that exactly the failing ones are left out. */
		store_rollback(h->st);
		hub_undo(h, &start);
		if (hub_begin(h, &cause) < 0) {
			fail_all(w, n, 0, cause);
			goto out;
		}
		apply_each(h, w, cb, n);
	}
	if (hub_commit_async(h, &seq, &cause) < 0) {
		fail_all(w, n, 200, cause);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (w[i].status == 200)
			h->m.webhooks_ok++;
out:
	for (size_t i = 0; i < n; i++)
		gupshup_callback_release(&cb[i]);
	free(cb);
	free(cause);
	return seq;
}
