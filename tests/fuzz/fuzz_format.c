/*
 * Fuzzes format.c.  Invariants: parsing succeeds; spans are sorted,
 * non-empty, in bounds and cover plain exactly; plain is never longer than
 * the input and is the input with some ASCII markers removed; spans start on
 * character boundaries when the input is valid UTF-8 (markers are ASCII).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "sanitize.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), *plain;
	size_t len = strlen(text), n, at = 0, k = 0;
	struct fmt_span *sp;

	int valid = 1;
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t m = text_decode(text + i, len - i, &c);
		if (c == 0xFFFD && (m != 3 || memcmp(text + i, "\xEF\xBF\xBD", 3) != 0))
			valid = 0;
		i += m;
	}
	assert(format_parse(text, &plain, &sp, &n) == 0);
	size_t plen = strlen(plain);
	assert(plen <= len);
	for (size_t i = 0; i < n; i++) {
		assert(sp[i].start == at && sp[i].len > 0);
		assert(sp[i].flags <= (FMT_BOLD | FMT_ITALIC | FMT_STRIKE | FMT_MONO));
		assert(i == 0 || sp[i].flags != sp[i - 1].flags);
		if (valid)
			assert(((unsigned char)plain[sp[i].start] & 0xC0) != 0x80);
		at += sp[i].len;
	}
	assert(at == plen);
	/* plain is text with only marker bytes removed: same non-markers, in order */
	for (size_t i = 0; i < len; i++) {
		if (strchr("*_~`", text[i]) != NULL)
			continue;
		while (k < plen && strchr("*_~`", plain[k]) != NULL)
			k++;
		assert(k < plen && plain[k] == text[i]);
		k++;
	}
	while (k < plen && strchr("*_~`", plain[k]) != NULL)
		k++;
	assert(k == plen);
	free(text);
	free(plain);
	free(sp);
	return 0;
}
