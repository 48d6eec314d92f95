/*
 * media.h — the MIME whitelist of the Gupshup/WhatsApp API as one table,
 * with each type's category and WhatsApp's size cap per category.
 *
 * Everything not in the table is refused with the stable code "media.type".
 * Lookups ignore ASCII case and any parameters ("text/plain; charset=utf-8").
 */
#ifndef WADESK_MEDIA_H
#define WADESK_MEDIA_H

#include <stdint.h>

enum media_category {
	MEDIA_DOCUMENT,          /* Gupshup message type "file" */
	MEDIA_IMAGE,
	MEDIA_AUDIO,
	MEDIA_VIDEO,
};

struct media_type {
	const char         *mime;
	enum media_category category;
};

/* The entry for mime, or NULL when the type is not allowed. */
const struct media_type *media_lookup(const char *mime);
/* Size cap in bytes: image 5 MB, audio and video 16 MB, document 100 MB. */
int64_t media_cap(enum media_category c);
/* "document", "image", "audio", "video". */
const char *media_category_name(enum media_category c);
/* Gupshup's message type for a category: "file", "image", "audio", "video". */
const char *media_gupshup_type(enum media_category c);
/*
 * Checks a (mime, size) pair.  0 when allowed; -1 with *code set to
 * "media.type" (not on the list) or "media.size" (over the cap) and *why to
 * a static sentence.
 */
int media_check(const char *mime, int64_t size, const char **code, const char **why);

/*
 * Inbound-only types: what customers' phones send that the outbound list
 * lacks (voice notes, stickers, 3GPP clips), kept when a customer sends
 * them and never sent by wadesk.  The entry (with its category, whose cap
 * applies) for libmagic's answer mime, or NULL.  Executables, archives,
 * scripts, HTML and the rest stay refused.
 */
const struct media_type *media_inbound_lookup(const char *mime);
/* 1 when mime is on the inbound-only list. */
int media_inbound_ok(const char *mime);

#endif
