/*
 * Unit tests for format.c.  Each row gives the markup and the expected
 * result rendered as text: unstyled runs as they are, a styled run as
 * "[flags:text]" with flags from b (bold) i (italic) s (strike) m (mono).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "format.h"
#include "util.h"

static const struct {
	const char *in;
	const char *want;
} rows[] = {
	{ "", "" },
	{ "plain text", "plain text" },
	{ "*bold*", "[b:bold]" },
	{ "_italic_", "[i:italic]" },
	{ "~strike~", "[s:strike]" },
	{ "```mono```", "[m:mono]" },
	{ "a *b* c", "a [b:b] c" },
	{ "*two words*", "[b:two words]" },
	/* lone and unmatched markers stay literal */
	{ "*", "*" },
	{ "**", "**" },
	{ "***", "***" },
	{ "_", "_" },
	{ "~~", "~~" },
	{ "```", "```" },
	{ "``````", "``````" },
	{ "*unclosed", "*unclosed" },
	{ "unopened*", "unopened*" },
	{ "*unclosed at end *", "*unclosed at end *" },
	{ "say *hi", "say *hi" },
	/* a marker opens before a non-space and closes after one */
	{ "* not bold*", "* not bold*" },
	{ "*not bold *", "*not bold *" },
	{ "a * b * c", "a * b * c" },
	{ "a *b * c*", "a [b:b * c]" },
	/* ... and not inside words */
	{ "2*3*4", "2*3*4" },
	{ "snake_case_name", "snake_case_name" },
	{ "x*y*", "x*y*" },
	{ "*y*x", "*y*x" },
	{ "see https://example.com/a_b_c/d_e.html", "see https://example.com/a_b_c/d_e.html" },
	{ "https://x.com/_a_", "https://x.com/[i:a]" },
	{ "(*aside*)", "([b:aside])" },
	{ "*bold*, then", "[b:bold], then" },
	{ "\xC3\xA9*x*", "\xC3\xA9*x*" },             /* é is a letter */
	{ "*x*\xC3\xA9", "*x*\xC3\xA9" },
	/* emoji are not letters */
	{ "\xF0\x9F\x98\x80*hi*\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80[b:hi]\xF0\x9F\x98\x80" },
	{ "*\xF0\x9F\x98\x80*", "[b:\xF0\x9F\x98\x80]" },
	{ "_caf\xC3\xA9_", "[i:caf\xC3\xA9]" },
	/* nesting */
	{ "*_x_*", "[bi:x]" },
	{ "_*x*_", "[bi:x]" },
	{ "~*_x_*~", "[bis:x]" },
	{ "*a _b_ c*", "[b:a ][bi:b][b: c]" },
	{ "*a _b* c_", "[b:a _b] c_" },
	{ "**bold**", "[b:bold]" },
	{ "*a* *b*", "[b:a] [b:b]" },
	/* spans do not cross newlines; monospace does */
	{ "*a\nb*", "*a\nb*" },
	{ "_a\nb_ *c*", "_a\nb_ [b:c]" },
	{ "```a\nb```", "[m:a\nb]" },
	/* nothing inside monospace */
	{ "```*not bold*```", "[m:*not bold*]" },
	{ "```a _b_ c``` _d_", "[m:a _b_ c] [i:d]" },
	{ "*```x\ny```*", "[bm:x\ny]" },
	{ "``` not mono```", "``` not mono```" },
	{ "```not mono ```", "```not mono ```" },
	{ "a```b```c", "a```b```c" },
	{ "```a``` ```b```", "[m:a] [m:b]" },
	{ "```a````", "[m:a]`" },
	{ "*```a```*", "[bm:a]" },
	{ "```x", "```x" },
	{ "`single`", "`single`" },
};

static char *
render(const char *plain, const struct fmt_span *sp, size_t n)
{
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (sp[i].flags == 0) {
			buf_append(&b, plain + sp[i].start, sp[i].len);
			continue;
		}
		buf_putc(&b, '[');
		if (sp[i].flags & FMT_BOLD)
			buf_putc(&b, 'b');
		if (sp[i].flags & FMT_ITALIC)
			buf_putc(&b, 'i');
		if (sp[i].flags & FMT_STRIKE)
			buf_putc(&b, 's');
		if (sp[i].flags & FMT_MONO)
			buf_putc(&b, 'm');
		buf_putc(&b, ':');
		buf_append(&b, plain + sp[i].start, sp[i].len);
		buf_putc(&b, ']');
	}
	return buf_steal(&b);
}

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char *plain;
		struct fmt_span *sp;
		size_t n;
		assert_int_equal(format_parse(rows[i].in, &plain, &sp, &n), 0);
		char *got = render(plain, sp, n);
		if (strcmp(got, rows[i].want) != 0)
			print_error("row %zu: '%s' gave '%s', want '%s'\n", i, rows[i].in, got, rows[i].want);
		assert_string_equal(got, rows[i].want);
		/* spans cover plain exactly, in order, adjacent ones differ */
		size_t at = 0;
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(sp[j].start, at);
			assert_true(sp[j].len > 0);
			if (j > 0)
				assert_int_not_equal(sp[j].flags, sp[j - 1].flags);
			at += sp[j].len;
		}
		assert_int_equal(at, strlen(plain));
		free(got);
		free(plain);
		free(sp);
	}
}

static void
test_null(void **state)
{
	(void)state;
	char *plain = (char *)"x";
	struct fmt_span *sp;
	size_t n = 7;
	assert_int_equal(format_parse(NULL, &plain, &sp, &n), -1);
	assert_null(plain);
	assert_int_equal(n, 0);
	assert_int_equal(format_parse("", &plain, &sp, &n), 0);
	assert_string_equal(plain, "");
	assert_null(sp);
	assert_int_equal(n, 0);
	free(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_null),
	};
	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
