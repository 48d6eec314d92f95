/*
 * console_session.h — one console session with the hub, apart from the
 * network and the screen: it says hello, applies the hub's events to the
 * cache (one transaction per frame, skipping any event it already has),
 * numbers commands and routes their answers, and answers the questions the
 * composer asks before a send (what will this become? does it break an
 * agent limit?).  The TUI and the subcommands share it; the unit tests feed
 * it frames by hand.
 *
 * Frames leave through hooks->send; the owner wires that to net/client.
 */
#ifndef WADESK_CONSOLE_SESSION_H
#define WADESK_CONSOLE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "decide.h"
#include "limits.h"
#include "proto.h"
#include "store_cache.h"
#include "template.h"

enum sess_state {
	SESS_OFFLINE,     /* no connection (read-only) */
	SESS_HELLO,       /* hello sent, waiting for welcome */
	SESS_READY,       /* welcomed: commands may be sent */
	SESS_EXPIRED,     /* the link was refused or rotated away */
};

/* What changed, for hooks->changed. */
enum {
	SC_LIST = 1,      /* chat list order / rows */
	SC_CHAT = 2,      /* one chat's messages or details (phone given) */
	SC_STATE = 4,     /* connection state, role, brb, settings */
	SC_CANNED = 8,
};

struct session;

struct session_hooks {
	/* Writes one frame to the hub (may drop it when offline). */
	void (*send)(void *arg, const char *frame, size_t len);
	/* Something on screen may be stale. phone may be NULL. */
	void (*changed)(void *arg, unsigned what, const char *phone);
	/* A chat entered Notifying agent (bell / OSC 9). */
	void (*notify)(void *arg, const char *phone, const char *name);
	/* The answer (ack or error frame) to command id. */
	void (*reply)(void *arg, const char *id, const struct proto_msg *m);
	/* The hub's id is known: the owner opens the cache for it (session_set_cache)
	 * if it has not already. */
	void (*hub)(void *arg, const char *hub_id);
	/* The hub ended the session (bye) or refused the hello. */
	void (*bye)(void *arg, const char *code, const char *sentence);
	/* The cache could not take an event (why): close the connection, so
	 * that the next one replays from the cache's last event.  May be NULL. */
	void (*resync)(void *arg, const char *why);
};

/* A send the hub has not answered yet: sent again, with the same id, after
 * a reconnection (the hub sends a repeated id only once). */
struct session_unacked {
	struct session_unacked *next;
	char   id[24];
	char  *frame;
	size_t len;
};

struct session {
	struct session_hooks hooks;
	void   *arg;
	struct cache *cache;          /* not owned; may be NULL until hub() */
	char   *agent;
	char   *token;
	enum sess_state state;
	char   *hub_id;
	enum proto_role role;
	int     brb;
	struct proto_limits limits;
	int     template_messaging;
	int     sandbox;              /* the hub's "sandbox" setting, when it sends one */
	int64_t head;                 /* welcome.last_event */
	int64_t skew;                 /* hub clock - our clock, seconds */
	int64_t agent_month;          /* our messages in 30 days, -1 unknown */
	unsigned next_id;
	char   *why;                  /* last bye/close sentence, or NULL */
	struct template_def *templates;
	size_t ntemplates;
	struct session_unacked *unacked;
	int64_t gap;                  /* first event the cache missed; 0 none */
	int     said_bye;             /* the hub's bye came: the rest is not read */
	int64_t resume_max;           /* >= 0: hello resumes no later than this event
	                                 (tail: what it printed, however far another
	                                 process sharing the cache got); -1 none */
};

/* Sets up s (token and agent copied). */
void session_init(struct session *s, const char *token, const char *agent,
                  const struct session_hooks *hooks, void *arg);
void session_release(struct session *s);
/* Uses cache for events from now on (not owned; NULL detaches). */
void session_set_cache(struct session *s, struct cache *c);

/* The connection opened: sends hello with the cache's last event (at most
 * resume_max when that is set). */
void session_open(struct session *s);
/* The connection closed; why is kept for the banner. */
void session_closed(struct session *s, const char *why);
/* Handles one frame from the hub. */
void session_frame(struct session *s, const char *data, size_t len);
/* 1 when welcomed and every event up to welcome's head is applied. */
int  session_caught_up(const struct session *s);

/* Sends command m (its id is set here).  Returns the id (owned by the
 * session until the next command; copy it) or NULL when offline. */
const char *session_command(struct session *s, struct proto_msg *m);
/* Convenience commands; each returns the id or NULL. */
const char *session_send_text(struct session *s, const char *phone, const char *text);
const char *session_simple(struct session *s, enum proto_type t, const char *phone,
                           const char *arg);

/* Marks a chat read locally (unread = 0) and tells the hub (read). */
void session_mark_read(struct session *s, const char *phone);

/* The agent limits for a send to phone at now, from the cache (limits.h
 * fed with that customer's last 24 h).  The 30-day count is the hub's
 * (welcome) plus our messages since; when it is not known (offline from
 * the start) it is counted from the cache only when full is set (before
 * a send; not for every paint).  0 allowed; -1 with *v filled (code
 * "limit.customer" / "limit.agent"). */
int  session_check_limits(struct session *s, const char *phone, int64_t now, int full,
                          struct limit_verdict *v);
/* Counts for the composer's "N of 10 left" line. */
/* *agent is the 30-day count, -1 when not known yet (offline, before the
 * first check). */
void session_limit_counts(struct session *s, const char *phone, int64_t now,
                          unsigned *customer, long *agent);
/* What a text send to phone becomes (decide.h); release with
 * decision_release().  Templates are the session's. */
void session_decide(struct session *s, const char *phone, const char *text, int64_t now,
                    struct send_decision *d);

/* As session_decide() for any kind: a media send gives kind SEND_MEDIA,
 * its caption as text (may be NULL) and its MIME type. */
void session_decide_kind(struct session *s, const char *phone, enum send_kind kind,
                         const char *text, const char *mime, int64_t now,
                         struct send_decision *d);
/* Sends a media message: the `send` command with media (mime, url,
 * sha256, filename, caption, size); no text.  The id,
 * or NULL when offline. */
const char *session_send_media(struct session *s, const char *phone,
                               const struct proto_media *media);

/* Applies one decoded event to the cache (exported for tests and for
 * history pages: messages). 0 / -1 with *cause. */
int  session_apply(struct session *s, const struct proto_msg *m, char **cause);
/* Stores one message (from an event or a history page) and updates its
 * chat row; *is_new set when the id was not cached. */
int  session_store_message(struct session *s, const struct proto_message *pm, int *is_new,
                           char **cause);

/* Joins tags into ",a,b," (xmalloc'd). */
char *session_join_tags(char *const *tags, size_t n);

#endif
