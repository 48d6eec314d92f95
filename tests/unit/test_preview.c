/*
 * Unit tests for ui/preview.c: images are made here with gdk-pixbuf
 * (a 16x16 PNG, left half red, right half blue; JPEG; a hand-made GIF),
 * rendered into a cell box and checked for size, colours and glyphs;
 * hostile inputs are refused; terminal detection runs on made-up
 * environments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "ui/preview.h"
#include "util.h"

/* A w x h image, left half red, right half blue, encoded as fmt ("png", "jpeg"). */
static char *
make_image(const char *fmt, int w, int h, gsize *len)
{
	GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
	guchar *px = gdk_pixbuf_get_pixels(pb);
	int stride = gdk_pixbuf_get_rowstride(pb);
	gchar *out = NULL;
	GError *err = NULL;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			guchar *p = px + y * stride + x * 3;
			p[0] = x < w / 2 ? 230 : 10;
			p[1] = 10;
			p[2] = x < w / 2 ? 10 : 230;
		}
	if (!gdk_pixbuf_save_to_buffer(pb, &out, len, fmt, &err, NULL))
		fail_msg("cannot encode %s: %s", fmt, err->message);
	g_object_unref(pb);
	char *copy = xmalloc(*len);
	memcpy(copy, out, *len);
	g_free(out);
	return copy;
}

/* The colour a cell shows most of: the background for a space, else the foreground. */
static int32_t
shown(const struct preview_cell *c)
{
	return strcmp(c->glyph, " ") == 0 ? c->bg : c->fg;
}

static int
glyph_ok(const char *g)
{
	const unsigned char *u = (const unsigned char *)g;
	if (strcmp(g, " ") == 0)
		return 1;
	if (strlen(g) != 3)
		return 0;
	unsigned cp = (u[0] & 0x0f) << 12 | (u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	return (cp >= 0x2580 && cp <= 0x259f) || (cp >= 0x2800 && cp <= 0x28ff);
}

static void
check_glyphs(const struct preview *p)
{
	for (int y = 0; y < p->rows; y++)
		for (int x = 0; x < p->cols; x++)
			assert_true(glyph_ok(preview_cell(p, x, y)->glyph));
}

static void
test_two_colours(void **state)
{
	(void)state;
	gsize len;
	char *png = make_image("png", 16, 16, &len), *cause = NULL;
	struct preview *p = NULL;

	assert_int_equal(preview_render(png, len, 8, 4, PREVIEW_COLORS_TRUE, &p, &cause), 0);
	assert_int_equal(p->width, 16);
	assert_int_equal(p->height, 16);
	assert_int_equal(p->cols, 8);      /* square image: twice as many columns as rows */
	assert_int_equal(p->rows, 4);
	check_glyphs(p);
	for (int y = 0; y < p->rows; y++) {
		int32_t left = shown(preview_cell(p, 0, y));
		int32_t right = shown(preview_cell(p, p->cols - 1, y));
		assert_int_not_equal(left, right);
		assert_true(((left >> 16) & 0xff) > (left & 0xff));     /* red */
		assert_true((right & 0xff) > ((right >> 16) & 0xff));   /* blue */
		assert_int_equal(preview_cell(p, 0, y)->fg_index, -1);
		assert_int_equal(preview_cell(p, 0, y)->bg_index, -1);
	}
	preview_free(p);

	/* 256 colours: the fixed 240, never the themed first 16 */
	assert_int_equal(preview_render(png, len, 8, 4, PREVIEW_COLORS_256, &p, &cause), 0);
	for (int y = 0; y < p->rows; y++) {
		const struct preview_cell *l = preview_cell(p, 0, y), *r = preview_cell(p, 7, y);
		int16_t li = strcmp(l->glyph, " ") == 0 ? l->bg_index : l->fg_index;
		int16_t ri = strcmp(r->glyph, " ") == 0 ? r->bg_index : r->fg_index;
		assert_true(li >= 16 && li <= 255);
		assert_true(ri >= 16 && ri <= 255);
		assert_int_not_equal(li, ri);
	}
	preview_free(p);

	/* 16 colours */
	assert_int_equal(preview_render(png, len, 8, 4, PREVIEW_COLORS_16, &p, &cause), 0);
	const struct preview_cell *c = preview_cell(p, 0, 0);
	assert_true((c->bg_index >= 0 && c->bg_index < 16) || (c->fg_index >= 0 && c->fg_index < 16));
	preview_free(p);
	free(png);
}

static void
test_aspect_and_formats(void **state)
{
	(void)state;
	gsize len;
	char *cause = NULL;
	struct preview *p = NULL;

	/* a wide image fills the width and few rows */
	char *png = make_image("png", 64, 16, &len);
	assert_int_equal(preview_render(png, len, 20, 10, PREVIEW_COLORS_TRUE, &p, &cause), 0);
	assert_int_equal(p->cols, 20);
	assert_true(p->rows >= 2 && p->rows <= 4);
	preview_free(p);
	free(png);

	/* a large JPEG is decoded scaled down and fits the box */
	char *jpg = make_image("jpeg", 1200, 900, &len);
	assert_int_equal(preview_render(jpg, len, 40, 12, PREVIEW_COLORS_256, &p, &cause), 0);
	assert_int_equal(p->width, 1200);
	assert_int_equal(p->height, 900);
	assert_true(p->cols <= 40 && p->rows <= 12);
	assert_true(p->cols == 40 || p->rows == 12);
	check_glyphs(p);
	preview_free(p);
	free(jpg);

	/* a 2x1 GIF made by hand (colour table red, blue) */
	static const unsigned char gif[] = {
		'G', 'I', 'F', '8', '9', 'a', 2, 0, 1, 0, 0x80, 0, 0,
		0xff, 0, 0, 0, 0, 0xff,
		0x2c, 0, 0, 0, 0, 2, 0, 1, 0, 0,
		0x02, 0x02, 0x44, 0x0a, 0x00, 0x3b,
	};
	assert_int_equal(preview_render(gif, sizeof gif, 4, 2, PREVIEW_COLORS_TRUE, &p, &cause), 0);
	assert_int_equal(p->width, 2);
	assert_int_equal(p->height, 1);
	check_glyphs(p);
	preview_free(p);
}

/* Transparent pixels leave the terminal's own background (-1). */
static void
test_transparent(void **state)
{
	(void)state;
	GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, 16, 16);
	guchar *px = gdk_pixbuf_get_pixels(pb);
	int stride = gdk_pixbuf_get_rowstride(pb);
	gchar *png = NULL;
	gsize len;
	char *cause = NULL;
	struct preview *p = NULL;

	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 16; x++) {
			guchar *q = px + y * stride + x * 4;
			q[0] = 0; q[1] = 200; q[2] = 0;
			q[3] = x < 8 ? 0 : 255;
		}
	assert_true(gdk_pixbuf_save_to_buffer(pb, &png, &len, "png", NULL, NULL));
	assert_int_equal(preview_render(png, len, 8, 4, PREVIEW_COLORS_256, &p, &cause), 0);
	for (int y = 0; y < p->rows; y++) {
		const struct preview_cell *l = preview_cell(p, 0, y), *r = preview_cell(p, 7, y);
		assert_string_equal(l->glyph, " ");
		assert_int_equal(l->bg, -1);
		assert_int_equal(l->bg_index, -1);
		assert_int_not_equal(shown(r), -1);
		assert_true(((shown(r) >> 8) & 0xff) > 100);      /* green */
	}
	preview_free(p);
	g_free(png);
	g_object_unref(pb);
}

static void
test_refused(void **state)
{
	(void)state;
	char *cause = NULL;
	struct preview *p = NULL;
	gsize len;

	assert_int_equal(preview_render("%PDF-1.4", 8, 8, 4, PREVIEW_COLORS_TRUE, &p, &cause), -1);
	assert_string_equal(cause, "not a PNG, JPEG or GIF image");
	free(cause);
	assert_int_equal(preview_render("", 0, 8, 4, PREVIEW_COLORS_TRUE, &p, &cause), -1);
	free(cause);

	/* a header promising 30000x30000 pixels is refused before decoding */
	char *png = make_image("png", 16, 16, &len);
	char *big = xmalloc(len);
	memcpy(big, png, len);
	static const unsigned char side[4] = { 0, 0, 0x75, 0x30 };
	memcpy(big + 16, side, 4);
	memcpy(big + 20, side, 4);
	assert_int_equal(preview_render(big, len, 8, 4, PREVIEW_COLORS_TRUE, &p, &cause), -1);
	assert_string_equal(cause, "image is too large to preview (30000x30000)");
	free(cause);

	/* a JPEG whose frame header claims 65000x65000 (its size-prepared check) */
	gsize jlen;
	char *jpg = make_image("jpeg", 16, 16, &jlen);
	size_t sof = 2;
	while (sof + 9 < jlen && !((unsigned char)jpg[sof] == 0xff && (unsigned char)jpg[sof + 1] == 0xc0))
		sof++;
	assert_true(sof + 9 < jlen);
	static const unsigned char huge[2] = { 0xfd, 0xe8 };
	memcpy(jpg + sof + 5, huge, 2);
	memcpy(jpg + sof + 7, huge, 2);
	assert_int_equal(preview_render(jpg, jlen, 8, 4, PREVIEW_COLORS_TRUE, &p, &cause), -1);
	assert_string_equal(cause, "image is too large to preview (65000x65000)");
	free(cause);
	free(jpg);

	/* truncated data is a decoding error, not a crash */
	assert_int_equal(preview_render(png, 40, 8, 4, PREVIEW_COLORS_TRUE, &p, &cause), -1);
	assert_true(strncmp(cause, "cannot decode png: ", 19) == 0);
	free(cause);
	assert_int_equal(preview_render(png, len, 0, 4, PREVIEW_COLORS_TRUE, &p, &cause), -1);
	free(cause);
	assert_int_equal(preview_render_file("/nonexistent.png", 8, 4, PREVIEW_COLORS_TRUE,
					     &p, &cause), -1);
	assert_string_equal(cause, "cannot open '/nonexistent.png': No such file or directory");
	free(cause);
	preview_free(NULL);
	free(big);
	free(png);
}

static void
test_file(void **state)
{
	(void)state;
	gsize len;
	char *png = make_image("png", 16, 16, &len), *cause = NULL;
	char path[] = "/tmp/test_preview.XXXXXX";
	int fd = mkstemp(path);
	struct preview *p = NULL;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, png, len), (ssize_t)len);
	close(fd);
	assert_int_equal(preview_render_file(path, 8, 4, PREVIEW_COLORS_TRUE, &p, &cause), 0);
	assert_int_equal(p->cols, 8);
	preview_free(p);
	unlink(path);
	free(png);
}

static void
test_detect(void **state)
{
	(void)state;
	static const struct {
		const char *env[4];
		enum preview_mode want;
	} rows[] = {
		{ { "TERM=xterm-256color" }, PREVIEW_SYMBOLS },
		{ { "TERM=xterm-kitty" }, PREVIEW_KITTY },
		{ { "TERM=foot" }, PREVIEW_SIXEL },
		{ { "TERM=mlterm" }, PREVIEW_SIXEL },
		{ { "TERM=xterm-kitty", "TMUX=/tmp/tmux-0/default,1,0" }, PREVIEW_SYMBOLS },
		{ { "TERM=tmux-256color" }, PREVIEW_SYMBOLS },
		{ { "TERM=screen" }, PREVIEW_SYMBOLS },
		{ { "TERM=dumb" }, PREVIEW_OFF },
		{ { "HOME=/root" }, PREVIEW_OFF },
		{ { "TERM=xterm", "WADESK_PREVIEW=off" }, PREVIEW_OFF },
		{ { "TERM=xterm", "WADESK_PREVIEW=kitty" }, PREVIEW_KITTY },
		{ { "TERM=screen", "WADESK_PREVIEW=sixel" }, PREVIEW_SYMBOLS },
		{ { "TERM=xterm-kitty", "WADESK_PREVIEW=symbols" }, PREVIEW_SYMBOLS },
		{ { "TERM=xterm", "WADESK_PREVIEW=bogus" }, PREVIEW_SYMBOLS },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		enum preview_mode m = preview_detect((char *const *)rows[i].env);
		if (m != rows[i].want)
			fail_msg("%s %s: got %s", rows[i].env[0],
				 rows[i].env[1] ? rows[i].env[1] : "",
				 preview_mode_name(m));
	}
	assert_string_equal(preview_mode_name(PREVIEW_SIXEL), "sixel");
}

static void
test_pixels(void **state)
{
	(void)state;
	static const char *kitty[] = { "TERM=xterm-kitty", NULL };
	static const char *foot[] = { "TERM=foot", NULL };
	static const char *xterm[] = { "TERM=xterm-256color", NULL };
	gsize len;
	char *png = make_image("png", 16, 16, &len), *seq = NULL, *cause = NULL;
	size_t n;
	int cols, rows;

	assert_int_equal(preview_render_pixels(png, len, PREVIEW_KITTY, (char *const *)kitty,
					       8, 4, 10, 20, &seq, &n, &cols, &rows, &cause), 0);
	assert_true(n > 3 && memcmp(seq, "\033_G", 3) == 0);
	assert_true(cols <= 8 && rows <= 4);
	free(seq);
	assert_int_equal(preview_render_pixels(png, len, PREVIEW_SIXEL, (char *const *)foot,
					       8, 4, 0, 0, &seq, &n, &cols, &rows, &cause), 0);
	assert_true(n > 2 && memcmp(seq, "\033P", 2) == 0);
	free(seq);
	assert_int_equal(preview_render_pixels(png, len, PREVIEW_KITTY, (char *const *)xterm,
					       8, 4, 10, 20, &seq, &n, &cols, &rows, &cause), -1);
	assert_string_equal(cause, "this terminal has no kitty graphics");
	free(cause);
	assert_int_equal(preview_render_pixels(png, len, PREVIEW_SYMBOLS, (char *const *)kitty,
					       8, 4, 10, 20, &seq, &n, &cols, &rows, &cause), -1);
	free(cause);
	free(png);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_colours),
		cmocka_unit_test(test_aspect_and_formats),
		cmocka_unit_test(test_transparent),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_pixels),
	};
	return cmocka_run_group_tests_name("preview", tests, NULL, NULL);
}
