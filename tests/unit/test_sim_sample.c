/*
 * Unit tests for sim_sample.c: the simulated customers' PNG and PDF are
 * what libmagic says they are, the PNG decodes (gdk-pixbuf checks every
 * CRC and the zlib Adler-32) to 32x32 pixels of two colours, the PDF's
 * cross-reference offsets point at its objects, and the same seed gives
 * the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "sim_sample.h"
#include "sniff.h"
#include "util.h"

static void
sniffs_as(const struct buf *b, const char *mime)
{
	char *cause = NULL;
	struct sniff *s = sniff_new(&cause);
	struct sniff_result r = { 0 };
	assert_non_null(s);
	assert_int_equal(sniff_buffer(s, b->data, b->len, NULL, &r), 0);
	assert_string_equal(r.type->mime, mime);
	sniff_result_release(&r);
	sniff_free(s);
}

static void
test_png(void **state)
{
	(void)state;
	struct buf a = { 0 }, b = { 0 }, c = { 0 };
	GdkPixbufLoader *loader;
	GdkPixbuf *pix;
	GError *err = NULL;

	sim_sample_png(7, &a);
	sim_sample_png(7, &b);
	sim_sample_png(8, &c);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_memory_not_equal(a.data, c.data, a.len < c.len ? a.len : c.len);
	sniffs_as(&a, "image/png");

	loader = gdk_pixbuf_loader_new_with_type("png", &err);
	assert_non_null(loader);
	if (!gdk_pixbuf_loader_write(loader, (const guchar *)a.data, a.len, &err) ||
	    !gdk_pixbuf_loader_close(loader, &err))
		fail_msg("PNG does not decode: %s", err != NULL ? err->message : "?");
	pix = gdk_pixbuf_loader_get_pixbuf(loader);
	assert_non_null(pix);
	assert_int_equal(gdk_pixbuf_get_width(pix), 32);
	assert_int_equal(gdk_pixbuf_get_height(pix), 32);
	{
		const guchar *px = gdk_pixbuf_read_pixels(pix);
		int stride = gdk_pixbuf_get_rowstride(pix), nch = gdk_pixbuf_get_n_channels(pix);
		int differ = 0;
		for (int y = 0; y < 32; y++)
			for (int x = 0; x < 32; x++)
				if (memcmp(px + y * stride + x * nch, px, 3) != 0)
					differ = 1;
		assert_true(differ);        /* a pattern, not a flat square */
	}
	g_object_unref(loader);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

static void
test_pdf(void **state)
{
	(void)state;
	struct buf b = { 0 };
	const char *xref, *p;
	long start;

	sim_sample_pdf("INV-0042 (x)\x1b", &b);
	sniffs_as(&b, "application/pdf");
	assert_memory_equal(b.data, "%PDF-1.4\n", 9);
	assert_non_null(strstr(b.data, "(Invoice INV-0042 ?x?" "?) Tj"));
	/* startxref points at "xref"; each entry at "N 0 obj". */
	p = strstr(b.data, "startxref\n");
	assert_non_null(p);
	start = strtol(p + 10, NULL, 10);
	xref = b.data + start;
	assert_memory_equal(xref, "xref\n0 5\n", 9);
	p = strchr(xref + 9, '\n') + 1;             /* past the free entry */
	for (int obj = 1; obj <= 4; obj++, p += 20) {
		char want[16];
		long off = strtol(p, NULL, 10);
		snprintf(want, sizeof want, "%d 0 obj", obj);
		assert_memory_equal(b.data + off, want, strlen(want));
	}
	assert_non_null(strstr(b.data, "%%EOF\n"));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png),
		cmocka_unit_test(test_pdf),
	};
	return cmocka_run_group_tests_name("sim_sample", tests, NULL, NULL);
}
