/*
 * console.h — the console's UI model, apart from curses: key codes and the
 * one key table (the `?` help is generated from it), the screen layout for
 * a terminal size, word wrapping by display columns, the composer's edit
 * buffer, and the `:` command-line parser.  ui/ draws this model; tests
 * exercise it without a terminal.
 *
 * Keys are Unicode code points for characters and KEY_* values above
 * U+10FFFF for the rest; ui/ translates curses' codes into these.
 */
#ifndef WADESK_CONSOLE_H
#define WADESK_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* Special keys (outside Unicode). Control characters are their ASCII code. */
enum {
	CK_BASE = 0x110000,
	CK_UP, CK_DOWN, CK_LEFT, CK_RIGHT, CK_HOME, CK_END, CK_PGUP, CK_PGDN,
	CK_BACKSPACE, CK_DELETE, CK_ENTER, CK_TAB, CK_BTAB, CK_ESC, CK_RESIZE,
	CK_F1, CK_ALT_ENTER,
};
#define CK_CTRL(c) ((c) & 0x1f)

/* Where a key is looked up. */
enum key_ctx {
	KC_LIST = 1,      /* chat list focused */
	KC_CONV = 2,      /* conversation focused */
	KC_COMPOSER = 4,  /* typing a reply */
	KC_BROWSE = KC_LIST | KC_CONV,
};

enum action {
	ACT_NONE,
	ACT_QUIT, ACT_HELP, ACT_COMMAND, ACT_REDRAW,
	ACT_NEXT_CHAT, ACT_PREV_CHAT, ACT_NEXT_UNANSWERED, ACT_FIRST_CHAT, ACT_LAST_CHAT,
	ACT_REPLY, ACT_NOTE, ACT_TAG, ACT_NAME, ACT_CANNED, ACT_BRB,
	ACT_SEARCH, ACT_FILTER_STATUS, ACT_FILTER_CLEAR,
	ACT_FOCUS_NEXT, ACT_FOCUS_CONV, ACT_FOCUS_LIST,
	ACT_PAGE_UP, ACT_PAGE_DOWN, ACT_FIRST_UNREAD, ACT_SCROLL_END,
	ACT_SEND, ACT_NEWLINE, ACT_EDITOR, ACT_LEAVE, ACT_CANNED_PICK,
	ACT_MEDIA_SAVE, ACT_MEDIA_OPEN, ACT_MEDIA_PREV, ACT_MEDIA_NEXT,
	ACT__COUNT
};

struct key_binding {
	int          key;
	unsigned     ctx;      /* mask of enum key_ctx */
	enum action  action;
	const char  *help;     /* one line for `?` */
};

/* The key table and its length. */
extern const struct key_binding console_keys[];
extern const size_t console_nkeys;
/* The action bound to key in ctx, or ACT_NONE. */
enum action console_key_action(int key, enum key_ctx ctx);
/* A key's printable name ("j", "Down", "C-e", "PgUp") into out (16 bytes). */
const char *console_key_name(int key, char out[16]);
/* Help lines generated from the table: *lines xmalloc'd array of *n
 * xmalloc'd strings ("  j, Down      next chat").  Free with
 * console_lines_free. */
void console_help(char ***lines, size_t *n);
void console_lines_free(char **lines, size_t n);

/* Screen layout.  A rectangle per pane; h or w 0 when hidden. */
struct rect { int y, x, h, w; };
struct layout {
	struct rect title;      /* top line */
	struct rect banner;     /* offline / demo banner line (h 0 if none) */
	struct rect list;       /* chat list */
	struct rect customer;   /* customer pane above the conversation */
	struct rect conv;       /* conversation */
	struct rect hint;       /* "what the send becomes" line */
	struct rect composer;   /* reply editor */
	struct rect status;     /* bottom line: messages, `:` prompt */
	int too_small;          /* terminal under 40x10: only a notice */
};
/* Computes the layout for a cols x rows terminal, a banner line or not,
 * and a composer showing composer_lines lines of text (clamped 1..8). */
void console_layout(int cols, int rows, int banner, int composer_lines, struct layout *l);

/* Word wrap by display columns.  A line is a byte range of text; breaks
 * at spaces when it can, inside a word when it must, and at '\n'.  Wide
 * characters count two columns and never straddle the edge.  text must be
 * valid UTF-8 (sanitised).  *lines xmalloc'd; free(). */
struct wrap_line { size_t start, len; int cols; };
size_t console_wrap(const char *text, int width, struct wrap_line **lines);
/* Display width of a valid UTF-8 string / of its first character. */
int console_width(const char *s, size_t len);

/* The composer's edit buffer: UTF-8 text and a cursor (byte offset,
 * always on a character boundary). */
struct composer {
	char   *text;
	size_t  len, cap, cursor;
};
void composer_insert(struct composer *c, uint32_t cp);
void composer_insert_str(struct composer *c, const char *s);
void composer_backspace(struct composer *c);
void composer_delete(struct composer *c);
void composer_left(struct composer *c);
void composer_right(struct composer *c);
void composer_home(struct composer *c);     /* start of the current line */
void composer_end(struct composer *c);      /* end of the current line */
/* The line above / below (logical lines, split at '\n'), keeping the
 * column in characters as far as the line allows; 0 when there is none. */
int  composer_up(struct composer *c);
int  composer_down(struct composer *c);
void composer_set(struct composer *c, const char *s);  /* replace, cursor at end */
void composer_clear(struct composer *c);
const char *composer_text(const struct composer *c);   /* never NULL */
int  composer_empty(const struct composer *c);         /* only spaces/newlines */
void composer_release(struct composer *c);

/* The `:` command line: verbs and their arguments. */
enum cmd_verb {
	CMD_TAG, CMD_UNTAG, CMD_NOTE, CMD_NAME, CMD_BRB, CMD_CANNED_ADD, CMD_CANNED_RM,
	CMD_ROTATE, CMD_QUIT, CMD_FILTER, CMD_HELP, CMD_ATTACH
};
struct cmdline {
	enum cmd_verb verb;
	char *arg1;   /* tag, note, name, on|off, canned name, status, attach path */
	char *arg2;   /* canned text, attach caption (NULL when none) */
};
/* Parses "tag vip", "note text…", "canned add NAME TEXT", "brb on",
 * "attach PATH [caption…]" (PATH may be "double quoted" when it has
 * spaces), ...
 * 0 with *out filled (release with cmdline_release), or -1 with *why a
 * static sentence. */
int  cmdline_parse(const char *line, struct cmdline *out, const char **why);
void cmdline_release(struct cmdline *c);

/* "2h 14m left" / "closed" for the 24 h window (xmalloc'd). */
char *console_window_left(int64_t last_inbound, int64_t now);
/* Short age: "now", "5m", "3h", "2d" into out (8 bytes). */
const char *console_age(int64_t t, int64_t now, char out[8]);
/* A size for people, decimal as WhatsApp's caps are: "512 B", "1.2 kB",
 * "3.4 MB", "1.0 GB" (out has 16 bytes; sizes <= 0 give "?"). */
const char *console_human_size(int64_t bytes, char out[16]);
/* What a media message is, in one word for the conversation: "image",
 * "document", "audio", "video" from its MIME type's category, else the
 * message type ("sticker"), else "file". */
const char *console_media_kind(const char *mime, const char *type);
/*
 * The line describing a message's media state: NULL when it is ready
 * (nothing to say), while the hub has not got the file its last error
 * ("not downloaded yet: HTTP 503 ...; next try 10:14:05") or "downloading…"
 * before any, and "refused (CODE): SENTENCE" when the hub refused it.  Arguments
 * may be NULL or ""; the result is xmalloc'd and not sanitised (error
 * comes from the hub: sanitise before drawing).
 */
char *console_media_state_line(const char *state, const char *error, const char *code);
/* A progress bar "[#####.....]  45%  1.2 MB of 2.6 MB" (xmalloc'd);
 * width is the bar's inside, total 0 when unknown. */
char *console_progress(int64_t done, int64_t total, int width);

/* Fills {{name}} and {{phone}} placeholders of a canned reply (xmalloc'd). */
char *console_fill_canned(const char *body, const char *name, const char *phone);
/* Fuzzy match: every character of pat appears in s in order, case-folded
 * ASCII.  Score higher for earlier and contiguous matches; -1 no match. */
int  console_fuzzy(const char *pat, const char *s);

#endif
