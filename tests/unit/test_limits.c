/*
 * Unit tests for limits.c: both limits at their edges, the reset by a
 * customer reply for every agent, rolling windows, which limit is reported
 * when both hold, the refusal sentence, and many keys (table growth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "limits.h"
#include "util.h"

#define T0   INT64_C(1795609800)      /* 2026-11-25 12:30:00 UTC */
#define HOUR 3600
#define DAY  86400

static void
record_n(struct limits *l, const char *agent, const char *customer, int64_t t, int n, int64_t step)
{
	for (int i = 0; i < n; i++)
		limits_record(l, agent, customer, t + i * step);
}

static void
test_customer_limit(void **state)
{
	(void)state;
	struct limits *l = limits_new();
	struct limit_verdict v;
	limits_inbound(l, "919812345678", T0 - HOUR);
	record_n(l, "ana", "919812345678", T0, 9, 60);
	assert_int_equal(limits_check(l, "ana", "919812345678", T0 + 600, &v), 0);
	assert_null(v.code);
	assert_int_equal(v.count, 9);
	limits_record(l, "ana", "919812345678", T0 + 600);

	static const struct { int64_t at; int rc; unsigned count; } rows[] = {
		{ T0 + 601, -1, 10 },
		{ T0 + DAY - 1, -1, 10 },       /* the first message is 23:59:59 old */
		{ T0 + DAY, 0, 9 },             /* 24:00:00: it dropped out */
		{ T0 + DAY + 600, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		assert_int_equal(limits_check(l, "ana", "919812345678", rows[i].at, &v), rows[i].rc);
		assert_int_equal(v.count, rows[i].count);
		if (rows[i].rc < 0) {
			assert_string_equal(v.code, "limit.customer");
			assert_int_equal(v.allowed_at, T0 + DAY);
		}
	}
	/* other agents and other customers are not affected */
	assert_int_equal(limits_check(l, "bob", "919812345678", T0 + 601, &v), 0);
	assert_int_equal(limits_check(l, "ana", "919800000000", T0 + 601, &v), 0);
	/* keys do not run together: ("an", "a9198...") is not ("ana", "9198...") */
	assert_int_equal(limits_check(l, "an", "a919812345678", T0 + 601, &v), 0);
	limits_free(l);
}

static void
test_reply_resets_every_agent(void **state)
{
	(void)state;
	struct limits *l = limits_new();
	struct limit_verdict v;
	static const char *agents[] = { "ana", "bob", "chen" };
	for (size_t i = 0; i < ARRAY_LEN(agents); i++)
		record_n(l, agents[i], "4915112345678", T0, 10, 1);
	for (size_t i = 0; i < ARRAY_LEN(agents); i++)
		assert_int_equal(limits_check(l, agents[i], "4915112345678", T0 + 60, &v), -1);

	limits_inbound(l, "4915112345678", T0 + 100);
	for (size_t i = 0; i < ARRAY_LEN(agents); i++) {
		assert_int_equal(limits_check(l, agents[i], "4915112345678", T0 + 101, &v), 0);
		assert_int_equal(v.count, 0);
	}
	/* messages after the reply count again, from zero */
	record_n(l, "ana", "4915112345678", T0 + 200, 10, 1);
	assert_int_equal(limits_check(l, "ana", "4915112345678", T0 + 300, &v), -1);
	assert_int_equal(v.allowed_at, T0 + 200 + DAY);
	assert_int_equal(limits_check(l, "bob", "4915112345678", T0 + 300, &v), 0);

	/* a late, older inbound does not reset */
	limits_inbound(l, "4915112345678", T0 + 50);
	assert_int_equal(limits_check(l, "ana", "4915112345678", T0 + 300, &v), -1);
	/* an inbound nobody was counting for is harmless */
	limits_inbound(l, "1555000111", T0);
	assert_int_equal(limits_check(l, "ana", "1555000111", T0, &v), 0);
	limits_free(l);
}

static void
test_customer_rolling(void **state)
{
	(void)state;
	struct limits *l = limits_new();
	struct limit_verdict v;
	/* 12 messages three hours apart: at any time at most 8 are inside 24 h */
	record_n(l, "ana", "c", T0, 12, 3 * HOUR);
	assert_int_equal(limits_check(l, "ana", "c", T0 + 11 * 3 * HOUR, &v), 0);
	assert_int_equal(v.count, 8);
	/* ten within two minutes after a long pause */
	record_n(l, "ana", "c", T0 + 40 * HOUR, 10, 10);
	assert_int_equal(limits_check(l, "ana", "c", T0 + 40 * HOUR + 100, &v), -1);
	assert_int_equal(v.allowed_at, T0 + 40 * HOUR + DAY);
	unsigned cc, ac;
	limits_counts(l, "ana", "c", T0 + 40 * HOUR + 100, &cc, &ac);
	assert_int_equal(cc, 10);
	assert_int_equal(ac, 22);
	limits_counts(l, "nobody", "c", T0, &cc, &ac);
	assert_int_equal(cc + ac, 0);
	limits_counts(l, "ana", "c", T0, NULL, NULL);
	limits_free(l);
}

/* 100000 messages to 50000 customers over ten days from T0. */
static void
fill_agent(struct limits *l, const char *agent, int n, int64_t start, int64_t span)
{
	char customer[32];
	for (int i = 0; i < n; i++) {
		snprintf(customer, sizeof customer, "c%d", i % 50000);
		limits_record(l, agent, customer, start + (int64_t)i * span / n);
	}
}

static void
test_agent_limit(void **state)
{
	(void)state;
	struct limits *l = limits_new();
	struct limit_verdict v;
	fill_agent(l, "ana", LIMIT_AGENT_MAX - 1, T0, 10 * DAY);
	int64_t now = T0 + 10 * DAY;
	assert_int_equal(limits_check(l, "ana", "new", now, &v), 0);
	limits_record(l, "ana", "new", now);
	assert_int_equal(limits_check(l, "ana", "new2", now, &v), -1);
	assert_string_equal(v.code, "limit.agent");
	assert_int_equal(v.count, LIMIT_AGENT_MAX);
	assert_int_equal(v.allowed_at, T0 + 30 * DAY);     /* the oldest, first recorded */
	assert_int_equal(limits_check(l, "ana", "new2", T0 + 30 * DAY - 1, &v), -1);
	assert_int_equal(limits_check(l, "ana", "new2", T0 + 30 * DAY, &v), 0);
	assert_int_equal(limits_check(l, "bob", "new2", now, &v), 0);
	limits_free(l);

	/* over the limit (recorded anyway): allowed when the 100000th-newest drops out */
	l = limits_new();
	fill_agent(l, "ana", LIMIT_AGENT_MAX + 5, T0, 10 * DAY);
	assert_int_equal(limits_check(l, "ana", "x", T0 + 10 * DAY, &v), -1);
	assert_int_equal(v.count, LIMIT_AGENT_MAX + 5);
	int64_t sixth = T0 + (int64_t)5 * 10 * DAY / (LIMIT_AGENT_MAX + 5);
	assert_int_equal(v.allowed_at, sixth + 30 * DAY);
	limits_free(l);
}

static void
test_both_limits(void **state)
{
	(void)state;
	struct limits *l = limits_new();
	struct limit_verdict v;
	/* agent limit lasts longer: reported */
	fill_agent(l, "ana", LIMIT_AGENT_MAX - 10, T0, DAY);
	record_n(l, "ana", "c", T0 + 20 * DAY, 10, 1);
	assert_int_equal(limits_check(l, "ana", "c", T0 + 20 * DAY + 60, &v), -1);
	assert_string_equal(v.code, "limit.agent");
	assert_int_equal(v.allowed_at, T0 + 30 * DAY);
	/* on day 29.5 the agent limit ends sooner than the customer one: that is reported */
	record_n(l, "ana", "d", T0 + 29 * DAY + 12 * HOUR, 10, 1);
	assert_int_equal(limits_check(l, "ana", "d", T0 + 29 * DAY + 12 * HOUR + 60, &v), -1);
	assert_string_equal(v.code, "limit.customer");
	assert_int_equal(v.count, 10);
	assert_int_equal(v.allowed_at, T0 + 30 * DAY + 12 * HOUR);
	limits_free(l);
}

static void
test_describe(void **state)
{
	(void)state;
	static const struct { struct limit_verdict v; const char *customer, *out; } rows[] = {
		{ { "limit.customer", 10, T0 }, "919812345678",
		  "10 messages to 919812345678 since their last message; allowed again at 2026-11-25 12:30" },
		{ { "limit.customer", 10, T0 + 1 }, "919812345678",      /* rounded up */
		  "10 messages to 919812345678 since their last message; allowed again at 2026-11-25 12:31" },
		{ { "limit.agent", 100000, T0 + 59 }, "x",
		  "100000 messages in 30 days; allowed again at 2026-11-25 12:31" },
		{ { "limit.agent", 100003, T0 + DAY }, NULL,
		  "100003 messages in 30 days; allowed again at 2026-11-26 12:30" },
		{ { NULL, 3, T0 }, "x", "within limits" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char *s = limits_describe(&rows[i].v, rows[i].customer);
		assert_string_equal(s, rows[i].out);
		free(s);
	}
}

static void
test_many_keys(void **state)
{
	(void)state;
	struct limits *l = limits_new();
	struct limit_verdict v;
	char c[32], a[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(c, sizeof c, "cust%d", i);
		snprintf(a, sizeof a, "agent%d", i % 7);
		limits_inbound(l, c, T0);
		record_n(l, a, c, T0 + 1, i % 11, 1);
	}
	for (int i = 0; i < 20000; i++) {
		snprintf(c, sizeof c, "cust%d", i);
		snprintf(a, sizeof a, "agent%d", i % 7);
		int want = i % 11 >= 10 ? -1 : 0;
		assert_int_equal(limits_check(l, a, c, T0 + 100, &v), want);
		assert_int_equal(v.count, (unsigned)(i % 11));
	}
	limits_free(l);
	limits_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_customer_limit),
		cmocka_unit_test(test_reply_resets_every_agent),
		cmocka_unit_test(test_customer_rolling),
		cmocka_unit_test(test_agent_limit),
		cmocka_unit_test(test_both_limits),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_many_keys),
	};
	return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
