/*
 * hub.h — the hub's domain logic, apart from the network.
 *
 * struct hub owns the store, the agent limits, the cached settings and
 * templates, the in-memory view of the outbox, and the event log's head.
 * The network layer (net/hub_*.c) feeds it webhook bodies, desk frames and
 * send results, and it calls back through struct hub_io to broadcast
 * events, wake the sender and close sessions.  Nothing here blocks except
 * SQLite commits (which are what durability costs) and nothing here knows
 * about sockets, so every rule is testable by calling these functions.
 *
 * Events.  Every change is an event: a desk-protocol frame with the next
 * number n, appended to the event log in the same transaction as the
 * change.  Frames are broadcast (io.broadcast) only after the commit, in
 * order, so a console never sees an event that a crash could take back.
 *
 * Time.  All rules use hub_now(): the wall clock, or a fixed time set by
 * hub_set_time() in tests.
 */
#ifndef WADESK_HUB_H
#define WADESK_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "hub_config.h"
#include "proto.h"

struct hub;

struct hub_io {
	void *arg;
	/* One committed event frame, in order; may be called many times per turn. */
	void (*broadcast)(void *arg, int64_t n, const char *frame, size_t len);
	/* The outbox has new work (or a retry became due sooner). */
	void (*outbox_wake)(void *arg);
	/* Access rotated to generation: close sessions of older generations. */
	void (*rotated)(void *arg, int64_t generation);
	/* Called from another thread when a WAL sync finished: the loop
	 * should call hub_durable() soon.  NULL: every commit waits for its
	 * own sync (tests, one-shot tools). */
	void (*wake)(void *arg);
};

/* One console session as the hub sees it. */
struct hub_session {
	enum proto_role role;
	char    agent[65];
	int64_t generation;
	int     authed;
};

struct hub_metrics {
	uint64_t webhooks_ok, webhooks_bad, webhooks_dup, webhooks_failed;
	uint64_t sends_ok, sends_failed, sends_retried;
	uint64_t commands, command_errors, hellos_failed;
	uint64_t batches;
	uint64_t media_ok, media_refused, media_failed, media_retried;
	uint64_t uploads_ok, uploads_refused;
};

/*
 * Opens DIR's database (DIR/wadesk.db) with cfg (borrowed; must outlive
 * the hub), loads settings, templates, the outbox and rebuilds the agent
 * limits from the last 30 days of messages.  0 or -1 with *cause.
 */
int  hub_open(const char *dir, const struct config *cfg, const struct hub_io *io,
              struct hub **out, char **cause);
void hub_free(struct hub *h);                   /* NULL ok */

/* Initialises a new database: schema, hub id, default settings. */
int  hub_init_db(const char *dir, const struct config *cfg, char **cause);

int64_t hub_now(struct hub *h);
void    hub_set_time(struct hub *h, int64_t t);   /* 0: the wall clock again */
const struct hub_metrics *hub_metrics(struct hub *h);
int64_t hub_head(struct hub *h);                  /* last event number broadcast */
size_t  hub_outbox_depth(struct hub *h);
const char *hub_id(struct hub *h);

/* ---- provider webhooks ---- */
struct hub_webhook {
	const char *body;
	size_t      len;
	int         status;   /* out: 200, 400 (bad body), 500 (not committed) */
	char       *reason;   /* out: xmalloc'd one line when not 200 */
};
/*
 * Applies n webhook bodies as one group commit: each in its own savepoint
 * (a failing one is undone alone), one COMMIT for all.  Duplicates (same
 * provider id) change nothing and get 200.  The 200s must not go out
 * before the commit is on disk: the result is the sync ticket to wait
 * for (hub_durable() >= it), 0 when it is durable already (no io.wake, or
 * synchronous=NORMAL) or nothing was committed.  400s and 500s may be
 * answered at once.  The batch's events are broadcast when it is durable.
 */
uint64_t hub_webhooks(struct hub *h, struct hub_webhook *w, size_t n);
/*
 * Releases the batches whose WAL sync finished (their events broadcast,
 * their sends and downloads queued) and returns the highest durable
 * ticket.  Cheap; the loop calls it after every turn.  hub_durable_wait()
 * first blocks until every batch committed so far is durable.
 */
uint64_t hub_durable(struct hub *h);
uint64_t hub_durable_wait(struct hub *h);
/* 1 while the last batch's COMMIT is still running in the commit thread:
 * any call into the hub would wait for it, so a loop with a batch to
 * apply had better serve its sockets meanwhile.  Asking also has the
 * commit thread call io.wake once the COMMIT is done. */
int hub_busy(struct hub *h);
/* Non-NULL (the reason) once a WAL sync failed: what was committed may not
 * be on disk, so nothing more may be acknowledged; the hub must stop. */
const char *hub_failed(struct hub *h);

/* ---- desk sessions ---- */
/*
 * Authenticates a hello.  0: *s filled, *frame = the welcome frame.  -1:
 * *frame = a bye frame with auth.token / auth.expired (or internal).
 * *frame is xmalloc'd either way.
 */
int  hub_hello(struct hub *h, const struct proto_msg *hello, struct hub_session *s,
               char **frame, size_t *len);
/* Runs one command for session s: returns its ack or error frame (xmalloc'd). */
char *hub_command(struct hub *h, struct hub_session *s, const struct proto_msg *m, size_t *len);
/* Events after n for replay: up to limit frames; count or -1. See store_events_after. */
struct store_event;
int  hub_replay(struct hub *h, int64_t after, int limit, struct store_event **out);
int64_t hub_generation(struct hub *h);

/* ---- outbox ---- */
enum hub_send_result { HUB_SEND_OK, HUB_SEND_RETRY, HUB_SEND_FAILED };
struct hub_send {
	int64_t msg_id;
	char   *path;       /* GUPSHUP_PATH_MSG or _TEMPLATE (static) */
	char   *form;       /* xmalloc'd form body */
};
/*
 * The next message that may go out at now_ms (per-contact order: only the
 * oldest queued message of each contact is a candidate, and not while one
 * of its messages is in flight).  1 with *s filled (the message is now in
 * flight; release with hub_send_release), 0 when none is due.
 */
int  hub_outbox_next(struct hub *h, int64_t now_ms, struct hub_send *s);
void hub_send_release(struct hub_send *s);
/* Milliseconds until the earliest retry is due (0 = now), -1 when idle. */
int64_t hub_outbox_wait(struct hub *h, int64_t now_ms);
/* The provider's answer for an in-flight message: OK with the provider's
 * id, RETRY (429, 5xx, timeout, refused: backoff with jitter) or FAILED
 * with the provider's reason. */
void hub_outbox_result(struct hub *h, int64_t msg_id, enum hub_send_result r,
                       const char *provider_id, const char *reason, int64_t now_ms);

/* ---- media (hub_media.c, docs/media.md) ---- */
/* A due download.  Strings point into the hub's job and stay valid until
 * hub_fetch_result() for that msg_id. */
struct hub_fetch {
	int64_t     msg_id;
	const char *url;
	const char *mime;       /* declared, may be NULL */
	int         attempts;   /* before this one */
	int64_t     cap;        /* bytes: the declared category's cap (100 MB unknown) */
};
/* 1 with *f (the job is now in flight), 0 when none is due at now_ms
 * (wall clock). */
int     hub_fetch_next(struct hub *h, int64_t now_ms, struct hub_fetch *f);
/* ms until the next job is due (0 = now), -1 when none waits. */
int64_t hub_fetch_wait(struct hub *h, int64_t now_ms);
/* Downloads not yet stored, refused or given up. */
size_t  hub_fetch_pending(struct hub *h);

enum hub_fetch_kind {
	HUB_FETCH_READY,      /* stored: sha256, mime (sniffed), size */
	HUB_FETCH_RETRY,      /* network error, 5xx, 429, 404: why, status */
	HUB_FETCH_REFUSED,    /* final: code (media.type, media.size, media.download), why */
};
struct hub_fetch_outcome {
	enum hub_fetch_kind kind;
	const char *sha256, *mime;
	int64_t     size;
	const char *code;
	const char *why;      /* "HTTP 503 from the provider", the refusal sentence */
	int         status;   /* HTTP status, 0 when none */
};
/* One attempt's outcome: commits the message's new media state with a
 * `message` event; a retry is scheduled on the backoff table (404: a few
 * times; anything: 24 h at most, then refused with media.download). */
void hub_fetch_result(struct hub *h, int64_t msg_id, const struct hub_fetch_outcome *o,
                      int64_t now_ms);

/* Counts an upload's outcome for /metrics: ok (201) or refused (413/415). */
void hub_media_uploaded(struct hub *h, int ok);
/* Records an uploaded (committed, sniffed) file.  0 or -1 with *cause. */
int  hub_media_recorded(struct hub *h, const char *sha256, const char *mime, int64_t size,
                        char **cause);
/* 1 with *mime (xmalloc'd; may be NULL) and *size when sha256 is a stored
 * file, 0 when not (or not a valid digest), -1 on a database error. */
int  hub_media_lookup(struct hub *h, const char *sha256, char **mime, int64_t *size);
/* 1 when an outbound message carries sha256 (servable without a token). */
int  hub_media_public(struct hub *h, const char *sha256);
/* An access token presented in a header: 1 with *role when it is valid
 * for the current generation, 0 when not, -1 on a database error. */
int  hub_token_role(struct hub *h, const char *token, enum proto_role *role);

/* What a media send resolves to (hub_cmd.c). */
struct hub_media_send {
	char    sha256[65];
	char   *mime;         /* the stored, sniffed type */
	int64_t size;
	char   *filename;     /* safe, with the real type's extension */
};
/* 0 with *out, or -1 with *code ("media.unknown" when the digest is not a
 * file of this hub) and *why (xmalloc'd). */
int  hub_media_for_send(struct hub *h, const struct proto_media *pm, struct hub_media_send *out,
                        const char **code, char **why);
void hub_media_send_release(struct hub_media_send *m);
/* PUBLIC_URL/v1/public/SHA256/NAME (NAME percent-encoded); xmalloc'd. */
char *hub_public_media_url(struct hub *h, const char *sha256, const char *name);

/* ---- periodic work (call every ~250 ms) ---- */
/* Lapses typing after 30 s, notices an access rotation made elsewhere. */
void hub_tick(struct hub *h);

#endif
