/*
 * xfer.c — the console's media transfers on libcurl (see xfer.h).
 *
 * Design: one worker thread owns a curl multi handle and sleeps in
 * lc.multi_poll().  The loop thread hands it requests through a locked
 * queue and wakes it with lc.multi_wakeup(); the worker hands back
 * finished transfers (and progress, at most every 100 ms per transfer)
 * through another locked list, writing one byte to a pipe so that the
 * loop's poll(2) wakes and calls xfer_dispatch().  Everything the worker
 * touches per transfer (the easy handle, the writer, the upload's FILE,
 * the answer buffer) belongs to that transfer alone; the mutex guards only
 * the two lists and the progress figures.
 *
 * A fetch writes straight into a mediastore writer (no user-space copy of
 * the file) and commits it in the worker, so the fsyncs of the commit do
 * not stall the screen either.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dlfcn.h>

#include <curl/curl.h>

#include "net/xfer.h"
#include "util.h"

/*
 * libcurl is loaded when the first transfer starts, not when the console
 * starts: it pulls in ~26 more shared libraries (a TLS library, Kerberos,
 * LDAP, SSH...).  Linked normally, the console's start-up took 15-19 ms
 * more CPU (medians of 40 runs of `wadesk --version`, twice: 51 vs 32 ms,
 * 39 vs 24 ms, on the shared 2-core machine) and its RSS after the first
 * paint grew from 10.1 to 13.8 MB, for a feature used now and then.  The functions used are one
 * table, filled by dlsym().
 *
 * The soname is not written here: the Makefile reads it (XFER_CURL_SONAME)
 * from the libcurl that pkg-config names, the one whose <curl/curl.h> this
 * file is compiled against, so the prototypes below match the library
 * loaded.  When it cannot be loaded, the transfer fails with a sentence
 * naming the soname and the loader's reason; the rest of the console works.
 */
#ifndef XFER_CURL_SONAME
#error "XFER_CURL_SONAME (libcurl's soname) must be defined: the Makefile reads it"
#endif

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
	CURLMcode (*multi_wakeup)(CURLM *);
	CURLMcode (*multi_cleanup)(CURLM *);
	const char *(*multi_strerror)(CURLMcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} lc;

#define LC(f) { "curl_" #f, (void **)&lc.f }
static const struct { const char *name; void **slot; } lc_syms[] = {
	LC(global_init), LC(easy_init), LC(easy_cleanup), LC(easy_setopt), LC(easy_getinfo),
	LC(easy_strerror), LC(multi_init), LC(multi_add_handle), LC(multi_remove_handle),
	LC(multi_perform), LC(multi_info_read), LC(multi_poll), LC(multi_wakeup),
	LC(multi_cleanup), LC(multi_strerror), LC(slist_append), LC(slist_free_all),
};

/* Loads libcurl and initialises it (once).  0 / -1 with *cause. */
static int
lc_load(char **cause)
{
	static int loaded;
	if (loaded)
		return 0;
	static const char soname[] = XFER_CURL_SONAME;
	if (soname[0] == '\0') {
		*cause = xstrdup("cannot load libcurl: this build does not know its soname "
		    "(the Makefile could not read it from libcurl.so)");
		return -1;
	}
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		*cause = xasprintf("cannot load libcurl (%s), needed for media transfers: %s",
		    soname, dlerror());
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(lc_syms); i++) {
		*lc_syms[i].slot = dlsym(h, lc_syms[i].name);
		if (*lc_syms[i].slot == NULL) {
			*cause = xasprintf("cannot load libcurl (%s): it has no %s", soname,
			    lc_syms[i].name);
			dlclose(h);
			return -1;
		}
	}
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*cause = xstrdup("cannot initialise libcurl");
		return -1;
	}
	loaded = 1;     /* kept loaded: curl_global_cleanup is never safe to race */
	return 0;
}

#define XFER_BODY_MAX (64 * 1024)
#define XFER_PROGRESS_MS 100

enum req_kind { REQ_FETCH, REQ_UPLOAD };

/* Progress callbacks need the requests still running: the loop keeps its
 * own list of every request it queued (the worker never sees it). */
struct tracked {
	struct tracked *next;
	struct req *r;
};

struct req {
	struct req *next;
	enum req_kind kind;
	struct xfer *x;
	CURL   *easy;
	struct curl_slist *headers;
	char   *url;
	char    err[CURL_ERROR_SIZE];
	/* fetch */
	struct mediastore *ms;
	struct media_writer *w;
	char   *expect;
	int64_t cap;
	char   *werr;           /* the writer's last error */
	int     over_cap;
	/* upload */
	FILE   *f;
	int64_t fsize;
	struct buf body;
	/* progress (guarded by x->mu) */
	int64_t done_b, total_b;
	int     moved;          /* progress changed since the last dispatch */
	int64_t notified_ms;
	/* result (set by the worker when finished) */
	struct xfer_result res;
	xfer_progress_fn progress;
	xfer_done_fn done;
	void   *arg;
};

struct xfer {
	pthread_t th;
	int       started;
	pthread_mutex_t mu;
	CURLM    *multi;
	int       pipe[2];
	int       quit;
	struct req *incoming;   /* queued by the loop, not yet in the multi */
	struct req *running;    /* in the multi (worker's own list) */
	struct req *finished;   /* for the loop to dispatch */
	int       active;       /* requests not yet dispatched as finished */
	struct tracked *tracked;/* loop side only: every request not dispatched yet */
};

static void
poke(struct xfer *x)
{
	char b = 1;
	/* Non-blocking: a full pipe already means "look". */
	if (write(x->pipe[1], &b, 1) < 0 && errno != EAGAIN)
		log_warn("xfer: cannot wake the loop: %s", strerror(errno));
}

static void
req_free(struct req *r)
{
	if (r == NULL)
		return;
	if (r->easy != NULL)
		lc.easy_cleanup(r->easy);
	lc.slist_free_all(r->headers);
	media_writer_abort(r->w);
	if (r->f != NULL)
		fclose(r->f);
	buf_free(&r->body);
	free(r->url);
	free(r->expect);
	free(r->werr);
	free(r->res.error);
	free(r->res.body);
	free(r);
}

/* ---- callbacks run by the worker ------------------------------------ */

static size_t
on_fetch_data(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	char *cause = NULL;
	long status = 0;
	lc.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status / 100 != 2) {
		/* An error page: keep a little of it for the message. */
		if (r->body.len < 512)
			buf_append(&r->body, p, size * n < 512 ? size * n : 512);
		return size * n;
	}
	if (r->w == NULL) {
		r->w = mediastore_begin(r->ms, r->cap, &cause);
		if (r->w == NULL) {
			free(r->werr);
			r->werr = cause;
			return 0;
		}
	}
	if (media_writer_write(r->w, p, size * n, &cause) != 0) {
		r->over_cap = media_writer_over_cap(r->w);
		free(r->werr);
		r->werr = cause;
		return 0;       /* aborts the transfer */
	}
	return size * n;
}

static size_t
on_upload_answer(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t k = size * n;
	if (r->body.len + k > XFER_BODY_MAX)
		k = XFER_BODY_MAX - r->body.len;
	buf_append(&r->body, p, k);
	return size * n;
}

static size_t
on_upload_read(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t k = fread(p, 1, size * n, r->f);
	if (k == 0 && ferror(r->f))
		return CURL_READFUNC_ABORT;
	return k;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct req *r = arg;
	int64_t done = r->kind == REQ_FETCH ? (int64_t)dlnow : (int64_t)ulnow;
	int64_t total = r->kind == REQ_FETCH ? (int64_t)dltotal : (int64_t)ultotal;
	if (r->kind == REQ_UPLOAD && total == 0)
		total = r->fsize;
	int wake = 0;
	pthread_mutex_lock(&r->x->mu);
	if (done != r->done_b || total != r->total_b) {
		r->done_b = done;
		r->total_b = total;
		r->moved = 1;
		int64_t now = mono_ms();
		if (now - r->notified_ms >= XFER_PROGRESS_MS) {
			r->notified_ms = now;
			wake = 1;
		}
	}
	int quit = r->x->quit;
	pthread_mutex_unlock(&r->x->mu);
	if (wake)
		poke(r->x);
	return quit;     /* non-zero aborts */
}

/* ---- the worker ---------------------------------------------------- */

/* Fills r->res once curl is done with r's easy handle. */
static void
finish(struct req *r, CURLcode cc)
{
	struct xfer_result *res = &r->res;
	lc.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res->status);
	char *cause = NULL;
	if (cc != CURLE_OK) {
		if (r->werr != NULL)
			res->error = xstrdup(r->werr);
		else
			res->error = xasprintf("%s", r->err[0] != '\0' ? r->err : lc.easy_strerror(cc));
		res->over_cap = r->over_cap;
	} else if (res->status / 100 != 2) {
		res->error = xasprintf("HTTP %ld from the hub", res->status);
	} else if (r->kind == REQ_FETCH) {
		if (r->w == NULL)           /* an empty body: still a file */
			r->w = mediastore_begin(r->ms, r->cap, &cause);
		if (r->w == NULL)
			res->error = cause;
		else {
			struct media_writer *w = r->w;
			r->w = NULL;
			if (media_writer_commit(w, r->expect, res->sha256, &cause) != 0)
				res->error = cause;
			else
				res->ok = 1;
		}
	} else
		res->ok = 1;
	if (r->kind == REQ_UPLOAD || res->status / 100 != 2) {
		buf_putc(&r->body, '\0');
		res->body_len = r->body.len > 0 ? r->body.len - 1 : 0;
		res->body = r->body.data != NULL ? buf_steal(&r->body) : xstrdup("");
	}
	media_writer_abort(r->w);
	r->w = NULL;
}

static void *
worker(void *arg)
{
	struct xfer *x = arg;
	for (;;) {
		pthread_mutex_lock(&x->mu);
		int quit = x->quit;
		struct req *in = x->incoming;
		x->incoming = NULL;
		pthread_mutex_unlock(&x->mu);
		if (quit)
			break;
		while (in != NULL) {
			struct req *r = in;
			in = r->next;
			r->next = x->running;
			x->running = r;
			CURLMcode mc = lc.multi_add_handle(x->multi, r->easy);
			if (mc != CURLM_OK) {
				snprintf(r->err, sizeof r->err, "%s", lc.multi_strerror(mc));
				r->res.error = xasprintf("cannot start the transfer: %s", r->err);
			}
		}
		int still = 0;
		lc.multi_perform(x->multi, &still);
		CURLMsg *msg;
		int left;
		while ((msg = lc.multi_info_read(x->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct req **p = &x->running;
			while (*p != NULL && (*p)->easy != msg->easy_handle)
				p = &(*p)->next;
			if (*p == NULL)
				continue;
			struct req *r = *p;
			*p = r->next;
			CURLcode cc = msg->data.result;
			lc.multi_remove_handle(x->multi, r->easy);
			finish(r, cc);
			pthread_mutex_lock(&x->mu);
			r->next = x->finished;
			x->finished = r;
			pthread_mutex_unlock(&x->mu);
			poke(x);
		}
		/* Requests that never got into the multi finish at once. */
		for (struct req **p = &x->running; *p != NULL;) {
			struct req *r = *p;
			if (r->res.error == NULL) {
				p = &r->next;
				continue;
			}
			*p = r->next;
			pthread_mutex_lock(&x->mu);
			r->next = x->finished;
			x->finished = r;
			pthread_mutex_unlock(&x->mu);
			poke(x);
		}
		lc.multi_poll(x->multi, NULL, 0, 1000, NULL);
	}
	while (x->running != NULL) {
		struct req *r = x->running;
		x->running = r->next;
		lc.multi_remove_handle(x->multi, r->easy);
		req_free(r);
	}
	return NULL;
}

/* ---- the loop side -------------------------------------------------- */

struct xfer *
xfer_new(char **cause)
{
	if (lc_load(cause) != 0)
		return NULL;
	struct xfer *x = xcalloc(1, sizeof *x);
	x->pipe[0] = x->pipe[1] = -1;
	if (pipe2(x->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		*cause = xasprintf("cannot create a pipe: %s", strerror(errno));
		free(x);
		return NULL;
	}
	x->multi = lc.multi_init();
	if (x->multi == NULL) {
		*cause = xstrdup("cannot create a libcurl multi handle");
		goto fail;
	}
	pthread_mutex_init(&x->mu, NULL);
	if (pthread_create(&x->th, NULL, worker, x) != 0) {
		*cause = xstrdup("cannot start the transfer thread");
		pthread_mutex_destroy(&x->mu);
		lc.multi_cleanup(x->multi);
		goto fail;
	}
	x->started = 1;
	return x;
fail:
	close(x->pipe[0]);
	close(x->pipe[1]);
	free(x);
	return NULL;
}

void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	pthread_mutex_lock(&x->mu);
	x->quit = 1;
	pthread_mutex_unlock(&x->mu);
	lc.multi_wakeup(x->multi);
	pthread_join(x->th, NULL);
	struct req *lists[] = { x->incoming, x->finished };
	for (size_t i = 0; i < ARRAY_LEN(lists); i++)
		while (lists[i] != NULL) {
			struct req *r = lists[i];
			lists[i] = r->next;
			req_free(r);
		}
	while (x->tracked != NULL) {
		struct tracked *t = x->tracked;
		x->tracked = t->next;
		free(t);
	}
	lc.multi_cleanup(x->multi);
	pthread_mutex_destroy(&x->mu);
	close(x->pipe[0]);
	close(x->pipe[1]);
	free(x);
}

int
xfer_fd(const struct xfer *x)
{
	return x->pipe[0];
}

int
xfer_active(const struct xfer *x)
{
	return x->active;
}


void
xfer_dispatch(struct xfer *x)
{
	char drain[256];
	while (read(x->pipe[0], drain, sizeof drain) > 0)
		;
	/* Progress first, for everything still tracked. */
	struct { struct req *r; int64_t d, t; } moved[64];
	size_t nm = 0;
	pthread_mutex_lock(&x->mu);
	struct req *fin = x->finished;
	x->finished = NULL;
	for (struct tracked *t = x->tracked; t != NULL && nm < ARRAY_LEN(moved); t = t->next)
		if (t->r->moved) {
			t->r->moved = 0;
			moved[nm].r = t->r;
			moved[nm].d = t->r->done_b;
			moved[nm].t = t->r->total_b;
			nm++;
		}
	pthread_mutex_unlock(&x->mu);
	/* Finished ones leave the tracked list before any callback runs, so
	 * a callback that queues a new transfer sees a consistent list. */
	for (struct req *r = fin; r != NULL; r = r->next)
		for (struct tracked **p = &x->tracked; *p != NULL; p = &(*p)->next)
			if ((*p)->r == r) {
				struct tracked *t = *p;
				*p = t->next;
				free(t);
				break;
			}
	for (size_t i = 0; i < nm; i++) {
		int gone = 0;
		for (struct req *r = fin; r != NULL; r = r->next)
			gone |= r == moved[i].r;
		if (!gone && moved[i].r->progress != NULL)
			moved[i].r->progress(moved[i].r->arg, moved[i].d, moved[i].t);
	}
	/* Oldest first: the worker pushed them on the front. */
	struct req *rev = NULL;
	while (fin != NULL) {
		struct req *r = fin;
		fin = r->next;
		r->next = rev;
		rev = r;
	}
	while (rev != NULL) {
		struct req *r = rev;
		rev = r->next;
		x->active--;
		if (r->progress != NULL && r->res.ok)
			r->progress(r->arg, r->done_b > 0 ? r->done_b : r->total_b, r->total_b);
		if (r->done != NULL)
			r->done(r->arg, &r->res);
		req_free(r);
	}
}

/* An easy handle with what both kinds share. */
static struct req *
req_new(struct xfer *x, enum req_kind kind, const char *url, const char *token,
    xfer_progress_fn progress, xfer_done_fn done, void *arg, char **cause)
{
	struct req *r = xcalloc(1, sizeof *r);
	r->x = x;
	r->kind = kind;
	r->url = xstrdup(url);
	r->progress = progress;
	r->done = done;
	r->arg = arg;
	r->easy = lc.easy_init();
	if (r->easy == NULL) {
		*cause = xstrdup("cannot create a libcurl handle");
		free(r->url);
		free(r);
		return NULL;
	}
	char *auth = xasprintf("Authorization: Bearer %s", token);
	r->headers = lc.slist_append(r->headers, auth);
	free(auth);
	/* The hub answers at once; no 100-continue round trip. */
	r->headers = lc.slist_append(r->headers, "Expect:");
	CURL *e = r->easy;
	int bad = 0;
	bad |= lc.easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_ERRORBUFFER, r->err) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_XFERINFODATA, r) != CURLE_OK;
	bad |= lc.easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK;
	if (bad) {
		*cause = xstrdup("cannot set up a libcurl handle");
		req_free(r);
		return NULL;
	}
	return r;
}

static void
req_queue(struct xfer *x, struct req *r)
{
	struct tracked *t = xcalloc(1, sizeof *t);
	t->r = r;
	t->next = x->tracked;
	x->tracked = t;
	x->active++;
	pthread_mutex_lock(&x->mu);
	r->next = x->incoming;
	x->incoming = r;
	pthread_mutex_unlock(&x->mu);
	lc.multi_wakeup(x->multi);
}

int
xfer_fetch(struct xfer *x, const char *url, const char *token, struct mediastore *ms,
    const char *expect, int64_t cap, xfer_progress_fn progress, xfer_done_fn done, void *arg,
    char **cause)
{
	if (!mediastore_valid_hash(expect)) {
		*cause = xstrdup("not a SHA-256 digest");
		return -1;
	}
	struct req *r = req_new(x, REQ_FETCH, url, token, progress, done, arg, cause);
	if (r == NULL)
		return -1;
	r->ms = ms;
	r->expect = xstrdup(expect);
	r->cap = cap;
	int bad = 0;
	bad |= lc.easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_fetch_data) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_WRITEDATA, r) != CURLE_OK;
	if (cap > 0)
		bad |= lc.easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap) != CURLE_OK;
	if (bad) {
		*cause = xstrdup("cannot set up a libcurl handle");
		req_free(r);
		return -1;
	}
	req_queue(x, r);
	return 0;
}

char *
xfer_pct_encode(const char *name)
{
	struct buf b = {0};
	buf_put_pct(&b, name);
	return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

int
xfer_upload(struct xfer *x, const char *url, const char *token, const char *path,
    const char *mime, const char *filename, xfer_progress_fn progress, xfer_done_fn done,
    void *arg, char **cause)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	if (f == NULL || fstat(fileno(f), &sb) != 0) {
		*cause = xasprintf("cannot open '%s': %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	struct req *r = req_new(x, REQ_UPLOAD, url, token, progress, done, arg, cause);
	if (r == NULL) {
		fclose(f);
		return -1;
	}
	r->f = f;
	r->fsize = (int64_t)sb.st_size;
	char *ct = xasprintf("Content-Type: %s", mime);
	char *pct = xfer_pct_encode(filename);
	char *cd = xasprintf("Content-Disposition: attachment; filename*=UTF-8''%s", pct);
	r->headers = lc.slist_append(r->headers, ct);
	r->headers = lc.slist_append(r->headers, cd);
	free(ct);
	free(pct);
	free(cd);
	int bad = 0;
	bad |= lc.easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_POST, 1L) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->fsize) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_READFUNCTION, on_upload_read) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_READDATA, r) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_upload_answer) != CURLE_OK;
	bad |= lc.easy_setopt(r->easy, CURLOPT_WRITEDATA, r) != CURLE_OK;
	if (bad) {
		*cause = xstrdup("cannot set up a libcurl handle");
		req_free(r);
		return -1;
	}
	req_queue(x, r);
	return 0;
}
