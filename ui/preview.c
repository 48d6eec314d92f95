/*
 * preview.c — image previews: gdk-pixbuf decodes, libchafa draws.
 *
 * Decoding: the first bytes pick one of three gdk-pixbuf loaders (png,
 * jpeg, gif), so no other loader ever sees untrusted bytes.  PNG and GIF
 * headers give the size before anything is decoded, and huge images are
 * refused there; the loader's size-prepared signal then asks for the image
 * already scaled down to what the preview can show (JPEG decodes straight
 * at that scale), and refuses a JPEG over the limit.  A JPEG's EXIF
 * orientation is applied, as phone photos need.
 *
 * Drawing: a chafa canvas of the box's size (aspect kept, a cell being
 * about twice as tall as wide) in symbols mode with only block elements
 * and the space, in the colour mode the terminal has.  Each cell is read
 * back (glyph, colours) into a plain array; a glyph outside the space,
 * block elements and braille is replaced by a space, whatever chafa does.
 *
 * Detection is by the environment, in this order: WADESK_PREVIEW forces a
 * mode; tmux and screen only pass text, so pixels become symbols there;
 * TERM unset or dumb means no preview; then libchafa's terminal database
 * (chafa_term_db_detect(), which reads TERM, KITTY_WINDOW_ID,
 * TERM_PROGRAM, VTE_VERSION...) says whether the terminal speaks kitty's
 * graphics protocol (preferred) or sixel; else symbols.
 */
#include "preview.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chafa.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "util.h"

#define MAX_FILE_BYTES   (16 * 1000 * 1000)
#define PIXELS_PER_COL   8      /* decode at most this many pixels per cell */
#define PIXELS_PER_ROW   16
#define DEFAULT_CELL_W   10
#define DEFAULT_CELL_H   20

extern char **environ;

static const char *const mode_names[] = {
	[PREVIEW_OFF] = "off", [PREVIEW_SYMBOLS] = "symbols",
	[PREVIEW_SIXEL] = "sixel", [PREVIEW_KITTY] = "kitty",
};

const char *
preview_mode_name(enum preview_mode m)
{
	return mode_names[m];
}

static const char *
env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int
in_multiplexer(char *const *env)
{
	const char *term = env_get(env, "TERM");
	const char *tmux = env_get(env, "TMUX");

	return (tmux != NULL && *tmux != '\0') ||
	       (term != NULL && (strncmp(term, "tmux", 4) == 0 ||
				 strncmp(term, "screen", 6) == 0));
}

/* What libchafa's database says the terminal can draw. */
static int
term_has(char *const *env, ChafaTermSeq seq)
{
	ChafaTermInfo *ti = chafa_term_db_detect(chafa_term_db_get_default(),
						 (gchar **)env);
	int has = chafa_term_info_have_seq(ti, seq);

	chafa_term_info_unref(ti);
	return has;
}

enum preview_mode
preview_detect(char *const *env)
{
	const char *force, *term;

	if (env == NULL)
		env = environ;
	force = env_get(env, "WADESK_PREVIEW");
	if (force != NULL) {
		for (size_t i = 0; i < ARRAY_LEN(mode_names); i++) {
			if (strcmp(force, mode_names[i]) != 0)
				continue;
			if (i >= PREVIEW_SIXEL && in_multiplexer(env))
				return PREVIEW_SYMBOLS;
			return (enum preview_mode)i;
		}
	}
	term = env_get(env, "TERM");
	if (term == NULL || *term == '\0' || strcmp(term, "dumb") == 0)
		return PREVIEW_OFF;
	if (in_multiplexer(env))
		return PREVIEW_SYMBOLS;
	if (term_has(env, CHAFA_TERM_SEQ_BEGIN_KITTY_IMMEDIATE_IMAGE_V1))
		return PREVIEW_KITTY;
	if (term_has(env, CHAFA_TERM_SEQ_BEGIN_SIXELS))
		return PREVIEW_SIXEL;
	return PREVIEW_SYMBOLS;
}

/* --- decoding ------------------------------------------------------------ */

struct load {
	int max_w, max_h;     /* pixels worth decoding */
	int width, height;    /* the image's own size */
	int too_big;
	int jpeg;             /* scaled while decoding: the larger limit */
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
too_big(int64_t w, int64_t h, int jpeg)
{
	if (jpeg)
		return w * h > PREVIEW_MAX_PIXELS_JPEG;
	return w > PREVIEW_MAX_SIDE || h > PREVIEW_MAX_SIDE || w * h > PREVIEW_MAX_PIXELS;
}

/* The loader for the first bytes, and the size when the header has it. */
static const char *
image_format(const unsigned char *p, size_t n, int64_t *w, int64_t *h)
{
	*w = *h = 0;
	if (n >= 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0) {
		*w = be32(p + 16);
		*h = be32(p + 20);
		return "png";
	}
	if (n >= 10 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) {
		*w = p[6] | p[7] << 8;
		*h = p[8] | p[9] << 8;
		return "gif";
	}
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "jpeg";
	return NULL;
}

static void
on_size_prepared(GdkPixbufLoader *loader, gint w, gint h, gpointer data)
{
	struct load *l = data;

	l->width = w;
	l->height = h;
	if (too_big(w, h, l->jpeg)) {
		l->too_big = 1;
		gdk_pixbuf_loader_set_size(loader, 1, 1);
		return;
	}
	if (w > l->max_w || h > l->max_h) {
		double s = (double)l->max_w / w;
		if ((double)l->max_h / h < s)
			s = (double)l->max_h / h;
		gint sw = (gint)(w * s), sh = (gint)(h * s);
		gdk_pixbuf_loader_set_size(loader, sw > 0 ? sw : 1, sh > 0 ? sh : 1);
	}
}

/* A decoded, possibly scaled, image (a new reference) or NULL with *cause. */
static GdkPixbuf *
decode(const void *data, size_t len, int max_w, int max_h, int *width, int *height,
       char **cause)
{
	struct load l = { .max_w = max_w, .max_h = max_h };
	GdkPixbufLoader *loader;
	GdkPixbuf *pb = NULL;
	GError *err = NULL;
	int64_t w, h;
	gboolean ok;
	const char *fmt = image_format(data, len, &w, &h);

	if (fmt == NULL) {
		*cause = xstrdup("not a PNG, JPEG or GIF image");
		return NULL;
	}
	l.jpeg = strcmp(fmt, "jpeg") == 0;
	if (too_big(w, h, l.jpeg)) {
		*cause = xasprintf("image is too large to preview (%lldx%lld)",
				   (long long)w, (long long)h);
		return NULL;
	}
	loader = gdk_pixbuf_loader_new_with_type(fmt, &err);
	if (loader == NULL) {
		*cause = xasprintf("cannot decode %s: %s", fmt, err->message);
		g_error_free(err);
		return NULL;
	}
	g_signal_connect(loader, "size-prepared", G_CALLBACK(on_size_prepared), &l);
	/* close exactly once, also after a failed write (else gdk-pixbuf warns) */
	ok = gdk_pixbuf_loader_write(loader, data, len, &err);
	ok = gdk_pixbuf_loader_close(loader, ok ? &err : NULL) && ok;
	if (l.too_big) {
		*cause = xasprintf("image is too large to preview (%dx%d)", l.width, l.height);
		goto out;
	}
	if (!ok) {
		*cause = xasprintf("cannot decode %s: %s", fmt,
				   err != NULL ? err->message : "unknown error");
		goto out;
	}
	pb = gdk_pixbuf_loader_get_pixbuf(loader);
	if (pb == NULL) {
		*cause = xasprintf("cannot decode %s: no image in the data", fmt);
		goto out;
	}
	/* phone photos: EXIF orientation applied (a new reference either way) */
	pb = gdk_pixbuf_apply_embedded_orientation(pb);
	*width = l.width;
	*height = l.height;
out:
	g_clear_error(&err);
	g_object_unref(loader);
	return pb;
}

/* --- drawing ------------------------------------------------------------- */

/* A canvas of at most max_cols x max_rows holding the image; *cols, *rows its size. */
static ChafaCanvas *
draw(GdkPixbuf *pb, ChafaPixelMode pixel_mode, ChafaCanvasMode canvas_mode,
     int max_cols, int max_rows, int cell_w, int cell_h, int *cols, int *rows)
{
	ChafaCanvasConfig *cfg = chafa_canvas_config_new();
	ChafaSymbolMap *map = chafa_symbol_map_new();
	ChafaCanvas *canvas;
	gint w = max_cols, h = max_rows;

	chafa_calc_canvas_geometry(gdk_pixbuf_get_width(pb), gdk_pixbuf_get_height(pb),
				   &w, &h, (gfloat)cell_w / (gfloat)cell_h, TRUE, FALSE);
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	chafa_symbol_map_add_by_tags(map, CHAFA_SYMBOL_TAG_BLOCK | CHAFA_SYMBOL_TAG_SPACE);
	chafa_canvas_config_set_symbol_map(cfg, map);
	chafa_canvas_config_set_geometry(cfg, w, h);
	chafa_canvas_config_set_cell_geometry(cfg, cell_w, cell_h);
	chafa_canvas_config_set_canvas_mode(cfg, canvas_mode);
	chafa_canvas_config_set_pixel_mode(cfg, pixel_mode);
	canvas = chafa_canvas_new(cfg);
	chafa_canvas_draw_all_pixels(canvas,
		gdk_pixbuf_get_has_alpha(pb) ? CHAFA_PIXEL_RGBA8_UNASSOCIATED : CHAFA_PIXEL_RGB8,
		gdk_pixbuf_read_pixels(pb), gdk_pixbuf_get_width(pb),
		gdk_pixbuf_get_height(pb), gdk_pixbuf_get_rowstride(pb));
	chafa_symbol_map_unref(map);
	chafa_canvas_config_unref(cfg);
	*cols = w;
	*rows = h;
	return canvas;
}

static int
glyph_allowed(gunichar c)
{
	return c == ' ' || (c >= 0x2580 && c <= 0x259f) || (c >= 0x2800 && c <= 0x28ff);
}

static void
cell_fill(struct preview_cell *cell, ChafaCanvas *canvas, int x, int y, int indexed)
{
	gunichar c = chafa_canvas_get_char_at(canvas, x, y);
	gint fg, bg;

	if (!glyph_allowed(c))
		c = ' ';
	memset(cell->glyph, 0, sizeof cell->glyph);
	g_unichar_to_utf8(c, cell->glyph);
	chafa_canvas_get_colors_at(canvas, x, y, &fg, &bg);
	cell->fg = fg < 0 ? -1 : (int32_t)(fg & 0xffffff);
	cell->bg = bg < 0 ? -1 : (int32_t)(bg & 0xffffff);
	cell->fg_index = cell->bg_index = -1;
	if (indexed) {
		chafa_canvas_get_raw_colors_at(canvas, x, y, &fg, &bg);
		cell->fg_index = fg >= 0 && fg < 256 ? (int16_t)fg : -1;
		cell->bg_index = bg >= 0 && bg < 256 ? (int16_t)bg : -1;
	}
}

int
preview_render(const void *data, size_t len, int max_cols, int max_rows,
	       enum preview_colors colors, struct preview **out, char **cause)
{
	static const ChafaCanvasMode modes[] = {
		[PREVIEW_COLORS_256] = CHAFA_CANVAS_MODE_INDEXED_240,
		[PREVIEW_COLORS_16] = CHAFA_CANVAS_MODE_INDEXED_16,
		[PREVIEW_COLORS_TRUE] = CHAFA_CANVAS_MODE_TRUECOLOR,
	};
	struct preview *p;
	ChafaCanvas *canvas;
	GdkPixbuf *pb;
	int w = 0, h = 0;

	if (max_cols < 1 || max_rows < 1) {
		*cause = xasprintf("no room for a preview (%dx%d cells)", max_cols, max_rows);
		return -1;
	}
	pb = decode(data, len, max_cols * PIXELS_PER_COL, max_rows * PIXELS_PER_ROW,
		    &w, &h, cause);
	if (pb == NULL)
		return -1;
	p = xcalloc(1, sizeof *p);
	p->width = w;
	p->height = h;
	canvas = draw(pb, CHAFA_PIXEL_MODE_SYMBOLS, modes[colors], max_cols, max_rows,
		      DEFAULT_CELL_W, DEFAULT_CELL_H, &p->cols, &p->rows);
	p->cells = xcalloc((size_t)p->cols * (size_t)p->rows, sizeof *p->cells);
	for (int y = 0; y < p->rows; y++)
		for (int x = 0; x < p->cols; x++)
			cell_fill(&p->cells[(size_t)y * (size_t)p->cols + (size_t)x], canvas,
				  x, y, colors != PREVIEW_COLORS_TRUE);
	chafa_canvas_unref(canvas);
	g_object_unref(pb);
	*out = p;
	return 0;
}

int
preview_render_file(const char *path, int max_cols, int max_rows,
		    enum preview_colors colors, struct preview **out, char **cause)
{
	struct buf b = {0};
	char chunk[65536];
	size_t k;
	int rc;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		*cause = xasprintf("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b.len + k > MAX_FILE_BYTES) {
			*cause = xasprintf("cannot preview '%s': larger than %d bytes",
					   path, MAX_FILE_BYTES);
			fclose(f);
			buf_free(&b);
			return -1;
		}
		buf_append(&b, chunk, k);
	}
	if (ferror(f)) {
		*cause = xasprintf("cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	rc = preview_render(b.data, b.len, max_cols, max_rows, colors, out, cause);
	buf_free(&b);
	return rc;
}

void
preview_free(struct preview *p)
{
	if (p == NULL)
		return;
	free(p->cells);
	free(p);
}

const struct preview_cell *
preview_cell(const struct preview *p, int col, int row)
{
	return &p->cells[(size_t)row * (size_t)p->cols + (size_t)col];
}

int
preview_render_pixels(const void *data, size_t len, enum preview_mode mode,
		      char *const *env, int max_cols, int max_rows,
		      int cell_w, int cell_h, char **seq, size_t *seqlen,
		      int *cols, int *rows, char **cause)
{
	ChafaTermSeq need;
	ChafaPixelMode pm;
	ChafaTermInfo *ti;
	ChafaCanvas *canvas;
	GdkPixbuf *pb;
	GString *s;
	int w, h;

	if (mode == PREVIEW_KITTY) {
		need = CHAFA_TERM_SEQ_BEGIN_KITTY_IMMEDIATE_IMAGE_V1;
		pm = CHAFA_PIXEL_MODE_KITTY;
	} else if (mode == PREVIEW_SIXEL) {
		need = CHAFA_TERM_SEQ_BEGIN_SIXELS;
		pm = CHAFA_PIXEL_MODE_SIXELS;
	} else {
		*cause = xasprintf("%s is not a pixel mode", preview_mode_name(mode));
		return -1;
	}
	if (max_cols < 1 || max_rows < 1) {
		*cause = xasprintf("no room for a preview (%dx%d cells)", max_cols, max_rows);
		return -1;
	}
	if (cell_w <= 0 || cell_h <= 0) {
		cell_w = DEFAULT_CELL_W;
		cell_h = DEFAULT_CELL_H;
	}
	if (env == NULL)
		env = environ;
	ti = chafa_term_db_detect(chafa_term_db_get_default(), (gchar **)env);
	if (!chafa_term_info_have_seq(ti, need)) {
		*cause = xasprintf("this terminal has no %s graphics", preview_mode_name(mode));
		chafa_term_info_unref(ti);
		return -1;
	}
	pb = decode(data, len, max_cols * cell_w, max_rows * cell_h, &w, &h, cause);
	if (pb == NULL) {
		chafa_term_info_unref(ti);
		return -1;
	}
	canvas = draw(pb, pm, CHAFA_CANVAS_MODE_TRUECOLOR, max_cols, max_rows,
		      cell_w, cell_h, cols, rows);
	s = chafa_canvas_print(canvas, ti);
	*seqlen = s->len;
	*seq = xmalloc(s->len + 1);
	memcpy(*seq, s->str, s->len + 1);
	g_string_free(s, TRUE);
	chafa_canvas_unref(canvas);
	chafa_term_info_unref(ti);
	g_object_unref(pb);
	return 0;
}
