/*
 * gupshup.h — Gupshup's WhatsApp wire formats, both directions.
 *
 * This module is the only code that builds or parses what travels between
 * a business and Gupshup (or wadesk-sim, which speaks the same formats):
 *
 *   - the v2 callbacks Gupshup POSTs to the business's webhook:
 *       {"app","timestamp","version":2,"type":"message"|"message-event"|
 *        "user-event","payload":{...}}
 *     parsed by the hub (gupshup_callback_parse) and built by the sim
 *     (gupshup_callback_build);
 *   - the send API's x-www-form-urlencoded request bodies
 *       POST /sm/api/v1/msg           channel, source, destination,
 *                                     message (JSON), src.name
 *       POST /sm/api/v1/template/msg  channel, source, destination,
 *                                     template ({"id","params":[...]}), src.name
 *     built by the hub (gupshup_send_form) and parsed by the sim
 *     (gupshup_send_parse);
 *   - the send API's replies {"status":"submitted","messageId":...} and
 *     {"status":"error","message":...}: built by the sim, parsed by the hub.
 *
 * Every type name on the wire lives in one table in gupshup.c; the enums
 * below index those tables.
 *
 * Ownership.  The structs hold `const char *` strings so that a caller who
 * builds a wire body can point them at anything it has (string literals,
 * its own records) without copies: the build functions only read them.
 * A struct filled by a parse function owns every non-NULL string in it
 * and its *_release function frees them (and zeroes the struct); never
 * call *_release on a struct you filled yourself.  Absent wire fields are
 * NULL (strings) or 0 (numbers).
 *
 * Errors.  Parse functions return 0, or -1 with *cause set to one
 * xmalloc'd line without a capital or full stop that says what was wrong
 * ("unknown message-event type 'bounced'"); the caller frees it.  The
 * struct is then released already.  Unknown fields are ignored.  Nothing
 * here crashes on any input (fuzzed: tests/fuzz/fuzz_gupshup.c).
 */
#ifndef WADESK_GUPSHUP_H
#define WADESK_GUPSHUP_H

#include <stddef.h>
#include <stdint.h>

/* Callback kinds: the outer "type". */
enum gupshup_kind {
	GUPSHUP_MESSAGE,            /* "message": a customer wrote */
	GUPSHUP_MESSAGE_EVENT,      /* "message-event": state of a message we sent */
	GUPSHUP_USER_EVENT,         /* "user-event": opt-in, opt-out, sandbox-start */
};

/* Message types, inbound ("payload.type") and outbound ("message.type"). */
enum gupshup_msg_type {
	GUPSHUP_TEXT,
	GUPSHUP_IMAGE,
	GUPSHUP_FILE,               /* a document */
	GUPSHUP_AUDIO,
	GUPSHUP_VIDEO,
	GUPSHUP_LOCATION,           /* inbound only */
	GUPSHUP_CONTACT,            /* inbound only */
	GUPSHUP_BUTTON_REPLY,       /* inbound only */
	GUPSHUP_LIST_REPLY,         /* inbound only */
};

/* message-event types. */
enum gupshup_event_type {
	GUPSHUP_EV_ENQUEUED,
	GUPSHUP_EV_FAILED,
	GUPSHUP_EV_SENT,
	GUPSHUP_EV_DELIVERED,
	GUPSHUP_EV_READ,
	GUPSHUP_EV_DELETED,
};

/* user-event types. */
enum gupshup_user_type {
	GUPSHUP_USER_OPTED_IN,
	GUPSHUP_USER_OPTED_OUT,
	GUPSHUP_USER_SANDBOX_START,
};

/* An inbound customer message ("type":"message"). */
struct gupshup_message {
	const char *id;             /* payload.id: WhatsApp's id, the dedup key */
	const char *phone;          /* payload.sender.phone (else payload.source) */
	const char *name;           /* payload.sender.name, may be NULL */
	enum gupshup_msg_type type;
	const char *text;           /* text; caption for media; title for button/list
	                               replies; location name/address; contact name */
	const char *url;            /* media download URL */
	const char *mime;           /* media "contentType" */
	const char *filename;       /* file "name" */
	int64_t     url_expiry;     /* media "urlExpiry": ms since the epoch, 0 = none */
	const char *postback;       /* button/list reply id or postbackText */
	double      latitude, longitude;   /* location */
	const char *context_id;     /* a reply: context.id (WhatsApp id replied to) */
	const char *context_gs_id;  /* a reply: context.gsId (Gupshup id replied to) */
	const char *payload_json;   /* the inner payload object as compact JSON;
	                               parse: always set; build: NULL = made from
	                               the fields above */
};

/* A delivery event for a message we sent ("type":"message-event"). */
struct gupshup_event {
	enum gupshup_event_type type;
	/* Gupshup's id (the send API's messageId): payload.id for enqueued and
	 * failed, payload.gsId for sent/delivered/read.  Build: always give it. */
	const char *gs_id;
	/* WhatsApp's id: payload.payload.whatsappMessageId for enqueued,
	 * payload.id for sent/delivered/read/deleted.  NULL for failed. */
	const char *wa_id;
	const char *destination;    /* customer phone */
	int64_t     ts;             /* payload.payload.ts (seconds), sent/delivered/read */
	int         code;           /* failed: payload.payload.code */
	const char *reason;         /* failed: payload.payload.reason */
	const char *conversation;   /* enqueued: payload.payload.type, "session"|"template" */
};

/* An opt-in, opt-out or sandbox-start ("type":"user-event"). */
struct gupshup_user_event {
	enum gupshup_user_type type;
	const char *phone;
};

/* One parsed callback.  Exactly the member named by kind is meaningful. */
struct gupshup_callback {
	enum gupshup_kind kind;
	const char *app;
	int64_t     timestamp;      /* milliseconds since the epoch */
	struct gupshup_message    msg;
	struct gupshup_event      ev;
	struct gupshup_user_event user;
};

/*
 * Parses a v2 callback body (len bytes, need not be NUL-terminated).
 * 0 with *out filled (owned; gupshup_callback_release); -1 with *cause
 * for anything that is not JSON, not version 2, or has an unknown kind,
 * inner type or a missing required field (message: id, sender phone,
 * type; message-event: type, id; user-event: type, phone).  The hub
 * answers 400 with the cause.
 */
int  gupshup_callback_parse(const char *body, size_t len, struct gupshup_callback *out,
                            char **cause);
void gupshup_callback_release(struct gupshup_callback *cb);

/*
 * Builds the JSON body of a callback (xmalloc'd, NUL-terminated) from the
 * member named by cb->kind.  The sim's side; reads cb only.  Strings that
 * are NULL are left out.  Fields are placed where Gupshup puts them, so
 * gupshup_callback_parse(gupshup_callback_build(cb)) gives cb back.
 */
char *gupshup_callback_build(const struct gupshup_callback *cb);

/* Wire names: "message", "image", "enqueued", "opted-in"...  NULL when out of range. */
const char *gupshup_kind_name(enum gupshup_kind k);
const char *gupshup_msg_type_name(enum gupshup_msg_type t);
const char *gupshup_event_type_name(enum gupshup_event_type t);
const char *gupshup_user_type_name(enum gupshup_user_type t);
/* Name to enum: 0, or -1 when the name is not one of Gupshup's. */
int gupshup_msg_type_parse(const char *name, enum gupshup_msg_type *out);
int gupshup_event_type_parse(const char *name, enum gupshup_event_type *out);
int gupshup_user_type_parse(const char *name, enum gupshup_user_type *out);

/* ---- The send API ---- */

#define GUPSHUP_PATH_MSG       "/sm/api/v1/msg"
#define GUPSHUP_PATH_TEMPLATE  "/sm/api/v1/template/msg"

/*
 * One outbound send: a session message (text or media) or a template.
 * is_template selects the template form; type is then ignored.
 */
struct gupshup_send {
	const char *source;         /* the business number (E.164 digits) */
	const char *destination;    /* the customer (E.164 digits) */
	const char *app;            /* "src.name" */
	int         is_template;
	enum gupshup_msg_type type; /* TEXT, IMAGE, FILE, AUDIO or VIDEO */
	const char *text;           /* text body, or media caption (may be NULL) */
	const char *url;            /* media: image "originalUrl", others "url" */
	const char *preview_url;    /* image "previewUrl" (NULL = url) */
	const char *filename;       /* file "filename" */
	const char *template_id;    /* template "id" */
	char *const *params;        /* template "params", nparams strings */
	size_t      nparams;
};

/* GUPSHUP_PATH_TEMPLATE for a template, else GUPSHUP_PATH_MSG. */
const char *gupshup_send_path(const struct gupshup_send *s);

/*
 * The send's form body, x-www-form-urlencoded (RFC 3986 unreserved bytes
 * kept, space as '+', everything else %XX), fields channel=whatsapp,
 * source, destination, message or template, src.name, in that order.
 * xmalloc'd; NULL with *cause when a required field is missing (source,
 * destination, app; text for TEXT; url for media; template_id) or the
 * type cannot be sent (location, contact, replies).
 */
char *gupshup_send_form(const struct gupshup_send *s, char **cause);

/* The message JSON alone ({"type":"text","text":...} etc.), xmalloc'd; NULL as above. */
char *gupshup_send_message_json(const struct gupshup_send *s, char **cause);

/*
 * The sim's side: parses a send form (len bytes) posted to the message
 * (is_template 0) or template (1) path, url-decoding it, then the message
 * or template JSON.  0 with *out filled (owned; gupshup_send_release);
 * -1 with *cause, which is also the "message" of Gupshup's 400 reply:
 * a missing field names it ("Missing destination"); a message that is not
 * JSON or not an object of a known sendable type, a template without id
 * or with non-string params, say so.  Numbers are not checked here.
 */
int  gupshup_send_parse(const char *body, size_t len, int is_template,
                        struct gupshup_send *out, char **cause);
void gupshup_send_release(struct gupshup_send *s);

/*
 * Send API replies.  gupshup_reply_submitted() gives
 * {"status":"submitted","messageId":ID}; gupshup_reply_error()
 * {"status":"error","message":MSG}.  Both xmalloc'd.
 */
char *gupshup_reply_submitted(const char *message_id);
char *gupshup_reply_error(const char *message);
/*
 * Parses a send API reply (len bytes).  0 with *message_id (xmalloc'd)
 * when the status is "submitted" (or "success") and a messageId is there;
 * -1 with *cause otherwise: the body's "message" when it has one
 * ("Authentication Failed"), else a line saying what the body was.
 */
int gupshup_reply_parse(const char *body, size_t len, char **message_id, char **cause);

/* ---- Forms ---- */

struct gupshup_field {
	char *name;
	char *value;
};
/*
 * Decodes an x-www-form-urlencoded body (len bytes) into *fields (n
 * entries, xmalloc'd, free with gupshup_form_free): '+' is a space, %XX a
 * byte, a bad escape is kept literally.  Never fails.
 */
void gupshup_form_decode(const char *body, size_t len, struct gupshup_field **fields,
                         size_t *n);
/* The first value named name, or NULL. */
const char *gupshup_form_get(const struct gupshup_field *fields, size_t n, const char *name);
void gupshup_form_free(struct gupshup_field *fields, size_t n);
/* Appends "name=value" (each url-encoded) to *form, with '&' when not empty. */
struct buf;
void gupshup_form_add(struct buf *form, const char *name, const char *value);

/* ---- Account APIs: approved templates, users, wallet ---- */

/*
 * GET /sm/api/v1/template/list/APP answers
 * {"status":"success","templates":[{"id","elementName","data","status",
 * "category","languageCode","templateType":"TEXT"},...]}.
 */
struct gupshup_template {
	const char *id;
	const char *name;           /* "elementName" */
	const char *body;           /* "data": text with {{1}}..{{n}} */
	const char *status;         /* "APPROVED"...; build: NULL = "APPROVED" */
	const char *category;       /* build: NULL = "UTILITY" */
	const char *language;       /* "languageCode"; build: NULL = "en" */
};
char *gupshup_templates_build(const struct gupshup_template *t, size_t n);
/* 0 with *t (n entries, owned; gupshup_templates_free), entries without an
 * id or data skipped; -1 with *cause (not JSON, an error reply's message). */
int  gupshup_templates_parse(const char *body, size_t len, struct gupshup_template **t,
                             size_t *n, char **cause);
void gupshup_templates_free(struct gupshup_template *t, size_t n);

/*
 * GET /sm/api/v1/users/APP answers {"status":"success","users":[{
 * "countryCode","phoneCode","lastMessageTimeStamp","optinSource",
 * "optinStatus":"OPT_IN"|"OPT_OUT","optinTimeStamp"},...]}.
 */
struct gupshup_user {
	const char *phone;          /* E.164 digits; wire: countryCode + phoneCode */
	int         opted_in;
	int64_t     optin_ms;       /* 0 = never */
	int64_t     last_message_ms;/* 0 = never wrote */
};
char *gupshup_users_build(const struct gupshup_user *u, size_t n);
int  gupshup_users_parse(const char *body, size_t len, struct gupshup_user **u, size_t *n,
                         char **cause);
void gupshup_users_free(struct gupshup_user *u, size_t n);

/*
 * The wallet balance reply {"status":"success","walletResponse":{
 * "currency":"USD","currentBalance":0.9988,"overDraftLimit":0}}; amounts
 * here are micro-dollars.  Parse: 0 with *balance, or -1 with *cause.
 */
char *gupshup_wallet_build(int64_t balance_micro, int64_t overdraft_micro);
int  gupshup_wallet_parse(const char *body, size_t len, int64_t *balance_micro, char **cause);

/* The country calling code that starts phone (one of Gupshup's common
 * ones: 1 7 20 27 30..49 51..58 60..66 81 82 84 86 90..98 234 ...), as its
 * number of digits; 0 when unknown. */
size_t gupshup_country_code_len(const char *phone);

#endif
