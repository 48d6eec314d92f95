/*
 * slurp.h — file helpers the unit tests share: a whole file read into
 * memory, a database removed with its log, a cap on the size of files.
 * Header-only (each test is one translation unit); include it after
 * cmocka.h and util.h.
 */
#ifndef WADESK_TEST_SLURP_H
#define WADESK_TEST_SLURP_H

#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* The database at path, its log and shared memory, and dir. */
static inline void
remove_db(const char *dir, const char *path)
{
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	unlink(path);
	unlink(wal);
	unlink(shm);
	rmdir(dir);
	free(wal);
	free(shm);
}

/* Files may not grow past size bytes (RLIMIT_FSIZE; a write past it
 * fails with EFBIG instead of raising SIGXFSZ) until files_uncap(old). */
static inline void
files_cap(rlim_t size, struct rlimit *old)
{
	assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
	struct rlimit lim = *old;
	lim.rlim_cur = size;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static inline void
files_uncap(const struct rlimit *old)
{
	assert_int_equal(setrlimit(RLIMIT_FSIZE, old), 0);
	signal(SIGXFSZ, SIG_DFL);
}

#endif
