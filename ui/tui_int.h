/*
 * tui_int.h — what the three parts of the curses console share: the
 * console's state (struct tui), and the few functions each part offers
 * the others.  tui.c owns the terminal and the loop, tui_paint.c draws,
 * tui_input.c turns keys, mouse and answers into actions.  Only ui/
 * includes this (and curses).
 */
#ifndef WADESK_UI_TUI_INT_H
#define WADESK_UI_TUI_INT_H

#include <curses.h>

#include "console.h"
#include "console_app.h"
#include "ui/tui.h"

#define TICK_MS 1000
#define TYPING_EVERY_MS 10000
#define NPEND 32

enum mode { M_NORMAL, M_PROMPT, M_POPUP, M_PICKER };

#define NPREVIEW 16

struct preview;
struct sniff;

/* One rendered preview, kept per (digest, box) so a repaint reuses it. */
struct tui_preview {
	char    sha[65];
	int     cols, rows;         /* the box asked for */
	struct preview *p;          /* symbols: NULL when it could not be rendered */
	char   *seq;                /* kitty/sixel: the image's escape sequence */
	size_t  seqlen;
	int     pcols, prows;       /* kitty/sixel: the cells it covers */
	char   *err;                /* why not */
	unsigned stamp;             /* paint that last used it */
};
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
	/* media */
	char  *media_sel;        /* id of the selected media message, NULL = newest */
	char  *media_sel_phone;  /* the chat that selection belongs to */
	char  *media_shown;      /* the selection as last painted (selection or newest) */
	struct tui_preview pv[NPREVIEW];
	int    pv_mode;          /* enum preview_mode */
	unsigned pv_tick;        /* paints, for the preview slots' LRU */
	/* kitty/sixel: where this paint left room for images (drawn after
	 * curses' refresh), and what the last paint drew */
	struct { int y, x; const struct tui_preview *s; } pix[NPREVIEW], pix_last[NPREVIEW];
	int    npix, npix_last;
	struct sniff *sniff;     /* libmagic, loaded at the first :attach */
	char  *upload;           /* the upload in progress: its status line, or NULL */
	int    dirty;
	int    painted;          /* paints so far */
	int64_t frame_ns;        /* a frame arrived and is not on screen yet */
	int64_t frame_cpu;       /* this thread's CPU time then (bench_cpu_ns) */
	FILE  *bench;            /* WADESK_BENCH_FILE: paint timings */
	int    quit;
	int    exit_code;
	const char *quit_why;
};

/* Colour pairs. */
/* Colour pairs. */
enum {
	CP_NOTIFY = 1, CP_UNANSWERED, CP_RESPONDING, CP_RESPONDED, CP_TITLE, CP_BANNER,
	CP_DEMO, CP_DIM, CP_ERROR, CP_OK, CP_MONO,
};

/* tui.c */
/* Sets the status line (err: shown as an error until the next key). */
void tui_message(struct tui *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The attribute of colour pair p (nothing without colours). */
attr_t tui_pair(const struct tui *t, int p);
/* The attribute a chat status is drawn with. */
attr_t tui_status_attr(const struct tui *t, int st);

/* tui_paint.c */
/* Repaints the whole screen from the model (reads one screenful). */
void tui_paint(struct tui *t);
/* CLOCK_THREAD_CPUTIME_ID in ns (0 when unavailable): benchmark notes. */
int64_t bench_cpu_ns(void);
/* Draws sanitised UTF-8 s at (y, x) in at most w columns; columns used. */
int  tui_put(int y, int x, int w, const char *s, attr_t a);
/* As tui_put() for untrusted text: sanitised to one line first. */
int  tui_put_untrusted(int y, int x, int w, const char *s, attr_t a);
void tui_fill(int y, int x, int w, attr_t a);
struct cache_filter tui_list_filter(const struct tui *t);
/* The selected chat among the rows on screen, or NULL. */
const struct cache_chat *tui_sel_chat(const struct tui *t);
void tui_set_sel_phone(struct tui *t, const char *phone);

/* tui_media.c */
/* The preview of image message m for a box of cols x rows cells: the
 * rendered preview, or NULL with *note saying why there is none yet
 * ("fetching the image…", the decoder's error).  Starts the fetch when the
 * file is not cached.  Valid until the next paint. */
const struct preview *tui_preview_get(struct tui *t, const struct cache_msg *m, int cols, int rows,
                                      const char **note);
/* kitty/sixel: the slot of image message m for cols x rows cells once its
 * sequence is ready (else NULL, *note as above). */
const struct tui_preview *tui_preview_pixels(struct tui *t, const struct cache_msg *m, int cols,
                                             int rows, const char **note);
/* kitty/sixel: writes the images this paint made room for, after
 * curses' refresh (only when something moved). */
void tui_preview_flush(struct tui *t);
/* The colour pair (extended: may exceed 255) for a preview cell's colours. */
int  tui_preview_pair(const struct tui *t, int fg, int bg);
/* The media message `s`/`o` act on in the selected chat: the selection,
 * else the newest.  0 found (release with cache_msg_release), 1 none. */
int  tui_media_selected(struct tui *t, struct cache_msg *out);
/* Moves the selection to the previous (dir -1) / next (+1) media message. */
void tui_media_step(struct tui *t, int dir);
/* `s` (open 0) and `o` (open 1). */
void tui_media_save(struct tui *t, int open);
/* `:attach PATH [caption]`: checks, uploads with a progress bar, sends. */
void tui_media_attach(struct tui *t, const char *path, const char *caption);
void tui_media_release(struct tui *t);

/* tui_input.c */
/* Reads every pending key and mouse event and acts on them. */
void tui_read_input(struct tui *t);
/* Remembers a command awaiting its answer (id NULL: offline, says so). */
void tui_pend_add(struct tui *t, const char *id, const char *label, const char *phone,
                  const char *text);
struct pending *tui_pend_find(struct tui *t, const char *id);
void tui_popup_open(struct tui *t, const char *title, char **lines, size_t n);
/* The popup of Refresh access: the new links and their QR codes. */
void tui_show_links(struct tui *t, const struct proto_links *l);

#endif
