/* Unit tests for sanitize.c: hostile bytes, bidi, width, fit, wrap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sanitize.h"
#include "util.h"

#define FFFD "\xEF\xBF\xBD"

struct row {
	const char *in;
	size_t len;              /* 0: strlen(in) */
	const char *out;         /* text_sanitize */
	const char *line;        /* text_sanitize_line, NULL: same as out */
};

static const struct row rows[] = {
	{ "", 0, "", NULL },
	{ "hello", 0, "hello", NULL },
	{ "a\nb\tc", 0, "a\nb\tc", "a b c" },
	{ "a\r\nb", 0, "a\nb", "a b" },
	{ "a\rb", 0, "ab", "a b" },
	/* escape sequences lose their ESC and so their effect */
	{ "\x1b]0;x\x07title", 0, "]0;xtitle", NULL },
	{ "\x1b[2Jclear", 0, "[2Jclear", NULL },
	{ "\x1b[31mred\x1b[0m", 0, "[31mred[0m", NULL },
	{ "a\x7f" "b\x01\x02\x1f", 0, "ab", NULL },
	{ "nul\0inside", 10, "nulinside", NULL },
	/* C1 controls as code points (CSI U+009B, NEL U+0085) */
	{ "a\xC2\x9B" "2Jb\xC2\x85" "c", 0, "a2Jbc", NULL },
	{ "\xC2\xA0nbsp", 0, "\xC2\xA0nbsp", NULL },
	/* C1 as raw bytes is ill-formed UTF-8 */
	{ "a\x9b" "b", 0, "a" FFFD "b", NULL },
	/* bidi overrides, isolates and marks */
	{ "in\xE2\x80\xAE" "fdp.exe", 0, "infdp.exe", NULL },
	{ "\xE2\x80\xAA\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD" "x", 0, "x", NULL },
	{ "\xE2\x81\xA6" "a\xE2\x81\xA7\xE2\x81\xA8\xE2\x81\xA9", 0, "a", NULL },
	{ "\xE2\x80\x8E" "l\xE2\x80\x8F" "r\xD8\x9C" "a", 0, "lra", NULL },
	{ "p\xE2\x80\xA8q\xE2\x80\xA9r", 0, "p\nq\nr", "p q r" },
	/* ill-formed UTF-8 */
	{ "\xC0\xAF", 0, FFFD FFFD, NULL },                   /* overlong '/' */
	{ "\xE0\x80\xAF", 0, FFFD FFFD FFFD, NULL },          /* overlong */
	{ "\xF0\x80\x80\xAF", 0, FFFD FFFD FFFD FFFD, NULL },  /* overlong */
	{ "\xED\xA0\x80", 0, FFFD FFFD FFFD, NULL },          /* surrogate */
	{ "\xF4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD, NULL },  /* > U+10FFFF */
	{ "\xF5\x80", 0, FFFD FFFD, NULL },
	{ "\xFF\xFE", 0, FFFD FFFD, NULL },
	{ "\xE2\x82", 0, FFFD, NULL },                        /* truncated */
	{ "\xE2\x82x", 0, FFFD "x", NULL },
	{ "\xF0\x9F\x98", 0, FFFD, NULL },
	{ "\x80\x80", 0, FFFD FFFD, NULL },
	{ "\xE2\x82\xAC\xF0\x9F\x98\x80", 0, "\xE2\x82\xAC\xF0\x9F\x98\x80", NULL },
	{ "\xF4\x8F\xBF\xBF", 0, "\xF4\x8F\xBF\xBF", NULL },  /* U+10FFFF */
	{ FFFD, 0, FFFD, NULL },
};

static void
test_sanitize_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		size_t len = rows[i].len ? rows[i].len : strlen(rows[i].in);
		char *o = text_sanitize(rows[i].in, len);
		char *l = text_sanitize_line(rows[i].in, len);
		assert_string_equal(o, rows[i].out);
		assert_string_equal(l, rows[i].line ? rows[i].line : rows[i].out);
		/* idempotent */
		char *again = text_sanitize(o, strlen(o));
		assert_string_equal(again, o);
		free(again);
		free(o);
		free(l);
	}
	char *e = text_sanitize(NULL, 0);
	assert_string_equal(e, "");
	free(e);
}

static void
test_decode(void **state)
{
	(void)state;
	uint32_t c;
	assert_int_equal(text_decode("\xE2\x82\xAC", 3, &c), 3);
	assert_int_equal(c, 0x20AC);
	assert_int_equal(text_decode("\xE2\x82\xAC", 2, &c), 2);  /* cut short */
	assert_int_equal(c, 0xFFFD);
	assert_int_equal(text_decode("\xF0\x9F\x98\x80", 4, &c), 4);
	assert_int_equal(c, 0x1F600);
	assert_int_equal(text_decode("\xC3", 1, &c), 1);
	assert_int_equal(c, 0xFFFD);
}

static void
test_width(void **state)
{
	(void)state;
	static const struct { const char *s; int w; } w[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "\xE4\xBD\xA0\xE5\xA5\xBD", 4 },            /* CJK */
		{ "\xF0\x9F\x98\x80", 2 },                    /* emoji */
		{ "e\xCC\x81", 1 },                           /* e + combining acute */
		{ "\xC3\xA9", 1 },
		{ "a\tb", 3 },
		{ "a\nb", 2 },
		{ "\xE2\x80\x8B", 0 },                        /* zero-width space */
		/* ZWJ family: summed per code point, as ncurses does */
		{ "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", 4 },
	};
	for (size_t i = 0; i < ARRAY_LEN(w); i++)
		assert_int_equal(text_width(w[i].s), w[i].w);
}

static void
test_char_width(void **state)
{
	(void)state;
	size_t len;
	assert_int_equal(text_char_width("", &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(text_char_width("ab", &len), 1);
	assert_int_equal(len, 1);
	assert_int_equal(text_char_width("e\xCC\x81x", &len), 1);
	assert_int_equal(len, 3);
	assert_int_equal(text_char_width("\xE4\xBD\xA0x", &len), 2);
	assert_int_equal(len, 3);
	/* a ZWJ sequence is one cluster */
	assert_int_equal(text_char_width("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9!", &len), 4);
	assert_int_equal(len, 11);
	/* a flag: two regional indicators */
	assert_int_equal(text_char_width("\xF0\x9F\x87\xAE\xF0\x9F\x87\xB3x", &len), 2);
	assert_int_equal(len, 8);
	assert_int_equal(text_char_width("\n", &len), 0);
	assert_int_equal(len, 1);
}

static void
test_fit(void **state)
{
	(void)state;
	static const struct { const char *s; int cols; size_t n; } f[] = {
		{ "hello", 3, 3 },
		{ "hello", 10, 5 },
		{ "hello", 0, 0 },
		{ "hello", -1, 0 },
		{ "\xE4\xBD\xA0\xE5\xA5\xBD", 3, 3 },        /* never half a wide char */
		{ "\xE4\xBD\xA0\xE5\xA5\xBD", 1, 0 },
		{ "ae\xCC\x81" "b", 2, 4 },                  /* accent kept with e */
		{ "ae\xCC\x81" "b", 1, 1 },
		{ "", 5, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(f); i++)
		assert_int_equal(text_fit(f[i].s, f[i].cols), f[i].n);
}

struct wrap_case {
	const char *s;
	int cols;
	const char *lines[8];    /* expected line texts, NULL-terminated */
};

static const struct wrap_case wraps[] = {
	{ "", 10, { "", NULL } },
	{ "hello", 10, { "hello", NULL } },
	{ "hello world", 5, { "hello", "world", NULL } },
	{ "hello world", 11, { "hello world", NULL } },
	{ "hello world", 8, { "hello", "world", NULL } },
	{ "a b c d", 3, { "a b", "c d", NULL } },
	{ "one   two", 4, { "one", "two", NULL } },
	{ "abcdefgh", 3, { "abc", "def", "gh", NULL } },
	{ "hi abcdefgh", 4, { "hi", "abcd", "efgh", NULL } },
	{ "a\nb", 10, { "a", "b", NULL } },
	{ "a\n", 10, { "a", "", NULL } },
	{ "\n\n", 10, { "", "", "", NULL } },
	{ "  indented", 20, { "  indented", NULL } },
	{ "\xE4\xBD\xA0\xE5\xA5\xBD\xE5\x90\x97", 4,
	  { "\xE4\xBD\xA0\xE5\xA5\xBD", "\xE5\x90\x97", NULL } },
	{ "\xE4\xBD\xA0\xE5\xA5\xBD", 1, { "\xE4\xBD\xA0", "\xE5\xA5\xBD", NULL } },
	{ "\xE4\xBD\xA0\xE5\xA5\xBD", 3, { "\xE4\xBD\xA0", "\xE5\xA5\xBD", NULL } },
	{ "ae\xCC\x81" "bc", 2, { "ae\xCC\x81", "bc", NULL } },
	{ "ab      ", 2, { "ab", NULL } },
	{ "x      y", 3, { "x", "y", NULL } },
	{ "word\tnext", 4, { "word", "next", NULL } },
	{ "abc", 0, { "a", "b", "c", NULL } },
};

static void
test_wrap(void **state)
{
	(void)state;
	struct text_line l[16];
	for (size_t i = 0; i < ARRAY_LEN(wraps); i++) {
		const struct wrap_case *c = &wraps[i];
		size_t n = text_wrap(c->s, c->cols, l, ARRAY_LEN(l)), want = 0;
		while (c->lines[want])
			want++;
		assert_int_equal(n, want);
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(l[j].len, strlen(c->lines[j]));
			assert_memory_equal(c->s + l[j].start, c->lines[j], l[j].len);
			assert_int_equal(l[j].width, text_width(c->lines[j]));
		}
		/* counting only */
		assert_int_equal(text_wrap(c->s, c->cols, NULL, 0), n);
	}
	/* more lines than room: returns the total, fills what fits */
	assert_int_equal(text_wrap("a b c d e", 1, l, 2), 5);
	assert_int_equal(l[1].start, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_char_width),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_wrap),
	};
	return cmocka_run_group_tests_name("sanitize", tests, NULL, NULL);
}
