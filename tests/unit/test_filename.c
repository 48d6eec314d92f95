/* Unit tests for filename.c: hostile names, the length cap, free paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "filename.h"
#include "util.h"

static const struct {
	const char *in;
	const char *out;
} rows[] = {
	{ "invoice.pdf", "invoice.pdf" },
	{ "My Scan 2026.jpg", "My Scan 2026.jpg" },
	{ "../../.bashrc", "bashrc" },
	{ ".bashrc", "bashrc" },
	{ "...hidden", "hidden" },
	{ " . .x", "x" },
	{ "/etc/passwd", "passwd" },
	{ "C:\\Users\\x\\report.pdf", "report.pdf" },
	{ "..\\..\\evil.exe", "evil.exe" },
	{ "a/b\\c/d.txt", "d.txt" },
	{ NULL, "file" },
	{ "", "file" },
	{ ".", "file" },
	{ "..", "file" },
	{ "../", "file" },
	{ "dir/", "file" },
	{ "...", "file" },
	{ "\x1b[2J", "[2J" },
	{ "\x1b]0;x\x07.txt", "]0;x.txt" },
	{ "a\nb\tc.txt", "a b c.txt" },
	{ "invoice\xE2\x80\xAE" "fdp.exe", "invoicefdp.exe" },   /* RLO dropped */
	{ "r\xC3\xA9sum\xC3\xA9.pdf", "r\xC3\xA9sum\xC3\xA9.pdf" },
	{ "\xE5\x8F\x91\xE7\xA5\xA8.pdf", "\xE5\x8F\x91\xE7\xA5\xA8.pdf" },
	{ "bad\xFF.pdf", "bad\xEF\xBF\xBD.pdf" },
	{ "a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt" },
	{ "name.", "name" },
	{ "name .pdf . ", "name .pdf" },
	{ "\x01\x02\x7f", "file" },
};

static void
test_safe_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char *s = filename_safe(rows[i].in);
		assert_string_equal(s, rows[i].out);
		free(s);
	}
}

static void
test_cap(void **state)
{
	(void)state;
	char name[600];
	char *s;

	/* 300 ASCII + ".pdf": cut to 196 + ".pdf" */
	memset(name, 'a', 300);
	strcpy(name + 300, ".pdf");
	s = filename_safe(name);
	assert_int_equal(strlen(s), FILENAME_MAX_BYTES);
	assert_string_equal(s + FILENAME_MAX_BYTES - 4, ".pdf");
	free(s);

	/* exactly 200 bytes: unchanged */
	memset(name, 'b', 196);
	strcpy(name + 196, ".txt");
	s = filename_safe(name);
	assert_string_equal(s, name);
	free(s);

	/* 3-byte characters: the cut never splits one */
	size_t n = 0;
	for (int i = 0; i < 100; i++) {
		memcpy(name + n, "\xE5\x8F\x91", 3);
		n += 3;
	}
	strcpy(name + n, ".pdf");
	s = filename_safe(name);
	size_t len = strlen(s);
	assert_true(len <= FILENAME_MAX_BYTES);
	assert_string_equal(s + len - 4, ".pdf");
	assert_int_equal((len - 4) % 3, 0);
	free(s);

	/* a cut that ends on a space is trimmed, so cleaning is idempotent */
	memset(name, 'e', 199);
	name[199] = ' ';
	memset(name + 200, 'f', 50);
	name[250] = 0;
	s = filename_safe(name);
	assert_int_equal(strlen(s), 199);
	char *again = filename_safe(s);
	assert_string_equal(again, s);
	free(again);
	free(s);

	/* an over-long "extension" is not kept */
	memset(name, 'c', 100);
	name[100] = '.';
	memset(name + 101, 'd', 150);
	name[251] = 0;
	s = filename_safe(name);
	assert_int_equal(strlen(s), FILENAME_MAX_BYTES);
	assert_memory_equal(s, name, FILENAME_MAX_BYTES);
	free(s);
}

static char dir[64];

static int
setup_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/wadesk-test-filename-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static void
touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void
test_unique(void **state)
{
	(void)state;
	char *want, *p;

	want = xasprintf("%s/name.pdf", dir);
	p = filename_unique(dir, "name.pdf");
	assert_string_equal(p, want);
	touch(p);
	free(p);
	free(want);

	want = xasprintf("%s/name (2).pdf", dir);
	p = filename_unique(dir, "name.pdf");
	assert_string_equal(p, want);
	touch(p);
	free(p);
	free(want);

	want = xasprintf("%s/name (3).pdf", dir);
	char *slash = xasprintf("%s/", dir);
	p = filename_unique(slash, "name.pdf");   /* trailing '/' not doubled */
	assert_string_equal(p, want);
	free(p);
	free(want);
	free(slash);

	/* no extension; several dots: the last one starts it */
	p = filename_unique(dir, "README");
	touch(p);
	free(p);
	want = xasprintf("%s/README (2)", dir);
	p = filename_unique(dir, "README");
	assert_string_equal(p, want);
	free(p);
	free(want);
	p = filename_unique(dir, "a.tar.gz");
	touch(p);
	free(p);
	want = xasprintf("%s/a.tar (2).gz", dir);
	p = filename_unique(dir, "a.tar.gz");
	assert_string_equal(p, want);
	free(p);
	free(want);

	/* a dangling symlink counts as taken */
	char *link = xasprintf("%s/link.txt", dir);
	assert_int_equal(symlink("/nonexistent/target", link), 0);
	want = xasprintf("%s/link (2).txt", dir);
	p = filename_unique(dir, "link.txt");
	assert_string_equal(p, want);
	free(p);
	free(want);
	free(link);

	/* a missing directory: NULL */
	assert_null(filename_unique("/nonexistent-wadesk-dir/x", "a.txt"));
}

static void
test_open(void **state)
{
	(void)state;
	char *p1, *p2, *want;
	int fd1 = filename_open(dir, "doc.csv", &p1);
	int fd2 = filename_open(dir, "doc.csv", &p2);

	assert_true(fd1 >= 0 && fd2 >= 0);
	want = xasprintf("%s/doc.csv", dir);
	assert_string_equal(p1, want);
	free(want);
	want = xasprintf("%s/doc (2).csv", dir);
	assert_string_equal(p2, want);
	free(want);
	close(fd1);
	close(fd2);
	free(p1);
	free(p2);

	/* never follows a symlink planted at the name */
	char *link = xasprintf("%s/planted.txt", dir);
	assert_int_equal(symlink("/tmp/wadesk-should-not-exist", link), 0);
	fd1 = filename_open(dir, "planted.txt", &p1);
	assert_true(fd1 >= 0);
	want = xasprintf("%s/planted (2).txt", dir);
	assert_string_equal(p1, want);
	close(fd1);
	free(p1);
	free(want);
	free(link);
	assert_int_equal(access("/tmp/wadesk-should-not-exist", F_OK), -1);

	assert_int_equal(filename_open("/nonexistent-wadesk-dir", "a.txt", &p1), -1);
	assert_null(p1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_table),
		cmocka_unit_test(test_cap),
		cmocka_unit_test_setup_teardown(test_unique, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_open, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests_name("filename", tests, NULL, NULL);
}
