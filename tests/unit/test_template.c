/* Unit tests for template.c: matching table, adjacency rule, picking, render. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "template.h"
#include "util.h"

/* One row: body, text, expected match, and the params joined by '|'. */
static const struct {
	const char *body, *text;
	int         match;
	const char *params;
} match_rows[] = {
	{ "Hello", "Hello", 1, "" },
	{ "Hello", "Hello!", 0, NULL },
	{ "", "", 1, "" },
	{ "", "x", 0, NULL },
	{ "Hi {{1}}, your order {{2}} shipped", "Hi Ana, your order 42 shipped", 1, "Ana|42" },
	{ "Hi {{1}}, your order {{2}} shipped", "Hi , your order 42 shipped", 0, NULL },
	{ "Hi {{1}}, your order {{2}} shipped", "Hi Ana, your order  shipped", 0, NULL },
	{ "Hi {{1}}, your order {{2}} shipped", "Hi Ana, your order 42 shipped!", 0, NULL },
	{ "Hi {{1}}, your order {{2}} shipped", "Hey Ana, your order 42 shipped", 0, NULL },
	{ "{{1}}", "x", 1, "x" },
	{ "{{1}}", "", 0, NULL },
	{ "{{1}}", "multi\nline", 1, "multi\nline" },
	/* adjacency: leftmost placeholder takes the shortest non-empty text */
	{ "{{1}}{{2}}", "abc", 1, "a|bc" },
	{ "{{1}}{{2}}", "a", 0, NULL },
	{ "{{1}}{{2}}{{3}}", "abcd", 1, "a|b|cd" },
	{ "{{1}}{{2}}", "\xc3\xa9t\xc3\xa9", 1, "\xc3\xa9|t\xc3\xa9" },     /* one character, not one byte */
	{ "{{1}} {{2}}", "a b c", 1, "a|b c" },
	{ "{{1}}-{{2}}", "a--b", 1, "a|-b" },
	{ "{{1}}ab{{2}}", "xabab", 1, "x|ab" },
	{ "<{{1}}>", "<>>", 1, ">" },
	/* the separator may not be consumed by an empty first placeholder */
	{ "{{1}}x{{2}}", "xxy", 1, "x|y" },
	{ "{{1}}x{{2}}", "xy", 0, NULL },
	/* order of the params follows the numbers, not the positions */
	{ "{{2}} then {{1}}", "B then A", 1, "A|B" },
	/* malformed numbering never matches */
	{ "{{1}} and {{1}}", "x and x", 0, NULL },
	{ "{{1}} and {{3}}", "x and y", 0, NULL },
	{ "{{2}}", "x", 0, NULL },
	/* not placeholders: literal text */
	{ "{{0}}", "{{0}}", 1, "" },
	{ "{{01}}", "{{01}}", 1, "" },
	{ "{{ 1 }}", "{{ 1 }}", 1, "" },
	{ "{{1000}}", "{{1000}}", 1, "" },
	{ "{{1}", "{{1}", 1, "" },
	{ "{{{1}}}", "{x}", 1, "x" },
	{ "a{{1}}", "a{{1}}", 1, "{{1}}" },
	/* fixed head and tail may not overlap */
	{ "ab{{1}}ba", "aba", 0, NULL },
	{ "ab{{1}}ba", "abxba", 1, "x" },
};

static char *
join(char **p, size_t n)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&b, '|');
		buf_puts(&b, p[i]);
	}
	return buf_steal(&b);
}

static void
test_match_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(match_rows); i++) {
		char **p;
		size_t n;
		int m = template_match(match_rows[i].body, match_rows[i].text, &p, &n);
		if (m != match_rows[i].match)
			fail_msg("row %zu: body '%s' text '%s': got %d", i,
			         match_rows[i].body, match_rows[i].text, m);
		if (!m) {
			assert_null(p);
			assert_int_equal(n, 0);
			continue;
		}
		char *j = join(p, n);
		assert_string_equal(j, match_rows[i].params);
		char *r = template_render(match_rows[i].body, p, n);
		assert_string_equal(r, match_rows[i].text);
		free(r);
		free(j);
		template_params_free(p, n);
	}
}

static void
test_null(void **state)
{
	(void)state;
	char **p;
	size_t n;
	assert_int_equal(template_match(NULL, "x", &p, &n), 0);
	assert_int_equal(template_match("x", NULL, &p, &n), 0);
	template_params_free(NULL, 3);
	char *r = template_render(NULL, NULL, 0);
	assert_string_equal(r, "");
	free(r);
}

static void
test_pick(void **state)
{
	(void)state;
	static const struct template_def t[] = {
		{ "t0", "any", "{{1}}" },
		{ "t1", "order", "Your order {{1}} shipped" },
		{ "t2", "order42", "Your order 42 {{1}}" },           /* 14 fixed chars */
		{ "t3", "order42b", "Your order {{1}} {{2}}" },
		{ "t4", "nobody", NULL },
		{ "t5", "same as t1", "Your order {{1}} shipped" },
		{ "t6", "exact", "Exact text" },
	};
	static const struct { const char *text; int index; const char *params; } rows[] = {
		{ "Your order 42 shipped", 1, "42" },   /* 19 fixed chars beats 14 and 0; first of t1/t5 */
		{ "Your order 42 lost", 2, "lost" },    /* 14 fixed chars beat t3's 12 */
		{ "Your order 7 lost", 3, "7|lost" },
		{ "Exact text", 6, "" },
		{ "anything", 0, "anything" },
		{ "", -1, NULL },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char **p;
		size_t n;
		int k = template_pick(t, ARRAY_LEN(t), rows[i].text, &p, &n);
		assert_int_equal(k, rows[i].index);
		if (k < 0) {
			assert_null(p);
			continue;
		}
		char *j = join(p, n);
		assert_string_equal(j, rows[i].params);
		free(j);
		template_params_free(p, n);
	}
	char **p;
	size_t n;
	assert_int_equal(template_pick(t, 0, "x", &p, &n), -1);

	/* equal fixed characters: the fewer placeholders win, wherever listed */
	static const struct template_def tie[] = {
		{ "a", "two", "{{1}}a{{2}}" },
		{ "b", "one", "a{{1}}" },
		{ "c", "one again", "{{1}}b" },
	};
	assert_int_equal(template_pick(tie, ARRAY_LEN(tie), "abab", &p, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "bab");
	template_params_free(p, n);
	/* and on a full tie the first one listed */
	assert_int_equal(template_pick(tie + 1, 2, "abab", &p, &n), 0);
	template_params_free(p, n);
}

static void
test_measure(void **state)
{
	(void)state;
	size_t f, ph;
	template_measure("Hi {{1}}, \xc3\xa9{{2}}", &f, &ph);
	assert_int_equal(f, 6);
	assert_int_equal(ph, 2);
	template_measure(NULL, &f, &ph);
	assert_int_equal(f + ph, 0);
}

static void
test_validate(void **state)
{
	(void)state;
	static const struct { const char *body; int rc; size_t n; } rows[] = {
		{ "plain", 0, 0 },
		{ "", 0, 0 },
		{ "{{1}}", 0, 1 },
		{ "{{2}} {{1}} {{3}}", 0, 3 },
		{ "{{1}} {{1}}", -1, 0 },
		{ "{{1}} {{3}}", -1, 0 },
		{ "{{0}} {{01}}", 0, 0 },
		{ NULL, -1, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		size_t n = 99;
		const char *why = NULL;
		assert_int_equal(template_validate(rows[i].body, &n, &why), rows[i].rc);
		assert_int_equal(n, rows[i].n);
		if (rows[i].rc < 0)
			assert_non_null(why);
	}
}

static void
test_render(void **state)
{
	(void)state;
	char ana[] = "Ana", brace[] = "{{1}}";
	char *params[] = { ana, brace, NULL };
	static const struct { const char *body; size_t n; const char *out; } rows[] = {
		{ "Hi {{1}} and {{2}}", 2, "Hi Ana and {{1}}" },   /* no rescan of params */
		{ "{{1}}{{1}}", 1, "AnaAna" },
		{ "{{3}} {{4}}", 3, "{{3}} {{4}}" },               /* NULL param, out of range */
		{ "{{0}} {{ 1}}", 2, "{{0}} {{ 1}}" },
		{ "plain", 0, "plain" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char *r = template_render(rows[i].body, params, rows[i].n);
		assert_string_equal(r, rows[i].out);
		free(r);
	}
}

/*
 * Hostile input: many placeholders separated by "a" against a long run of
 * 'a' with a mismatching end, and a long near-miss separator.  A
 * backtracking matcher takes exponential (or at least quadratic-per-
 * placeholder) time here; this one must finish in well under a second.
 */
static void
test_adversarial(void **state)
{
	(void)state;
	struct buf body = {0}, text = {0};
	for (int i = 1; i <= 200; i++)
		buf_printf(&body, "{{%d}}a", i);
	buf_puts(&body, "b");
	for (int i = 0; i < 200000; i++)
		buf_putc(&text, 'a');
	int64_t t0 = mono_ms();
	char **p;
	size_t n;
	assert_int_equal(template_match(body.data, text.data, &p, &n), 0);
	buf_putc(&text, 'b');
	assert_int_equal(template_match(body.data, text.data, &p, &n), 1);
	assert_int_equal(n, 200);
	assert_string_equal(p[0], "a");
	assert_int_equal(strlen(p[199]), 200000 - 2 * 199 - 1);
	template_params_free(p, n);

	/* a long separator that almost matches everywhere */
	struct buf sep = {0}, b2 = {0}, t2 = {0};
	for (int i = 0; i < 5000; i++)
		buf_putc(&sep, 'a');
	buf_putc(&sep, 'b');
	buf_printf(&b2, "{{1}}%s{{2}}%s{{3}}", sep.data, sep.data);
	for (int i = 0; i < 100000; i++)
		buf_putc(&t2, 'a');
	assert_int_equal(template_match(b2.data, t2.data, &p, &n), 0);
	assert_true(mono_ms() - t0 < 2000);
	buf_free(&body);
	buf_free(&text);
	buf_free(&sep);
	buf_free(&b2);
	buf_free(&t2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_adversarial),
	};
	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
