/*
 * decide.h — what a send becomes: DESIGN.md §2's decision table as one pure
 * function, shared by the hub (the authority) and the console (which
 * refuses early, before anything leaves the machine).
 *
 * The table, with "active" meaning the customer's last inbound message is
 * less than 24 h old (contact_is_active):
 *
 *   template messaging | contact                 | message          | result
 *   off                | active                  | any              | session message
 *   off                | inactive                | any              | refused window.closed
 *   on                 | active                  | any              | session message
 *   on                 | inactive, opted in      | matches template | template message
 *   on                 | inactive, opted in      | no match         | refused template.nomatch
 *   on                 | inactive, not opted in  | any              | refused optin.missing
 *
 * Precedence of refusals, first rule that applies wins (a table in
 * decide.c):
 *   1. media.type         media whose MIME type is not on the whitelist
 *                         (media.h) — nothing else matters for a file
 *                         that can never be sent;
 *   2. sandbox.text_only  media in the sandbox, even inside the window;
 *   3. media.session_only media outside the 24 h window (templates carry
 *                         text only), whether template messaging is on
 *                         or off;
 *   4. window.closed      inactive and template messaging off;
 *   5. optin.missing      inactive, template messaging on, not opted in;
 *   6. template.nomatch   inactive, opted in, no template matches the text
 *                         (template_pick; a NULL text is "");
 *   7. wallet.balance     last: only a send that would otherwise go out
 *                         is refused for money; skipped when balance < 0
 *                         (unknown); refused when balance < cost.
 * Opt-in is only consulted outside the window: inside it the customer
 * wrote to the business, which is consent for a session reply.
 */
#ifndef WADESK_DECIDE_H
#define WADESK_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "template.h"

#define SESSION_WINDOW 86400          /* seconds: the 24 h session window */

enum send_result { SEND_SESSION, SEND_TEMPLATE, SEND_REFUSED };
enum send_kind { SEND_TEXT, SEND_MEDIA };

struct send_input {
	int     template_messaging;   /* bool */
	int64_t last_inbound;         /* unix seconds, 0 = never wrote */
	int     opted_in;             /* bool */
	enum send_kind kind;
	const char *text;             /* text, or media caption (may be NULL) */
	const char *mime;             /* media only */
	int     sandbox;              /* bool */
	int64_t balance;              /* wallet, micro-dollars; <0 = unknown (skip check) */
	int64_t cost;                 /* estimated cost, micro-dollars */
	int64_t now;                  /* unix seconds */
	const struct template_def *templates; size_t ntemplates;
};

struct send_decision {
	enum send_result result;
	const char *code;    /* static stable code when refused, else NULL:
	   "window.closed" "template.nomatch" "optin.missing" "media.session_only"
	   "sandbox.text_only" "media.type" "wallet.balance" */
	const char *reason;  /* static human sentence when refused, else NULL */
	int template_index;  /* SEND_TEMPLATE: index into templates, else -1 */
	char **params; size_t nparams;   /* SEND_TEMPLATE: owned, else NULL/0 */
};

/*
 * Fills *out (every field) from *in; never fails.  Pure: reads nothing but
 * its input.  On SEND_TEMPLATE out->params belongs to out: release it with
 * decision_release().
 */
void decide_send(const struct send_input *in, struct send_decision *out);

/* Frees d->params and resets them to NULL/0; safe to call twice. */
void decision_release(struct send_decision *d);

/*
 * 1 when the contact is active: last_inbound != 0 and
 * now - last_inbound < 86400 (so 23:59:59 after the last inbound is
 * active, 24:00:00 is not).  A last_inbound in the future (clock skew)
 * counts as active.
 */
int  contact_is_active(int64_t last_inbound, int64_t now);

#endif
