/*
 * console_app.h — the pieces of one running console wired together: the
 * link, the websocket client (net/client), the protocol session, the
 * cache, and reconnection.  The TUI and the subcommands both run an app;
 * they differ only in the hooks they give it and in how they use its loop.
 *
 * Reconnection: after a lost connection the app waits a step of a backoff
 * table (0.25 s doubling to 15 s) plus up to 50 % random jitter, so a hub
 * restart does not see every console at the same instant; a welcome resets
 * the table.  An expired link is never retried.
 */
#ifndef WADESK_CONSOLE_APP_H
#define WADESK_CONSOLE_APP_H

#include "console_config.h"
#include "console_session.h"
#include "mediastore.h"
#include "net/client.h"
#include "net/xfer.h"

/* Timers of the app's client (net/client timer slots). */
enum { APP_T_RECONNECT, APP_T_TICK, APP_T_DEADLINE, APP_T_UI };

struct app;

/* A media fetch finished: path is the cached file (NULL on failure, with
 * error the sentence). */
typedef void (*app_fetch_fn)(struct app *a, void *arg, const char *sha, const char *path,
                             const char *error);
/* A media fetch moved on: bytes so far and expected (0 unknown). */
typedef void (*app_fetch_progress_fn)(struct app *a, void *arg, int64_t done, int64_t total);
struct app_fetch;

struct app_hooks {
	void (*changed)(struct app *a, unsigned what, const char *phone);
	void (*notify)(struct app *a, const char *phone, const char *name);
	void (*reply)(struct app *a, const char *id, const struct proto_msg *m);
	void (*fd)(struct app *a, int fd);           /* a watched descriptor */
	void (*timer)(struct app *a, int which);     /* APP_T_TICK, APP_T_DEADLINE, APP_T_UI */
	void (*frame)(struct app *a, const char *data, size_t len);  /* raw, before the session */
};

struct app {
	struct app_hooks hooks;
	void   *ui;                 /* the owner's state */
	char   *link_str;
	struct link link;
	char   *agent;
	struct client *client;
	struct session sess;
	struct cache *cache;
	char   *cache_hub;          /* hub id the open cache belongs to */
	int     reconnect;          /* reconnect after a loss (TUI yes, CLI no) */
	int     backoff;            /* step in the backoff table */
	int64_t reconnect_at;       /* mono ms of the next attempt, 0 none */
	int     quit;
	char   *new_token;          /* after our own rotate: reconnect with it */
	int     remember;           /* save link/name/hub id in the config */
	struct xfer *xfer;          /* media transfers (worker thread), on first use */
	struct mediastore *media;   /* $XDG_CACHE_HOME/wadesk: fetched media */
	struct app_fetch *fetches;  /* fetches in flight, one per digest */
};

/* Sets up a from a link (not connected yet) and opens the cache of the
 * hub last seen on that link if any.  0, or -1 with *cause (bad link). */
int  app_init(struct app *a, const char *link, const char *agent, const struct app_hooks *h,
              void *ui, char **cause);
/* Creates the network side (the lws context: TLS set-up and all), kept
 * apart so the console can paint from the cache first.  0 / -1. */
int  app_start(struct app *a, char **cause);
void app_release(struct app *a);
/* Starts a connection attempt now (errors become a scheduled retry or,
 * without reconnect, a closed session). */
void app_connect(struct app *a);
/* Runs the loop until a->quit. */
void app_run(struct app *a);
/* Replaces the link's token (after access.rotate) and reconnects with it. */
void app_switch_token(struct app *a, const char *link);
/* Opens the media cache and starts the transfer thread (once).  0 / -1
 * with *cause. */
int  app_media_init(struct app *a, char **cause);
/* The cached file of digest sha (xmalloc'd path), or NULL when it is not
 * in the local cache yet (or sha is not a digest). */
char *app_media_cached(struct app *a, const char *sha);
/*
 * Fetches sha from the hub into the local cache (GET /v1/media/SHA256,
 * the link's token in the Authorization header), at most cap bytes; a
 * second request for a digest in flight only adds its callbacks.  done
 * and progress (may be NULL) run in the loop.  0, or -1 with *cause (then
 * done is not called).
 */
int  app_media_fetch(struct app *a, const char *sha, int64_t cap, app_fetch_fn done,
                     app_fetch_progress_fn progress, void *arg, char **cause);
/* Uploads a file (POST /v1/media) as xfer_upload(). 0 / -1 with *cause. */
int  app_media_upload(struct app *a, const char *path, const char *mime, const char *filename,
                      xfer_progress_fn progress, xfer_done_fn done, void *arg, char **cause);

/* Seconds until the next reconnection attempt, -1 when none is planned. */
int  app_retry_in(const struct app *a);

#endif
