/*
 * console_json.h — the JSON the subcommands print (`chats --json`,
 * `history --json`), documented in wadesk(1).  This is the console's only
 * JSON writer apart from the protocol codec, and it is an output format,
 * not wire JSON: json-c does the escaping, so customer text can never
 * break out of a string.
 */
#ifndef WADESK_CONSOLE_JSON_H
#define WADESK_CONSOLE_JSON_H

#include <stddef.h>

#include "store_cache.h"

/* An array of chat objects: phone, name, status, tags, note, opted_in,
 * last_inbound (RFC 3339 or null), unread, last_activity, failed,
 * responding.  xmalloc'd. */
char *cjson_chats(const struct cache_chat *v, size_t n);
/* An array of message objects, oldest first: id, direction, type, text,
 * state (out only), reason (failed only), agent, time, automated, and
 * for media messages media {mime, name, size, sha256, caption, state,
 * error, code}. */
char *cjson_history(const struct cache_msg *v, size_t n);

#endif
