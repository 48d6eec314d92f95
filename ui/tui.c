/*
 * tui.c — the curses console (see tui.h): terminal ownership and the loop.
 *
 * This file owns the terminal: it sets it up (UTF-8 locale, raw keys,
 * keypad, mouse, colours), restores it on every way out (normal exit,
 * fatal signal, lost terminal), routes stderr to a log while curses runs,
 * and runs the one loop: lws sleeps in poll(2) on the hub's socket, the
 * terminal and the signal pipe; whatever woke it is handled, then the
 * screen is repainted if anything is dirty.  It holds no rules: what a key
 * does comes from the key table (src/console.c), what a send becomes and
 * whether a limit allows it from the session, what a chat holds from the
 * cache, read one screenful at a time (tui_paint.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "console.h"
#include "console_app.h"
#include "sanitize.h"
#include "status.h"
#include "ui/preview.h"
#include "ui/tui_int.h"
#include "util.h"

static struct tui *g_tui;          /* for the fatal-signal handler only */
static volatile sig_atomic_t g_curses_on;

void
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

attr_t
tui_pair(const struct tui *t, int p)
{
	return t->color ? COLOR_PAIR(p) : 0;
}

attr_t
tui_status_attr(const struct tui *t, int st)
{
	static const int pairs[] = { CP_NOTIFY, CP_UNANSWERED, CP_RESPONDING, CP_RESPONDED };
	attr_t a = st == CHAT_NOTIFYING ? A_BOLD : 0;
	if (st >= 0 && st < 4)
		a |= tui_pair(t, pairs[st]);
	return a;
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
	struct pending *p = tui_pend_find(t, id);
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
		tui_show_links(t, &m->links);
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

static void
h_frame(struct app *a, const char *data, size_t len)
{
	struct tui *t = a->ui;
	(void)data;
	(void)len;
	if (t->bench != NULL && t->frame_ns == 0) {
		t->frame_ns = mono_ns();
		t->frame_cpu = bench_cpu_ns();
	}
}

static void
h_fd(struct app *a, int fd)
{
	struct tui *t = a->ui;
	if (fd == 0) {
		tui_read_input(t);
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
	tui_media_release(t);
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
	/* ncurses (6.x) flushes after every cursor motion until the screen has
	 * once been suspended and resumed: a paint went out as 40-odd small
	 * writes, each waking the terminal.  One endwin() + refresh() cycle
	 * now, on a blank screen, makes every later paint one buffered write. */
	endwin();
	refresh();
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	/* No keyboard polls in the middle of a refresh: paints are short. */
	typeahead(-1);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	color_setup(t);
	t->pv_mode = (int)preview_detect(NULL);
	int64_t st2 = mono_ns();
	/* Paint from the cache before the network exists. */
	tui_paint(t);
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
		tui_read_input(t);       /* KEY_RESIZE after SIGWINCH interrupted poll */
		if (t->quit)
			break;
		if (t->dirty)
			tui_paint(t);
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

