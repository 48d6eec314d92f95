/* Unit tests for console.c: the key table, help, layout, wrapping, the
 * composer and the `:` command line — the UI model without a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "console.h"
#include "util.h"

static void
test_keys_unique(void **state)
{
	(void)state;
	/* No key is bound twice in one context; every binding has help. */
	for (size_t i = 0; i < console_nkeys; i++) {
		assert_non_null(console_keys[i].help);
		assert_true(console_keys[i].action != ACT_NONE);
		for (size_t j = i + 1; j < console_nkeys; j++)
			if (console_keys[i].key == console_keys[j].key)
				assert_int_equal(console_keys[i].ctx & console_keys[j].ctx, 0);
	}
}

static void
test_keys_lookup(void **state)
{
	(void)state;
	assert_int_equal(console_key_action('j', KC_LIST), ACT_NEXT_CHAT);
	assert_int_equal(console_key_action(CK_DOWN, KC_LIST), ACT_NEXT_CHAT);
	assert_int_equal(console_key_action(CK_DOWN, KC_CONV), ACT_PAGE_DOWN);
	assert_int_equal(console_key_action('n', KC_CONV), ACT_NEXT_UNANSWERED);
	assert_int_equal(console_key_action(CK_ENTER, KC_LIST), ACT_REPLY);
	assert_int_equal(console_key_action(CK_ENTER, KC_COMPOSER), ACT_SEND);
	assert_int_equal(console_key_action('j', KC_COMPOSER), ACT_NONE);
	assert_int_equal(console_key_action(CK_CTRL('e'), KC_COMPOSER), ACT_EDITOR);
	/* The one-key actions of DESIGN.md section 7 all exist. */
	static const enum action musts[] = { ACT_NEXT_CHAT, ACT_PREV_CHAT, ACT_NEXT_UNANSWERED,
		ACT_REPLY, ACT_NOTE, ACT_TAG, ACT_CANNED };
	for (size_t m = 0; m < ARRAY_LEN(musts); m++) {
		int found = 0;
		for (size_t i = 0; i < console_nkeys; i++)
			if (console_keys[i].action == musts[m] && (console_keys[i].ctx & KC_LIST))
				found = 1;
		assert_true(found);
	}
}

static void
test_help(void **state)
{
	(void)state;
	char **lines;
	size_t n;
	console_help(&lines, &n);
	assert_true(n > 10);
	assert_string_equal(lines[0], "Chat list");
	int next = 0, send = 0;
	for (size_t i = 0; i < n; i++) {
		if (strstr(lines[i], "j, Down") != NULL && strstr(lines[i], "next chat") != NULL)
			next = 1;
		if (strstr(lines[i], "Enter") != NULL && strstr(lines[i], "send the reply") != NULL)
			send = 1;
	}
	assert_true(next);
	assert_true(send);
	console_lines_free(lines, n);
	char name[16];
	assert_string_equal(console_key_name(CK_CTRL('e'), name), "C-e");
	assert_string_equal(console_key_name(CK_PGUP, name), "PgUp");
}

static void
test_layout(void **state)
{
	(void)state;
	struct layout l;
	console_layout(140, 40, 0, 1, &l);
	assert_false(l.too_small);
	assert_int_equal(l.title.y, 0);
	assert_int_equal(l.list.y, 1);
	assert_int_equal(l.list.w, 56);
	assert_int_equal(l.list.h, 38);
	assert_int_equal(l.status.y, 39);
	assert_int_equal(l.customer.x, 57);
	assert_int_equal(l.customer.w, 83);
	assert_int_equal(l.composer.y + l.composer.h, 39);
	assert_int_equal(l.hint.y + 1, l.composer.y);
	assert_int_equal(l.conv.y + l.conv.h, l.hint.y);
	assert_int_equal(l.conv.y, l.customer.y + l.customer.h);
	/* A banner pushes everything down one line. */
	console_layout(140, 40, 1, 3, &l);
	assert_int_equal(l.banner.y, 1);
	assert_int_equal(l.list.y, 2);
	assert_int_equal(l.composer.h, 3);
	/* Narrow: list on top, full width. */
	console_layout(60, 30, 0, 20, &l);
	assert_int_equal(l.list.w, 60);
	assert_int_equal(l.conv.x, 0);
	assert_true(l.composer.h <= 7);
	assert_true(l.conv.h > 0);
	console_layout(30, 8, 0, 1, &l);
	assert_true(l.too_small);
}

static void
expect_wrap(const char *text, int width, const char *const *want, size_t nwant)
{
	struct wrap_line *v;
	size_t n = console_wrap(text, width, &v);
	assert_int_equal(n, nwant);
	for (size_t i = 0; i < n; i++) {
		char *got = xstrndup(text + v[i].start, v[i].len);
		assert_string_equal(got, want[i]);
		assert_true(v[i].cols <= width);
		free(got);
	}
	free(v);
}

static void
test_wrap(void **state)
{
	(void)state;
	const char *a[] = { "hello", "world" };
	expect_wrap("hello world", 7, a, 2);
	const char *b[] = { "hello world" };
	expect_wrap("hello world", 11, b, 1);
	const char *c[] = { "abcde", "fghij", "k" };
	expect_wrap("abcdefghijk", 5, c, 3);
	const char *d[] = { "one", "", "two" };
	expect_wrap("one\n\ntwo", 10, d, 3);
	/* Wide characters: 4 CJK characters are 8 columns; never split one. */
	const char *e[] = { "\xe4\xbd\xa0\xe5\xa5\xbd", "\xe4\xb8\x96\xe7\x95\x8c" };
	expect_wrap("\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c", 5, e, 2);
	const char *f[] = { "" };
	expect_wrap("", 10, f, 1);
	const char *g[] = { "a b c", "d" };
	expect_wrap("a b c d", 5, g, 2);
	assert_int_equal(console_width("\xf0\x9f\x98\x80x", 5), 3);   /* emoji + x */
}

static void
test_composer(void **state)
{
	(void)state;
	struct composer c = {0};
	assert_string_equal(composer_text(&c), "");
	assert_true(composer_empty(&c));
	composer_insert_str(&c, "helo");
	composer_left(&c);
	composer_insert(&c, 'l');
	assert_string_equal(composer_text(&c), "hello");
	composer_end(&c);
	composer_insert(&c, 0x00e9);          /* é: two bytes */
	composer_insert(&c, 0x1f600);         /* emoji: four bytes */
	assert_int_equal(c.len, 11);
	composer_backspace(&c);
	assert_string_equal(composer_text(&c), "hello\xc3\xa9");
	composer_left(&c);
	assert_int_equal(c.cursor, 5);
	composer_delete(&c);
	assert_string_equal(composer_text(&c), "hello");
	composer_insert(&c, '\n');
	composer_insert_str(&c, "two");
	composer_home(&c);
	assert_int_equal(c.cursor, 6);
	/* Up and down keep the column (in characters). */
	composer_set(&c, "h\xc3\xa9llo\nab\nwxyz");
	assert_int_equal(composer_up(&c), 1);          /* from the end of "wxyz" */
	assert_int_equal(c.cursor, 9);                 /* end of "ab" */
	assert_int_equal(composer_up(&c), 1);
	assert_int_equal(c.cursor, 3);                 /* after "h\xc3\xa9" */
	assert_int_equal(composer_up(&c), 0);
	assert_int_equal(composer_down(&c), 1);
	assert_int_equal(c.cursor, 9);
	assert_int_equal(composer_down(&c), 1);
	assert_int_equal(c.cursor, 12);                /* "wx|yz" */
	assert_int_equal(composer_down(&c), 0);
	composer_set(&c, "  \n ");
	assert_true(composer_empty(&c));
	composer_clear(&c);
	assert_int_equal(c.len, 0);
	composer_release(&c);
}

static void
test_cmdline(void **state)
{
	(void)state;
	struct cmdline c;
	const char *why;
	assert_int_equal(cmdline_parse("tag vip", &c, &why), 0);
	assert_int_equal(c.verb, CMD_TAG);
	assert_string_equal(c.arg1, "vip");
	cmdline_release(&c);
	assert_int_equal(cmdline_parse("  note  called back, wants refund ", &c, &why), 0);
	assert_int_equal(c.verb, CMD_NOTE);
	assert_string_equal(c.arg1, "called back, wants refund ");
	cmdline_release(&c);
	assert_int_equal(cmdline_parse("canned add hi Hello {{name}}!", &c, &why), 0);
	assert_int_equal(c.verb, CMD_CANNED_ADD);
	assert_string_equal(c.arg1, "hi");
	assert_string_equal(c.arg2, "Hello {{name}}!");
	cmdline_release(&c);
	assert_int_equal(cmdline_parse("brb on", &c, &why), 0);
	cmdline_release(&c);
	assert_int_equal(cmdline_parse("brb maybe", &c, &why), -1);
	assert_int_equal(cmdline_parse("tag a b", &c, &why), -1);
	assert_int_equal(cmdline_parse("canned add x", &c, &why), -1);
	assert_int_equal(cmdline_parse("frobnicate", &c, &why), -1);
	assert_int_equal(cmdline_parse("rotate", &c, &why), 0);
	assert_int_equal(c.verb, CMD_ROTATE);
	assert_int_equal(cmdline_parse("", &c, &why), -1);
}

static void
test_misc(void **state)
{
	(void)state;
	char *s = console_window_left(1000, 1000 + 3600);
	assert_string_equal(s, "window 23h 00m left");
	free(s);
	s = console_window_left(1000, 1000 + 86400);
	assert_string_equal(s, "window closed");
	free(s);
	char age[8];
	assert_string_equal(console_age(100, 130, age), "now");
	assert_string_equal(console_age(100, 100 + 7200, age), "2h");
	s = console_fill_canned("Hi {{name}}, about {{phone}}", "Ana", "9198");
	assert_string_equal(s, "Hi Ana, about 9198");
	free(s);
	assert_true(console_fuzzy("tfw", "thanks for writing") > 0);
	assert_int_equal(console_fuzzy("xyz", "thanks"), -1);
	assert_true(console_fuzzy("tha", "thanks") > console_fuzzy("tha", "t h a"));
}

static void
test_media_words(void **state)
{
	(void)state;
	char b[16];
	assert_string_equal(console_human_size(0, b), "?");
	assert_string_equal(console_human_size(512, b), "512 B");
	assert_string_equal(console_human_size(1234, b), "1.2 kB");
	assert_string_equal(console_human_size(1200000, b), "1.2 MB");
	assert_string_equal(console_human_size(999999, b), "1.0 MB");
	assert_string_equal(console_human_size(100000000, b), "100.0 MB");
	assert_string_equal(console_media_kind("application/pdf", "file"), "document");
	assert_string_equal(console_media_kind("image/png", "image"), "image");
	assert_string_equal(console_media_kind("audio/mpeg3", "audio"), "audio");
	assert_string_equal(console_media_kind("video/mp4", "video"), "video");
	assert_string_equal(console_media_kind("audio/ogg", "audio"), "audio");
	assert_string_equal(console_media_kind("application/zip", "file"), "document");
	assert_string_equal(console_media_kind("", "sticker"), "sticker");
	assert_null(console_media_state_line("ready", NULL, NULL));
	assert_null(console_media_state_line("", NULL, NULL));
	char *s = console_media_state_line("pending", "HTTP 503 (attempt 2; next try 10:14:05)", NULL);
	assert_string_equal(s, "HTTP 503 (attempt 2; next try 10:14:05)");
	free(s);
	s = console_media_state_line("pending", "", NULL);
	assert_string_equal(s, "downloading\u2026");
	free(s);
	s = console_media_state_line("refused", "is an ELF executable, not a PDF", "media.type");
	assert_string_equal(s, "refused (media.type): is an ELF executable, not a PDF");
	free(s);
	s = console_progress(50, 200, 10);
	assert_string_equal(s, "[##........]  25%  50 B of 200 B");
	free(s);
	s = console_progress(7, 0, 4);
	assert_string_equal(s, "[....]  7 B");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_unique),
		cmocka_unit_test(test_keys_lookup),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_composer),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_misc),
		cmocka_unit_test(test_media_words),
	};
	return cmocka_run_group_tests_name("console_model", tests, NULL, NULL);
}
