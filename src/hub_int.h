/*
 * hub_int.h — what hub.c, hub_webhook.c and hub_cmd.c share: the hub
 * struct itself and the helpers for events, contacts and the outbox.
 * Not for use outside src/hub*.c.
 */
#ifndef WADESK_HUB_INT_H
#define WADESK_HUB_INT_H

#include "hub.h"
#include "limits.h"
#include "proto.h"
#include "status.h"
#include "store.h"
#include "template.h"

#define HUB_PHONE_BUCKETS 1024

struct hub_pending { int64_t n; char *frame; size_t len; };
struct hub_newq { int64_t msg_id; char *phone; };
struct hub_fjob;

/* What a transaction releases once it is durable: its events (broadcast
 * in order), its new outbox entries and its download jobs.  The open
 * transaction's is h->cur; committed ones whose WAL sync is still running
 * wait in h->held, in commit order, tagged with their sync ticket. */
struct hub_tx {
	uint64_t            seq;
	struct hub_pending *pend; size_t npend, cpend;
	struct hub_newq    *newq; size_t nnewq, cnewq;
	struct hub_fjob    *newf; size_t nnewf, cnewf;
};
struct hub_typing { char *phone; int64_t until; };

struct ob_phone {
	char     *phone;
	int       inflight;
	uint64_t  visit;
	struct ob_phone *next;
};

struct ob_entry {
	int64_t          msg_id;
	struct ob_phone *phone;
	int              attempts;
	int64_t          next_try;      /* ms */
	int              inflight;
	struct ob_entry *next;
};

/* One pending download (hub_media.c). */
struct hub_fjob {
	int64_t msg_id;
	char   *url, *mime, *error;
	int     attempts;
	int64_t next_try;       /* wall-clock ms */
	int64_t created;        /* unix seconds (hub_now) */
	int     inflight;
};

struct hub {
	const struct config *cfg;
	char         *dir;
	struct store *st;
	struct limits *lim;
	struct hub_io io;
	char         *hub_id;
	int64_t       head, tx_head;
	int64_t       generation;
	int64_t       fake_now;
	int           brb;
	struct hub_metrics m;

	struct store_kv      *settings; int nsettings;
	struct proto_setting *psettings;           /* for frames: hub_public_settings() */
	struct store_kv      *tpl; int ntpl;
	struct template_def  *tdefs;
	struct proto_template *ptpl;

	struct hub_tx       cur;
	struct hub_tx      *held; size_t nheld, cheld;
	uint64_t            seq, durable;    /* last ticket given, last released */
	int64_t             released;        /* last event number broadcast */
	struct walsync     *ws;              /* the sync and checkpoint threads; NULL, or
	                                      * sync = normal: commits are synced inline */
	char               *failed;          /* a WAL sync failed: the hub must stop */

	struct ob_entry *ob_head;
	size_t           ob_depth;
	uint64_t         ob_scan;
	struct ob_phone *phones[HUB_PHONE_BUCKETS];

	struct hub_fjob *fjobs; size_t nfjobs, cfjobs;    /* committed download jobs */

	struct hub_typing *typing; size_t ntyping;
	char  **agents; size_t nagents;
};

struct hub_setting_def {
	const char      *key;
	enum proto_vkind kind;
	const char      *dflt;
};
extern const struct hub_setting_def hub_setting_defs[];
extern const size_t hub_nsetting_defs;
const struct hub_setting_def *hub_setting_def(const char *key);
const char *hub_setting(struct hub *h, const char *key);
int64_t hub_setting_int(struct hub *h, const char *key);
int  hub_setting_bool(struct hub *h, const char *key);
int  hub_load_settings(struct hub *h, char **cause);
/* The settings frames carry (the table's, then read-only `sandbox` from
 * wadesk.conf): *out points into h, valid until the next load; the count. */
size_t hub_public_settings(struct hub *h, const struct proto_setting **out);
int  hub_load_templates(struct hub *h, char **cause);

/* Transactions with their events: begin, then commit (durable, then
 * broadcast) or abort.  hub_commit_async() does not wait for the disk:
 * *seq gets the ticket that hub_durable() reports once the transaction is
 * on disk and released (0: released already). */
int  hub_begin(struct hub *h, char **cause);
int  hub_commit(struct hub *h, char **cause);
int  hub_commit_async(struct hub *h, uint64_t *seq, char **cause);
/* Syncs and releases the held transactions now: a read must not show what
 * a crash could still take back.  0, or -1 with *cause. */
int  hub_settle(struct hub *h, char **cause);
void hub_abort(struct hub *h);
struct hub_mark { int64_t head; size_t npend, nnewq, nnewf; };
void hub_mark(struct hub *h, struct hub_mark *m);
void hub_undo(struct hub *h, const struct hub_mark *m);
void hub_drop(struct hub *h, int64_t head);

/* Appends an event (n, t, type set here) to the log and the pending list. */
int  hub_emit(struct hub *h, struct proto_msg *ev, char **cause);
int  hub_emit_contact(struct hub *h, const struct store_contact *c, char **cause);
/* The message event for m as inserted (m->id set): no read back. */
int  hub_emit_message(struct hub *h, const struct store_message *m, char **cause);
int  hub_emit_message_id(struct hub *h, int64_t id, char **cause);
int  hub_emit_status(struct hub *h, const struct store_contact *c, char **cause);
int  hub_emit_state(struct hub *h, int64_t msg_id, const char *phone, int state,
                    const char *reason, char **cause);
void hub_proto_contact(const struct store_contact *c, struct proto_contact *p);
/* idbuf: 24 bytes that p->id points into. */
void hub_proto_message(const struct store_message *m, struct proto_message *p, char *idbuf);

/* Loads phone's contact, or a fresh one (*created = 1, not yet stored). */
int  hub_contact(struct hub *h, const char *phone, struct store_contact *c, int *created,
                 char **cause);
void hub_contact_event(struct store_contact *c, enum chat_event ev);
int  hub_phone_valid(const char *phone);

/* Outbox: store row now, memory view after the commit. */
int  hub_queue_send(struct hub *h, int64_t msg_id, const char *phone, char **cause);
void hub_outbox_push(struct hub *h, int64_t msg_id, const char *phone, int attempts,
                     int64_t next_try);

/* Download jobs (hub_media.c): add inside a transaction (into h->cur);
 * moved to the memory view when the transaction is released
 * (hub_fetch_flush, t's jobs), dropped by hub_undo. */
int  hub_fetch_add(struct hub *h, int64_t msg_id, const char *url, const char *mime, char **cause);
void hub_fetch_undo(struct hub *h, size_t nnewf);
void hub_fetch_flush(struct hub *h, struct hub_tx *t);
void hub_fetch_push(struct hub *h, const struct hub_fjob *j);
int  hub_fetch_load(struct hub *h, char **cause);
void hub_fetch_free_all(struct hub *h);
void hub_fetch_tx_free(struct hub_tx *t);      /* t's jobs, never pushed */

void hub_typing(struct hub *h, const char *phone, int64_t until);
void hub_typing_clear(struct hub *h, const char *phone);
void hub_agent_seen(struct hub *h, const char *agent);

/* Automation for an inbound message already stored (hub_webhook.c). */
int  hub_automate(struct hub *h, struct store_contact *c, int created, const char *text,
                  int64_t **ids, size_t *nids, char **cause);

#endif
