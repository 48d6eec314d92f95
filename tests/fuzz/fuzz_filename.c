/*
 * Fuzzes filename_safe().  Invariants: the result is non-empty, at most
 * FILENAME_MAX_BYTES bytes, has no '/' or '\', does not start with '.',
 * has no control character, is valid UTF-8 (always: invalid input becomes
 * U+FFFD), and cleaning it again changes nothing.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filename.h"
#include "sanitize.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = xstrndup((const char *)data, size);
	char *s = filename_safe(in);
	size_t len = strlen(s);

	assert(len > 0 && len <= FILENAME_MAX_BYTES);
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
	char *again = filename_safe(s);
	assert(strcmp(again, s) == 0);
	free(again);
	free(s);
	free(in);
	return 0;
}
