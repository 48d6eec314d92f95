/*
 * preview.h — inline image previews for the console: PNG, JPEG and GIF
 * decoded with gdk-pixbuf and drawn by libchafa.
 *
 * The main result is plain data, a grid of cells (a glyph with a
 * foreground and a background colour) that the console's curses code
 * draws like any text; nothing here touches curses or the terminal.
 * Glyphs are only the space, Unicode block elements (U+2580..U+259F) and
 * braille (U+2800..U+28FF), all one column wide, checked cell by cell.
 *
 * Terminals that show real pixels (kitty's graphics protocol, sixel) get an
 * escape sequence instead, written by the console after its refresh at the
 * top-left cell of the preview.  preview_detect() says which to use, from
 * the environment only (see preview.c): a terminal is never queried,
 * because its answer would arrive in the middle of curses' key input.
 *
 * Only PNG, JPEG and GIF (first frame) are decoded: the format is taken
 * from the first bytes and only that gdk-pixbuf loader runs.  PNG and GIF
 * decode at full size, so they are refused over PREVIEW_MAX_PIXELS (about
 * 100 MB of pixels) or PREVIEW_MAX_SIDE, from their header, before
 * decoding; JPEG decodes already scaled down (up to 1/8) and is refused
 * only over PREVIEW_MAX_PIXELS_JPEG.  No function keeps state between calls.
 */
#ifndef WADESK_PREVIEW_H
#define WADESK_PREVIEW_H

#include <stddef.h>
#include <stdint.h>

#define PREVIEW_MAX_PIXELS      (25 * 1000 * 1000)
#define PREVIEW_MAX_SIDE        20000
#define PREVIEW_MAX_PIXELS_JPEG (400 * 1000 * 1000)

enum preview_mode {
	PREVIEW_OFF,          /* no preview: TERM=dumb or WADESK_PREVIEW=off */
	PREVIEW_SYMBOLS,      /* coloured block characters: preview_render() */
	PREVIEW_SIXEL,        /* preview_render_pixels() */
	PREVIEW_KITTY,        /* preview_render_pixels() */
};

/* Colours of the cells: what the terminal can show (curses' COLORS). */
enum preview_colors {
	PREVIEW_COLORS_256,   /* indexes 16..255 (the 240 fixed ones; the first 16 are themed) */
	PREVIEW_COLORS_16,    /* indexes 0..15 */
	PREVIEW_COLORS_TRUE,  /* 24-bit only (fg_index/bg_index are -1) */
};

struct preview_cell {
	char    glyph[4];     /* UTF-8 of one narrow character, NUL-terminated */
	int32_t fg, bg;       /* 0xRRGGBB; -1: transparent (terminal default) */
	int16_t fg_index, bg_index; /* palette index for the colours mode; -1 as above */
};

struct preview {
	int cols, rows;       /* cells used, within the box asked for */
	int width, height;    /* the image's own size in pixels */
	struct preview_cell *cells;   /* rows * cols, row by row */
};

/*
 * Chooses the preview for a terminal from an environment (NULL: this
 * process's).  WADESK_PREVIEW=off|symbols|sixel|kitty forces one, but
 * inside tmux or screen (TMUX set, TERM tmux* or screen*) pixels become
 * symbols; TERM unset or "dumb" is off; otherwise kitty or sixel when
 * libchafa's terminal database knows the terminal has it (TERM=xterm-kitty,
 * KITTY_WINDOW_ID; TERM=foot, mlterm, TERM_PROGRAM=WezTerm, ...), else
 * symbols.
 */
enum preview_mode preview_detect(char *const *env);
/* "off", "symbols", "sixel", "kitty". */
const char *preview_mode_name(enum preview_mode m);

/*
 * Renders the image in len bytes at data into at most max_cols x max_rows
 * cells (both >= 1), keeping its aspect (a cell is taken as twice as tall
 * as wide).  0 with *out (free with preview_free()); -1 with *cause
 * (xmalloc'd): "not a PNG, JPEG or GIF image", "image is too large to
 * preview (30000x30000)", gdk-pixbuf's error.
 */
int preview_render(const void *data, size_t len, int max_cols, int max_rows,
		   enum preview_colors colors, struct preview **out, char **cause);
/* As preview_render() for a file (read whole; at most 16 MB). */
int preview_render_file(const char *path, int max_cols, int max_rows,
			enum preview_colors colors, struct preview **out, char **cause);
void preview_free(struct preview *p);
/* The cell at (col, row); both within the preview. */
const struct preview_cell *preview_cell(const struct preview *p, int col, int row);

/*
 * Renders for PREVIEW_KITTY or PREVIEW_SIXEL: *seq (xmalloc'd, *seqlen
 * bytes, not NUL-terminated) is the escape sequence drawing the image in
 * *cols x *rows cells from the cursor.  cell_w and cell_h are a cell's size
 * in pixels (TIOCGWINSZ's ws_xpixel / ws_col; 0 for 10x20).  env as for
 * preview_detect().  -1 with *cause as preview_render(), or when the
 * terminal has no such protocol.
 */
int preview_render_pixels(const void *data, size_t len, enum preview_mode mode,
			  char *const *env, int max_cols, int max_rows,
			  int cell_w, int cell_h, char **seq, size_t *seqlen,
			  int *cols, int *rows, char **cause);

#endif
