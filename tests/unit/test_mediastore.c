/*
 * Unit tests for mediastore.c: round trip, deduplication, abort and
 * refusals leave nothing behind, the cap is enforced while streaming,
 * hashes from outside cannot walk out of the store, and writers of the
 * same content racing in threads end with one intact file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "mediastore.h"
#include "sha256.h"
#include "util.h"

struct fixture {
	char dir[64];
	struct mediastore *ms;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char *cause = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/test_mediastore.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->ms = mediastore_open(f->dir, &cause);
	if (f->ms == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);

	free(cmd);
	mediastore_free(f->ms);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* Regular files anywhere under DIR/media (temporary ones included). */
static int
count_files(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *sub = xasprintf("%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(sub, &st) == 0)
			n += S_ISDIR(st.st_mode) ? count_files(sub) : 1;
		free(sub);
	}
	closedir(d);
	return n;
}

static int
media_files(const struct fixture *f)
{
	char *p = xasprintf("%s/media", f->dir);
	int n = count_files(p);
	free(p);
	return n;
}

static char *
read_all(const char *path, size_t *len)
{
	struct buf b = {0};
	char chunk[4096];
	size_t k;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return NULL;
	while ((k = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_append(&b, chunk, k);
	fclose(fp);
	*len = b.len;
	return buf_steal(&b);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "The quick brown fox jumps over the lazy dog";
	char hex[MEDIASTORE_HEX_LEN + 1], *cause = NULL;
	int64_t size;
	size_t len;

	assert_int_equal(mediastore_put(f->ms, text, strlen(text), 1000, hex, &cause), 0);
	assert_string_equal(hex, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
	assert_int_equal(mediastore_lookup(f->ms, hex, &size), 0);
	assert_int_equal(size, (int64_t)strlen(text));

	char *path = mediastore_path(f->ms, hex);
	char *want = xasprintf("%s/media/d7/%s", f->dir, hex);
	assert_string_equal(path, want);
	char *got = read_all(path, &len);
	assert_non_null(got);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(got, text, len);
	assert_int_equal(media_files(f), 1);     /* no temporary file left */

	/* a streamed file of many chunks hashes as the whole */
	struct media_writer *w = mediastore_begin(f->ms, -1, &cause);
	struct sha256 h;
	unsigned char d[SHA256_LEN];
	char whole[MEDIASTORE_HEX_LEN + 1];
	char chunk[1000];
	sha256_init(&h);
	assert_non_null(w);
	for (int i = 0; i < 300; i++) {
		memset(chunk, 'a' + i % 26, sizeof chunk);
		assert_int_equal(media_writer_write(w, chunk, (size_t)(i * 7 % 1000), &cause), 0);
		sha256_update(&h, chunk, (size_t)(i * 7 % 1000));
	}
	sha256_final(&h, d);
	hex_encode(d, sizeof d, whole);
	int64_t n = media_writer_size(w);
	assert_int_equal(access(media_writer_path(w), R_OK), 0);
	assert_int_equal(media_writer_commit(w, whole, hex, &cause), 0);
	assert_string_equal(hex, whole);
	assert_int_equal(mediastore_lookup(f->ms, hex, &size), 0);
	assert_int_equal(size, n);

	/* the empty file has a name too */
	assert_int_equal(mediastore_put(f->ms, "", 0, 0, hex, &cause), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(media_files(f), 3);

	free(got);
	free(want);
	free(path);
}

static void
test_dedup(void **state)
{
	struct fixture *f = *state;
	char a[MEDIASTORE_HEX_LEN + 1], b[MEDIASTORE_HEX_LEN + 1], *cause = NULL;
	struct stat st1, st2;

	assert_int_equal(mediastore_put(f->ms, "invoice", 7, -1, a, &cause), 0);
	char *path = mediastore_path(f->ms, a);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(mediastore_put(f->ms, "invoice", 7, -1, b, &cause), 0);
	assert_string_equal(a, b);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);   /* kept, not rewritten */
	assert_int_equal(media_files(f), 1);
	assert_int_equal(mediastore_put(f->ms, "invoicE", 7, -1, b, &cause), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(media_files(f), 2);

	/* a damaged copy (wrong size) is replaced by the next commit */
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("inv", fp);
	fclose(fp);
	assert_int_equal(mediastore_put(f->ms, "invoice", 7, -1, b, &cause), 0);
	int64_t size;
	assert_int_equal(mediastore_lookup(f->ms, a, &size), 0);
	assert_int_equal(size, 7);
	free(path);
}

static void
test_abort_and_mismatch(void **state)
{
	struct fixture *f = *state;
	char hex[MEDIASTORE_HEX_LEN + 1], *cause = NULL;

	struct media_writer *w = mediastore_begin(f->ms, 100, &cause);
	assert_non_null(w);
	assert_int_equal(media_writer_write(w, "half a file", 11, &cause), 0);
	assert_int_equal(media_files(f), 1);      /* the temporary file */
	media_writer_abort(w);
	assert_int_equal(media_files(f), 0);
	media_writer_abort(NULL);

	/* a digest that does not match drops the file */
	w = mediastore_begin(f->ms, 100, &cause);
	assert_int_equal(media_writer_write(w, "tampered", 8, &cause), 0);
	assert_int_equal(media_writer_commit(w,
		"0000000000000000000000000000000000000000000000000000000000000000",
		hex, &cause), -1);
	assert_non_null(strstr(cause, "content does not match its digest (expected 0000"));
	free(cause);
	assert_int_equal(media_files(f), 0);
}

static void
test_over_cap(void **state)
{
	struct fixture *f = *state;
	char hex[MEDIASTORE_HEX_LEN + 1], *cause = NULL;

	struct media_writer *w = mediastore_begin(f->ms, 10, &cause);
	assert_non_null(w);
	assert_int_equal(media_writer_write(w, "12345678", 8, &cause), 0);
	assert_int_equal(media_writer_over_cap(w), 0);
	assert_int_equal(media_writer_write(w, "9ab", 3, &cause), -1);
	assert_string_equal(cause, "file is larger than its cap of 10 bytes");
	free(cause);
	assert_int_equal(media_writer_over_cap(w), 1);
	assert_int_equal(media_writer_size(w), 8);     /* nothing past the cap written */
	assert_int_equal(media_writer_write(w, "9", 1, &cause), -1);  /* stays failed */
	free(cause);
	assert_int_equal(media_writer_commit(w, NULL, hex, &cause), -1);
	free(cause);
	assert_int_equal(media_files(f), 0);

	/* exactly the cap is fine */
	assert_int_equal(mediastore_put(f->ms, "0123456789", 10, 10, hex, &cause), 0);
	assert_int_equal(mediastore_put(f->ms, "0123456789a", 11, 10, hex, &cause), -1);
	free(cause);
	assert_int_equal(media_files(f), 1);
}

static void
test_names(void **state)
{
	struct fixture *f = *state;
	static const char *bad[] = {
		"../../../../etc/passwd",
		"D7A8FBB307D7809469CA9ABCB0082E4F8D5651E46D3CDB762D02D0BF37C9E592",
		"d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e59",
		"d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e5922",
		"d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e59/",
		"d7/d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e5",
		"", "tmp",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_false(mediastore_valid_hash(bad[i]));
		assert_null(mediastore_path(f->ms, bad[i]));
		assert_int_equal(mediastore_lookup(f->ms, bad[i], NULL), -1);
	}
	assert_false(mediastore_valid_hash(NULL));
	/* valid but absent */
	assert_int_equal(mediastore_lookup(f->ms,
		"d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592", NULL), -1);
}

static void
test_open_errors(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;
	char *file = xasprintf("%s/plain", f->dir);
	FILE *fp = fopen(file, "w");

	assert_non_null(fp);
	fclose(fp);
	assert_null(mediastore_open(file, &cause));
	assert_non_null(strstr(cause, "cannot create '"));
	assert_non_null(strstr(cause, "/plain/media': Not a directory"));
	free(cause);
	assert_null(mediastore_open("/nonexistent/dir", &cause));
	assert_string_equal(cause, "cannot create '/nonexistent/dir/media': No such file or directory");
	free(cause);
	mediastore_free(NULL);
	free(file);
}

/* A crashed writer's temporary file goes at the next open if it is old. */
static void
test_sweep(void **state)
{
	struct fixture *f = *state;
	char *cause = NULL;
	char *old = xasprintf("%s/media/tmp/dl-old123", f->dir);
	char *fresh = xasprintf("%s/media/tmp/dl-new123", f->dir);
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	for (int i = 0; i < 2; i++) {
		FILE *fp = fopen(i ? fresh : old, "w");
		assert_non_null(fp);
		fclose(fp);
	}
	assert_int_equal(utimes(old, tv), 0);
	struct mediastore *ms = mediastore_open(f->dir, &cause);
	assert_non_null(ms);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	mediastore_free(ms);
	free(old);
	free(fresh);
}

#define RACERS 6
#define RACE_BYTES (256 * 1024)

struct racer {
	struct mediastore *ms;
	const unsigned char *data;
	pthread_barrier_t *start;
	char hex[MEDIASTORE_HEX_LEN + 1];
	int rc;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	char *cause = NULL;
	struct media_writer *w;

	pthread_barrier_wait(r->start);
	w = mediastore_begin(r->ms, RACE_BYTES, &cause);
	r->rc = -1;
	if (w == NULL)
		goto out;
	for (size_t at = 0; at < RACE_BYTES; at += 4096)
		if (media_writer_write(w, r->data + at, 4096, &cause) == -1) {
			media_writer_abort(w);
			goto out;
		}
	r->rc = media_writer_commit(w, NULL, r->hex, &cause);
out:
	if (cause != NULL)
		fprintf(stderr, "racer: %s\n", cause);
	free(cause);
	return NULL;
}

static void
test_concurrent_same_content(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = xmalloc(RACE_BYTES);
	struct racer r[RACERS];
	pthread_t t[RACERS];
	pthread_barrier_t start;
	unsigned char d[SHA256_LEN];
	char want[MEDIASTORE_HEX_LEN + 1];
	size_t len;

	for (size_t i = 0; i < RACE_BYTES; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	sha256(data, RACE_BYTES, d);
	hex_encode(d, sizeof d, want);
	pthread_barrier_init(&start, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .ms = f->ms, .data = data, .start = &start };
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].rc, 0);
		assert_string_equal(r[i].hex, want);
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(media_files(f), 1);
	char *path = mediastore_path(f->ms, want);
	char *got = read_all(path, &len);
	assert_int_equal(len, RACE_BYTES);
	assert_memory_equal(got, data, RACE_BYTES);
	free(got);
	free(path);
	free(data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_over_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_same_content, setup, teardown),
	};
	return cmocka_run_group_tests_name("mediastore", tests, NULL, NULL);
}
