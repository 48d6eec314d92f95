/* Unit tests for the console's printed outputs: the subcommands' JSON
 * (console_json.c: shapes, escaping of hostile text) and QR codes as text
 * (console_qr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "console.h"
#include "console_json.h"
#include "console_qr.h"
#include "util.h"

static void
test_chats_json(void **state)
{
	(void)state;
	struct cache_chat v[2] = {
		{ .phone = (char *)"911", .name = (char *)"A\x1b]0;x\x07", .note = (char *)"n",
		  .tags = (char *)",vip,gold,", .status = 0, .responding = (char *)"",
		  .unread = 2, .preview = (char *)"", .last_time = 1795609843,
		  .last_inbound = 1795609843, .opted_in = 1 },
		{ .phone = (char *)"912", .name = (char *)"", .note = (char *)"", .tags = (char *)"",
		  .status = 2, .responding = (char *)"ravi", .preview = (char *)"" },
	};
	char *s = cjson_chats(v, 2);
	assert_null(strchr(s, 0x1b));                 /* escaped, never raw */
	json_object *arr = json_tokener_parse(s);
	assert_non_null(arr);
	assert_int_equal(json_object_array_length(arr), 2);
	json_object *o = json_object_array_get_idx(arr, 0), *x;
	assert_true(json_object_object_get_ex(o, "status", &x));
	assert_string_equal(json_object_get_string(x), "Notifying agent");
	assert_true(json_object_object_get_ex(o, "tags", &x));
	assert_int_equal(json_object_array_length(x), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(x, 1)), "gold");
	assert_true(json_object_object_get_ex(o, "last_inbound", &x));
	assert_string_equal(json_object_get_string(x), "2026-11-25T12:30:43Z");
	assert_true(json_object_object_get_ex(o, "opted_in", &x));
	assert_true(json_object_get_boolean(x));
	assert_true(json_object_object_get_ex(o, "name", &x));
	assert_string_equal(json_object_get_string(x), "A\x1b]0;x\x07");
	o = json_object_array_get_idx(arr, 1);
	assert_true(json_object_object_get_ex(o, "last_inbound", &x));
	assert_null(x);                               /* never wrote: null */
	assert_true(json_object_object_get_ex(o, "responding", &x));
	assert_string_equal(json_object_get_string(x), "ravi");
	assert_true(json_object_object_get_ex(o, "tags", &x));
	assert_int_equal(json_object_array_length(x), 0);
	json_object_put(arr);
	free(s);
}

static void
test_history_json(void **state)
{
	(void)state;
	struct cache_msg v[2] = {
		{ .id = (char *)"1", .phone = (char *)"911", .out = 0, .type = (char *)"text",
		  .text = (char *)"hi\nthere", .state = (char *)"", .reason = (char *)"",
		  .agent = (char *)"", .time = 1795609843 },
		{ .id = (char *)"2", .phone = (char *)"911", .out = 1, .type = (char *)"text",
		  .text = (char *)"ok", .state = (char *)"failed", .reason = (char *)"window closed",
		  .agent = (char *)"ravi", .time = 1795609850, .automated = 0 },
	};
	char *s = cjson_history(v, 2);
	json_object *arr = json_tokener_parse(s), *x;
	assert_non_null(arr);
	json_object *in = json_object_array_get_idx(arr, 0), *out = json_object_array_get_idx(arr, 1);
	assert_false(json_object_object_get_ex(in, "state", &x));     /* out only */
	assert_true(json_object_object_get_ex(in, "direction", &x));
	assert_string_equal(json_object_get_string(x), "in");
	assert_true(json_object_object_get_ex(in, "text", &x));
	assert_string_equal(json_object_get_string(x), "hi\nthere");
	assert_true(json_object_object_get_ex(out, "state", &x));
	assert_string_equal(json_object_get_string(x), "failed");
	assert_true(json_object_object_get_ex(out, "reason", &x));
	assert_string_equal(json_object_get_string(x), "window closed");
	assert_true(json_object_object_get_ex(out, "automated", &x));
	assert_false(json_object_get_boolean(x));
	assert_true(json_object_object_get_ex(out, "time", &x));
	assert_string_equal(json_object_get_string(x), "2026-11-25T12:30:50Z");
	assert_false(json_object_object_get_ex(out, "media", &x));
	json_object_put(arr);
	free(s);
}

static void
test_history_json_media(void **state)
{
	(void)state;
	struct cache_msg v[1] = {
		{ .id = (char *)"3", .phone = (char *)"911", .out = 0, .type = (char *)"file",
		  .text = (char *)"", .state = (char *)"", .reason = (char *)"", .agent = (char *)"",
		  .time = 1795609843, .media_mime = (char *)"application/pdf",
		  .media_name = (char *)"a\"b.pdf", .media_caption = (char *)"invoice",
		  .media_size = 1234, .media_sha256 = (char *)"", .media_state = (char *)"refused",
		  .media_error = (char *)"is an ELF executable", .media_code = (char *)"media.type" },
	};
	char *s = cjson_history(v, 1);
	json_object *arr = json_tokener_parse(s), *x, *md;
	assert_non_null(arr);
	json_object *o = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(o, "media", &md));
	assert_true(json_object_object_get_ex(md, "mime", &x));
	assert_string_equal(json_object_get_string(x), "application/pdf");
	assert_true(json_object_object_get_ex(md, "name", &x));
	assert_string_equal(json_object_get_string(x), "a\"b.pdf");
	assert_true(json_object_object_get_ex(md, "size", &x));
	assert_int_equal(json_object_get_int64(x), 1234);
	assert_true(json_object_object_get_ex(md, "sha256", &x));
	assert_null(x);
	assert_true(json_object_object_get_ex(md, "state", &x));
	assert_string_equal(json_object_get_string(x), "refused");
	assert_true(json_object_object_get_ex(md, "code", &x));
	assert_string_equal(json_object_get_string(x), "media.type");
	json_object_put(arr);
	free(s);
}

static void
test_qr(void **state)
{
	(void)state;
	size_t n;
	int w;
	char **lines = console_qr_lines("ws://127.0.0.1:8080/v1/desk#0123456789abcdef", &n, &w);
	assert_non_null(lines);
	assert_true(n >= 12);
	assert_int_equal((int)n, (w + 1) / 2);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(console_width(lines[i], strlen(lines[i])), w);
	/* The quiet zone is light: the first line is all full blocks. */
	assert_non_null(strstr(lines[0], "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88"));
	console_lines_free(lines, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chats_json),
		cmocka_unit_test(test_history_json),
		cmocka_unit_test(test_history_json_media),
		cmocka_unit_test(test_qr),
	};
	return cmocka_run_group_tests_name("console_output", tests, NULL, NULL);
}
