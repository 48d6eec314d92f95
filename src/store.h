/*
 * store.h — the hub's durable state behind one interface (SQLite today).
 *
 * Nothing outside src/store.c speaks SQL: the hub asks for contacts,
 * messages, the event log, the outbox, canned replies, templates, settings
 * and access tokens in domain terms, so a PostgreSQL store could replace
 * this one without touching the hub.
 *
 * Transactions.  The hub is the only writer and runs on one thread.  It
 * groups work explicitly: store_begin() ... store_commit(), and inside a
 * batch each webhook runs in a savepoint (store_savepoint / store_release /
 * store_rollback_to) so that a webhook that fails is undone alone while the
 * others of the batch commit together (group commit).  Reads may run inside
 * or outside a transaction.
 *
 * Rules kept by the schema itself, not by callers: a provider message id is
 * stored once (UNIQUE; inserts of duplicates are ignored), and a message's
 * state only moves forward (queued < submitted < sent < delivered < read;
 * failed is final and only follows queued/submitted/sent) — a trigger
 * ignores any other update.
 *
 * Errors: functions returning int give 0 (or a count / 1 found, 0 not
 * found where stated) and -1 on a database error with *cause set to an
 * xmalloc'd line ("cannot insert message: database is locked").
 * Strings in structs filled by the store are xmalloc'd and freed by the
 * matching *_release(); strings in structs passed in are only read.
 */
#ifndef WADESK_STORE_H
#define WADESK_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 3

struct store;
struct store_kv;

struct store_options {
	int sync_full;      /* 1: every commit fdatasynced, as FULL (default); 0: NORMAL */
	int checkpoint;     /* WAL frames that start a checkpoint; 0: 4000 */
};

/* Opens (creating when create is set) the database at path, applies the
 * migrations up to STORE_SCHEMA_VERSION, WAL mode.  0 or -1 with *cause. */
int  store_open(const char *path, int create, const struct store_options *o,
                struct store **out, char **cause);
/* As store_open() but migrates only up to max_version (for tests of
 * migrations: build an old database, then open it with store_open()). */
int  store_open_upto(const char *path, int create, const struct store_options *o,
                     int max_version, struct store **out, char **cause);
void store_close(struct store *st);   /* NULL ok */
/* The schema version found on disk (PRAGMA user_version). */
int  store_schema_version(struct store *st);

int  store_begin(struct store *st, char **cause);
int  store_commit(struct store *st, char **cause);
void store_rollback(struct store *st);
/*
 * Deferred durability (a pipelined group commit).  With sync = full every
 * commit is fdatasynced before store_commit() returns (synchronous=FULL's
 * WAL sync, done by the store's WAL hook); store_begin_deferred() opens a
 * transaction whose store_commit() writes the WAL but does not wait for
 * the disk: the transaction is visible at once and durable only once a
 * store_wal_sync() that started after the commit has returned 0.  Nothing
 * is weaker once the caller waits for that sync; what it gains is that
 * the sync can run in another thread while the next transaction is built.
 * With sync = normal these are store_begin() and a no-op.
 *
 * store_wal_sync() may be called from any thread, concurrently with the
 * connection's use (it touches only its own descriptor of the WAL file).
 * 0, or -1 with *cause: then what was committed may not be on disk.
 * store_deferred(): 1 when commits need store_wal_sync (FULL).
 */
/*
 * Checkpoints (copying the WAL back into the database, every 4000 frames)
 * normally run inside the COMMIT that crosses the mark.  After
 * store_checkpoint_offload() (either sync mode) that COMMIT only sets
 * store_checkpoint_due(), and another thread calls store_checkpoint(),
 * which uses a connection of its own and syncs the database after it
 * copied; the COMMIT after it copies the frames written meanwhile (the
 * tail), so that the log can start over.  One checkpoint is due, running
 * or waiting for its tail at a time.  If the log reaches four times the
 * mark meanwhile, commits checkpoint inline again.  store_checkpoint() is
 * not to be called concurrently with itself; 0, or -1 with *cause (the
 * log is then left to the next try).
 */
void store_checkpoint_offload(struct store *st);
int  store_checkpoint_due(struct store *st);
int  store_checkpoint(struct store *st, char **cause);
int  store_begin_deferred(struct store *st, char **cause);
/*
 * A deferred transaction's COMMIT can run in another thread while the
 * loop goes on (walsync's commit thread): store_lend() hands the
 * connection over, that thread calls store_commit_lent() (store_commit,
 * then the connection is given back), and any other store call meanwhile,
 * from any thread, first waits until it is back.  store_lent() says
 * whether it is out (for a caller that would rather do something else
 * than wait); store_reclaim() just waits.
 */
void store_lend(struct store *st);
int  store_commit_lent(struct store *st, char **cause);
int  store_lent(struct store *st);
void store_reclaim(struct store *st);
int  store_wal_sync(struct store *st, char **cause);
int  store_deferred(struct store *st);
int  store_savepoint(struct store *st, char **cause);
void store_release(struct store *st);
void store_rollback_to(struct store *st);

/* ---- key/value metadata (hub id, access generation, ...) ---- */
/* 1 with *value (xmalloc'd), 0 when absent, -1 on error. */
int store_meta_get(struct store *st, const char *key, char **value, char **cause);
int store_meta_set(struct store *st, const char *key, const char *value, char **cause);
/* Integer helpers over the same table; absent reads as dflt. */
int64_t store_meta_int(struct store *st, const char *key, int64_t dflt);
int store_meta_set_int(struct store *st, const char *key, int64_t v, char **cause);

/* ---- event log ---- */
int     store_event_append(struct store *st, int64_t n, int64_t t, const char *frame,
                           char **cause);
int64_t store_event_head(struct store *st);     /* 0 when empty */
struct store_event { int64_t n; char *frame; };
/* Up to limit events with number > after, in order.  *out (xmalloc'd,
 * release with store_events_free).  Returns how many, or -1. */
int  store_events_after(struct store *st, int64_t after, int limit,
                        struct store_event **out, char **cause);
void store_events_free(struct store_event *e, int n);

/* ---- contacts ---- */
struct store_contact {
	char   *phone;
	char   *name;
	char   *note;
	char  **tags; size_t ntags;     /* sorted */
	int     opted_in, opted_out;
	int64_t last_inbound;
	int     status, resume;         /* enum chat_status */
	char   *agent;                  /* responder */
	int64_t created;
	int64_t greeted_at, away_at, brb_at, prompted_at;   /* automation cooldowns */
};
/* 1 with *c filled, 0 when no such contact, -1 on error. */
int  store_contact_get(struct store *st, const char *phone, struct store_contact *c,
                       char **cause);
/* Inserts or replaces every column but tags. */
int  store_contact_put(struct store *st, const struct store_contact *c, char **cause);
/*
 * An inbound message moved only the contact's last_inbound: nothing is
 * written (the hub does this for most webhooks, and the contact's page
 * was one more page per webhook in every group commit).  The row's
 * last_inbound may then lag; store_contact_get() returns the later of it
 * and the time of the contact's newest inbound message, which must be
 * stored (store_message_insert) before this is called.
 */
void store_contact_touch(struct store *st, const char *phone, int64_t last_inbound);
/* 1 when it changed something, 0 when the tag was (not) there already. */
int  store_tag_add(struct store *st, const char *phone, const char *tag, char **cause);
int  store_tag_rm(struct store *st, const char *phone, const char *tag, char **cause);
void store_contact_release(struct store_contact *c);
/* Every phone with a status among the bitmask (1 << status); xmalloc'd. */
int  store_contacts_with_status(struct store *st, unsigned mask, char ***phones,
                                size_t *n, char **cause);

/* ---- messages ---- */
enum store_state { ST_QUEUED, ST_SUBMITTED, ST_SENT, ST_DELIVERED, ST_READ, ST_FAILED };
const char *store_state_name(int state);        /* "queued" ... */
int store_state_parse(const char *name);        /* -1 when unknown */

struct store_message {
	int64_t id;
	char   *phone;
	int     out;                 /* direction: 1 out, 0 in */
	char   *type;                /* "text", "image", ... */
	char   *text;
	int     state;
	char   *reason;
	char   *agent;
	int     automated;
	int64_t time;
	char   *template_id;
	char  **params; size_t nparams;
	char   *provider_id;         /* in: WhatsApp id; out: Gupshup id */
	char   *wa_id;               /* out: WhatsApp id once known */
	char   *cid;                 /* the agent's send id */
	char   *media_mime, *media_url, *media_filename;
	char   *payload;             /* in: the provider's payload, verbatim */
	/* media (docs/media.md); media_mime NULL = none */
	char   *media_sha256;        /* once stored */
	int64_t media_size;          /* bytes, 0 = not known yet */
	char   *media_state;         /* "pending" | "ready" | "refused" (NULL: none) */
	char   *media_error;         /* pending: last failure; refused: the sentence */
	char   *media_code;          /* refused: "media.type" | "media.size" | ... */
};
/*
 * Inserts m (m->id ignored); an inbound message with a provider_id already
 * stored is ignored.  Returns 1 and sets *id when inserted, 0 when it was a
 * duplicate, -1 on error.
 */
int  store_message_insert(struct store *st, const struct store_message *m, int64_t *id,
                          char **cause);
int  store_message_get(struct store *st, int64_t id, struct store_message *m, char **cause);
/* By the agent's send id: 1 found, 0 not. */
int  store_message_by_cid(struct store *st, const char *agent, const char *cid,
                          struct store_message *m, char **cause);
/* By provider (Gupshup) id or WhatsApp id: 1 found, 0 not. */
int  store_message_by_provider(struct store *st, const char *gs_id, const char *wa_id,
                               struct store_message *m, char **cause);
/* Moves the state forward (the schema ignores backward moves): 1 when it
 * changed, 0 when not (backward, same, or failed already). */
int  store_message_set_state(struct store *st, int64_t id, int state, const char *reason,
                             char **cause);
int  store_message_set_ids(struct store *st, int64_t id, const char *gs_id,
                           const char *wa_id, char **cause);
/* Up to limit messages of phone older than before (0 = newest), oldest
 * first; *more when older ones exist.  Returns the count or -1. */
int  store_history(struct store *st, const char *phone, int64_t before, int limit,
                   struct store_message **out, int *more, char **cause);
void store_message_release(struct store_message *m);
void store_messages_free(struct store_message *m, int n);
/* Calls fn for every message since t0 in time order (limits rebuild). */
int  store_messages_since(struct store *st, int64_t t0,
                          void (*fn)(void *arg, const struct store_message *m), void *arg,
                          char **cause);
int64_t store_message_count(struct store *st);
/* Agent (non-automated, outbound) message counts since t0, per agent:
 * key = agent, value = decimal count.  count or -1. */
int  store_agent_counts(struct store *st, int64_t t0, struct store_kv **out, char **cause);

/* Delivery events that arrived before the send reply named their message. */
int  store_pending_state_add(struct store *st, const char *gs_id, int state,
                             const char *reason, char **cause);
struct store_pending { int state; char *reason; };
/* Takes (returns and deletes) the pending states of gs_id; count or -1. */
int  store_pending_state_take(struct store *st, const char *gs_id,
                              struct store_pending **out, char **cause);

/* ---- outbox ---- */
struct store_outbox { int64_t msg_id; char *phone; int attempts; int64_t next_try; };
int  store_outbox_add(struct store *st, int64_t msg_id, const char *phone, char **cause);
int  store_outbox_retry(struct store *st, int64_t msg_id, int attempts, int64_t next_try,
                        char **cause);
int  store_outbox_done(struct store *st, int64_t msg_id, char **cause);
/* Every entry, in message order. count or -1. */
int  store_outbox_all(struct store *st, struct store_outbox **out, char **cause);
void store_outbox_free(struct store_outbox *o, int n);

/* ---- media files and downloads ---- */
/* Records a stored file (sha256 = 64 hex digits) with its sniffed type;
 * a file recorded already is left as it is. */
int  store_media_put(struct store *st, const char *sha256, const char *mime, int64_t size,
                     int64_t t, char **cause);
/* 1 with *mime (xmalloc'd; mime may be NULL) and *size (may be NULL) when
 * sha256 is a recorded file, 0 when not, -1 on error. */
int  store_media_get(struct store *st, const char *sha256, char **mime, int64_t *size,
                     char **cause);
/* 1 when an outbound message carries sha256 (so it may be served
 * publicly to the provider), 0 when none does, -1 on error. */
int  store_media_outbound(struct store *st, const char *sha256, char **cause);
/* What changes in a message's media: state always; error and code are
 * set as given (NULL clears them); sha256, mime and url only when not
 * NULL, size only when > 0. */
struct store_media_update {
	const char *state, *sha256, *mime, *url, *error, *code;
	int64_t size;
};
/* 1 when the message exists (and was updated), 0 when not, -1. */
int  store_message_set_media(struct store *st, int64_t id, const struct store_media_update *u,
                             char **cause);

/* Download jobs: one per pending inbound media, kept until it is stored,
 * refused, or given up.  Times are the caller's (the hub: wall-clock ms
 * for next_try, unix seconds for created). */
struct store_media_job {
	int64_t msg_id;
	char   *url;
	char   *mime;           /* declared type, may be NULL */
	int     attempts;
	int64_t next_try;
	int64_t created;
	char   *error;          /* the last failure, "" before the first try */
};
int  store_media_job_add(struct store *st, int64_t msg_id, const char *url, const char *mime,
                         int64_t created, char **cause);
int  store_media_job_retry(struct store *st, int64_t msg_id, int attempts, int64_t next_try,
                           const char *error, char **cause);
int  store_media_job_done(struct store *st, int64_t msg_id, char **cause);
/* Every job in message order: count or -1; free with store_media_jobs_free. */
int  store_media_jobs_all(struct store *st, struct store_media_job **out, char **cause);
void store_media_jobs_free(struct store_media_job *j, int n);

/* ---- canned replies, templates, settings ---- */
struct store_kv { char *key; char *value; char *extra; };
void store_kv_free(struct store_kv *kv, int n);
int  store_canned_all(struct store *st, struct store_kv **out, char **cause); /* key=name value=text */
int  store_canned_put(struct store *st, const char *name, const char *text, char **cause);
int  store_canned_rm(struct store *st, const char *name, char **cause);      /* 1 removed, 0 absent */
int  store_templates_all(struct store *st, struct store_kv **out, char **cause); /* key=id value=name extra=body */
int  store_template_put(struct store *st, const char *id, const char *name, const char *body,
                        char **cause);
int  store_template_rm(struct store *st, const char *id, char **cause);      /* 1 removed, 0 absent */
int  store_settings_all(struct store *st, struct store_kv **out, char **cause);
int  store_setting_put(struct store *st, const char *key, const char *value, char **cause);

/* ---- access tokens: SHA-256 hashes (hex) per role, one generation ---- */
int  store_token_set(struct store *st, const char *role, const char *hash_hex,
                     int64_t generation, char **cause);
/* 1 with *role (xmalloc'd) and *generation when hash_hex is a stored hash
 * (compared in constant time over all rows), 0 when unknown. */
int  store_token_find(struct store *st, const char *hash_hex, char **role,
                      int64_t *generation, char **cause);

#endif
