/*
 * Unit tests for gupshup.c.  The payloads below are written after the
 * shapes in Gupshup's published WhatsApp API documentation (inbound
 * messages, message events, user events, the send message API), with
 * our own ids and numbers.  Both directions, and round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gupshup.h"
#include "util.h"

static int
parse(const char *json, struct gupshup_callback *cb, char **cause)
{
	return gupshup_callback_parse(json, strlen(json), cb, cause);
}

static void
test_text_message(void **state)
{
	(void)state;
	const char *body =
	        "{\"app\":\"DeskDemo\",\"timestamp\":1764065643000,\"version\":2,"
	        "\"type\":\"message\",\"payload\":{\"id\":\"ABEGkZlgQyWAAgo-sDVSUOa9jH0z\","
	        "\"source\":\"919812345678\",\"type\":\"text\",\"payload\":{\"text\":\"Hi, where is my order?\"},"
	        "\"sender\":{\"phone\":\"919812345678\",\"name\":\"Asha\",\"country_code\":\"91\","
	        "\"dial_code\":\"9812345678\"},\"someFutureField\":[1,2,3]}}";
	struct gupshup_callback cb;
	char *cause = NULL;

	assert_int_equal(parse(body, &cb, &cause), 0);
	assert_null(cause);
	assert_int_equal(cb.kind, GUPSHUP_MESSAGE);
	assert_string_equal(cb.app, "DeskDemo");
	assert_true(cb.timestamp == 1764065643000LL);
	assert_string_equal(cb.msg.id, "ABEGkZlgQyWAAgo-sDVSUOa9jH0z");
	assert_string_equal(cb.msg.phone, "919812345678");
	assert_string_equal(cb.msg.name, "Asha");
	assert_int_equal(cb.msg.type, GUPSHUP_TEXT);
	assert_string_equal(cb.msg.text, "Hi, where is my order?");
	assert_string_equal(cb.msg.payload_json, "{\"text\":\"Hi, where is my order?\"}");
	assert_null(cb.msg.context_id);
	gupshup_callback_release(&cb);
	gupshup_callback_release(&cb);  /* twice is harmless */
}

static void
test_inbound_types(void **state)
{
	(void)state;
	static const struct {
		const char *type, *inner;
		enum gupshup_msg_type t;
		const char *text, *url, *mime, *filename, *postback;
	} rows[] = {
		{ "image", "{\"caption\":\"receipt\",\"url\":\"https://fm.example/wa/1\","
		  "\"contentType\":\"image/jpeg\",\"urlExpiry\":1764665643000}",
		  GUPSHUP_IMAGE, "receipt", "https://fm.example/wa/1", "image/jpeg", NULL, NULL },
		{ "file", "{\"caption\":\"invoice\",\"name\":\"inv-42.pdf\",\"url\":\"https://fm.example/wa/2\","
		  "\"contentType\":\"application/pdf\",\"urlExpiry\":1}",
		  GUPSHUP_FILE, "invoice", "https://fm.example/wa/2", "application/pdf", "inv-42.pdf", NULL },
		{ "audio", "{\"url\":\"https://fm.example/wa/3\",\"contentType\":\"audio/mpeg3\"}",
		  GUPSHUP_AUDIO, NULL, "https://fm.example/wa/3", "audio/mpeg3", NULL, NULL },
		{ "video", "{\"url\":\"https://fm.example/wa/4\",\"contentType\":\"video/mp4\",\"caption\":\"unboxing\"}",
		  GUPSHUP_VIDEO, "unboxing", "https://fm.example/wa/4", "video/mp4", NULL, NULL },
		{ "location", "{\"longitude\":77.5946,\"latitude\":12.9716,\"name\":\"Shop\",\"address\":\"MG Road\"}",
		  GUPSHUP_LOCATION, "Shop", NULL, NULL, NULL, NULL },
		{ "contact", "{\"contacts\":[{\"name\":{\"first_name\":\"Ravi\",\"formatted_name\":\"Ravi K\"},"
		  "\"phones\":[{\"phone\":\"+91 98000 11111\",\"type\":\"CELL\"}]}]}",
		  GUPSHUP_CONTACT, "Ravi K", NULL, NULL, NULL, NULL },
		{ "button_reply", "{\"title\":\"Yes\",\"id\":\"qr1\",\"reply\":\"Yes 1\"}",
		  GUPSHUP_BUTTON_REPLY, "Yes", NULL, NULL, NULL, "qr1" },
		{ "list_reply", "{\"title\":\"Track order\",\"id\":\"l2\",\"reply\":\"Track order 2\","
		  "\"postbackText\":\"track\",\"description\":\"where it is\"}",
		  GUPSHUP_LIST_REPLY, "Track order", NULL, NULL, NULL, "track" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct gupshup_callback cb;
		char *cause = NULL;
		char *body = xasprintf("{\"app\":\"A\",\"timestamp\":1,\"version\":2,\"type\":\"message\","
		                       "\"payload\":{\"id\":\"w%zu\",\"source\":\"5511987654321\",\"type\":\"%s\","
		                       "\"payload\":%s,\"sender\":{\"phone\":\"5511987654321\",\"name\":\"Bia\"},"
		                       "\"context\":{\"id\":\"gBEGk1\",\"gsId\":\"ee4a68a0\"}}}",
		                       i, rows[i].type, rows[i].inner);
		assert_int_equal(parse(body, &cb, &cause), 0);
		assert_int_equal(cb.msg.type, rows[i].t);
#define CHECK(field) do { if (rows[i].field) assert_string_equal(cb.msg.field, rows[i].field); \
		          else assert_null(cb.msg.field); } while (0)
		CHECK(text); CHECK(url); CHECK(mime); CHECK(filename); CHECK(postback);
#undef CHECK
		assert_true(cb.msg.url_expiry == (i == 0 ? 1764665643000LL : i == 1 ? 1 : 0));
		assert_string_equal(cb.msg.context_id, "gBEGk1");
		assert_string_equal(cb.msg.context_gs_id, "ee4a68a0");
		assert_non_null(cb.msg.payload_json);
		if (rows[i].t == GUPSHUP_LOCATION) {
			assert_true(cb.msg.latitude > 12.97 && cb.msg.latitude < 12.98);
			assert_true(cb.msg.longitude > 77.59 && cb.msg.longitude < 77.60);
		}
		gupshup_callback_release(&cb);
		free(body);
	}
}

static void
test_message_events(void **state)
{
	(void)state;
	static const struct {
		const char *payload;
		enum gupshup_event_type t;
		const char *gs_id, *wa_id, *reason;
		int code;
		int64_t ts;
	} rows[] = {
		{ "{\"id\":\"59f8db90-c37e-4408-90ab-cc54ef8246ad\",\"type\":\"enqueued\","
		  "\"destination\":\"919812345678\",\"payload\":{\"whatsappMessageId\":\"gBEGkYaYVSEEAgnZxQ\","
		  "\"type\":\"session\"}}",
		  GUPSHUP_EV_ENQUEUED, "59f8db90-c37e-4408-90ab-cc54ef8246ad", "gBEGkYaYVSEEAgnZxQ", NULL, 0, 0 },
		{ "{\"id\":\"gBEGkYaYVSEEAgnZxQ\",\"gsId\":\"59f8db90-c37e-4408-90ab-cc54ef8246ad\","
		  "\"type\":\"sent\",\"destination\":\"919812345678\",\"payload\":{\"ts\":1764065650}}",
		  GUPSHUP_EV_SENT, "59f8db90-c37e-4408-90ab-cc54ef8246ad", "gBEGkYaYVSEEAgnZxQ", NULL, 0, 1764065650 },
		{ "{\"id\":\"gBEGkYaYVSEEAgnZxQ\",\"gsId\":\"59f8db90\",\"type\":\"delivered\","
		  "\"destination\":\"919812345678\",\"payload\":{\"ts\":\"1764065651\"}}",
		  GUPSHUP_EV_DELIVERED, "59f8db90", "gBEGkYaYVSEEAgnZxQ", NULL, 0, 1764065651 },
		{ "{\"id\":\"gBEGkYaYVSEEAgnZxQ\",\"gsId\":\"59f8db90\",\"type\":\"read\","
		  "\"destination\":\"919812345678\",\"payload\":{\"ts\":1764065652}}",
		  GUPSHUP_EV_READ, "59f8db90", "gBEGkYaYVSEEAgnZxQ", NULL, 0, 1764065652 },
		{ "{\"id\":\"ee4a68a0-1203-4c85-8dc3-49d0b3226a35\",\"type\":\"failed\","
		  "\"destination\":\"919812345678\",\"payload\":{\"code\":1002,"
		  "\"reason\":\"Number does not exist on WhatsApp\"}}",
		  GUPSHUP_EV_FAILED, "ee4a68a0-1203-4c85-8dc3-49d0b3226a35", NULL,
		  "Number does not exist on WhatsApp", 1002, 0 },
		{ "{\"id\":\"gBEGkYaYVSEEAgnZxQ\",\"gsId\":\"59f8db90\",\"type\":\"deleted\","
		  "\"destination\":\"919812345678\",\"payload\":{}}",
		  GUPSHUP_EV_DELETED, "59f8db90", "gBEGkYaYVSEEAgnZxQ", NULL, 0, 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct gupshup_callback cb;
		char *cause = NULL;
		char *body = xasprintf("{\"app\":\"DeskDemo\",\"timestamp\":1764065643000,\"version\":2,"
		                       "\"type\":\"message-event\",\"payload\":%s}", rows[i].payload);
		assert_int_equal(parse(body, &cb, &cause), 0);
		assert_int_equal(cb.kind, GUPSHUP_MESSAGE_EVENT);
		assert_int_equal(cb.ev.type, rows[i].t);
		assert_string_equal(cb.ev.gs_id, rows[i].gs_id);
		if (rows[i].wa_id)
			assert_string_equal(cb.ev.wa_id, rows[i].wa_id);
		else
			assert_null(cb.ev.wa_id);
		if (rows[i].reason)
			assert_string_equal(cb.ev.reason, rows[i].reason);
		assert_int_equal(cb.ev.code, rows[i].code);
		assert_true(cb.ev.ts == rows[i].ts);
		assert_string_equal(cb.ev.destination, "919812345678");
		gupshup_callback_release(&cb);
		free(body);
	}
}

static void
test_user_events(void **state)
{
	(void)state;
	static const struct { const char *type; enum gupshup_user_type t; } rows[] = {
		{ "opted-in", GUPSHUP_USER_OPTED_IN },
		{ "opted-out", GUPSHUP_USER_OPTED_OUT },
		{ "sandbox-start", GUPSHUP_USER_SANDBOX_START },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct gupshup_callback cb;
		char *cause = NULL;
		char *body = xasprintf("{\"app\":\"DeskDemo\",\"timestamp\":1584541505908,\"version\":2,"
		                       "\"type\":\"user-event\",\"payload\":{\"phone\":\"447700900123\","
		                       "\"type\":\"%s\"}}", rows[i].type);
		assert_int_equal(parse(body, &cb, &cause), 0);
		assert_int_equal(cb.kind, GUPSHUP_USER_EVENT);
		assert_int_equal(cb.user.type, rows[i].t);
		assert_string_equal(cb.user.phone, "447700900123");
		gupshup_callback_release(&cb);
		free(body);
	}
}

static void
test_bad_callbacks(void **state)
{
	(void)state;
	static const struct { const char *body, *cause; } rows[] = {
		{ "", "callback is empty" },
		{ "not json", "callback is not JSON" },
		{ "{\"version\":2", "callback is not JSON" },
		{ "{} {}", "garbage after the value" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"type\":\"message\",\"payload\":{}}", "not version 2" },
		{ "{\"version\":1,\"type\":\"message\",\"payload\":{}}", "not version 2" },
		{ "{\"version\":2,\"payload\":{}}", "callback without a type" },
		{ "{\"version\":2,\"type\":\"billing-event\",\"payload\":{}}", "unknown callback type 'billing-event'" },
		{ "{\"version\":2,\"type\":\"message\"}", "message callback without a payload object" },
		{ "{\"version\":2,\"type\":\"message\",\"payload\":[]}", "without a payload object" },
		{ "{\"version\":2,\"type\":\"message\",\"payload\":{\"id\":\"x\",\"type\":\"sticker\","
		  "\"payload\":{},\"sender\":{\"phone\":\"1\"}}}", "unknown message type 'sticker'" },
		{ "{\"version\":2,\"type\":\"message\",\"payload\":{\"type\":\"text\","
		  "\"payload\":{\"text\":\"a\"},\"sender\":{\"phone\":\"1\"}}}", "message without an id" },
		{ "{\"version\":2,\"type\":\"message\",\"payload\":{\"id\":\"x\",\"type\":\"text\","
		  "\"payload\":{\"text\":\"a\"}}}", "message without a sender phone" },
		{ "{\"version\":2,\"type\":\"message\",\"payload\":{\"id\":\"x\",\"type\":\"text\","
		  "\"payload\":{},\"sender\":{\"phone\":\"1\"}}}", "text message without text" },
		{ "{\"version\":2,\"type\":\"message\",\"payload\":{\"id\":\"x\",\"type\":\"text\","
		  "\"payload\":\"hi\",\"sender\":{\"phone\":\"1\"}}}", "text message without a payload object" },
		{ "{\"version\":2,\"type\":\"message-event\",\"payload\":{\"id\":\"x\",\"type\":\"bounced\"}}",
		  "unknown message-event type 'bounced'" },
		{ "{\"version\":2,\"type\":\"message-event\",\"payload\":{\"type\":\"sent\"}}",
		  "sent event without an id" },
		{ "{\"version\":2,\"type\":\"user-event\",\"payload\":{\"type\":\"opted-in\"}}",
		  "opted-in event without a phone" },
		{ "{\"version\":2,\"type\":\"user-event\",\"payload\":{\"phone\":\"1\",\"type\":\"blocked\"}}",
		  "unknown user-event type 'blocked'" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct gupshup_callback cb;
		char *cause = NULL;
		assert_int_equal(parse(rows[i].body, &cb, &cause), -1);
		assert_non_null(cause);
		if (strstr(cause, rows[i].cause) == NULL)
			fail_msg("row %zu: cause '%s' lacks '%s'", i, cause, rows[i].cause);
		assert_null(strchr(cause, '\n'));
		assert_null(cb.msg.id);
		free(cause);
	}
	/* A NUL inside the body, and a body that is not NUL-terminated. */
	struct gupshup_callback cb;
	char *cause = NULL;
	assert_int_equal(gupshup_callback_parse("{\"a\"\0:1}", 8, &cb, &cause), -1);
	free(cause);
	const char *user = "{\"version\":2,\"type\":\"user-event\",\"payload\":{\"phone\":\"1\",\"type\":\"opted-in\"}}XXXX";
	assert_int_equal(gupshup_callback_parse(user, strlen(user) - 4, &cb, &cause), 0);
	gupshup_callback_release(&cb);
}

static void
test_callback_round_trip(void **state)
{
	(void)state;
	struct gupshup_callback in[12], out;
	size_t n = 0;
	memset(in, 0, sizeof in);

	in[n].kind = GUPSHUP_MESSAGE;
	in[n].msg = (struct gupshup_message){ .id = "wamid.1", .phone = "919812345678", .name = "आशा",
	        .type = GUPSHUP_TEXT, .text = "नमस्ते \"quoted\" \\ / \x1b[2J \u202e" };
	n++;
	in[n].kind = GUPSHUP_MESSAGE;
	in[n].msg = (struct gupshup_message){ .id = "wamid.2", .phone = "5511987654321", .name = "Bia",
	        .type = GUPSHUP_FILE, .text = "fatura", .url = "http://127.0.0.1:1/sm/api/v1/wamedia/A/m1",
	        .mime = "application/pdf", .filename = "fatura.pdf", .url_expiry = 1764670443000LL,
	        .context_id = "wamid.0", .context_gs_id = "gs-0" };
	n++;
	in[n].kind = GUPSHUP_MESSAGE;
	in[n].msg = (struct gupshup_message){ .id = "wamid.3", .phone = "6281234567890",
	        .type = GUPSHUP_LOCATION, .text = "Toko", .latitude = -6.2, .longitude = 106.816666 };
	n++;
	in[n].kind = GUPSHUP_MESSAGE;
	in[n].msg = (struct gupshup_message){ .id = "wamid.4", .phone = "2348031234567",
	        .type = GUPSHUP_LIST_REPLY, .text = "Refund", .postback = "refund" };
	n++;
	in[n].kind = GUPSHUP_MESSAGE;
	in[n].msg = (struct gupshup_message){ .id = "wamid.5", .phone = "14155550100",
	        .type = GUPSHUP_CONTACT, .text = "王小明" };
	n++;
	for (int t = GUPSHUP_EV_ENQUEUED; t <= GUPSHUP_EV_DELETED; t++) {
		in[n].kind = GUPSHUP_MESSAGE_EVENT;
		in[n].ev = (struct gupshup_event){ .type = (enum gupshup_event_type)t, .gs_id = "gs-9",
		        .destination = "447700900123" };
		if (t != GUPSHUP_EV_FAILED)
			in[n].ev.wa_id = "wamid.9";
		if (t == GUPSHUP_EV_FAILED) {
			in[n].ev.code = 1013;
			in[n].ev.reason = "User is not opted in and is inactive";
		}
		if (t == GUPSHUP_EV_ENQUEUED)
			in[n].ev.conversation = "template";
		if (t >= GUPSHUP_EV_SENT && t <= GUPSHUP_EV_READ)
			in[n].ev.ts = 1764065650 + t;
		n++;
	}
	in[n].kind = GUPSHUP_USER_EVENT;
	in[n].user = (struct gupshup_user_event){ .type = GUPSHUP_USER_SANDBOX_START, .phone = "14155550100" };
	n++;
	assert_true(n <= ARRAY_LEN(in));

	for (size_t i = 0; i < n; i++) {
		char *cause = NULL;
		in[i].app = "DeskDemo";
		in[i].timestamp = 1764065643000LL + (int64_t)i;
		char *json = gupshup_callback_build(&in[i]);
		if (gupshup_callback_parse(json, strlen(json), &out, &cause) != 0)
			fail_msg("row %zu: %s: %s", i, json, cause);
		assert_int_equal(out.kind, in[i].kind);
		assert_string_equal(out.app, "DeskDemo");
		assert_true(out.timestamp == in[i].timestamp);
#define SAME(f) do { if (in[i].f) assert_string_equal(out.f, in[i].f); else assert_null(out.f); } while (0)
		switch (in[i].kind) {
		case GUPSHUP_MESSAGE:
			SAME(msg.id); SAME(msg.phone); SAME(msg.name); SAME(msg.text); SAME(msg.url);
			SAME(msg.mime); SAME(msg.filename); SAME(msg.postback); SAME(msg.context_id);
			SAME(msg.context_gs_id);
			assert_int_equal(out.msg.type, in[i].msg.type);
			assert_true(out.msg.url_expiry == in[i].msg.url_expiry);
			assert_true(out.msg.latitude == in[i].msg.latitude);
			assert_true(out.msg.longitude == in[i].msg.longitude);
			break;
		case GUPSHUP_MESSAGE_EVENT:
			SAME(ev.gs_id); SAME(ev.wa_id); SAME(ev.destination); SAME(ev.reason);
			assert_int_equal(out.ev.type, in[i].ev.type);
			assert_int_equal(out.ev.code, in[i].ev.code);
			assert_true(out.ev.ts == in[i].ev.ts);
			if (in[i].ev.type == GUPSHUP_EV_ENQUEUED)
				assert_string_equal(out.ev.conversation, "template");
			break;
		case GUPSHUP_USER_EVENT:
			SAME(user.phone);
			assert_int_equal(out.user.type, in[i].user.type);
			break;
		}
#undef SAME
		/* The hub keeps payload_json; building from it gives the same callback. */
		if (in[i].kind == GUPSHUP_MESSAGE) {
			struct gupshup_callback again = out;
			char *json2 = gupshup_callback_build(&again);
			assert_string_equal(json2, json);
			free(json2);
		}
		gupshup_callback_release(&out);
		free(json);
	}
}

static void
test_send_form(void **state)
{
	(void)state;
	char *cause = NULL, *form;
	struct gupshup_send s = { .source = "917834811114", .destination = "919812345678",
	        .app = "DeskDemo", .type = GUPSHUP_TEXT, .text = "Hi Asha & co, 100% *done* ✓" };

	assert_string_equal(gupshup_send_path(&s), "/sm/api/v1/msg");
	form = gupshup_send_form(&s, &cause);
	assert_non_null(form);
	assert_string_equal(form,
	        "channel=whatsapp&source=917834811114&destination=919812345678&message="
	        "%7B%22type%22%3A%22text%22%2C%22text%22%3A%22Hi+Asha+%26+co%2C+100%25+%2Adone%2A+"
	        "%E2%9C%93%22%7D&src.name=DeskDemo");
	free(form);

	static const struct {
		enum gupshup_msg_type t;
		const char *json;
	} rows[] = {
		{ GUPSHUP_IMAGE, "{\"type\":\"image\",\"originalUrl\":\"https://x.example/a.png\","
		  "\"previewUrl\":\"https://x.example/a.png\",\"caption\":\"cap\"}" },
		{ GUPSHUP_FILE, "{\"type\":\"file\",\"url\":\"https://x.example/a.png\",\"caption\":\"cap\","
		  "\"filename\":\"a b.pdf\"}" },
		{ GUPSHUP_AUDIO, "{\"type\":\"audio\",\"url\":\"https://x.example/a.png\"}" },
		{ GUPSHUP_VIDEO, "{\"type\":\"video\",\"url\":\"https://x.example/a.png\",\"caption\":\"cap\"}" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct gupshup_send m = s;
		m.type = rows[i].t;
		m.text = "cap";
		m.url = "https://x.example/a.png";
		m.filename = "a b.pdf";
		char *json = gupshup_send_message_json(&m, &cause);
		assert_non_null(json);
		assert_string_equal(json, rows[i].json);
		free(json);
	}

	char p0[] = "Asha", p1[] = "#4521", p2[] = "25 Nov";
	char *params[] = { p0, p1, p2 };
	struct gupshup_send t = { .source = "917834811114", .destination = "919812345678",
	        .app = "DeskDemo", .is_template = 1, .template_id = "2b0e6c52-order",
	        .params = params, .nparams = 3 };
	assert_string_equal(gupshup_send_path(&t), "/sm/api/v1/template/msg");
	char *json = gupshup_send_message_json(&t, &cause);
	assert_string_equal(json, "{\"id\":\"2b0e6c52-order\",\"params\":[\"Asha\",\"#4521\",\"25 Nov\"]}");
	free(json);
	form = gupshup_send_form(&t, &cause);
	assert_non_null(strstr(form, "&template=%7B%22id%22"));
	free(form);

	/* Refusals. */
	struct gupshup_send bad[] = {
		{ .destination = "1", .app = "A", .type = GUPSHUP_TEXT, .text = "x" },
		{ .source = "1", .app = "A", .type = GUPSHUP_TEXT, .text = "x" },
		{ .source = "1", .destination = "2", .type = GUPSHUP_TEXT, .text = "x" },
		{ .source = "1", .destination = "2", .app = "A", .type = GUPSHUP_TEXT },
		{ .source = "1", .destination = "2", .app = "A", .type = GUPSHUP_IMAGE },
		{ .source = "1", .destination = "2", .app = "A", .type = GUPSHUP_LOCATION },
		{ .source = "1", .destination = "2", .app = "A", .is_template = 1 },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_null(gupshup_send_form(&bad[i], &cause));
		assert_non_null(cause);
		free(cause);
		cause = NULL;
	}
}

static void
test_send_round_trip(void **state)
{
	(void)state;
	char p0[] = "Ana", p1[] = "a&b=c+d%", p2[] = "";
	char *params[] = { p0, p1, p2 };
	struct gupshup_send rows[] = {
		{ .type = GUPSHUP_TEXT, .text = "línea 1\nlínea 2 😀 مرحبا" },
		{ .type = GUPSHUP_IMAGE, .url = "http://h/i.png", .preview_url = "http://h/p.png", .text = "c" },
		{ .type = GUPSHUP_FILE, .url = "http://h/f.pdf", .filename = "f.pdf", .text = "the invoice" },
		{ .type = GUPSHUP_FILE, .url = "http://h/g.pdf", .filename = "g.pdf" },
		{ .type = GUPSHUP_AUDIO, .url = "http://h/a.mp3" },
		{ .type = GUPSHUP_VIDEO, .url = "http://h/v.mp4", .text = "v" },
		{ .is_template = 1, .template_id = "t1", .params = params, .nparams = 3 },
		{ .is_template = 1, .template_id = "t2" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct gupshup_send *in = &rows[i], out;
		char *cause = NULL, *form;
		in->source = "917834811114";
		in->destination = "5511987654321";
		in->app = "Desk Demo";
		form = gupshup_send_form(in, &cause);
		assert_non_null(form);
		if (gupshup_send_parse(form, strlen(form), in->is_template, &out, &cause) != 0)
			fail_msg("row %zu: %s", i, cause);
		assert_string_equal(out.source, in->source);
		assert_string_equal(out.destination, in->destination);
		assert_string_equal(out.app, "Desk Demo");
		assert_int_equal(out.is_template, in->is_template);
		if (in->is_template) {
			assert_string_equal(out.template_id, in->template_id);
			assert_int_equal(out.nparams, in->nparams);
			for (size_t j = 0; j < in->nparams; j++)
				assert_string_equal(out.params[j], in->params[j]);
		} else {
			assert_int_equal(out.type, in->type);
#define SAME(f) do { if (in->f) assert_string_equal(out.f, in->f); else assert_null(out.f); } while (0)
			SAME(text); SAME(url); SAME(filename);
#undef SAME
		}
		gupshup_send_release(&out);
		free(form);
	}
}

static void
test_send_parse_errors(void **state)
{
	(void)state;
	static const struct { const char *form; int tmpl; const char *cause; } rows[] = {
		{ "", 0, "Missing channel" },
		{ "channel=whatsapp&destination=91&message=x&src.name=A", 0, "Missing source" },
		{ "channel=whatsapp&source=91&message=x&src.name=A", 0, "Missing destination" },
		{ "channel=whatsapp&source=91&destination=92&message=x", 0, "Missing src.name" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A", 0, "Missing message" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A", 1, "Missing template" },
		{ "channel=sms&source=91&destination=92&src.name=A&message=x", 0, "Invalid channel" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=hello", 0, "Invalid message" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=%7B%22type%22%3A%22text%22",
		  0, "Invalid message" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=%5B%5D", 0, "not a JSON object" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=%7B%7D", 0, "no type" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=%7B%22type%22%3A%22sticker%22%7D",
		  0, "Invalid message type 'sticker'" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=%7B%22type%22%3A%22location%22%7D",
		  0, "Invalid message type 'location'" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=%7B%22type%22%3A%22text%22%7D",
		  0, "text is empty" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&message=%7B%22type%22%3A%22image%22%7D",
		  0, "image without originalUrl" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&template=%7B%7D", 1, "no id" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&template=%7B%22id%22%3A%22t%22%2C"
		  "%22params%22%3A%5B1%5D%7D", 1, "param 1 is not a string" },
		{ "channel=whatsapp&source=91&destination=92&src.name=A&template=%7B%22id%22%3A%22t%22%2C"
		  "%22params%22%3A3%7D", 1, "params is not an array" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct gupshup_send out;
		char *cause = NULL;
		assert_int_equal(gupshup_send_parse(rows[i].form, strlen(rows[i].form), rows[i].tmpl,
		                                    &out, &cause), -1);
		if (cause == NULL || strstr(cause, rows[i].cause) == NULL)
			fail_msg("row %zu: cause '%s' lacks '%s'", i, cause, rows[i].cause);
		assert_null(out.source);
		free(cause);
	}
}

static void
test_replies(void **state)
{
	(void)state;
	char *id = NULL, *cause = NULL;
	char *ok = gupshup_reply_submitted("ee4a68a0-1203-4c85-8dc3-49d0b3226a35");
	assert_string_equal(ok, "{\"status\":\"submitted\",\"messageId\":\"ee4a68a0-1203-4c85-8dc3-49d0b3226a35\"}");
	assert_int_equal(gupshup_reply_parse(ok, strlen(ok), &id, &cause), 0);
	assert_string_equal(id, "ee4a68a0-1203-4c85-8dc3-49d0b3226a35");
	free(id);
	free(ok);

	char *err = gupshup_reply_error("Authentication Failed");
	assert_string_equal(err, "{\"status\":\"error\",\"message\":\"Authentication Failed\"}");
	assert_int_equal(gupshup_reply_parse(err, strlen(err), &id, &cause), -1);
	assert_null(id);
	assert_string_equal(cause, "Authentication Failed");
	free(cause);
	free(err);

	static const struct { const char *body, *cause; } bad[] = {
		{ "{\"message\":\"Invalid Destination\",\"status\":\"error\"}", "Invalid Destination" },
		{ "{\"status\":\"submitted\"}", "reply status 'submitted' without a message id" },
		{ "{}", "reply without a status" },
		{ "<html>502 Bad Gateway</html>", "reply is not JSON" },
		{ "", "reply is empty" },
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(gupshup_reply_parse(bad[i].body, strlen(bad[i].body), &id, &cause), -1);
		if (strstr(cause, bad[i].cause) == NULL)
			fail_msg("row %zu: cause '%s' lacks '%s'", i, cause, bad[i].cause);
		free(cause);
	}
	const char *success = "{\"status\":\"success\",\"messageId\":\"m1\"}";
	assert_int_equal(gupshup_reply_parse(success, strlen(success), &id, &cause), 0);
	free(id);
}

static void
test_form_decode(void **state)
{
	(void)state;
	const char *body = "user=919812345678&a+b=c%20d&empty=&flag&bad=%zz%4&utf=%E2%9C%93&&user=second";
	struct gupshup_field *f;
	size_t n;

	gupshup_form_decode(body, strlen(body), &f, &n);
	assert_int_equal(n, 7);
	assert_string_equal(gupshup_form_get(f, n, "user"), "919812345678");
	assert_string_equal(gupshup_form_get(f, n, "a b"), "c d");
	assert_string_equal(gupshup_form_get(f, n, "empty"), "");
	assert_string_equal(gupshup_form_get(f, n, "flag"), "");
	assert_string_equal(gupshup_form_get(f, n, "bad"), "%zz%4");
	assert_string_equal(gupshup_form_get(f, n, "utf"), "✓");
	assert_null(gupshup_form_get(f, n, "nope"));
	gupshup_form_free(f, n);

	gupshup_form_decode("", 0, &f, &n);
	assert_int_equal(n, 0);
	gupshup_form_free(f, n);

	struct buf b = { 0 };
	gupshup_form_add(&b, "src.name", "A B");
	gupshup_form_add(&b, "x", "é/?");
	assert_string_equal(b.data, "src.name=A+B&x=%C3%A9%2F%3F");
	buf_free(&b);
}

static void
test_names(void **state)
{
	(void)state;
	enum gupshup_msg_type t;
	enum gupshup_event_type e;
	enum gupshup_user_type u;
	for (int i = GUPSHUP_TEXT; i <= GUPSHUP_LIST_REPLY; i++) {
		assert_int_equal(gupshup_msg_type_parse(gupshup_msg_type_name((enum gupshup_msg_type)i), &t), 0);
		assert_int_equal((int)t, i);
	}
	for (int i = GUPSHUP_EV_ENQUEUED; i <= GUPSHUP_EV_DELETED; i++) {
		assert_int_equal(gupshup_event_type_parse(gupshup_event_type_name((enum gupshup_event_type)i), &e), 0);
		assert_int_equal((int)e, i);
	}
	for (int i = GUPSHUP_USER_OPTED_IN; i <= GUPSHUP_USER_SANDBOX_START; i++) {
		assert_int_equal(gupshup_user_type_parse(gupshup_user_type_name((enum gupshup_user_type)i), &u), 0);
		assert_int_equal((int)u, i);
	}
	assert_null(gupshup_msg_type_name((enum gupshup_msg_type)99));
	assert_int_equal(gupshup_msg_type_parse(NULL, &t), -1);
	assert_int_equal(gupshup_event_type_parse("Read", &e), -1);
	assert_string_equal(gupshup_kind_name(GUPSHUP_MESSAGE_EVENT), "message-event");
}

static void
test_account_apis(void **state)
{
	(void)state;
	struct gupshup_template in[] = {
		{ .id = "t-order", .name = "order_update", .body = "Your order {{1}} is {{2}}." },
		{ .id = "t-close", .name = "ticket_closed", .body = "Ticket {{1}} closed.", .status = "APPROVED",
		  .language = "pt_BR" },
	};
	struct gupshup_template *t;
	size_t n;
	char *cause = NULL;
	char *json = gupshup_templates_build(in, 2);
	assert_int_equal(gupshup_templates_parse(json, strlen(json), &t, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].id, "t-order");
	assert_string_equal(t[0].name, "order_update");
	assert_string_equal(t[0].body, "Your order {{1}} is {{2}}.");
	assert_string_equal(t[0].status, "APPROVED");
	assert_string_equal(t[1].language, "pt_BR");
	gupshup_templates_free(t, n);
	free(json);
	const char *err = "{\"status\":\"error\",\"message\":\"Authentication Failed\"}";
	assert_int_equal(gupshup_templates_parse(err, strlen(err), &t, &n, &cause), -1);
	assert_string_equal(cause, "Authentication Failed");
	free(cause);

	struct gupshup_user users[] = {
		{ .phone = "919812345678", .opted_in = 1, .optin_ms = 1764000000000LL, .last_message_ms = 1764065643000LL },
		{ .phone = "14155550100" },
		{ .phone = "2348031234567", .opted_in = 1 },
	};
	struct gupshup_user *u;
	json = gupshup_users_build(users, 3);
	assert_non_null(strstr(json, "\"countryCode\":\"91\",\"phoneCode\":\"9812345678\""));
	assert_non_null(strstr(json, "\"countryCode\":\"234\",\"phoneCode\":\"8031234567\""));
	assert_int_equal(gupshup_users_parse(json, strlen(json), &u, &n, &cause), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(u[i].phone, users[i].phone);
		assert_int_equal(u[i].opted_in, users[i].opted_in);
		assert_true(u[i].optin_ms == users[i].optin_ms);
		assert_true(u[i].last_message_ms == users[i].last_message_ms);
	}
	gupshup_users_free(u, n);
	free(json);

	int64_t bal;
	json = gupshup_wallet_build(998800, 0);
	assert_int_equal(gupshup_wallet_parse(json, strlen(json), &bal, &cause), 0);
	assert_true(bal == 998800);
	free(json);
	assert_int_equal(gupshup_wallet_parse("{}", 2, &bal, &cause), -1);
	free(cause);

	static const struct { const char *phone; size_t len; } cc[] = {
		{ "14155550100", 1 }, { "79161234567", 1 }, { "447700900123", 2 }, { "919812345678", 2 },
		{ "5511987654321", 2 }, { "6281234567890", 2 }, { "2348031234567", 3 }, { "971501234567", 3 },
		{ "0123", 0 }, { "", 0 }, { "9", 0 }, { "x1", 0 },
	};
	for (size_t i = 0; i < ARRAY_LEN(cc); i++)
		assert_int_equal(gupshup_country_code_len(cc[i].phone), cc[i].len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_message),
		cmocka_unit_test(test_inbound_types),
		cmocka_unit_test(test_message_events),
		cmocka_unit_test(test_user_events),
		cmocka_unit_test(test_bad_callbacks),
		cmocka_unit_test(test_callback_round_trip),
		cmocka_unit_test(test_send_form),
		cmocka_unit_test(test_send_round_trip),
		cmocka_unit_test(test_send_parse_errors),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_form_decode),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_account_apis),
	};
	return cmocka_run_group_tests_name("gupshup", tests, NULL, NULL);
}
