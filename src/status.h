/*
 * status.h — the chat status machine: DESIGN.md §2's four statuses, five
 * events, one transition table.
 *
 * A chat carries its status and, while an agent types, the status to go
 * back to when the typing lapses (resume).  Outside Agent responding,
 * resume always equals status.  The whole table (status_apply):
 *
 *   status \ event  | inbound          | autoreply            | typing            | typing lapsed | agent message
 *   Notifying agent | Notifying        | Unanswered           | Responding, r=Not | Notifying     | Responded
 *   Unanswered      | Notifying        | Unanswered           | Responding, r=Una | Unanswered    | Responded
 *   Agent responding| Responding, r=Not| Responding, r=A(r)   | Responding        | r             | Responded
 *   Responded       | Notifying        | Responded            | Responding, r=Res | Responded     | Responded
 *
 * where r is resume and A(r) is the autoreply column applied to r
 * (Notifying becomes Unanswered, anything else stays).  Read as rules:
 * - an inbound message always leaves the chat waiting for an agent
 *   (Notifying); if someone is typing the chat stays Agent responding, but
 *   a lapse now returns to Notifying;
 * - an automated reply only answers a Notifying chat (or the Notifying
 *   chat hidden under a typing agent); it never undoes Responded;
 * - typing moves to Agent responding and remembers where it came from;
 *   typing again only keeps it there (the caller restarts its 30 s timer);
 * - the typing lapse (CHAT_TYPING_LAPSE seconds without a keystroke, timed
 *   by the caller) returns to resume and means nothing in other statuses;
 * - an agent's accepted message is always Responded.
 */
#ifndef WADESK_STATUS_H
#define WADESK_STATUS_H

enum chat_status { CHAT_NOTIFYING, CHAT_UNANSWERED, CHAT_RESPONDING, CHAT_RESPONDED };
enum chat_event { CHAT_EV_INBOUND, CHAT_EV_AUTOREPLY, CHAT_EV_TYPING, CHAT_EV_TYPING_LAPSED, CHAT_EV_AGENT_MESSAGE };

#define CHAT_STATUS_COUNT 4
#define CHAT_EVENT_COUNT  5

struct chat_state {
	enum chat_status status;
	enum chat_status resume;   /* status to return to when typing lapses */
};

#define CHAT_TYPING_LAPSE 30        /* seconds */

/* A new chat: Responded (nothing pending), resume Responded. */
void status_init(struct chat_state *s);
/*
 * Applies one event through the table above.  Out-of-range statuses or
 * events leave *s unchanged; a resume of Agent responding (never produced
 * by the table) is treated as Responded.
 */
void status_apply(struct chat_state *s, enum chat_event ev);
/* "Notifying agent" "Unanswered" "Agent responding" "Responded"; "?" if out of range. */
const char *status_name(enum chat_status s);
/*
 * Parses a full name (as status_name) or the short names notifying,
 * unanswered, responding, responded, ignoring ASCII case.  0 / -1.
 */
int status_parse(const char *name, enum chat_status *out);
/* One ASCII char shown without colour: "!" "~" "*" "."; "?" if out of range. */
const char *status_symbol(enum chat_status s);
/* "inbound" "autoreply" "typing" "typing-lapsed" "agent-message"; "?" if out of range. */
const char *status_event_name(enum chat_event ev);

#endif
