/*
 * limits.c — the agent-limit counters: three string-keyed hash tables
 * (customers, (agent, customer) pairs, agents) and fixed-size state per
 * key, so record and check touch a constant amount of memory.
 *
 * The hash table is a small open-addressing table with linear probing and
 * FNV-1a hashes, doubled at 1/2 load; keys are byte strings with a length
 * (a pair key is "agent\0customer").  Entries are never deleted: the
 * number of keys is bounded by the agents and customers a desk knows.
 *
 * Limit (a) keeps, per pair, the last LIMIT_CUSTOMER_MAX send times in a
 * ring stamped with the customer's reply generation; a ring from an older
 * generation is empty.  If the ring is full and its oldest entry is still
 * inside 24 h, ten messages are inside the window.  Limit (b) keeps, per
 * agent, every send time of the last 30 days in a growable ring deque
 * trimmed from the front; each time is appended and removed once, which
 * makes the check O(1) amortised.
 */
#include "limits.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* ---- string-keyed hash table ---- */

struct hent {
	char     *key;          /* NULL = empty slot */
	size_t    klen;
	uint64_t  hash;
	void     *val;
};

struct htab {
	struct hent *e;
	size_t       cap;       /* power of two */
	size_t       used;
};

static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static struct hent *
htab_slot(const struct htab *t, const char *key, size_t klen, uint64_t h)
{
	size_t mask = t->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hent *e = &t->e[i];
		if (e->key == NULL ||
		    (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0))
			return e;
	}
}

static void *
htab_get(const struct htab *t, const char *key, size_t klen)
{
	if (t->cap == 0)
		return NULL;
	return htab_slot(t, key, klen, hash_bytes(key, klen))->val;
}

static void
htab_grow(struct htab *t)
{
	struct htab bigger = { xcalloc(t->cap ? t->cap * 2 : 64, sizeof(struct hent)),
	                       t->cap ? t->cap * 2 : 64, t->used };
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].key != NULL)
			*htab_slot(&bigger, t->e[i].key, t->e[i].klen, t->e[i].hash) = t->e[i];
	free(t->e);
	*t = bigger;
}

/* The value for key, created with xcalloc(1, size) when absent. */
static void *
htab_upsert(struct htab *t, const char *key, size_t klen, size_t size)
{
	if ((t->used + 1) * 2 > t->cap)
		htab_grow(t);
	uint64_t h = hash_bytes(key, klen);
	struct hent *e = htab_slot(t, key, klen, h);
	if (e->key == NULL) {
		e->key = xmalloc(klen + 1);
		memcpy(e->key, key, klen);
		e->key[klen] = '\0';
		e->klen = klen;
		e->hash = h;
		e->val = xcalloc(1, size);
		t->used++;
	}
	return e->val;
}

static void
htab_release(struct htab *t, void (*val_free)(void *))
{
	for (size_t i = 0; i < t->cap; i++) {
		if (t->e[i].key == NULL)
			continue;
		free(t->e[i].key);
		val_free(t->e[i].val);
	}
	free(t->e);
}

/* ---- the counters ---- */

struct customer {
	int64_t  last_inbound;
	uint64_t gen;           /* bumped by every newer inbound */
};

struct pair {
	uint64_t gen;           /* customer generation the ring belongs to */
	int64_t  t[LIMIT_CUSTOMER_MAX];
	unsigned n;             /* entries in the ring (<= LIMIT_CUSTOMER_MAX) */
	unsigned next;          /* slot the next send goes to */
};

struct agent {
	int64_t *t;             /* ring deque of send times, oldest at head */
	size_t   cap, head, len;
};

struct limits {
	struct htab customers, pairs, agents;
	struct buf  key;        /* scratch for pair keys */
};

static void
agent_free(void *p)
{
	struct agent *a = p;
	free(a->t);
	free(a);
}

struct limits *
limits_new(void)
{
	return xcalloc(1, sizeof(struct limits));
}

void
limits_free(struct limits *l)
{
	if (l == NULL)
		return;
	htab_release(&l->customers, free);
	htab_release(&l->pairs, free);
	htab_release(&l->agents, agent_free);
	buf_free(&l->key);
	free(l);
}

static const char *
pair_key(struct limits *l, const char *agent, const char *customer, size_t *klen)
{
	buf_reset(&l->key);
	buf_append(&l->key, agent, strlen(agent) + 1);
	buf_puts(&l->key, customer);
	*klen = l->key.len;
	return l->key.data;
}

static uint64_t
customer_gen(const struct limits *l, const char *customer)
{
	const struct customer *c = htab_get(&l->customers, customer, strlen(customer));
	return c != NULL ? c->gen : 0;
}

/* The oldest send time of the pair's ring still inside 24 h, and how many. */
static unsigned
pair_count(const struct pair *p, uint64_t gen, int64_t now, int64_t *oldest)
{
	if (p == NULL || p->gen != gen)
		return 0;
	unsigned n = 0;
	for (unsigned i = 0; i < p->n; i++) {
		int64_t t = p->t[(p->next + LIMIT_CUSTOMER_MAX - p->n + i) % LIMIT_CUSTOMER_MAX];
		if (now - t < LIMIT_CUSTOMER_WINDOW) {
			if (n++ == 0)
				*oldest = t;
		}
	}
	return n;
}

static void
agent_trim(struct agent *a, int64_t now)
{
	while (a->len > 0 && now - a->t[a->head] >= LIMIT_AGENT_WINDOW) {
		a->head = (a->head + 1) & (a->cap - 1);
		a->len--;
	}
}

static void
agent_push(struct agent *a, int64_t t)
{
	if (a->len == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		int64_t *n = xmalloc(cap * sizeof *n);
		for (size_t i = 0; i < a->len; i++)
			n[i] = a->t[(a->head + i) & (a->cap - 1)];
		free(a->t);
		a->t = n;
		a->cap = cap;
		a->head = 0;
	}
	a->t[(a->head + a->len) & (a->cap - 1)] = t;
	a->len++;
}

void
limits_inbound(struct limits *l, const char *customer, int64_t t)
{
	struct customer *c = htab_upsert(&l->customers, customer, strlen(customer),
	                                 sizeof *c);
	if (c->gen != 0 && t < c->last_inbound)
		return;
	c->last_inbound = t;
	c->gen++;
}

void
limits_record(struct limits *l, const char *agent, const char *customer, int64_t t)
{
	uint64_t gen = customer_gen(l, customer);
	size_t klen;
	const char *key = pair_key(l, agent, customer, &klen);
	struct pair *p = htab_upsert(&l->pairs, key, klen, sizeof *p);
	if (p->gen != gen) {
		p->gen = gen;
		p->n = 0;
	}
	p->t[p->next] = t;
	p->next = (p->next + 1) % LIMIT_CUSTOMER_MAX;
	if (p->n < LIMIT_CUSTOMER_MAX)
		p->n++;

	struct agent *a = htab_upsert(&l->agents, agent, strlen(agent), sizeof *a);
	agent_trim(a, t);
	agent_push(a, t);
}

void
limits_counts(struct limits *l, const char *agent, const char *customer, int64_t now,
              unsigned *customer_count, unsigned *agent_count)
{
	if (customer_count != NULL) {
		size_t klen;
		const char *key = pair_key(l, agent, customer, &klen);
		int64_t oldest = 0;
		*customer_count = pair_count(htab_get(&l->pairs, key, klen),
		                             customer_gen(l, customer), now, &oldest);
	}
	if (agent_count != NULL) {
		struct agent *a = htab_get(&l->agents, agent, strlen(agent));
		if (a != NULL)
			agent_trim(a, now);
		*agent_count = a != NULL ? (unsigned)a->len : 0;
	}
}

int
limits_check(struct limits *l, const char *agent, const char *customer, int64_t now,
             struct limit_verdict *v)
{
	size_t klen;
	const char *key = pair_key(l, agent, customer, &klen);
	int64_t oldest = 0;
	unsigned cn = pair_count(htab_get(&l->pairs, key, klen),
	                         customer_gen(l, customer), now, &oldest);
	v->code = NULL;
	v->count = cn;
	v->allowed_at = now;
	if (cn >= LIMIT_CUSTOMER_MAX) {
		v->code = "limit.customer";
		v->allowed_at = oldest + LIMIT_CUSTOMER_WINDOW;
	}

	struct agent *a = htab_get(&l->agents, agent, strlen(agent));
	if (a != NULL) {
		agent_trim(a, now);
		if (a->len >= LIMIT_AGENT_MAX) {
			size_t i = a->len - LIMIT_AGENT_MAX;
			int64_t at = a->t[(a->head + i) & (a->cap - 1)] + LIMIT_AGENT_WINDOW;
			if (v->code == NULL || at > v->allowed_at) {
				v->code = "limit.agent";
				v->count = (unsigned)a->len;
				v->allowed_at = at;
			}
		}
	}
	return v->code == NULL ? 0 : -1;
}

char *
limits_describe(const struct limit_verdict *v, const char *customer)
{
	if (v->code == NULL)
		return xstrdup("within limits");
	int64_t at = v->allowed_at;
	if (at % 60 != 0)
		at += 60 - ((at % 60) + 60) % 60;
	time_t tt = (time_t)at;
	struct tm tm;
	char when[32] = "?";
	if (gmtime_r(&tt, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	const char *plural = v->count == 1 ? "" : "s";
	if (strcmp(v->code, "limit.customer") == 0)
		return xasprintf("%u message%s to %s since their last message; allowed again at %s",
		                 v->count, plural, customer != NULL ? customer : "this customer", when);
	return xasprintf("%u message%s in 30 days; allowed again at %s", v->count, plural, when);
}
