/* Unit tests for media.c: every whitelisted type, caps, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "media.h"
#include "sniff.h"
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

/* Inbound-only types: kept from customers, never on the outbound list. */
static void
test_inbound(void **state)
{
	(void)state;
	static const struct { const char *mime; enum media_category c; } rows[] = {
		{ "audio/ogg", MEDIA_AUDIO }, { "audio/opus", MEDIA_AUDIO },
		{ "audio/mp4", MEDIA_AUDIO }, { "audio/x-m4a", MEDIA_AUDIO },
		{ "audio/aac", MEDIA_AUDIO }, { "audio/amr", MEDIA_AUDIO },
		{ "image/webp", MEDIA_IMAGE }, { "video/3gpp", MEDIA_VIDEO },
		{ "audio/ogg; codecs=opus", MEDIA_AUDIO },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const struct media_type *t = media_inbound_lookup(rows[i].mime);
		assert_non_null(t);
		assert_int_equal(t->category, rows[i].c);
		assert_true(media_inbound_ok(rows[i].mime));
		assert_null(media_lookup(rows[i].mime));      /* never sent */
	}
	/* Their caps are their category's. */
	assert_int_equal(media_cap(media_inbound_lookup("image/webp")->category), 5 * 1000 * 1000);
	assert_int_equal(media_cap(media_inbound_lookup("audio/ogg")->category), 16 * 1000 * 1000);
	static const char *const refused[] = {
		"application/x-executable", "application/x-pie-executable", "application/zip",
		"application/gzip", "text/html", "text/x-shellscript", "application/x-dosexec",
		"image/svg+xml", "application/pdf", "", NULL,
	};
	for (size_t i = 0; i < ARRAY_LEN(refused); i++)
		assert_false(media_inbound_ok(refused[i]));

	/* libmagic's own names for a voice note and a sticker are on it. */
	char *cause = NULL;
	struct sniff *sn = sniff_new(&cause);
	if (sn == NULL)
		fail_msg("%s", cause);
	unsigned char ogg[58] = "OggS";
	ogg[5] = 2;                                /* beginning of stream */
	ogg[26] = 1;                               /* one segment */
	ogg[27] = 19;                              /* of 19 bytes */
	memcpy(ogg + 28, "OpusHead\x01\x01", 10);
	struct sniff_result r = {0};
	assert_int_equal(sniff_buffer(sn, ogg, sizeof ogg, "audio/ogg", &r), -1);
	assert_string_equal(r.code, "media.type");
	assert_true(media_inbound_ok(r.mime));
	sniff_result_release(&r);
	unsigned char webp[64] = "RIFF\x38\0\0\0WEBPVP8 ";
	assert_int_equal(sniff_buffer(sn, webp, sizeof webp, NULL, &r), -1);
	assert_string_equal(r.mime, "image/webp");
	assert_true(media_inbound_ok(r.mime));
	sniff_result_release(&r);
	sniff_free(sn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whitelist),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_inbound),
	};
	return cmocka_run_group_tests_name("media", tests, NULL, NULL);
}
