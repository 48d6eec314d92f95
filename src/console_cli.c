/*
 * console_cli.c — the subcommands (see console_cli.h).
 *
 * Every subcommand is a row of `cmds`: its name, its argument check, and
 * what it does once the session is caught up (`ready`) and when the
 * answer to its command arrives (`answer`).  The runner owns the loop: it
 * connects without retrying, gives the hub 10 s to welcome and replay,
 * and maps a lost connection or a refused link to exit status 3.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console_app.h"
#include "console.h"
#include "console_cli.h"
#include "console_json.h"
#include "console_media.h"
#include "media.h"
#include "phone.h"
#include "sanitize.h"
#include "status.h"
#include "util.h"

#define CLI_TIMEOUT_MS 10000

struct cli;

struct cli_cmd {
	const char *name;
	const char *usage;
	/* Checks and stores the arguments: 0, or -1 for a usage error. */
	int (*parse)(struct cli *c, int argc, char **argv);
	/* Caught up: do the thing (print, or send a command). */
	void (*ready)(struct cli *c);
	/* The ack/error of the command sent by ready. */
	void (*answer)(struct cli *c, const struct proto_msg *m);
};

struct cli {
	struct app app;
	const struct cli_cmd *cmd;
	int     started, done, code;
	char    id[32];          /* the command awaiting its answer */
	int     json;
	int     status;          /* --status, -1 any */
	char   *tag;
	char   *phone;
	char   *text;
	long    n;
	int     streaming;
	int     lost;            /* tail: the hub went away, reconnecting */
	int64_t printed;         /* tail: the last event printed */
	char   *file;            /* send --file; save: the message id */
	char   *caption;         /* send --caption */
	char   *dir;             /* save DIR */
	struct cmedia_out out;   /* send --file: what was checked */
	int     bar;             /* progress bars on stderr (a terminal) */
};

static void
finish(struct cli *c, int code)
{
	if (c->done)
		return;
	c->done = 1;
	c->code = code;
	c->app.quit = 1;
}

/* Maps an error frame to an exit status and prints it. */
static void
refused(struct cli *c, const char *code, const char *sentence)
{
	fprintf(stderr, "wadesk: refused (%s): %s\n", code, sentence != NULL ? sentence : "");
	int hub = strncmp(code, "auth.", 5) == 0 && strcmp(code, "auth.role") != 0;
	hub = hub || strncmp(code, "proto.", 6) == 0 || strcmp(code, "internal") == 0 ||
	    strcmp(code, "shutdown") == 0;
	finish(c, hub ? EXIT_HUB : EXIT_REFUSED);
}

static void
sent(struct cli *c, const char *id)
{
	if (id == NULL) {
		fprintf(stderr, "wadesk: cannot reach the hub\n");
		finish(c, EXIT_HUB);
		return;
	}
	snprintf(c->id, sizeof c->id, "%s", id);
}

static void
answer_done(struct cli *c, const struct proto_msg *m)
{
	if (m->type == PROTO_ERROR)
		refused(c, m->code, m->sentence);
	else
		finish(c, EXIT_DONE);
}

/* ---- argument helpers --------------------------------------------- */

static int
want_phone(struct cli *c, const char *arg)
{
	char out[16];
	const char *why;
	if (phone_normalize(arg, out, &why) != 0) {
		fprintf(stderr, "wadesk: bad phone number '%s': %s\n", arg, why);
		return -1;
	}
	c->phone = xstrdup(out);
	return 0;
}

static char *
read_stdin(void)
{
	struct buf b = {0};
	char chunk[4096];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_append(&b, chunk, k);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return buf_steal(&b);
}

/* Parses --json/--status/--tag/-n options; positional args land in argv
 * from optind.  Returns optind or -1. */
static int
options(struct cli *c, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "status", required_argument, NULL, 's' },
		{ "tag", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "n:", longs, NULL)) != -1) {
		enum chat_status st;
		char *end;
		switch (ch) {
		case 'j':
			c->json = 1;
			break;
		case 's':
			if (status_parse(optarg, &st) != 0) {
				fprintf(stderr, "wadesk: unknown status '%s' (notifying, unanswered, "
				    "responding, responded)\n", optarg);
				return -1;
			}
			c->status = (int)st;
			break;
		case 't':
			free(c->tag);
			c->tag = xstrdup(optarg);
			break;
		case 'n':
			c->n = strtol(optarg, &end, 10);
			if (*end != '\0' || c->n < 1) {
				fprintf(stderr, "wadesk: -n wants a positive number\n");
				return -1;
			}
			break;
		default:
			fprintf(stderr, "wadesk: unknown option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

/* ---- chats ----------------------------------------------------------- */

static int
p_chats(struct cli *c, int argc, char **argv)
{
	int i = options(c, argc, argv);
	return i < 0 || i != argc ? -1 : 0;
}

static void
r_chats(struct cli *c)
{
	struct cache_filter f = { c->status, c->tag, NULL };
	long total = cache_chat_count(c->app.cache, &f);
	struct cache_chat *v = NULL;
	size_t n = 0;
	char *cause = NULL;
	if (total < 0 || cache_chat_page(c->app.cache, &f, 0, (int)total, &v, &n, &cause) != 0) {
		fprintf(stderr, "wadesk: %s\n", cause != NULL ? cause : "cannot read the cache");
		free(cause);
		finish(c, EXIT_HUB);
		return;
	}
	if (c->json) {
		char *s = cjson_chats(v, n);
		printf("%s\n", s);
		free(s);
	} else {
		int64_t now = now_s();
		for (size_t i = 0; i < n; i++) {
			char *name = text_sanitize_line(v[i].name, strlen(v[i].name));
			char *pv = text_sanitize_line(v[i].preview, strlen(v[i].preview));
			char age[8];
			printf("%-16s %-20.20s %-16s %3d %5s  %s\n", v[i].phone, name,
			    status_name((enum chat_status)v[i].status), v[i].unread,
			    console_age(v[i].last_time, now, age), pv);
			free(name);
			free(pv);
		}
	}
	cache_chats_free(v, n);
	finish(c, EXIT_DONE);
}

/* ---- history --------------------------------------------------------- */

static int
p_history(struct cli *c, int argc, char **argv)
{
	c->n = 50;
	int i = options(c, argc, argv);
	if (i < 0 || argc - i != 1)
		return -1;
	return want_phone(c, argv[i]);
}

static void
r_history(struct cli *c)
{
	struct cache_msg *v;
	size_t n;
	char *cause = NULL;
	if (cache_msg_page(c->app.cache, c->phone, 0, (int)c->n, &v, &n, &cause) != 0) {
		fprintf(stderr, "wadesk: %s\n", cause);
		free(cause);
		finish(c, EXIT_HUB);
		return;
	}
	if (c->json) {
		char *s = cjson_history(v, n);
		printf("%s\n", s);
		free(s);
	} else
		for (size_t i = 0; i < n; i++) {
			char ts[32], size[16];
			/* A media message: its kind, name and size, then the caption. */
			char *raw = *v[i].media_mime == '\0' ? xstrdup(v[i].text) :
			    xasprintf("[%s%s%s %s] %s", console_media_kind(v[i].media_mime, v[i].type),
			        *v[i].media_name ? " " : "", v[i].media_name,
			        console_human_size(v[i].media_size, size),
			        *v[i].text ? v[i].text : v[i].media_caption);
			char *text = text_sanitize_line(raw, strlen(raw));
			free(raw);
			char *agent = text_sanitize_line(v[i].agent, strlen(v[i].agent));
			if (v[i].out)
				printf("%s  out %s [%s%s%s]: %s\n", time_rfc3339(v[i].time, ts),
				    v[i].automated ? "(automatic)" : agent, *v[i].state ? v[i].state : "queued",
				    *v[i].reason ? ": " : "", v[i].reason, text);
			else
				printf("%s  in: %s\n", time_rfc3339(v[i].time, ts), text);
			free(text);
			free(agent);
		}
	cache_msgs_free(v, n);
	finish(c, EXIT_DONE);
}

/* ---- send ------------------------------------------------------------ */

/* send PHONE TEXT|-  or  send PHONE --file PATH [--caption TEXT] */
static int
p_send(struct cli *c, int argc, char **argv)
{
	if (argc < 3 || want_phone(c, argv[1]) != 0)
		return -1;
	for (int i = 2; i < argc; i++) {
		char **slot = strcmp(argv[i], "--file") == 0 ? &c->file :
		    strcmp(argv[i], "--caption") == 0 ? &c->caption : NULL;
		if (slot != NULL) {
			if (i + 1 >= argc || *slot != NULL)
				return -1;
			*slot = xstrdup(argv[++i]);
		} else if (c->text == NULL)
			c->text = strcmp(argv[i], "-") == 0 ? read_stdin() : xstrdup(argv[i]);
		else
			return -1;
	}
	if (c->file != NULL)
		return c->text == NULL ? 0 : -1;
	if (c->caption != NULL || c->text == NULL)
		return -1;
	if (*c->text == '\0') {
		fprintf(stderr, "wadesk: nothing to send\n");
		return -1;
	}
	return 0;
}

static void r_send_file(struct cli *c);

static void
r_send(struct cli *c)
{
	if (c->file != NULL) {
		r_send_file(c);
		return;
	}
	int64_t now = now_s();
	struct send_decision d;
	session_decide(&c->app.sess, c->phone, c->text, now, &d);
	if (d.result == SEND_REFUSED) {
		refused(c, d.code, d.reason);
		decision_release(&d);
		return;
	}
	decision_release(&d);
	struct limit_verdict v;
	if (session_check_limits(&c->app.sess, c->phone, now, 1, &v) != 0) {
		char *why = limits_describe(&v, c->phone);
		refused(c, v.code, why);
		free(why);
		return;
	}
	sent(c, session_send_text(&c->app.sess, c->phone, c->text));
}

static void
a_send(struct cli *c, const struct proto_msg *m)
{
	if (m->type == PROTO_ERROR) {
		refused(c, m->code, m->sentence);
		return;
	}
	printf("%s: message %s (%s%s%s)\n", m->state != NULL ? m->state : "queued",
	    m->message_id != NULL ? m->message_id : "?", m->route != NULL ? m->route : "session",
	    m->template_id != NULL ? " " : "", m->template_id != NULL ? m->template_id : "");
	finish(c, EXIT_DONE);
}

/* ---- send --file, save -------------------------------------------- */

static void
cli_progress(void *arg, int64_t done, int64_t total)
{
	struct cli *c = arg;
	if (!c->bar)
		return;
	char *bar = console_progress(done, total > 0 ? total : c->out.size, 30);
	fprintf(stderr, "\r%s", bar);
	free(bar);
}

static void
upload_done(void *arg, const struct xfer_result *r)
{
	struct cli *c = arg;
	if (c->bar)
		fputc('\n', stderr);
	char *sha = NULL, *mime = NULL, *code = NULL, *msg = NULL;
	int64_t size = -1;
	if (r->body != NULL)
		cjson_upload_answer(r->body, r->body_len, &sha, &mime, &size, &code, &msg);
	if (!r->ok) {
		/* The hub's own refusal, or a status that says as much. */
		const char *k = code != NULL ? code : r->status == 413 ? "media.size" :
		    r->status == 415 ? "media.type" : NULL;
		if (k != NULL)
			refused(c, k, msg != NULL ? msg : r->error);
		else {
			fprintf(stderr, "wadesk: cannot upload '%s': %s\n", c->file, r->error);
			finish(c, EXIT_HUB);
		}
	} else if (sha == NULL || !mediastore_valid_hash(sha)) {
		fprintf(stderr, "wadesk: the hub's answer to the upload has no digest\n");
		finish(c, EXIT_HUB);
	} else {
		char *url = xasprintf("/v1/media/%s", sha);
		struct proto_media md = {
			.mime = mime != NULL && media_lookup(mime) != NULL ? mime : c->out.mime,
			.url = url, .filename = c->out.filename,
			.caption = c->caption != NULL && *c->caption ? c->caption : NULL,
			.size = size > 0 ? size : c->out.size, .sha256 = sha,
		};
		client_timer(c->app.client, APP_T_DEADLINE, CLI_TIMEOUT_MS);
		sent(c, session_send_media(&c->app.sess, c->phone, &md));
		free(url);
	}
	free(sha);
	free(mime);
	free(code);
	free(msg);
}

/* Every check first (type, size, what the send becomes, the limits),
 * then the upload, then the send command. */
static void
r_send_file(struct cli *c)
{
	int64_t now = now_s();
	char *cause = NULL, *why = NULL;
	const char *code;
	struct sniff *sn = sniff_new(&cause);
	if (sn == NULL) {
		fprintf(stderr, "wadesk: %s\n", cause);
		free(cause);
		finish(c, EXIT_HUB);
		return;
	}
	int r = cmedia_prepare(sn, c->file, c->caption, &c->app.sess, c->phone, now, &c->out, &code,
	    &why);
	sniff_free(sn);
	if (r != 0) {
		if (code != NULL)
			refused(c, code, why);
		else {
			fprintf(stderr, "wadesk: %s\n", why);
			finish(c, EXIT_USAGE);
		}
		free(why);
		return;
	}
	struct limit_verdict v;
	if (session_check_limits(&c->app.sess, c->phone, now, 1, &v) != 0) {
		char *lwhy = limits_describe(&v, c->phone);
		refused(c, v.code, lwhy);
		free(lwhy);
		return;
	}
	c->bar = isatty(2);
	/* The transfer has its own timeouts; the deadline returns for the send. */
	client_timer(c->app.client, APP_T_DEADLINE, -1);
	if (app_media_upload(&c->app, c->file, c->out.mime, c->out.filename, cli_progress,
	    upload_done, c, &cause) != 0) {
		fprintf(stderr, "wadesk: cannot upload '%s': %s\n", c->file, cause);
		free(cause);
		finish(c, EXIT_HUB);
	}
}

static int
p_save(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || argc > 3 || *argv[1] == '\0')
		return -1;
	c->file = xstrdup(argv[1]);
	c->dir = argc == 3 ? xstrdup(argv[2]) : NULL;
	return 0;
}

struct save_ctx {
	struct cli *c;
	char *name, *mime;
};

static void
save_copy(struct cli *c, const char *src, const char *name, const char *mime)
{
	char *cause = NULL, *dir = NULL, *saved = NULL;
	if (c->dir != NULL) {
		if (console_mkdirs(c->dir, &cause) == 0)
			dir = xstrdup(c->dir);
	} else
		dir = cmedia_download_dir(&cause);
	if (dir == NULL || cmedia_save(src, dir, name, mime, &saved, &cause) != 0) {
		fprintf(stderr, "wadesk: cannot save message %s: %s\n", c->file, cause);
		free(cause);
		free(dir);
		finish(c, EXIT_REFUSED);
		return;
	}
	printf("%s\n", saved);
	free(saved);
	free(dir);
	finish(c, EXIT_DONE);
}

static void
save_progress(struct app *a, void *arg, int64_t done, int64_t total)
{
	struct save_ctx *x = arg;
	(void)a;
	if (!x->c->bar)
		return;
	char *bar = console_progress(done, total, 30);
	fprintf(stderr, "\r%s", bar);
	free(bar);
}

static void
save_fetched(struct app *a, void *arg, const char *sha, const char *path, const char *error)
{
	struct save_ctx *x = arg;
	(void)a;
	(void)sha;
	if (x->c->bar)
		fputc('\n', stderr);
	if (path == NULL) {
		fprintf(stderr, "wadesk: cannot fetch message %s's file: %s\n", x->c->file, error);
		finish(x->c, EXIT_HUB);
	} else
		save_copy(x->c, path, x->name, x->mime);
	free(x->name);
	free(x->mime);
	free(x);
}

static void
r_save(struct cli *c)
{
	struct cache_msg m;
	char *cause = NULL;
	int r = cache_msg_get(c->app.cache, c->file, &m, &cause);
	if (r != 0) {
		if (r < 0)
			fprintf(stderr, "wadesk: %s\n", cause);
		else
			fprintf(stderr, "wadesk: no message %s on this hub\n", c->file);
		free(cause);
		finish(c, r < 0 ? EXIT_HUB : EXIT_REFUSED);
		return;
	}
	if (*m.media_mime == '\0') {
		fprintf(stderr, "wadesk: message %s has no media\n", c->file);
		finish(c, EXIT_REFUSED);
	} else if (strcmp(m.media_state, "refused") == 0)
		refused(c, *m.media_code ? m.media_code : "media.type", m.media_error);
	else if (!mediastore_valid_hash(m.media_sha256)) {
		fprintf(stderr, "wadesk: the hub has not got message %s's file yet%s%s\n", c->file,
		    *m.media_error ? ": " : "", m.media_error);
		finish(c, EXIT_HUB);
	} else {
		char *path = app_media_cached(&c->app, m.media_sha256);
		char *name = cmedia_save_name(m.media_name, m.media_mime, m.type, m.id);
		if (path != NULL)
			save_copy(c, path, name, m.media_mime);
		else {
			const struct media_type *mt = media_lookup(m.media_mime);
			struct save_ctx *x = xcalloc(1, sizeof *x);
			x->c = c;
			x->name = xstrdup(name);
			x->mime = xstrdup(m.media_mime);
			client_timer(c->app.client, APP_T_DEADLINE, -1);
			c->bar = isatty(2);
			if (app_media_fetch(&c->app, m.media_sha256, mt != NULL ? media_cap(mt->category) :
			    media_cap(MEDIA_DOCUMENT), save_fetched, save_progress, x, &cause) != 0) {
				fprintf(stderr, "wadesk: cannot fetch message %s's file: %s\n", c->file, cause);
				free(cause);
				free(x->name);
				free(x->mime);
				free(x);
				finish(c, EXIT_HUB);
			}
		}
		free(path);
		free(name);
	}
	cache_msg_release(&m);
}

/* ---- tail ------------------------------------------------------------ */

static int
p_tail(struct cli *c, int argc, char **argv)
{
	int i = options(c, argc, argv);
	return i < 0 || i != argc ? -1 : 0;
}

/* Called at the first welcome (see h_changed) and again when caught up. */
static void
r_tail(struct cli *c)
{
	if (c->streaming)
		return;
	c->streaming = 1;
	c->printed = c->app.sess.head;     /* live events are the ones after the welcome */
	c->app.sess.resume_max = c->printed;  /* a reconnect resumes from what was printed */
	c->app.reconnect = 1;        /* a hub restart does not end the stream */
	client_timer(c->app.client, APP_T_DEADLINE, -1);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* One line per live event: the frame itself with --json, else a summary.
 * What was printed is counted here, not by the cache's last_event: a
 * console sharing the cache may have stored the event first. */
static void
tail_frame(struct app *a, const char *data, size_t len)
{
	struct cli *c = a->ui;
	if (!c->streaming || a->sess.said_bye)
		return;
	struct proto_msg m;
	const char *code;
	char *cause = NULL;
	if (proto_decode(data, len, &m, &code, &cause) != 0 || m.type != PROTO_EVENT ||
	    m.n <= c->printed) {
		free(cause);
		proto_msg_release(&m);
		return;
	}
	if (c->json)
		printf("%.*s\n", (int)len, data);
	else {
		char ts[32];
		struct buf b = {0};
		buf_printf(&b, "%s #%lld %s", time_rfc3339(m.t, ts), (long long)m.n,
		    proto_kind_name(m.kind));
		switch (m.kind) {
		case PROTO_EV_MESSAGE:
			buf_printf(&b, " %s %s: %s", m.message.phone, m.message.direction, m.message.text);
			break;
		case PROTO_EV_CONTACT:
			buf_printf(&b, " %s %s (%s)", m.contact.phone, m.contact.name, m.contact.status);
			break;
		case PROTO_EV_MESSAGE_STATE:
			buf_printf(&b, " %s message %s %s%s%s", m.phone, m.message_id, m.state,
			    m.reason ? ": " : "", m.reason ? m.reason : "");
			break;
		case PROTO_EV_STATUS:
		case PROTO_EV_TYPING:
			buf_printf(&b, " %s %s%s%s", m.phone, m.status ? m.status : "",
			    m.agent ? " " : "", m.agent ? m.agent : "");
			break;
		case PROTO_EV_BRB:
			buf_printf(&b, " %s", m.brb ? "on" : "off");
			break;
		default:
			break;
		}
		char *clean = text_sanitize_line(b.data, b.len);
		printf("%s\n", clean);
		free(clean);
		buf_free(&b);
	}
	c->printed = m.n;
	a->sess.resume_max = m.n;
	proto_msg_release(&m);
}

/* ---- simple commands ----------------------------------------------- */

static int
p_phone_arg(struct cli *c, int argc, char **argv)
{
	if (argc != 3 || want_phone(c, argv[1]) != 0)
		return -1;
	c->text = xstrdup(argv[2]);
	return 0;
}

static void
r_tag(struct cli *c)
{
	sent(c, session_simple(&c->app.sess, PROTO_TAG, c->phone, c->text));
}

static void
r_untag(struct cli *c)
{
	sent(c, session_simple(&c->app.sess, PROTO_UNTAG, c->phone, c->text));
}

static void
r_note(struct cli *c)
{
	sent(c, session_simple(&c->app.sess, PROTO_NOTE, c->phone, c->text));
}

static void
r_name(struct cli *c)
{
	sent(c, session_simple(&c->app.sess, PROTO_CONTACT_NAME, c->phone, c->text));
}

static int
p_brb(struct cli *c, int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0))
		return -1;
	c->text = xstrdup(argv[1]);
	return 0;
}

static void
r_brb(struct cli *c)
{
	sent(c, session_simple(&c->app.sess, strcmp(c->text, "on") == 0 ? PROTO_BRB_ON :
	    PROTO_BRB_OFF, NULL, NULL));
}

/* canned list | add NAME TEXT | rm NAME: text holds the verb, tag the name. */
static int
p_canned(struct cli *c, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		c->text = xstrdup("list");
	else if (argc == 4 && strcmp(argv[1], "add") == 0) {
		c->text = xstrdup(argv[3]);
		c->tag = xstrdup(argv[2]);
		c->status = 1;
	} else if (argc == 3 && strcmp(argv[1], "rm") == 0) {
		c->tag = xstrdup(argv[2]);
		c->status = 2;
	} else
		return -1;
	return 0;
}

static void
r_canned(struct cli *c)
{
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	if (c->status == 1) {
		m.type = PROTO_CANNED_ADD;
		m.name = c->tag;
		m.text = c->text;
	} else if (c->status == 2) {
		m.type = PROTO_CANNED_RM;
		m.name = c->tag;
	} else
		m.type = PROTO_CANNED_LIST;
	sent(c, session_command(&c->app.sess, &m));
}

static void
a_canned(struct cli *c, const struct proto_msg *m)
{
	if (m->type == PROTO_ACK && c->status == -1)
		for (size_t i = 0; i < m->ncanned; i++) {
			char *t = text_sanitize_line(m->canned[i].text, strlen(m->canned[i].text));
			printf("%s\t%s\n", m->canned[i].name, t);
			free(t);
		}
	answer_done(c, m);
}

static int
p_access(struct cli *c, int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "rotate") != 0))
		return -1;
	c->text = xstrdup(argv[1]);
	return 0;
}

static void
print_links(struct cache *cache)
{
	static const char *const roles[] = { "agent", "supervisor", "admin", "webhook" };
	for (size_t i = 0; i < ARRAY_LEN(roles); i++) {
		char *k = xasprintf("links.%s", roles[i]), *v = cache_meta_get(cache, k);
		if (v != NULL)
			printf("%s: %s\n", roles[i], v);
		free(k);
		free(v);
	}
}

static void
r_access(struct cli *c)
{
	if (c->app.sess.role != PROTO_ROLE_ADMIN) {
		refused(c, "auth.role", "only an admin may show or rotate access links");
		return;
	}
	if (strcmp(c->text, "show") == 0) {
		char *v = cache_meta_get(c->app.cache, "links.admin");
		if (v == NULL) {
			/* The hub hands out links only when they change. */
			printf("admin: %s\n", c->app.link_str);
			fprintf(stderr, "wadesk: the other links are shown by 'wadeskd -d DIR access show' "
			    "or after 'wadesk access rotate'\n");
		} else
			print_links(c->app.cache);
		free(v);
		finish(c, EXIT_DONE);
		return;
	}
	struct proto_msg m;
	memset(&m, 0, sizeof m);
	m.type = PROTO_ACCESS_ROTATE;
	sent(c, session_command(&c->app.sess, &m));
}

static void
a_access(struct cli *c, const struct proto_msg *m)
{
	if (m->type == PROTO_ERROR) {
		refused(c, m->code, m->sentence);
		return;
	}
	const char *links[][2] = {
		{ "agent", m->links.agent }, { "supervisor", m->links.supervisor },
		{ "admin", m->links.admin }, { "webhook", m->links.webhook },
	};
	for (size_t i = 0; i < ARRAY_LEN(links); i++) {
		if (links[i][1] == NULL)
			continue;
		printf("%s: %s\n", links[i][0], links[i][1]);
		char *k = xasprintf("links.%s", links[i][0]), *cause = NULL;
		if (cache_meta_set(c->app.cache, k, links[i][1], &cause) != 0) {
			fprintf(stderr, "wadesk: %s\n", cause);
			free(cause);
		}
		free(k);
	}
	/* Keep working: the remembered link becomes the new admin link. */
	struct console_config cfg;
	char *cause = NULL;
	if (m->links.admin != NULL && console_config_load(&cfg, &cause) == 0) {
		if (cfg.link != NULL && strcmp(cfg.link, c->app.link_str) == 0) {
			free(cfg.link);
			cfg.link = xstrdup(m->links.admin);
			if (console_config_save(&cfg, &cause) != 0) {
				fprintf(stderr, "wadesk: %s\n", cause);
				free(cause);
			}
		}
		console_config_release(&cfg);
	} else
		free(cause);
	finish(c, EXIT_DONE);
}

static const struct cli_cmd cmds[] = {
	{ "chats", "chats [--status S] [--tag T] [--json]", p_chats, r_chats, NULL },
	{ "history", "history PHONE [-n N] [--json]", p_history, r_history, NULL },
	{ "send", "send PHONE TEXT|-  |  send PHONE --file PATH [--caption TEXT]", p_send, r_send, a_send },
	{ "save", "save MSGID [DIR]", p_save, r_save, NULL },
	{ "tail", "tail [--json]", p_tail, r_tail, NULL },
	{ "tag", "tag PHONE TAG", p_phone_arg, r_tag, answer_done },
	{ "untag", "untag PHONE TAG", p_phone_arg, r_untag, answer_done },
	{ "note", "note PHONE TEXT", p_phone_arg, r_note, answer_done },
	{ "name", "name PHONE NAME", p_phone_arg, r_name, answer_done },
	{ "brb", "brb on|off", p_brb, r_brb, answer_done },
	{ "canned", "canned list | canned add NAME TEXT | canned rm NAME", p_canned, r_canned, a_canned },
	{ "access", "access show|rotate", p_access, r_access, a_access },
};

void
cli_usage(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		fprintf(stderr, "       wadesk [--link LINK] [--name NAME] %s\n", cmds[i].usage);
}

/* ---- the runner ------------------------------------------------------ */

static void
h_changed(struct app *a, unsigned what, const char *phone)
{
	struct cli *c = a->ui;
	(void)what;
	(void)phone;
	if (c->done)
		return;
	struct session *s = &a->sess;
	/* tail streams from the welcome on: once the hub took the link, losing
	 * it (even during the replay) means reconnecting, not exit 3. */
	if (!c->streaming && s->state == SESS_READY && c->cmd->ready == r_tail)
		r_tail(c);
	if (!c->started && session_caught_up(s)) {
		c->started = 1;
		c->cmd->ready(c);
		return;
	}
	if (c->streaming && s->state == SESS_OFFLINE) {
		if (!c->lost)
			fprintf(stderr, "wadesk: lost the hub (%s); reconnecting\n",
			    s->why != NULL ? s->why : "connection closed");
		c->lost = 1;
		return;
	}
	if (c->streaming && s->state == SESS_READY)
		c->lost = 0;
	if (s->state == SESS_OFFLINE || s->state == SESS_EXPIRED) {
		fprintf(stderr, "wadesk: cannot reach the hub at %s:%d: %s\n", a->link.host,
		    a->link.port, s->why != NULL ? s->why : "connection closed");
		finish(c, EXIT_HUB);
	}
}

static void
h_reply(struct app *a, const char *id, const struct proto_msg *m)
{
	struct cli *c = a->ui;
	if (c->done || id == NULL || strcmp(id, c->id) != 0)
		return;
	if (c->cmd->answer != NULL)
		c->cmd->answer(c, m);
	else
		finish(c, EXIT_DONE);
}

static void
h_timer(struct app *a, int which)
{
	struct cli *c = a->ui;
	if (which == APP_T_DEADLINE && !c->done) {
		fprintf(stderr, "wadesk: the hub at %s:%d did not answer within %d s\n", a->link.host,
		    a->link.port, CLI_TIMEOUT_MS / 1000);
		finish(c, EXIT_HUB);
	}
}

int
cli_run(int argc, char **argv, const char *link, const char *name)
{
	const struct cli_cmd *cmd = NULL;
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL)
		return -1;
	struct cli *c = xcalloc(1, sizeof *c);
	c->cmd = cmd;
	c->status = -1;
	int code;
	if (cmd->parse(c, argc, argv) != 0) {
		fprintf(stderr, "usage: wadesk %s\n", cmd->usage);
		code = EXIT_USAGE;
		goto out;
	}
	if (link == NULL) {
		fprintf(stderr, "wadesk: no link: use --link LINK, WADESK_LINK, or 'wadesk connect LINK'\n");
		code = EXIT_HUB;
		goto out;
	}
	static const struct app_hooks hooks = { h_changed, NULL, h_reply, NULL, h_timer, tail_frame };
	char *cause = NULL;
	if (app_init(&c->app, link, name, &hooks, c, &cause) != 0 ||
	    app_start(&c->app, &cause) != 0) {
		fprintf(stderr, "wadesk: %s\n", cause);
		free(cause);
		code = EXIT_HUB;
		goto out;
	}
	client_timer(c->app.client, APP_T_DEADLINE, CLI_TIMEOUT_MS);
	app_connect(&c->app);
	if (!c->done)
		app_run(&c->app);
	code = c->code;
	app_release(&c->app);
out:
	free(c->tag);
	free(c->phone);
	free(c->text);
	free(c->file);
	free(c->caption);
	free(c->dir);
	cmedia_out_release(&c->out);
	free(c);
	return code;
}
