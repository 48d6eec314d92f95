/*
 * limits.h — agent sending limits, checked in O(1) amortised per send.
 *
 * Two limits (DESIGN.md §2), both on messages an agent wrote (automated
 * messages are never recorded here):
 *   (a) limit.customer: at most LIMIT_CUSTOMER_MAX messages from one agent
 *       to one customer within any rolling 24 h, counting only messages
 *       sent after that customer's latest inbound message — a customer
 *       reply resets the count for every agent;
 *   (b) limit.agent: at most LIMIT_AGENT_MAX messages per agent within any
 *       rolling 30 days.
 * A message sent at t counts while now < t + window, so the send becomes
 * allowed again exactly at t + window of the message that drops out.
 *
 * No history is scanned: per (agent, customer) a ring of the last 10 send
 * times stamped with the customer's reply generation; per customer the
 * latest inbound time and a generation bumped by each newer inbound (so a
 * reply resets every agent's ring lazily, without visiting them); per
 * agent a deque of send times trimmed from the front as they leave the
 * 30-day window.
 *
 * Ordering: events are fed in the order they happened (the hub does; the
 * console replays its cache oldest first).  An inbound resets the messages
 * recorded before the call; an inbound older than the customer's latest
 * known one is ignored.  Times passed to limits_check never go backwards
 * (the agent deque is trimmed against them).
 *
 * Keys are compared as byte strings; agent and customer may be any
 * NUL-terminated text.  A struct limits is not thread-safe.
 */
#ifndef WADESK_LIMITS_H
#define WADESK_LIMITS_H

#include <stdint.h>

#define LIMIT_CUSTOMER_MAX 10       /* per agent per customer since their last inbound, rolling 24 h */
#define LIMIT_AGENT_MAX    100000   /* per agent, rolling 30 days */
#define LIMIT_CUSTOMER_WINDOW 86400          /* seconds */
#define LIMIT_AGENT_WINDOW    (30 * 86400)   /* seconds */

struct limits;                       /* opaque */

/* An empty set of counters (xmalloc'd; never NULL). */
struct limits *limits_new(void);
/* Frees everything; NULL is a no-op. */
void limits_free(struct limits *l);

/* The customer wrote at t: resets that customer's counts for every agent. */
void limits_inbound(struct limits *l, const char *customer, int64_t t);
/* An agent message to customer was accepted at t: counts toward both limits. */
void limits_record(struct limits *l, const char *agent, const char *customer, int64_t t);

struct limit_verdict { const char *code; /* NULL ok, "limit.customer", "limit.agent" */
	unsigned count; int64_t allowed_at; };

/*
 * 0 when agent may send to customer at now (v->code = NULL, v->count = the
 * messages counted toward limit (a), v->allowed_at = now); -1 with *v
 * filled: the limit, its current count, and the earliest time the send
 * becomes allowed (for (a) the oldest counted message + 24 h; for (b) the
 * LIMIT_AGENT_MAXth-newest message + 30 days).  When both limits are
 * reached the one that lasts longer is reported (ties: limit.customer).
 */
int limits_check(struct limits *l, const char *agent, const char *customer, int64_t now, struct limit_verdict *v);

/*
 * The current counts at now without judging: messages counted toward (a)
 * for (agent, customer) and toward (b) for agent.  Either pointer may be
 * NULL.  For counters shown to supervisors and in the composer.
 */
void limits_counts(struct limits *l, const char *agent, const char *customer, int64_t now,
                   unsigned *customer_count, unsigned *agent_count);

/*
 * A sentence like "10 messages to 919812345678 since their last message;
 * allowed again at 2026-11-26 10:14" or "100000 messages in 30 days;
 * allowed again at ..." (UTC, %Y-%m-%d %H:%M, rounded up to the minute so
 * the time shown is never still refused).  "within limits" when v->code is
 * NULL.  Returns an xmalloc'd string.
 */
char *limits_describe(const struct limit_verdict *v, const char *customer);

#endif
