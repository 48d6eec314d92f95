/*
 * format.c — WhatsApp markup parsed into plain text and style spans.
 *
 * Design.  Two passes over the bytes, then one to build the output.
 *  1. Monospace first, because nothing inside it is markup: each ``` that
 *     may open is paired with the next ``` that may close.  If an opener
 *     finds no closer, no later opener can either, so the pass stops: the
 *     whole pass is linear.
 *  2. Outside monospace (which is opaque), line by line, the single-byte
 *     markers (one table: * _ ~) are matched with a stack, as an inline
 *     parser does: a marker that may close pops to the nearest opener of
 *     its kind (openers above it are dropped and stay literal), else a
 *     marker that may open is pushed.  Matched pairs are therefore always
 *     properly nested.
 *  3. Each pair marks its marker bytes as removed and adds +1/-1 to a
 *     per-style difference array over its content; one walk then copies
 *     the kept bytes and cuts a new span wherever the running style set
 *     changes.
 * Markers are ASCII, so every cut falls on a character boundary.
 */
#include <string.h>

#include <utf8proc.h>

#include "format.h"
#include "sanitize.h"
#include "util.h"

static const struct {
	char     marker;
	unsigned flag;
} markers[] = {
	{ '*', FMT_BOLD },
	{ '_', FMT_ITALIC },
	{ '~', FMT_STRIKE },
};

#define NFLAGS 4           /* FMT_BOLD .. FMT_MONO, one bit each */
#define NONE   0xFFFFFFFFu /* no character (start or end of text) */

static const char mono[] = "```";
#define MONO_LEN 3

struct parse {
	const char    *text;
	size_t         len;
	unsigned char *removed;    /* per input byte: a matched marker */
	unsigned char *in_mono;    /* per input byte: inside ```...``` */
	int           *diff;       /* NFLAGS x (len + 1) */
};

/* The code point that ends just before byte i, or NONE. */
static uint32_t
cp_before(const struct parse *p, size_t i)
{
	size_t start;
	uint32_t c;

	if (i == 0)
		return NONE;
	start = i - 1;
	while (start > 0 && i - start < 4 &&
	    ((unsigned char)p->text[start] & 0xC0) == 0x80)
		start--;
	if (text_decode(p->text + start, i - start, &c) != i - start)
		return 0xFFFD;
	return c;
}

static uint32_t
cp_at(const struct parse *p, size_t i)
{
	uint32_t c;

	if (i >= p->len)
		return NONE;
	text_decode(p->text + i, p->len - i, &c);
	return c;
}

static int
is_space(uint32_t c)
{
	if (c == NONE)
		return 0;
	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ZS;
}

static int
is_word(uint32_t c)
{
	if (c == NONE)
		return 0;
	switch (utf8proc_category((utf8proc_int32_t)c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* A marker of mlen bytes at i may open: a non-space follows, no word char precedes. */
static int
can_open(const struct parse *p, size_t i, size_t mlen)
{
	uint32_t next = cp_at(p, i + mlen);
	return next != NONE && !is_space(next) && !is_word(cp_before(p, i));
}

/* ... may close: a non-space precedes, no word char follows. */
static int
can_close(const struct parse *p, size_t i, size_t mlen)
{
	uint32_t prev = cp_before(p, i);
	return prev != NONE && !is_space(prev) && !is_word(cp_at(p, i + mlen));
}

static int
flag_bit(unsigned flag)
{
	int b = 0;
	while (!(flag & 1u)) {
		flag >>= 1;
		b++;
	}
	return b;
}

static void
pair(struct parse *p, size_t open, size_t close, size_t mlen, unsigned flag)
{
	int *d = p->diff + (size_t)flag_bit(flag) * (p->len + 1);

	memset(p->removed + open, 1, mlen);
	memset(p->removed + close, 1, mlen);
	d[open + mlen]++;
	d[close]--;
}

static int
is_mono(const struct parse *p, size_t i)
{
	return i + MONO_LEN <= p->len && memcmp(p->text + i, mono, MONO_LEN) == 0;
}

/* Pass 1: pairs ``` markers and masks everything from opener to closer. */
static void
parse_mono(struct parse *p)
{
	for (size_t i = 0; i < p->len; i++) {
		if (!is_mono(p, i) || !can_open(p, i, MONO_LEN))
			continue;
		size_t j = i + MONO_LEN + 1;
		while (j < p->len && !(is_mono(p, j) && can_close(p, j, MONO_LEN)))
			j++;
		if (j >= p->len)
			return;   /* no closer for this opener, so none for later ones */
		pair(p, i, j, MONO_LEN, FMT_MONO);
		memset(p->in_mono + i, 1, j + MONO_LEN - i);
		i = j + MONO_LEN - 1;
	}
}

static int
marker_index(char c)
{
	for (size_t k = 0; k < ARRAY_LEN(markers); k++)
		if (markers[k].marker == c)
			return (int)k;
	return -1;
}

/*
 * Pass 2: * _ ~ outside monospace.  A newline outside monospace empties the
 * stack, so no span crosses it; a monospace stretch is opaque, so
 * "*```x```*" is bold monospace.
 */
static void
parse_inline(struct parse *p, size_t *stack)
{
	size_t depth = 0;

	for (size_t i = 0; i < p->len; i++) {
		int k;
		if (p->in_mono[i])
			continue;
		if (p->text[i] == '\n') {
			depth = 0;
			continue;
		}
		if ((k = marker_index(p->text[i])) < 0)
			continue;
		if (can_close(p, i, 1)) {
			size_t s = depth;
			while (s > 0 && p->text[stack[s - 1]] != p->text[i])
				s--;
			if (s > 0 && stack[s - 1] + 1 < i) {
				pair(p, stack[s - 1], i, 1, markers[k].flag);
				depth = s - 1;
				continue;
			}
		}
		if (can_open(p, i, 1))
			stack[depth++] = i;
	}
}

int
format_parse(const char *text, char **plain, struct fmt_span **spans, size_t *nspans)
{
	struct parse p;
	struct fmt_span *sp = NULL;
	size_t nsp = 0, o = 0, *stack;
	int count[NFLAGS] = { 0 };
	char *out;

	*plain = NULL;
	*spans = NULL;
	*nspans = 0;
	if (text == NULL)
		return -1;
	p.text = text;
	p.len = strlen(text);
	p.removed = xcalloc(p.len + 1, 1);
	p.in_mono = xcalloc(p.len + 1, 1);
	p.diff = xcalloc(NFLAGS * (p.len + 1), sizeof *p.diff);
	stack = xmalloc((p.len + 1) * sizeof *stack);

	parse_mono(&p);
	parse_inline(&p, stack);

	out = xmalloc(p.len + 1);
	sp = xmalloc((p.len + 1) * sizeof *sp);
	for (size_t i = 0; i < p.len; i++) {
		unsigned flags = 0;
		for (int b = 0; b < NFLAGS; b++) {
			count[b] += p.diff[(size_t)b * (p.len + 1) + i];
			if (count[b] > 0)
				flags |= 1u << b;
		}
		if (p.removed[i])
			continue;
		if (nsp == 0 || sp[nsp - 1].flags != flags) {
			sp[nsp].start = o;
			sp[nsp].len = 0;
			sp[nsp].flags = flags;
			nsp++;
		}
		sp[nsp - 1].len++;
		out[o++] = text[i];
	}
	out[o] = 0;
	free(p.removed);
	free(p.in_mono);
	free(p.diff);
	free(stack);
	if (nsp == 0) {
		free(sp);
		sp = NULL;
	}
	*plain = out;
	*spans = sp;
	*nspans = nsp;
	return 0;
}
