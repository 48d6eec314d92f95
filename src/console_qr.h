/*
 * console_qr.h — a QR code as lines of text (libqrencode), two modules per
 * character cell with half blocks, light modules drawn, dark ones blank, a
 * quiet zone of two modules: it scans on the dark background terminals
 * default to.
 */
#ifndef WADESK_CONSOLE_QR_H
#define WADESK_CONSOLE_QR_H

#include <stddef.h>

/* Lines (xmalloc'd array of *n xmalloc'd UTF-8 strings, all the same
 * width: *width columns), or NULL when text cannot be encoded. Free with
 * console_lines_free (console.h). */
char **console_qr_lines(const char *text, size_t *n, int *width);

#endif
