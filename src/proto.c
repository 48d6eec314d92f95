/*
 * proto.c — the desk protocol codec (json-c), driven by tables.
 *
 * Each message type is a row of `types`: its wire name, whether it is a
 * command, the least role allowed to send it, and a field table.  A field
 * row names the JSON key, its kind, whether it is required, and where it
 * lives in struct proto_msg (an offset; arrays also carry the offset of their
 * count and an element table).  encode_fields() and decode_fields() walk
 * those rows, so both directions stay symmetric by construction and the
 * round-trip test covers every row.  "event" frames have a second level:
 * the common fields n/t/kind, then the kind's own table (`kinds`).
 *
 * A contact or message event carries the whole object under "contact" or
 * "message", in exactly the shape a history page uses, so a console has one
 * decoder for messages wherever they come from.
 *
 * Decoding is strict about types (a string field given a number is
 * proto.bad_frame) and lenient about presence: unknown keys are ignored,
 * optional keys may be absent or null.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "proto.h"
#include "util.h"

enum fkind {
	F_STR,      /* char * */
	F_INT,      /* int64_t */
	F_BOOL,     /* int */
	F_STRV,     /* char **, count at noff */
	F_OBJ,      /* embedded struct, sub table */
	F_ARR,      /* array of structs, count at noff, element size esize */
	F_KV,       /* struct proto_setting *, count at noff: a JSON object */
};

#define FL_REQ    1u   /* always written; must be present when decoding */

struct field {
	const char   *name;
	enum fkind    kind;
	unsigned      flags;
	size_t        off;
	size_t        noff;
	const struct ftable *sub;
	size_t        esize;
};

struct ftable {
	const struct field *f;
	size_t n;
};

#define TABLE(a) { a, ARRAY_LEN(a) }
#define M(member) offsetof(struct proto_msg, member)

#define STR(k, fl, st, m)  { k, F_STR, fl, offsetof(st, m), 0, NULL, 0 }
#define INT(k, fl, st, m)  { k, F_INT, fl, offsetof(st, m), 0, NULL, 0 }
#define BOOL(k, fl, st, m) { k, F_BOOL, fl, offsetof(st, m), 0, NULL, 0 }
#define STRV(k, fl, st, m, c) { k, F_STRV, fl, offsetof(st, m), offsetof(st, c), NULL, 0 }

/* ---- element tables ---------------------------------------------------- */

static const struct field f_media[] = {
	STR("mime", FL_REQ, struct proto_media, mime),
	STR("url", 0, struct proto_media, url),
	STR("filename", 0, struct proto_media, filename),
	STR("caption", 0, struct proto_media, caption),
	INT("size", 0, struct proto_media, size),
	STR("sha256", 0, struct proto_media, sha256),
	STR("state", 0, struct proto_media, state),
	STR("error", 0, struct proto_media, error),
	STR("code", 0, struct proto_media, code),
};
static const struct ftable t_media = TABLE(f_media);

static const struct field f_message[] = {
	STR("id", FL_REQ, struct proto_message, id),
	STR("cid", 0, struct proto_message, cid),
	STR("phone", FL_REQ, struct proto_message, phone),
	STR("direction", FL_REQ, struct proto_message, direction),
	STR("type", FL_REQ, struct proto_message, type),
	STR("text", FL_REQ, struct proto_message, text),
	STR("state", 0, struct proto_message, state),
	STR("reason", 0, struct proto_message, reason),
	STR("agent", 0, struct proto_message, agent),
	BOOL("automated", FL_REQ, struct proto_message, automated),
	INT("time", FL_REQ, struct proto_message, time),
	STR("template_id", 0, struct proto_message, template_id),
	STRV("params", 0, struct proto_message, params, nparams),
	STR("provider_id", 0, struct proto_message, provider_id),
	{ "media", F_OBJ, 0, offsetof(struct proto_message, media), 0, &t_media, 0 },
};
static const struct ftable t_message = TABLE(f_message);

static const struct field f_contact[] = {
	STR("phone", FL_REQ, struct proto_contact, phone),
	STR("name", FL_REQ, struct proto_contact, name),
	STR("note", FL_REQ, struct proto_contact, note),
	STRV("tags", FL_REQ, struct proto_contact, tags, ntags),
	BOOL("opted_in", FL_REQ, struct proto_contact, opted_in),
	BOOL("opted_out", FL_REQ, struct proto_contact, opted_out),
	INT("last_inbound", FL_REQ, struct proto_contact, last_inbound),
	STR("status", FL_REQ, struct proto_contact, status),
	STR("agent", 0, struct proto_contact, agent),
};
static const struct ftable t_contact = TABLE(f_contact);

static const struct field f_template[] = {
	STR("id", FL_REQ, struct proto_template, id),
	STR("name", FL_REQ, struct proto_template, name),
	STR("body", FL_REQ, struct proto_template, body),
};
static const struct ftable t_template = TABLE(f_template);

static const struct field f_canned[] = {
	STR("name", FL_REQ, struct proto_canned, name),
	STR("text", FL_REQ, struct proto_canned, text),
};
static const struct ftable t_canned = TABLE(f_canned);

static const struct field f_counter[] = {
	STR("agent", FL_REQ, struct proto_counter, agent),
	INT("month", FL_REQ, struct proto_counter, month),
	INT("day", FL_REQ, struct proto_counter, day),
};
static const struct ftable t_counter = TABLE(f_counter);

static const struct field f_limits[] = {
	INT("customer_max", FL_REQ, struct proto_limits, customer_max),
	INT("agent_max", FL_REQ, struct proto_limits, agent_max),
	INT("agent_month", FL_REQ, struct proto_limits, agent_month),
	INT("window", FL_REQ, struct proto_limits, window),
	INT("rate", FL_REQ, struct proto_limits, rate),
};
static const struct ftable t_limits = TABLE(f_limits);

static const struct field f_links[] = {
	STR("agent", FL_REQ, struct proto_links, agent),
	STR("supervisor", FL_REQ, struct proto_links, supervisor),
	STR("admin", FL_REQ, struct proto_links, admin),
	STR("webhook", 0, struct proto_links, webhook),
};
static const struct ftable t_links = TABLE(f_links);

/* ---- message fields (offsets into struct proto_msg) -------------------- */

#define ID        STR("id", FL_REQ, struct proto_msg, id)
#define PHONE     STR("phone", FL_REQ, struct proto_msg, phone)
#define SETTINGS(fl) { "settings", F_KV, fl, M(settings), M(nsettings), NULL, 0 }
#define ARR(k, fl, m, c, t, st) { k, F_ARR, fl, M(m), M(c), &t, sizeof(st) }

static const struct field f_hello[] = {
	STR("token", FL_REQ, struct proto_msg, token),
	STR("agent", 0, struct proto_msg, agent),
	INT("last_event", 0, struct proto_msg, last_event),
	INT("version", 0, struct proto_msg, version),
};
static const struct field f_welcome[] = {
	STR("hub_id", FL_REQ, struct proto_msg, hub_id),
	STR("role", FL_REQ, struct proto_msg, role),
	STR("agent", 0, struct proto_msg, agent),
	INT("version", FL_REQ, struct proto_msg, version),
	INT("server_time", FL_REQ, struct proto_msg, server_time),
	INT("last_event", FL_REQ, struct proto_msg, last_event),
	BOOL("brb", FL_REQ, struct proto_msg, brb),
	SETTINGS(FL_REQ),
	{ "limits", F_OBJ, FL_REQ, M(limits), 0, &t_limits, 0 },
	ARR("templates", FL_REQ, templates, ntemplates, t_template, struct proto_template),
};
static const struct field f_event[] = {
	INT("n", FL_REQ, struct proto_msg, n),
	INT("t", FL_REQ, struct proto_msg, t),
	/* "kind" is handled by the codec itself */
};
static const struct field f_ack[] = {
	ID,
	STR("message_id", 0, struct proto_msg, message_id),
	STR("state", 0, struct proto_msg, state),
	STR("route", 0, struct proto_msg, route),
	STR("template_id", 0, struct proto_msg, template_id),
	ARR("messages", 0, messages, nmessages, t_message, struct proto_message),
	BOOL("more", 0, struct proto_msg, more),
	ARR("canned", 0, canned, ncanned, t_canned, struct proto_canned),
	SETTINGS(0),
	ARR("templates", 0, templates, ntemplates, t_template, struct proto_template),
	{ "links", F_OBJ, 0, M(links), 0, &t_links, 0 },
	ARR("counters", 0, counters, ncounters, t_counter, struct proto_counter),
	INT("generation", 0, struct proto_msg, generation),
};
static const struct field f_error[] = {
	STR("id", 0, struct proto_msg, id),
	STR("code", FL_REQ, struct proto_msg, code),
	STR("message", FL_REQ, struct proto_msg, sentence),
	INT("count", 0, struct proto_msg, count),
	INT("allowed_at", 0, struct proto_msg, allowed_at),
};
static const struct field f_bye[] = {
	STR("code", FL_REQ, struct proto_msg, code),
	STR("message", FL_REQ, struct proto_msg, sentence),
};
static const struct field f_send[] = {
	ID, PHONE,
	STR("text", 0, struct proto_msg, text),
	{ "media", F_OBJ, 0, M(media), 0, &t_media, 0 },
};
static const struct field f_phone[] = { ID, PHONE };
static const struct field f_tag[] = { ID, PHONE, STR("tag", FL_REQ, struct proto_msg, tag) };
static const struct field f_note[] = { ID, PHONE, STR("text", FL_REQ, struct proto_msg, text) };
static const struct field f_cname[] = { ID, PHONE, STR("name", FL_REQ, struct proto_msg, name) };
static const struct field f_id[] = { ID };
static const struct field f_canned_add[] = {
	ID, STR("name", FL_REQ, struct proto_msg, name), STR("text", FL_REQ, struct proto_msg, text),
};
static const struct field f_canned_rm[] = { ID, STR("name", FL_REQ, struct proto_msg, name) };
static const struct field f_settings_set[] = { ID, SETTINGS(FL_REQ) };
static const struct field f_templates_add[] = {
	ID,
	STR("template_id", FL_REQ, struct proto_msg, template_id),
	STR("name", FL_REQ, struct proto_msg, name),
	STR("body", FL_REQ, struct proto_msg, body),
};
static const struct field f_templates_rm[] = {
	ID, STR("template_id", FL_REQ, struct proto_msg, template_id),
};
static const struct field f_history[] = {
	ID, PHONE,
	STR("before", 0, struct proto_msg, before),
	INT("limit", 0, struct proto_msg, limit),
};

struct ptype {
	const char     *name;
	int             command;
	enum proto_role role;
	struct ftable   t;
};

#define R_NONE  PROTO_ROLE_NONE
#define R_AGENT PROTO_ROLE_AGENT
#define R_SUP   PROTO_ROLE_SUPERVISOR
#define R_ADMIN PROTO_ROLE_ADMIN

/* The message table: one row per enum proto_type, in order. */
static const struct ptype types[PROTO_NTYPES] = {
	[PROTO_WELCOME]        = { "welcome", 0, R_NONE, TABLE(f_welcome) },
	[PROTO_EVENT]          = { "event", 0, R_NONE, TABLE(f_event) },
	[PROTO_ACK]            = { "ack", 0, R_NONE, TABLE(f_ack) },
	[PROTO_ERROR]          = { "error", 0, R_NONE, TABLE(f_error) },
	[PROTO_BYE]            = { "bye", 0, R_NONE, TABLE(f_bye) },
	[PROTO_HELLO]          = { "hello", 0, R_NONE, TABLE(f_hello) },
	[PROTO_SEND]           = { "send", 1, R_AGENT, TABLE(f_send) },
	[PROTO_TYPING]         = { "typing", 1, R_AGENT, TABLE(f_phone) },
	[PROTO_TAG]            = { "tag", 1, R_SUP, TABLE(f_tag) },
	[PROTO_UNTAG]          = { "untag", 1, R_SUP, TABLE(f_tag) },
	[PROTO_NOTE]           = { "note", 1, R_AGENT, TABLE(f_note) },
	[PROTO_CONTACT_NAME]   = { "contact.name", 1, R_AGENT, TABLE(f_cname) },
	[PROTO_READ]           = { "read", 1, R_AGENT, TABLE(f_phone) },
	[PROTO_CANNED_LIST]    = { "canned.list", 1, R_AGENT, TABLE(f_id) },
	[PROTO_CANNED_ADD]     = { "canned.add", 1, R_SUP, TABLE(f_canned_add) },
	[PROTO_CANNED_RM]      = { "canned.rm", 1, R_SUP, TABLE(f_canned_rm) },
	[PROTO_BRB_ON]         = { "brb.on", 1, R_AGENT, TABLE(f_id) },
	[PROTO_BRB_OFF]        = { "brb.off", 1, R_AGENT, TABLE(f_id) },
	[PROTO_SETTINGS_GET]   = { "settings.get", 1, R_AGENT, TABLE(f_id) },
	[PROTO_SETTINGS_SET]   = { "settings.set", 1, R_ADMIN, TABLE(f_settings_set) },
	[PROTO_TEMPLATES_LIST] = { "templates.list", 1, R_AGENT, TABLE(f_id) },
	[PROTO_TEMPLATES_ADD]  = { "templates.add", 1, R_ADMIN, TABLE(f_templates_add) },
	[PROTO_TEMPLATES_RM]   = { "templates.rm", 1, R_ADMIN, TABLE(f_templates_rm) },
	[PROTO_ACCESS_ROTATE]  = { "access.rotate", 1, R_ADMIN, TABLE(f_id) },
	[PROTO_HISTORY]        = { "history", 1, R_AGENT, TABLE(f_history) },
	[PROTO_COUNTERS]       = { "counters", 1, R_SUP, TABLE(f_id) },
};

/* ---- event kinds -------------------------------------------------------- */

static const struct field k_contact[] = {
	{ "contact", F_OBJ, FL_REQ, M(contact), 0, &t_contact, 0 },
};
static const struct field k_message[] = {
	{ "message", F_OBJ, FL_REQ, M(message), 0, &t_message, 0 },
};
static const struct field k_message_state[] = {
	STR("id", FL_REQ, struct proto_msg, message_id),
	PHONE,
	STR("state", FL_REQ, struct proto_msg, state),
	STR("reason", 0, struct proto_msg, reason),
};
static const struct field k_status[] = {
	PHONE,
	STR("status", FL_REQ, struct proto_msg, status),
	STR("agent", 0, struct proto_msg, agent),
};
static const struct field k_typing[] = { PHONE, STR("agent", FL_REQ, struct proto_msg, agent) };
static const struct field k_settings[] = { SETTINGS(FL_REQ) };
static const struct field k_brb[] = {
	BOOL("on", FL_REQ, struct proto_msg, brb),
	STR("agent", 0, struct proto_msg, agent),
};
static const struct field k_canned[] = {
	STR("name", FL_REQ, struct proto_msg, name),
	STR("text", 0, struct proto_msg, text),
	BOOL("removed", 0, struct proto_msg, removed),
};
static const struct field k_templates[] = {
	ARR("templates", FL_REQ, templates, ntemplates, t_template, struct proto_template),
};
static const struct field k_rotated[] = {
	INT("generation", FL_REQ, struct proto_msg, generation),
};

struct pkind {
	const char   *name;
	struct ftable t;
};

static const struct pkind kinds[PROTO_NKINDS] = {
	[PROTO_EV_CONTACT]        = { "contact", TABLE(k_contact) },
	[PROTO_EV_MESSAGE]        = { "message", TABLE(k_message) },
	[PROTO_EV_MESSAGE_STATE]  = { "message.state", TABLE(k_message_state) },
	[PROTO_EV_STATUS]         = { "status", TABLE(k_status) },
	[PROTO_EV_TYPING]         = { "typing", TABLE(k_typing) },
	[PROTO_EV_SETTINGS]       = { "settings", TABLE(k_settings) },
	[PROTO_EV_BRB]            = { "brb", TABLE(k_brb) },
	[PROTO_EV_CANNED]         = { "canned", TABLE(k_canned) },
	[PROTO_EV_TEMPLATES]      = { "templates", TABLE(k_templates) },
	[PROTO_EV_ACCESS_ROTATED] = { "access.rotated", TABLE(k_rotated) },
};

/* ---- error codes -------------------------------------------------------- */

static const struct proto_error errors[] = {
	{ "window.closed", "the 24 h session window is closed and template messaging is off" },
	{ "template.nomatch", "the session window is closed and the text matches no approved template" },
	{ "optin.missing", "the session window is closed and the customer has not opted in" },
	{ "media.session_only", "media can only be sent inside the 24 h session window" },
	{ "sandbox.text_only", "the sandbox sends text only" },
	{ "media.type", "this media type is not supported" },
	{ "media.size", "the file is larger than WhatsApp allows for its type" },
	{ "media.unknown", "the media names no file uploaded to this hub" },
	{ "media.download", "the file could not be downloaded from the provider" },
	{ "wallet.balance", "the wallet balance does not cover this message" },
	{ "limit.customer", "too many messages to this customer since their last message" },
	{ "limit.agent", "too many messages from this agent in the last 30 days" },
	{ "optout", "the customer opted out" },
	{ "auth.token", "unknown access token" },
	{ "auth.expired", "this link has expired; ask an admin for the new one" },
	{ "auth.role", "your role may not do this" },
	{ "auth.hello", "the first frame must be hello" },
	{ "auth.rate", "too many failed hellos from this address; try again later" },
	{ "proto.bad_frame", "the frame is not a valid protocol message" },
	{ "proto.too_big", "the frame is larger than 1 MiB" },
	{ "proto.unknown", "unknown message type" },
	{ "proto.slow", "the console did not keep up with events; reconnect to resume" },
	{ "bad_request", "a field has an invalid value" },
	{ "not_found", "no such item" },
	{ "exists", "the item already exists" },
	{ "shutdown", "the hub is shutting down" },
	{ "internal", "internal error in the hub" },
};

/* ---- helpers ------------------------------------------------------------ */

#define AT(base, off, T) ((T *)(void *)((char *)(base) + (off)))
#define CAT(base, off, T) ((const T *)(const void *)((const char *)(base) + (off)))

static int
obj_empty(const struct field *f, const void *base)
{
	/* An optional object is present when its first field is non-empty. */
	const struct field *first = &f->sub->f[0];
	const void *sub = (const char *)base + f->off;
	switch (first->kind) {
	case F_STR: return *CAT(sub, first->off, char *) == NULL;
	case F_INT: return *CAT(sub, first->off, int64_t) == 0;
	default: return 0;
	}
}

/*
 * Encoding writes the text directly, walking the same tables: building a
 * json-c tree first cost an allocation per field, and the hub encodes every
 * event once per change.  Keys come out in table order ("type" first, then
 * an event's n and t, then "kind"); strings are escaped as RFC 8259 asks
 * (", \ and the control characters) and otherwise copied, UTF-8 as is.
 */
static void
put_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	buf_putc(b, '"');
	for (; *p != '\0'; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		buf_append(b, run, (size_t)(p - run));
		run = p + 1;
		char e[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
		switch (*p) {
		case '"':  buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		case '\b': buf_append(b, "\\b", 2); break;
		case '\f': buf_append(b, "\\f", 2); break;
		default:   buf_append(b, e, sizeof e); break;
		}
	}
	buf_append(b, run, (size_t)(p - run));
	buf_putc(b, '"');
}

static void
put_json_int(struct buf *b, int64_t x)
{
	char tmp[24], *e = tmp + sizeof tmp, *q = e;
	uint64_t u = x < 0 ? -(uint64_t)x : (uint64_t)x;
	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (x < 0)
		*--q = '-';
	buf_append(b, q, (size_t)(e - q));
}

/* ,"name": (the comma unless it is the object's first key) */
static void
put_key(struct buf *b, const char *name, int *first)
{
	if (!*first)
		buf_putc(b, ',');
	*first = 0;
	put_json_str(b, name);
	buf_putc(b, ':');
}

static void encode_fields(struct buf *b, const struct ftable *t, const void *base, int *first);

static void
encode_obj(struct buf *b, const struct ftable *t, const void *base)
{
	int first = 1;
	buf_putc(b, '{');
	encode_fields(b, t, base, &first);
	buf_putc(b, '}');
}

static void
encode_fields(struct buf *b, const struct ftable *t, const void *base, int *first)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct field *f = &t->f[i];
		int req = (f->flags & FL_REQ) != 0;

		switch (f->kind) {
		case F_STR: {
			const char *s = *CAT(base, f->off, char *);
			if (s == NULL && !req)
				continue;
			put_key(b, f->name, first);
			put_json_str(b, s ? s : "");
			break;
		}
		case F_INT: {
			int64_t x = *CAT(base, f->off, int64_t);
			if (x == 0 && !req)
				continue;
			put_key(b, f->name, first);
			put_json_int(b, x);
			break;
		}
		case F_BOOL: {
			int x = *CAT(base, f->off, int);
			if (!x && !req)
				continue;
			put_key(b, f->name, first);
			buf_puts(b, x ? "true" : "false");
			break;
		}
		case F_STRV: {
			char *const *sv = *(char **const *)(const void *)((const char *)base + f->off);
			size_t n = *CAT(base, f->noff, size_t);
			if (n == 0 && !req)
				continue;
			put_key(b, f->name, first);
			buf_putc(b, '[');
			for (size_t j = 0; j < n; j++) {
				if (j > 0)
					buf_putc(b, ',');
				put_json_str(b, sv[j] ? sv[j] : "");
			}
			buf_putc(b, ']');
			break;
		}
		case F_OBJ:
			if (!req && obj_empty(f, base))
				continue;
			put_key(b, f->name, first);
			encode_obj(b, f->sub, (const char *)base + f->off);
			break;
		case F_ARR: {
			const char *arr = *CAT(base, f->off, char *);
			size_t n = *CAT(base, f->noff, size_t);
			if (n == 0 && !req)
				continue;
			put_key(b, f->name, first);
			buf_putc(b, '[');
			for (size_t j = 0; j < n; j++) {
				if (j > 0)
					buf_putc(b, ',');
				encode_obj(b, f->sub, arr + j * f->esize);
			}
			buf_putc(b, ']');
			break;
		}
		case F_KV: {
			const struct proto_setting *kv = *CAT(base, f->off, struct proto_setting *);
			size_t n = *CAT(base, f->noff, size_t);
			if (n == 0 && !req)
				continue;
			put_key(b, f->name, first);
			int kfirst = 1;
			buf_putc(b, '{');
			for (size_t j = 0; j < n; j++) {
				const char *val = kv[j].value ? kv[j].value : "";
				put_key(b, kv[j].key ? kv[j].key : "", &kfirst);
				if (kv[j].kind == PROTO_V_INT)
					put_json_int(b, strtoll(val, NULL, 10));
				else if (kv[j].kind == PROTO_V_BOOL)
					buf_puts(b, strcmp(val, "true") == 0 || strcmp(val, "1") == 0 ? "true"
					                                                            : "false");
				else
					put_json_str(b, val);
			}
			buf_putc(b, '}');
			break;
		}
		}
	}
}

char *
proto_encode(const struct proto_msg *m, size_t *len)
{
	struct buf b = { .data = xmalloc(512), .cap = 512 };     /* most frames fit */
	const char *tn = proto_type_name(m->type);
	int first = 1;

	buf_putc(&b, '{');
	put_key(&b, "type", &first);
	put_json_str(&b, tn ? tn : "error");
	if (tn != NULL)
		encode_fields(&b, &types[m->type].t, m, &first);
	if (m->type == PROTO_EVENT) {
		const char *kn = proto_kind_name(m->kind);
		put_key(&b, "kind", &first);
		put_json_str(&b, kn ? kn : "");
		if (kn != NULL)
			encode_fields(&b, &kinds[m->kind].t, m, &first);
	}
	buf_putc(&b, '}');
	if (len != NULL)
		*len = b.len;
	return buf_steal(&b);
}

/* ---- decoding ------------------------------------------------------------ */

static int decode_fields(json_object *o, const struct ftable *t, void *base, char **cause);

static const char *
json_kind_name(json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

static int
decode_one(json_object *v, const struct field *f, void *base, char **cause)
{
	switch (f->kind) {
	case F_STR:
		if (!json_object_is_type(v, json_type_string))
			goto wrong;
		*AT(base, f->off, char *) = xstrdup(json_object_get_string(v));
		return 0;
	case F_INT:
		if (!json_object_is_type(v, json_type_int))
			goto wrong;
		*AT(base, f->off, int64_t) = json_object_get_int64(v);
		return 0;
	case F_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			goto wrong;
		*AT(base, f->off, int) = json_object_get_boolean(v) ? 1 : 0;
		return 0;
	case F_STRV: {
		if (!json_object_is_type(v, json_type_array))
			goto wrong;
		size_t n = json_object_array_length(v);
		char **sv = xcalloc(n ? n : 1, sizeof *sv);
		*AT(base, f->off, char **) = sv;
		for (size_t j = 0; j < n; j++) {
			json_object *e = json_object_array_get_idx(v, j);
			if (!json_object_is_type(e, json_type_string)) {
				*cause = xasprintf("field '%s' must be an array of strings", f->name);
				return -1;
			}
			sv[j] = xstrdup(json_object_get_string(e));
			*AT(base, f->noff, size_t) = j + 1;
		}
		return 0;
	}
	case F_OBJ:
		if (!json_object_is_type(v, json_type_object))
			goto wrong;
		return decode_fields(v, f->sub, (char *)base + f->off, cause);
	case F_ARR: {
		if (!json_object_is_type(v, json_type_array))
			goto wrong;
		size_t n = json_object_array_length(v);
		char *arr = xcalloc(n ? n : 1, f->esize);
		*AT(base, f->off, char *) = arr;
		for (size_t j = 0; j < n; j++) {
			json_object *e = json_object_array_get_idx(v, j);
			/* count first, so release() frees a half-filled element */
			*AT(base, f->noff, size_t) = j + 1;
			if (!json_object_is_type(e, json_type_object)) {
				*cause = xasprintf("field '%s' must be an array of objects", f->name);
				return -1;
			}
			if (decode_fields(e, f->sub, arr + j * f->esize, cause) < 0)
				return -1;
		}
		return 0;
	}
	case F_KV: {
		if (!json_object_is_type(v, json_type_object))
			goto wrong;
		size_t n = (size_t)json_object_object_length(v), j = 0;
		struct proto_setting *kv = xcalloc(n ? n : 1, sizeof *kv);
		*AT(base, f->off, struct proto_setting *) = kv;
		json_object_object_foreach(v, key, val) {
			if (j == n)
				break;
			struct proto_setting *s = &kv[j];
			if (json_object_is_type(val, json_type_string)) {
				s->kind = PROTO_V_STRING;
				s->value = xstrdup(json_object_get_string(val));
			} else if (json_object_is_type(val, json_type_int)) {
				s->kind = PROTO_V_INT;
				s->value = xasprintf("%lld", (long long)json_object_get_int64(val));
			} else if (json_object_is_type(val, json_type_boolean)) {
				s->kind = PROTO_V_BOOL;
				s->value = xstrdup(json_object_get_boolean(val) ? "true" : "false");
			} else {
				*cause = xasprintf("setting '%s' must be a string, integer or boolean", key);
				return -1;
			}
			s->key = xstrdup(key);
			*AT(base, f->noff, size_t) = ++j;
		}
		return 0;
	}
	}
wrong:
	*cause = xasprintf("field '%s' must not be %s", f->name, json_kind_name(v));
	return -1;
}

static int
decode_fields(json_object *o, const struct ftable *t, void *base, char **cause)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct field *f = &t->f[i];
		json_object *v = NULL;

		if (!json_object_object_get_ex(o, f->name, &v) || v == NULL) {
			if (f->flags & FL_REQ) {
				*cause = xasprintf("missing field '%s'", f->name);
				return -1;
			}
			continue;
		}
		if (decode_one(v, f, base, cause) < 0)
			return -1;
	}
	return 0;
}

int
proto_decode(const char *data, size_t len, struct proto_msg *m,
             const char **code, char **cause)
{
	json_tokener *tok = NULL;
	json_object *o = NULL, *v;
	int rc = -1;

	memset(m, 0, sizeof *m);
	*code = "proto.bad_frame";
	*cause = NULL;
	if (len > PROTO_MAX_FRAME) {
		*code = "proto.too_big";
		*cause = xasprintf("frame of %zu bytes is over the limit of %d", len, PROTO_MAX_FRAME);
		return -1;
	}
	if (len == 0) {
		*cause = xstrdup("empty frame");
		return -1;
	}
	if (memchr(data, '\0', len) != NULL) {
		*cause = xstrdup("frame contains a NUL byte");
		return -1;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		*code = "internal";
		*cause = xstrdup("cannot allocate a JSON parser");
		return -1;
	}
	o = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (o == NULL || jerr != json_tokener_success) {
		*cause = xasprintf("not JSON: %s", jerr == json_tokener_continue ?
		    "unexpected end of frame" : json_tokener_error_desc(jerr));
		goto out;
	}
	for (size_t off = json_tokener_get_parse_end(tok); off < len; off++) {
		if (strchr(" \t\r\n", data[off]) == NULL) {
			*cause = xstrdup("trailing data after the JSON object");
			goto out;
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		*cause = xstrdup("frame is not a JSON object");
		goto out;
	}
	/* Read id first, so that even a bad command can be answered. */
	if (json_object_object_get_ex(o, "id", &v) && json_object_is_type(v, json_type_string))
		m->id = xstrdup(json_object_get_string(v));
	if (!json_object_object_get_ex(o, "type", &v) || !json_object_is_type(v, json_type_string)) {
		*cause = xstrdup("frame has no string field 'type'");
		goto out;
	}
	const char *tn = json_object_get_string(v);
	int t = proto_type_lookup(tn);
	if (t < 0) {
		*code = "proto.unknown";
		*cause = xasprintf("unknown message type '%.64s'", tn);
		goto out;
	}
	m->type = (enum proto_type)t;
	free((void *)m->id);
	m->id = NULL;
	if (decode_fields(o, &types[t].t, m, cause) < 0)
		goto out;
	if (m->type == PROTO_EVENT) {
		if (!json_object_object_get_ex(o, "kind", &v) ||
		    !json_object_is_type(v, json_type_string)) {
			*cause = xstrdup("event has no string field 'kind'");
			goto out;
		}
		int k = proto_kind_lookup(json_object_get_string(v));
		if (k < 0) {
			*code = "proto.unknown";
			*cause = xasprintf("unknown event kind '%.64s'", json_object_get_string(v));
			goto out;
		}
		m->kind = (enum proto_kind)k;
		if (decode_fields(o, &kinds[k].t, m, cause) < 0)
			goto out;
	}
	rc = 0;
	*code = NULL;
out:
	if (o != NULL)
		json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* ---- release -------------------------------------------------------------- */

static void
release_fields(const struct ftable *t, void *base)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct field *f = &t->f[i];
		switch (f->kind) {
		case F_STR:
			free(*AT(base, f->off, void *));
			*AT(base, f->off, char *) = NULL;
			break;
		case F_INT: case F_BOOL:
			break;
		case F_STRV: {
			char **sv = *AT(base, f->off, char **);
			size_t n = *AT(base, f->noff, size_t);
			for (size_t j = 0; j < n; j++)
				free(sv[j]);
			free(sv);
			*AT(base, f->off, char **) = NULL;
			*AT(base, f->noff, size_t) = 0;
			break;
		}
		case F_OBJ:
			release_fields(f->sub, (char *)base + f->off);
			break;
		case F_ARR: {
			char *arr = *AT(base, f->off, char *);
			size_t n = *AT(base, f->noff, size_t);
			for (size_t j = 0; j < n; j++)
				release_fields(f->sub, arr + j * f->esize);
			free(arr);
			*AT(base, f->off, char *) = NULL;
			*AT(base, f->noff, size_t) = 0;
			break;
		}
		case F_KV: {
			struct proto_setting *kv = *AT(base, f->off, struct proto_setting *);
			size_t n = *AT(base, f->noff, size_t);
			for (size_t j = 0; j < n; j++) {  /* decoded: we own them */
				free((void *)kv[j].key);
				free((void *)kv[j].value);
			}
			free(kv);
			*AT(base, f->off, struct proto_setting *) = NULL;
			*AT(base, f->noff, size_t) = 0;
			break;
		}
		}
	}
}

void
proto_msg_release(struct proto_msg *m)
{
	if (m == NULL)
		return;
	/* Fields shared by several types are released once: walk every table
	 * but free only what is still set (release_fields nulls as it goes). */
	free((void *)m->id);
	m->id = NULL;
	for (size_t i = 0; i < PROTO_NTYPES; i++)
		release_fields(&types[i].t, m);
	for (size_t i = 0; i < PROTO_NKINDS; i++)
		release_fields(&kinds[i].t, m);
	memset(m, 0, sizeof *m);
}

/* ---- lookups --------------------------------------------------------------- */

const char *
proto_type_name(enum proto_type t)
{
	if ((int)t < 0 || t >= PROTO_NTYPES)
		return NULL;
	return types[t].name;
}

int
proto_type_lookup(const char *name)
{
	for (size_t i = 0; i < PROTO_NTYPES; i++)
		if (strcmp(types[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
proto_type_is_command(enum proto_type t)
{
	return (int)t >= 0 && t < PROTO_NTYPES && types[t].command;
}

enum proto_role
proto_type_role(enum proto_type t)
{
	if ((int)t < 0 || t >= PROTO_NTYPES)
		return PROTO_ROLE_NONE;
	return types[t].role;
}

const char *
proto_kind_name(enum proto_kind k)
{
	if ((int)k < 0 || k >= PROTO_NKINDS)
		return NULL;
	return kinds[k].name;
}

int
proto_kind_lookup(const char *name)
{
	for (size_t i = 0; i < PROTO_NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *const role_names[] = { "agent", "supervisor", "admin" };

const char *
proto_role_name(enum proto_role r)
{
	if ((int)r < 0 || (size_t)r >= ARRAY_LEN(role_names))
		return NULL;
	return role_names[r];
}

enum proto_role
proto_role_lookup(const char *name)
{
	for (size_t i = 0; name != NULL && i < ARRAY_LEN(role_names); i++)
		if (strcmp(role_names[i], name) == 0)
			return (enum proto_role)i;
	return PROTO_ROLE_NONE;
}

const struct proto_error *
proto_error_lookup(const char *code)
{
	for (size_t i = 0; code != NULL && i < ARRAY_LEN(errors); i++)
		if (strcmp(errors[i].code, code) == 0)
			return &errors[i];
	return NULL;
}

const struct proto_error *
proto_error_table(size_t *n)
{
	*n = ARRAY_LEN(errors);
	return errors;
}

char *
proto_error_frame(const char *id, const char *code, const char *message, size_t *len)
{
	struct proto_msg m = {0};
	const struct proto_error *e = proto_error_lookup(code);

	m.type = PROTO_ERROR;
	m.id = id;
	m.code = code;
	m.sentence = message ? message : e ? e->sentence : "error";
	return proto_encode(&m, len);
}

const char *
proto_setting_get(const struct proto_setting *s, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].key != NULL && strcmp(s[i].key, key) == 0)
			return s[i].value;
	return NULL;
}

/* ---- HTTP media endpoints (docs/protocol.md) ------------------------------ */

static char *
json_steal(json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *out = xasprintf("%.*s\n", (int)n, s);
	json_object_put(o);
	return out;
}

char *
proto_http_error(const char *code, const char *message)
{
	json_object *o = json_object_new_object();
	const struct proto_error *e = proto_error_lookup(code);
	json_object_object_add(o, "code", json_object_new_string(code ? code : "error"));
	json_object_object_add(o, "message", json_object_new_string(message ? message
	                       : e ? e->sentence : "error"));
	return json_steal(o);
}

char *
proto_upload_reply(const char *sha256, const char *mime, int64_t size)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "sha256", json_object_new_string(sha256 ? sha256 : ""));
	json_object_object_add(o, "mime", json_object_new_string(mime ? mime : ""));
	json_object_object_add(o, "size", json_object_new_int64(size));
	return json_steal(o);
}
