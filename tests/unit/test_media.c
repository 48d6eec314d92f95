/* Unit tests for media.c: every whitelisted type, caps, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "media.h"
#include "util.h"

static void
test_whitelist(void **state)
{
	(void)state;
	static const struct { const char *mime; enum media_category c; } rows[] = {
		{ "text/csv", MEDIA_DOCUMENT }, { "text/comma-separated-values", MEDIA_DOCUMENT },
		{ "text/plain", MEDIA_DOCUMENT }, { "application/csv", MEDIA_DOCUMENT },
		{ "application/vnd.ms-excel", MEDIA_DOCUMENT }, { "application/pdf", MEDIA_DOCUMENT },
		{ "image/png", MEDIA_IMAGE }, { "image/jpeg", MEDIA_IMAGE },
		{ "image/jpg", MEDIA_IMAGE }, { "image/gif", MEDIA_IMAGE },
		{ "audio/mpeg3", MEDIA_AUDIO }, { "audio/x-mpeg-3", MEDIA_AUDIO },
		{ "video/mpeg", MEDIA_VIDEO }, { "video/quicktime", MEDIA_VIDEO },
		{ "video/mp4", MEDIA_VIDEO }, { "video/x-mpeg", MEDIA_VIDEO },
		{ "TEXT/Plain; charset=utf-8", MEDIA_DOCUMENT },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const struct media_type *t = media_lookup(rows[i].mime);
		assert_non_null(t);
		assert_int_equal(t->category, rows[i].c);
	}
}

static void
test_refused(void **state)
{
	(void)state;
	static const char *bad[] = {
		"application/x-executable", "image/webp", "audio/ogg", "text/html",
		"application/pdfx", "", "text/plai", "image/png2",
	};
	const char *code, *why;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_null(media_lookup(bad[i]));
		assert_int_equal(media_check(bad[i], 10, &code, &why), -1);
		assert_string_equal(code, "media.type");
	}
	assert_null(media_lookup(NULL));
}

static void
test_caps(void **state)
{
	(void)state;
	const char *code, *why;
	assert_int_equal(media_check("image/png", 5000000, &code, &why), 0);
	assert_int_equal(media_check("image/png", 5000001, &code, &why), -1);
	assert_string_equal(code, "media.size");
	assert_int_equal(media_check("audio/mpeg3", 16000000, &code, &why), 0);
	assert_int_equal(media_check("video/mp4", 16000001, &code, &why), -1);
	assert_int_equal(media_check("application/pdf", 100000000, &code, &why), 0);
	assert_int_equal(media_check("application/pdf", 100000001, &code, &why), -1);
	assert_string_equal(media_gupshup_type(MEDIA_DOCUMENT), "file");
	assert_string_equal(media_category_name(MEDIA_VIDEO), "video");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whitelist),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests_name("media", tests, NULL, NULL);
}
