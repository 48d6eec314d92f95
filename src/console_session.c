/*
 * console_session.c — the console's side of the desk protocol (see
 * console_session.h and docs/protocol.md).
 *
 * Resuming without gaps or duplicates rests on one rule: an event and the
 * new last_event are written in the same cache transaction, and an event
 * whose number is not above last_event is skipped.  A crash between two
 * frames therefore replays at most the frame that was not committed.
 * An event the cache cannot take is not skipped either: the events after
 * it are held back (applying them would move last_event past it) and the
 * owner closes the connection (hooks->resync), so the next one replays
 * from last_event.  Another process may share the cache: last_event is
 * read again inside the event's transaction.
 *
 * The chat rows in the cache are derived: contact events carry the
 * contact (name, note, tags, status...), message events move the preview,
 * the last activity time (which orders the list) and the unread count.
 * Unread is the console's own notion: inbound messages since the agent
 * last looked at the chat in the conversation pane (session_mark_read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_session.h"
#include "status.h"
#include "util.h"

void
session_init(struct session *s, const char *token, const char *agent,
    const struct session_hooks *hooks, void *arg)
{
	memset(s, 0, sizeof *s);
	s->hooks = *hooks;
	s->arg = arg;
	s->token = xstrdup(token);
	s->agent = xstrdup(agent != NULL && *agent ? agent : "agent");
	s->role = PROTO_ROLE_NONE;
	s->state = SESS_OFFLINE;
	s->agent_month = -1;
	s->resume_max = -1;
}

static void
templates_free(struct session *s)
{
	for (size_t i = 0; i < s->ntemplates; i++) {
		free((char *)s->templates[i].id);
		free((char *)s->templates[i].name);
		free((char *)s->templates[i].body);
	}
	free(s->templates);
	s->templates = NULL;
	s->ntemplates = 0;
}

/* Forgets the unanswered send with this id (answered now). */
static void
unacked_drop(struct session *s, const char *id)
{
	for (struct session_unacked **p = &s->unacked; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->id, id) == 0) {
			struct session_unacked *u = *p;
			*p = u->next;
			free(u->frame);
			free(u);
			return;
		}
}

void
session_release(struct session *s)
{
	while (s->unacked != NULL)
		unacked_drop(s, s->unacked->id);
	free(s->token);
	free(s->agent);
	free(s->hub_id);
	free(s->why);
	templates_free(s);
	memset(s, 0, sizeof *s);
}

/* Reads the templates from the cache into the session (for offline use). */
static void
templates_load(struct session *s)
{
	char **ids, **names, **bodies;
	size_t n;
	if (s->cache == NULL || cache_template_list(s->cache, &ids, &names, &bodies, &n, NULL) != 0)
		return;
	templates_free(s);
	s->templates = xcalloc(n + 1, sizeof *s->templates);
	for (size_t i = 0; i < n; i++) {
		s->templates[i].id = ids[i];
		s->templates[i].name = names[i];
		s->templates[i].body = bodies[i];
	}
	s->ntemplates = n;
	free(ids);
	free(names);
	free(bodies);
}

void
session_set_cache(struct session *s, struct cache *c)
{
	s->cache = c;
	if (c == NULL)
		return;
	templates_load(s);
	char *tm = cache_meta_get(c, "setting.template_messaging");
	s->template_messaging = tm != NULL && strcmp(tm, "true") == 0;
	free(tm);
	char *sb = cache_meta_get(c, "setting.sandbox");
	s->sandbox = sb != NULL && strcmp(sb, "true") == 0;
	free(sb);
	char *brb = cache_meta_get(c, "brb");
	s->brb = brb != NULL && strcmp(brb, "1") == 0;
	free(brb);
	if (s->hub_id == NULL)
		s->hub_id = cache_meta_get(c, "hub_id");
	char *role = cache_meta_get(c, "role");
	if (role != NULL && s->role == PROTO_ROLE_NONE)
		s->role = proto_role_lookup(role);
	free(role);
}

static void
emit(struct session *s, const struct proto_msg *m)
{
	size_t len;
	char *f = proto_encode(m, &len);
	if (s->hooks.send != NULL)
		s->hooks.send(s->arg, f, len);
	free(f);
}

void
session_open(struct session *s)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_HELLO;
	m.token = s->token;
	m.agent = s->agent;
	m.last_event = s->cache != NULL ? cache_last_event(s->cache) : 0;
	if (s->resume_max >= 0 && s->resume_max < m.last_event)
		m.last_event = s->resume_max;
	m.version = PROTO_VERSION;
	s->state = SESS_HELLO;
	s->gap = 0;
	s->said_bye = 0;
	emit(s, &m);
	if (s->hooks.changed != NULL)
		s->hooks.changed(s->arg, SC_STATE, NULL);
}

void
session_closed(struct session *s, const char *why)
{
	if (s->state != SESS_EXPIRED)
		s->state = SESS_OFFLINE;
	/* After a resync the cache's sentence says more than the socket's. */
	if (why != NULL && (s->why == NULL || (s->state != SESS_EXPIRED && s->gap == 0))) {
		free(s->why);
		s->why = xstrdup(why);
	}
	if (s->hooks.changed != NULL)
		s->hooks.changed(s->arg, SC_STATE, NULL);
}

int
session_caught_up(const struct session *s)
{
	return s->state == SESS_READY && s->cache != NULL && cache_last_event(s->cache) >= s->head;
}

char *
session_join_tags(char *const *tags, size_t n)
{
	struct buf b = {0};
	if (n == 0)
		return xstrdup("");
	buf_putc(&b, ',');
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, tags[i]);
		buf_putc(&b, ',');
	}
	return buf_steal(&b);
}

/* The chat row for phone, or a fresh one. */
static int
chat_load(struct session *s, const char *phone, struct cache_chat *ch, char **cause)
{
	int r = cache_chat_get(s->cache, phone, ch, cause);
	if (r < 0)
		return -1;
	if (r == 1) {
		ch->phone = xstrdup(phone);
		ch->name = xstrdup("");
		ch->note = xstrdup("");
		ch->tags = xstrdup("");
		ch->responding = xstrdup("");
		ch->preview = xstrdup("");
		ch->status = CHAT_RESPONDED;
	}
	return 0;
}

static void
set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v != NULL ? v : "");
}

/* Moves a chat to status name; bells when it enters Notifying agent. */
static void
chat_status(struct session *s, struct cache_chat *ch, const char *name, const char *agent,
    int *bell)
{
	enum chat_status st;
	if (name == NULL || status_parse(name, &st) != 0)
		return;
	if (st == CHAT_NOTIFYING && ch->status != CHAT_NOTIFYING)
		*bell = 1;
	ch->status = (int)st;
	if (st == CHAT_RESPONDING && agent != NULL && *agent != '\0')
		set_str(&ch->responding, agent);
	(void)s;
}

int
session_store_message(struct session *s, const struct proto_message *pm, int *is_new,
    char **cause)
{
	struct cache_msg old;
	int have = cache_msg_get(s->cache, pm->id, &old, cause);
	if (have < 0)
		return -1;
	if (have == 0)
		cache_msg_release(&old);
	*is_new = have == 1;
	int out = pm->direction != NULL && strcmp(pm->direction, "out") == 0;
	struct cache_msg m = {
		.id = (char *)pm->id, .phone = (char *)pm->phone, .out = out,
		.type = (char *)(pm->type != NULL ? pm->type : "text"),
		.text = (char *)(pm->text != NULL ? pm->text : ""),
		.state = (char *)(pm->state != NULL ? pm->state : ""),
		.reason = (char *)(pm->reason != NULL ? pm->reason : ""),
		.agent = (char *)(pm->agent != NULL ? pm->agent : ""),
		.time = pm->time, .automated = pm->automated,
	};
	const struct proto_media *md = &pm->media;
	int media = md->mime != NULL && *md->mime != '\0';
	m.media_mime = (char *)(media ? md->mime : "");
	m.media_name = (char *)(media && md->filename != NULL ? md->filename : "");
	m.media_caption = (char *)(media && md->caption != NULL ? md->caption : "");
	m.media_size = media ? md->size : 0;
	m.media_sha256 = (char *)(media && md->sha256 != NULL ? md->sha256 : "");
	m.media_state = (char *)(media && md->state != NULL ? md->state : "");
	m.media_error = (char *)(media && md->error != NULL ? md->error : "");
	m.media_code = (char *)(media && md->code != NULL ? md->code : "");
	if (cache_msg_put(s->cache, &m, cause) != 0)
		return -1;
	struct cache_chat ch;
	if (chat_load(s, pm->phone, &ch, cause) != 0)
		return -1;
	if (*is_new && pm->time >= ch.last_time) {
		const char *body = *m.text != '\0' ? m.text : m.media_caption;
		char *pv = strcmp(m.type, "text") == 0 && !media ? xstrdup(m.text) :
		    media && *m.media_name != '\0' ? xasprintf("[%s] %s %s", m.type, m.media_name, body) :
		    xasprintf("[%s] %s", m.type, body);
		free(ch.preview);
		ch.preview = pv;
		ch.last_time = pm->time;
	}
	/* An agent's reply means the chat was read. */
	if (*is_new && out && !pm->automated)
		ch.unread = 0;
	if (*is_new && !out) {
		if (pm->time > ch.last_inbound)
			ch.last_inbound = pm->time;
		ch.unread++;
	}
	if (out && pm->state != NULL && strcmp(pm->state, "failed") == 0)
		ch.failed = 1;
	int r = cache_chat_put(s->cache, &ch, cause);
	cache_chat_release(&ch);
	return r;
}

static int
apply_contact(struct session *s, const struct proto_contact *c, int *bell, char **cause)
{
	struct cache_chat ch;
	if (chat_load(s, c->phone, &ch, cause) != 0)
		return -1;
	set_str(&ch.name, c->name);
	set_str(&ch.note, c->note);
	free(ch.tags);
	ch.tags = session_join_tags(c->tags, c->ntags);
	ch.opted_in = c->opted_in && !c->opted_out;
	ch.last_inbound = c->last_inbound;     /* the hub's contact is the whole truth */
	if (ch.last_time == 0)
		ch.last_time = c->last_inbound;
	chat_status(s, &ch, c->status, c->agent, bell);
	int r = cache_chat_put(s->cache, &ch, cause);
	cache_chat_release(&ch);
	return r;
}

static int
apply_settings(struct session *s, const struct proto_setting *v, size_t n, char **cause)
{
	for (size_t i = 0; i < n; i++) {
		char *k = xasprintf("setting.%s", v[i].key);
		int r = cache_meta_set(s->cache, k, v[i].value != NULL ? v[i].value : "", cause);
		free(k);
		if (r != 0)
			return -1;
	}
	const char *tm = proto_setting_get(v, n, "template_messaging");
	if (tm != NULL)
		s->template_messaging = strcmp(tm, "true") == 0;
	const char *sb = proto_setting_get(v, n, "sandbox");
	if (sb != NULL)
		s->sandbox = strcmp(sb, "true") == 0;
	return 0;
}

static int
apply_templates(struct session *s, const struct proto_template *t, size_t n, char **cause)
{
	if (cache_template_clear(s->cache, cause) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cache_template_put(s->cache, t[i].id, t[i].name, t[i].body, cause) != 0)
			return -1;
	templates_load(s);
	return 0;
}

/*
 * One event, inside the caller's transaction.  Which screen parts go
 * stale is reported through *what / *phone; *bell when a chat starts
 * needing an agent.
 */
static int
apply_event(struct session *s, const struct proto_msg *m, unsigned *what, const char **phone,
    int *bell, char **cause)
{
	struct cache_chat ch;
	int is_new, r = 0;
	switch (m->kind) {
	case PROTO_EV_CONTACT:
		*what |= SC_LIST | SC_CHAT;
		*phone = m->contact.phone;
		return apply_contact(s, &m->contact, bell, cause);
	case PROTO_EV_MESSAGE:
		*what |= SC_LIST | SC_CHAT;
		*phone = m->message.phone;
		if (session_store_message(s, &m->message, &is_new, cause) != 0)
			return -1;
		/* welcome's agent_month counted everything up to its head. */
		if (is_new && m->n > s->head && s->agent_month >= 0 && !m->message.automated &&
		    m->message.direction != NULL && strcmp(m->message.direction, "out") == 0 &&
		    m->message.agent != NULL && strcmp(m->message.agent, s->agent) == 0)
			s->agent_month++;
		return 0;
	case PROTO_EV_MESSAGE_STATE:
		*what |= SC_CHAT;
		*phone = m->phone;
		if (cache_msg_state(s->cache, m->message_id, m->state, m->reason, cause) != 0)
			return -1;
		if (m->state == NULL || strcmp(m->state, "failed") != 0)
			return 0;
		*what |= SC_LIST;
		if (chat_load(s, m->phone, &ch, cause) != 0)
			return -1;
		ch.failed = 1;
		r = cache_chat_put(s->cache, &ch, cause);
		cache_chat_release(&ch);
		return r;
	case PROTO_EV_STATUS:
	case PROTO_EV_TYPING:
		*what |= SC_LIST | SC_CHAT;
		*phone = m->phone;
		if (chat_load(s, m->phone, &ch, cause) != 0)
			return -1;
		if (m->kind == PROTO_EV_STATUS)
			chat_status(s, &ch, m->status, m->agent, bell);
		else {
			set_str(&ch.responding, m->agent);
			ch.responding_at = m->t;
		}
		r = cache_chat_put(s->cache, &ch, cause);
		cache_chat_release(&ch);
		return r;
	case PROTO_EV_SETTINGS:
		*what |= SC_STATE;
		return apply_settings(s, m->settings, m->nsettings, cause);
	case PROTO_EV_BRB:
		*what |= SC_STATE;
		s->brb = m->brb;
		return cache_meta_set(s->cache, "brb", m->brb ? "1" : "0", cause);
	case PROTO_EV_CANNED:
		*what |= SC_CANNED;
		return m->removed ? cache_canned_rm(s->cache, m->name, cause) :
		    cache_canned_put(s->cache, m->name, m->text, cause);
	case PROTO_EV_TEMPLATES:
		*what |= SC_STATE;
		return apply_templates(s, m->templates, m->ntemplates, cause);
	case PROTO_EV_ACCESS_ROTATED:
	default:
		return 0;           /* unknown kinds still advance last_event */
	}
}

int
session_apply(struct session *s, const struct proto_msg *m, char **cause)
{
	if (s->cache == NULL)
		return 0;
	/* The replay's last event ends the catching up even when it changes
	 * nothing on screen (access.rotated) or was applied before: the one-shot
	 * commands start on that signal. */
	unsigned what = m->n == s->head ? SC_STATE : 0;
	if (m->n <= cache_last_event(s->cache)) {
		if (what != 0 && s->hooks.changed != NULL)
			s->hooks.changed(s->arg, what, NULL);
		return 0;               /* already applied: no duplicate */
	}
	const char *phone = NULL;
	int bell = 0;
	if (cache_begin(s->cache, cause) != 0)
		return -1;
	/* Another process sharing the cache may have applied it meanwhile. */
	if (m->n <= cache_last_event(s->cache)) {
		cache_rollback(s->cache);
		if (what != 0 && s->hooks.changed != NULL)
			s->hooks.changed(s->arg, what, NULL);
		return 0;
	}
	if (apply_event(s, m, &what, &phone, &bell, cause) != 0 ||
	    cache_set_last_event(s->cache, m->n, cause) != 0) {
		cache_rollback(s->cache);       /* the event comes again next time */
		return -1;
	}
	if (cache_commit(s->cache, cause) != 0)
		return -1;
	if (bell && s->hooks.notify != NULL && s->head < m->n) {
		struct cache_chat ch;
		if (cache_chat_get(s->cache, phone, &ch, NULL) == 0) {
			s->hooks.notify(s->arg, phone, ch.name);
			cache_chat_release(&ch);
		}
	}
	if (what != 0 && s->hooks.changed != NULL)
		s->hooks.changed(s->arg, what, phone);
	return 0;
}

static void
on_welcome(struct session *s, const struct proto_msg *m)
{
	set_str(&s->hub_id, m->hub_id);
	s->role = proto_role_lookup(m->role);
	s->brb = m->brb;
	s->limits = m->limits;
	s->head = m->last_event;
	s->agent_month = m->limits.agent_month;
	s->skew = m->server_time > 0 ? m->server_time - now_s() : 0;
	if (s->hooks.hub != NULL)
		s->hooks.hub(s->arg, m->hub_id);
	if (s->cache != NULL) {
		char *old = cache_meta_get(s->cache, "hub_id");
		/* A cache of another hub's database is worth a warning.  A
		 * cache ahead of this welcome's head is not: another wadesk
		 * sharing the cache may have stored later events between the
		 * hub sending the welcome and this process reading it. */
		if (old != NULL && strcmp(old, m->hub_id) != 0)
			log_warn("cache does not match hub %s; events replay from the start", m->hub_id);
		else if (log_level >= 1 && cache_last_event(s->cache) > m->last_event)
			log_verbose("cache is past the welcome's event %lld (shared cache)",
			    (long long)m->last_event);
		free(old);
		char *cause = NULL;
		if (cache_begin(s->cache, &cause) != 0 ||
		    cache_meta_set(s->cache, "hub_id", m->hub_id, &cause) != 0 ||
		    cache_meta_set(s->cache, "role", m->role, &cause) != 0 ||
		    cache_meta_set(s->cache, "brb", m->brb ? "1" : "0", &cause) != 0 ||
		    apply_settings(s, m->settings, m->nsettings, &cause) != 0 ||
		    apply_templates(s, m->templates, m->ntemplates, &cause) != 0 ||
		    cache_commit(s->cache, &cause) != 0) {
			cache_rollback(s->cache);
			log_warn("cannot store the hub's welcome: %s", cause != NULL ? cause : "?");
			free(cause);
		}
	} else {
		const char *tm = proto_setting_get(m->settings, m->nsettings, "template_messaging");
		s->template_messaging = tm != NULL && strcmp(tm, "true") == 0;
	}
	s->state = SESS_READY;
	free(s->why);
	s->why = NULL;
	/* Sends the last connection did not see answered go again, same ids. */
	for (struct session_unacked *u = s->unacked; u != NULL; u = u->next)
		if (s->hooks.send != NULL)
			s->hooks.send(s->arg, u->frame, u->len);
	if (s->hooks.changed != NULL)
		s->hooks.changed(s->arg, SC_STATE | SC_LIST | SC_CHAT, NULL);
}

void
session_frame(struct session *s, const char *data, size_t len)
{
	struct proto_msg m;
	const char *code = NULL;
	char *cause = NULL;
	/* The session ended with the bye; whatever comes before the close
	 * (a hub cutting off a slow console once sent half a frame) is noise. */
	if (s->said_bye) {
		log_verbose("ignored %zu bytes from the hub after its bye", len);
		return;
	}
	if (proto_decode(data, len, &m, &code, &cause) != 0) {
		log_warn("bad frame from the hub (%s): %s", code, cause);
		free(cause);
		proto_msg_release(&m);
		return;
	}
	switch (m.type) {
	case PROTO_WELCOME:
		on_welcome(s, &m);
		break;
	case PROTO_EVENT:
		/* Events after one the cache missed would move last_event past
		 * it: they wait for the replay on the next connection. */
		if (s->gap != 0)
			break;
		if (session_apply(s, &m, &cause) != 0) {
			s->gap = m.n;
			char *why = xasprintf("cannot store event %lld in the cache: %s",
			    (long long)m.n, cause);
			log_warn("%s; reconnecting to replay it", why);
			set_str(&s->why, why);
			if (s->hooks.resync != NULL)
				s->hooks.resync(s->arg, why);
			free(why);
			free(cause);
		}
		break;
	case PROTO_ACK:
	case PROTO_ERROR:
		if (m.id != NULL)
			unacked_drop(s, m.id);
		if (m.type == PROTO_ERROR && m.id == NULL &&
		    m.code != NULL && strncmp(m.code, "auth.", 5) == 0) {
			s->state = SESS_EXPIRED;
			set_str(&s->why, m.sentence);
			if (s->hooks.bye != NULL)
				s->hooks.bye(s->arg, m.code, m.sentence);
			break;
		}
		if (s->hooks.reply != NULL)
			s->hooks.reply(s->arg, m.id, &m);
		break;
	case PROTO_BYE:
		s->said_bye = 1;
		if (m.code != NULL && strncmp(m.code, "auth.", 5) == 0 && strcmp(m.code, "auth.rate") != 0)
			s->state = SESS_EXPIRED;
		set_str(&s->why, m.code != NULL && strcmp(m.code, "auth.expired") == 0 ?
		    "your link has expired; ask an admin for the new one" : m.sentence);
		if (s->hooks.bye != NULL)
			s->hooks.bye(s->arg, m.code, s->why);
		if (s->hooks.changed != NULL)
			s->hooks.changed(s->arg, SC_STATE, NULL);
		break;
	default:
		log_warn("unexpected %s frame from the hub", proto_type_name(m.type));
	}
	proto_msg_release(&m);
}

const char *
session_command(struct session *s, struct proto_msg *m)
{
	static char id[24];
	if (s->state != SESS_READY)
		return NULL;
	snprintf(id, sizeof id, "c%u.%lld", ++s->next_id, (long long)(now_ms() % 100000000));
	m->id = id;
	if (m->type == PROTO_SEND) {
		struct session_unacked *u = xcalloc(1, sizeof *u), **tail = &s->unacked;
		snprintf(u->id, sizeof u->id, "%s", id);
		u->frame = proto_encode(m, &u->len);
		while (*tail != NULL)
			tail = &(*tail)->next;
		*tail = u;
	}
	emit(s, m);
	return id;
}

const char *
session_send_text(struct session *s, const char *phone, const char *text)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_SEND;
	m.phone = phone;
	m.text = text;
	return session_command(s, &m);
}

/*
 * Commands with at most a phone and one argument; the argument lands in
 * the field the type's table row uses.
 */
const char *
session_simple(struct session *s, enum proto_type t, const char *phone, const char *arg)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = t;
	m.phone = phone;
	switch (t) {
	case PROTO_TAG:
	case PROTO_UNTAG:
		m.tag = arg;
		break;
	case PROTO_NOTE:
		m.text = arg != NULL ? arg : "";
		break;
	case PROTO_CONTACT_NAME:
	case PROTO_CANNED_RM:
		m.name = arg;
		break;
	case PROTO_HISTORY:
		m.before = arg;
		m.limit = PROTO_HISTORY_DEFAULT;
		break;
	default:
		break;
	}
	return session_command(s, &m);
}

const char *
session_send_media(struct session *s, const char *phone, const struct proto_media *media)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_SEND;
	m.phone = phone;
	m.media = *media;
	return session_command(s, &m);
}

void
session_mark_read(struct session *s, const char *phone)
{
	struct cache_chat ch;
	if (s->cache == NULL || cache_chat_get(s->cache, phone, &ch, NULL) != 0)
		return;
	if (ch.unread > 0) {
		ch.unread = 0;
		char *cause = NULL;
		if (cache_chat_put(s->cache, &ch, &cause) != 0) {
			log_warn("%s", cause);
			free(cause);
		}
		session_simple(s, PROTO_READ, phone, NULL);
		if (s->hooks.changed != NULL)
			s->hooks.changed(s->arg, SC_LIST, phone);
	}
	cache_chat_release(&ch);
}

struct limits_build {
	struct limits *l;
	const char *agent, *customer;
};

static void
limits_row(void *arg, int out, int64_t t)
{
	struct limits_build *b = arg;
	if (out)
		limits_record(b->l, b->agent, b->customer, t);
	else
		limits_inbound(b->l, b->customer, t);
}

/*
 * The per-customer limit with limits.h, fed only that customer's last
 * 24 h from the cache (an index range on messages_chat): cheap enough
 * for every paint.  The 30-day agent count comes from the hub's welcome
 * (agent_month) and is bumped by each of our own messages; offline it is
 * counted once from the cache.
 */
static struct limits *
limits_build(struct session *s, const char *phone, int64_t now)
{
	if (s->cache == NULL)
		return NULL;
	struct limits_build b = { limits_new(), s->agent, phone };
	char *cause = NULL;
	if (cache_customer_sends(s->cache, s->agent, phone, now - 86400, limits_row, &b, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	return b.l;
}

static int64_t
agent_month(struct session *s, int64_t now)
{
	if (s->agent_month < 0 && s->cache != NULL)
		s->agent_month = cache_agent_count(s->cache, s->agent, now - 30 * 86400);
	return s->agent_month;
}

int
session_check_limits(struct session *s, const char *phone, int64_t now, int full,
    struct limit_verdict *v)
{
	memset(v, 0, sizeof *v);
	struct limits *l = limits_build(s, phone, now);
	if (l == NULL)
		return 0;
	int r = limits_check(l, s->agent, phone, now, v);
	limits_free(l);
	if (r != 0)
		return r;
	int64_t max = s->limits.agent_max > 0 ? s->limits.agent_max : LIMIT_AGENT_MAX;
	int64_t month = full ? agent_month(s, now) : s->agent_month;
	if (month >= max && cache_agent_count(s->cache, s->agent, now - 30 * 86400) >= max) {
		v->code = "limit.agent";
		v->count = (unsigned)max;
		v->allowed_at = cache_agent_nth_newest(s->cache, s->agent, (long)max) + 30 * 86400;
		return -1;
	}
	return 0;
}

void
session_limit_counts(struct session *s, const char *phone, int64_t now, unsigned *customer,
    long *agent)
{
	unsigned ac = 0;
	*customer = 0;
	struct limits *l = limits_build(s, phone, now);
	if (l != NULL) {
		limits_counts(l, s->agent, phone, now, customer, &ac);
		limits_free(l);
	}
	*agent = s->agent_month;     /* offline it is counted at the first send */
}

void
session_decide(struct session *s, const char *phone, const char *text, int64_t now,
    struct send_decision *d)
{
	session_decide_kind(s, phone, SEND_TEXT, text, NULL, now, d);
}

void
session_decide_kind(struct session *s, const char *phone, enum send_kind kind, const char *text,
    const char *mime, int64_t now, struct send_decision *d)
{
	struct cache_chat ch;
	int have = s->cache != NULL && cache_chat_get(s->cache, phone, &ch, NULL) == 0;
	struct send_input in = {
		.template_messaging = s->template_messaging,
		.last_inbound = have ? ch.last_inbound : 0,
		.opted_in = have ? ch.opted_in : 0,
		.kind = kind,
		.text = text,
		.mime = mime,
		.sandbox = s->sandbox,
		.balance = -1,
		.now = now,
		.templates = s->templates,
		.ntemplates = s->ntemplates,
	};
	decide_send(&in, d);
	if (have)
		cache_chat_release(&ch);
}
