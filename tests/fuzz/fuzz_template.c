/*
 * fuzz_template.c — libFuzzer harness for template.c.
 *
 * The input is split at the first NUL or newline: the part before is the
 * template body, the rest the text (so texts may hold newlines, bodies not).
 * Invariants checked on every match: n equals the body's placeholder count,
 * every param is non-empty, and rendering the params back into the body
 * reproduces the text byte for byte.  template_pick over the body and two
 * catch-all bodies must pick something for any non-empty text, and its
 * params must render back to the text.  Completeness: when body and text
 * are valid UTF-8 and the body is a valid template with k placeholders,
 * the text is cut into k non-empty pieces at character boundaries and
 * rendered into the body; that rendering must match (no split the greedy
 * matcher misses).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_match(const char *body, const char *text)
{
	char **p;
	size_t n;
	if (!template_match(body, text, &p, &n)) {
		if (p != NULL || n != 0)
			abort();
		return;
	}
	size_t fixed, ph;
	template_measure(body, &fixed, &ph);
	if (n != ph)
		abort();
	for (size_t i = 0; i < n; i++)
		if (p[i] == NULL || p[i][0] == '\0')
			abort();
	char *r = template_render(body, p, n);
	if (strcmp(r, text) != 0)
		abort();
	free(r);
	template_params_free(p, n);
}

/* Structurally valid UTF-8 (lead byte announces the continuation bytes). */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p != 0) {
		int n = *p < 0x80 ? 0 : *p < 0xC0 ? -1 : *p < 0xE0 ? 1 : *p < 0xF0 ? 2 : *p < 0xF8 ? 3 : -1;
		if (n < 0)
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

static void
check_complete(const char *body, const char *text)
{
	size_t k;
	const char *why;
	if (template_validate(body, &k, &why) < 0 || k == 0 || !utf8_ok(body) || !utf8_ok(text))
		return;
	size_t len = strlen(text), chars = 0;
	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char)text[i] & 0xC0) != 0x80;
	if (chars < k)
		return;
	/* piece i gets chars/k characters, the last one the rest */
	char **pieces = xcalloc(k, sizeof *pieces);
	size_t at = 0;
	for (size_t i = 0; i < k; i++) {
		size_t want = i + 1 < k ? chars / k : SIZE_MAX, got = 0, end = at;
		while (end < len && got < want) {
			end++;
			while (end < len && ((unsigned char)text[end] & 0xC0) == 0x80)
				end++;
			got++;
		}
		pieces[i] = xstrndup(text + at, end - at);
		at = end;
	}
	char *r = template_render(body, pieces, k);
	char **p;
	size_t n;
	if (!template_match(body, r, &p, &n))
		abort();
	char *back = template_render(body, p, n);
	if (strcmp(back, r) != 0)
		abort();
	free(back);
	template_params_free(p, n);
	free(r);
	template_params_free(pieces, k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut = 0;
	while (cut < size && data[cut] != 0 && data[cut] != '\n')
		cut++;
	char *body = xstrndup((const char *)data, cut);
	const char *rest = cut < size ? (const char *)data + cut + 1 : "";
	char *text = xstrndup(rest, cut < size ? size - cut - 1 : 0);

	check_match(body, text);
	check_complete(body, text);

	struct template_def t[] = {
		{ "0", "body", body },
		{ "1", "any", "{{1}}" },
		{ "2", "pair", "{{1}}{{2}}" },
	};
	char **p;
	size_t n;
	int k = template_pick(t, 3, text, &p, &n);
	if (text[0] != '\0' && k < 0)
		abort();                       /* "{{1}}" matches every non-empty text */
	if (k >= 0) {
		char *r = template_render(t[k].body, p, n);
		if (strcmp(r, text) != 0)
			abort();
		free(r);
	}
	template_params_free(p, n);
	free(body);
	free(text);
	return 0;
}
