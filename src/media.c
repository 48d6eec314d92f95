/*
 * media.c — the whitelist table and its caps.  The table is the seed FAQ's
 * list verbatim (video/mpeg appears once here although the FAQ repeats it).
 */
#include "media.h"

#include <stddef.h>
#include <strings.h>
#include <string.h>

#include "util.h"

static const struct media_type media_table[] = {
	{ "text/csv",                    MEDIA_DOCUMENT },
	{ "text/comma-separated-values", MEDIA_DOCUMENT },
	{ "text/plain",                  MEDIA_DOCUMENT },
	{ "application/csv",             MEDIA_DOCUMENT },
	{ "application/vnd.ms-excel",    MEDIA_DOCUMENT },
	{ "application/pdf",             MEDIA_DOCUMENT },
	{ "image/png",                   MEDIA_IMAGE },
	{ "image/jpeg",                  MEDIA_IMAGE },
	{ "image/jpg",                   MEDIA_IMAGE },
	{ "image/gif",                   MEDIA_IMAGE },
	{ "audio/mpeg3",                 MEDIA_AUDIO },
	{ "audio/x-mpeg-3",              MEDIA_AUDIO },
	{ "video/mpeg",                  MEDIA_VIDEO },
	{ "video/quicktime",             MEDIA_VIDEO },
	{ "video/mp4",                   MEDIA_VIDEO },
	{ "video/x-mpeg",                MEDIA_VIDEO },
};

static const struct {
	const char *name;
	const char *gupshup;
	int64_t     cap;
} category_table[] = {
	[MEDIA_DOCUMENT] = { "document", "file",  100 * 1000 * 1000 },
	[MEDIA_IMAGE]    = { "image",    "image",   5 * 1000 * 1000 },
	[MEDIA_AUDIO]    = { "audio",    "audio",  16 * 1000 * 1000 },
	[MEDIA_VIDEO]    = { "video",    "video",  16 * 1000 * 1000 },
};

const struct media_type *
media_lookup(const char *mime)
{
	if (mime == NULL)
		return NULL;
	size_t n = strcspn(mime, ";");
	while (n > 0 && (mime[n - 1] == ' ' || mime[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < ARRAY_LEN(media_table); i++) {
		if (strlen(media_table[i].mime) == n &&
		    strncasecmp(media_table[i].mime, mime, n) == 0)
			return &media_table[i];
	}
	return NULL;
}

int64_t
media_cap(enum media_category c)
{
	return category_table[c].cap;
}

const char *
media_category_name(enum media_category c)
{
	return category_table[c].name;
}

const char *
media_gupshup_type(enum media_category c)
{
	return category_table[c].gupshup;
}

int
media_check(const char *mime, int64_t size, const char **code, const char **why)
{
	const struct media_type *t = media_lookup(mime);
	if (t == NULL) {
		*code = "media.type";
		*why = "this file type cannot be sent on WhatsApp";
		return -1;
	}
	if (size < 0 || size > media_cap(t->category)) {
		*code = "media.size";
		*why = "this file is larger than WhatsApp allows for its kind";
		return -1;
	}
	return 0;
}
