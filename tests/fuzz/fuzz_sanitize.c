/*
 * Fuzzes sanitize.c.  Invariants: the output is valid UTF-8 with no C0/C1
 * control except \n and \t (none at all in line mode), no bidi control,
 * and sanitising it again changes nothing; width, fit and wrap stay in
 * bounds and wrap covers the text in order without splitting a character.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

static int
forbidden(uint32_t c, int line)
{
	if (c == '\n' || c == '\t')
		return line;
	return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x061C ||
	    c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

static void
check_clean(const char *s, int line)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = text_decode(s + i, len - i, &c);
		/* valid: a U+FFFD must really be encoded as EF BF BD */
		if (c == 0xFFFD)
			assert(n == 3 && memcmp(s + i, "\xEF\xBF\xBD", 3) == 0);
		assert(!forbidden(c, line));
		i += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = text_sanitize((const char *)data, size);
	char *l = text_sanitize_line((const char *)data, size);
	size_t len = strlen(s);

	check_clean(s, 0);
	check_clean(l, 1);
	char *again = text_sanitize(s, len);
	assert(strcmp(again, s) == 0);
	free(again);
	again = text_sanitize_line(l, strlen(l));
	assert(strcmp(again, l) == 0);
	free(again);

	int w = text_width(s);
	assert(w >= 0);
	int cols = size ? data[0] % 40 : 1;
	size_t fit = text_fit(s, cols);
	assert(fit <= len && text_width_n(s, fit) <= cols);

	struct text_line lines[64];
	size_t n = text_wrap(s, cols, lines, 64), prev_end = 0;
	assert(n >= 1);
	for (size_t i = 0; i < n && i < 64; i++) {
		assert(lines[i].start >= prev_end);
		assert(lines[i].start + lines[i].len <= len);
		/* never starts inside a character */
		assert(((unsigned char)s[lines[i].start] & 0xC0) != 0x80);
		size_t e = lines[i].start + lines[i].len;
		assert(e == len || ((unsigned char)s[e] & 0xC0) != 0x80);
		if (lines[i].width > (cols < 1 ? 1 : cols)) {
			size_t cl;
			text_char_width(s + lines[i].start, &cl);
			assert(cl == lines[i].len);   /* one too-wide cluster */
		}
		prev_end = e;
	}
	free(s);
	free(l);
	return 0;
}
