/*
 * template.h — matching outgoing text against approved message templates.
 *
 * A template body is text with placeholders {{1}}, {{2}} ... {{n}}.  A
 * placeholder is "{{", a number 1..999 written without a leading zero, and
 * "}}"; anything else (including "{{0}}", "{{01}}", "{{ 1 }}") is literal
 * text.  The body is scanned left to right, so "{{{1}}}" is a literal "{",
 * the placeholder {{1}} and a literal "}".
 *
 * A text matches a body when the body's fixed parts appear in the text
 * exactly, in order, and every placeholder takes at least one character
 * (one UTF-8 character; bytes when the text is not valid UTF-8).  The
 * params are returned by placeholder number: params[k-1] is the text of
 * {{k}}, whatever order the placeholders appear in the body.  A body whose
 * placeholders are not exactly {{1}}..{{n}}, each once, matches nothing
 * (a gap or a repeat cannot be sent as a template).
 *
 * Ambiguity rule (leftmost-shortest): when several splits fit, each
 * placeholder, from left to right, takes the shortest non-empty text for
 * which the rest of the body still matches; the last placeholder takes
 * what remains before the final fixed part.  So "{{1}}{{2}}" on "abc"
 * gives "a", "bc", and "{{1}} {{2}}" on "a b c" gives "a", "b c".
 *
 * Matching never backtracks: the first and last fixed parts are anchored,
 * every fixed part between them is placed at its earliest possible
 * position (which is always safe: a later placement leaves less text for
 * the rest), so the cost is linear in the text for each fixed part.
 *
 * Several matching templates: the most specific wins — the most fixed
 * characters (UTF-8 characters outside placeholders), then the fewest
 * placeholders, then the first in the list.
 */
#ifndef WADESK_TEMPLATE_H
#define WADESK_TEMPLATE_H

#include <stddef.h>

struct template_def { const char *id; const char *name; const char *body; };

/*
 * 1 and fills *params (n strings, xmalloc'd, free with template_params_free)
 * when text matches body; 0 otherwise (then *params = NULL, *n = 0).  A body
 * without placeholders matches only the identical text, with n = 0 and
 * *params = NULL.  NULL body or text never match.
 */
int  template_match(const char *body, const char *text, char ***params, size_t *n);

/*
 * Index of the best matching template among t[0..n) (most specific wins:
 * most fixed characters, then fewest placeholders, then first), or -1 with
 * *params = NULL, *nparams = 0.  Templates with a NULL body are skipped.
 * params as for template_match.
 */
int  template_pick(const struct template_def *t, size_t n, const char *text,
                   char ***params, size_t *nparams);

/* Frees params[0..n) and the array; NULL is a no-op. */
void template_params_free(char **params, size_t n);

/*
 * Renders body with params substituted: {{k}} becomes params[k-1] when
 * 1 <= k <= n and params[k-1] is not NULL, and stays literal otherwise.
 * Substituted text is not scanned again.  Returns an xmalloc'd string;
 * a NULL body renders as "".
 */
char *template_render(const char *body, char *const *params, size_t n);

/*
 * Checks that body can be used as a template: its placeholders are exactly
 * {{1}}..{{n}}, each once (n may be 0).  0 with *n set; -1 with *why a
 * static sentence (for an admin adding a template).  NULL body is -1.
 */
int  template_validate(const char *body, size_t *n, const char **why);

/*
 * Number of fixed characters (UTF-8 characters outside placeholders) and
 * of placeholders in body: the specificity template_pick compares.
 */
void template_measure(const char *body, size_t *fixed_chars, size_t *placeholders);

#endif
