/*
 * proto.h — the desk protocol (console <-> hub), websocket subprotocol
 * "wadesk.v1".  This module is the only code that builds or parses its JSON.
 *
 * Every frame is one JSON object with a "type".  One flat C struct,
 * struct proto_msg, carries every message type: each type uses the fields
 * its row of the message table (proto.c) names, and the codec walks that
 * table both ways, so adding a field is one table row.  The full
 * specification, with examples, is docs/protocol.md; the two must agree.
 *
 * Ownership: proto_decode() fills a struct whose strings and arrays are all
 * heap-allocated; proto_msg_release() frees them.  proto_encode() only reads
 * the struct, so a caller may point its fields at anything (literals, stack,
 * store rows) and must not release such a struct.  Scalar strings are
 * `const char *` for that reason; string arrays are `char **` (cast when
 * pointing them at literals).
 *
 * Conventions on the wire:
 *  - times are integers, unix seconds (UTC);
 *  - absent optional fields decode as NULL / 0 / empty;
 *  - unknown fields are ignored, so a newer peer may add fields freely;
 *    an unknown "type" is reported (proto.unknown), never a crash;
 *  - a frame over PROTO_MAX_FRAME bytes is refused (proto.too_big).
 */
#ifndef WADESK_PROTO_H
#define WADESK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_SUBPROTOCOL "wadesk.v1"
#define PROTO_VERSION     1
#define PROTO_MAX_FRAME   (1024 * 1024)   /* bytes of one JSON text frame */
#define PROTO_HISTORY_MAX 500             /* largest history page */
#define PROTO_HISTORY_DEFAULT 50

/* Every message type.  Order matches the table in proto.c. */
enum proto_type {
	/* hub -> console */
	PROTO_WELCOME,
	PROTO_EVENT,
	PROTO_ACK,
	PROTO_ERROR,
	PROTO_BYE,            /* the hub is closing this session, with a code */
	/* console -> hub */
	PROTO_HELLO,
	PROTO_SEND,
	PROTO_TYPING,
	PROTO_TAG,
	PROTO_UNTAG,
	PROTO_NOTE,
	PROTO_CONTACT_NAME,
	PROTO_READ,
	PROTO_CANNED_LIST,
	PROTO_CANNED_ADD,
	PROTO_CANNED_RM,
	PROTO_BRB_ON,
	PROTO_BRB_OFF,
	PROTO_SETTINGS_GET,
	PROTO_SETTINGS_SET,
	PROTO_TEMPLATES_LIST,
	PROTO_TEMPLATES_ADD,
	PROTO_TEMPLATES_RM,
	PROTO_ACCESS_ROTATE,
	PROTO_HISTORY,
	PROTO_COUNTERS,
	PROTO_NTYPES
};

/* Event kinds (the "kind" of an "event" frame). */
enum proto_kind {
	PROTO_EV_CONTACT,         /* contact upsert (whole contact) */
	PROTO_EV_MESSAGE,         /* message upsert (whole message) */
	PROTO_EV_MESSAGE_STATE,   /* a message's delivery state moved forward */
	PROTO_EV_STATUS,          /* a chat's status changed */
	PROTO_EV_TYPING,          /* an agent is typing in a chat */
	PROTO_EV_SETTINGS,        /* settings changed (whole set) */
	PROTO_EV_BRB,             /* BRB mode switched */
	PROTO_EV_CANNED,          /* canned reply added/changed or removed */
	PROTO_EV_TEMPLATES,       /* template list changed (whole list) */
	PROTO_EV_ACCESS_ROTATED,  /* every link expired; sessions are closing */
	PROTO_NKINDS
};

/* Roles, ordered: a role may do everything the roles below it may. */
enum proto_role { PROTO_ROLE_NONE = -1, PROTO_ROLE_AGENT, PROTO_ROLE_SUPERVISOR, PROTO_ROLE_ADMIN };

/* How a settings value is typed on the wire; value is always its text form
 * ("true"/"false" for booleans, decimal for integers). */
enum proto_vkind { PROTO_V_STRING, PROTO_V_INT, PROTO_V_BOOL };

struct proto_setting {
	const char *key;
	const char *value;
	enum proto_vkind kind;
};

struct proto_template {
	const char *id;
	const char *name;
	const char *body;
};

struct proto_canned {
	const char *name;
	const char *text;
};

struct proto_counter {
	const char *agent;
	int64_t month;      /* agent messages in the rolling 30 days */
	int64_t day;        /* agent messages in the rolling 24 h */
};

/*
 * Media attached to a message; mime == NULL means none.  See docs/media.md.
 * In a send command the console gives mime, url (/v1/media/SHA256 from its
 * upload), sha256, filename, caption and size; in events the hub adds state
 * and, while pending or once refused, error and code.
 */
struct proto_media {
	const char *mime;       /* the sniffed type once stored; the declared one before */
	const char *url;        /* where the hub keeps it: "/v1/media/SHA256" once stored */
	const char *filename;
	const char *caption;
	int64_t size;           /* bytes; 0 = not known yet */
	const char *sha256;     /* 64 lower-case hex digits once stored */
	const char *state;      /* "pending" | "ready" | "refused"; NULL = ready (sends) */
	const char *error;      /* pending: the last download failure; refused: the sentence */
	const char *code;       /* refused: "media.type" | "media.size" */
};

struct proto_message {
	const char *id;           /* hub message id (decimal string) */
	const char *cid;          /* client id of the send command, if any */
	const char *phone;
	const char *direction;    /* "in" | "out" */
	const char *type;         /* text image file audio video location contact
	                         button_reply list_reply template */
	const char *text;
	const char *state;        /* out: queued submitted sent delivered read failed */
	const char *reason;       /* failed: the provider's reason */
	const char *agent;        /* out: agent name; "" for automation */
	int     automated;
	int64_t time;
	const char *template_id;  /* sent as a template */
	char  **params; size_t nparams;
	const char *provider_id;  /* Gupshup id once known */
	struct proto_media media;
};

struct proto_contact {
	const char *phone;
	const char *name;
	const char *note;
	char  **tags; size_t ntags;
	int     opted_in;
	int     opted_out;
	int64_t last_inbound; /* 0 = never wrote */
	const char *status;       /* status_name(): "Notifying agent" ... */
	const char *agent;        /* responder: agent responding / who answered last */
};

struct proto_limits {
	int64_t customer_max;   /* LIMIT_CUSTOMER_MAX */
	int64_t agent_max;      /* LIMIT_AGENT_MAX */
	int64_t agent_month;    /* this agent's count in the rolling 30 days */
	int64_t window;         /* session window, seconds (86400) */
	int64_t rate;           /* outbound messages per second */
};

struct proto_links {
	const char *agent, *supervisor, *admin, *webhook;
};

/*
 * One frame.  Which fields a type uses is documented in docs/protocol.md
 * and listed in proto.c's table; the rest stay zero.
 */
struct proto_msg {
	enum proto_type type;
	const char *id;            /* client command id: commands, ack, error */

	/* hello */
	const char *token;
	const char *agent;         /* hello, welcome, status, typing, brb events */
	int64_t last_event;    /* hello, welcome */

	/* welcome */
	const char *hub_id;
	const char *role;          /* "agent" | "supervisor" | "admin" */
	int64_t server_time;
	int64_t version;       /* PROTO_VERSION */
	int     brb;           /* welcome; brb event (on/off) */
	struct proto_limits limits;

	/* event */
	int64_t n;             /* event number, strictly increasing */
	int64_t t;             /* event time */
	enum proto_kind kind;
	struct proto_contact contact;     /* contact event */
	struct proto_message message;     /* message event */

	/* command arguments and small event payloads */
	const char *phone;         /* most commands; status, typing, message.state */
	const char *text;          /* send, note */
	const char *tag;           /* tag, untag */
	const char *name;          /* contact.name, canned.add/rm, templates.add */
	const char *body;          /* templates.add */
	const char *status;        /* status event */
	const char *state;         /* message.state event; send ack */
	const char *reason;        /* message.state event */
	const char *message_id;    /* message.state event; send ack */
	const char *route;         /* send ack: "session" | "template" */
	const char *template_id;   /* send ack; templates.rm */
	const char *before;        /* history: page before this message id */
	int64_t limit;         /* history page size */
	int     removed;       /* canned event: the reply was removed */
	int     more;          /* history ack: older messages exist */
	int64_t generation;    /* access.rotated event */
	struct proto_media media;         /* send (media issue) */

	/* collections */
	const struct proto_setting  *settings;  size_t nsettings;
	const struct proto_template *templates; size_t ntemplates;
	const struct proto_canned   *canned;    size_t ncanned;
	const struct proto_message  *messages;  size_t nmessages;
	const struct proto_counter  *counters;  size_t ncounters;
	struct proto_links     links;     /* access.rotate ack */

	/* error, bye */
	const char *code;          /* stable error code (see proto_errors) */
	const char *sentence;      /* human sentence (wire key "message") */
	int64_t count;         /* limit.* errors: current count */
	int64_t allowed_at;    /* limit.* errors: when the send becomes possible */
};

/*
 * Decodes one frame of len bytes (not necessarily NUL-terminated) into *m
 * (which it zeroes first).  0 on success.  On failure returns -1, sets *code
 * to a static stable code — "proto.too_big", "proto.bad_frame" (not JSON,
 * not an object, no type, a field of the wrong JSON type, a required field
 * missing) or "proto.unknown" (a type this version does not know) — and
 * *cause to an xmalloc'd one-line sentence.  Even on failure m->id holds the
 * frame's "id" when one could be read, so the caller can answer with an
 * error carrying it; call proto_msg_release() in every case.  An event of an
 * unknown kind fails with "proto.unknown" but leaves m->type == PROTO_EVENT
 * and m->n / m->t filled, so a console can skip it and still advance.
 */
int proto_decode(const char *data, size_t len, struct proto_msg *m,
                 const char **code, char **cause);

/*
 * Encodes *m as one JSON object (compact, no trailing newline).  Returns an
 * xmalloc'd NUL-terminated string and its length in *len (len may be NULL).
 * Optional fields that are NULL / 0 / empty are omitted; required ones are
 * always written (NULL strings as "").  Never fails.
 */
char *proto_encode(const struct proto_msg *m, size_t *len);

/* Frees everything proto_decode() allocated in *m and zeroes it; NULL ok. */
void proto_msg_release(struct proto_msg *m);

/* "welcome", "send", "canned.add", ...; NULL when out of range. */
const char *proto_type_name(enum proto_type t);
/* The type for a name; -1 when unknown. */
int proto_type_lookup(const char *name);
/* 1 for console -> hub commands that carry an "id" and get ack/error. */
int proto_type_is_command(enum proto_type t);
/* The least role allowed to send command t (PROTO_ROLE_NONE for hub-only
 * types and hello, which needs no role). */
enum proto_role proto_type_role(enum proto_type t);

/* "contact", "message", "message.state", ...; NULL when out of range. */
const char *proto_kind_name(enum proto_kind k);
int proto_kind_lookup(const char *name);          /* -1 when unknown */

/* "agent", "supervisor", "admin"; and back (-1 = PROTO_ROLE_NONE). */
const char *proto_role_name(enum proto_role r);
enum proto_role proto_role_lookup(const char *name);

/* The stable error codes, one table. */
struct proto_error {
	const char *code;      /* "window.closed" */
	const char *sentence;  /* a default human sentence */
};
/* The row for code, or NULL when the code is not in the table. */
const struct proto_error *proto_error_lookup(const char *code);
/* The whole table (for docs and tests); *n gets its length. */
const struct proto_error *proto_error_table(size_t *n);

/* Convenience: builds an "error" frame (xmalloc'd JSON) for id (may be
 * NULL), code and message (NULL = the table's sentence). */
char *proto_error_frame(const char *id, const char *code, const char *message, size_t *len);

/* Bodies of the hub's HTTP media endpoints (docs/protocol.md), each one
 * JSON object and a newline, xmalloc'd:
 * {"code":CODE,"message":MESSAGE} (message NULL = the table's sentence)
 * and an upload's {"sha256":...,"mime":...,"size":N}. */
char *proto_http_error(const char *code, const char *message);
char *proto_upload_reply(const char *sha256, const char *mime, int64_t size);

/* Settings helpers on a decoded or built array: the value for key or NULL. */
const char *proto_setting_get(const struct proto_setting *s, size_t n, const char *key);

#endif
