/*
 * bench/limits.c — agent-limit checks per second: the O(1) structure of
 * limits.c against a naive scan of the same history, in the same run.
 *
 * The history is ~1M events over 45 days: 1000 customers who write now and
 * then, 4 agents who answer (enough to reach both limits); an agent
 * message is recorded only when limits_check allows it, as the hub does.
 * Checks are made at the time of the last event, where both limits bite.  The naive baseline keeps the
 * same events in one plain array of (agent, customer, time) records and
 * scans all of it for every check.  Every naive verdict is compared with
 * the fast one, so the figures are for two implementations that agree.
 * Each side runs for a bounded time; the whole bench stays under 10 s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util.h"

#define CUSTOMERS 1000
#define AGENTS    4
#define EVENTS    1000000
#define SPAN      (45 * 86400)
#define T0        INT64_C(1790000000)

struct rec {
	const char *agent;        /* NULL for a customer's inbound message */
	const char *customer;
	int64_t     t;
};

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 32) % n);
}

/* The naive verdict: one pass over every record (two when the agent limit is hit). */
static int
naive_check(const struct rec *r, size_t n, const char *agent, const char *customer,
            int64_t now, struct limit_verdict *v)
{
	unsigned cn = 0, an = 0;
	int64_t coldest = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].agent == NULL) {
			if (strcmp(r[i].customer, customer) == 0)
				cn = 0;
			continue;
		}
		if (strcmp(r[i].agent, agent) != 0)
			continue;
		if (now - r[i].t < LIMIT_AGENT_WINDOW)
			an++;
		if (strcmp(r[i].customer, customer) == 0 && now - r[i].t < LIMIT_CUSTOMER_WINDOW)
			if (cn++ == 0)
				coldest = r[i].t;
	}
	v->code = NULL;
	v->count = cn;
	v->allowed_at = now;
	if (cn >= LIMIT_CUSTOMER_MAX) {
		v->code = "limit.customer";
		v->allowed_at = coldest + LIMIT_CUSTOMER_WINDOW;
	}
	if (an >= LIMIT_AGENT_MAX) {
		unsigned skip = an - LIMIT_AGENT_MAX, k = 0;
		int64_t at = 0;
		for (size_t i = 0; i < n; i++) {
			if (r[i].agent == NULL || strcmp(r[i].agent, agent) != 0 ||
			    now - r[i].t >= LIMIT_AGENT_WINDOW)
				continue;
			if (k++ == skip) {
				at = r[i].t + LIMIT_AGENT_WINDOW;
				break;
			}
		}
		if (v->code == NULL || at > v->allowed_at) {
			v->code = "limit.agent";
			v->count = an;
			v->allowed_at = at;
		}
	}
	return v->code == NULL ? 0 : -1;
}

static int
same(const struct limit_verdict *a, const struct limit_verdict *b)
{
	if ((a->code == NULL) != (b->code == NULL))
		return 0;
	if (a->code != NULL && strcmp(a->code, b->code) != 0)
		return 0;
	return a->count == b->count && a->allowed_at == b->allowed_at;
}

int
main(void)
{
	static char customers[CUSTOMERS][16], agents[AGENTS][16];
	for (int i = 0; i < CUSTOMERS; i++)
		snprintf(customers[i], sizeof customers[i], "9198%08d", 12340000 + i);
	for (int i = 0; i < AGENTS; i++)
		snprintf(agents[i], sizeof agents[i], "agent-%d", i);

	struct limits *l = limits_new();
	struct rec *recs = xmalloc(EVENTS * sizeof *recs);
	size_t nrec = 0, refused = 0;
	struct limit_verdict v, w;
	int64_t g0 = mono_ns();
	for (int i = 0; i < EVENTS; i++) {
		int64_t t = T0 + (int64_t)i * SPAN / EVENTS;
		const char *c = customers[rnd(CUSTOMERS)];
		if (rnd(20) == 0) {
			limits_inbound(l, c, t);
			recs[nrec++] = (struct rec){ NULL, c, t };
			continue;
		}
		const char *a = agents[rnd(AGENTS)];
		if (limits_check(l, a, c, t, &v) < 0) {
			refused++;
			continue;
		}
		limits_record(l, a, c, t);
		recs[nrec++] = (struct rec){ a, c, t };
	}
	double gen_s = (double)(mono_ns() - g0) / 1e9;
	int64_t now = recs[nrec - 1].t;
	/* top agent-0 up to its 30-day limit so a quarter of the checks meet it */
	unsigned ac;
	limits_counts(l, agents[0], customers[0], now, NULL, &ac);
	recs = xrealloc(recs, (nrec + LIMIT_AGENT_MAX) * sizeof *recs);
	for (int i = 0; ac + (unsigned)i < LIMIT_AGENT_MAX; i++) {
		const char *c = customers[CUSTOMERS - 1 - i % 20];
		limits_record(l, agents[0], c, now);
		recs[nrec++] = (struct rec){ agents[0], c, now };
	}

	/* fast: checks only, for at least 1 s */
	uint64_t fast_n = 0, fast_refused = 0;
	int64_t f0 = mono_ns(), f1;
	do {
		for (int i = 0; i < 65536; i++) {
			const char *a = agents[rnd(AGENTS)], *c = customers[rnd(CUSTOMERS)];
			fast_refused += limits_check(l, a, c, now, &v) < 0;
		}
		fast_n += 65536;
		f1 = mono_ns();
	} while (f1 - f0 < 1000000000);
	double fast_rate = (double)fast_n / ((double)(f1 - f0) / 1e9);

	/* naive: the same kind of checks over the plain array, for about 2 s */
	uint64_t naive_n = 0, naive_refused = 0, mismatches = 0;
	int64_t n0 = mono_ns(), n1;
	do {
		const char *a = agents[rnd(AGENTS)], *c = customers[rnd(CUSTOMERS)];
		naive_refused += naive_check(recs, nrec, a, c, now, &w) < 0;
		limits_check(l, a, c, now, &v);
		mismatches += !same(&v, &w);
		naive_n++;
		n1 = mono_ns();
	} while (n1 - n0 < 2000000000 && naive_n < 2000);
	/* the naive time includes one fast check per round: negligible, but subtract it */
	double naive_s = (double)(n1 - n0) / 1e9 - (double)naive_n / fast_rate;
	double naive_rate = (double)naive_n / naive_s;

	/* fast: check + record, as a hub does for each accepted send */
	uint64_t cr_n = 0;
	int64_t c0 = mono_ns(), c1;
	do {
		for (int i = 0; i < 65536; i++) {
			const char *a = agents[rnd(AGENTS)], *c = customers[rnd(CUSTOMERS)];
			int64_t t = now + (int64_t)(cr_n + (uint64_t)i) / 1000;
			if (limits_check(l, a, c, t, &v) == 0)
				limits_record(l, a, c, t);
		}
		cr_n += 65536;
		c1 = mono_ns();
	} while (c1 - c0 < 500000000);
	double cr_rate = (double)cr_n / ((double)(c1 - c0) / 1e9);

	printf("limits: history %zu events (%zu refused while building) in %.2f s; "
	       "%.1f%% of checks refused\n", nrec, refused, gen_s,
	       100.0 * (double)fast_refused / (double)fast_n);
	printf("limits: fast %.2fM checks/s, naive %.1f checks/s, ratio %.0fx; "
	       "fast check+record %.2fM/s\n", fast_rate / 1e6, naive_rate,
	       fast_rate / naive_rate, cr_rate / 1e6);
	printf("limits: %llu naive verdicts compared (%llu refused), %llu mismatches\n",
	       (unsigned long long)naive_n, (unsigned long long)naive_refused,
	       (unsigned long long)mismatches);
	limits_free(l);
	free(recs);
	/* Figures are printed, never asserted; only a wrong verdict fails. */
	printf("limits: goal 1M checks/s %s\n", fast_rate >= 1e6 ? "met" : "NOT met");
	if (mismatches != 0) {
		printf("limits: FAILED (fast and naive verdicts differ)\n");
		return 1;
	}
	return 0;
}
