/* Unit tests for phone.c: accepted forms and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "phone.h"
#include "util.h"

static const struct {
	const char *in;
	const char *out;      /* NULL: refused */
	const char *why;      /* a word the refusal must contain */
} rows[] = {
	{ "919812345678", "919812345678", NULL },
	{ "+91 98123 45678", "919812345678", NULL },
	{ "+91-98123-45678", "919812345678", NULL },
	{ "+1 (415) 555.0100", "14155550100", NULL },
	{ "0091 98123 45678", "919812345678", NULL },
	{ "  +44 20 7946 0958  ", "442079460958", NULL },
	{ "+44\t20 7946 0958", "442079460958", NULL },
	{ "(+49) 30 1234567", "49301234567", NULL },
	{ "12345678", "12345678", NULL },                  /* 8 digits: shortest */
	{ "123456789012345", "123456789012345", NULL },    /* 15 digits: longest */
	{ "00123456789012345", "123456789012345", NULL },
	/* empty */
	{ NULL, NULL, "empty" },
	{ "", NULL, "empty" },
	{ "  - ()", NULL, "empty" },
	{ "+", NULL, "empty" },
	/* letters and other characters */
	{ "+91 98123 4567a", NULL, "letters" },
	{ "1-800-FLOWERS", NULL, "letters" },
	{ "tel:+919812345678", NULL, "letters" },
	{ "+91/98123/45678", NULL, "only digits" },
	{ "+91 98123 45678#1", NULL, "only digits" },
	{ "\xd9\xa9\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7", NULL, "only digits" },
	{ "91\n9812345678", NULL, "only digits" },
	/* plus in the wrong place */
	{ "91+9812345678", NULL, "+ may only" },
	{ "++919812345678", NULL, "+ may only" },
	/* no country code */
	{ "09812345678", NULL, "no country code" },
	{ "0 98123 45678", NULL, "no country code" },
	/* country code 0 */
	{ "+0919812345678", NULL, "starts with 0" },
	{ "000919812345678", NULL, "starts with 0" },
	{ "+00919812345678", NULL, "starts with 0" },
	/* short codes */
	{ "112", NULL, "short codes" },
	{ "56161", NULL, "short codes" },
	{ "+123456", NULL, "short codes" },
	{ "00 123456", NULL, "short codes" },
	/* length */
	{ "1234567", NULL, "too short" },
	{ "+1 234 567", NULL, "too short" },
	{ "1234567890123456", NULL, "too long" },
	{ "+91 98123 45678 12345", NULL, "too long" },
	{ "99999999999999999999999999999999999999", NULL, "too long" },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char out[16];
		const char *why = "unset";
		int rc = phone_normalize(rows[i].in, out, &why);
		if (rows[i].out) {
			assert_int_equal(rc, 0);
			assert_string_equal(out, rows[i].out);
			assert_null(why);
		} else {
			if (rc != -1 || why == NULL || strstr(why, rows[i].why) == NULL)
				print_error("row %zu '%s': rc %d why '%s'\n", i,
				    rows[i].in ? rows[i].in : "(null)", rc, why ? why : "(null)");
			assert_int_equal(rc, -1);
			assert_string_equal(out, "");
			assert_non_null(strstr(why, rows[i].why));
		}
	}
}

static void
test_why_optional(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(phone_normalize("abc", out, NULL), -1);
	assert_int_equal(phone_normalize("+919812345678", out, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_why_optional),
	};
	return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
