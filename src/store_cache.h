/*
 * store_cache.h — the console's local cache: one SQLite file per hub,
 * $XDG_DATA_HOME/wadesk/HUBID.db, holding what the console has seen of the
 * hub (chats, messages, canned replies, templates) and the number of the
 * last event applied, so that the console paints before the network
 * answers, works read-only offline, and resumes with no gap.
 *
 * It is read lazily: the console asks for one screen of chats or messages
 * at a time (indexed, keyset or LIMIT/OFFSET paging), never the whole file.
 * This is the only console code that includes sqlite3.
 *
 * Strings in the structs below are owned by the struct (xmalloc'd) and
 * released by cache_chat_release()/cache_msg_release().  Every function
 * that can fail returns -1 and sets *cause (xmalloc'd, caller frees) when
 * cause is not NULL.
 */
#ifndef WADESK_STORE_CACHE_H
#define WADESK_STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache;

struct cache_chat {
	char   *phone;
	char   *name;
	char   *note;
	char   *tags;         /* ",a,b," (empty string when none) */
	int     status;       /* enum chat_status */
	char   *responding;   /* agent typing, "" when none */
	int64_t responding_at;/* unix seconds of the last typing seen */
	int     unread;
	char   *preview;      /* last message, raw (sanitise before showing) */
	int64_t last_time;    /* last message of any direction */
	int64_t last_inbound; /* 0 = never wrote */
	int     opted_in;
	int     failed;       /* a message of this chat failed */
};

struct cache_msg {
	int64_t seq;          /* local order (filled by the cache) */
	char   *id;           /* hub's message id */
	char   *phone;
	int     out;          /* 1 = agent/automation to customer */
	char   *type;         /* "text", "image", ... */
	char   *text;
	char   *state;        /* out only: queued sent delivered read failed */
	char   *reason;       /* failure reason or "" */
	char   *agent;        /* "" for inbound */
	int64_t time;
	int     automated;
	/* Media (docs/media.md); every string "" when the message has none
	 * (media_mime "" means no media).  Customer-controlled: sanitise the
	 * name and caption before showing them. */
	char   *media_mime;
	char   *media_name;   /* the sender's file name, as given */
	char   *media_caption;
	int64_t media_size;   /* bytes, 0 = not known yet */
	char   *media_sha256; /* 64 hex digits once the hub stored it */
	char   *media_state;  /* "pending" | "ready" | "refused" ("" = ready) */
	char   *media_error;  /* pending: last download failure; refused: the sentence */
	char   *media_code;   /* refused: "media.type" | "media.size" */
};

struct cache_filter {
	int         status;   /* -1 = any, else enum chat_status */
	const char *tag;      /* NULL = any */
	const char *search;   /* NULL = any; matched against name, phone, preview */
};

/* Opens (creating) the cache at path (":memory:" for tests), bringing an
 * older file's schema up to date (PRAGMA user_version counts the
 * migrations applied).  0 / -1. */
int  cache_open(const char *path, struct cache **out, char **cause);
void cache_close(struct cache *c);               /* NULL ok */

/* Group several writes in one transaction (events arriving together).
 * cache_begin takes the write lock at once (BEGIN IMMEDIATE), waiting up
 * to 10 s for another process sharing the file; -1 with *cause after that. */
int  cache_begin(struct cache *c, char **cause);
int  cache_commit(struct cache *c, char **cause);
/* Undoes the open transaction (no-op without one). */
void cache_rollback(struct cache *c);

/* Key/value metadata ("hub_id", "last_event", "role", ...).  get returns
 * an xmalloc'd string or NULL when absent. */
char *cache_meta_get(struct cache *c, const char *key);
int   cache_meta_set(struct cache *c, const char *key, const char *value, char **cause);
int64_t cache_last_event(struct cache *c);       /* 0 when none */
int   cache_set_last_event(struct cache *c, int64_t n, char **cause);

/* Chats. put replaces the whole row (upsert by phone).  get: 0 found,
 * 1 absent (out zeroed), -1 error. */
int  cache_chat_put(struct cache *c, const struct cache_chat *ch, char **cause);
int  cache_chat_get(struct cache *c, const char *phone, struct cache_chat *out, char **cause);
/* Number of chats matching f (NULL = all); -1 on error. */
long cache_chat_count(struct cache *c, const struct cache_filter *f);
/* One page of matching chats, newest activity first (ties by phone):
 * *out (xmalloc'd array of *n, free with cache_chats_free). */
int  cache_chat_page(struct cache *c, const struct cache_filter *f, long offset, int limit,
                     struct cache_chat **out, size_t *n, char **cause);
/* Position of phone in the filtered order, or -1. */
long cache_chat_index(struct cache *c, const struct cache_filter *f, const char *phone);
void cache_chat_release(struct cache_chat *ch);
void cache_chats_free(struct cache_chat *v, size_t n);

/* Messages. put inserts, or updates the row with the same id in place
 * (keeping its order).  state only moves forward (failed is final). */
int  cache_msg_put(struct cache *c, const struct cache_msg *m, char **cause);
/* Finds by id: 0 found, 1 absent, -1 error. */
int  cache_msg_get(struct cache *c, const char *id, struct cache_msg *out, char **cause);
int  cache_msg_state(struct cache *c, const char *id, const char *state, const char *reason,
                     char **cause);
/* Up to limit messages of phone with seq < before (0 = newest), oldest first. */
int  cache_msg_page(struct cache *c, const char *phone, int64_t before, int limit,
                    struct cache_msg **out, size_t *n, char **cause);
long cache_msg_count(struct cache *c, const char *phone);
/* The media message of phone nearest to seq in direction dir (-1 older,
 * +1 newer, strictly; seq 0 with dir -1 = the newest): 0 found, 1 none,
 * -1 error. */
int  cache_msg_media_step(struct cache *c, const char *phone, int64_t seq, int dir,
                          struct cache_msg *out, char **cause);
/* The rows the agent limits need for one customer, in time order: the
 * customer's inbound messages (out 0) and agent's own non-automated
 * messages to them (out 1), from since on. */
int  cache_customer_sends(struct cache *c, const char *agent, const char *customer, int64_t since,
                          void (*fn)(void *arg, int out, int64_t t), void *arg, char **cause);
/* agent's non-automated messages since `since` (index range count); -1 on error. */
long cache_agent_count(struct cache *c, const char *agent, int64_t since);
/* Time of agent's nth newest non-automated message, 0 when fewer. */
int64_t cache_agent_nth_newest(struct cache *c, const char *agent, long nth);
void cache_msg_release(struct cache_msg *m);
void cache_msgs_free(struct cache_msg *v, size_t n);

/* Canned replies and templates (small tables; listed whole). */
int  cache_canned_put(struct cache *c, const char *name, const char *body, char **cause);
int  cache_canned_rm(struct cache *c, const char *name, char **cause);
/* names and bodies: parallel xmalloc'd arrays of *n strings, sorted by name. */
int  cache_canned_list(struct cache *c, char ***names, char ***bodies, size_t *n, char **cause);
int  cache_template_put(struct cache *c, const char *id, const char *name, const char *body,
                        char **cause);
int  cache_template_clear(struct cache *c, char **cause);
int  cache_template_list(struct cache *c, char ***ids, char ***names, char ***bodies, size_t *n,
                         char **cause);
void cache_strv_free(char **v, size_t n);

/* Rank of a delivery state for forward-only moves: queued 0 .. read 4,
 * failed 9; unknown -1. */
int  cache_state_rank(const char *state);

#endif
