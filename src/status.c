/*
 * status.c — the chat status machine as one 2-D table.
 *
 * Each cell says where the status goes and what happens to resume:
 *   SET     resume = the new status (no typing in progress);
 *   KEEP    resume unchanged (typing continues);
 *   SAVE    resume = the old status (typing starts, remember it);
 *   APPLY   resume = the table applied to resume itself (an event that
 *           arrives under a typing agent still changes what lies beneath).
 * A cell whose next status is RESUME returns to the remembered status.
 */
#include "status.h"

#include <stddef.h>
#include <strings.h>

#include "util.h"

enum resume_op { SET, KEEP, SAVE, APPLY };
#define RESUME (-1)

/* Short names so the table reads as a grid. */
#define NOT  CHAT_NOTIFYING
#define UNA  CHAT_UNANSWERED
#define RSP  CHAT_RESPONDING
#define DONE CHAT_RESPONDED

static const struct cell {
	int            next;       /* enum chat_status, or RESUME */
	enum resume_op op;
} table[CHAT_STATUS_COUNT][CHAT_EVENT_COUNT] = {
	/*          inbound          autoreply        typing         lapsed           agent message */
	[NOT]  = { { NOT, SET },    { UNA, SET },    { RSP, SAVE }, { NOT, SET },    { DONE, SET } },
	[UNA]  = { { NOT, SET },    { UNA, SET },    { RSP, SAVE }, { UNA, SET },    { DONE, SET } },
	[RSP]  = { { RSP, APPLY },  { RSP, APPLY },  { RSP, KEEP }, { RESUME, SET },  { DONE, SET } },
	[DONE] = { { NOT, SET },    { DONE, SET },   { RSP, SAVE }, { DONE, SET },   { DONE, SET } },
};

#undef NOT
#undef UNA
#undef RSP
#undef DONE

static const struct {
	const char *name, *shortname, *symbol;
} statuses[CHAT_STATUS_COUNT] = {
	[CHAT_NOTIFYING]  = { "Notifying agent",  "notifying",  "!" },
	[CHAT_UNANSWERED] = { "Unanswered",       "unanswered", "~" },
	[CHAT_RESPONDING] = { "Agent responding", "responding", "*" },
	[CHAT_RESPONDED]  = { "Responded",        "responded",  "." },
};

static const char *const event_names[CHAT_EVENT_COUNT] = {
	[CHAT_EV_INBOUND] = "inbound",
	[CHAT_EV_AUTOREPLY] = "autoreply",
	[CHAT_EV_TYPING] = "typing",
	[CHAT_EV_TYPING_LAPSED] = "typing-lapsed",
	[CHAT_EV_AGENT_MESSAGE] = "agent-message",
};

static int
status_valid(enum chat_status s)
{
	return (unsigned)s < CHAT_STATUS_COUNT;
}

void
status_init(struct chat_state *s)
{
	s->status = CHAT_RESPONDED;
	s->resume = CHAT_RESPONDED;
}

void
status_apply(struct chat_state *s, enum chat_event ev)
{
	if (!status_valid(s->status) || (unsigned)ev >= CHAT_EVENT_COUNT)
		return;
	enum chat_status resume = s->resume;
	if (!status_valid(resume) || resume == CHAT_RESPONDING)
		resume = CHAT_RESPONDED;
	const struct cell *c = &table[s->status][ev];
	enum chat_status next = c->next == RESUME ? resume : (enum chat_status)c->next;
	switch (c->op) {
	case SET:   s->resume = next; break;
	case KEEP:  s->resume = resume; break;
	case SAVE:  s->resume = s->status; break;
	case APPLY: s->resume = (enum chat_status)table[resume][ev].next; break;
	}
	s->status = next;
}

const char *
status_name(enum chat_status s)
{
	return status_valid(s) ? statuses[s].name : "?";
}

const char *
status_symbol(enum chat_status s)
{
	return status_valid(s) ? statuses[s].symbol : "?";
}

const char *
status_event_name(enum chat_event ev)
{
	return (unsigned)ev < CHAT_EVENT_COUNT ? event_names[ev] : "?";
}

int
status_parse(const char *name, enum chat_status *out)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(statuses); i++) {
		if (strcasecmp(name, statuses[i].name) == 0 ||
		    strcasecmp(name, statuses[i].shortname) == 0) {
			*out = (enum chat_status)i;
			return 0;
		}
	}
	return -1;
}
