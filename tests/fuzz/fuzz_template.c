/*
 * fuzz_template.c — libFuzzer harness for template.c.
 *
 * The input is split at the first NUL or newline: the part before is the
 * template body, the rest the text (so texts may hold newlines, bodies not).
 * Invariants checked on every match: n equals the body's placeholder count,
 * every param is non-empty, and rendering the params back into the body
 * reproduces the text byte for byte.  template_pick over the body and two
 * derived bodies must agree with template_match on whether anything matches.
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
