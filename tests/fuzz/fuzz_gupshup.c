/*
 * libFuzzer harness for gupshup.c: the callback parser, the send-form
 * parser (both paths), the reply parser, the account replies (templates,
 * users, wallet), the sim's own documents (inbox, wallet, info, state)
 * and the form decoder get the same bytes.  Whatever parses must build again and parse back to the same
 * kind (the round trip the hub and sim rely on).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gupshup.h"
#include "gupshup_sim.h"
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

	{
		struct gupshup_template *t;
		struct gupshup_user *u;
		int64_t bal;
		if (gupshup_templates_parse(body, size, &t, &n, &cause) == 0) {
			char *again = gupshup_templates_build(t, n);
			free(again);
			gupshup_templates_free(t, n);
		} else {
			free(cause);
		}
		if (gupshup_users_parse(body, size, &u, &n, &cause) == 0) {
			char *again = gupshup_users_build(u, n);
			free(again);
			gupshup_users_free(u, n);
		} else {
			free(cause);
		}
		if (gupshup_wallet_parse(body, size, &bal, &cause) != 0)
			free(cause);
	}
	{
		struct sim_customer c, *cs;
		struct sim_ledger *l;
		struct gupshup_sim_info info;
		size_t nl, nc;
		int64_t bal;
		if (gupshup_sim_inbox_parse(body, size, &c, &cause) == 0) {
			char *again = gupshup_sim_inbox_build(&c);
			free(again);
			gupshup_sim_customer_release(&c);
		} else {
			free(cause);
		}
		if (gupshup_sim_wallet_parse(body, size, &bal, &l, &nl, &cause) == 0)
			gupshup_sim_ledger_free(l, nl);
		else
			free(cause);
		if (gupshup_sim_info_parse(body, size, &info, &cause) == 0)
			gupshup_sim_info_release(&info);
		else
			free(cause);
		if (gupshup_sim_state_parse(body, size, &bal, &l, &nl, &cs, &nc, &cause) == 0) {
			char *again = gupshup_sim_state_build(bal, l, nl, cs, nc);
			free(again);
			for (size_t i = 0; i < nc; i++)
				gupshup_sim_customer_release(&cs[i]);
			free(cs);
			gupshup_sim_ledger_free(l, nl);
		} else {
			free(cause);
		}
	}
	return 0;
}
