/*
 * sanitize.h — untrusted text made safe for a terminal, and its width.
 *
 * Everything a customer, a provider or a peer sends passes through
 * text_sanitize() before it is stored for display or drawn: the result is
 * valid UTF-8 that cannot move the cursor, change colours, retitle the
 * window or reorder what the agent reads.
 *
 * Width.  Columns are counted per code point with utf8proc_charwidth()
 * (CJK and emoji 2, combining marks, ZWJ and variation selectors 0), the
 * same sum ncurses and wcwidth(3) make when they draw the text, so a layout
 * computed here agrees with where curses puts the cursor.  An emoji ZWJ
 * sequence (family, profession) thus counts the sum of its emoji and an
 * emoji with a skin-tone modifier counts 4; a terminal that draws such a
 * sequence as one glyph leaves blank columns after it rather than
 * overwriting its neighbours.  What is never cut is the grapheme cluster
 * (utf8proc's extended grapheme clusters: a base with its combining marks,
 * a ZWJ sequence, a flag's two regional indicators): text_char_width(),
 * text_fit() and text_wrap() step a whole cluster at a time, so an accent is
 * never separated from its letter.  A tab counts 1 column (draw it as a
 * space); a newline counts 0.
 */
#ifndef WADESK_SANITIZE_H
#define WADESK_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Valid UTF-8 out of any len bytes (NUL bytes included):
 *  - each maximal ill-formed subsequence (overlong, surrogate, > U+10FFFF,
 *    truncated, stray continuation byte) becomes one U+FFFD;
 *  - C0 controls other than \n and \t, DEL, and C1 controls (U+0080..U+009F)
 *    are dropped, so no escape sequence survives (ESC is dropped and what
 *    followed it is shown as plain text);
 *  - bidi embeddings, overrides and isolates (U+202A..U+202E,
 *    U+2066..U+2069) and the marks LRM, RLM, ALM (U+200E, U+200F, U+061C)
 *    are dropped;
 *  - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR become \n.
 * Idempotent: sanitising the result changes nothing.  in may be NULL when
 * len is 0.  Returns an xmalloc'd NUL-terminated string; never NULL.
 */
char *text_sanitize(const char *in, size_t len);

/*
 * As text_sanitize(), for one-line previews (chat list, notifications):
 * \n, \r and \t (and U+2028/U+2029) become one space each, a "\r\n" pair one
 * space.  Returns an xmalloc'd string.
 */
char *text_sanitize_line(const char *in, size_t len);

/*
 * Decodes the code point at s (len bytes available, len >= 1) into *cp and
 * returns the bytes it takes (1..4).  An ill-formed sequence yields
 * U+FFFD and the length of its maximal subpart, so a loop over any bytes
 * always advances and never reads past len.
 */
size_t text_decode(const char *s, size_t len, uint32_t *cp);

/* Display columns of NUL-terminated s (valid UTF-8, e.g. sanitised). */
int text_width(const char *s);
/* As text_width() over the first len bytes of s. */
int text_width_n(const char *s, size_t len);

/*
 * Width of the first grapheme cluster of s, its byte length in *len.
 * At the end of s (s[0] == 0) returns 0 with *len = 0.
 */
int text_char_width(const char *s, size_t *len);

/*
 * Bytes of the longest prefix of s that is at most cols columns wide and
 * ends on a grapheme-cluster boundary (0 when cols <= 0 or the first
 * cluster alone is wider than cols).  s is valid UTF-8.
 */
size_t text_fit(const char *s, int cols);

/* One display line of text_wrap(): s[start .. start+len), width columns. */
struct text_line {
	size_t start;
	size_t len;
	int    width;
};

/*
 * Word-wraps NUL-terminated, sanitised s into display lines of at most cols
 * columns (cols < 1 is taken as 1).  Rules:
 *  - every \n ends a line; the \n itself belongs to no line, so "a\n" is
 *    two lines, "a" and "", and "" is one empty line;
 *  - a line that would overflow breaks at its last run of spaces or tabs;
 *    that run belongs to no line (it is neither at the end of the line
 *    before nor at the start of the next);
 *  - a word wider than cols is broken at the last grapheme-cluster boundary
 *    that fits; a single cluster wider than cols (a CJK character when cols
 *    is 1) gets a line of its own, the only case where width > cols;
 *  - a character, or a grapheme cluster, is never split;
 *  - spaces at the start of a paragraph (indentation) are kept.
 * Fills lines[0 .. max) and returns the total number of lines, which may
 * exceed max (call with lines NULL, max 0 to count, like snprintf).
 */
size_t text_wrap(const char *s, int cols, struct text_line *lines, size_t max);

#endif
