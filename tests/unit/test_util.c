/* Unit tests for util.c: buffers, RFC 3339 round trips, hex, randomness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void
test_buf(void **state)
{
	(void)state;
	struct buf b = {0};
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.data));
	assert_true(strncmp(b.data, "0,1,2,", 6) == 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_puts(&b, "x");
	char *s = buf_steal(&b);
	assert_string_equal(s, "x");
	assert_null(b.data);
	free(s);
	s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
	buf_free(&b);
}

static void
test_rfc3339(void **state)
{
	(void)state;
	static const struct { int64_t t; const char *s; } rows[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1795609843, "2026-11-25T12:30:43Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
	};
	char out[32];
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		assert_string_equal(time_rfc3339(rows[i].t, out), rows[i].s);
		int64_t t;
		assert_int_equal(time_parse_rfc3339(rows[i].s, &t), 0);
		assert_int_equal(t, rows[i].t);
	}
	int64_t t;
	assert_int_equal(time_parse_rfc3339("2026-11-25T13:30:43+01:00", &t), 0);
	assert_int_equal(t, 1795609843);
	assert_int_equal(time_parse_rfc3339("2026-11-25T12:30:43.123Z", &t), 0);
	assert_int_equal(t, 1795609843);
	assert_int_equal(time_parse_rfc3339("2026-11-25 09:10:43", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-25T12:30:43Zjunk", &t), -1);
	assert_int_equal(time_parse_rfc3339("", &t), -1);
}

static void
test_hex_random(void **state)
{
	(void)state;
	unsigned char a[32], b[32];
	char hex[65];
	hex_encode("\x00\xff\x10", 3, hex);
	assert_string_equal(hex, "00ff10");
	assert_int_equal(random_bytes(a, sizeof a), 0);
	assert_int_equal(random_bytes(b, sizeof b), 0);
	assert_memory_not_equal(a, b, sizeof a);
}

static void
test_strings(void **state)
{
	(void)state;
	assert_null(xstrdup(NULL));
	char *s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
	s = xasprintf("%s-%d", "a", 7);
	assert_string_equal(s, "a-7");
	free(s);
}

static void
test_percentile(void **state)
{
	(void)state;
	double v[] = { 5, 1, 4, 2, 3 };
	doubles_sort(v, 5);
	assert_true(v[0] == 1 && v[4] == 5);
	assert_true(percentile(v, 5, 0.5) == 3);
	assert_true(percentile(v, 5, 0.99) == 5);
	assert_true(percentile(v, 5, 0) == 1);
	assert_true(percentile(v, 0, 0.5) == 0);
}

static void
test_pct(void **state)
{
	(void)state;
	struct buf b = {0};
	buf_put_pct(&b, "Invoice 7_a-b.~/\xc3\xa9");
	buf_putc(&b, '\0');
	assert_string_equal(b.data, "Invoice%207_a-b.~%2F%C3%A9");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_hex_random),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_pct),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
