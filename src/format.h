/*
 * format.h — WhatsApp markup: *bold*, _italic_, ~strike~ and ```monospace```.
 *
 * The rules, as WhatsApp applies them:
 *  - an opening marker must be followed by a non-space and must not follow
 *    a letter or digit (start of text, a space, punctuation, an emoji or
 *    another marker are fine); a closing marker must follow a non-space
 *    and must not be followed by a letter or digit.  So "2*3*4",
 *    "a * b * c" and "snake_case_name" stay literal, and a span is never
 *    empty;
 *  - * _ ~ spans do not cross a newline; ``` spans may;
 *  - nothing is formatted inside monospace;
 *  - markers nest ("*_x_*" is bold italic); when markers interleave
 *    ("*a _b* c_") the first to close wins and the other stays literal;
 *  - an unmatched marker stays literal text.
 * "Letter or digit" and "space" are Unicode's (categories L*, N*, M* and
 * Zs, plus ASCII white space).
 */
#ifndef WADESK_FORMAT_H
#define WADESK_FORMAT_H

#include <stddef.h>

enum fmt_flag { FMT_BOLD = 1, FMT_ITALIC = 2, FMT_STRIKE = 4, FMT_MONO = 8 };

/* Byte range over *plain with its styles (0 = plain text). */
struct fmt_span {
	size_t   start, len;
	unsigned flags;
};

/*
 * Parses NUL-terminated text (normally sanitised first).  *plain gets the
 * text with the matched markers removed; *spans the styled ranges in order,
 * non-overlapping, each non-empty, covering all of plain (unstyled runs
 * have flags 0), adjacent spans differing in flags.  Spans start and end
 * on UTF-8 character boundaries of plain.  Empty text gives plain "" and
 * no spans.  Both are xmalloc'd (*spans may be NULL when *nspans is 0);
 * the caller frees both with free().  Returns 0, or -1 when text is NULL.
 */
int format_parse(const char *text, char **plain, struct fmt_span **spans, size_t *nspans);

#endif
