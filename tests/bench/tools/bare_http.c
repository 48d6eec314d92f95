/*
 * bare_http.c — the baseline of the ingest benchmark: a libwebsockets
 * HTTP server that answers 200 {} to every POST once it has read the
 * body, and does nothing else.
 *
 * It has the same shape as the hub's webhook path (net/hub_server.c):
 * one lws context, the body gathered from HTTP_BODY callbacks, the answer
 * written from HTTP_WRITEABLE, the connection kept alive for the next
 * request.  What the hub adds on top (parsing, the store, the group
 * commit, the broadcast to consoles) is exactly what the benchmark
 * measures, so this server must stay as plain as it is.
 *
 *   bare_http --listen 127.0.0.1:PORT
 *
 * Runs until SIGTERM or SIGINT, then prints how many POSTs it answered
 * and exits 0.  A GET is answered 200 too (the driver's health check).
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct req {
	size_t body;            /* bytes read so far (the body itself is dropped) */
	int    answer;          /* 1 once the body is complete */
};

static volatile sig_atomic_t stop;
static struct lws_context *sig_ctx;
static unsigned long answered, body_bytes;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
	if (sig_ctx != NULL)
		lws_cancel_service(sig_ctx);
}

static int
answer(struct lws *wsi)
{
	static const char body[] = "{}";
	unsigned char hdr[LWS_PRE + 256], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
	unsigned char out[LWS_PRE + sizeof body];

	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "application/json", sizeof body - 1,
	                                &p, end) != 0 ||
	    lws_finalize_write_http_header(wsi, start, &p, end) != 0)
		return -1;
	memcpy(out + LWS_PRE, body, sizeof body - 1);
	if (lws_write(wsi, out + LWS_PRE, sizeof body - 1, LWS_WRITE_HTTP_FINAL) < 0)
		return -1;
	answered++;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int
cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct req *r = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		memset(r, 0, sizeof *r);
		if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) == 0) {
			r->answer = 1;      /* a GET: no body to wait for */
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		r->body += len;
		body_bytes += len;
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		r->answer = 1;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (r == NULL || !r->answer)
			return 0;
		r->answer = 0;
		return answer(wsi);
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", cb_http, sizeof(struct req), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	struct sigaction sa;
	char host[64];
	const char *colon;
	int port;

	if (argc != 3 || strcmp(argv[1], "--listen") != 0 ||
	    (colon = strrchr(argv[2], ':')) == NULL || (size_t)(colon - argv[2]) >= sizeof host ||
	    (port = atoi(colon + 1)) <= 0 || port > 65535) {
		fprintf(stderr, "usage: bare_http --listen ADDR:PORT\n");
		return 2;
	}
	memcpy(host, argv[2], (size_t)(colon - argv[2]));
	host[colon - argv[2]] = '\0';

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = port;
	info.iface = host;
	info.protocols = protocols;
	info.vhost_name = "bare";
	info.pt_serv_buf_size = 64 * 1024;      /* as the hub */
	info.timeout_secs = 30;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	ctx = lws_create_context(&info);
	if (ctx == NULL) {
		fprintf(stderr, "bare_http: cannot listen on %s\n", argv[2]);
		return 1;
	}
	sig_ctx = ctx;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	while (!stop)
		if (lws_service(ctx, 0) < 0)
			break;
	sig_ctx = NULL;
	lws_context_destroy(ctx);
	printf("bare_http: %lu requests answered, %lu body bytes read\n", answered, body_bytes);
	return 0;
}
