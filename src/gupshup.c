/*
 * gupshup.c — Gupshup's WhatsApp wire formats (see gupshup.h).
 *
 * Design.  Every wire name (callback kinds, message types, event types,
 * user-event types) lives in one table of names indexed by its enum; the
 * per-type shapes of inbound message payloads and message-event payloads
 * live in small field tables (which JSON key goes to which struct member),
 * walked in both directions, so that what the sim builds is exactly what
 * the hub parses.
 *
 * Input is untrusted: bodies are length-delimited, may hold anything, and
 * the parser only ever reads members through typed accessors that accept
 * a missing or mistyped member as "absent".  Numbers Gupshup sometimes
 * sends as strings (ts, code, coordinates) are accepted either way.
 */
#include "gupshup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gupshup_json.h"
#include "util.h"

/* Short local names for the shared helpers (gupshup_json.h). */
#define json_parse gupshup_json_parse
#define jget       gupshup_json_get
#define jget_object gupshup_json_object
#define jstr       gupshup_json_str
#define jint       gupshup_json_int
#define jdouble    gupshup_json_double
#define jput_str   gupshup_json_put
#define json_take  gupshup_json_take

/* ---- Name tables ---- */

static const char *const kind_names[] = {
	[GUPSHUP_MESSAGE] = "message",
	[GUPSHUP_MESSAGE_EVENT] = "message-event",
	[GUPSHUP_USER_EVENT] = "user-event",
};

static const char *const msg_type_names[] = {
	[GUPSHUP_TEXT] = "text",
	[GUPSHUP_IMAGE] = "image",
	[GUPSHUP_FILE] = "file",
	[GUPSHUP_AUDIO] = "audio",
	[GUPSHUP_VIDEO] = "video",
	[GUPSHUP_LOCATION] = "location",
	[GUPSHUP_CONTACT] = "contact",
	[GUPSHUP_BUTTON_REPLY] = "button_reply",
	[GUPSHUP_LIST_REPLY] = "list_reply",
};

static const char *const event_type_names[] = {
	[GUPSHUP_EV_ENQUEUED] = "enqueued",
	[GUPSHUP_EV_FAILED] = "failed",
	[GUPSHUP_EV_SENT] = "sent",
	[GUPSHUP_EV_DELIVERED] = "delivered",
	[GUPSHUP_EV_READ] = "read",
	[GUPSHUP_EV_DELETED] = "deleted",
};

static const char *const user_type_names[] = {
	[GUPSHUP_USER_OPTED_IN] = "opted-in",
	[GUPSHUP_USER_OPTED_OUT] = "opted-out",
	[GUPSHUP_USER_SANDBOX_START] = "sandbox-start",
};

static const char *
name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return NULL;
	return names[v];
}

static int
index_of(const char *const *names, size_t n, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

const char *
gupshup_kind_name(enum gupshup_kind k)
{
	return name_of(kind_names, ARRAY_LEN(kind_names), (int)k);
}

const char *
gupshup_msg_type_name(enum gupshup_msg_type t)
{
	return name_of(msg_type_names, ARRAY_LEN(msg_type_names), (int)t);
}

const char *
gupshup_event_type_name(enum gupshup_event_type t)
{
	return name_of(event_type_names, ARRAY_LEN(event_type_names), (int)t);
}

const char *
gupshup_user_type_name(enum gupshup_user_type t)
{
	return name_of(user_type_names, ARRAY_LEN(user_type_names), (int)t);
}

int
gupshup_msg_type_parse(const char *name, enum gupshup_msg_type *out)
{
	int i = index_of(msg_type_names, ARRAY_LEN(msg_type_names), name);
	if (i < 0)
		return -1;
	*out = (enum gupshup_msg_type)i;
	return 0;
}

int
gupshup_event_type_parse(const char *name, enum gupshup_event_type *out)
{
	int i = index_of(event_type_names, ARRAY_LEN(event_type_names), name);
	if (i < 0)
		return -1;
	*out = (enum gupshup_event_type)i;
	return 0;
}

int
gupshup_user_type_parse(const char *name, enum gupshup_user_type *out)
{
	int i = index_of(user_type_names, ARRAY_LEN(user_type_names), name);
	if (i < 0)
		return -1;
	*out = (enum gupshup_user_type)i;
	return 0;
}

/* ---- JSON helpers ---- */

/*
 * Parses len bytes as exactly one JSON value.  0 with *out (a new
 * reference), or -1 with *cause naming what was wrong.
 */
int
gupshup_json_parse(const char *body, size_t len, const char *what, struct json_object **out,
           char **cause)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error err;
	char *copy;
	size_t end;

	*out = NULL;
	if (body == NULL || len == 0) {
		*cause = xasprintf("%s is empty", what);
		return -1;
	}
	if (memchr(body, '\0', len) != NULL) {
		*cause = xasprintf("%s is not JSON: it contains a NUL byte", what);
		return -1;
	}
	if (len > INT32_MAX - 1) {
		*cause = xasprintf("%s is too large", what);
		return -1;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		*cause = xasprintf("cannot parse %s: out of memory", what);
		return -1;
	}
	/* A NUL-terminated copy, parsed with its terminator, so that a value
	 * ending at the last byte (a bare number) is complete. */
	copy = xstrndup(body, len);
	obj = json_tokener_parse_ex(tok, copy, (int)len + 1);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL || err != json_tokener_success) {
		*cause = xasprintf("%s is not JSON: %s", what,
		                   err == json_tokener_success || err == json_tokener_continue
		                       ? "unexpected end" : json_tokener_error_desc(err));
		json_object_put(obj);
		goto fail;
	}
	/* Only whitespace may follow the value (end counts the NUL, too). */
	for (size_t i = end; i < len; i++) {
		if (copy[i] != ' ' && copy[i] != '\t' && copy[i] != '\n' && copy[i] != '\r') {
			*cause = xasprintf("%s is not JSON: garbage after the value", what);
			json_object_put(obj);
			goto fail;
		}
	}
	json_tokener_free(tok);
	free(copy);
	*out = obj;
	return 0;
fail:
	json_tokener_free(tok);
	free(copy);
	return -1;
}

struct json_object *
gupshup_json_get(struct json_object *obj, const char *key)
{
	struct json_object *v;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

struct json_object *
gupshup_json_object(struct json_object *obj, const char *key)
{
	struct json_object *v = jget(obj, key);
	return v != NULL && json_object_is_type(v, json_type_object) ? v : NULL;
}

struct json_object *
gupshup_json_array(struct json_object *obj, const char *key)
{
	struct json_object *v = jget(obj, key);
	return v != NULL && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* The member as a new string: strings as they are, numbers and booleans
 * in their JSON spelling, anything else (null, objects, arrays) absent. */
char *
gupshup_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v = jget(obj, key);
	if (v == NULL)
		return NULL;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return xstrndup(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		return xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	default:
		return NULL;
	}
}

/* The member as an integer (number or numeric string); 0 when absent. */
int64_t
gupshup_json_int(struct json_object *obj, const char *key)
{
	struct json_object *v = jget(obj, key);
	if (v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		return json_object_get_int64(v);
	case json_type_double: {
		double d = json_object_get_double(v);
		if (!isfinite(d) || d > 9.2e18 || d < -9.2e18)
			return 0;
		return (int64_t)d;
	}
	case json_type_string: {
		const char *s = json_object_get_string(v);
		char *end;
		long long n = strtoll(s, &end, 10);
		return end != s && *end == '\0' ? (int64_t)n : 0;
	}
	default:
		return 0;
	}
}

double
gupshup_json_double(struct json_object *obj, const char *key)
{
	struct json_object *v = jget(obj, key);
	double d = 0;
	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
		d = json_object_get_double(v);
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		d = strtod(s, &end);
		if (end == s || *end != '\0')
			d = 0;
	}
	return isfinite(d) ? d : 0;
}

void
gupshup_json_put(struct json_object *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_object_add(obj, key, json_object_new_string(value));
}

char *
gupshup_json_take(struct json_object *obj)
{
	char *s = xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	return s;
}

static void
xfree_const(const char *p)
{
	free((void *)(uintptr_t)p);
}

/* ---- Inbound message payloads ---- */

/* Where a string member of the inner payload goes in struct gupshup_message. */
enum msg_field { F_TEXT, F_URL, F_MIME, F_FILENAME, F_POSTBACK };

struct msg_key {
	enum msg_field field;
	const char    *key;
};

/* Per inbound type: the inner payload's string members, in priority order
 * (the first present key wins for a field).  Build uses the first key of
 * each field. */
static const struct msg_key text_keys[] = { { F_TEXT, "text" } };
static const struct msg_key media_keys[] = {
	{ F_URL, "url" }, { F_MIME, "contentType" }, { F_TEXT, "caption" },
	{ F_FILENAME, "name" },
};
static const struct msg_key location_keys[] = {
	{ F_TEXT, "name" }, { F_TEXT, "address" },
};
static const struct msg_key reply_keys[] = {
	{ F_TEXT, "title" }, { F_POSTBACK, "postbackText" }, { F_POSTBACK, "id" },
	{ F_TEXT, "reply" },
};

static const struct {
	const struct msg_key *keys;
	size_t                nkeys;
} msg_shapes[] = {
	[GUPSHUP_TEXT] = { text_keys, ARRAY_LEN(text_keys) },
	[GUPSHUP_IMAGE] = { media_keys, ARRAY_LEN(media_keys) },
	[GUPSHUP_FILE] = { media_keys, ARRAY_LEN(media_keys) },
	[GUPSHUP_AUDIO] = { media_keys, ARRAY_LEN(media_keys) },
	[GUPSHUP_VIDEO] = { media_keys, ARRAY_LEN(media_keys) },
	[GUPSHUP_LOCATION] = { location_keys, ARRAY_LEN(location_keys) },
	[GUPSHUP_CONTACT] = { NULL, 0 },
	[GUPSHUP_BUTTON_REPLY] = { reply_keys, ARRAY_LEN(reply_keys) },
	[GUPSHUP_LIST_REPLY] = { reply_keys, ARRAY_LEN(reply_keys) },
};

static const char **
msg_field_slot(struct gupshup_message *m, enum msg_field f)
{
	switch (f) {
	case F_TEXT: return &m->text;
	case F_URL: return &m->url;
	case F_MIME: return &m->mime;
	case F_FILENAME: return &m->filename;
	case F_POSTBACK: return &m->postback;
	}
	return &m->text;
}

/* A contact card's display name: contacts[0].name.formatted_name, or its
 * first_name, or the first phone. */
static char *
contact_name(struct json_object *inner)
{
	struct json_object *arr = jget(inner, "contacts"), *c, *name, *phones;
	char *s;

	if (arr == NULL || !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) == 0)
		return NULL;
	c = json_object_array_get_idx(arr, 0);
	name = jget_object(c, "name");
	if ((s = jstr(name, "formatted_name")) != NULL ||
	    (s = jstr(name, "first_name")) != NULL)
		return s;
	phones = jget(c, "phones");
	if (phones != NULL && json_object_is_type(phones, json_type_array) &&
	    json_object_array_length(phones) > 0)
		return jstr(json_object_array_get_idx(phones, 0), "phone");
	return NULL;
}

static int
parse_message(struct json_object *payload, struct gupshup_message *m, char **cause)
{
	struct json_object *inner, *sender, *context;
	char *type;

	type = jstr(payload, "type");
	if (type == NULL) {
		*cause = xstrdup("message without a payload type");
		return -1;
	}
	if (gupshup_msg_type_parse(type, &m->type) != 0) {
		*cause = xasprintf("unknown message type '%.64s'", type);
		free(type);
		return -1;
	}
	free(type);

	m->id = jstr(payload, "id");
	if (m->id == NULL || *m->id == '\0') {
		*cause = xstrdup("message without an id");
		return -1;
	}
	sender = jget_object(payload, "sender");
	m->phone = jstr(sender, "phone");
	if (m->phone == NULL || *m->phone == '\0') {
		xfree_const(m->phone);
		m->phone = jstr(payload, "source");
	}
	if (m->phone == NULL || *m->phone == '\0') {
		*cause = xstrdup("message without a sender phone");
		return -1;
	}
	m->name = jstr(sender, "name");

	inner = jget_object(payload, "payload");
	if (inner == NULL) {
		*cause = xasprintf("%s message without a payload object",
		                   gupshup_msg_type_name(m->type));
		return -1;
	}
	for (size_t i = 0; i < msg_shapes[m->type].nkeys; i++) {
		const struct msg_key *k = &msg_shapes[m->type].keys[i];
		const char **slot = msg_field_slot(m, k->field);
		if (*slot == NULL)
			*slot = jstr(inner, k->key);
	}
	if (m->type == GUPSHUP_TEXT && m->text == NULL) {
		*cause = xstrdup("text message without text");
		return -1;
	}
	if (msg_shapes[m->type].keys == media_keys)
		m->url_expiry = jint(inner, "urlExpiry");
	if (m->type == GUPSHUP_LOCATION) {
		m->latitude = jdouble(inner, "latitude");
		m->longitude = jdouble(inner, "longitude");
	}
	if (m->type == GUPSHUP_CONTACT)
		m->text = contact_name(inner);

	context = jget_object(payload, "context");
	m->context_id = jstr(context, "id");
	m->context_gs_id = jstr(context, "gsId");
	m->payload_json = xstrdup(json_object_to_json_string_ext(inner,
	        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}

static struct json_object *
build_message_inner(const struct gupshup_message *m)
{
	struct json_object *inner;

	if (m->payload_json != NULL) {
		inner = json_tokener_parse(m->payload_json);
		if (inner != NULL && json_object_is_type(inner, json_type_object))
			return inner;
		json_object_put(inner);
	}
	inner = json_object_new_object();
	if ((size_t)m->type >= ARRAY_LEN(msg_shapes))
		return inner;
	/* First key of each field only: the table lists the canonical key first. */
	for (size_t i = 0; i < msg_shapes[m->type].nkeys; i++) {
		const struct msg_key *k = &msg_shapes[m->type].keys[i];
		int first = 1;
		for (size_t j = 0; j < i; j++)
			if (msg_shapes[m->type].keys[j].field == k->field)
				first = 0;
		if (!first)
			continue;
		jput_str(inner, k->key, *msg_field_slot((struct gupshup_message *)(uintptr_t)m,
		                                        k->field));
	}
	if (msg_shapes[m->type].keys == media_keys && m->url_expiry > 0)
		json_object_object_add(inner, "urlExpiry", json_object_new_int64(m->url_expiry));
	if (m->type == GUPSHUP_LOCATION) {
		json_object_object_add(inner, "latitude", json_object_new_double(m->latitude));
		json_object_object_add(inner, "longitude", json_object_new_double(m->longitude));
	}
	if (m->type == GUPSHUP_CONTACT && m->text != NULL) {
		struct json_object *arr = json_object_new_array(), *c = json_object_new_object(),
		                   *name = json_object_new_object();
		jput_str(name, "formatted_name", m->text);
		json_object_object_add(c, "name", name);
		json_object_array_add(arr, c);
		json_object_object_add(inner, "contacts", arr);
	}
	return inner;
}

static struct json_object *
build_message(const struct gupshup_message *m)
{
	struct json_object *p = json_object_new_object(), *sender, *context;
	const char *digits = m->phone != NULL ? m->phone : "";

	jput_str(p, "id", m->id);
	jput_str(p, "source", m->phone);
	jput_str(p, "type", gupshup_msg_type_name(m->type));
	json_object_object_add(p, "payload", build_message_inner(m));
	sender = json_object_new_object();
	jput_str(sender, "phone", m->phone);
	jput_str(sender, "name", m->name);
	/* Gupshup also gives the number split at the country code. */
	{
		size_t cc = gupshup_country_code_len(digits);
		if (cc > 0 && strlen(digits) > cc) {
			char code[4];
			memcpy(code, digits, cc);
			code[cc] = '\0';
			jput_str(sender, "country_code", code);
			jput_str(sender, "dial_code", digits + cc);
		}
	}
	json_object_object_add(p, "sender", sender);
	if (m->context_id != NULL || m->context_gs_id != NULL) {
		context = json_object_new_object();
		jput_str(context, "id", m->context_id);
		jput_str(context, "gsId", m->context_gs_id);
		json_object_object_add(p, "context", context);
	}
	return p;
}

/* ---- Message events ---- */

static int
parse_event(struct json_object *payload, struct gupshup_event *e, char **cause)
{
	struct json_object *inner;
	char *type, *id;

	type = jstr(payload, "type");
	if (type == NULL) {
		*cause = xstrdup("message-event without a type");
		return -1;
	}
	if (gupshup_event_type_parse(type, &e->type) != 0) {
		*cause = xasprintf("unknown message-event type '%.64s'", type);
		free(type);
		return -1;
	}
	free(type);
	id = jstr(payload, "id");
	if (id == NULL || *id == '\0') {
		free(id);
		*cause = xasprintf("%s event without an id", gupshup_event_type_name(e->type));
		return -1;
	}
	inner = jget_object(payload, "payload");
	e->destination = jstr(payload, "destination");
	switch (e->type) {
	case GUPSHUP_EV_ENQUEUED:
		e->gs_id = id;
		e->wa_id = jstr(inner, "whatsappMessageId");
		e->conversation = jstr(inner, "type");
		break;
	case GUPSHUP_EV_FAILED:
		e->gs_id = id;
		e->code = (int)jint(inner, "code");
		e->reason = jstr(inner, "reason");
		break;
	case GUPSHUP_EV_SENT:
	case GUPSHUP_EV_DELIVERED:
	case GUPSHUP_EV_READ:
	case GUPSHUP_EV_DELETED:
		e->wa_id = id;
		e->gs_id = jstr(payload, "gsId");
		e->ts = jint(inner, "ts");
		break;
	}
	return 0;
}

static struct json_object *
build_event(const struct gupshup_event *e)
{
	struct json_object *p = json_object_new_object(), *inner = json_object_new_object();

	switch (e->type) {
	case GUPSHUP_EV_ENQUEUED:
		jput_str(p, "id", e->gs_id);
		jput_str(inner, "whatsappMessageId", e->wa_id);
		jput_str(inner, "type", e->conversation != NULL ? e->conversation : "session");
		break;
	case GUPSHUP_EV_FAILED:
		jput_str(p, "id", e->gs_id);
		json_object_object_add(inner, "code", json_object_new_int(e->code));
		jput_str(inner, "reason", e->reason);
		break;
	case GUPSHUP_EV_SENT:
	case GUPSHUP_EV_DELIVERED:
	case GUPSHUP_EV_READ:
	case GUPSHUP_EV_DELETED:
		jput_str(p, "id", e->wa_id != NULL ? e->wa_id : e->gs_id);
		jput_str(p, "gsId", e->gs_id);
		if (e->type != GUPSHUP_EV_DELETED)
			json_object_object_add(inner, "ts", json_object_new_int64(e->ts));
		break;
	}
	jput_str(p, "type", gupshup_event_type_name(e->type));
	jput_str(p, "destination", e->destination);
	json_object_object_add(p, "payload", inner);
	return p;
}

/* ---- User events ---- */

static int
parse_user(struct json_object *payload, struct gupshup_user_event *u, char **cause)
{
	char *type = jstr(payload, "type");
	if (type == NULL) {
		*cause = xstrdup("user-event without a type");
		return -1;
	}
	if (gupshup_user_type_parse(type, &u->type) != 0) {
		*cause = xasprintf("unknown user-event type '%.64s'", type);
		free(type);
		return -1;
	}
	free(type);
	u->phone = jstr(payload, "phone");
	if (u->phone == NULL || *u->phone == '\0') {
		*cause = xasprintf("%s event without a phone", gupshup_user_type_name(u->type));
		return -1;
	}
	return 0;
}

static struct json_object *
build_user(const struct gupshup_user_event *u)
{
	struct json_object *p = json_object_new_object();
	jput_str(p, "phone", u->phone);
	jput_str(p, "type", gupshup_user_type_name(u->type));
	return p;
}

/* ---- Callbacks ---- */

int
gupshup_callback_parse(const char *body, size_t len, struct gupshup_callback *out,
                       char **cause)
{
	struct json_object *root, *version, *payload;
	char *kind;
	int rc = -1, k;

	memset(out, 0, sizeof *out);
	*cause = NULL;
	if (json_parse(body, len, "callback", &root, cause) != 0)
		return -1;
	if (!json_object_is_type(root, json_type_object)) {
		*cause = xstrdup("callback is not a JSON object");
		goto done;
	}
	version = jget(root, "version");
	if (version == NULL || jint(root, "version") != 2) {
		*cause = xstrdup("callback is not version 2");
		goto done;
	}
	kind = jstr(root, "type");
	k = index_of(kind_names, ARRAY_LEN(kind_names), kind);
	if (k < 0) {
		*cause = kind == NULL ? xstrdup("callback without a type")
		                      : xasprintf("unknown callback type '%.64s'", kind);
		free(kind);
		goto done;
	}
	free(kind);
	out->kind = (enum gupshup_kind)k;
	payload = jget_object(root, "payload");
	if (payload == NULL) {
		*cause = xasprintf("%s callback without a payload object", kind_names[k]);
		goto done;
	}
	out->app = jstr(root, "app");
	out->timestamp = jint(root, "timestamp");
	switch (out->kind) {
	case GUPSHUP_MESSAGE:
		rc = parse_message(payload, &out->msg, cause);
		break;
	case GUPSHUP_MESSAGE_EVENT:
		rc = parse_event(payload, &out->ev, cause);
		break;
	case GUPSHUP_USER_EVENT:
		rc = parse_user(payload, &out->user, cause);
		break;
	}
done:
	json_object_put(root);
	if (rc != 0)
		gupshup_callback_release(out);
	return rc;
}

void
gupshup_callback_release(struct gupshup_callback *cb)
{
	if (cb == NULL)
		return;
	xfree_const(cb->app);
	xfree_const(cb->msg.id);
	xfree_const(cb->msg.phone);
	xfree_const(cb->msg.name);
	xfree_const(cb->msg.text);
	xfree_const(cb->msg.url);
	xfree_const(cb->msg.mime);
	xfree_const(cb->msg.filename);
	xfree_const(cb->msg.postback);
	xfree_const(cb->msg.context_id);
	xfree_const(cb->msg.context_gs_id);
	xfree_const(cb->msg.payload_json);
	xfree_const(cb->ev.gs_id);
	xfree_const(cb->ev.wa_id);
	xfree_const(cb->ev.destination);
	xfree_const(cb->ev.reason);
	xfree_const(cb->ev.conversation);
	xfree_const(cb->user.phone);
	memset(cb, 0, sizeof *cb);
}

char *
gupshup_callback_build(const struct gupshup_callback *cb)
{
	struct json_object *root = json_object_new_object(), *payload = NULL;

	jput_str(root, "app", cb->app);
	json_object_object_add(root, "timestamp", json_object_new_int64(cb->timestamp));
	json_object_object_add(root, "version", json_object_new_int(2));
	jput_str(root, "type", gupshup_kind_name(cb->kind));
	switch (cb->kind) {
	case GUPSHUP_MESSAGE:
		payload = build_message(&cb->msg);
		break;
	case GUPSHUP_MESSAGE_EVENT:
		payload = build_event(&cb->ev);
		break;
	case GUPSHUP_USER_EVENT:
		payload = build_user(&cb->user);
		break;
	}
	json_object_object_add(root, "payload", payload != NULL ? payload
	                                                         : json_object_new_object());
	return json_take(root);
}

/* ---- Forms ---- */

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void
url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (unreserved(*p)) {
			buf_putc(b, (char)*p);
		} else if (*p == ' ') {
			buf_putc(b, '+');
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(b, e, 3);
		}
	}
}

void
gupshup_form_add(struct buf *form, const char *name, const char *value)
{
	if (form->len > 0)
		buf_putc(form, '&');
	url_encode(form, name);
	buf_putc(form, '=');
	url_encode(form, value != NULL ? value : "");
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *
url_decode(const char *s, size_t len)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '+') {
			buf_putc(&b, ' ');
		} else if (s[i] == '%' && i + 2 < len &&
		           (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			buf_putc(&b, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_putc(&b, s[i]);
		}
	}
	return buf_steal(&b);
}

void
gupshup_form_decode(const char *body, size_t len, struct gupshup_field **fields, size_t *n)
{
	size_t cap = 0, i = 0;

	*fields = NULL;
	*n = 0;
	while (body != NULL && i < len) {
		size_t start = i, eq = (size_t)-1;
		while (i < len && body[i] != '&') {
			if (body[i] == '=' && eq == (size_t)-1)
				eq = i;
			i++;
		}
		if (i > start) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*fields = xrealloc(*fields, cap * sizeof **fields);
			}
			if (eq == (size_t)-1) {
				(*fields)[*n].name = url_decode(body + start, i - start);
				(*fields)[*n].value = xstrdup("");
			} else {
				(*fields)[*n].name = url_decode(body + start, eq - start);
				(*fields)[*n].value = url_decode(body + eq + 1, i - eq - 1);
			}
			(*n)++;
		}
		i++;    /* skip '&' */
	}
}

const char *
gupshup_form_get(const struct gupshup_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fields[i].name, name) == 0)
			return fields[i].value;
	}
	return NULL;
}

void
gupshup_form_free(struct gupshup_field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(fields[i].name);
		free(fields[i].value);
	}
	free(fields);
}

/* ---- The send API ---- */

/* Outbound message JSON per type: which key carries the URL and whether a
 * caption / filename / preview goes along. */
static const struct {
	const char *url_key;        /* NULL: not a media type */
	int         caption, filename, preview;
} send_shapes[] = {
	[GUPSHUP_TEXT] = { NULL, 0, 0, 0 },
	[GUPSHUP_IMAGE] = { "originalUrl", 1, 0, 1 },
	[GUPSHUP_FILE] = { "url", 1, 1, 0 },        /* documents carry a caption too */
	[GUPSHUP_AUDIO] = { "url", 0, 0, 0 },
	[GUPSHUP_VIDEO] = { "url", 1, 0, 0 },
};

static int
sendable(enum gupshup_msg_type t)
{
	return (size_t)t < ARRAY_LEN(send_shapes);
}

const char *
gupshup_send_path(const struct gupshup_send *s)
{
	return s->is_template ? GUPSHUP_PATH_TEMPLATE : GUPSHUP_PATH_MSG;
}

char *
gupshup_send_message_json(const struct gupshup_send *s, char **cause)
{
	struct json_object *m;

	if (s->is_template) {
		struct json_object *params = json_object_new_array();
		if (s->template_id == NULL || *s->template_id == '\0') {
			json_object_put(params);
			*cause = xstrdup("template send without a template id");
			return NULL;
		}
		m = json_object_new_object();
		jput_str(m, "id", s->template_id);
		for (size_t i = 0; i < s->nparams; i++)
			json_object_array_add(params, json_object_new_string(
			        s->params[i] != NULL ? s->params[i] : ""));
		json_object_object_add(m, "params", params);
		return json_take(m);
	}
	if (!sendable(s->type)) {
		*cause = xasprintf("cannot send a %s message", gupshup_msg_type_name(s->type)
		                   ? gupshup_msg_type_name(s->type) : "unknown");
		return NULL;
	}
	if (s->type == GUPSHUP_TEXT && s->text == NULL) {
		*cause = xstrdup("text message without text");
		return NULL;
	}
	if (s->type != GUPSHUP_TEXT && (s->url == NULL || *s->url == '\0')) {
		*cause = xasprintf("%s message without a url", gupshup_msg_type_name(s->type));
		return NULL;
	}
	m = json_object_new_object();
	jput_str(m, "type", gupshup_msg_type_name(s->type));
	if (s->type == GUPSHUP_TEXT) {
		jput_str(m, "text", s->text);
		return json_take(m);
	}
	jput_str(m, send_shapes[s->type].url_key, s->url);
	if (send_shapes[s->type].preview)
		jput_str(m, "previewUrl", s->preview_url != NULL ? s->preview_url : s->url);
	if (send_shapes[s->type].caption)
		jput_str(m, "caption", s->text);
	if (send_shapes[s->type].filename)
		jput_str(m, "filename", s->filename);
	return json_take(m);
}

char *
gupshup_send_form(const struct gupshup_send *s, char **cause)
{
	struct buf form = { 0 };
	char *json;

	*cause = NULL;
	if (s->source == NULL || *s->source == '\0') {
		*cause = xstrdup("send without a source number");
		return NULL;
	}
	if (s->destination == NULL || *s->destination == '\0') {
		*cause = xstrdup("send without a destination number");
		return NULL;
	}
	if (s->app == NULL || *s->app == '\0') {
		*cause = xstrdup("send without an app name");
		return NULL;
	}
	json = gupshup_send_message_json(s, cause);
	if (json == NULL)
		return NULL;
	gupshup_form_add(&form, "channel", "whatsapp");
	gupshup_form_add(&form, "source", s->source);
	gupshup_form_add(&form, "destination", s->destination);
	gupshup_form_add(&form, s->is_template ? "template" : "message", json);
	gupshup_form_add(&form, "src.name", s->app);
	free(json);
	return buf_steal(&form);
}

static int
parse_message_json(const char *json, struct gupshup_send *out, char **cause)
{
	struct json_object *m;
	char *type, *why = NULL;
	int rc = -1;

	if (json_parse(json, strlen(json), "message", &m, &why) != 0) {
		*cause = xasprintf("Invalid message: %s", why);
		free(why);
		return -1;
	}
	if (!json_object_is_type(m, json_type_object)) {
		*cause = xstrdup("Invalid message: not a JSON object");
		goto done;
	}
	type = jstr(m, "type");
	if (type == NULL) {
		*cause = xstrdup("Invalid message: no type");
		goto done;
	}
	if (gupshup_msg_type_parse(type, &out->type) != 0 || !sendable(out->type)) {
		*cause = xasprintf("Invalid message type '%.64s'", type);
		free(type);
		goto done;
	}
	free(type);
	if (out->type == GUPSHUP_TEXT) {
		out->text = jstr(m, "text");
		if (out->text == NULL || *out->text == '\0') {
			*cause = xstrdup("Invalid message: text is empty");
			goto done;
		}
		rc = 0;
		goto done;
	}
	out->url = jstr(m, send_shapes[out->type].url_key);
	if (out->url == NULL)
		out->url = jstr(m, "url");
	if (out->url == NULL || *out->url == '\0') {
		*cause = xasprintf("Invalid message: %s without %s", gupshup_msg_type_name(out->type),
		                   send_shapes[out->type].url_key);
		goto done;
	}
	out->preview_url = jstr(m, "previewUrl");
	out->text = jstr(m, "caption");
	out->filename = jstr(m, "filename");
	rc = 0;
done:
	json_object_put(m);
	return rc;
}

static int
parse_template_json(const char *json, struct gupshup_send *out, char **cause)
{
	struct json_object *t, *params;
	char *why = NULL, **list = NULL;
	size_t n = 0;
	int rc = -1;

	if (json_parse(json, strlen(json), "template", &t, &why) != 0) {
		*cause = xasprintf("Invalid template: %s", why);
		free(why);
		return -1;
	}
	if (!json_object_is_type(t, json_type_object)) {
		*cause = xstrdup("Invalid template: not a JSON object");
		goto done;
	}
	out->template_id = jstr(t, "id");
	if (out->template_id == NULL || *out->template_id == '\0') {
		*cause = xstrdup("Invalid template: no id");
		goto done;
	}
	params = jget(t, "params");
	if (params != NULL && !json_object_is_type(params, json_type_array)) {
		*cause = xstrdup("Invalid template: params is not an array");
		goto done;
	}
	n = params != NULL ? json_object_array_length(params) : 0;
	list = xcalloc(n + 1, sizeof *list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(params, i);
		if (!json_object_is_type(p, json_type_string)) {
			for (size_t j = 0; j < i; j++)
				free(list[j]);
			free(list);
			*cause = xasprintf("Invalid template: param %zu is not a string", i + 1);
			goto done;
		}
		list[i] = xstrndup(json_object_get_string(p), (size_t)json_object_get_string_len(p));
	}
	out->params = list;
	out->nparams = n;
	rc = 0;
done:
	json_object_put(t);
	return rc;
}

int
gupshup_send_parse(const char *body, size_t len, int is_template, struct gupshup_send *out,
                   char **cause)
{
	static const char *const required[] = { "channel", "source", "destination", "src.name" };
	struct gupshup_field *f;
	const char *v;
	size_t n;
	int rc = -1;

	memset(out, 0, sizeof *out);
	*cause = NULL;
	out->is_template = is_template;
	gupshup_form_decode(body, len, &f, &n);
	for (size_t i = 0; i < ARRAY_LEN(required); i++) {
		v = gupshup_form_get(f, n, required[i]);
		if (v == NULL || *v == '\0') {
			*cause = xasprintf("Missing %s", required[i]);
			goto done;
		}
	}
	if (strcmp(gupshup_form_get(f, n, "channel"), "whatsapp") != 0) {
		*cause = xstrdup("Invalid channel");
		goto done;
	}
	out->source = xstrdup(gupshup_form_get(f, n, "source"));
	out->destination = xstrdup(gupshup_form_get(f, n, "destination"));
	out->app = xstrdup(gupshup_form_get(f, n, "src.name"));
	v = gupshup_form_get(f, n, is_template ? "template" : "message");
	if (v == NULL || *v == '\0') {
		*cause = xasprintf("Missing %s", is_template ? "template" : "message");
		goto done;
	}
	rc = is_template ? parse_template_json(v, out, cause) : parse_message_json(v, out, cause);
done:
	gupshup_form_free(f, n);
	if (rc != 0)
		gupshup_send_release(out);
	return rc;
}

void
gupshup_send_release(struct gupshup_send *s)
{
	if (s == NULL)
		return;
	xfree_const(s->source);
	xfree_const(s->destination);
	xfree_const(s->app);
	xfree_const(s->text);
	xfree_const(s->url);
	xfree_const(s->preview_url);
	xfree_const(s->filename);
	xfree_const(s->template_id);
	for (size_t i = 0; i < s->nparams; i++)
		free(s->params[i]);
	free((void *)(uintptr_t)s->params);
	memset(s, 0, sizeof *s);
}

/* ---- Replies ---- */

char *
gupshup_reply_submitted(const char *message_id)
{
	struct json_object *r = json_object_new_object();
	jput_str(r, "status", "submitted");
	jput_str(r, "messageId", message_id != NULL ? message_id : "");
	return json_take(r);
}

char *
gupshup_reply_error(const char *message)
{
	struct json_object *r = json_object_new_object();
	jput_str(r, "status", "error");
	jput_str(r, "message", message != NULL ? message : "error");
	return json_take(r);
}

int
gupshup_reply_parse(const char *body, size_t len, char **message_id, char **cause)
{
	struct json_object *r;
	char *status, *id, *msg;
	int rc = -1;

	*message_id = NULL;
	*cause = NULL;
	if (json_parse(body, len, "reply", &r, cause) != 0)
		return -1;
	status = jstr(r, "status");
	id = jstr(r, "messageId");
	msg = jstr(r, "message");
	if (status != NULL && (strcmp(status, "submitted") == 0 || strcmp(status, "success") == 0) &&
	    id != NULL && *id != '\0') {
		*message_id = id;
		id = NULL;
		rc = 0;
	} else if (msg != NULL && *msg != '\0') {
		*cause = msg;
		msg = NULL;
	} else if (status != NULL) {
		*cause = xasprintf("reply status '%.64s' without a message id", status);
	} else {
		*cause = xstrdup("reply without a status");
	}
	free(status);
	free(id);
	free(msg);
	json_object_put(r);
	return rc;
}

/* ---- Country codes ---- */

size_t
gupshup_country_code_len(const char *phone)
{
	/* World zones 1 and 7 have one-digit codes; these two-digit codes are
	 * ITU-T E.164's; every other code in zones 2-9 has three digits. */
	static const char *const two[] = {
		"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44",
		"45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58",
		"60", "61", "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91",
		"92", "93", "94", "95", "98",
	};
	if (phone == NULL || phone[0] < '0' || phone[0] > '9' || phone[0] == '0')
		return 0;
	if (phone[0] == '1' || phone[0] == '7')
		return 1;
	if (phone[1] < '0' || phone[1] > '9')
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(two); i++) {
		if (phone[0] == two[i][0] && phone[1] == two[i][1])
			return 2;
	}
	if (phone[2] < '0' || phone[2] > '9')
		return 0;
	return 3;
}

/* ---- Account APIs ---- */

/* An error reply's message as the cause, or a sentence about what the body is. */
static char *
reply_cause(struct json_object *r, const char *what)
{
	char *msg = jstr(r, "message");
	if (msg != NULL && *msg != '\0')
		return msg;
	free(msg);
	return xasprintf("%s reply without %s", what, what);
}

char *
gupshup_templates_build(const struct gupshup_template *t, size_t n)
{
	struct json_object *r = json_object_new_object(), *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		jput_str(o, "id", t[i].id);
		jput_str(o, "elementName", t[i].name);
		jput_str(o, "data", t[i].body);
		jput_str(o, "status", t[i].status != NULL ? t[i].status : "APPROVED");
		jput_str(o, "category", t[i].category != NULL ? t[i].category : "UTILITY");
		jput_str(o, "languageCode", t[i].language != NULL ? t[i].language : "en");
		jput_str(o, "templateType", "TEXT");
		json_object_array_add(arr, o);
	}
	jput_str(r, "status", "success");
	json_object_object_add(r, "templates", arr);
	return json_take(r);
}

int
gupshup_templates_parse(const char *body, size_t len, struct gupshup_template **t, size_t *n,
                        char **cause)
{
	struct json_object *r, *arr;
	size_t count;

	*t = NULL;
	*n = 0;
	*cause = NULL;
	if (json_parse(body, len, "templates", &r, cause) != 0)
		return -1;
	arr = jget(r, "templates");
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		*cause = reply_cause(r, "templates");
		json_object_put(r);
		return -1;
	}
	count = json_object_array_length(arr);
	*t = xcalloc(count + 1, sizeof **t);
	for (size_t i = 0; i < count; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct gupshup_template *e = &(*t)[*n];
		e->id = jstr(o, "id");
		e->body = jstr(o, "data");
		if (e->id == NULL || e->body == NULL) {
			xfree_const(e->id);
			xfree_const(e->body);
			memset(e, 0, sizeof *e);
			continue;
		}
		e->name = jstr(o, "elementName");
		e->status = jstr(o, "status");
		e->category = jstr(o, "category");
		e->language = jstr(o, "languageCode");
		(*n)++;
	}
	json_object_put(r);
	return 0;
}

void
gupshup_templates_free(struct gupshup_template *t, size_t n)
{
	for (size_t i = 0; t != NULL && i < n; i++) {
		xfree_const(t[i].id);
		xfree_const(t[i].name);
		xfree_const(t[i].body);
		xfree_const(t[i].status);
		xfree_const(t[i].category);
		xfree_const(t[i].language);
	}
	free(t);
}

char *
gupshup_users_build(const struct gupshup_user *u, size_t n)
{
	struct json_object *r = json_object_new_object(), *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const char *phone = u[i].phone != NULL ? u[i].phone : "";
		size_t cc = gupshup_country_code_len(phone);
		char code[4] = "";
		memcpy(code, phone, cc);
		code[cc] = '\0';
		jput_str(o, "countryCode", code);
		jput_str(o, "phoneCode", phone + cc);
		json_object_object_add(o, "lastMessageTimeStamp",
		                       json_object_new_int64(u[i].last_message_ms));
		jput_str(o, "optinSource", "API");
		jput_str(o, "optinStatus", u[i].opted_in ? "OPT_IN" : "OPT_OUT");
		json_object_object_add(o, "optinTimeStamp", json_object_new_int64(u[i].optin_ms));
		json_object_array_add(arr, o);
	}
	jput_str(r, "status", "success");
	json_object_object_add(r, "users", arr);
	return json_take(r);
}

int
gupshup_users_parse(const char *body, size_t len, struct gupshup_user **u, size_t *n,
                    char **cause)
{
	struct json_object *r, *arr;
	size_t count;

	*u = NULL;
	*n = 0;
	*cause = NULL;
	if (json_parse(body, len, "users", &r, cause) != 0)
		return -1;
	arr = jget(r, "users");
	if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
		*cause = reply_cause(r, "users");
		json_object_put(r);
		return -1;
	}
	count = json_object_array_length(arr);
	*u = xcalloc(count + 1, sizeof **u);
	for (size_t i = 0; i < count; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		char *cc = jstr(o, "countryCode"), *pc = jstr(o, "phoneCode"), *st;
		if (pc == NULL) {
			free(cc);
			continue;
		}
		(*u)[*n].phone = xasprintf("%s%s", cc != NULL ? cc : "", pc);
		free(cc);
		free(pc);
		st = jstr(o, "optinStatus");
		(*u)[*n].opted_in = st != NULL && strcmp(st, "OPT_IN") == 0;
		free(st);
		(*u)[*n].optin_ms = jint(o, "optinTimeStamp");
		(*u)[*n].last_message_ms = jint(o, "lastMessageTimeStamp");
		(*n)++;
	}
	json_object_put(r);
	return 0;
}

void
gupshup_users_free(struct gupshup_user *u, size_t n)
{
	for (size_t i = 0; u != NULL && i < n; i++)
		xfree_const(u[i].phone);
	free(u);
}

char *
gupshup_wallet_build(int64_t balance_micro, int64_t overdraft_micro)
{
	struct json_object *r = json_object_new_object(), *w = json_object_new_object();
	jput_str(w, "currency", "USD");
	json_object_object_add(w, "currentBalance",
	                       json_object_new_double((double)balance_micro / 1e6));
	json_object_object_add(w, "overDraftLimit",
	                       json_object_new_double((double)overdraft_micro / 1e6));
	jput_str(r, "status", "success");
	json_object_object_add(r, "walletResponse", w);
	return json_take(r);
}

int
gupshup_wallet_parse(const char *body, size_t len, int64_t *balance_micro, char **cause)
{
	struct json_object *r, *w;
	double d;

	*balance_micro = 0;
	*cause = NULL;
	if (json_parse(body, len, "wallet", &r, cause) != 0)
		return -1;
	w = jget_object(r, "walletResponse");
	if (w == NULL || jget(w, "currentBalance") == NULL) {
		*cause = reply_cause(r, "wallet");
		json_object_put(r);
		return -1;
	}
	d = jdouble(w, "currentBalance");
	*balance_micro = (int64_t)llround(d * 1e6);
	json_object_put(r);
	return 0;
}
