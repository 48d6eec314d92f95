/*
 * Unit tests for sim_crowd.c: the same seed gives the same people and
 * lines; customers wait for an answer and reply; the sandbox keyword
 * comes first; hostile lines appear at a small rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_crowd.h"
#include "util.h"

#define T0 1764065643000LL

/* Runs a crowd for `ms` answering every message after 1 s; returns a
 * transcript "phone|kind|text\n"... (xmalloc'd). */
static char *
transcript(uint64_t seed, unsigned n, double rate, int sandbox, int64_t ms)
{
	struct sim_crowd *c = sim_crowd_new(seed, n, rate, sandbox, "DeskApp", T0);
	struct buf b = { 0 };
	struct { char phone[16]; int64_t at; } pending[256];
	size_t np = 0;

	for (int64_t now = T0; now < T0 + ms; now += 50) {
		struct sim_crowd_action a;
		while (sim_crowd_next(c, now, &a)) {
			buf_printf(&b, "%s|%d|%s\n", a.phone, (int)a.kind, a.text);
			if (np < ARRAY_LEN(pending)) {
				memcpy(pending[np].phone, a.phone, sizeof a.phone);
				pending[np++].at = now + 1000;
			}
			free(a.text);
		}
		for (size_t i = 0; i < np;) {
			if (pending[i].at <= now) {
				sim_crowd_received(c, pending[i].phone, now);
				pending[i] = pending[--np];
			} else {
				i++;
			}
		}
	}
	sim_crowd_free(c);
	return buf_steal(&b);
}

static void
test_deterministic(void **state)
{
	(void)state;
	char *a = transcript(42, 6, 30, 0, 120000), *b = transcript(42, 6, 30, 0, 120000),
	     *c = transcript(43, 6, 30, 0, 120000);
	assert_true(strlen(a) > 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	free(a);
	free(b);
	free(c);
}

static void
test_people(void **state)
{
	(void)state;
	struct sim_crowd *c = sim_crowd_new(1, 50, 2, 0, "DeskApp", T0);
	const char *name, *phone;
	char digits[16];
	for (unsigned i = 0; i < 50; i++) {
		phone = sim_crowd_phone(c, i, &name);
		assert_non_null(phone);
		assert_non_null(name);
		assert_int_equal(sim_phone(phone, digits), 0);
		assert_string_equal(digits, phone);
		assert_true(sim_crowd_owns(c, phone));
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(sim_crowd_phone(c, j, NULL), phone);
	}
	assert_null(sim_crowd_phone(c, 50, NULL));
	assert_false(sim_crowd_owns(c, "919999999999"));
	sim_crowd_free(c);
}

/* Nobody answers: each customer writes once and then waits. */
static void
test_waits_for_answer(void **state)
{
	(void)state;
	struct sim_crowd *c = sim_crowd_new(5, 3, 600, 0, "DeskApp", T0);
	struct sim_crowd_action a;
	unsigned count = 0;
	for (int64_t now = T0; now < T0 + 600000; now += 100) {
		while (sim_crowd_next(c, now, &a)) {
			count++;
			free(a.text);
		}
	}
	assert_int_equal(count, 3);
	/* An answer makes that customer reply within 1.5 to 5.5 s. */
	const char *p = sim_crowd_phone(c, 0, NULL);
	sim_crowd_received(c, p, T0 + 600000);
	assert_int_equal(sim_crowd_next(c, T0 + 601499, &a), 0);
	assert_int_equal(sim_crowd_next(c, T0 + 605500, &a), 1);
	assert_string_equal(a.phone, p);
	free(a.text);
	sim_crowd_free(c);
}

static void
test_sandbox_first(void **state)
{
	(void)state;
	char *t = transcript(9, 4, 120, 1, 60000);
	/* Every customer's first line is the keyword, and no media in the sandbox. */
	for (unsigned i = 0; i < 4; i++) {
		struct sim_crowd *c = sim_crowd_new(9, 4, 120, 1, "DeskApp", T0);
		const char *phone = sim_crowd_phone(c, i, NULL);
		char *first = strstr(t, phone);
		if (first != NULL) {
			char *want = xasprintf("%s|0|PROXY DeskApp\n", phone);
			assert_memory_equal(first, want, strlen(want));
			free(want);
		}
		sim_crowd_free(c);
	}
	assert_null(strstr(t, "|1|"));
	assert_null(strstr(t, "|2|"));
	free(t);
}

static void
test_mix(void **state)
{
	(void)state;
	char *t = transcript(77, 20, 120, 0, 1800000);
	size_t lines = 0, hostile = 0;
	for (char *p = t; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	for (char *p = t; *p != '\0'; p++)
		if (*p == '\x1b' || *p == '\a' || (unsigned char)*p == 0xff)
			hostile++;
	assert_true(lines > 100);
	assert_true(hostile > 0);
	assert_non_null(strstr(t, "STOP"));
	assert_true(strstr(t, "|1|") != NULL || strstr(t, "|2|") != NULL);
	/* The long line is there, and stays one line. */
	assert_non_null(strstr(t, "long line long line"));
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_people),
		cmocka_unit_test(test_waits_for_answer),
		cmocka_unit_test(test_sandbox_first),
		cmocka_unit_test(test_mix),
	};
	return cmocka_run_group_tests_name("sim_crowd", tests, NULL, NULL);
}
