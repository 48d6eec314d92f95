/*
 * Fuzzes filename_safe(), and the media-name sanitiser the console saves
 * customers' files under: sniff_fix_name(filename_safe(x), mime) for every
 * kind of whitelisted type.  Invariants: the result is non-empty, at most
 * FILENAME_MAX_BYTES bytes (plus the extension sniff_fix_name may append),
 * has no '/' or '\', does not start with '.', has no control character or
 * bidi control, is valid UTF-8 (always: invalid input becomes U+FFFD), and
 * cleaning it again changes nothing.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filename.h"
#include "sanitize.h"
#include "sniff.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The checks every safe name passes. */
static void
check_safe(const char *s, size_t max)
{
	size_t len = strlen(s);
	assert(len > 0 && len <= max);
	assert(s[0] != '.' && strchr(s, '/') == NULL && strchr(s, '\\') == NULL);
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = text_decode(s + i, len - i, &c);
		if (c == 0xFFFD)
			assert(n == 3 && memcmp(s + i, "\xEF\xBF\xBD", 3) == 0);
		assert(c >= 0x20 && !(c >= 0x7F && c <= 0x9F));
		assert(!(c >= 0x202A && c <= 0x202E) && !(c >= 0x2066 && c <= 0x2069));
		i += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mimes[] = {
		"application/pdf", "text/csv", "text/plain", "application/vnd.ms-excel",
		"image/png", "image/jpeg", "image/jpg", "image/gif", "audio/mpeg3",
		"video/mp4", "video/quicktime", "video/mpeg", "application/x-unknown",
	};
	char *in = xstrndup((const char *)data, size);
	char *s = filename_safe(in);
	check_safe(s, FILENAME_MAX_BYTES);
	char *again = filename_safe(s);
	assert(strcmp(again, s) == 0);
	free(again);
	for (size_t m = 0; m < sizeof mimes / sizeof mimes[0]; m++) {
		char *f = sniff_fix_name(s, mimes[m]);
		check_safe(f, FILENAME_MAX_BYTES + 16);
		assert(strncmp(f, s, strlen(s)) == 0);     /* only ever appends */
		char *f2 = sniff_fix_name(f, mimes[m]);
		assert(strcmp(f2, f) == 0);
		free(f2);
		free(f);
	}
	free(s);
	free(in);
	return 0;
}
