/* Unit tests for hours.c: the spec grammar, day ranges, shifts that cross
 * midnight, and the time zone conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hours.h"
#include "util.h"

enum { SUN, MON, TUE, WED, THU, FRI, SAT };
#define AT(h, m) ((h) * 60 + (m))

static void
test_valid(void **state)
{
	(void)state;
	static const char *good[] = {
		"", "mon 09:00-18:00", "mon-fri 09:00-18:00; sat 10:00-14:00", "fri-mon 00:00-24:00",
		"mon,wed,sat 08:30-12:00", "  tue 09:00-10:00 ;  wed 09:00-10:00  ", "MON-FRI 09:00-18:00",
		"mon-fri 22:00-06:00", "sun 23:59-00:01", "sat 18:00-00:00",
	};
	static const char *bad[] = {
		"monday 09:00-18:00", "mon 9:00-18:00", "mon 09:00", "mon 09:00-09:00",
		"mon 09:00-25:00", "mon 09:60-10:00", "mon 24:00-06:00", "mon 24:30-23:00",
		"mon 09:00-18:00 tue 09:00-18:00", "mon- 09:00-10:00", "09:00-18:00",
	};
	const char *why;
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		why = NULL;
		if (hours_valid(good[i], &why) != 0)
			fail_msg("'%s' refused: %s", good[i], why);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		why = NULL;
		if (hours_valid(bad[i], &why) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
	}
}

static void
test_day_shift(void **state)
{
	(void)state;
	const char *spec = "mon-fri 09:00-18:00; sat 10:00-14:00";
	static const struct { int wday, minute, open; } rows[] = {
		{ MON, AT(9, 0), 1 }, { MON, AT(8, 59), 0 }, { FRI, AT(17, 59), 1 },
		{ FRI, AT(18, 0), 0 }, { SAT, AT(10, 0), 1 }, { SAT, AT(14, 0), 0 },
		{ SUN, AT(12, 0), 0 }, { WED, AT(0, 0), 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		if (hours_open_at(spec, rows[i].wday, rows[i].minute) != rows[i].open)
			fail_msg("row %zu: day %d minute %d", i, rows[i].wday, rows[i].minute);
	assert_int_equal(hours_open_at("", TUE, AT(3, 0)), 1);
	assert_int_equal(hours_open_at("fri-mon 00:00-24:00", SUN, AT(23, 59)), 1);
	assert_int_equal(hours_open_at("fri-mon 00:00-24:00", TUE, AT(12, 0)), 0);
	assert_int_equal(hours_open_at("mon,wed 10:00-11:00", WED, AT(10, 30)), 1);
	assert_int_equal(hours_open_at("mon,wed 10:00-11:00", TUE, AT(10, 30)), 0);
	assert_int_equal(hours_open_at("mon 25:00-26:00", MON, 0), -1);
}

static void
test_night_shift(void **state)
{
	(void)state;
	/* Open from 22:00 on weekday evenings until 06:00 the next morning. */
	const char *spec = "mon-fri 22:00-06:00";
	static const struct { int wday, minute, open; } rows[] = {
		{ MON, AT(22, 0), 1 }, { MON, AT(21, 59), 0 }, { MON, AT(23, 59), 1 },
		{ TUE, AT(0, 0), 1 }, { TUE, AT(5, 59), 1 }, { TUE, AT(6, 0), 0 },
		{ TUE, AT(12, 0), 0 },
		{ MON, AT(3, 0), 0 },      /* Sunday night is not a shift */
		{ SAT, AT(3, 0), 1 },      /* Friday night runs into Saturday */
		{ SAT, AT(6, 0), 0 }, { SAT, AT(22, 0), 0 }, { SUN, AT(1, 0), 0 },
		{ FRI, AT(23, 0), 1 },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		if (hours_open_at(spec, rows[i].wday, rows[i].minute) != rows[i].open)
			fail_msg("row %zu: day %d minute %d", i, rows[i].wday, rows[i].minute);
	/* Saturday night wraps into Sunday (the week wraps too). */
	assert_int_equal(hours_open_at("sat 20:00-02:00", SUN, AT(1, 59)), 1);
	assert_int_equal(hours_open_at("sat 20:00-02:00", SUN, AT(2, 0)), 0);
	assert_int_equal(hours_open_at("sat 20:00-02:00", SAT, AT(1, 0)), 0);
	/* "until midnight" written as 00:00 ends at midnight. */
	assert_int_equal(hours_open_at("sat 18:00-00:00", SAT, AT(23, 59)), 1);
	assert_int_equal(hours_open_at("sat 18:00-00:00", SUN, AT(0, 0)), 0);
	/* A night shift next to a day shift. */
	const char *both = "mon-fri 09:00-17:00; sun-thu 23:00-01:00";
	assert_int_equal(hours_open_at(both, MON, AT(0, 30)), 1);
	assert_int_equal(hours_open_at(both, SAT, AT(0, 30)), 0);
	assert_int_equal(hours_open_at(both, FRI, AT(0, 30)), 1);
	assert_int_equal(hours_open_at(both, FRI, AT(23, 30)), 0);
	assert_int_equal(hours_open_at(both, WED, AT(12, 0)), 1);
}

static void
test_time_zone(void **state)
{
	(void)state;
	/* 2026-11-25 (a Wednesday) 20:00 UTC = Thursday 01:30 in Asia/Kolkata. */
	int64_t t = 1795636800;
	assert_int_equal(hours_open("wed 20:00-21:00", "", t), 1);
	assert_int_equal(hours_open("wed 20:00-21:00", "UTC", t), 1);
	assert_int_equal(hours_open("wed 20:00-21:00", "Asia/Kolkata", t), 0);
	assert_int_equal(hours_open("wed 22:00-02:00", "Asia/Kolkata", t), 1);
	assert_int_equal(hours_open("thu 01:00-02:00", "Asia/Kolkata", t), 1);
	assert_int_equal(hours_open("", "Asia/Kolkata", t), 1);
	/* The caller's TZ is left as it was. */
	setenv("TZ", "America/New_York", 1);
	assert_int_equal(hours_open("wed 20:00-21:00", "UTC", t), 1);
	assert_string_equal(getenv("TZ"), "America/New_York");
	unsetenv("TZ");
	assert_int_equal(hours_open("wed 20:00-21:00", "UTC", t), 1);
	assert_null(getenv("TZ"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_day_shift),
		cmocka_unit_test(test_night_shift),
		cmocka_unit_test(test_time_zone),
	};
	return cmocka_run_group_tests_name("hours", tests, NULL, NULL);
}
