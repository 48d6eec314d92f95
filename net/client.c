/*
 * client.c — the console's websocket client on libwebsockets (see
 * client.h).
 *
 * One lws context with one protocol whose callback serves three kinds of
 * wsi: the websocket to the hub, and raw-file wsis adopted for the
 * descriptors the console watches (the terminal, the signal self-pipe),
 * so that a single poll(2) inside lws_service() waits for all of them.
 * Timers are lws "sorted usec list" entries.  Outgoing frames wait in a
 * FIFO and leave one per WRITEABLE callback, as lws requires; an incoming
 * message may arrive in fragments and is reassembled before on_frame.
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "net/client.h"
#include "util.h"

#define CLIENT_TIMERS 8
#define CLIENT_MAX_FRAME (1024 * 1024 + 4096)

struct frame {
	struct frame *next;
	size_t len;
	unsigned char data[];    /* LWS_PRE bytes of headroom, then the text */
};

struct client_timer {
	lws_sorted_usec_list_t sul;   /* first: the callback casts back */
	struct client *c;
	int which;
};

struct client {
	struct lws_context *ctx;
	struct lws_protocols protocols[2];
	struct client_hooks hooks;
	void *arg;
	struct lws *wsi;           /* the websocket, NULL when none */
	int opening, open, closing;
	int tls;                   /* the connection being made is wss:// */
	struct frame *head, *tail;
	struct buf rx;
	char close_why[256];
	struct client_timer timers[CLIENT_TIMERS];
};

static void
queue_clear(struct client *c)
{
	while (c->head != NULL) {
		struct frame *f = c->head;
		c->head = f->next;
		free(f);
	}
	c->tail = NULL;
}

static void
lost(struct client *c, const char *why)
{
	int was = c->opening || c->open;
	c->wsi = NULL;
	c->opening = c->open = c->closing = 0;
	queue_clear(c);
	buf_reset(&c->rx);
	if (was && c->hooks.on_close != NULL)
		c->hooks.on_close(c->arg, why);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct client *c = lws_context_user(lws_get_context(wsi));
	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->opening = 0;
		c->open = 1;
		c->close_why[0] = '\0';
		if (c->hooks.on_open != NULL)
			c->hooks.on_open(c->arg);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (wsi != c->wsi && c->wsi != NULL)
			break;
		/* lws reports a refused certificate as an opaque OpenSSL
		 * error: say what it most likely means. */
		if (c->tls && in != NULL && strstr((const char *)in, "SSL") != NULL)
			snprintf(c->close_why, sizeof c->close_why,
			    "TLS handshake failed (is the hub's certificate trusted here? "
			    "see SSL_CERT_FILE in wadesk(1)): %s", (const char *)in);
		else
			snprintf(c->close_why, sizeof c->close_why, "cannot connect: %s",
			    in != NULL ? (const char *)in : "connection refused");
		lost(c, c->close_why);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len > 2)
			snprintf(c->close_why, sizeof c->close_why, "%.*s", (int)(len - 2),
			    (const char *)in + 2);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (wsi != c->wsi)
			break;
		lost(c, c->close_why[0] != '\0' ? c->close_why : "the hub closed the connection");
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c->rx.len + len > CLIENT_MAX_FRAME) {
			snprintf(c->close_why, sizeof c->close_why, "a frame from the hub is too large");
			return -1;
		}
		buf_append(&c->rx, in, len);
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			if (c->hooks.on_frame != NULL && c->rx.len > 0)
				c->hooks.on_frame(c->arg, c->rx.data, c->rx.len);
			buf_reset(&c->rx);
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->closing) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
			return -1;
		}
		if (c->head != NULL) {
			struct frame *f = c->head;
			int n = lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
			if (n < (int)f->len) {
				snprintf(c->close_why, sizeof c->close_why, "cannot write to the hub");
				return -1;
			}
			c->head = f->next;
			if (c->head == NULL)
				c->tail = NULL;
			free(f);
			if (c->head != NULL)
				lws_callback_on_writable(wsi);
		}
		break;
	case LWS_CALLBACK_RAW_RX_FILE:
		if (c->hooks.on_fd != NULL)
			c->hooks.on_fd(c->arg, lws_get_socket_fd(wsi));
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		break;
	default:
		break;
	}
	return 0;
}

static void
lws_log_quiet(int level, const char *line)
{
	(void)level;
	(void)line;
}

struct client *
client_new(const struct client_hooks *hooks, void *arg, char **cause)
{
	struct client *c = xcalloc(1, sizeof *c);
	c->hooks = *hooks;
	c->arg = arg;
	c->protocols[0].name = "wadesk-console";
	c->protocols[0].callback = callback;
	c->protocols[0].rx_buffer_size = 65536;
	lws_set_log_level(log_level >= 1 ? (LLL_ERR | LLL_WARN) : 0, lws_log_quiet);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = c->protocols;
	info.user = c;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	c->ctx = lws_create_context(&info);
	if (c->ctx == NULL) {
		*cause = xstrdup("cannot create the websocket context");
		free(c);
		return NULL;
	}
	for (int i = 0; i < CLIENT_TIMERS; i++) {
		c->timers[i].c = c;
		c->timers[i].which = i;
	}
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < CLIENT_TIMERS; i++)
		lws_sul_cancel(&c->timers[i].sul);
	lws_context_destroy(c->ctx);
	queue_clear(c);
	buf_free(&c->rx);
	free(c);
}

int
client_connect(struct client *c, int tls, const char *host, int port, const char *path,
    const char *proto, char **cause)
{
	if (c->opening || c->open) {
		*cause = xstrdup("already connected");
		return -1;
	}
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof ci);
	ci.context = c->ctx;
	ci.address = host;
	ci.port = port;
	ci.path = path;
	ci.host = host;
	ci.origin = host;
	ci.protocol = proto;
	ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	ci.pwsi = &c->wsi;
	c->tls = tls;
	c->close_why[0] = '\0';
	c->opening = 1;
	if (lws_client_connect_via_info(&ci) == NULL) {
		c->opening = 0;
		c->wsi = NULL;
		*cause = xasprintf("cannot connect to %s:%d", host, port);
		return -1;
	}
	return 0;
}

int
client_busy(const struct client *c)
{
	return c->opening || c->open;
}

int
client_send(struct client *c, const char *data, size_t len)
{
	if (!c->open || c->wsi == NULL)
		return -1;
	struct frame *f = xmalloc(sizeof *f + LWS_PRE + len);
	f->next = NULL;
	f->len = len;
	memcpy(f->data + LWS_PRE, data, len);
	if (c->tail != NULL)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void
client_close(struct client *c)
{
	if (c->wsi == NULL)
		return;
	c->closing = 1;
	lws_callback_on_writable(c->wsi);
}

int
client_watch_fd(struct client *c, int fd, char **cause)
{
	lws_sock_file_fd_type u;
	memset(&u, 0, sizeof u);
	u.filefd = fd;
	struct lws_vhost *vh = lws_get_vhost_by_name(c->ctx, "default");
	if (vh == NULL || lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, u,
	    c->protocols[0].name, NULL) == NULL) {
		*cause = xasprintf("cannot watch descriptor %d", fd);
		return -1;
	}
	return 0;
}

static void
timer_fired(lws_sorted_usec_list_t *sul)
{
	struct client_timer *t = (struct client_timer *)sul;
	if (t->c->hooks.on_timer != NULL)
		t->c->hooks.on_timer(t->c->arg, t->which);
}

void
client_timer(struct client *c, int which, long ms)
{
	if (which < 0 || which >= CLIENT_TIMERS)
		return;
	if (ms < 0)
		lws_sul_cancel(&c->timers[which].sul);
	else
		lws_sul_schedule(c->ctx, 0, &c->timers[which].sul, timer_fired,
		    (lws_usec_t)ms * LWS_US_PER_MS);
}

int
client_service(struct client *c)
{
	return lws_service(c->ctx, 0) < 0 ? -1 : 0;
}

void
client_wake(struct client *c)
{
	lws_cancel_service(c->ctx);
}
