/*
 * sim.h — wadesk-sim's model: a Gupshup-compatible provider as a pure
 * state machine, with no sockets in it.
 *
 * The network layer (net/sim_server.c) turns each HTTP request into a
 * struct sim_request, hands it to sim_handle() and writes back the
 * struct sim_response; everything Gupshup would decide — authentication,
 * validation, the rate limit, WhatsApp's delivery rules, the wallet, the
 * sandbox — is decided here, so unit tests drive it without a network.
 *
 * What the provider sends to the business (webhook callbacks: inbound
 * messages, message-events, user-events) is queued here as JSON bodies
 * with a due time; the network layer pops them when due (sim_pop_due),
 * POSTs them to the callback URL and reports failures (sim_post_failed),
 * which are retried with backoff.
 *
 * Time is wall-clock milliseconds passed in by the caller (now_ms), so
 * tests control it.  Randomness (ids, --chaos, simulated customers) comes
 * from one splitmix64 generator seeded with --seed, so runs repeat.
 *
 * Money is in micro-dollars (1 USD = 1,000,000).
 */
#ifndef WADESK_SIM_H
#define WADESK_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "gupshup.h"

#define SIM_CREDIT          1000000      /* the $1 test credit */
#define SIM_DEFAULT_SOURCE  "917834811114"   /* Gupshup's sandbox number */
#define SIM_DEFAULT_APP     "wadeskdemo"
#define SIM_RATE_LIMIT      20           /* messages per second per app */
#define SIM_WINDOW_S        86400        /* WhatsApp's 24 h session window */

struct sim_config {
	const char *app;            /* app name ("src.name"); default SIM_DEFAULT_APP */
	const char *apikey;         /* NULL: any apikey is accepted */
	const char *source;         /* the business number; default SIM_DEFAULT_SOURCE */
	const char *base_url;       /* "http://127.0.0.1:PORT", for media URLs */
	const char *callback;       /* shown by /sim/info; NULL when none */
	int         sandbox;
	int         chaos;
	int64_t     event_delay_ms; /* default 5000 */
	uint64_t    seed;
	unsigned    rate_limit;     /* 0 = SIM_RATE_LIMIT */
};

/* One message a customer received (or that was refused on the way). */
struct sim_item {
	char   *gs_id;              /* Gupshup id, the send API's messageId */
	char   *wa_id;              /* WhatsApp id */
	int64_t time_ms;
	int     is_template;
	enum gupshup_msg_type type;
	char   *text;               /* text, caption, or the rendered template */
	char   *url;
	char   *filename;
	char   *template_id;
	char  **params;
	size_t  nparams;
	char   *status;             /* "enqueued" ... "read", or "failed" */
	int     code;               /* failed: Gupshup's code */
	char   *reason;             /* failed: the reason */
	int64_t cost;               /* micro-dollars charged */
};

struct sim_customer {
	char    phone[16];
	char   *name;
	int     opted_in;
	int64_t optin_ms;
	int64_t last_inbound_ms;    /* 0 = never wrote */
	int     bound;              /* sandbox: sent "PROXY <APP>" */
	struct sim_item *items;     /* what they received, oldest first */
	size_t  nitems, capitems;
};

struct sim_ledger {
	int64_t time_ms;
	int64_t amount;             /* negative: a charge */
	char   *what;               /* "session message", "template message", "incoming message" */
	char   *phone;
	char   *id;                 /* message id */
};

struct sim_template {
	const char *id;
	const char *name;
	const char *body;
};

/* The built-in approved templates (GET /sm/api/v1/template/list). */
extern const struct sim_template sim_templates[];
extern const size_t sim_ntemplates;

/*
 * Fees in micro-dollars for a destination: Gupshup's per-message fee
 * (every message, both ways) and WhatsApp's template fee, by country
 * calling code (91, 1, 44, 55, 62, 234, and a default row).
 */
struct sim_fee {
	const char *code;           /* "91" ... ; "" = default */
	int64_t     whatsapp_template;
	int64_t     gupshup;
};
const struct sim_fee *sim_fee_for(const char *phone);
/* The cost of one outgoing message to phone. */
int64_t sim_cost(const char *phone, int is_template);

struct sim_request {
	const char *method;         /* "GET", "POST" */
	const char *path;           /* without query string */
	const char *apikey;         /* the apikey header, or NULL */
	const char *body;
	size_t      len;
};

struct sim_response {
	int         status;         /* HTTP status */
	const char *content_type;   /* static */
	char       *body;           /* xmalloc'd */
	size_t      len;
	int         drop;           /* --chaos: close the connection, answer nothing */
};

struct sim_post {
	int64_t  due_ms;
	char    *body;              /* JSON callback, owned by whoever holds the post */
	unsigned attempts;
	uint64_t seq;
	char     phone[16];         /* the customer it is about: posts for one
	                               customer are delivered one at a time */
};

struct sim;

/* A new provider; copies the strings in cfg.  Never NULL. */
struct sim *sim_new(const struct sim_config *cfg);
void sim_free(struct sim *s);

/*
 * Answers one HTTP request (the Gupshup API under /sm/api/ and the
 * control API under /sim/, see wadesk-sim(1)).  Fills *rs; release it
 * with sim_response_release.
 */
void sim_handle(struct sim *s, const struct sim_request *rq, int64_t now_ms,
                struct sim_response *rs);
void sim_response_release(struct sim_response *rs);

/*
 * A customer writes in (the control command "say", and the simulated
 * customers).  Charges the incoming fee, records the time, and queues
 * the message callback; in sandbox mode "PROXY <APP>" binds the customer
 * (sandbox-start user-event) and anything before that goes nowhere.
 * 0 when queued or bound, 1 when dropped (sandbox, not bound), -1 with
 * *cause for a bad phone number or empty text.
 */
int sim_inbound(struct sim *s, const char *phone, const char *name, const char *text,
                int64_t now_ms, char **cause);
/* Inbound media from a customer (simulated customers only): a built-in sample. */
int sim_inbound_media(struct sim *s, const char *phone, const char *name,
                      enum gupshup_msg_type type, const char *caption, int64_t now_ms,
                      char **cause);
/* Opt a customer in or out and queue the user-event.  0, or -1 with *cause. */
int sim_optin(struct sim *s, const char *phone, int in, int64_t now_ms, char **cause);

/* Due time of the earliest queued callback, or -1 when none. */
int64_t sim_next_due(const struct sim *s);
/* Pops the earliest callback due at now_ms; 1 with *p filled (caller owns
 * p->body), 0 when nothing is due. */
int  sim_pop_due(struct sim *s, int64_t now_ms, struct sim_post *p);
/* A POST failed: requeued with backoff (up to 12 attempts), or dropped
 * when permanent (the hub answered 4xx).  Takes ownership of p->body. */
void sim_post_failed(struct sim *s, struct sim_post *p, int64_t now_ms, int permanent);
/* Number of callbacks queued. */
size_t sim_queued(const struct sim *s);

/*
 * Simulated customers: starts n customers writing in at rate_per_min new
 * conversations a minute overall, deterministic for the seed.  Call
 * sim_tick() from the loop; sim_next_tick() says when it next matters.
 */
void sim_crowd_start(struct sim *s, unsigned n, double rate_per_min, int64_t now_ms);
void sim_tick(struct sim *s, int64_t now_ms);
int64_t sim_next_tick(const struct sim *s);

/* Lookups for the control API and tests. */
const struct sim_customer *sim_customer_find(const struct sim *s, const char *phone);
int64_t sim_balance(const struct sim *s);
const struct sim_ledger *sim_ledger(const struct sim *s, size_t *n);
size_t sim_ncustomers(const struct sim *s);
const struct sim_customer *sim_customer_at(const struct sim *s, size_t i);

/*
 * --state: saves customers, opt-ins, wallet and messages to path
 * atomically (path.tmp, fsync, rename); loads them back.  sim_dirty()
 * says whether anything changed since the last save.  0, or -1 with
 * *cause.  Loading a file that does not exist is not an error.
 */
int sim_save(struct sim *s, const char *path, char **cause);
int sim_load(struct sim *s, const char *path, char **cause);
int sim_dirty(const struct sim *s);

/*
 * Normalises a phone number (digits, optional leading + or 00, spaces,
 * dashes, dots, parentheses) to E.164 digits in out; 0, or -1 when it is
 * not 8 to 15 digits with a country code.
 */
int sim_phone(const char *in, char out[16]);

/* The splitmix64 generator the sim uses (exposed for tests). */
uint64_t sim_random(uint64_t *state);

#endif
