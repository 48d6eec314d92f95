/*
 * libFuzzer harness for gupshup.c: the callback parser, the send-form
 * parser (both paths), the reply parser and the form decoder get the same
 * bytes.  Whatever parses must build again and parse back to the same
 * kind (the round trip the hub and sim rely on).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gupshup.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct gupshup_callback cb, again;
	struct gupshup_send s;
	struct gupshup_field *f;
	char *cause = NULL, *id = NULL;
	size_t n;

	if (gupshup_callback_parse(body, size, &cb, &cause) == 0) {
		char *json = gupshup_callback_build(&cb);
		if (gupshup_callback_parse(json, strlen(json), &again, &cause) != 0)
			abort();
		if (again.kind != cb.kind)
			abort();
		gupshup_callback_release(&again);
		free(json);
		gupshup_callback_release(&cb);
	} else {
		free(cause);
	}
	cause = NULL;

	for (int tmpl = 0; tmpl < 2; tmpl++) {
		if (gupshup_send_parse(body, size, tmpl, &s, &cause) == 0) {
			char *form = gupshup_send_form(&s, &cause);
			struct gupshup_send back;
			if (form == NULL)
				abort();
			if (gupshup_send_parse(form, strlen(form), tmpl, &back, &cause) != 0)
				abort();
			gupshup_send_release(&back);
			free(form);
			gupshup_send_release(&s);
		} else {
			free(cause);
		}
		cause = NULL;
	}

	if (gupshup_reply_parse(body, size, &id, &cause) == 0)
		free(id);
	else
		free(cause);

	gupshup_form_decode(body, size, &f, &n);
	gupshup_form_free(f, n);
	return 0;
}
