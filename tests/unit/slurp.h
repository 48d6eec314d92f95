/*
 * slurp.h — a helper the unit tests share: a whole file read into memory.
 * Header-only (each test is one translation unit); include it after
 * cmocka.h and util.h.
 */
#ifndef WADESK_TEST_SLURP_H
#define WADESK_TEST_SLURP_H

#include <stdio.h>

/* The whole file at path, NUL-terminated (xmalloc'd); its size in *n when
 * n is not NULL.  A file that cannot be opened fails the test. */
static inline char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	struct buf b = {0};
	char chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, k);
	fclose(f);
	if (n != NULL)
		*n = b.len;
	return buf_steal(&b);
}

#endif
