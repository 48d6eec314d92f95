/*
 * decide.c — the send decision as an ordered table of refusal rules.
 *
 * Each rule is a predicate over the input; the first that holds refuses
 * the send with its code and sentence.  Only the template rule does work
 * beyond a comparison: it runs template_pick and keeps the params it found
 * in the decision, so a send that passes every rule outside the window is
 * a template message with those params.  Order is the precedence
 * documented in decide.h.
 */
#include "decide.h"

#include <stdlib.h>

#include "media.h"
#include "util.h"

static int
rule_media_type(const struct send_input *in, struct send_decision *out)
{
	(void)out;
	return in->kind == SEND_MEDIA && media_lookup(in->mime) == NULL;
}

static int
rule_sandbox(const struct send_input *in, struct send_decision *out)
{
	(void)out;
	return in->kind == SEND_MEDIA && in->sandbox;
}

static int
rule_media_session(const struct send_input *in, struct send_decision *out)
{
	(void)out;
	return in->kind == SEND_MEDIA && !contact_is_active(in->last_inbound, in->now);
}

static int
rule_window(const struct send_input *in, struct send_decision *out)
{
	(void)out;
	return !contact_is_active(in->last_inbound, in->now) && !in->template_messaging;
}

static int
rule_optin(const struct send_input *in, struct send_decision *out)
{
	(void)out;
	return !contact_is_active(in->last_inbound, in->now) && !in->opted_in;
}

static int
rule_template(const struct send_input *in, struct send_decision *out)
{
	if (contact_is_active(in->last_inbound, in->now))
		return 0;
	out->template_index = template_pick(in->templates, in->ntemplates,
	    in->text != NULL ? in->text : "", &out->params, &out->nparams);
	return out->template_index < 0;
}

static int
rule_wallet(const struct send_input *in, struct send_decision *out)
{
	(void)out;
	return in->balance >= 0 && in->balance < in->cost;
}

static const struct {
	int       (*applies)(const struct send_input *, struct send_decision *);
	const char *code;
	const char *reason;
} rules[] = {
	{ rule_media_type,    "media.type",
	  "this file type cannot be sent on WhatsApp" },
	{ rule_sandbox,       "sandbox.text_only",
	  "the sandbox sends text messages only" },
	{ rule_media_session, "media.session_only",
	  "media can only be sent within 24 hours of the customer's last message" },
	{ rule_window,        "window.closed",
	  "the customer's last message is over 24 hours old and template messaging is off" },
	{ rule_optin,         "optin.missing",
	  "the 24-hour window is closed and the customer has not opted in" },
	{ rule_template,      "template.nomatch",
	  "the 24-hour window is closed and the text matches no approved template" },
	{ rule_wallet,        "wallet.balance",
	  "the wallet balance does not cover the message's estimated cost" },
};

int
contact_is_active(int64_t last_inbound, int64_t now)
{
	return last_inbound != 0 && now - last_inbound < SESSION_WINDOW;
}

void
decide_send(const struct send_input *in, struct send_decision *out)
{
	out->code = NULL;
	out->reason = NULL;
	out->template_index = -1;
	out->params = NULL;
	out->nparams = 0;
	out->result = contact_is_active(in->last_inbound, in->now) ?
	    SEND_SESSION : SEND_TEMPLATE;
	for (size_t i = 0; i < ARRAY_LEN(rules); i++) {
		if (!rules[i].applies(in, out))
			continue;
		decision_release(out);
		out->template_index = -1;
		out->result = SEND_REFUSED;
		out->code = rules[i].code;
		out->reason = rules[i].reason;
		return;
	}
}

void
decision_release(struct send_decision *d)
{
	template_params_free(d->params, d->nparams);
	d->params = NULL;
	d->nparams = 0;
}
