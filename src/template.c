/*
 * template.c — placeholder bodies, leftmost-shortest matching, rendering.
 *
 * A body is cut once into k+1 fixed parts F0..Fk around k placeholders.
 * Matching anchors F0 at the start of the text and Fk at its end, then
 * walks F1..Fk-1 left to right, each placed at the earliest position that
 * leaves at least one character for the placeholder before it (memmem, no
 * backtracking).  Earliest placement is always safe: whatever matches the
 * rest of the body after a later position also matches after an earlier
 * one, since the placeholder in between can absorb the difference.  That
 * gives both the leftmost-shortest rule of template.h and a linear bound.
 */
#include "template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PLACEHOLDER_MAX 999

/* A body cut into fixed parts and placeholders: fixed[0..k], num[0..k). */
struct cut {
	const char **fixed;
	size_t      *flen;
	unsigned    *num;
	size_t       k;
};

/* Length of the placeholder token at p ("{{7}}" -> 5) and its number, or 0. */
static size_t
placeholder_at(const char *p, unsigned *num)
{
	if (p[0] != '{' || p[1] != '{' || p[2] < '1' || p[2] > '9')
		return 0;
	unsigned v = 0;
	size_t i = 2;
	while (i < 5 && p[i] >= '0' && p[i] <= '9')
		v = v * 10 + (unsigned)(p[i++] - '0');
	if (p[i] != '}' || p[i + 1] != '}')
		return 0;
	*num = v;
	return i + 2;
}

static void
cut_body(const char *body, struct cut *c)
{
	size_t cap = 1;
	for (const char *p = body; (p = strstr(p, "{{")) != NULL; p += 2)
		cap++;
	c->fixed = xmalloc(cap * sizeof *c->fixed);
	c->flen = xmalloc(cap * sizeof *c->flen);
	c->num = xmalloc(cap * sizeof *c->num);
	c->k = 0;
	const char *start = body, *p = body;
	while (*p != '\0') {
		unsigned v;
		size_t len = placeholder_at(p, &v);
		if (len == 0) {
			p++;
			continue;
		}
		c->fixed[c->k] = start;
		c->flen[c->k] = (size_t)(p - start);
		c->num[c->k++] = v;
		p += len;
		start = p;
	}
	c->fixed[c->k] = start;
	c->flen[c->k] = (size_t)(p - start);
}

static void
cut_release(struct cut *c)
{
	free(c->fixed);
	free(c->flen);
	free(c->num);
}

/* NULL when the placeholders are numbered exactly 1..k, each once; else why not. */
static const char *
cut_numbering(const struct cut *c)
{
	unsigned char *seen = xcalloc(c->k + 1, 1);
	const char *why = NULL;
	for (size_t i = 0; i < c->k && why == NULL; i++) {
		if (c->num[i] > c->k)
			why = "placeholders must be numbered from {{1}} without gaps";
		else if (seen[c->num[i]])
			why = "a placeholder number is used more than once";
		else
			seen[c->num[i]] = 1;
	}
	free(seen);
	return why;
}

/* Bytes of the one character at s[0], not going past end (s < end). */
static size_t
char_len(const char *s, const char *end)
{
	size_t n = 1;
	if ((unsigned char)s[0] >= 0xC0)
		while (s + n < end && n < 4 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n++;
	return n;
}

static size_t
count_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

int
template_match(const char *body, const char *text, char ***params, size_t *n)
{
	*params = NULL;
	*n = 0;
	if (body == NULL || text == NULL)
		return 0;

	struct cut c;
	cut_body(body, &c);
	int matched = 0;
	const char **from = NULL, **to = NULL;
	size_t tlen = strlen(text);

	if (c.k == 0) {
		matched = strcmp(body, text) == 0;
		goto out;
	}
	if (cut_numbering(&c) != NULL)
		goto out;
	size_t head = c.flen[0], tail = c.flen[c.k];
	if (tlen < head + tail + c.k || memcmp(text, c.fixed[0], head) != 0 ||
	    memcmp(text + tlen - tail, c.fixed[c.k], tail) != 0)
		goto out;

	from = xmalloc(c.k * sizeof *from);
	to = xmalloc(c.k * sizeof *to);
	const char *pos = text + head, *end = text + tlen - tail;
	for (size_t i = 1; i < c.k; i++) {
		if (pos >= end)
			goto out;
		const char *start = pos + char_len(pos, end);
		const char *hit = memmem(start, (size_t)(end - start), c.fixed[i], c.flen[i]);
		if (hit == NULL)
			goto out;
		from[i - 1] = pos;
		to[i - 1] = hit;
		pos = hit + c.flen[i];
	}
	if (pos >= end)
		goto out;
	from[c.k - 1] = pos;
	to[c.k - 1] = end;

	*params = xmalloc(c.k * sizeof **params);
	for (size_t i = 0; i < c.k; i++)
		(*params)[c.num[i] - 1] = xstrndup(from[i], (size_t)(to[i] - from[i]));
	*n = c.k;
	matched = 1;
out:
	free(from);
	free(to);
	cut_release(&c);
	return matched;
}

int
template_validate(const char *body, size_t *n, const char **why)
{
	*n = 0;
	if (body == NULL) {
		*why = "the template has no body";
		return -1;
	}
	struct cut c;
	cut_body(body, &c);
	*why = cut_numbering(&c);
	if (*why == NULL)
		*n = c.k;
	cut_release(&c);
	return *why == NULL ? 0 : -1;
}

void
template_measure(const char *body, size_t *fixed_chars, size_t *placeholders)
{
	*fixed_chars = 0;
	*placeholders = 0;
	if (body == NULL)
		return;
	struct cut c;
	cut_body(body, &c);
	for (size_t i = 0; i <= c.k; i++)
		*fixed_chars += count_chars(c.fixed[i], c.flen[i]);
	*placeholders = c.k;
	cut_release(&c);
}

int
template_pick(const struct template_def *t, size_t n, const char *text,
              char ***params, size_t *nparams)
{
	int best = -1;
	size_t best_fixed = 0, best_ph = 0;
	*params = NULL;
	*nparams = 0;
	for (size_t i = 0; i < n; i++) {
		char **p;
		size_t np;
		if (!template_match(t[i].body, text, &p, &np))
			continue;
		size_t fixed, ph;
		template_measure(t[i].body, &fixed, &ph);
		if (best >= 0 && (fixed < best_fixed || (fixed == best_fixed && ph >= best_ph))) {
			template_params_free(p, np);
			continue;
		}
		template_params_free(*params, *nparams);
		*params = p;
		*nparams = np;
		best = (int)i;
		best_fixed = fixed;
		best_ph = ph;
	}
	return best;
}

void
template_params_free(char **params, size_t n)
{
	if (params == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(params[i]);
	free(params);
}

char *
template_render(const char *body, char *const *params, size_t n)
{
	struct buf b = {0};
	if (body == NULL)
		return buf_steal(&b);
	const char *p = body, *start = body;
	while (*p != '\0') {
		unsigned v;
		size_t len = placeholder_at(p, &v);
		if (len == 0 || v > n || params[v - 1] == NULL) {
			p += len ? len : 1;
			continue;
		}
		buf_append(&b, start, (size_t)(p - start));
		buf_puts(&b, params[v - 1]);
		p += len;
		start = p;
	}
	buf_append(&b, start, (size_t)(p - start));
	return buf_steal(&b);
}
