/*
 * sanitize.c — terminal-safe text and display width.
 *
 * Design.  One decoder (text_decode) follows the Unicode standard's table
 * of well-formed UTF-8 byte sequences: a table gives, per lead byte, the
 * sequence length and the range allowed for the second byte (that range is
 * what excludes overlongs, surrogates and code points above U+10FFFF).  An
 * ill-formed sequence is replaced by one U+FFFD per maximal subpart, the
 * practice the standard recommends, so the decoder always advances.
 * Sanitising is then one pass: decode, look the code point up in a small
 * table of ranges (drop / newline), re-encode.  Output is never longer than
 * 3 bytes per input byte (U+FFFD for a lone byte), so the buffer is sized
 * once.
 *
 * Width and clusters go through utf8proc: utf8proc_charwidth() per code
 * point, utf8proc_grapheme_break_stateful() for cluster boundaries (see
 * sanitize.h for why widths are summed per code point).
 */
#include <string.h>

#include <utf8proc.h>

#include "sanitize.h"
#include "util.h"

#define REPLACEMENT 0xFFFDu

/* Per lead byte: sequence length and the allowed range of the 2nd byte. */
struct lead {
	unsigned char first, last;     /* lead byte range */
	unsigned char len;
	unsigned char lo, hi;          /* second byte range */
};
static const struct lead leads[] = {
	{ 0xC2, 0xDF, 2, 0x80, 0xBF },
	{ 0xE0, 0xE0, 3, 0xA0, 0xBF },  /* no overlongs */
	{ 0xE1, 0xEC, 3, 0x80, 0xBF },
	{ 0xED, 0xED, 3, 0x80, 0x9F },  /* no surrogates */
	{ 0xEE, 0xEF, 3, 0x80, 0xBF },
	{ 0xF0, 0xF0, 4, 0x90, 0xBF },  /* no overlongs */
	{ 0xF1, 0xF3, 4, 0x80, 0xBF },
	{ 0xF4, 0xF4, 4, 0x80, 0x8F },  /* nothing above U+10FFFF */
};

size_t
text_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	const struct lead *l = NULL;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	for (size_t i = 0; i < ARRAY_LEN(leads); i++) {
		if (u[0] >= leads[i].first && u[0] <= leads[i].last) {
			l = &leads[i];
			break;
		}
	}
	*cp = REPLACEMENT;
	if (l == NULL)
		return 1;
	if (len < 2 || u[1] < l->lo || u[1] > l->hi)
		return 1;
	uint32_t c = u[0] & (0xFF >> (l->len + 1));
	c = (c << 6) | (u[1] & 0x3F);
	for (size_t i = 2; i < l->len; i++) {
		if (i >= len || (u[i] & 0xC0) != 0x80)
			return i;       /* the maximal subpart so far */
		c = (c << 6) | (u[i] & 0x3F);
	}
	*cp = c;
	return l->len;
}

static size_t
encode(uint32_t c, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (c < 0x80) {
		o[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (unsigned char)(0xC0 | (c >> 6));
		o[1] = (unsigned char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (c >> 12));
		o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (c >> 18));
	o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (c & 0x3F));
	return 4;
}

/* What happens to a code point; everything outside the table is kept. */
enum action { KEEP, DROP, NEWLINE, SPACE_IN_LINE };

static const struct {
	uint32_t first, last;
	enum action action;
} actions[] = {
	{ 0x0000, 0x0008, DROP },           /* C0 controls ... */
	{ 0x0009, 0x0009, SPACE_IN_LINE },  /* tab */
	{ 0x000A, 0x000A, NEWLINE },
	{ 0x000B, 0x000C, DROP },
	{ 0x000D, 0x000D, DROP },           /* CR: a space in line mode */
	{ 0x000E, 0x001F, DROP },           /* ... ESC included */
	{ 0x007F, 0x009F, DROP },           /* DEL and the C1 controls */
	{ 0x061C, 0x061C, DROP },           /* ARABIC LETTER MARK */
	{ 0x200E, 0x200F, DROP },           /* LRM, RLM */
	{ 0x2028, 0x2029, NEWLINE },        /* line / paragraph separator */
	{ 0x202A, 0x202E, DROP },           /* bidi embeddings, overrides */
	{ 0x2066, 0x2069, DROP },           /* bidi isolates */
};

static enum action
action_of(uint32_t c)
{
	for (size_t i = 0; i < ARRAY_LEN(actions); i++)
		if (c >= actions[i].first && c <= actions[i].last)
			return actions[i].action;
	return KEEP;
}

static char *
sanitize(const char *in, size_t len, int line)
{
	char *out = xmalloc(len * 3 + 1);
	size_t o = 0, i = 0;

	while (i < len) {
		uint32_t c;
		size_t n = text_decode(in + i, len - i, &c);
		enum action a = action_of(c);

		if (line && c == '\r') {
			/* "\r\n" is one line break: one space. */
			if (i + 1 < len && in[i + 1] == '\n')
				n = 2;
			out[o++] = ' ';
		} else if (a == NEWLINE || a == SPACE_IN_LINE) {
			out[o++] = line ? ' ' : (a == NEWLINE ? '\n' : '\t');
		} else if (a == KEEP) {
			o += encode(c, out + o);
		}
		i += n;
	}
	out[o] = 0;
	return out;
}

char *
text_sanitize(const char *in, size_t len)
{
	return sanitize(in, len, 0);
}

char *
text_sanitize_line(const char *in, size_t len)
{
	return sanitize(in, len, 1);
}

static int
cp_width(uint32_t c)
{
	if (c == '\t')
		return 1;
	if (c < 0x20 || c == 0x7F)
		return 0;
	return utf8proc_charwidth((utf8proc_int32_t)c);
}

int
text_width_n(const char *s, size_t len)
{
	int w = 0;

	for (size_t i = 0; i < len;) {
		uint32_t c;
		i += text_decode(s + i, len - i, &c);
		w += cp_width(c);
	}
	return w;
}

int
text_width(const char *s)
{
	return text_width_n(s, strlen(s));
}

/*
 * Bytes of the grapheme cluster at s[0 .. len), at least 1 when len > 0;
 * its width in *w.
 */
static size_t
cluster(const char *s, size_t len, int *w)
{
	utf8proc_int32_t state = 0;
	uint32_t c, next;
	size_t i = text_decode(s, len, &c);

	*w = cp_width(c);
	while (i < len && s[i] != '\n' && c != '\n') {
		size_t n = text_decode(s + i, len - i, &next);
		if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)c,
		    (utf8proc_int32_t)next, &state))
			break;
		*w += cp_width(next);
		c = next;
		i += n;
	}
	return i;
}

int
text_char_width(const char *s, size_t *len)
{
	int w = 0;

	*len = s[0] ? cluster(s, strlen(s), &w) : 0;
	return w;
}

size_t
text_fit(const char *s, int cols)
{
	size_t len = strlen(s), i = 0;
	int used = 0;

	while (i < len) {
		int w;
		size_t n = cluster(s + i, len - i, &w);
		if (used + w > cols)
			break;
		used += w;
		i += n;
	}
	return i;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
emit(struct text_line *lines, size_t max, size_t *count, const char *s,
    size_t start, size_t end)
{
	if (*count < max) {
		lines[*count].start = start;
		lines[*count].len = end - start;
		lines[*count].width = text_width_n(s + start, end - start);
	}
	(*count)++;
}

/* Wraps one paragraph s[a .. b) (no \n inside). */
static void
wrap_paragraph(const char *s, size_t a, size_t b, int cols,
    struct text_line *lines, size_t max, size_t *count)
{
	size_t pos = a;

	if (a == b) {
		emit(lines, max, count, s, a, a);
		return;
	}
	while (pos < b) {
		size_t start = pos, i = pos;
		size_t brk_end = 0, brk_next = 0;  /* last space run: [end, next) */
		int used = 0, prev_blank = 0, broke = 0;

		while (i < b) {
			int w;
			size_t n = cluster(s + i, b - i, &w);
			int blank = is_blank(s[i]);

			if (blank && !prev_blank && i > start)
				brk_end = i;
			if (!blank && prev_blank && brk_end > start)
				brk_next = i;
			if (used + w > cols) {
				size_t end = i, next = i;
				if (blank) {
					while (end > start && is_blank(s[end - 1]))
						end--;
					while (next < b && is_blank(s[next]))
						next++;
					if (end == start)   /* only blanks: keep them */
						end = i;
				} else if (brk_next > start) {
					end = brk_end;
					next = brk_next;
				} else if (i == start) {
					end = next = i + n;  /* one too-wide cluster */
				}
				emit(lines, max, count, s, start, end);
				pos = next;
				broke = 1;
				break;
			}
			used += w;
			prev_blank = blank;
			i += n;
		}
		if (!broke) {
			emit(lines, max, count, s, start, b);
			pos = b;
		}
	}
}

size_t
text_wrap(const char *s, int cols, struct text_line *lines, size_t max)
{
	size_t count = 0, a = 0, len = strlen(s);

	if (cols < 1)
		cols = 1;
	for (;;) {
		const char *nl = memchr(s + a, '\n', len - a);
		size_t b = nl ? (size_t)(nl - s) : len;
		wrap_paragraph(s, a, b, cols, lines, max, &count);
		if (nl == NULL)
			break;
		a = b + 1;
	}
	return count;
}
