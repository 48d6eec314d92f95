/*
 * tui_paint.c — drawing the console (see tui_int.h).
 *
 * Painting is whole-screen but only when something is dirty; curses'
 * own diff keeps the terminal traffic to what changed.  Only what is on
 * screen is read from the cache: one page of chats, the selected chat,
 * and as many of its newest messages as the pane (plus the scroll) can
 * show.  Every string that came from outside (customers, the hub, other
 * agents) passes text_sanitize/text_sanitize_line right before it is
 * drawn.
 */
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "console.h"
#include "console_app.h"
#include "format.h"
#include "sanitize.h"
#include "status.h"
#include "ui/preview.h"
#include "ui/tui_int.h"
#include "util.h"

/* ---- drawing helpers ------------------------------------------------- */

/* Draws sanitised UTF-8 s at (y, x), at most w columns; returns columns used. */
int
tui_put(int y, int x, int w, const char *s, attr_t a)
{
	if (w <= 0 || s == NULL)
		return 0;
	size_t n = text_fit(s, w);
	attrset(a);
	mvaddnstr(y, x, s, (int)n);
	attrset(A_NORMAL);
	return text_width_n(s, n);
}

/* As tui_put() for untrusted text (one line). */
int
tui_put_untrusted(int y, int x, int w, const char *s, attr_t a)
{
	char *clean = text_sanitize_line(s, s != NULL ? strlen(s) : 0);
	int n = tui_put(y, x, w, clean, a);
	free(clean);
	return n;
}

void
tui_fill(int y, int x, int w, attr_t a)
{
	attrset(a);
	for (int i = 0; i < w; i++)
		mvaddch(y, x + i, ' ');
	attrset(A_NORMAL);
}

/* ---- model access -------------------------------------------------- */

struct cache_filter
tui_list_filter(const struct tui *t)
{
	struct cache_filter f = { t->fstatus, t->ftag, t->search };
	return f;
}

const struct cache_chat *
tui_sel_chat(const struct tui *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->sel_phone != NULL && strcmp(t->rows_v[i].phone, t->sel_phone) == 0)
			return &t->rows_v[i];
	return NULL;
}

void
tui_set_sel_phone(struct tui *t, const char *phone)
{
	if (phone != NULL && t->sel_phone != NULL && strcmp(phone, t->sel_phone) == 0)
		return;
	free(t->sel_phone);
	t->sel_phone = xstrdup(phone);
	t->scroll = 0;
}

/* Reloads the visible page of the chat list, keeping the selected chat
 * selected wherever it moved. */
static void
list_reload(struct tui *t)
{
	struct cache_filter f = tui_list_filter(t);
	cache_chats_free(t->rows_v, t->nrows);
	t->rows_v = NULL;
	t->nrows = 0;
	struct cache *c = t->app.cache;
	if (c == NULL) {
		t->total = 0;
		return;
	}
	t->total = cache_chat_count(c, &f);
	if (t->total < 0)
		t->total = 0;
	if (t->sel_phone != NULL) {
		long i = cache_chat_index(c, &f, t->sel_phone);
		if (i >= 0)
			t->sel = i;
	}
	if (t->sel >= t->total)
		t->sel = t->total - 1;
	if (t->sel < 0)
		t->sel = 0;
	int vis = t->lay.list.h / 2;
	if (vis < 1)
		vis = 1;
	if (t->sel < t->top)
		t->top = t->sel;
	if (t->sel >= t->top + vis)
		t->top = t->sel - vis + 1;
	if (t->top > t->total - vis)
		t->top = t->total - vis;
	if (t->top < 0)
		t->top = 0;
	char *cause = NULL;
	if (cache_chat_page(c, &f, t->top, vis, &t->rows_v, &t->nrows, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	if (t->sel - t->top < (long)t->nrows)
		tui_set_sel_phone(t, t->rows_v[t->sel - t->top].phone);
}

/* ---- painting ------------------------------------------------------- */

static void
paint_title(struct tui *t)
{
	struct rect r = t->lay.title;
	attr_t a = t->color ? tui_pair(t, CP_TITLE) : A_REVERSE;
	tui_fill(r.y, r.x, r.w, a);
	struct session *s = &t->app.sess;
	const char *conn = s->state == SESS_READY ? "online" : s->state == SESS_HELLO ?
	    "connecting" : s->state == SESS_EXPIRED ? "link expired" : "offline";
	char *role = xstrdup(s->role != PROTO_ROLE_NONE ? proto_role_name(s->role) : "?");
	struct buf b = {0};
	buf_printf(&b, " wadesk  %s@%s:%d  %s  %s", t->app.agent, t->app.link.host, t->app.link.port,
	    role, conn);
	if (s->brb)
		buf_puts(&b, "  BRB on");
	if (t->fstatus >= 0)
		buf_printf(&b, "  [status: %s]", status_name((enum chat_status)t->fstatus));
	if (t->ftag != NULL)
		buf_printf(&b, "  [tag: %s]", t->ftag);
	if (t->search != NULL)
		buf_printf(&b, "  [search: %s]", t->search);
	tui_put_untrusted(r.y, r.x, r.w, b.data, a);
	buf_free(&b);
	free(role);
}

static void
paint_banner(struct tui *t)
{
	struct rect r = t->lay.banner;
	if (r.h == 0)
		return;
	struct session *s = &t->app.sess;
	char *text;
	attr_t a;
	int rotating = 0;
	for (int i = 0; i < NPEND; i++)
		if (t->pend[i].label != NULL && strcmp(t->pend[i].label, "rotate") == 0)
			rotating = 1;
	if (s->state == SESS_EXPIRED && rotating) {
		/* The hub closed us before its answer with the new links. */
		text = xstrdup(" access was refreshed, but the hub closed this session before sending the "
		    "new links: run 'wadeskd -d DIR access show' on the hub ");
		a = t->color ? tui_pair(t, CP_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
	} else if (s->state == SESS_EXPIRED) {
		text = xasprintf(" %s -- read-only. Connect with a new link: wadesk connect LINK ",
		    s->why != NULL ? s->why : "your link has expired");
		a = t->color ? tui_pair(t, CP_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
	} else if (s->state != SESS_READY && (t->app.cache != NULL || s->why != NULL)) {
		int in = app_retry_in(&t->app);
		text = xasprintf(" OFFLINE: hub unreachable (%s) -- read-only; %s ",
		    s->why != NULL ? s->why : "connecting",
		    in >= 0 ? "reconnecting" : "connecting");
		if (in > 0) {
			char *x = xasprintf("%sin %d s ", text, in);
			free(text);
			text = x;
		}
		a = t->color ? tui_pair(t, CP_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
	} else if (t->opts->demo != NULL) {
		text = xasprintf(" %s ", t->opts->demo);
		a = t->color ? tui_pair(t, CP_DEMO) : A_REVERSE;
	} else
		return;
	tui_fill(r.y, r.x, r.w, a);
	tui_put_untrusted(r.y, r.x, r.w, text, a);
	free(text);
}

static void
paint_list(struct tui *t)
{
	struct rect r = t->lay.list;
	int64_t now = now_s();
	if (r.w < t->cols)
		for (int y = r.y; y < r.y + r.h; y++)
			mvaddstr(y, r.w, "\xe2\x94\x82");   /* │ */
	if (t->nrows == 0) {
		tui_put(r.y + 1, r.x + 2, r.w - 3, t->app.cache == NULL ? "waiting for the hub..." :
		    t->total == 0 && (t->fstatus >= 0 || t->ftag || t->search) ?
		    "no chat matches the filter (F clears it)" : "no chats yet", tui_pair(t, CP_DIM));
		return;
	}
	for (size_t i = 0; i < t->nrows; i++) {
		const struct cache_chat *c = &t->rows_v[i];
		int y = r.y + (int)i * 2;
		int selected = (long)i == t->sel - t->top;
		attr_t base = selected ? A_REVERSE | (t->focus == KC_LIST ? A_BOLD : 0) : 0;
		tui_fill(y, r.x, r.w, base);
		tui_fill(y + 1, r.x, r.w, base);
		int x = r.x;
		x += tui_put(y, x, 2, status_symbol((enum chat_status)c->status),
		    base | tui_status_attr(t, c->status));
		x += tui_put(y, x, 1, " ", base);
		char age[8], right[32];
		console_age(c->last_time, now, age);
		if (c->unread > 0)
			snprintf(right, sizeof right, " (%d) %s ", c->unread, age);
		else
			snprintf(right, sizeof right, " %s ", age);
		int rw = text_width(right);
		int nw = r.w - (x - r.x) - rw;
		int used = tui_put_untrusted(y, x, nw, *c->name ? c->name : c->phone, base | A_BOLD);
		if (*c->name && used + 2 < nw)
			tui_put_untrusted(y, x + used + 1, nw - used - 1, c->phone, base | tui_pair(t, CP_DIM));
		tui_put(y, r.x + r.w - rw, rw, right, base | (c->unread ? A_BOLD : 0));
		/* Second line: status (with who responds), failure, tags, preview. */
		x = r.x + 2;
		struct buf b = {0};
		buf_puts(&b, status_name((enum chat_status)c->status));
		if (c->status == CHAT_RESPONDING && *c->responding)
			buf_printf(&b, " (%s)", c->responding);
		x += tui_put_untrusted(y + 1, x, r.w - 2, b.data, base | tui_status_attr(t, c->status));
		buf_free(&b);
		if (c->failed)
			x += tui_put(y + 1, x, r.x + r.w - x, " FAILED", base | tui_pair(t, CP_ERROR) | A_BOLD);
		if (*c->tags) {
			char *tags = xstrndup(c->tags + 1, strlen(c->tags) > 1 ? strlen(c->tags) - 2 : 0);
			for (char *p = tags; *p; p++)
				if (*p == ',')
					*p = ' ';
			x += tui_put(y + 1, x, r.x + r.w - x, " #", base | tui_pair(t, CP_DIM));
			x += tui_put_untrusted(y + 1, x, r.x + r.w - x, tags, base | tui_pair(t, CP_DIM));
			free(tags);
		}
		x += tui_put(y + 1, x, r.x + r.w - x, "  ", base);
		tui_put_untrusted(y + 1, x, r.x + r.w - x - 1, c->preview, base | tui_pair(t, CP_DIM));
	}
}

static void
paint_customer(struct tui *t)
{
	struct rect r = t->lay.customer;
	const struct cache_chat *c = tui_sel_chat(t);
	if (c == NULL)
		return;
	int64_t now = now_s();
	int x = r.x + 1;
	x += tui_put_untrusted(r.y, x, r.w - 2, *c->name ? c->name : "(no name)", A_BOLD);
	x += tui_put(r.y, x, r.x + r.w - x, "  +", 0);
	x += tui_put_untrusted(r.y, x, r.x + r.w - x, c->phone, 0);
	x += tui_put(r.y, x, r.x + r.w - x, "  ", 0);
	struct buf b = {0};
	buf_printf(&b, "%s %s", status_symbol((enum chat_status)c->status),
	    status_name((enum chat_status)c->status));
	if (c->status == CHAT_RESPONDING && *c->responding)
		buf_printf(&b, " (%s)", c->responding);
	x += tui_put_untrusted(r.y, x, r.x + r.w - x, b.data, tui_status_attr(t, c->status));
	buf_free(&b);
	char age[8];
	char *oi = xasprintf("  %s  last inbound %s", c->opted_in ? "opted in" : "not opted in",
	    c->last_inbound ? console_age(c->last_inbound, now, age) : "never");
	tui_put(r.y, x, r.x + r.w - x, oi, tui_pair(t, CP_DIM));
	free(oi);
	/* Tags and note. */
	x = r.x + 1;
	x += tui_put(r.y + 1, x, r.w, "tags: ", tui_pair(t, CP_DIM));
	x += tui_put_untrusted(r.y + 1, x, r.x + r.w - x, *c->tags ? c->tags : "-", 0);
	x += tui_put(r.y + 1, x, r.x + r.w - x, "   note: ", tui_pair(t, CP_DIM));
	tui_put_untrusted(r.y + 1, x, r.x + r.w - x, *c->note ? c->note : "-", 0);
	/* Window and limits: always visible. */
	char *win = console_window_left(c->last_inbound, now);
	unsigned cc = 0;
	long ac = -1;
	session_limit_counts(&t->app.sess, c->phone, now, &cc, &ac);
	long cmax = t->app.sess.limits.customer_max > 0 ? t->app.sess.limits.customer_max : LIMIT_CUSTOMER_MAX;
	long amax = t->app.sess.limits.agent_max > 0 ? t->app.sess.limits.agent_max : LIMIT_AGENT_MAX;
	char month[32] = "?";
	if (ac >= 0)
		snprintf(month, sizeof month, "%ld", amax - ac > 0 ? amax - ac : 0);
	char *line = xasprintf("%s  |  you may send %ld more here, %s more in 30 days", win,
	    cmax - (long)cc > 0 ? cmax - (long)cc : 0, month);
	int closed = strstr(win, "closed") != NULL;
	tui_put(r.y + 2, r.x + 1, r.w - 2, line, closed ? tui_pair(t, CP_ERROR) | A_BOLD : tui_pair(t, CP_OK));
	free(line);
	free(win);
}

/* One rendered conversation line. */
struct cline {
	char   *text;           /* sanitised; owned */
	attr_t  attr;
	int     indent;
	const struct fmt_span *spans;  /* over the message's plain text, or NULL */
	size_t  nspans;
	size_t  base;           /* offset of text within that plain text */
	struct fmt_span *own;   /* spans this line frees (the message's first line) */
	const struct preview *pv;   /* a row of an image preview (not owned) */
	int     pv_row;
	const struct tui_preview *pix;  /* kitty/sixel: the first row of the image's room */
};

static void
clines_release(struct cline *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].text);
		free(v[i].own);
	}
	free(v);
}

static struct cline *
cline_push(struct cline **v, size_t *n, size_t *cap, char *text, attr_t a, int indent)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	struct cline *l = &(*v)[(*n)++];
	memset(l, 0, sizeof *l);
	l->text = text;
	l->attr = a;
	l->indent = indent;
	return l;
}

static attr_t
fmt_attr(const struct tui *t, unsigned flags)
{
	attr_t a = 0;
	if (flags & FMT_BOLD)
		a |= A_BOLD;
	if (flags & FMT_ITALIC)
		a |= A_ITALIC;
	if (flags & FMT_STRIKE)
		a |= A_DIM;
	if (flags & FMT_MONO)
		a |= tui_pair(t, CP_MONO);
	return a;
}

/* An image's preview rows (or a note while there is none), at most 40
 * columns by 12 rows within the pane. */
static void
preview_lines(struct tui *t, const struct cache_msg *m, int w, struct cline **v, size_t *k,
    size_t *cap, int indent)
{
	int cols = w < 40 ? w : 40, rows = 12;
	const char *note = NULL;
	if (t->pv_mode == PREVIEW_SIXEL || t->pv_mode == PREVIEW_KITTY) {
		/* Blank lines for curses; the picture goes there after refresh. */
		const struct tui_preview *s = tui_preview_pixels(t, m, cols, rows, &note);
		if (s == NULL && t->pv_mode == PREVIEW_SYMBOLS)
			goto symbols;           /* the terminal had no pixels after all */
		if (s == NULL) {
			if (note != NULL)
				cline_push(v, k, cap, text_sanitize_line(note, strlen(note)),
				    tui_pair(t, CP_DIM), indent);
			return;
		}
		for (int r = 0; r < s->prows; r++) {
			struct cline *l = cline_push(v, k, cap, xstrdup(""), 0, indent);
			if (r == 0)
				l->pix = s;
		}
		return;
	}
symbols:;
	const struct preview *p = tui_preview_get(t, m, cols, rows, &note);
	if (p == NULL) {
		if (note != NULL)
			cline_push(v, k, cap, text_sanitize_line(note, strlen(note)),
			    tui_pair(t, CP_DIM), indent);
		return;
	}
	for (int r = 0; r < p->rows; r++) {
		struct cline *l = cline_push(v, k, cap, xstrdup(""), 0, indent);
		l->pv = p;
		l->pv_row = r;
	}
}

/*
 * A media message's lines: "[image] cat.png  1.2 kB" (the name is the
 * customer's: sanitised to one line), its state while the hub has not got
 * the file or refused it, and an image's preview once it is cached.  The
 * selected media message (`s`, `o`) is marked with '>' and reverse video.
 */
static void
render_media(struct tui *t, const struct cache_msg *m, int w, struct cline **v, size_t *k,
    size_t *cap)
{
	char size[16];
	int indent = m->out ? 4 : 2;
	int sel = t->media_shown != NULL && strcmp(t->media_shown, m->id) == 0;
	const char *kind = console_media_kind(m->media_mime, m->type);
	char *raw = xasprintf("%s[%s] %s%s%s", sel ? "> " : "", kind, m->media_name,
	    *m->media_name != '\0' ? "  " : "", console_human_size(m->media_size, size));
	char *line = text_sanitize_line(raw, strlen(raw));
	free(raw);
	cline_push(v, k, cap, line, A_BOLD | (sel ? A_REVERSE : 0), indent);
	char *st = console_media_state_line(m->media_state, m->media_error, m->media_code);
	if (st != NULL) {
		char *clean = text_sanitize_line(st, strlen(st));
		free(st);
		int refused = m->media_state != NULL && strcmp(m->media_state, "refused") == 0;
		struct wrap_line *wl;
		size_t nw = console_wrap(clean, w - indent - 1, &wl);
		for (size_t j = 0; j < nw; j++)
			cline_push(v, k, cap, xstrndup(clean + wl[j].start, wl[j].len),
			    refused ? tui_pair(t, CP_ERROR) | A_BOLD : tui_pair(t, CP_DIM), indent);
		free(wl);
		free(clean);
		return;
	}
	preview_lines(t, m, w - indent - 1, v, k, cap, indent);
}

/* Renders messages (oldest first) into lines for width w. */
static struct cline *
render_messages(struct tui *t, const struct cache_msg *m, size_t n, int w, size_t *nl,
    size_t first_unread)
{
	struct cline *v = NULL;
	size_t k = 0, cap = 0;
	t->unread_line = -1;
	for (size_t i = 0; i < n; i++) {
		char hhmm[8];
		time_t tt = (time_t)m[i].time;
		struct tm tm;
		localtime_r(&tt, &tm);
		strftime(hhmm, sizeof hhmm, "%H:%M", &tm);
		if (i == first_unread) {
			t->unread_line = (int)k;
			cline_push(&v, &k, &cap, xstrdup("-- unread --"), tui_pair(t, CP_NOTIFY), 0);
		}
		char *who;
		attr_t ha;
		if (!m[i].out) {
			who = xasprintf("%s  << customer", hhmm);
			ha = A_BOLD;
		} else {
			const char *st = *m[i].state ? m[i].state : "queued";
			const char *by = m[i].automated ? "automatic reply" : m[i].agent;
			if (strcmp(st, "failed") == 0)
				who = xasprintf("%s  >> %s  FAILED: %s", hhmm, by,
				    *m[i].reason ? m[i].reason : "no reason given");
			else
				who = xasprintf("%s  >> %s  [%s]", hhmm, by, st);
			ha = strcmp(st, "failed") == 0 ? tui_pair(t, CP_ERROR) | A_BOLD : tui_pair(t, CP_DIM);
		}
		if (strcmp(m[i].type, "text") != 0 &&
		    (m[i].media_mime == NULL || *m[i].media_mime == '\0')) {
			char *x = xasprintf("%s  (%s)", who, m[i].type);
			free(who);
			who = x;
		}
		char *clean = text_sanitize_line(who, strlen(who));
		free(who);
		cline_push(&v, &k, &cap, clean, ha, m[i].out ? 2 : 0);
		if (m[i].media_mime != NULL && *m[i].media_mime != '\0')
			render_media(t, &m[i], w, &v, &k, &cap);
		/* Body: sanitised, formatting parsed, wrapped.  A media
		 * message's caption is its body when it has no text. */
		const char *raw = *m[i].text == '\0' && m[i].media_caption != NULL ?
		    m[i].media_caption : m[i].text;
		if (*raw == '\0' && m[i].media_mime != NULL && *m[i].media_mime != '\0') {
			cline_push(&v, &k, &cap, xstrdup(""), 0, 0);
			continue;
		}
		char *body = text_sanitize(raw, strlen(raw));
		char *plain = NULL;
		struct fmt_span *spans = NULL;
		size_t nspans = 0;
		if (format_parse(body, &plain, &spans, &nspans) != 0) {
			free(plain);
			free(spans);
			plain = xstrdup(body);
			spans = NULL;
			nspans = 0;
		}
		free(body);
		struct wrap_line *wl;
		int indent = m[i].out ? 4 : 2;
		size_t nw = console_wrap(plain, w - indent - 1, &wl);
		for (size_t j = 0; j < nw; j++) {
			char *line = xstrndup(plain + wl[j].start, wl[j].len);
			for (char *p = line; *p; p++)
				if (*p == '\t')
					*p = ' ';
			struct cline *l = cline_push(&v, &k, &cap, line, 0, indent);
			l->spans = spans;
			l->nspans = nspans;
			l->base = wl[j].start;
			if (j == 0)
				l->own = spans;
		}
		if (nw == 0)
			free(spans);
		free(wl);
		free(plain);
		cline_push(&v, &k, &cap, xstrdup(""), 0, 0);
	}
	*nl = k;
	return v;
}

/* Draws one body line with its formatting spans. */
static void
draw_cline(struct tui *t, int y, int x, int w, const struct cline *l)
{
	if (l->pix != NULL && t->npix < NPREVIEW) {
		t->pix[t->npix].y = y;
		t->pix[t->npix].x = x + l->indent;
		t->pix[t->npix].s = l->pix;
		t->npix++;
		return;
	}
	if (l->pv != NULL) {
		for (int c = 0; c < l->pv->cols && l->indent + c < w; c++) {
			const struct preview_cell *cell = preview_cell(l->pv, c, l->pv_row);
			int pair = tui_preview_pair(t, cell->fg_index, cell->bg_index);
			attr_set(A_NORMAL, 0, &pair);
			mvaddstr(y, x + l->indent + c, cell->glyph);
		}
		attrset(A_NORMAL);
		return;
	}
	size_t nspans = l->nspans;
	if (l->spans == NULL || nspans == 0) {
		tui_put(y, x + l->indent, w - l->indent, l->text, l->attr);
		return;
	}
	size_t len = strlen(l->text), pos = 0;
	int cx = x + l->indent, end = x + w;
	while (pos < len && cx < end) {
		size_t abs = l->base + pos;
		unsigned flags = 0;
		size_t run = len - pos;
		for (size_t s = 0; s < nspans; s++) {
			const struct fmt_span *sp = &l->spans[s];
			if (abs >= sp->start && abs < sp->start + sp->len) {
				flags = sp->flags;
				if (sp->start + sp->len - abs < run)
					run = sp->start + sp->len - abs;
				break;
			}
			if (sp->start > abs && sp->start - abs < run)
				run = sp->start - abs;
		}
		char *seg = xstrndup(l->text + pos, run);
		cx += tui_put(y, cx, end - cx, seg, l->attr | fmt_attr(t, flags));
		free(seg);
		pos += run;
	}
}

static void
paint_conv(struct tui *t)
{
	struct rect r = t->lay.conv;
	const struct cache_chat *c = tui_sel_chat(t);
	attrset(tui_pair(t, CP_DIM));
	mvhline(r.y, r.x, ACS_HLINE, r.w);
	attrset(A_NORMAL);
	if (c == NULL || t->app.cache == NULL || r.h < 2)
		return;
	int h = r.h - 1;
	/* Enough messages to fill the pane plus the scroll: each takes at
	 * least two lines, so h + scroll messages always suffice. */
	int want = h + t->scroll + 2;
	if (want > 2000)
		want = 2000;
	struct cache_msg *m;
	size_t n;
	char *cause = NULL;
	if (cache_msg_page(t->app.cache, c->phone, 0, want, &m, &n, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
		return;
	}
	size_t first_unread = (size_t)-1;
	if (c->unread > 0) {
		int seen = 0;
		for (size_t i = n; i-- > 0;)
			if (!m[i].out && ++seen == c->unread) {
				first_unread = i;
				break;
			}
	}
	/* The media message s and o act on, marked on screen. */
	struct cache_msg sel;
	free(t->media_shown);
	t->media_shown = NULL;
	if (tui_media_selected(t, &sel) == 0) {
		t->media_shown = xstrdup(sel.id);
		cache_msg_release(&sel);
	}
	size_t nl;
	struct cline *lines = render_messages(t, m, n, r.w, &nl, first_unread);
	cache_msgs_free(m, n);
	t->conv_lines = (int)nl;
	int max_scroll = (int)nl - h > 0 ? (int)nl - h : 0;
	if (t->scroll > max_scroll)
		t->scroll = max_scroll;
	int start = (int)nl - h - t->scroll;
	int pad = 0;            /* a short conversation sits at the bottom */
	if (start < 0) {
		pad = -start;
		start = 0;
	}
	for (int i = 0; i + pad < h && start + i < (int)nl; i++)
		draw_cline(t, r.y + 1 + pad + i, r.x + 1, r.w - 1, &lines[start + i]);
	if (t->scroll > 0)
		tui_put(r.y, r.x + r.w - 22, 21, " -- more below (G) -- ", tui_pair(t, CP_DIM));
	clines_release(lines, nl);
	/* Read receipts only when the agent is looking at this chat. */
	if (c->unread > 0 && (t->focus == KC_CONV || t->focus == KC_COMPOSER) &&
	    t->app.sess.state == SESS_READY)
		session_mark_read(&t->app.sess, c->phone);
}

static void
paint_hint(struct tui *t)
{
	struct rect r = t->lay.hint;
	const struct cache_chat *c = tui_sel_chat(t);
	attrset(tui_pair(t, CP_DIM));
	mvhline(r.y, r.x, ACS_HLINE, r.w);
	attrset(A_NORMAL);
	if (c == NULL)
		return;
	int64_t now = now_s();
	const char *text = composer_text(&t->comp);
	struct send_decision d;
	session_decide(&t->app.sess, c->phone, composer_empty(&t->comp) ? "" : text, now, &d);
	char *hint;
	attr_t a;
	struct limit_verdict v;
	if (d.result == SEND_REFUSED && !(composer_empty(&t->comp) &&
	    strcmp(d.code, "template.nomatch") == 0)) {
		hint = xasprintf(" refused (%s): %s ", d.code, d.reason);
		a = tui_pair(t, CP_ERROR) | A_BOLD;
	} else if (session_check_limits(&t->app.sess, c->phone, now, 0, &v) != 0) {
		char *why = limits_describe(&v, c->phone);
		hint = xasprintf(" refused (%s): %s ", v.code, why);
		free(why);
		a = tui_pair(t, CP_ERROR) | A_BOLD;
	} else if (d.result == SEND_TEMPLATE) {
		hint = xasprintf(" sends as template '%s' ",
		    t->app.sess.templates[d.template_index].name);
		a = tui_pair(t, CP_UNANSWERED);
	} else if (d.result == SEND_REFUSED) {
		hint = xstrdup(" window closed: only an approved template can be sent (Tab lists them) ");
		a = tui_pair(t, CP_UNANSWERED) | A_BOLD;
	} else {
		hint = xstrdup(composer_empty(&t->comp) ? " session message (r to reply, c canned) " :
		    " sends as a session message (Enter) ");
		a = tui_pair(t, CP_OK);
	}
	decision_release(&d);
	tui_put(r.y, r.x + 1, r.w - 2, hint, a);
	free(hint);
}

/* Cursor position of the composer after painting it. */
static void
paint_composer(struct tui *t, int *cy, int *cx)
{
	struct rect r = t->lay.composer;
	const char *text = composer_text(&t->comp);
	*cy = r.y;
	*cx = r.x + 2;
	tui_put(r.y, r.x, 2, t->focus == KC_COMPOSER ? "> " : "  ", A_BOLD);
	if (t->comp.len == 0 && t->focus != KC_COMPOSER) {
		tui_put(r.y, r.x + 2, r.w - 2, "r: reply   c: canned reply   ?: help", tui_pair(t, CP_DIM));
		return;
	}
	struct wrap_line *wl;
	size_t n = console_wrap(text, r.w - 3, &wl);
	/* Which line holds the cursor; show the window of lines around it. */
	size_t cl = 0;
	for (size_t i = 0; i < n; i++)
		if (t->comp.cursor >= wl[i].start)
			cl = i;
	size_t first = cl >= (size_t)r.h ? cl - (size_t)r.h + 1 : 0;
	for (size_t i = first; i < n && i < first + (size_t)r.h; i++) {
		char *line = xstrndup(text + wl[i].start, wl[i].len);
		tui_put(r.y + (int)(i - first), r.x + 2, r.w - 3, line, 0);
		free(line);
	}
	*cy = r.y + (int)(cl - first);
	size_t off = t->comp.cursor - wl[cl].start;
	if (off > wl[cl].len)
		off = wl[cl].len;
	*cx = r.x + 2 + console_width(text + wl[cl].start, off);
	free(wl);
}

static void
paint_status(struct tui *t, int *cy, int *cx)
{
	struct rect r = t->lay.status;
	tui_fill(r.y, 0, t->cols, 0);
	if (t->mode == M_PROMPT) {
		const char *label = t->pkind == P_COMMAND ? ":" : "search: ";
		int x = tui_put(r.y, 0, t->cols, label, A_BOLD);
		char *clean = text_sanitize_line(composer_text(&t->prompt), t->prompt.len);
		tui_put(r.y, x, t->cols - x, clean, 0);
		*cy = r.y;
		*cx = x + console_width(composer_text(&t->prompt), t->prompt.cursor);
		free(clean);
		return;
	}
	if (t->msg != NULL)
		tui_put_untrusted(r.y, 1, t->cols - 2, t->msg, t->msg_err ? tui_pair(t, CP_ERROR) | A_BOLD : 0);
	else
		tui_put(r.y, 1, t->cols - 2, "?:help  j/k:chats  n:next unanswered  r:reply  c:canned  "
		    "t:tag  N:note  e:name  /:search  f:filter  b:BRB  ::command  q:quit", tui_pair(t, CP_DIM));
}

static void
paint_popup(struct tui *t)
{
	int h = t->rows - 4, w = t->cols - 6;
	int y0 = 2, x0 = 3;
	for (int y = y0; y < y0 + h; y++)
		tui_fill(y, x0, w, 0);
	attrset(A_BOLD);
	mvhline(y0, x0, ACS_HLINE, w);
	mvhline(y0 + h - 1, x0, ACS_HLINE, w);
	attrset(A_NORMAL);
	tui_put(y0, x0 + 2, w - 4, t->popup_title, A_BOLD);
	tui_put(y0 + h - 1, x0 + 2, w - 4, " Esc/q closes, j/k scroll ", A_BOLD);
	for (int i = 0; i < h - 2 && t->popup_top + i < (int)t->npopup; i++)
		tui_put(y0 + 1 + i, x0 + 2, w - 4, t->popup[t->popup_top + i], 0);
}

static void
paint_picker(struct tui *t, int *cy, int *cx)
{
	int h = t->rows / 2, w = t->cols * 2 / 3;
	int y0 = t->rows / 4, x0 = t->cols / 6;
	for (int y = y0; y < y0 + h; y++)
		tui_fill(y, x0, w, A_REVERSE);
	char *title = xasprintf(" %s: type to filter, Enter picks, Esc cancels ",
	    t->pick_templates ? "Templates" : "Canned replies");
	tui_put(y0, x0 + 1, w - 2, title, A_REVERSE | A_BOLD);
	free(title);
	int x = tui_put(y0 + 1, x0 + 1, w - 2, "> ", A_REVERSE);
	tui_put(y0 + 1, x0 + 1 + x, w - 3 - x, composer_text(&t->pick_filter), A_REVERSE);
	*cy = y0 + 1;
	*cx = x0 + 1 + x + console_width(composer_text(&t->pick_filter), t->pick_filter.cursor);
	int row = 0, shown = 0;
	for (size_t i = 0; i < t->npick && row < h - 3; i++) {
		if (t->pick_filter.len > 0 && console_fuzzy(composer_text(&t->pick_filter),
		    t->pick_names[i]) < 0 && console_fuzzy(composer_text(&t->pick_filter),
		    t->pick_bodies[i]) < 0)
			continue;
		attr_t a = shown == t->pick_sel ? A_BOLD : A_REVERSE;
		tui_fill(y0 + 2 + row, x0, w, a);
		char *line = xasprintf(" %-16s %s", t->pick_names[i], t->pick_bodies[i]);
		tui_put_untrusted(y0 + 2 + row, x0 + 1, w - 2, line, a);
		free(line);
		row++;
		shown++;
	}
	if (shown == 0)
		tui_put(y0 + 2, x0 + 2, w - 4, t->npick == 0 ? "(none defined)" : "(no match)", A_REVERSE);
}

/* This thread's CPU time in ns: the share of an event's latency that is
 * our own work, whatever else the machine is doing. */
int64_t
bench_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Benchmarks: when the first full paint reached the terminal and how long
 * an event took to get on screen (CLOCK_MONOTONIC, shared with the
 * benchmark process) and how much CPU that took, and the RSS then. */
static void
bench_note(struct tui *t)
{
	if (t->bench == NULL)
		return;
	int64_t now = mono_ns();
	if (t->painted++ == 0 && t->app.cache != NULL) {
		long rss = 0;
		FILE *f = fopen("/proc/self/status", "r");
		char line[128];
		while (f != NULL && fgets(line, sizeof line, f) != NULL)
			if (strncmp(line, "VmRSS:", 6) == 0)
				rss = strtol(line + 6, NULL, 10);
		if (f != NULL)
			fclose(f);
		fprintf(t->bench, "paint %lld %ld\n", (long long)now, rss);
	} else if (t->painted == 1)
		t->painted = 0;       /* that paint had no cache yet: not the full one */
	if (t->frame_ns != 0) {
		fprintf(t->bench, "event %lld %lld\n", (long long)(now - t->frame_ns),
		    (long long)(bench_cpu_ns() - t->frame_cpu));
		t->frame_ns = 0;
	}
	fflush(t->bench);
}

void
tui_paint(struct tui *t)
{
	getmaxyx(stdscr, t->rows, t->cols);
	struct wrap_line *wl;
	size_t cl = console_wrap(composer_text(&t->comp), t->cols > 60 ? t->cols * 3 / 5 - 3 : t->cols - 3, &wl);
	free(wl);
	int banner = t->opts->demo != NULL || t->app.sess.state != SESS_READY;
	console_layout(t->cols, t->rows, banner, (int)cl, &t->lay);
	erase();
	if (t->lay.too_small) {
		tui_put(0, 0, t->cols, "too small: 40x10 at least", A_BOLD);
		refresh();
		return;
	}
	list_reload(t);
	t->pv_tick++;
	t->npix = 0;
	paint_title(t);
	paint_banner(t);
	paint_list(t);
	paint_customer(t);
	paint_conv(t);
	paint_hint(t);
	int cy = -1, cx = -1, py = -1, px = -1;
	paint_composer(t, &cy, &cx);
	paint_status(t, &py, &px);
	int mx = -1, my = -1;
	if (t->mode == M_POPUP)
		paint_popup(t);
	else if (t->mode == M_PICKER)
		paint_picker(t, &my, &mx);
	if (t->mode == M_PICKER) {
		curs_set(1);
		move(my, mx);
	} else if (t->mode == M_PROMPT) {
		curs_set(1);
		move(py, px);
	} else if (t->focus == KC_COMPOSER && t->mode == M_NORMAL) {
		curs_set(1);
		move(cy, cx);
	} else
		curs_set(0);
	refresh();
	if (t->mode == M_NORMAL)
		tui_preview_flush(t);
	t->dirty = 0;
	bench_note(t);
}

