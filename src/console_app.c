/*
 * console_app.c — one console's link, client, session and cache wired
 * together (see console_app.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_app.h"
#include "console_media.h"
#include "util.h"

struct fetch_waiter {
	struct fetch_waiter *next;
	app_fetch_fn done;
	app_fetch_progress_fn progress;
	void *arg;
};

struct app_fetch {
	struct app_fetch *next;
	struct app *a;
	char sha[MEDIASTORE_HEX_LEN + 1];
	struct fetch_waiter *waiters;
};

static const long backoff_ms[] = { 250, 500, 1000, 2000, 4000, 8000, 15000 };

static void
s_send(void *arg, const char *frame, size_t len)
{
	struct app *a = arg;
	if (client_send(a->client, frame, len) != 0)
		log_verbose("dropped a frame: not connected");
}

static void
s_changed(void *arg, unsigned what, const char *phone)
{
	struct app *a = arg;
	if (a->hooks.changed != NULL)
		a->hooks.changed(a, what, phone);
}

static void
s_notify(void *arg, const char *phone, const char *name)
{
	struct app *a = arg;
	if (a->hooks.notify != NULL)
		a->hooks.notify(a, phone, name);
}

static void
s_reply(void *arg, const char *id, const struct proto_msg *m)
{
	struct app *a = arg;
	if (a->hooks.reply != NULL)
		a->hooks.reply(a, id, m);
}

/* Opens (or switches to) the cache of hub_id. */
static void
open_cache(struct app *a, const char *hub_id)
{
	if (a->cache != NULL && a->cache_hub != NULL && strcmp(a->cache_hub, hub_id) == 0)
		return;
	char *cause = NULL, *dir = console_data_dir(), *path = console_cache_path(hub_id);
	struct cache *c = NULL;
	if (console_mkdirs(dir, &cause) != 0 || cache_open(path, &c, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	free(dir);
	free(path);
	if (c == NULL)
		return;
	session_set_cache(&a->sess, NULL);
	cache_close(a->cache);
	a->cache = c;
	free(a->cache_hub);
	a->cache_hub = xstrdup(hub_id);
	session_set_cache(&a->sess, c);
}

static void
save_config(struct app *a, const char *hub_id)
{
	if (!a->remember)
		return;
	struct console_config cfg;
	char *cause = NULL;
	if (console_config_load(&cfg, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
		return;
	}
	free(cfg.link);
	free(cfg.name);
	cfg.link = xstrdup(a->link_str);
	cfg.name = xstrdup(a->agent);
	if (hub_id != NULL) {
		free(cfg.hub_id);
		cfg.hub_id = xstrdup(hub_id);
	}
	if (console_config_save(&cfg, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	console_config_release(&cfg);
}

static void
s_hub(void *arg, const char *hub_id)
{
	struct app *a = arg;
	int had = a->cache != NULL && a->cache_hub != NULL && strcmp(a->cache_hub, hub_id) == 0;
	/* The hello carried another database's event number: the hub would
	 * replay from the wrong place.  Reconnect with the right cache. */
	int wrong = a->cache != NULL && !had && cache_last_event(a->cache) > 0;
	open_cache(a, hub_id);
	if (wrong) {
		log_warn("the cache belonged to another hub; reconnecting to hub %s", hub_id);
		client_close(a->client);
	}
	if (!had)
		console_set_hub_hint(a->link_str, hub_id);
	a->backoff = 0;
	if (!had)
		save_config(a, hub_id);
	/* A cache opened only now missed the hello's last_event: if it
	 * already holds events, they are skipped as duplicates. */
}

static void
s_bye(void *arg, const char *code, const char *sentence)
{
	struct app *a = arg;
	(void)sentence;
	if (code != NULL && strcmp(code, "auth.expired") == 0 && a->new_token != NULL) {
		/* Our own rotation: the next connection uses the new link. */
		a->sess.state = SESS_OFFLINE;
	}
}

static void
s_resync(void *arg, const char *why)
{
	struct app *a = arg;
	(void)why;              /* logged by the session, kept in sess.why */
	client_close(a->client);
}

static void
schedule_retry(struct app *a)
{
	if (!a->reconnect || a->sess.state == SESS_EXPIRED)
		return;
	int step = a->backoff < (int)ARRAY_LEN(backoff_ms) ? a->backoff : (int)ARRAY_LEN(backoff_ms) - 1;
	long ms = backoff_ms[step];
	unsigned r = 0;
	random_bytes(&r, sizeof r);
	ms += (long)(r % (unsigned)(ms / 2 + 1));
	a->backoff++;
	a->reconnect_at = mono_ms() + ms;
	client_timer(a->client, APP_T_RECONNECT, ms);
}

static void
c_open(void *arg)
{
	struct app *a = arg;
	session_open(&a->sess);
}

static void
c_frame(void *arg, const char *data, size_t len)
{
	struct app *a = arg;
	if (a->hooks.frame != NULL)
		a->hooks.frame(a, data, len);
	session_frame(&a->sess, data, len);
}

static void
c_close(void *arg, const char *why)
{
	struct app *a = arg;
	session_closed(&a->sess, a->sess.why != NULL && a->sess.state == SESS_EXPIRED ?
	    a->sess.why : why);
	if (a->new_token != NULL) {
		app_switch_token(a, NULL);
		return;
	}
	schedule_retry(a);
	if (a->hooks.changed != NULL)
		a->hooks.changed(a, SC_STATE, NULL);
}

static void
c_fd(void *arg, int fd)
{
	struct app *a = arg;
	if (a->xfer != NULL && fd == xfer_fd(a->xfer)) {
		xfer_dispatch(a->xfer);
		return;
	}
	if (a->hooks.fd != NULL)
		a->hooks.fd(a, fd);
}

static void
c_timer(void *arg, int which)
{
	struct app *a = arg;
	if (which == APP_T_RECONNECT) {
		a->reconnect_at = 0;
		app_connect(a);
		return;
	}
	if (a->hooks.timer != NULL)
		a->hooks.timer(a, which);
}

int
app_init(struct app *a, const char *link, const char *agent, const struct app_hooks *h,
    void *ui, char **cause)
{
	memset(a, 0, sizeof *a);
	const char *why;
	if (link_parse(link, &a->link, &why) != 0) {
		*cause = xasprintf("bad link: %s", why);
		return -1;
	}
	a->hooks = *h;
	a->ui = ui;
	a->link_str = xstrdup(link);
	a->agent = xstrdup(agent != NULL && *agent ? agent : getenv("USER") != NULL ?
	    getenv("USER") : "agent");
	static const struct session_hooks sh = {
		s_send, s_changed, s_notify, s_reply, s_hub, s_bye, s_resync,
	};
	session_init(&a->sess, a->link.token, a->agent, &sh, a);
	/* Paint from the cache of the hub last seen at this address. */
	char *hub = console_hub_hint(link);
	if (hub != NULL)
		open_cache(a, hub);
	free(hub);
	return 0;
}

int
app_start(struct app *a, char **cause)
{
	static const struct client_hooks ch = { c_open, c_frame, c_close, c_fd, c_timer };
	if (a->client == NULL)
		a->client = client_new(&ch, a, cause);
	return a->client != NULL ? 0 : -1;
}

void
app_release(struct app *a)
{
	xfer_free(a->xfer);          /* no callback runs after this */
	while (a->fetches != NULL) {
		struct app_fetch *f = a->fetches;
		a->fetches = f->next;
		while (f->waiters != NULL) {
			struct fetch_waiter *w = f->waiters;
			f->waiters = w->next;
			free(w);
		}
		free(f);
	}
	mediastore_free(a->media);
	client_free(a->client);
	session_release(&a->sess);
	cache_close(a->cache);
	link_release(&a->link);
	free(a->link_str);
	free(a->agent);
	free(a->cache_hub);
	free(a->new_token);
	memset(a, 0, sizeof *a);
}

void
app_connect(struct app *a)
{
	char *cause = NULL;
	if (client_busy(a->client) || a->sess.state == SESS_EXPIRED)
		return;
	if (client_connect(a->client, a->link.tls, a->link.host, a->link.port, a->link.path,
	    PROTO_SUBPROTOCOL, &cause) != 0) {
		session_closed(&a->sess, cause);
		free(cause);
		schedule_retry(a);
	}
}

void
app_run(struct app *a)
{
	while (!a->quit)
		if (client_service(a->client) != 0)
			break;
}

void
app_switch_token(struct app *a, const char *link)
{
	if (link != NULL) {
		free(a->new_token);
		a->new_token = xstrdup(link);
		return;                  /* applied when the old session closes */
	}
	struct link l;
	const char *why;
	if (a->new_token == NULL || link_parse(a->new_token, &l, &why) != 0)
		return;
	link_release(&a->link);
	a->link = l;
	free(a->link_str);
	a->link_str = a->new_token;
	a->new_token = NULL;
	free(a->sess.token);
	a->sess.token = xstrdup(a->link.token);
	a->sess.state = SESS_OFFLINE;
	save_config(a, a->cache_hub);
	a->backoff = 0;
	app_connect(a);
}

int
app_retry_in(const struct app *a)
{
	if (a->reconnect_at == 0)
		return -1;
	int64_t d = a->reconnect_at - mono_ms();
	return d > 0 ? (int)((d + 999) / 1000) : 0;
}

/* ---- media ------------------------------------------------------------ */

int
app_media_init(struct app *a, char **cause)
{
	if (a->media != NULL && a->xfer != NULL)
		return 0;
	if (a->client == NULL) {
		*cause = xstrdup("not started");
		return -1;
	}
	if (a->media == NULL) {
		char *dir = console_cache_dir();
		if (console_mkdirs(dir, cause) == 0)
			a->media = mediastore_open(dir, cause);
		free(dir);
		if (a->media == NULL)
			return -1;
	}
	if (a->xfer == NULL) {
		struct xfer *x = xfer_new(cause);
		if (x == NULL)
			return -1;
		if (client_watch_fd(a->client, xfer_fd(x), cause) != 0) {
			xfer_free(x);
			return -1;
		}
		a->xfer = x;
	}
	return 0;
}

char *
app_media_cached(struct app *a, const char *sha)
{
	if (sha == NULL || !mediastore_valid_hash(sha))
		return NULL;
	if (a->media == NULL) {
		char *cause = NULL, *dir = console_cache_dir();
		a->media = mediastore_open(dir, &cause);   /* NULL until the directory exists */
		free(dir);
		free(cause);
		if (a->media == NULL)
			return NULL;
	}
	if (mediastore_lookup(a->media, sha, NULL) != 0)
		return NULL;
	return mediastore_path(a->media, sha);
}

static void
fetch_progress(void *arg, int64_t done, int64_t total)
{
	struct app_fetch *f = arg;
	for (struct fetch_waiter *w = f->waiters; w != NULL; w = w->next)
		if (w->progress != NULL)
			w->progress(f->a, w->arg, done, total);
}

static void
fetch_done(void *arg, const struct xfer_result *r)
{
	struct app_fetch *f = arg;
	struct app *a = f->a;
	for (struct app_fetch **p = &a->fetches; *p != NULL; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	char *path = NULL, *error = NULL;
	if (r->ok)
		path = mediastore_path(a->media, f->sha);
	else if (r->over_cap)
		error = xasprintf("the file is larger than its type allows (%s)", r->error);
	else
		error = xasprintf("cannot fetch it from the hub: %s", r->error);
	if (!r->ok)
		log_warn("media %.12s: %s", f->sha, error);
	while (f->waiters != NULL) {
		struct fetch_waiter *w = f->waiters;
		f->waiters = w->next;
		w->done(a, w->arg, f->sha, path, error);
		free(w);
	}
	free(path);
	free(error);
	free(f);
}

int
app_media_fetch(struct app *a, const char *sha, int64_t cap, app_fetch_fn done,
    app_fetch_progress_fn progress, void *arg, char **cause)
{
	if (!mediastore_valid_hash(sha)) {
		*cause = xstrdup("the hub has not stored this file yet");
		return -1;
	}
	if (app_media_init(a, cause) != 0)
		return -1;
	struct fetch_waiter *w = xcalloc(1, sizeof *w);
	w->done = done;
	w->progress = progress;
	w->arg = arg;
	for (struct app_fetch *f = a->fetches; f != NULL; f = f->next)
		if (strcmp(f->sha, sha) == 0) {
			w->next = f->waiters;
			f->waiters = w;
			return 0;
		}
	struct app_fetch *f = xcalloc(1, sizeof *f);
	f->a = a;
	snprintf(f->sha, sizeof f->sha, "%s", sha);
	f->waiters = w;
	char *base = cmedia_base_url(&a->link);
	char *url = xasprintf("%s/v1/media/%s", base, sha);
	free(base);
	int r = xfer_fetch(a->xfer, url, a->link.token, a->media, sha, cap, fetch_progress, fetch_done,
	    f, cause);
	free(url);
	if (r != 0) {
		free(w);
		free(f);
		return -1;
	}
	f->next = a->fetches;
	a->fetches = f;
	return 0;
}

int
app_media_upload(struct app *a, const char *path, const char *mime, const char *filename,
    xfer_progress_fn progress, xfer_done_fn done, void *arg, char **cause)
{
	if (app_media_init(a, cause) != 0)
		return -1;
	char *base = cmedia_base_url(&a->link);
	char *url = xasprintf("%s/v1/media", base);
	free(base);
	int r = xfer_upload(a->xfer, url, a->link.token, path, mime, filename, progress, done, arg,
	    cause);
	free(url);
	return r;
}
