/*
 * tui_media.c — media in the curses console (see tui_int.h): image
 * previews, the selected media message, `s` save, `o` open and
 * `:attach`.
 *
 * Nothing here waits: a file not in the local cache is fetched through
 * the app (a libcurl transfer in the worker thread of net/xfer), and the
 * action that needed it (a preview, a save) completes in the loop when
 * the fetch callback arrives.  A preview is rendered once per (digest,
 * box) and kept in a small table, so scrolling and repaints cost nothing;
 * a slot used by the paint in progress is never evicted, since the lines
 * being drawn point into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curses.h>

#include "console_json.h"
#include "console_media.h"
#include "media.h"
#include "sniff.h"
#include "ui/preview.h"
#include "ui/tui_int.h"
#include "util.h"

/* ---- previews ------------------------------------------------------- */

static struct tui_preview *
pv_find(struct tui *t, const char *sha, int cols, int rows)
{
	for (int i = 0; i < NPREVIEW; i++)
		if (t->pv[i].sha[0] != '\0' && strcmp(t->pv[i].sha, sha) == 0 &&
		    t->pv[i].cols == cols && t->pv[i].rows == rows)
			return &t->pv[i];
	return NULL;
}

static void
pv_clear(struct tui_preview *s)
{
	preview_free(s->p);
	free(s->seq);
	free(s->err);
	memset(s, 0, sizeof *s);
}

/* A free slot, else the least recently used one not used by this paint. */
static struct tui_preview *
pv_slot(struct tui *t)
{
	struct tui_preview *best = NULL;
	for (int i = 0; i < NPREVIEW; i++) {
		struct tui_preview *s = &t->pv[i];
		if (s->sha[0] == '\0')
			return s;
		if (s->stamp == t->pv_tick)
			continue;
		if (best == NULL || s->stamp < best->stamp)
			best = s;
	}
	if (best != NULL)
		pv_clear(best);
	return best;
}

/* The fetch for a preview ended: forget the "fetching" slots of sha so
 * the next paint renders the file, or keep the error to show. */
static void
pv_fetched(struct app *a, void *arg, const char *sha, const char *path, const char *error)
{
	struct tui *t = a->ui;
	(void)arg;
	(void)path;
	for (int i = 0; i < NPREVIEW; i++) {
		struct tui_preview *s = &t->pv[i];
		if (s->sha[0] == '\0' || strcmp(s->sha, sha) != 0 || s->p != NULL || s->seq != NULL)
			continue;
		if (error != NULL) {
			free(s->err);
			s->err = xstrdup(error);
		} else
			pv_clear(s);
	}
	t->dirty = 1;
}

/*
 * The slot of image message m for a box, rendered with render() once the
 * file is in the local cache (fetching it first).  NULL when there is no
 * room for it; *note says why there is no picture yet.
 */
static struct tui_preview *
pv_lookup(struct tui *t, const struct cache_msg *m, int cols, int rows, const char **note,
    int (*render)(struct tui *, struct tui_preview *, const char *, char **))
{
	*note = NULL;
	const struct media_type *mt = media_lookup(m->media_mime);
	if (t->pv_mode == PREVIEW_OFF || mt == NULL || mt->category != MEDIA_IMAGE ||
	    !mediastore_valid_hash(m->media_sha256) || cols < 4 || rows < 2)
		return NULL;
	struct tui_preview *s = pv_find(t, m->media_sha256, cols, rows);
	if (s != NULL) {
		s->stamp = t->pv_tick;
		if (s->p == NULL && s->seq == NULL)
			*note = s->err != NULL ? s->err : "fetching the image\u2026";
		return s;
	}
	s = pv_slot(t);
	if (s == NULL)
		return NULL;
	snprintf(s->sha, sizeof s->sha, "%s", m->media_sha256);
	s->cols = cols;
	s->rows = rows;
	s->stamp = t->pv_tick;
	char *path = app_media_cached(&t->app, m->media_sha256), *cause = NULL;
	if (path == NULL) {
		/* A fetch already running for this digest (another box) is shared. */
		if (app_media_fetch(&t->app, m->media_sha256, media_cap(MEDIA_IMAGE), pv_fetched, NULL,
		    NULL, &cause) != 0)
			s->err = xasprintf("no preview: %s", cause);
		free(cause);
		*note = s->err != NULL ? s->err : "fetching the image\u2026";
		return s;
	}
	int mode = t->pv_mode;
	if (render(t, s, path, &cause) != 0 && t->pv_mode != mode) {
		/* Pixels turned out unsupported: symbols from now on. */
		free(cause);
		free(path);
		pv_clear(s);
		return NULL;
	} else if (cause != NULL) {
		s->err = xasprintf("no preview: %s", cause);
		free(cause);
		*note = s->err;
	}
	free(path);
	return s;
}

static int
render_symbols(struct tui *t, struct tui_preview *s, const char *path, char **cause)
{
	enum preview_colors colors = t->color >= 256 ? PREVIEW_COLORS_256 : PREVIEW_COLORS_16;
	return preview_render_file(path, s->cols, s->rows, colors, &s->p, cause);
}

const struct preview *
tui_preview_get(struct tui *t, const struct cache_msg *m, int cols, int rows, const char **note)
{
	*note = NULL;
	if (t->color < 256 && !(t->color > 0 && COLORS >= 16)) {
		if (media_lookup(m->media_mime) != NULL &&
		    media_lookup(m->media_mime)->category == MEDIA_IMAGE)
			*note = "(no preview without colours)";
		return NULL;
	}
	struct tui_preview *s = pv_lookup(t, m, cols, rows, note, render_symbols);
	return s != NULL ? s->p : NULL;
}

/* A cell's size in pixels, from the terminal (10x20 when it does not say). */
static void
cell_size(int *w, int *h)
{
	struct winsize ws;
	*w = *h = 0;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*w = ws.ws_xpixel / ws.ws_col;
		*h = ws.ws_ypixel / ws.ws_row;
	}
}

static int
render_pixels(struct tui *t, struct tui_preview *s, const char *path, char **cause)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*cause = xasprintf("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	struct buf b = {0};
	char chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= (size_t)media_cap(MEDIA_IMAGE))
		buf_append(&b, chunk, k);
	fclose(f);
	int cw, ch;
	cell_size(&cw, &ch);
	int r = preview_render_pixels(b.data, b.len, (enum preview_mode)t->pv_mode, NULL, s->cols,
	    s->rows, cw, ch, &s->seq, &s->seqlen, &s->pcols, &s->prows, cause);
	buf_free(&b);
	if (r != 0 && strstr(*cause, "this terminal has no") != NULL) {
		log_warn("%s: image previews fall back to symbols", *cause);
		t->pv_mode = PREVIEW_SYMBOLS;
	}
	return r;
}

const struct tui_preview *
tui_preview_pixels(struct tui *t, const struct cache_msg *m, int cols, int rows, const char **note)
{
	struct tui_preview *s = pv_lookup(t, m, cols, rows, note, render_pixels);
	return s != NULL && s->seq != NULL ? s : NULL;
}

void
tui_preview_flush(struct tui *t)
{
	int same = t->npix == t->npix_last;
	for (int i = 0; same && i < t->npix; i++)
		same = t->pix[i].y == t->pix_last[i].y && t->pix[i].x == t->pix_last[i].x &&
		    t->pix[i].s == t->pix_last[i].s;
	if (same)
		return;
	/* kitty keeps images apart from the text: remove the old placements. */
	if (t->pv_mode == PREVIEW_KITTY && t->npix_last > 0)
		fputs("\033_Ga=d\033\\", stdout);
	for (int i = 0; i < t->npix; i++) {
		printf("\033[%d;%dH", t->pix[i].y + 1, t->pix[i].x + 1);
		fwrite(t->pix[i].s->seq, 1, t->pix[i].s->seqlen, stdout);
	}
	fflush(stdout);
	memcpy(t->pix_last, t->pix, sizeof t->pix);
	t->npix_last = t->npix;
	/* Put curses' cursor back where curses believes it is. */
	int y, x;
	getyx(stdscr, y, x);
	printf("\033[%d;%dH", y + 1, x + 1);
	fflush(stdout);
}

int
tui_preview_pair(const struct tui *t, int fg, int bg)
{
	(void)t;
	int p = alloc_pair(fg, bg);
	return p > 0 ? p : 0;
}

/* ---- the selected media message ----------------------------------- */

int
tui_media_selected(struct tui *t, struct cache_msg *out)
{
	memset(out, 0, sizeof *out);
	const struct cache_chat *c = tui_sel_chat(t);
	if (c == NULL || t->app.cache == NULL)
		return 1;
	if (t->media_sel != NULL && t->media_sel_phone != NULL &&
	    strcmp(t->media_sel_phone, c->phone) == 0 &&
	    cache_msg_get(t->app.cache, t->media_sel, out, NULL) == 0) {
		if (*out->media_mime != '\0')
			return 0;
		cache_msg_release(out);
	}
	return cache_msg_media_step(t->app.cache, c->phone, 0, -1, out, NULL) == 0 ? 0 : 1;
}

static void
select_id(struct tui *t, const char *phone, const char *id)
{
	free(t->media_sel);
	free(t->media_sel_phone);
	t->media_sel = id != NULL ? xstrdup(id) : NULL;
	t->media_sel_phone = phone != NULL ? xstrdup(phone) : NULL;
	t->dirty = 1;
}

void
tui_media_step(struct tui *t, int dir)
{
	struct cache_msg cur, next;
	if (tui_media_selected(t, &cur) != 0) {
		tui_message(t, 1, "no media in this chat");
		return;
	}
	if (cache_msg_media_step(t->app.cache, cur.phone, cur.seq, dir, &next, NULL) == 0) {
		select_id(t, next.phone, next.id);
		cache_msg_release(&next);
	} else {
		select_id(t, cur.phone, cur.id);
		tui_message(t, 0, "no %s media message", dir < 0 ? "older" : "newer");
	}
	cache_msg_release(&cur);
}

/* ---- s and o -------------------------------------------------------- */

struct save_job {
	char *name, *mime;
	int   open;
};

/* Runs xdg-open on path, detached (a grandchild, so no zombie is left),
 * its output to /dev/null so it cannot draw over curses. */
static void
run_opener(struct tui *t, const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
				dup2(null, 2);
			}
			setsid();
			execlp("xdg-open", "xdg-open", path, (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	if (pid < 0) {
		tui_message(t, 1, "cannot run xdg-open: %s", strerror(errno));
		return;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

static void
save_from(struct tui *t, const char *src, const struct save_job *j)
{
	char *cause = NULL, *saved = NULL;
	char *dir = cmedia_download_dir(&cause);
	if (dir == NULL || cmedia_save(src, dir, j->name, j->mime, &saved, &cause) != 0) {
		tui_message(t, 1, "cannot save: %s", cause);
		free(cause);
		free(dir);
		return;
	}
	free(dir);
	if (!j->open)
		tui_message(t, 0, "saved to %s", saved);
	else if (!cmedia_on_path("xdg-open"))
		tui_message(t, 1, "saved to %s; xdg-open is not installed, so it was not opened", saved);
	else {
		tui_message(t, 0, "saved to %s; opening it", saved);
		run_opener(t, saved);
	}
	free(saved);
}

static void
job_free(struct save_job *j)
{
	free(j->name);
	free(j->mime);
	free(j);
}

static void
save_progress(struct app *a, void *arg, int64_t done, int64_t total)
{
	struct save_job *j = arg;
	char *bar = console_progress(done, total, 20);
	tui_message(a->ui, 0, "fetching %s %s", j->name, bar);
	free(bar);
}

static void
save_fetched(struct app *a, void *arg, const char *sha, const char *path, const char *error)
{
	struct tui *t = a->ui;
	struct save_job *j = arg;
	(void)sha;
	if (path == NULL)
		tui_message(t, 1, "cannot save: %s", error);
	else
		save_from(t, path, j);
	job_free(j);
}

void
tui_media_save(struct tui *t, int open_it)
{
	struct cache_msg m;
	if (tui_media_selected(t, &m) != 0) {
		tui_message(t, 1, "no media message in this chat");
		return;
	}
	if (strcmp(m.media_state, "refused") == 0)
		tui_message(t, 1, "refused (%s): %s", *m.media_code ? m.media_code : "media",
		    m.media_error);
	else if (!mediastore_valid_hash(m.media_sha256))
		tui_message(t, 1, "the hub has not got this file yet%s%s", *m.media_error ? ": " : "",
		    m.media_error);
	else {
		struct save_job *j = xcalloc(1, sizeof *j);
		j->name = cmedia_save_name(m.media_name, m.media_mime, m.type, m.id);
		j->mime = xstrdup(m.media_mime);
		j->open = open_it;
		char *path = app_media_cached(&t->app, m.media_sha256), *cause = NULL;
		const struct media_type *mt = media_lookup(m.media_mime);
		if (path != NULL) {
			save_from(t, path, j);
			job_free(j);
		} else if (app_media_fetch(&t->app, m.media_sha256,
		    mt != NULL ? media_cap(mt->category) : media_cap(MEDIA_DOCUMENT), save_fetched,
		    save_progress, j, &cause) != 0) {
			tui_message(t, 1, "cannot fetch it: %s", cause);
			free(cause);
			job_free(j);
		} else
			tui_message(t, 0, "fetching %s from the hub\u2026", j->name);
		free(path);
	}
	cache_msg_release(&m);
}

/* ---- :attach -------------------------------------------------------- */

struct upload_job {
	struct tui *t;
	char *phone, *caption, *filename;
	const char *mime;
	int64_t size;
};

static void
up_progress(void *arg, int64_t done, int64_t total)
{
	struct upload_job *j = arg;
	char *bar = console_progress(done, total > 0 ? total : j->size, 20);
	tui_message(j->t, 0, "uploading %s %s", j->filename, bar);
	free(bar);
}

static void
up_done(void *arg, const struct xfer_result *r)
{
	struct upload_job *j = arg;
	struct tui *t = j->t;
	char *sha = NULL, *mime = NULL, *code = NULL, *msg = NULL;
	int64_t size = -1;
	if (r->body != NULL)
		cjson_upload_answer(r->body, r->body_len, &sha, &mime, &size, &code, &msg);
	if (!r->ok)
		tui_message(t, 1, "upload refused (%s): %s", code != NULL ? code : "upload",
		    msg != NULL ? msg : r->error);
	else if (sha == NULL || !mediastore_valid_hash(sha))
		tui_message(t, 1, "the hub's answer to the upload has no digest");
	else {
		char *url = xasprintf("/v1/media/%s", sha);
		struct proto_media md = {
			.mime = mime != NULL && media_lookup(mime) != NULL ? mime : j->mime,
			.url = url, .filename = j->filename,
			.caption = j->caption != NULL && *j->caption ? j->caption : NULL,
			.size = size > 0 ? size : j->size, .sha256 = sha,
		};
		const char *id = session_send_media(&t->app.sess, j->phone, &md);
		tui_pend_add(t, id, "send", j->phone, NULL);
		if (id != NULL)
			tui_message(t, 0, "sending %s\u2026", j->filename);
		free(url);
	}
	free(sha);
	free(mime);
	free(code);
	free(msg);
	free(t->upload);
	t->upload = NULL;
	free(j->phone);
	free(j->caption);
	free(j->filename);
	free(j);
	t->dirty = 1;
}

void
tui_media_attach(struct tui *t, const char *path, const char *caption)
{
	const struct cache_chat *c = tui_sel_chat(t);
	if (c == NULL) {
		tui_message(t, 1, "attach: no chat selected");
		return;
	}
	if (t->upload != NULL) {
		tui_message(t, 1, "attach: %s is still uploading", t->upload);
		return;
	}
	char *cause = NULL;
	if (t->sniff == NULL && (t->sniff = sniff_new(&cause)) == NULL) {
		tui_message(t, 1, "attach: %s", cause);
		free(cause);
		return;
	}
	char *full = path[0] == '~' && path[1] == '/' && getenv("HOME") != NULL ?
	    xasprintf("%s%s", getenv("HOME"), path + 1) : xstrdup(path);
	int64_t now = now_s();
	struct cmedia_out out;
	const char *code;
	char *why;
	if (cmedia_prepare(t->sniff, full, caption, &t->app.sess, c->phone, now, &out, &code,
	    &why) != 0) {
		if (code != NULL)
			tui_message(t, 1, "refused (%s): %s", code, why);
		else
			tui_message(t, 1, "attach: %s", why);
		free(why);
		free(full);
		return;
	}
	struct limit_verdict v;
	if (session_check_limits(&t->app.sess, c->phone, now, 1, &v) != 0) {
		char *lwhy = limits_describe(&v, c->phone);
		tui_message(t, 1, "refused (%s): %s", v.code, lwhy);
		free(lwhy);
		cmedia_out_release(&out);
		free(full);
		return;
	}
	if (t->app.sess.state != SESS_READY) {
		tui_message(t, 1, "attach: not connected to the hub (read-only)");
		cmedia_out_release(&out);
		free(full);
		return;
	}
	struct upload_job *j = xcalloc(1, sizeof *j);
	j->t = t;
	j->phone = xstrdup(c->phone);
	j->caption = caption != NULL ? xstrdup(caption) : NULL;
	j->filename = out.filename;
	j->mime = out.mime;
	j->size = out.size;
	out.filename = NULL;
	if (app_media_upload(&t->app, full, j->mime, j->filename, up_progress, up_done, j,
	    &cause) != 0) {
		tui_message(t, 1, "attach: %s", cause);
		free(cause);
		free(j->phone);
		free(j->caption);
		free(j->filename);
		free(j);
	} else {
		t->upload = xstrdup(j->filename);
		up_progress(j, 0, j->size);
	}
	free(full);
}

void
tui_media_release(struct tui *t)
{
	for (int i = 0; i < NPREVIEW; i++)
		pv_clear(&t->pv[i]);
	sniff_free(t->sniff);
	t->sniff = NULL;
	free(t->media_sel);
	free(t->media_sel_phone);
	free(t->media_shown);
	free(t->upload);
}
