/*
 * console_json.c — the subcommands' JSON output (see console_json.h).
 */
#include <string.h>

#include <json-c/json.h>

#include "console_json.h"
#include "status.h"
#include "util.h"

static json_object *
time_or_null(int64_t t)
{
	char s[32];
	return t > 0 ? json_object_new_string(time_rfc3339(t, s)) : NULL;
}

static char *
finish(json_object *arr)
{
	char *s = xstrdup(json_object_to_json_string_ext(arr,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return s;
}

char *
cjson_chats(const struct cache_chat *v, size_t n)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct cache_chat *c = &v[i];
		json_object *o = json_object_new_object(), *tags = json_object_new_array();
		const char *p = c->tags;
		while (p != NULL && *p != '\0') {
			if (*p == ',') {
				p++;
				continue;
			}
			const char *e = strchr(p, ',');
			size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
			json_object_array_add(tags, json_object_new_string_len(p, (int)len));
			p += len;
		}
		json_object_object_add(o, "phone", json_object_new_string(c->phone));
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "status",
		    json_object_new_string(status_name((enum chat_status)c->status)));
		json_object_object_add(o, "tags", tags);
		json_object_object_add(o, "note", json_object_new_string(c->note));
		json_object_object_add(o, "opted_in", json_object_new_boolean(c->opted_in));
		json_object_object_add(o, "last_inbound", time_or_null(c->last_inbound));
		json_object_object_add(o, "unread", json_object_new_int(c->unread));
		json_object_object_add(o, "last_activity", time_or_null(c->last_time));
		json_object_object_add(o, "failed", json_object_new_boolean(c->failed));
		json_object_object_add(o, "responding", c->status == CHAT_RESPONDING && *c->responding ?
		    json_object_new_string(c->responding) : NULL);
		json_object_array_add(arr, o);
	}
	return finish(arr);
}

static json_object *
str_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? json_object_new_string(s) : NULL;
}

/* A message's media: mime, name, size, sha256 (null until the hub has
 * the file), caption, state, and error/code while pending or refused. */
static json_object *
media_object(const struct cache_msg *m)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "mime", json_object_new_string(m->media_mime));
	json_object_object_add(o, "name", json_object_new_string(m->media_name != NULL ?
	    m->media_name : ""));
	json_object_object_add(o, "size", json_object_new_int64(m->media_size));
	json_object_object_add(o, "sha256", str_or_null(m->media_sha256));
	json_object_object_add(o, "caption", json_object_new_string(m->media_caption != NULL ?
	    m->media_caption : ""));
	json_object_object_add(o, "state", json_object_new_string(m->media_state != NULL &&
	    *m->media_state != '\0' ? m->media_state : "ready"));
	if (m->media_error != NULL && *m->media_error != '\0')
		json_object_object_add(o, "error", json_object_new_string(m->media_error));
	if (m->media_code != NULL && *m->media_code != '\0')
		json_object_object_add(o, "code", json_object_new_string(m->media_code));
	return o;
}

char *
cjson_history(const struct cache_msg *v, size_t n)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct cache_msg *m = &v[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(m->id));
		json_object_object_add(o, "direction", json_object_new_string(m->out ? "out" : "in"));
		json_object_object_add(o, "type", json_object_new_string(m->type));
		json_object_object_add(o, "text", json_object_new_string(m->text));
		if (m->out)
			json_object_object_add(o, "state", json_object_new_string(*m->state ? m->state : "queued"));
		if (m->out && *m->reason)
			json_object_object_add(o, "reason", json_object_new_string(m->reason));
		json_object_object_add(o, "agent", json_object_new_string(m->agent));
		json_object_object_add(o, "time", time_or_null(m->time));
		json_object_object_add(o, "automated", json_object_new_boolean(m->automated));
		if (m->media_mime != NULL && *m->media_mime != '\0')
			json_object_object_add(o, "media", media_object(m));
		json_object_array_add(arr, o);
	}
	return finish(arr);
}

static char *
get_str(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return xstrdup(json_object_get_string(v));
}

int
cjson_upload_answer(const char *body, size_t len, char **sha256, char **mime, int64_t *size,
    char **code, char **message)
{
	*sha256 = *mime = *code = *message = NULL;
	*size = -1;
	json_tokener *tok = json_tokener_new();
	if (tok == NULL)
		return -1;
	json_object *o = len > 0 && len < (size_t)INT32_MAX ?
	    json_tokener_parse_ex(tok, body, (int)len) : NULL;
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	*sha256 = get_str(o, "sha256");
	*mime = get_str(o, "mime");
	*code = get_str(o, "code");
	*message = get_str(o, "message");
	json_object *v;
	if (json_object_object_get_ex(o, "size", &v) && json_object_is_type(v, json_type_int))
		*size = json_object_get_int64(v);
	json_object_put(o);
	return 0;
}
