/*
 * gupshup_json.h — json-c helpers shared by the two halves of the Gupshup
 * codec (gupshup.c, gupshup_sim.c) and by nothing else: the only code
 * allowed to touch json-c besides the desk protocol codec.
 *
 * Readers are forgiving by design: a missing member, or one of the wrong
 * type, reads as absent (NULL / 0), so untrusted input can never make the
 * codec dereference what is not there.
 */
#ifndef WADESK_GUPSHUP_JSON_H
#define WADESK_GUPSHUP_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Exactly one JSON value in len bytes: 0 with *out (a new reference), or
 * -1 with *cause ("WHAT is not JSON: ..."). */
int gupshup_json_parse(const char *body, size_t len, const char *what,
                       struct json_object **out, char **cause);
/* Member key of an object (NULL when obj is not an object or lacks it). */
struct json_object *gupshup_json_get(struct json_object *obj, const char *key);
/* As gupshup_json_get, but only when the member is an object / array. */
struct json_object *gupshup_json_object(struct json_object *obj, const char *key);
struct json_object *gupshup_json_array(struct json_object *obj, const char *key);
/* A string member as a new string (numbers and booleans spelled out). */
char *gupshup_json_str(struct json_object *obj, const char *key);
/* An integer member (number or numeric string); 0 when absent. */
int64_t gupshup_json_int(struct json_object *obj, const char *key);
double gupshup_json_double(struct json_object *obj, const char *key);
/* Adds a string member unless value is NULL. */
void gupshup_json_put(struct json_object *obj, const char *key, const char *value);
/* Compact text of obj (xmalloc'd); drops the reference. */
char *gupshup_json_take(struct json_object *obj);

#endif
