/*
 * console.c — the console's UI model apart from curses (see console.h).
 *
 * Everything here is pure: given a size, a text or a key it computes what
 * the screen should hold, so the tests run without a terminal and the
 * curses layer (ui/) stays a thin painter.  The key table is the single
 * source of truth for bindings: the dispatcher walks it and the `?` help
 * is printed from it, so a key cannot exist without its help line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "console.h"
#include "media.h"
#include "util.h"

const struct key_binding console_keys[] = {
	{ '?',            KC_BROWSE,   ACT_HELP,            "show this help" },
	{ CK_F1,          KC_BROWSE | KC_COMPOSER, ACT_HELP, "show this help" },
	{ ':',            KC_BROWSE,   ACT_COMMAND,         "command line (tag, note, name, brb, canned, attach, rotate, quit)" },
	{ 'q',            KC_BROWSE,   ACT_QUIT,            "quit" },
	{ CK_CTRL('l'),   KC_BROWSE | KC_COMPOSER, ACT_REDRAW, "redraw the screen" },
	{ 'j',            KC_BROWSE,   ACT_NEXT_CHAT,       "next chat" },
	{ CK_DOWN,        KC_LIST,     ACT_NEXT_CHAT,       "next chat" },
	{ 'k',            KC_BROWSE,   ACT_PREV_CHAT,       "previous chat" },
	{ CK_UP,          KC_LIST,     ACT_PREV_CHAT,       "previous chat" },
	{ 'n',            KC_BROWSE,   ACT_NEXT_UNANSWERED, "next chat needing an answer" },
	{ CK_HOME,        KC_LIST,     ACT_FIRST_CHAT,      "first chat" },
	{ CK_END,         KC_LIST,     ACT_LAST_CHAT,       "last chat" },
	{ 'r',            KC_BROWSE,   ACT_REPLY,           "reply (focus the composer)" },
	{ CK_ENTER,       KC_BROWSE,   ACT_REPLY,           "reply (focus the composer)" },
	{ 'N',            KC_BROWSE,   ACT_NOTE,            "edit the customer's note" },
	{ 't',            KC_BROWSE,   ACT_TAG,             "tag the chat" },
	{ 'e',            KC_BROWSE,   ACT_NAME,            "edit the customer's name" },
	{ 'c',            KC_BROWSE,   ACT_CANNED,          "reply with a canned reply" },
	{ 'b',            KC_BROWSE,   ACT_BRB,             "toggle BRB (be right back) mode" },
	{ '/',            KC_BROWSE,   ACT_SEARCH,          "search chats by name, phone or text" },
	{ 'f',            KC_BROWSE,   ACT_FILTER_STATUS,   "filter by status (cycles)" },
	{ 'F',            KC_BROWSE,   ACT_FILTER_CLEAR,    "clear filters and search" },
	{ CK_TAB,         KC_BROWSE,   ACT_FOCUS_NEXT,      "switch focus: list / conversation" },
	{ 'l',            KC_LIST,     ACT_FOCUS_CONV,      "focus the conversation (marks it read)" },
	{ CK_RIGHT,       KC_LIST,     ACT_FOCUS_CONV,      "focus the conversation (marks it read)" },
	{ 'h',            KC_CONV,     ACT_FOCUS_LIST,      "focus the chat list" },
	{ CK_LEFT,        KC_CONV,     ACT_FOCUS_LIST,      "focus the chat list" },
	{ CK_PGUP,        KC_BROWSE | KC_COMPOSER, ACT_PAGE_UP, "scroll the conversation up" },
	{ CK_PGDN,        KC_BROWSE | KC_COMPOSER, ACT_PAGE_DOWN, "scroll the conversation down" },
	{ CK_UP,          KC_CONV,     ACT_PAGE_UP,         "scroll the conversation up" },
	{ CK_DOWN,        KC_CONV,     ACT_PAGE_DOWN,       "scroll the conversation down" },
	{ 'u',            KC_BROWSE,   ACT_FIRST_UNREAD,    "jump to the first unread message" },
	{ 'G',            KC_BROWSE,   ACT_SCROLL_END,      "jump to the newest message" },
	{ '[',            KC_BROWSE,   ACT_MEDIA_PREV,      "select the previous media message (newest by default)" },
	{ ']',            KC_BROWSE,   ACT_MEDIA_NEXT,      "select the next media message" },
	{ 's',            KC_BROWSE,   ACT_MEDIA_SAVE,      "save the selected media to the download directory" },
	{ 'o',            KC_BROWSE,   ACT_MEDIA_OPEN,      "save the selected media and open it (xdg-open)" },
	{ CK_ENTER,       KC_COMPOSER, ACT_SEND,            "send the reply" },
	{ CK_CTRL('j'),   KC_COMPOSER, ACT_NEWLINE,         "new line in the reply" },
	{ CK_ALT_ENTER,   KC_COMPOSER, ACT_NEWLINE,         "new line in the reply" },
	{ CK_CTRL('e'),   KC_COMPOSER, ACT_EDITOR,          "edit the reply in $EDITOR" },
	{ CK_TAB,         KC_COMPOSER, ACT_CANNED_PICK,     "canned replies (fuzzy filter)" },
	{ '/',            KC_COMPOSER, ACT_CANNED_PICK,     "canned replies (fuzzy filter)" },
	{ CK_ESC,         KC_COMPOSER, ACT_LEAVE,           "leave the composer (keeps the draft)" },
};
const size_t console_nkeys = ARRAY_LEN(console_keys);

enum action
console_key_action(int key, enum key_ctx ctx)
{
	for (size_t i = 0; i < console_nkeys; i++)
		if (console_keys[i].key == key && (console_keys[i].ctx & (unsigned)ctx) != 0)
			return console_keys[i].action;
	return ACT_NONE;
}

const char *
console_key_name(int key, char out[16])
{
	static const struct { int key; const char *name; } names[] = {
		{ CK_UP, "Up" }, { CK_DOWN, "Down" }, { CK_LEFT, "Left" }, { CK_RIGHT, "Right" },
		{ CK_HOME, "Home" }, { CK_END, "End" }, { CK_PGUP, "PgUp" }, { CK_PGDN, "PgDn" },
		{ CK_BACKSPACE, "BS" }, { CK_DELETE, "Del" }, { CK_ENTER, "Enter" }, { CK_TAB, "Tab" },
		{ CK_BTAB, "S-Tab" }, { CK_ESC, "Esc" }, { CK_F1, "F1" }, { CK_ALT_ENTER, "M-Enter" },
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].key == key) {
			snprintf(out, 16, "%s", names[i].name);
			return out;
		}
	if (key > 0 && key < 32)
		snprintf(out, 16, "C-%c", key + 'a' - 1);
	else if (key == ' ')
		snprintf(out, 16, "Space");
	else if (key > 32 && key < 127)
		snprintf(out, 16, "%c", key);
	else
		snprintf(out, 16, "U+%04X", (unsigned)key);
	return out;
}

/*
 * One help line per (context, action, help), listing every key bound to
 * it: "  j, Down        next chat".  Contexts are sections.
 */
void
console_help(char ***lines, size_t *n)
{
	static const struct { unsigned ctx; const char *title; } sections[] = {
		{ KC_LIST, "Chat list" }, { KC_CONV, "Conversation" }, { KC_COMPOSER, "Composer" },
	};
	size_t cap = 8, k = 0;
	char **v = xmalloc(cap * sizeof *v);
	for (size_t s = 0; s < ARRAY_LEN(sections); s++) {
		if (k + 2 >= cap)
			v = xrealloc(v, (cap *= 2) * sizeof *v);
		v[k++] = xstrdup(sections[s].title);
		for (size_t i = 0; i < console_nkeys; i++) {
			const struct key_binding *b = &console_keys[i];
			if ((b->ctx & sections[s].ctx) == 0)
				continue;
			int seen = 0;
			for (size_t j = 0; j < i; j++)
				if ((console_keys[j].ctx & sections[s].ctx) != 0 &&
				    console_keys[j].action == b->action &&
				    strcmp(console_keys[j].help, b->help) == 0)
					seen = 1;
			if (seen)
				continue;
			struct buf keys = {0};
			for (size_t j = i; j < console_nkeys; j++) {
				const struct key_binding *o = &console_keys[j];
				if ((o->ctx & sections[s].ctx) == 0 || o->action != b->action ||
				    strcmp(o->help, b->help) != 0)
					continue;
				char name[16];
				if (keys.len > 0)
					buf_puts(&keys, ", ");
				buf_puts(&keys, console_key_name(o->key, name));
			}
			if (k + 1 >= cap)
				v = xrealloc(v, (cap *= 2) * sizeof *v);
			v[k++] = xasprintf("  %-16s %s", keys.data, b->help);
			buf_free(&keys);
		}
	}
	*lines = v;
	*n = k;
}

void
console_lines_free(char **lines, size_t n)
{
	if (lines == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static struct rect
rect(int y, int x, int h, int w)
{
	struct rect r = { y, x, h > 0 ? h : 0, w > 0 ? w : 0 };
	return r;
}

/*
 * Title on top, an optional banner under it, the status line at the
 * bottom.  The middle is split: the chat list on the left (two fifths,
 * 28..60 columns; the whole width when the terminal is narrower than 80),
 * and on the right the customer pane (3 lines), the conversation, the
 * hint line and the composer (its text lines + 0).
 */
void
console_layout(int cols, int rows, int banner, int composer_lines, struct layout *l)
{
	memset(l, 0, sizeof *l);
	if (cols < 40 || rows < 10) {
		l->too_small = 1;
		l->status = rect(rows - 1, 0, 1, cols);
		return;
	}
	if (composer_lines < 1)
		composer_lines = 1;
	if (composer_lines > 8)
		composer_lines = 8;
	if (composer_lines > rows / 4)
		composer_lines = rows / 4 > 0 ? rows / 4 : 1;
	int y = 0;
	l->title = rect(y++, 0, 1, cols);
	if (banner)
		l->banner = rect(y++, 0, 1, cols);
	l->status = rect(rows - 1, 0, 1, cols);
	int body = rows - 1 - y;
	int lw = cols * 2 / 5;
	if (lw < 28)
		lw = 28;
	if (lw > 60)
		lw = 60;
	if (cols < 80) {
		/* Narrow: the list on top, the conversation below. */
		int lh = body / 3;
		l->list = rect(y, 0, lh, cols);
		y += lh;
		body -= lh;
		lw = 0;
	} else
		l->list = rect(y, 0, body, lw);
	int rx = lw > 0 ? lw + 1 : 0, rw = cols - rx;
	int ch = 3;
	l->customer = rect(y, rx, ch, rw);
	l->composer = rect(y + body - composer_lines, rx, composer_lines, rw);
	l->hint = rect(l->composer.y - 1, rx, 1, rw);
	l->conv = rect(y + ch, rx, l->hint.y - (y + ch), rw);
}

int
console_width(const char *s, size_t len)
{
	int w = 0;
	size_t i = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		    (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0) {
			i++;
			w++;
			continue;
		}
		int cw = utf8proc_charwidth(cp);
		w += cw > 0 ? cw : 0;
		i += (size_t)k;
	}
	return w;
}

/* Width and byte length of the character at s[i] (i < len). */
static int
char_at(const char *s, size_t len, size_t i, size_t *bytes)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
	    (utf8proc_ssize_t)(len - i), &cp);
	if (k <= 0) {
		*bytes = 1;
		return 1;
	}
	*bytes = (size_t)k;
	int w = utf8proc_charwidth(cp);
	if (cp == '\t')
		w = 1;
	return w > 0 ? w : 0;
}

static void
push_line(struct wrap_line **v, size_t *n, size_t *cap, size_t start, size_t len, int cols)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[*n].start = start;
	(*v)[*n].len = len;
	(*v)[*n].cols = cols;
	(*n)++;
}

/*
 * Greedy wrap: walk the characters keeping the last space seen on the
 * current line; when a character would pass the edge, break after that
 * space (dropping it) or, in a word longer than the line, right before
 * the character.  Trailing spaces at a break are not counted.
 */
size_t
console_wrap(const char *text, int width, struct wrap_line **lines)
{
	size_t n = 0, cap = 0, len = strlen(text);
	*lines = NULL;
	if (width < 1)
		width = 1;
	size_t start = 0, i = 0, sp = (size_t)-1;
	int cols = 0, sp_cols = 0;
	while (i < len) {
		if (text[i] == '\n') {
			push_line(lines, &n, &cap, start, i - start, cols);
			start = ++i;
			cols = 0;
			sp = (size_t)-1;
			continue;
		}
		size_t b;
		int w = char_at(text, len, i, &b);
		if (cols + w > width && i > start) {
			if (text[i] == ' ') {
				push_line(lines, &n, &cap, start, i - start, cols);
				start = i + 1;
				i = start;
				cols = 0;
			} else if (sp != (size_t)-1 && sp > start) {
				push_line(lines, &n, &cap, start, sp - start, sp_cols);
				start = sp + 1;
				cols = console_width(text + start, i - start);
			} else {
				push_line(lines, &n, &cap, start, i - start, cols);
				start = i;
				cols = 0;
			}
			sp = (size_t)-1;
			continue;       /* re-examine this character on the new line */
		}
		if (text[i] == ' ') {
			sp = i;
			sp_cols = cols;
		}
		cols += w;
		i += b;
	}
	if (start < len || n == 0 || (len > 0 && text[len - 1] == '\n'))
		push_line(lines, &n, &cap, start, len - start, cols);
	return n;
}

/* Composer. */

static void
composer_reserve(struct composer *c, size_t extra)
{
	if (c->len + extra + 1 > c->cap) {
		c->cap = (c->len + extra + 1) * 2;
		c->text = xrealloc(c->text, c->cap);
	}
}

void
composer_insert_str(struct composer *c, const char *s)
{
	size_t k = strlen(s);
	composer_reserve(c, k);
	memmove(c->text + c->cursor + k, c->text + c->cursor, c->len - c->cursor);
	memcpy(c->text + c->cursor, s, k);
	c->len += k;
	c->cursor += k;
	c->text[c->len] = '\0';
}

void
composer_insert(struct composer *c, uint32_t cp)
{
	utf8proc_uint8_t b[8];
	if (!utf8proc_codepoint_valid((utf8proc_int32_t)cp))
		return;
	utf8proc_ssize_t k = utf8proc_encode_char((utf8proc_int32_t)cp, b);
	b[k] = '\0';
	composer_insert_str(c, (const char *)b);
}

/* Start of the character before byte offset i. */
static size_t
prev_char(const char *s, size_t i)
{
	while (i > 0) {
		i--;
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			break;
	}
	return i;
}

static size_t
next_char(const char *s, size_t len, size_t i)
{
	if (i >= len)
		return len;
	i++;
	while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

void
composer_backspace(struct composer *c)
{
	if (c->cursor == 0)
		return;
	size_t p = prev_char(c->text, c->cursor);
	memmove(c->text + p, c->text + c->cursor, c->len - c->cursor + 1);
	c->len -= c->cursor - p;
	c->cursor = p;
}

void
composer_delete(struct composer *c)
{
	if (c->cursor >= c->len)
		return;
	size_t q = next_char(c->text, c->len, c->cursor);
	memmove(c->text + c->cursor, c->text + q, c->len - q + 1);
	c->len -= q - c->cursor;
}

void
composer_left(struct composer *c)
{
	if (c->cursor > 0)
		c->cursor = prev_char(c->text, c->cursor);
}

void
composer_right(struct composer *c)
{
	if (c->text != NULL)
		c->cursor = next_char(c->text, c->len, c->cursor);
}

void
composer_home(struct composer *c)
{
	while (c->cursor > 0 && c->text[c->cursor - 1] != '\n')
		c->cursor--;
}

void
composer_end(struct composer *c)
{
	while (c->cursor < c->len && c->text[c->cursor] != '\n')
		c->cursor++;
}

/* Characters from the start of the line to the cursor. */
static size_t
composer_column(const struct composer *c)
{
	size_t start = c->cursor, col = 0;
	while (start > 0 && c->text[start - 1] != '\n')
		start--;
	for (size_t i = start; i < c->cursor; i = next_char(c->text, c->len, i))
		col++;
	return col;
}

/* Moves the cursor to column col (in characters) of the line at start. */
static void
composer_goto(struct composer *c, size_t start, size_t col)
{
	size_t i = start;
	while (col-- > 0 && i < c->len && c->text[i] != '\n')
		i = next_char(c->text, c->len, i);
	c->cursor = i;
}

int
composer_up(struct composer *c)
{
	size_t col = composer_column(c), start = c->cursor;
	while (start > 0 && c->text[start - 1] != '\n')
		start--;
	if (start == 0)
		return 0;
	size_t prev = start - 1;
	while (prev > 0 && c->text[prev - 1] != '\n')
		prev--;
	composer_goto(c, prev, col);
	return 1;
}

int
composer_down(struct composer *c)
{
	size_t col = composer_column(c), end = c->cursor;
	while (end < c->len && c->text[end] != '\n')
		end++;
	if (end >= c->len)
		return 0;
	composer_goto(c, end + 1, col);
	return 1;
}

void
composer_set(struct composer *c, const char *s)
{
	composer_clear(c);
	composer_insert_str(c, s != NULL ? s : "");
}

void
composer_clear(struct composer *c)
{
	c->len = c->cursor = 0;
	if (c->text != NULL)
		c->text[0] = '\0';
}

const char *
composer_text(const struct composer *c)
{
	return c->text != NULL ? c->text : "";
}

int
composer_empty(const struct composer *c)
{
	for (size_t i = 0; i < c->len; i++)
		if (!isspace((unsigned char)c->text[i]))
			return 0;
	return 1;
}

void
composer_release(struct composer *c)
{
	free(c->text);
	memset(c, 0, sizeof *c);
}

/* The `:` command line. */

static const struct {
	const char   *name;
	enum cmd_verb verb;
	int           args;    /* 0 none, 1 one word, 2 rest of line, 3 word + rest */
	const char   *usage;
} verbs[] = {
	{ "tag",    CMD_TAG,    1, "usage: tag TAG" },
	{ "untag",  CMD_UNTAG,  1, "usage: untag TAG" },
	{ "note",   CMD_NOTE,   2, NULL },
	{ "name",   CMD_NAME,   2, "usage: name NAME" },
	{ "brb",    CMD_BRB,    1, "usage: brb on|off" },
	{ "rotate", CMD_ROTATE, 0, NULL },
	{ "quit",   CMD_QUIT,   0, NULL },
	{ "q",      CMD_QUIT,   0, NULL },
	{ "filter", CMD_FILTER, 2, NULL },
	{ "help",   CMD_HELP,   0, NULL },
};

static const char *
skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Copies the next word of *s into an xmalloc'd string, advancing *s. */
static char *
next_word(const char **s)
{
	const char *p = skip_space(*s), *e = p;
	while (*e != '\0' && *e != ' ' && *e != '\t')
		e++;
	*s = skip_space(e);
	return e > p ? xstrndup(p, (size_t)(e - p)) : NULL;
}

int
cmdline_parse(const char *line, struct cmdline *out, const char **why)
{
	memset(out, 0, sizeof *out);
	const char *s = line;
	char *verb = next_word(&s);
	if (verb == NULL) {
		*why = "empty command";
		return -1;
	}
	if (strcmp(verb, "attach") == 0) {
		free(verb);
		out->verb = CMD_ATTACH;
		s = skip_space(s);
		if (*s == '"') {
			const char *e = strchr(s + 1, '"');
			if (e != NULL && e > s + 1) {
				out->arg1 = xstrndup(s + 1, (size_t)(e - s - 1));
				s = skip_space(e + 1);
			}
		} else
			out->arg1 = next_word(&s);
		if (out->arg1 == NULL) {
			*why = "usage: attach PATH [caption]";
			return -1;
		}
		out->arg2 = *s != '\0' ? xstrdup(s) : NULL;
		return 0;
	}
	if (strcmp(verb, "canned") == 0) {
		free(verb);
		char *sub = next_word(&s);
		if (sub != NULL && strcmp(sub, "add") == 0) {
			out->verb = CMD_CANNED_ADD;
			out->arg1 = next_word(&s);
			out->arg2 = *s != '\0' ? xstrdup(s) : NULL;
			if (out->arg1 == NULL || out->arg2 == NULL)
				goto usage_canned;
		} else if (sub != NULL && strcmp(sub, "rm") == 0) {
			out->verb = CMD_CANNED_RM;
			out->arg1 = next_word(&s);
			if (out->arg1 == NULL)
				goto usage_canned;
		} else
			goto usage_canned;
		free(sub);
		return 0;
usage_canned:
		free(sub);
		cmdline_release(out);
		*why = "usage: canned add NAME TEXT | canned rm NAME";
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++) {
		if (strcmp(verb, verbs[i].name) != 0)
			continue;
		free(verb);
		out->verb = verbs[i].verb;
		switch (verbs[i].args) {
		case 1:
			out->arg1 = next_word(&s);
			if (out->arg1 == NULL || *s != '\0')
				goto usage;
			break;
		case 2:
			out->arg1 = xstrdup(s);
			if (*s == '\0' && verbs[i].usage != NULL)
				goto usage;
			break;
		default:
			if (*s != '\0')
				goto usage;
		}
		if (out->verb == CMD_BRB && strcmp(out->arg1, "on") != 0 && strcmp(out->arg1, "off") != 0)
			goto usage;
		return 0;
usage:
		cmdline_release(out);
		*why = verbs[i].usage != NULL ? verbs[i].usage : "this command takes no argument";
		return -1;
	}
	free(verb);
	*why = "unknown command (try tag, untag, note, name, brb, canned, attach, rotate, quit)";
	return -1;
}

void
cmdline_release(struct cmdline *c)
{
	free(c->arg1);
	free(c->arg2);
	c->arg1 = c->arg2 = NULL;
}

char *
console_window_left(int64_t last_inbound, int64_t now)
{
	if (last_inbound <= 0)
		return xstrdup("window closed (never wrote)");
	int64_t left = last_inbound + 86400 - now;
	if (left <= 0)
		return xstrdup("window closed");
	if (left > 86400)
		left = 86400;
	return xasprintf("window %dh %02dm left", (int)(left / 3600), (int)(left % 3600 / 60));
}

const char *
console_age(int64_t t, int64_t now, char out[8])
{
	int64_t d = now - t;
	if (t <= 0)
		snprintf(out, 8, "-");
	else if (d < 60)
		snprintf(out, 8, "now");
	else if (d < 3600)
		snprintf(out, 8, "%dm", (int)(d / 60));
	else if (d < 86400)
		snprintf(out, 8, "%dh", (int)(d / 3600));
	else
		snprintf(out, 8, "%dd", (int)(d / 86400 > 999 ? 999 : d / 86400));
	return out;
}

char *
console_fill_canned(const char *body, const char *name, const char *phone)
{
	static const char *const keys[] = { "{{name}}", "{{phone}}" };
	const char *vals[] = { name != NULL && *name ? name : "there", phone != NULL ? phone : "" };
	struct buf b = {0};
	const char *p = body;
	while (*p != '\0') {
		size_t k;
		for (k = 0; k < ARRAY_LEN(keys); k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0)
				break;
		if (k < ARRAY_LEN(keys)) {
			buf_puts(&b, vals[k]);
			p += strlen(keys[k]);
		} else
			buf_putc(&b, *p++);
	}
	return buf_steal(&b);
}

int
console_fuzzy(const char *pat, const char *s)
{
	int score = 0, run = 0;
	size_t j = 0;
	for (size_t i = 0; pat[i] != '\0'; i++) {
		int pc = tolower((unsigned char)pat[i]);
		int found = 0;
		while (s[j] != '\0') {
			int sc = tolower((unsigned char)s[j++]);
			if (sc == pc) {
				found = 1;
				break;
			}
			run = 0;
		}
		if (!found)
			return -1;
		run++;
		score += 10 * run - (int)(j < 100 ? j : 100) / 10;
	}
	return score;
}

const char *
console_human_size(int64_t bytes, char out[16])
{
	static const char *const units[] = { "kB", "MB", "GB", "TB" };
	if (bytes <= 0) {
		snprintf(out, 16, "?");
		return out;
	}
	if (bytes < 1000) {
		snprintf(out, 16, "%d B", (int)bytes);
		return out;
	}
	double v = (double)bytes / 1000.0;
	size_t u = 0;
	/* 999.95 kB would print as "1000.0 kB": move up a unit first. */
	while (v >= 999.95 && u + 1 < ARRAY_LEN(units)) {
		v /= 1000.0;
		u++;
	}
	snprintf(out, 16, "%.1f %s", v, units[u]);
	return out;
}

const char *
console_media_kind(const char *mime, const char *type)
{
	const struct media_type *mt = mime != NULL && *mime != '\0' ? media_lookup(mime) : NULL;
	if (mt != NULL)
		return media_category_name(mt->category);
	if (mime != NULL) {
		static const char *const prefixes[][2] = {
			{ "image/", "image" }, { "audio/", "audio" }, { "video/", "video" },
		};
		for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
			if (strncmp(mime, prefixes[i][0], strlen(prefixes[i][0])) == 0)
				return prefixes[i][1];
	}
	if (type != NULL && *type != '\0' && strcmp(type, "text") != 0)
		return strcmp(type, "file") == 0 ? "document" : type;
	return "file";
}

char *
console_media_state_line(const char *state, const char *error, const char *code)
{
	int has_err = error != NULL && *error != '\0';
	if (state == NULL || *state == '\0' || strcmp(state, "ready") == 0)
		return NULL;
	if (strcmp(state, "refused") == 0)
		return xasprintf("refused (%s): %s", code != NULL && *code ? code : "media",
		    has_err ? error : "the hub did not keep this file");
	/* The hub's error says it all ("not downloaded yet: HTTP 503 ... next
	 * try 10:14:05"); without one the download simply runs. */
	if (strcmp(state, "pending") == 0)
		return xstrdup(has_err ? error : "downloading\u2026");
	return xasprintf("%s%s%s", state, has_err ? ": " : "", has_err ? error : "");
}

char *
console_progress(int64_t done, int64_t total, int width)
{
	char a[16], b[16];
	if (width < 1)
		width = 1;
	if (width > 200)
		width = 200;
	int pct = total > 0 ? (int)(done * 100 / total) : 0;
	if (pct > 100)
		pct = 100;
	int fill = total > 0 ? (int)((int64_t)width * pct / 100) : 0;
	struct buf bar = {0};
	buf_putc(&bar, '[');
	for (int i = 0; i < width; i++)
		buf_putc(&bar, i < fill ? '#' : '.');
	buf_putc(&bar, ']');
	char *s = total > 0 ?
	    xasprintf("%s %3d%%  %s of %s", bar.data, pct, console_human_size(done, a),
	        console_human_size(total, b)) :
	    xasprintf("%s  %s", bar.data, console_human_size(done, a));
	buf_free(&bar);
	return s;
}
