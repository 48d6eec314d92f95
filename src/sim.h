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

struct sniff;

#define SIM_CREDIT          1000000      /* the $1 test credit */
#define SIM_DEFAULT_SOURCE  "917834811114"   /* Gupshup's sandbox number */
#define SIM_DEFAULT_APP     "wadeskdemo"
#define SIM_RATE_LIMIT      20           /* messages per second per app */
#define SIM_WINDOW_S        86400        /* WhatsApp's 24 h session window */
#define SIM_UPLOAD_MAX      ((size_t)101 * 1024 * 1024)  /* POST /sim/upload: the largest cap + 1 MiB */
#define SIM_MEDIA_KEEP      ((size_t)512 * 1024 * 1024)  /* media bytes kept; oldest dropped first */
#define SIM_MEDIA_FILES     4096                         /* media files kept; oldest dropped first */
#define SIM_MEDIA_EXPIRY_MS ((int64_t)7 * 86400 * 1000)  /* the urlExpiry announced in webhooks */
#define SIM_MEDIA_OPTS_DEFAULT { .fail_downloads = -1, .expire_after_download = -1 }

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
	/* Faults of every customer file's URLs unless its own options say
	 * otherwise (struct sim_media_opts): */
	unsigned    fail_downloads;         /* the first N GETs answer 503 */
	int         expire_after_download;  /* gone after its first 200 */
	/* A libmagic handle to borrow (it must outlive the sim), so that many
	 * short-lived sims (tests, fuzzing) load its database once; NULL: the
	 * sim loads its own on first use. */
	struct sniff *sniff;
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
	/* Outbound media, once the sim has downloaded it (NULL/0 before, and
	 * when the download failed): */
	char   *media_name;         /* file name: "filename", else the URL's last segment */
	char   *media_mime;         /* sniffed, from the whitelist */
	int64_t media_size;
	char   *media_sha256;       /* 64 lower-case hex digits */
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
/*
 * Inbound media from a simulated customer: a PNG (GUPSHUP_IMAGE) or a PDF
 * (GUPSHUP_FILE) made in code (sim_sample.h), sent through
 * sim_inbound_file().  In the sandbox the caption goes as text instead.
 * Results as sim_inbound().
 */
int sim_inbound_media(struct sim *s, const char *phone, const char *name,
                      enum gupshup_msg_type type, const char *caption, int64_t now_ms,
                      char **cause);

/*
 * Media the sim keeps and serves at two URLs, as Gupshup does:
 *   the payload URL of the webhook, BASE/wa/APP/wa/media/ID?download=false
 *     (Gupshup's file-manager link): no apikey; 404 for an unknown id, 410
 *     "Media URL expired" once expired (past urlExpiry, or after its first
 *     download with expire_after_download);
 *   the media API, GET /sm/api/v1/wamedia/APP/ID: the apikey is required
 *     as for the rest of the API; 404 "Invalid Media Id" for an unknown or
 *     expired id.
 * Both answer 200 application/octet-stream with the bytes, and share one
 * fault state: the first fail_downloads GETs (either URL) answer 503.
 * Kept in memory: at most SIM_MEDIA_KEEP bytes and SIM_MEDIA_FILES
 * files, the oldest dropped first; nothing survives a restart (--state
 * keeps messages, not files), so an old URL answers 404 as an expired
 * Gupshup URL does.
 *
 * sim_media_put() keeps a copy of len bytes and returns the new id
 * (xmalloc'd).  Never fails.
 */
char *sim_media_put(struct sim *s, const void *data, size_t len);

/* How a customer's file is announced, and the faults its URL injects. */
struct sim_media_opts {
	const char *filename;           /* the document's "name"; NULL: none */
	const char *caption;            /* NULL: none */
	const char *content_type;       /* NULL: what the file is (see below) */
	int         fail_downloads;     /* the first N GETs answer 503; <0: the sim's
	                                 * --fail-downloads (struct sim_config) */
	int         expire_after_download; /* after one 200, gone; <0: the sim's */
};

/* What sim_inbound_file() announced (strings xmalloc'd; sim_media_info_release). */
struct sim_media_info {
	enum gupshup_msg_type type;     /* IMAGE, FILE, AUDIO or VIDEO */
	char *mime;                     /* the webhook's contentType */
	char *url;                      /* the wamedia URL */
	char *sniffed;                  /* libmagic's own answer */
};
void sim_media_info_release(struct sim_media_info *info);

/*
 * A customer sends the kept media id: the sim sniffs it (libmagic), picks
 * the webhook's inner type and contentType, charges the incoming fee and
 * queues the v2 "message" webhook with url = the payload URL (above),
 * contentType, urlExpiry, the caption and, for documents, the name.
 *
 * Type: a whitelisted file gets its whitelist MIME type and category
 * (image, file, audio, video).  Anything else is still delivered, as
 * WhatsApp delivers what a phone sends, so that the business's own checks
 * are exercised: contentType is what the file name claims
 * (sniff_claim_from_name) or else libmagic's answer, and the type follows
 * its top level (image/, audio/, video/, else file).  o->content_type
 * overrides contentType (not the type).  Sizes are not checked.
 *
 * 0 with *info filled (when info is not NULL); -1 with *cause: a bad
 * phone, an unknown id, the sandbox (customers' media is refused there:
 * nothing is posted or charged), libmagic failing.
 */
int sim_inbound_file(struct sim *s, const char *phone, const char *name, const char *media_id,
                     const struct sim_media_opts *o, int64_t now_ms,
                     struct sim_media_info *info, char **cause);

/*
 * Outbound media.  A session media send (image/file/audio/video) that
 * WhatsApp would accept is held: the sim downloads its URL (the network
 * layer does, with libcurl), checks what it got, and only then charges
 * and sends enqueued..read — or one failed event:
 *   131053 "Media upload error: ..."  the download failed (no answer, not
 *          HTTP 200) or the content is off the whitelist or, for image,
 *          audio and video messages, of another category (a document
 *          may carry any whitelisted file);
 *   1011   "Invalid Media Size: ..."  over the cap of its category.
 * sim_fetch_next() hands out the next download to start (1 with *f, whose
 * url the caller frees; 0 when none); sim_fetch_done() takes its outcome.
 */
struct sim_fetch {
	uint64_t id;
	char    *url;
	int64_t  cap;                   /* abort beyond this many bytes (media_cap) */
};
struct sim_fetch_result {
	int         answered;           /* 1: an HTTP answer came; status is set */
	long        status;
	const char *error;              /* !answered: why (curl's words) */
	int         over_cap;           /* aborted past f->cap */
	const char *content_type;       /* the answer's Content-Type, or NULL */
	const void *data;
	size_t      len;
};
int  sim_fetch_next(struct sim *s, struct sim_fetch *f);
void sim_fetch_done(struct sim *s, uint64_t id, const struct sim_fetch_result *r, int64_t now_ms);
/* Downloads waiting or in flight. */
size_t sim_fetches(const struct sim *s);
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
 * *cause.  Loading a file that does not exist is not an error.  Media
 * sends whose download had not finished are downloaded again after a load.
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
