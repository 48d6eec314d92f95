/*
 * tui_input.c — keys, mouse and the hub's answers turned into actions
 * (see tui_int.h).
 *
 * A key is looked up in the one key table (src/console.c) for the focused
 * pane; the prompt, the picker and the popups have their own small
 * handlers; text keys go to the composer, which sends `typing` at most
 * every 10 s while the agent writes.  Commands sent to the hub are
 * remembered by id until their ack or error arrives.
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "console.h"
#include "console_app.h"
#include "console_qr.h"
#include "sanitize.h"
#include "status.h"
#include "ui/tui_int.h"
#include "util.h"

/* ---- pending commands -------------------------------------------- */

void
tui_pend_add(struct tui *t, const char *id, const char *label, const char *phone, const char *text)
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

struct pending *
tui_pend_find(struct tui *t, const char *id)
{
	for (int i = 0; i < NPEND && id != NULL; i++)
		if (t->pend[i].label != NULL && strcmp(t->pend[i].id, id) == 0)
			return &t->pend[i];
	return NULL;
}

void
tui_popup_open(struct tui *t, const char *title, char **lines, size_t n)
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
void
tui_show_links(struct tui *t, const struct proto_links *l)
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
	tui_popup_open(t, "Refresh access: new links", v, n);
}

/* ---- actions ---------------------------------------------------------- */

static void
select_index(struct tui *t, long i)
{
	if (i < 0 || i >= t->total || t->app.cache == NULL)
		return;
	struct cache_filter f = tui_list_filter(t);
	struct cache_chat *v;
	size_t n;
	if (cache_chat_page(t->app.cache, &f, i, 1, &v, &n, NULL) == 0 && n == 1) {
		t->sel = i;
		tui_set_sel_phone(t, v[0].phone);
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
	struct cache_filter f = tui_list_filter(t);
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
				tui_set_sel_phone(t, v[i].phone);
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
	const struct cache_chat *c = tui_sel_chat(t);
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
	const struct cache_chat *c = tui_sel_chat(t);
	if (c == NULL || composer_empty(&t->comp))
		return;
	const char *text = composer_text(&t->comp);
	/* ":attach PATH [caption]" typed in the composer attaches a file. */
	if (strncmp(text, ":attach ", 8) == 0) {
		struct cmdline cl;
		const char *why;
		if (cmdline_parse(text + 1, &cl, &why) != 0) {
			tui_message(t, 1, "%s", why);
			return;
		}
		tui_media_attach(t, cl.arg1, cl.arg2);
		cmdline_release(&cl);
		if (t->upload != NULL) {
			composer_clear(&t->comp);
			t->scroll = 0;
		}
		return;
	}
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
	tui_pend_add(t, id, "send", c->phone, text);
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
	t->npix_last = -1;       /* the screen is wiped: images again */
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
	const struct cache_chat *ch = tui_sel_chat(t);
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
			tui_pend_add(t, id, labels[c.verb], phone, NULL);
		}
		break;
	case CMD_BRB:
		id = session_simple(s, strcmp(c.arg1, "on") == 0 ? PROTO_BRB_ON : PROTO_BRB_OFF,
		    NULL, NULL);
		tui_pend_add(t, id, strcmp(c.arg1, "on") == 0 ? "brb on" : "brb off", NULL, NULL);
		break;
	case CMD_CANNED_ADD:
		m.type = PROTO_CANNED_ADD;
		m.name = c.arg1;
		m.text = c.arg2;
		tui_pend_add(t, session_command(s, &m), "canned add", NULL, NULL);
		break;
	case CMD_CANNED_RM:
		id = session_simple(s, PROTO_CANNED_RM, NULL, c.arg1);
		tui_pend_add(t, id, "canned rm", NULL, NULL);
		break;
	case CMD_ROTATE:
		if (s->role != PROTO_ROLE_ADMIN) {
			tui_message(t, 1, "rotate: only an admin may refresh access");
			break;
		}
		m.type = PROTO_ACCESS_ROTATE;
		tui_pend_add(t, session_command(s, &m), "rotate", NULL, NULL);
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
	case CMD_ATTACH:
		tui_media_attach(t, c.arg1, c.arg2);
		break;
	case CMD_HELP: {
		char **lines;
		size_t n;
		console_help(&lines, &n);
		tui_popup_open(t, "Keys", lines, n);
		break;
	}
	}
	cmdline_release(&c);
}

static void
mark_read_if_shown(struct tui *t)
{
	const struct cache_chat *c = tui_sel_chat(t);
	if (c != NULL && c->unread > 0)
		session_mark_read(&t->app.sess, c->phone);
}

static void
act(struct tui *t, enum action a)
{
	const struct cache_chat *c = tui_sel_chat(t);
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
		tui_popup_open(t, "Keys (generated from the key table)", lines, n);
		break;
	}
	case ACT_COMMAND:
		prompt_open(t, P_COMMAND, "");
		break;
	case ACT_REDRAW:
		clearok(stdscr, TRUE);
		t->npix_last = -1;
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
	case ACT_MEDIA_SAVE:
	case ACT_MEDIA_OPEN:
		tui_media_save(t, a == ACT_MEDIA_OPEN);
		break;
	case ACT_MEDIA_PREV:
	case ACT_MEDIA_NEXT:
		tui_media_step(t, a == ACT_MEDIA_PREV ? -1 : 1);
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
		tui_pend_add(t, id, "typing", t->comp_phone, NULL);
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
		const struct cache_chat *c = tui_sel_chat(t);
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
		t->npix_last = -1;
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
		if (k == CK_UP || k == CK_DOWN) {
			if (k == CK_UP ? composer_up(&t->comp) : composer_down(&t->comp))
				t->dirty = 1;
			return;
		}
		if (edit_key(&t->comp, k)) {
			maybe_typing(t);
			t->dirty = 1;
		}
	}
}

void
tui_read_input(struct tui *t)
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

