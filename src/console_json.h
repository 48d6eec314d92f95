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
#include <stdint.h>

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

/*
 * The hub's answer to an upload (POST /v1/media): 201 {"sha256", "mime",
 * "size"} or an error {"code", "message"}.  Parses body (len bytes):
 * 0 with the fields found set (xmalloc'd strings, NULL when absent; *size
 * -1 when absent), -1 when it is not a JSON object.  This small HTTP
 * answer is read here rather than in the desk protocol's codec
 * (src/proto.c), whose frames it is not.
 */
int cjson_upload_answer(const char *body, size_t len, char **sha256, char **mime,
                        int64_t *size, char **code, char **message);

#endif
