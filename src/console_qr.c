/*
 * console_qr.c — QR codes for the terminal (see console_qr.h).  Each text
 * line covers two module rows: upper half block, lower half block, full
 * block or space, so a 33-module code takes 37 columns and 19 lines.
 */
#include <stdlib.h>

#include <qrencode.h>

#include "console_qr.h"
#include "util.h"

#define QUIET 2

static int
light(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 1;
	return (q->data[y * q->width + x] & 1) == 0;
}

char **
console_qr_lines(const char *text, size_t *n, int *width)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	*n = 0;
	if (q == NULL)
		return NULL;
	int w = q->width + 2 * QUIET, rows = (w + 1) / 2;
	char **v = xcalloc((size_t)rows, sizeof *v);
	for (int r = 0; r < rows; r++) {
		struct buf b = {0};
		int y = 2 * r - QUIET;
		for (int x = -QUIET; x < q->width + QUIET; x++) {
			int top = light(q, x, y), bot = 2 * r + 1 < w ? light(q, x, y + 1) : 0;
			buf_puts(&b, top && bot ? "\xe2\x96\x88" : top ? "\xe2\x96\x80" :
			    bot ? "\xe2\x96\x84" : " ");
		}
		v[r] = buf_steal(&b);
	}
	*n = (size_t)rows;
	*width = w;
	QRcode_free(q);
	return v;
}
