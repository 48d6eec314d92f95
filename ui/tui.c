/*
 * tui.c — the curses console (see tui.h).
 *
 * This file owns the terminal: it sets it up (UTF-8 locale, raw keys,
 * keypad, mouse, colours), restores it on every way out (normal exit,
 * fatal signal, lost terminal), and paints the model.  It holds no rules:
 * what a key does comes from the key table (src/console.c), what a send
 * becomes and whether a limit allows it from the session, what a chat
 * holds from the cache, read one screenful at a time.
 *
 * Painting is whole-screen but only when something is dirty; curses'
 * own diff keeps the terminal traffic to what changed.  Every string
 * that came from outside (customers, the hub, other agents) passes
 * text_sanitize/text_sanitize_line right before it is drawn.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "console.h"
#include "console_app.h"
#include "console_qr.h"
#include "format.h"
#include "sanitize.h"
#include "status.h"
#include "ui/tui.h"
#include "util.h"

#define TICK_MS 1000
#define TYPING_EVERY_MS 10000
#define NPEND 32

enum mode { M_NORMAL, M_PROMPT, M_POPUP, M_PICKER };
enum prompt_kind { P_COMMAND, P_SEARCH };

struct pending {
	char  id[24];
	char *label;
	char *phone;
	char *text;       /* send: the text, restored on refusal */
};

struct tui {
	struct app app;
	const struct tui_opts *opts;
	struct layout lay;
	int    rows, cols;
	int    color;            /* 0 none (NO_COLOR or mono), 8, 256 */
	unsigned focus;          /* KC_LIST, KC_CONV, KC_COMPOSER */
	enum mode mode;
	enum prompt_kind pkind;
	struct composer prompt;
	/* list */
	int    fstatus;          /* -1 any */
	char  *ftag;
	char  *search;
	long   sel, top, total;
	char  *sel_phone;
	struct cache_chat *rows_v;
	size_t nrows;
	/* conversation */
	int    scroll;           /* lines up from the newest */
	int    conv_lines;       /* lines the last paint had */
	int    unread_line;      /* line index of the first unread, -1 */
	/* composer */
	struct composer comp;
	char  *comp_phone;
	int64_t typing_sent;
	/* status line */
	char  *msg;
	int    msg_err;
	/* commands awaiting an answer */
	struct pending pend[NPEND];
	unsigned npend_next;
	/* popup (help, links) */
	char **popup;
	size_t npopup;
	int    popup_top;
	char  *popup_title;
	/* picker (canned replies / templates) */
	char **pick_names, **pick_bodies;
	size_t npick;
	int    pick_sel, pick_templates;
	struct composer pick_filter;
	int    dirty;
	int    painted;          /* paints so far */
	int64_t frame_ns;        /* a frame arrived and is not on screen yet */
	FILE  *bench;            /* WADESK_BENCH_FILE: paint timings */
	int    quit;
	int    exit_code;
	const char *quit_why;
};

static struct tui *g_tui;          /* for the fatal-signal handler only */
static volatile sig_atomic_t g_curses_on;

/* Colour pairs. */
enum {
	CP_NOTIFY = 1, CP_UNANSWERED, CP_RESPONDING, CP_RESPONDED, CP_TITLE, CP_BANNER,
	CP_DEMO, CP_DIM, CP_ERROR, CP_OK, CP_MONO,
};

static void tui_message(struct tui *t, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
tui_message(struct tui *t, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(t->msg);
	t->msg = xvasprintf(fmt, ap);
	va_end(ap);
	t->msg_err = err;
	t->dirty = 1;
}

/* ---- terminal ownership ------------------------------------------------ */

static void
term_restore(void)
{
	if (g_curses_on) {
		g_curses_on = 0;
		endwin();
	}
}

static void
fatal_signal(int sig)
{
	/* Not async-signal-safe in theory; in practice endwin() writes the
	 * reset sequences, which beats leaving the terminal raw. */
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
color_setup(struct tui *t)
{
	t->color = 0;
	const char *nc = getenv("NO_COLOR");
	if ((nc != NULL && *nc != '\0') || !has_colors())
		return;
	start_color();
	use_default_colors();
	t->color = COLORS >= 256 ? 256 : 8;
	int orange = t->color == 256 ? 208 : COLOR_YELLOW;
	init_pair(CP_NOTIFY, COLOR_RED, -1);
	init_pair(CP_UNANSWERED, (short)orange, -1);
	init_pair(CP_RESPONDING, COLOR_CYAN, -1);
	init_pair(CP_RESPONDED, COLOR_GREEN, -1);
	init_pair(CP_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(CP_BANNER, COLOR_WHITE, COLOR_RED);
	init_pair(CP_DEMO, COLOR_BLACK, COLOR_YELLOW);
	init_pair(CP_DIM, t->color == 256 ? 244 : COLOR_BLUE, -1);
	init_pair(CP_ERROR, COLOR_RED, -1);
	init_pair(CP_OK, COLOR_GREEN, -1);
	init_pair(CP_MONO, t->color == 256 ? 180 : COLOR_MAGENTA, -1);
}

static attr_t
pair(const struct tui *t, int p)
{
	return t->color ? COLOR_PAIR(p) : 0;
}

static attr_t
status_attr(const struct tui *t, int st)
{
	static const int pairs[] = { CP_NOTIFY, CP_UNANSWERED, CP_RESPONDING, CP_RESPONDED };
	attr_t a = st == CHAT_NOTIFYING ? A_BOLD : 0;
	if (st >= 0 && st < 4)
		a |= pair(t, pairs[st]);
	return a;
}

/* ---- drawing helpers ------------------------------------------------- */

/* Draws sanitised UTF-8 s at (y, x), at most w columns; returns columns used. */
static int
put(int y, int x, int w, const char *s, attr_t a)
{
	if (w <= 0 || s == NULL)
		return 0;
	size_t n = text_fit(s, w);
	attrset(a);
	mvaddnstr(y, x, s, (int)n);
	attrset(A_NORMAL);
	return text_width_n(s, n);
}

/* As put() for untrusted text (one line). */
static int
put_untrusted(int y, int x, int w, const char *s, attr_t a)
{
	char *clean = text_sanitize_line(s, s != NULL ? strlen(s) : 0);
	int n = put(y, x, w, clean, a);
	free(clean);
	return n;
}

static void
fill(int y, int x, int w, attr_t a)
{
	attrset(a);
	for (int i = 0; i < w; i++)
		mvaddch(y, x + i, ' ');
	attrset(A_NORMAL);
}

/* ---- model access -------------------------------------------------- */

static struct cache_filter
list_filter(const struct tui *t)
{
	struct cache_filter f = { t->fstatus, t->ftag, t->search };
	return f;
}

static const struct cache_chat *
sel_chat(const struct tui *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->sel_phone != NULL && strcmp(t->rows_v[i].phone, t->sel_phone) == 0)
			return &t->rows_v[i];
	return NULL;
}

static void
set_sel_phone(struct tui *t, const char *phone)
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
	struct cache_filter f = list_filter(t);
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
		set_sel_phone(t, t->rows_v[t->sel - t->top].phone);
}

/* ---- painting ------------------------------------------------------- */

static void
paint_title(struct tui *t)
{
	struct rect r = t->lay.title;
	attr_t a = t->color ? pair(t, CP_TITLE) : A_REVERSE;
	fill(r.y, r.x, r.w, a);
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
	put_untrusted(r.y, r.x, r.w, b.data, a);
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
		a = t->color ? pair(t, CP_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
	} else if (s->state == SESS_EXPIRED) {
		text = xasprintf(" %s -- read-only. Connect with a new link: wadesk connect LINK ",
		    s->why != NULL ? s->why : "your link has expired");
		a = t->color ? pair(t, CP_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
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
		a = t->color ? pair(t, CP_BANNER) | A_BOLD : A_REVERSE | A_BOLD;
	} else if (t->opts->demo != NULL) {
		text = xasprintf(" %s ", t->opts->demo);
		a = t->color ? pair(t, CP_DEMO) : A_REVERSE;
	} else
		return;
	fill(r.y, r.x, r.w, a);
	put_untrusted(r.y, r.x, r.w, text, a);
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
		put(r.y + 1, r.x + 2, r.w - 3, t->app.cache == NULL ? "waiting for the hub..." :
		    t->total == 0 && (t->fstatus >= 0 || t->ftag || t->search) ?
		    "no chat matches the filter (F clears it)" : "no chats yet", pair(t, CP_DIM));
		return;
	}
	for (size_t i = 0; i < t->nrows; i++) {
		const struct cache_chat *c = &t->rows_v[i];
		int y = r.y + (int)i * 2;
		int selected = (long)i == t->sel - t->top;
		attr_t base = selected ? A_REVERSE | (t->focus == KC_LIST ? A_BOLD : 0) : 0;
		fill(y, r.x, r.w, base);
		fill(y + 1, r.x, r.w, base);
		int x = r.x;
		x += put(y, x, 2, status_symbol((enum chat_status)c->status),
		    base | status_attr(t, c->status));
		x += put(y, x, 1, " ", base);
		char age[8], right[32];
		console_age(c->last_time, now, age);
		if (c->unread > 0)
			snprintf(right, sizeof right, " (%d) %s ", c->unread, age);
		else
			snprintf(right, sizeof right, " %s ", age);
		int rw = text_width(right);
		int nw = r.w - (x - r.x) - rw;
		int used = put_untrusted(y, x, nw, *c->name ? c->name : c->phone, base | A_BOLD);
		if (*c->name && used + 2 < nw)
			put_untrusted(y, x + used + 1, nw - used - 1, c->phone, base | pair(t, CP_DIM));
		put(y, r.x + r.w - rw, rw, right, base | (c->unread ? A_BOLD : 0));
		/* Second line: status (with who responds), failure, tags, preview. */
		x = r.x + 2;
		struct buf b = {0};
		buf_puts(&b, status_name((enum chat_status)c->status));
		if (c->status == CHAT_RESPONDING && *c->responding)
			buf_printf(&b, " (%s)", c->responding);
		x += put_untrusted(y + 1, x, r.w - 2, b.data, base | status_attr(t, c->status));
		buf_free(&b);
		if (c->failed)
			x += put(y + 1, x, r.x + r.w - x, " FAILED", base | pair(t, CP_ERROR) | A_BOLD);
		if (*c->tags) {
			char *tags = xstrndup(c->tags + 1, strlen(c->tags) > 1 ? strlen(c->tags) - 2 : 0);
			for (char *p = tags; *p; p++)
				if (*p == ',')
					*p = ' ';
			x += put(y + 1, x, r.x + r.w - x, " #", base | pair(t, CP_DIM));
			x += put_untrusted(y + 1, x, r.x + r.w - x, tags, base | pair(t, CP_DIM));
			free(tags);
		}
		x += put(y + 1, x, r.x + r.w - x, "  ", base);
		put_untrusted(y + 1, x, r.x + r.w - x - 1, c->preview, base | pair(t, CP_DIM));
	}
}

static void
paint_customer(struct tui *t)
{
	struct rect r = t->lay.customer;
	const struct cache_chat *c = sel_chat(t);
	if (c == NULL)
		return;
	int64_t now = now_s();
	int x = r.x + 1;
	x += put_untrusted(r.y, x, r.w - 2, *c->name ? c->name : "(no name)", A_BOLD);
	x += put(r.y, x, r.x + r.w - x, "  +", 0);
	x += put_untrusted(r.y, x, r.x + r.w - x, c->phone, 0);
	x += put(r.y, x, r.x + r.w - x, "  ", 0);
	struct buf b = {0};
	buf_printf(&b, "%s %s", status_symbol((enum chat_status)c->status),
	    status_name((enum chat_status)c->status));
	if (c->status == CHAT_RESPONDING && *c->responding)
		buf_printf(&b, " (%s)", c->responding);
	x += put_untrusted(r.y, x, r.x + r.w - x, b.data, status_attr(t, c->status));
	buf_free(&b);
	char age[8];
	char *oi = xasprintf("  %s  last inbound %s", c->opted_in ? "opted in" : "not opted in",
	    c->last_inbound ? console_age(c->last_inbound, now, age) : "never");
	put(r.y, x, r.x + r.w - x, oi, pair(t, CP_DIM));
	free(oi);
	/* Tags and note. */
	x = r.x + 1;
	x += put(r.y + 1, x, r.w, "tags: ", pair(t, CP_DIM));
	x += put_untrusted(r.y + 1, x, r.x + r.w - x, *c->tags ? c->tags : "-", 0);
	x += put(r.y + 1, x, r.x + r.w - x, "   note: ", pair(t, CP_DIM));
	put_untrusted(r.y + 1, x, r.x + r.w - x, *c->note ? c->note : "-", 0);
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
	put(r.y + 2, r.x + 1, r.w - 2, line, closed ? pair(t, CP_ERROR) | A_BOLD : pair(t, CP_OK));
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
		a |= pair(t, CP_MONO);
	return a;
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
			cline_push(&v, &k, &cap, xstrdup("-- unread --"), pair(t, CP_NOTIFY), 0);
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
			ha = strcmp(st, "failed") == 0 ? pair(t, CP_ERROR) | A_BOLD : pair(t, CP_DIM);
		}
		if (strcmp(m[i].type, "text") != 0) {
			char *x = xasprintf("%s  (%s)", who, m[i].type);
			free(who);
			who = x;
		}
		char *clean = text_sanitize_line(who, strlen(who));
		free(who);
		cline_push(&v, &k, &cap, clean, ha, m[i].out ? 2 : 0);
		/* Body: sanitised, formatting parsed, wrapped. */
		char *body = text_sanitize(m[i].text, strlen(m[i].text));
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
	size_t nspans = l->nspans;
	if (l->spans == NULL || nspans == 0) {
		put(y, x + l->indent, w - l->indent, l->text, l->attr);
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
		cx += put(y, cx, end - cx, seg, l->attr | fmt_attr(t, flags));
		free(seg);
		pos += run;
	}
}

static void
paint_conv(struct tui *t)
{
	struct rect r = t->lay.conv;
	const struct cache_chat *c = sel_chat(t);
	attrset(pair(t, CP_DIM));
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
		put(r.y, r.x + r.w - 22, 21, " -- more below (G) -- ", pair(t, CP_DIM));
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
	const struct cache_chat *c = sel_chat(t);
	attrset(pair(t, CP_DIM));
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
		a = pair(t, CP_ERROR) | A_BOLD;
	} else if (session_check_limits(&t->app.sess, c->phone, now, 0, &v) != 0) {
		char *why = limits_describe(&v, c->phone);
		hint = xasprintf(" refused (%s): %s ", v.code, why);
		free(why);
		a = pair(t, CP_ERROR) | A_BOLD;
	} else if (d.result == SEND_TEMPLATE) {
		hint = xasprintf(" sends as template '%s' ",
		    t->app.sess.templates[d.template_index].name);
		a = pair(t, CP_UNANSWERED);
	} else if (d.result == SEND_REFUSED) {
		hint = xstrdup(" window closed: only an approved template can be sent (Tab lists them) ");
		a = pair(t, CP_UNANSWERED) | A_BOLD;
	} else {
		hint = xstrdup(composer_empty(&t->comp) ? " session message (r to reply, c canned) " :
		    " sends as a session message (Enter) ");
		a = pair(t, CP_OK);
	}
	decision_release(&d);
	put(r.y, r.x + 1, r.w - 2, hint, a);
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
	put(r.y, r.x, 2, t->focus == KC_COMPOSER ? "> " : "  ", A_BOLD);
	if (t->comp.len == 0 && t->focus != KC_COMPOSER) {
		put(r.y, r.x + 2, r.w - 2, "r: reply   c: canned reply   ?: help", pair(t, CP_DIM));
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
		put(r.y + (int)(i - first), r.x + 2, r.w - 3, line, 0);
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
	fill(r.y, 0, t->cols, 0);
	if (t->mode == M_PROMPT) {
		const char *label = t->pkind == P_COMMAND ? ":" : "search: ";
		int x = put(r.y, 0, t->cols, label, A_BOLD);
		char *clean = text_sanitize_line(composer_text(&t->prompt), t->prompt.len);
		put(r.y, x, t->cols - x, clean, 0);
		*cy = r.y;
		*cx = x + console_width(composer_text(&t->prompt), t->prompt.cursor);
		free(clean);
		return;
	}
	if (t->msg != NULL)
		put_untrusted(r.y, 1, t->cols - 2, t->msg, t->msg_err ? pair(t, CP_ERROR) | A_BOLD : 0);
	else
		put(r.y, 1, t->cols - 2, "?:help  j/k:chats  n:next unanswered  r:reply  c:canned  "
		    "t:tag  N:note  e:name  /:search  f:filter  b:BRB  ::command  q:quit", pair(t, CP_DIM));
}

static void
paint_popup(struct tui *t)
{
	int h = t->rows - 4, w = t->cols - 6;
	int y0 = 2, x0 = 3;
	for (int y = y0; y < y0 + h; y++)
		fill(y, x0, w, 0);
	attrset(A_BOLD);
	mvhline(y0, x0, ACS_HLINE, w);
	mvhline(y0 + h - 1, x0, ACS_HLINE, w);
	attrset(A_NORMAL);
	put(y0, x0 + 2, w - 4, t->popup_title, A_BOLD);
	put(y0 + h - 1, x0 + 2, w - 4, " Esc/q closes, j/k scroll ", A_BOLD);
	for (int i = 0; i < h - 2 && t->popup_top + i < (int)t->npopup; i++)
		put(y0 + 1 + i, x0 + 2, w - 4, t->popup[t->popup_top + i], 0);
}

static void
paint_picker(struct tui *t, int *cy, int *cx)
{
	int h = t->rows / 2, w = t->cols * 2 / 3;
	int y0 = t->rows / 4, x0 = t->cols / 6;
	for (int y = y0; y < y0 + h; y++)
		fill(y, x0, w, A_REVERSE);
	char *title = xasprintf(" %s: type to filter, Enter picks, Esc cancels ",
	    t->pick_templates ? "Templates" : "Canned replies");
	put(y0, x0 + 1, w - 2, title, A_REVERSE | A_BOLD);
	free(title);
	int x = put(y0 + 1, x0 + 1, w - 2, "> ", A_REVERSE);
	put(y0 + 1, x0 + 1 + x, w - 3 - x, composer_text(&t->pick_filter), A_REVERSE);
	*cy = y0 + 1;
	*cx = x0 + 1 + x + console_width(composer_text(&t->pick_filter), t->pick_filter.cursor);
	int row = 0, shown = 0;
	for (size_t i = 0; i < t->npick && row < h - 3; i++) {
		if (t->pick_filter.len > 0 && console_fuzzy(composer_text(&t->pick_filter),
		    t->pick_names[i]) < 0 && console_fuzzy(composer_text(&t->pick_filter),
		    t->pick_bodies[i]) < 0)
			continue;
		attr_t a = shown == t->pick_sel ? A_BOLD : A_REVERSE;
		fill(y0 + 2 + row, x0, w, a);
		char *line = xasprintf(" %-16s %s", t->pick_names[i], t->pick_bodies[i]);
		put_untrusted(y0 + 2 + row, x0 + 1, w - 2, line, a);
		free(line);
		row++;
		shown++;
	}
	if (shown == 0)
		put(y0 + 2, x0 + 2, w - 4, t->npick == 0 ? "(none defined)" : "(no match)", A_REVERSE);
}

/* Benchmarks: when the first full paint reached the terminal and how long
 * an event took to get on screen (CLOCK_MONOTONIC, shared with the
 * benchmark process), and the RSS then. */
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
		fprintf(t->bench, "event %lld\n", (long long)(now - t->frame_ns));
		t->frame_ns = 0;
	}
	fflush(t->bench);
}

static void
paint(struct tui *t)
{
	getmaxyx(stdscr, t->rows, t->cols);
	struct wrap_line *wl;
	size_t cl = console_wrap(composer_text(&t->comp), t->cols > 60 ? t->cols * 3 / 5 - 3 : t->cols - 3, &wl);
	free(wl);
	int banner = t->opts->demo != NULL || t->app.sess.state != SESS_READY;
	console_layout(t->cols, t->rows, banner, (int)cl, &t->lay);
	erase();
	if (t->lay.too_small) {
		put(0, 0, t->cols, "too small: 40x10 at least", A_BOLD);
		refresh();
		return;
	}
	list_reload(t);
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
	t->dirty = 0;
	bench_note(t);
}

/* ---- pending commands -------------------------------------------- */

static void
pend_add(struct tui *t, const char *id, const char *label, const char *phone, const char *text)
{
	if (id == NULL) {
		tui_message(t, 1, "%s: not connected to the hub (read-only)", label);
		return;
	}
	struct pending *p = &t->pend[t->npend_next++ % NPEND];
	free(p->label);
	free(p->phone);
	free(p->text);
	snprintf(p->id, sizeof p->id, "%s", id);
	p->label = xstrdup(label);
	p->phone = xstrdup(phone);
	p->text = xstrdup(text);
}

static struct pending *
pend_find(struct tui *t, const char *id)
{
	for (int i = 0; i < NPEND && id != NULL; i++)
		if (t->pend[i].label != NULL && strcmp(t->pend[i].id, id) == 0)
			return &t->pend[i];
	return NULL;
}

static void
popup_open(struct tui *t, const char *title, char **lines, size_t n)
{
	console_lines_free(t->popup, t->npopup);
	free(t->popup_title);
	t->popup = lines;
	t->npopup = n;
	t->popup_top = 0;
	t->popup_title = xasprintf(" %s ", title);
	t->mode = M_POPUP;
	t->dirty = 1;
}

/* The rotate answer: links and their QR codes side by side. */
static void
show_links(struct tui *t, const struct proto_links *l)
{
	const char *names[] = { "agent", "supervisor", "admin" };
	const char *links[] = { l->agent, l->supervisor, l->admin };
	size_t cap = 64, n = 0;
	char **v = xmalloc(cap * sizeof *v);
	v[n++] = xstrdup("Every link has changed; every other console was disconnected.");
	v[n++] = xstrdup("Give each person the link of their role:");
	v[n++] = xstrdup("");
	for (int i = 0; i < 3; i++)
		v[n++] = xasprintf("%-11s %s", names[i], links[i] != NULL ? links[i] : "");
	if (l->webhook != NULL)
		v[n++] = xasprintf("%-11s %s", "webhook", l->webhook);
	v[n++] = xstrdup("");
	char **qr[3] = { NULL, NULL, NULL };
	size_t qn[3] = { 0, 0, 0 };
	int qw[3] = { 0, 0, 0 };
	size_t rows = 0;
	for (int i = 0; i < 3; i++) {
		if (links[i] != NULL)
			qr[i] = console_qr_lines(links[i], &qn[i], &qw[i]);
		if (qn[i] > rows)
			rows = qn[i];
	}
	int total = qw[0] + qw[1] + qw[2] + 6;
	if (total > t->cols - 10) {
		/* Too wide side by side: one under the other. */
		for (int i = 0; i < 3; i++) {
			if (n + qn[i] + 2 >= cap)
				v = xrealloc(v, (cap = n + qn[i] + 64) * sizeof *v);
			v[n++] = xstrdup(names[i]);
			for (size_t r = 0; r < qn[i]; r++)
				v[n++] = xstrdup(qr[i][r]);
			v[n++] = xstrdup("");
		}
		rows = 0;
	} else {
		struct buf hdr = {0};
		for (int i = 0; i < 3; i++)
			buf_printf(&hdr, "%-*s  ", qw[i], names[i]);
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof *v);
		v[n++] = buf_steal(&hdr);
	}
	for (size_t r = 0; r < rows; r++) {
		struct buf b = {0};
		for (int i = 0; i < 3; i++) {
			if (r < qn[i])
				buf_puts(&b, qr[i][r]);
			else
				for (int k = 0; k < qw[i]; k++)
					buf_putc(&b, ' ');
			buf_puts(&b, "  ");
		}
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof *v);
		v[n++] = buf_steal(&b);
	}
	for (int i = 0; i < 3; i++)
		console_lines_free(qr[i], qn[i]);
	popup_open(t, "Refresh access: new links", v, n);
}

/* ---- app hooks ------------------------------------------------------ */

static void
h_changed(struct app *a, unsigned what, const char *phone)
{
	struct tui *t = a->ui;
	(void)what;
	(void)phone;
	t->dirty = 1;
}

static void
h_notify(struct app *a, const char *phone, const char *name)
{
	struct tui *t = a->ui;
	beep();
	const char *how = getenv("WADESK_NOTIFY");
	if (how != NULL && (strcmp(how, "osc9") == 0 || strcmp(how, "osc777") == 0)) {
		char *who = text_sanitize_line(name != NULL && *name ? name : phone,
		    strlen(name != NULL && *name ? name : phone));
		/* The notification text is ours plus a sanitised name: no control
		 * character can end the sequence early. */
		if (strcmp(how, "osc9") == 0)
			printf("\033]9;wadesk: %s needs an answer\a", who);
		else
			printf("\033]777;notify;wadesk;%s needs an answer\a", who);
		fflush(stdout);
		free(who);
	}
	t->dirty = 1;
}

static void
h_reply(struct app *a, const char *id, const struct proto_msg *m)
{
	struct tui *t = a->ui;
	struct pending *p = pend_find(t, id);
	const char *label = p != NULL ? p->label : "command";
	if (m->type == PROTO_ERROR) {
		tui_message(t, 1, "%s refused (%s): %s", label, m->code, m->sentence);
		if (p != NULL && p->text != NULL && composer_empty(&t->comp)) {
			composer_set(&t->comp, p->text);
			free(t->comp_phone);
			t->comp_phone = xstrdup(p->phone);
		}
	} else if (p != NULL && strcmp(label, "send") == 0)
		tui_message(t, 0, "sent to %s as a %s message (%s)", p->phone,
		    m->route != NULL ? m->route : "session", m->state != NULL ? m->state : "queued");
	else if (p != NULL && strcmp(label, "rotate") == 0) {
		show_links(t, &m->links);
		if (a->sess.role == PROTO_ROLE_ADMIN && m->links.admin != NULL)
			app_switch_token(a, m->links.admin);
		tui_message(t, 0, "access refreshed: every old link has expired");
	} else if (p != NULL && strcmp(label, "canned list") == 0) {
		/* handled by the picker */
	} else if (p != NULL && strcmp(label, "read") != 0 && strcmp(label, "typing") != 0)
		tui_message(t, 0, "%s: done", label);
	if (p != NULL) {
		free(p->label);
		free(p->phone);
		free(p->text);
		p->label = p->phone = p->text = NULL;
	}
	t->dirty = 1;
}

/* ---- actions ---------------------------------------------------------- */

static void
select_index(struct tui *t, long i)
{
	if (i < 0 || i >= t->total || t->app.cache == NULL)
		return;
	struct cache_filter f = list_filter(t);
	struct cache_chat *v;
	size_t n;
	if (cache_chat_page(t->app.cache, &f, i, 1, &v, &n, NULL) == 0 && n == 1) {
		t->sel = i;
		set_sel_phone(t, v[0].phone);
	}
	if (n > 0)
		cache_chats_free(v, n);
	t->dirty = 1;
}

/* Next chat needing an answer (Notifying agent or Unanswered) after the
 * selection, wrapping around; pages through the list a screen at a time. */
static void
next_unanswered(struct tui *t)
{
	if (t->app.cache == NULL || t->total == 0)
		return;
	struct cache_filter f = list_filter(t);
	long k = 0;
	while (k < t->total) {
		long from = (t->sel + 1 + k) % t->total;
		long want = t->total - from < 64 ? t->total - from : 64;   /* never past the end */
		struct cache_chat *v;
		size_t n;
		if (cache_chat_page(t->app.cache, &f, from, (int)want, &v, &n, NULL) != 0 || n == 0)
			return;
		for (size_t i = 0; i < n; i++)
			if (v[i].status == CHAT_NOTIFYING || v[i].status == CHAT_UNANSWERED) {
				t->sel = from + (long)i;
				set_sel_phone(t, v[i].phone);
				cache_chats_free(v, n);
				t->dirty = 1;
				return;
			}
		cache_chats_free(v, n);
		k += (long)n;
	}
	tui_message(t, 0, "no chat needs an answer");
}

static void
prompt_open(struct tui *t, enum prompt_kind k, const char *text)
{
	t->mode = M_PROMPT;
	t->pkind = k;
	composer_set(&t->prompt, text != NULL ? text : "");
	t->dirty = 1;
}

static void
picker_open(struct tui *t, int templates)
{
	cache_strv_free(t->pick_names, t->npick);
	cache_strv_free(t->pick_bodies, t->npick);
	t->pick_names = t->pick_bodies = NULL;
	t->npick = 0;
	if (t->app.cache == NULL)
		return;
	if (templates) {
		char **ids;
		if (cache_template_list(t->app.cache, &ids, &t->pick_names, &t->pick_bodies,
		    &t->npick, NULL) == 0)
			cache_strv_free(ids, t->npick);
	} else
		cache_canned_list(t->app.cache, &t->pick_names, &t->pick_bodies, &t->npick, NULL);
	t->pick_templates = templates;
	t->pick_sel = 0;
	composer_clear(&t->pick_filter);
	t->mode = M_PICKER;
	t->dirty = 1;
}

static void
focus_composer(struct tui *t)
{
	const struct cache_chat *c = sel_chat(t);
	if (c == NULL) {
		tui_message(t, 1, "no chat selected");
		return;
	}
	if (t->comp_phone == NULL || strcmp(t->comp_phone, c->phone) != 0) {
		composer_clear(&t->comp);
		free(t->comp_phone);
		t->comp_phone = xstrdup(c->phone);
	}
	t->focus = KC_COMPOSER;
	t->dirty = 1;
	/* A closed window turns the composer to templates before a word. */
	if (composer_empty(&t->comp) && !contact_is_active(c->last_inbound, now_s())) {
		if (t->app.sess.template_messaging && c->opted_in)
			picker_open(t, 1);
		else
			tui_message(t, 1, "the 24 h window is closed%s: nothing can be sent until the customer writes",
			    t->app.sess.template_messaging ? " and the customer has not opted in" : "");
	}
}

static void
do_send(struct tui *t)
{
	const struct cache_chat *c = sel_chat(t);
	if (c == NULL || composer_empty(&t->comp))
		return;
	const char *text = composer_text(&t->comp);
	int64_t now = now_s();
	struct send_decision d;
	session_decide(&t->app.sess, c->phone, text, now, &d);
	if (d.result == SEND_REFUSED) {
		tui_message(t, 1, "refused (%s): %s", d.code, d.reason);
		decision_release(&d);
		return;
	}
	decision_release(&d);
	struct limit_verdict v;
	if (session_check_limits(&t->app.sess, c->phone, now, 1, &v) != 0) {
		char *why = limits_describe(&v, c->phone);
		tui_message(t, 1, "refused (%s): %s", v.code, why);
		free(why);
		return;
	}
	const char *id = session_send_text(&t->app.sess, c->phone, text);
	pend_add(t, id, "send", c->phone, text);
	if (id != NULL) {
		composer_clear(&t->comp);
		t->scroll = 0;
		tui_message(t, 0, "sending...");
	}
}

static void
run_editor(struct tui *t)
{
	char path[] = "/tmp/wadesk-reply.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		tui_message(t, 1, "cannot create a temporary file: %s", strerror(errno));
		return;
	}
	const char *text = composer_text(&t->comp);
	if (write(fd, text, strlen(text)) < 0)
		log_warn("cannot write '%s': %s", path, strerror(errno));
	close(fd);
	const char *ed = getenv("VISUAL") != NULL ? getenv("VISUAL") : getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	def_prog_mode();
	endwin();
	pid_t pid = fork();
	if (pid == 0) {
		execlp("sh", "sh", "-c", "exec $0 \"$1\"", ed, path, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	reset_prog_mode();
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		struct buf b = {0};
		char chunk[4096];
		size_t k;
		while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&b, chunk, k);
		fclose(f);
		while (b.len > 0 && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		char *clean = text_sanitize(b.data != NULL ? b.data : "", b.len);
		composer_set(&t->comp, clean);
		free(clean);
		buf_free(&b);
	}
	unlink(path);
	clearok(stdscr, TRUE);
	t->dirty = 1;
}

static void
run_command(struct tui *t, const char *line)
{
	struct cmdline c;
	const char *why;
	if (cmdline_parse(line, &c, &why) != 0) {
		tui_message(t, 1, "%s", why);
		return;
	}
	const struct cache_chat *ch = sel_chat(t);
	const char *phone = ch != NULL ? ch->phone : NULL;
	struct session *s = &t->app.sess;
	const char *id = NULL;
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	switch (c.verb) {
	case CMD_TAG:
	case CMD_UNTAG:
	case CMD_NOTE:
	case CMD_NAME:
		if (phone == NULL) {
			tui_message(t, 1, "no chat selected");
			break;
		}
		{
			static const enum proto_type types[] = {
				[CMD_TAG] = PROTO_TAG, [CMD_UNTAG] = PROTO_UNTAG,
				[CMD_NOTE] = PROTO_NOTE, [CMD_NAME] = PROTO_CONTACT_NAME,
			};
			static const char *const labels[] = {
				[CMD_TAG] = "tag", [CMD_UNTAG] = "untag", [CMD_NOTE] = "note",
				[CMD_NAME] = "name",
			};
			id = session_simple(s, types[c.verb], phone, c.arg1);
			pend_add(t, id, labels[c.verb], phone, NULL);
		}
		break;
	case CMD_BRB:
		id = session_simple(s, strcmp(c.arg1, "on") == 0 ? PROTO_BRB_ON : PROTO_BRB_OFF,
		    NULL, NULL);
		pend_add(t, id, strcmp(c.arg1, "on") == 0 ? "brb on" : "brb off", NULL, NULL);
		break;
	case CMD_CANNED_ADD:
		m.type = PROTO_CANNED_ADD;
		m.name = c.arg1;
		m.text = c.arg2;
		pend_add(t, session_command(s, &m), "canned add", NULL, NULL);
		break;
	case CMD_CANNED_RM:
		id = session_simple(s, PROTO_CANNED_RM, NULL, c.arg1);
		pend_add(t, id, "canned rm", NULL, NULL);
		break;
	case CMD_ROTATE:
		if (s->role != PROTO_ROLE_ADMIN) {
			tui_message(t, 1, "rotate: only an admin may refresh access");
			break;
		}
		m.type = PROTO_ACCESS_ROTATE;
		pend_add(t, session_command(s, &m), "rotate", NULL, NULL);
		break;
	case CMD_QUIT:
		t->quit = 1;
		break;
	case CMD_FILTER: {
		enum chat_status st;
		if (c.arg1 == NULL || *c.arg1 == '\0') {
			t->fstatus = -1;
			free(t->ftag);
			t->ftag = NULL;
		} else if (strncmp(c.arg1, "tag ", 4) == 0 || c.arg1[0] == '#') {
			free(t->ftag);
			t->ftag = xstrdup(c.arg1[0] == '#' ? c.arg1 + 1 : c.arg1 + 4);
		} else if (status_parse(c.arg1, &st) == 0)
			t->fstatus = (int)st;
		else
			tui_message(t, 1, "filter: a status (notifying, unanswered, responding, responded) or #tag");
		t->dirty = 1;
		break;
	}
	case CMD_HELP: {
		char **lines;
		size_t n;
		console_help(&lines, &n);
		popup_open(t, "Keys", lines, n);
		break;
	}
	}
	cmdline_release(&c);
}

static void
mark_read_if_shown(struct tui *t)
{
	const struct cache_chat *c = sel_chat(t);
	if (c != NULL && c->unread > 0)
		session_mark_read(&t->app.sess, c->phone);
}

static void
act(struct tui *t, enum action a)
{
	const struct cache_chat *c = sel_chat(t);
	struct buf b = {0};
	switch (a) {
	case ACT_NONE:
		break;
	case ACT_QUIT:
		t->quit = 1;
		break;
	case ACT_HELP: {
		char **lines;
		size_t n;
		console_help(&lines, &n);
		popup_open(t, "Keys (generated from the key table)", lines, n);
		break;
	}
	case ACT_COMMAND:
		prompt_open(t, P_COMMAND, "");
		break;
	case ACT_REDRAW:
		clearok(stdscr, TRUE);
		break;
	case ACT_NEXT_CHAT:
		select_index(t, t->sel + 1);
		break;
	case ACT_PREV_CHAT:
		select_index(t, t->sel - 1);
		break;
	case ACT_FIRST_CHAT:
		select_index(t, 0);
		break;
	case ACT_LAST_CHAT:
		select_index(t, t->total - 1);
		break;
	case ACT_NEXT_UNANSWERED:
		next_unanswered(t);
		break;
	case ACT_REPLY:
		focus_composer(t);
		break;
	case ACT_NOTE:
		buf_printf(&b, "note %s", c != NULL ? c->note : "");
		prompt_open(t, P_COMMAND, b.data);
		break;
	case ACT_TAG:
		prompt_open(t, P_COMMAND, "tag ");
		break;
	case ACT_NAME:
		buf_printf(&b, "name %s", c != NULL ? c->name : "");
		prompt_open(t, P_COMMAND, b.data);
		break;
	case ACT_CANNED:
		if (c != NULL) {
			focus_composer(t);
			if (t->mode == M_NORMAL)
				picker_open(t, 0);
		}
		break;
	case ACT_CANNED_PICK:
		picker_open(t, c != NULL && !contact_is_active(c->last_inbound, now_s()));
		break;
	case ACT_BRB:
		run_command(t, t->app.sess.brb ? "brb off" : "brb on");
		break;
	case ACT_SEARCH:
		prompt_open(t, P_SEARCH, t->search);
		break;
	case ACT_FILTER_STATUS:
		t->fstatus = t->fstatus >= CHAT_RESPONDED ? -1 : t->fstatus + 1;
		t->sel = 0;
		tui_message(t, 0, "filter: %s", t->fstatus < 0 ? "all chats" :
		    status_name((enum chat_status)t->fstatus));
		break;
	case ACT_FILTER_CLEAR:
		t->fstatus = -1;
		free(t->ftag);
		free(t->search);
		t->ftag = t->search = NULL;
		tui_message(t, 0, "filters cleared");
		break;
	case ACT_FOCUS_NEXT:
		t->focus = t->focus == KC_LIST ? KC_CONV : KC_LIST;
		if (t->focus == KC_CONV)
			mark_read_if_shown(t);
		break;
	case ACT_FOCUS_CONV:
		t->focus = KC_CONV;
		mark_read_if_shown(t);
		break;
	case ACT_FOCUS_LIST:
		t->focus = KC_LIST;
		break;
	case ACT_PAGE_UP:
		t->scroll += t->lay.conv.h > 4 ? t->lay.conv.h - 3 : 1;
		break;
	case ACT_PAGE_DOWN:
		t->scroll -= t->lay.conv.h > 4 ? t->lay.conv.h - 3 : 1;
		if (t->scroll < 0)
			t->scroll = 0;
		break;
	case ACT_FIRST_UNREAD:
		if (t->unread_line >= 0) {
			int h = t->lay.conv.h - 1;
			t->scroll = t->conv_lines - t->unread_line - h;
			if (t->scroll < 0)
				t->scroll = 0;
		} else
			tui_message(t, 0, "no unread message");
		break;
	case ACT_SCROLL_END:
		t->scroll = 0;
		break;
	case ACT_SEND:
		do_send(t);
		break;
	case ACT_NEWLINE:
		composer_insert(&t->comp, '\n');
		break;
	case ACT_EDITOR:
		run_editor(t);
		break;
	case ACT_LEAVE:
		t->focus = KC_LIST;
		break;
	case ACT__COUNT:
		break;
	}
	buf_free(&b);
	t->dirty = 1;
}

/* ---- input ------------------------------------------------------------- */

static int
translate(wint_t ch, int is_key)
{
	if (is_key) {
		static const struct { int curses; int key; } map[] = {
			{ KEY_UP, CK_UP }, { KEY_DOWN, CK_DOWN }, { KEY_LEFT, CK_LEFT },
			{ KEY_RIGHT, CK_RIGHT }, { KEY_HOME, CK_HOME }, { KEY_END, CK_END },
			{ KEY_PPAGE, CK_PGUP }, { KEY_NPAGE, CK_PGDN }, { KEY_BACKSPACE, CK_BACKSPACE },
			{ KEY_DC, CK_DELETE }, { KEY_ENTER, CK_ENTER }, { KEY_BTAB, CK_BTAB },
			{ KEY_RESIZE, CK_RESIZE }, { KEY_F(1), CK_F1 },
		};
		for (size_t i = 0; i < ARRAY_LEN(map); i++)
			if ((int)ch == map[i].curses)
				return map[i].key;
		return 0;
	}
	switch (ch) {
	case '\r': return CK_ENTER;
	case '\t': return CK_TAB;
	case 127: case 8: return CK_BACKSPACE;
	case 27: return CK_ESC;
	default: return (int)ch;
	}
}

/* Editing keys shared by the composer, the prompt and the picker filter. */
static int
edit_key(struct composer *c, int key)
{
	switch (key) {
	case CK_BACKSPACE: composer_backspace(c); return 1;
	case CK_DELETE: composer_delete(c); return 1;
	case CK_LEFT: composer_left(c); return 1;
	case CK_RIGHT: composer_right(c); return 1;
	case CK_HOME: case CK_CTRL('a'): composer_home(c); return 1;
	case CK_END: composer_end(c); return 1;
	case CK_CTRL('u'): composer_clear(c); return 1;
	default:
		if (key >= 32 && key < CK_BASE && key != 127) {
			composer_insert(c, (uint32_t)key);
			return 1;
		}
		return 0;
	}
}

static void
maybe_typing(struct tui *t)
{
	int64_t now = mono_ms();
	if (t->comp_phone == NULL || composer_empty(&t->comp))
		return;
	if (t->typing_sent != 0 && now - t->typing_sent < TYPING_EVERY_MS)
		return;
	t->typing_sent = now;
	const char *id = session_simple(&t->app.sess, PROTO_TYPING, t->comp_phone, NULL);
	if (id != NULL)
		pend_add(t, id, "typing", t->comp_phone, NULL);
}

static void
key_prompt(struct tui *t, int key)
{
	if (key == CK_ESC || key == CK_CTRL('g')) {
		t->mode = M_NORMAL;
		if (t->pkind == P_SEARCH) {
			free(t->search);
			t->search = NULL;
		}
	} else if (key == CK_ENTER) {
		t->mode = M_NORMAL;
		if (t->pkind == P_COMMAND) {
			char *line = xstrdup(composer_text(&t->prompt));
			run_command(t, line);
			free(line);
		}
	} else if (edit_key(&t->prompt, key) && t->pkind == P_SEARCH) {
		free(t->search);
		t->search = t->prompt.len > 0 ? xstrdup(composer_text(&t->prompt)) : NULL;
		t->sel = 0;
		t->top = 0;
		free(t->sel_phone);
		t->sel_phone = NULL;
	}
	t->dirty = 1;
}

static void
key_picker(struct tui *t, int key)
{
	if (key == CK_ESC) {
		t->mode = M_NORMAL;
	} else if (key == CK_UP || key == CK_CTRL('p')) {
		if (t->pick_sel > 0)
			t->pick_sel--;
	} else if (key == CK_DOWN || key == CK_CTRL('n') || key == CK_TAB) {
		t->pick_sel++;
	} else if (key == CK_ENTER) {
		int shown = 0;
		const struct cache_chat *c = sel_chat(t);
		for (size_t i = 0; i < t->npick; i++) {
			if (t->pick_filter.len > 0 && console_fuzzy(composer_text(&t->pick_filter),
			    t->pick_names[i]) < 0 && console_fuzzy(composer_text(&t->pick_filter),
			    t->pick_bodies[i]) < 0)
				continue;
			if (shown++ != t->pick_sel)
				continue;
			char *text = console_fill_canned(t->pick_bodies[i], c != NULL ? c->name : NULL,
			    c != NULL ? c->phone : NULL);
			char *clean = text_sanitize(text, strlen(text));
			composer_insert_str(&t->comp, clean);
			free(clean);
			free(text);
			break;
		}
		t->mode = M_NORMAL;
		t->focus = KC_COMPOSER;
	} else
		edit_key(&t->pick_filter, key);
	t->dirty = 1;
}

static void
key_popup(struct tui *t, int key)
{
	if (key == CK_ESC || key == 'q' || key == CK_ENTER || key == '?')
		t->mode = M_NORMAL;
	else if (key == 'j' || key == CK_DOWN)
		t->popup_top++;
	else if (key == 'k' || key == CK_UP)
		t->popup_top--;
	else if (key == CK_PGDN || key == ' ')
		t->popup_top += t->rows / 2;
	else if (key == CK_PGUP)
		t->popup_top -= t->rows / 2;
	if (t->popup_top > (int)t->npopup - 1)
		t->popup_top = (int)t->npopup - 1;
	if (t->popup_top < 0)
		t->popup_top = 0;
	t->dirty = 1;
}

static void
mouse(struct tui *t)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return;
	struct rect l = t->lay.list, cv = t->lay.conv, cp = t->lay.composer;
	int in_list = ev.y >= l.y && ev.y < l.y + l.h && ev.x >= l.x && ev.x < l.x + l.w;
	int in_conv = ev.y >= cv.y && ev.y < cv.y + cv.h && ev.x >= cv.x && ev.x < cv.x + cv.w;
	if (ev.bstate & BUTTON4_PRESSED) {
		if (in_list)
			act(t, ACT_PREV_CHAT);
		else
			t->scroll += 3;
	} else if (ev.bstate & BUTTON5_PRESSED) {
		if (in_list)
			act(t, ACT_NEXT_CHAT);
		else if ((t->scroll -= 3) < 0)
			t->scroll = 0;
	} else if (ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED)) {
		if (in_list) {
			t->focus = KC_LIST;
			select_index(t, t->top + (ev.y - l.y) / 2);
		} else if (in_conv) {
			t->focus = KC_CONV;
			mark_read_if_shown(t);
		} else if (ev.y >= cp.y && ev.y < cp.y + cp.h && ev.x >= cp.x)
			focus_composer(t);
	}
	t->dirty = 1;
}

static void
key(struct tui *t, int k)
{
	if (k == CK_CTRL('c')) {
		t->quit = 1;
		return;
	}
	if (k == CK_RESIZE) {
		t->dirty = 1;
		return;
	}
	if (t->msg != NULL && t->mode == M_NORMAL && !t->msg_err) {
		free(t->msg);
		t->msg = NULL;
	}
	switch (t->mode) {
	case M_PROMPT:
		key_prompt(t, k);
		return;
	case M_PICKER:
		key_picker(t, k);
		return;
	case M_POPUP:
		key_popup(t, k);
		return;
	case M_NORMAL:
		break;
	}
	enum action a = console_key_action(k, (enum key_ctx)t->focus);
	if (a == ACT_CANNED_PICK && k == '/' && !composer_empty(&t->comp))
		a = ACT_NONE;           /* '/' opens the picker only in an empty reply */
	if (a != ACT_NONE) {
		if (t->msg_err) {
			free(t->msg);
			t->msg = NULL;
			t->msg_err = 0;
		}
		act(t, a);
		return;
	}
	if (t->focus == KC_COMPOSER) {
		if (k == CK_UP || k == CK_DOWN)
			return;
		if (edit_key(&t->comp, k)) {
			maybe_typing(t);
			t->dirty = 1;
		}
	}
}

static void
read_input(struct tui *t)
{
	wint_t ch;
	int r;
	while ((r = get_wch(&ch)) != ERR) {
		if (r == KEY_CODE_YES && ch == KEY_MOUSE) {
			mouse(t);
			continue;
		}
		int k = translate(ch, r == KEY_CODE_YES);
		if (k == CK_ESC) {
			/* Alt-Enter arrives as ESC CR. */
			wint_t nx;
			int r2 = get_wch(&nx);
			if (r2 == OK && nx == '\r')
				k = CK_ALT_ENTER;
			else if (r2 != ERR)
				unget_wch(nx);
		}
		if (k != 0)
			key(t, k);
		if (t->quit)
			break;
	}
}

static void
h_frame(struct app *a, const char *data, size_t len)
{
	struct tui *t = a->ui;
	(void)data;
	(void)len;
	if (t->bench != NULL && t->frame_ns == 0)
		t->frame_ns = mono_ns();
}

static void
h_fd(struct app *a, int fd)
{
	struct tui *t = a->ui;
	if (fd == 0) {
		read_input(t);
		/* A hung-up terminal reads as endless ERR with EOF: stop. */
		if (isatty(0) == 0) {
			t->quit = 1;
			t->quit_why = "the terminal went away";
		}
	} else if (t->opts->sigfd >= 0 && fd == t->opts->sigfd) {
		unsigned char sig;
		while (read(fd, &sig, 1) == 1) {
			const char *why = NULL;
			if (sig == SIGWINCH)
				t->dirty = 1;
			else if (t->opts->on_signal != NULL && t->opts->on_signal(sig, &why)) {
				t->quit = 1;
				t->quit_why = why;
			}
		}
	}
	if (t->quit)
		a->quit = 1;
}

static void
h_timer(struct app *a, int which)
{
	struct tui *t = a->ui;
	if (which == APP_T_TICK) {
		t->dirty = 1;
		client_timer(a->client, APP_T_TICK, TICK_MS);
	}
}

static void
tui_free(struct tui *t)
{
	app_release(&t->app);
	composer_release(&t->comp);
	composer_release(&t->prompt);
	composer_release(&t->pick_filter);
	cache_chats_free(t->rows_v, t->nrows);
	cache_strv_free(t->pick_names, t->npick);
	cache_strv_free(t->pick_bodies, t->npick);
	console_lines_free(t->popup, t->npopup);
	for (int i = 0; i < NPEND; i++) {
		free(t->pend[i].label);
		free(t->pend[i].phone);
		free(t->pend[i].text);
	}
	free(t->popup_title);
	free(t->ftag);
	free(t->search);
	free(t->sel_phone);
	free(t->comp_phone);
	free(t->msg);
}

/* stderr goes to a log file while curses owns the terminal. */
static int
log_to_file(void)
{
	char *dir = console_data_dir(), *cause = NULL;
	if (console_mkdirs(dir, &cause) != 0) {
		free(cause);
		free(dir);
		return -1;
	}
	char *path = xasprintf("%s/wadesk.log", dir);
	free(dir);
	int saved = dup(2);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(path);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	return saved;
}

int
tui_main(const char *link, const char *name, const struct tui_opts *o)
{
	static const struct app_hooks hooks = {
		h_changed, h_notify, h_reply, h_fd, h_timer, h_frame,
	};
	struct tui *t = xcalloc(1, sizeof *t);
	int64_t st0 = mono_ns();
	t->opts = o;
	t->focus = KC_LIST;
	t->fstatus = -1;
	t->unread_line = -1;
	char *cause = NULL;
	if (app_init(&t->app, link, name, &hooks, t, &cause) != 0) {
		fprintf(stderr, "wadesk: %s\n", cause);
		free(cause);
		free(t);
		return 3;
	}
	t->app.reconnect = 1;
	const char *bench = getenv("WADESK_BENCH_FILE");
	if (bench != NULL && *bench != '\0')
		t->bench = fopen(bench, "a");
	t->app.remember = o->remember;
	int64_t st1 = mono_ns();
	int saved_err = log_to_file();
	setlocale(LC_ALL, "");
	g_tui = t;
	static const int fatal[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL };
	for (size_t i = 0; i < ARRAY_LEN(fatal); i++)
		signal(fatal[i], fatal_signal);
	atexit(term_restore);
	set_escdelay(25);
	if (initscr() == NULL) {
		fprintf(stderr, "wadesk: cannot set up the terminal\n");
		return 1;
	}
	g_curses_on = 1;
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	color_setup(t);
	int64_t st2 = mono_ns();
	/* Paint from the cache before the network exists. */
	paint(t);
	if (t->bench != NULL)
		fprintf(t->bench, "stages tui %lld app %lld curses %lld paint %lld\n", (long long)st0,
		    (long long)(st1 - st0), (long long)(st2 - st1), (long long)(mono_ns() - st2));
	if (app_start(&t->app, &cause) != 0) {
		term_restore();
		fprintf(stderr, "wadesk: %s\n", cause);
		free(cause);
		tui_free(t);
		free(t);
		return 1;
	}
	if (client_watch_fd(t->app.client, 0, &cause) != 0 ||
	    (o->sigfd >= 0 && client_watch_fd(t->app.client, o->sigfd, &cause) != 0)) {
		log_warn("%s", cause);
		free(cause);
	}
	client_timer(t->app.client, APP_T_TICK, TICK_MS);
	app_connect(&t->app);
	while (!t->quit && !t->app.quit) {
		if (client_service(t->app.client) != 0)
			break;
		read_input(t);       /* KEY_RESIZE after SIGWINCH interrupted poll */
		if (t->quit)
			break;
		if (t->dirty)
			paint(t);
	}
	term_restore();
	if (saved_err >= 0) {
		dup2(saved_err, 2);
		close(saved_err);
	}
	if (t->quit_why != NULL)
		fprintf(stderr, "wadesk: %s\n", t->quit_why);
	int code = t->exit_code;
	g_tui = NULL;
	if (t->bench != NULL)
		fclose(t->bench);
	tui_free(t);
	free(t);
	return code;
}
