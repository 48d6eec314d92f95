/*
 * Unit tests for the load generator's HTTP client (net/sim_load.c),
 * against a scripted server in a thread on 127.0.0.1: every framing of a
 * response it must follow (length, chunked, 100 Continue, close-delimited,
 * byte by byte), kept-alive connections the server drops between requests
 * (resent once), answers that are not HTTP, error statuses, a server
 * that is not there, and bodies that are the builder's, with unique ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gupshup.h"
#include "net/sim_net.h"
#include "util.h"
#include "slurp.h"

enum mode { M_LENGTH, M_CHUNKED, M_CONTINUE, M_CLOSE_DELIMITED, M_DROP_IDLE, M_DRIBBLE,
	        M_STATUS_503, M_GARBAGE };

#define MAXC 64

struct server {
	int        lfd, port;
	enum mode  mode;
	int        stop;
	pthread_t  thread;
	/* What it saw: */
	unsigned   requests, connections;
	char     **ids;
	size_t     nids;
	int        bad_body;       /* a body that did not parse as a message callback */
	char      *phones[1024];
	size_t     nphones;
};

struct sconn {
	int        fd;
	struct buf in;
};

static void
send_all(int fd, const char *p, size_t n, int dribble)
{
	while (n > 0) {
		ssize_t w = send(fd, p, dribble ? 1 : n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		if (dribble)
			usleep(200);
		p += w;
		n -= (size_t)w;
	}
}

static void
note_body(struct server *s, const char *body, size_t len)
{
	struct gupshup_callback cb;
	char *cause = NULL;

	if (gupshup_callback_parse(body, len, &cb, &cause) != 0 || cb.kind != GUPSHUP_MESSAGE ||
	    cb.msg.type != GUPSHUP_TEXT || cb.msg.id == NULL || cb.msg.phone == NULL ||
	    strcmp(cb.msg.text, "load test message") != 0 || cb.timestamp < 1700000000000LL) {
		s->bad_body = 1;
		free(cause);
		if (cause == NULL)
			gupshup_callback_release(&cb);
		return;
	}
	s->ids = xrealloc(s->ids, (s->nids + 1) * sizeof *s->ids);
	s->ids[s->nids++] = xstrdup(cb.msg.id);
	{
		size_t i;
		for (i = 0; i < s->nphones && strcmp(s->phones[i], cb.msg.phone) != 0; i++)
			;
		if (i == s->nphones && s->nphones < 1024)
			s->phones[s->nphones++] = xstrdup(cb.msg.phone);
	}
	gupshup_callback_release(&cb);
}

/* Answers one request; 1 when the server then closes the connection. */
static int
answer(struct server *s, int fd)
{
	static const char length[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                             "content-length: 2\r\n\r\n{}";
	static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                              "1;ext=1\r\n{\r\n1\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n";
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
	                           "Content-Length: 0\r\n\r\n";
	static const char delim[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"ok\":1}";
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";
	static const char garbage[] = "HELLO THERE\r\n\r\n";

	switch (s->mode) {
	case M_LENGTH: send_all(fd, length, sizeof length - 1, 0); return 0;
	case M_CHUNKED: send_all(fd, chunked, sizeof chunked - 1, 0); return 0;
	case M_CONTINUE: send_all(fd, cont, sizeof cont - 1, 0); return 0;
	case M_CLOSE_DELIMITED: send_all(fd, delim, sizeof delim - 1, 0); return 1;
	case M_DROP_IDLE: send_all(fd, length, sizeof length - 1, 0); return 1;
	case M_DRIBBLE: send_all(fd, chunked, sizeof chunked - 1, 1); return 0;
	case M_STATUS_503: send_all(fd, busy, sizeof busy - 1, 0); return 0;
	case M_GARBAGE: send_all(fd, garbage, sizeof garbage - 1, 0); return 0;
	}
	return 1;
}

/* A request is complete in c->in: its body noted, answered, consumed. */
static int
serve_ready(struct server *s, struct sconn *c)
{
	char *end, *cl;
	size_t head, body;

	buf_putc(&c->in, '\0');       /* a terminator for strstr, not counted */
	c->in.len--;
	end = strstr(c->in.data, "\r\n\r\n");
	if (end == NULL)
		return 0;
	head = (size_t)(end - c->in.data) + 4;
	cl = strcasestr(c->in.data, "\r\nContent-Length:");
	body = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	if (c->in.len < head + body)
		return 0;
	if (strncmp(c->in.data, "POST /v1/webhook/gupshup/x HTTP/1.1\r\n", 37) != 0 ||
	    strcasestr(c->in.data, "\r\nContent-Type: application/json\r\n") == NULL)
		s->bad_body = 1;
	note_body(s, c->in.data + head, body);
	s->requests++;
	memmove(c->in.data, c->in.data + head + body, c->in.len - head - body);
	c->in.len -= head + body;
	return answer(s, c->fd) ? -1 : 1;
}

static void *
serve(void *arg)
{
	struct server *s = arg;
	struct sconn conns[MAXC];
	size_t n = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p[MAXC + 1];
		p[0] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		for (size_t i = 0; i < n; i++)
			p[i + 1] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		if (poll(p, n + 1, 20) <= 0)
			continue;
		if (p[0].revents & POLLIN && n < MAXC) {
			int fd = accept(s->lfd, NULL, NULL), one = 1;
			if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				conns[n++] = (struct sconn){ .fd = fd };
				s->connections++;
			}
		}
		for (size_t i = n; i-- > 0;) {
			char buf[4096];
			ssize_t r;
			int gone = 0, rc;
			if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) || p[i + 1].fd != conns[i].fd)
				continue;
			r = recv(conns[i].fd, buf, sizeof buf, 0);
			if (r <= 0) {
				gone = 1;
			} else {
				buf_append(&conns[i].in, buf, (size_t)r);
				while ((rc = serve_ready(s, &conns[i])) > 0)
					;
				gone = rc < 0;
			}
			if (gone) {
				close(conns[i].fd);
				buf_free(&conns[i].in);
				conns[i] = conns[--n];
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		close(conns[i].fd);
		buf_free(&conns[i].in);
	}
	return NULL;
}

static void
server_start(struct server *s, enum mode m)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;

	memset(s, 0, sizeof *s);
	s->mode = m;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->lfd, 128), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void
server_stop(struct server *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	for (size_t i = 0; i < s->nids; i++)
		free(s->ids[i]);
	free(s->ids);
	for (size_t i = 0; i < s->nphones; i++)
		free(s->phones[i]);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs count webhooks at port; returns the result; acked ids in *acked. */
static struct sim_load_result
run(int port, unsigned long count, unsigned inflight, unsigned customers, char **acked)
{
	char url[96], path[] = "/tmp/test_sim_load.XXXXXX", *cause = NULL;
	struct sim_load_opts o = { .callback = url, .app = "LoadApp", .count = count,
	                           .rate = 1e6, .customers = customers, .inflight = inflight,
	                           .seed = 7, .acked = path };
	struct sim_load_result r;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/webhook/gupshup/x", port);
	assert_int_equal(sim_load_run(&o, &r, &cause), 0);
	assert_null(cause);
	*acked = slurp(path, NULL);
	unlink(path);
	return r;
}

/* Every framing that answers 200: all count acknowledged, the server saw
 * each id once, the acked file lists exactly those ids. */
static void
check_all_ok(enum mode m, unsigned long count, unsigned inflight, unsigned min_conns,
             unsigned max_conns)
{
	struct server s;
	struct sim_load_result r;
	char *acked, *line, *save = NULL;
	size_t nacked = 0;

	server_start(&s, m);
	r = run(s.port, count, inflight, 5, &acked);
	assert_int_equal(r.sent, count);
	assert_int_equal(r.ok, count);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.by_status[2], count);
	assert_true(r.p50_ms > 0 && r.p50_ms <= r.p99_ms && r.p99_ms <= r.max_ms);
	/* The server thread has seen every request before it answered it. */
	assert_int_equal(s.requests, count);
	assert_false(s.bad_body);
	assert_int_equal(s.nids, count);
	assert_true(s.nphones >= 1 && s.nphones <= 5);
	assert_true(s.connections >= min_conns);
	assert_true(s.connections <= max_conns);
	qsort(s.ids, s.nids, sizeof *s.ids, cmp_str);
	for (size_t i = 1; i < s.nids; i++)
		assert_string_not_equal(s.ids[i - 1], s.ids[i]);
	for (line = strtok_r(acked, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(bsearch(&line, s.ids, s.nids, sizeof *s.ids, cmp_str));
		nacked++;
	}
	assert_int_equal(nacked, count);
	free(acked);
	server_stop(&s);
}

static void
test_length_keepalive(void **state)
{
	(void)state;
	/* 8 connections carry 2,000 requests: kept alive, not reopened. */
	check_all_ok(M_LENGTH, 2000, 8, 1, 8);
}

static void
test_chunked(void **state)
{
	(void)state;
	check_all_ok(M_CHUNKED, 500, 4, 1, 4);
}

static void
test_continue(void **state)
{
	(void)state;
	check_all_ok(M_CONTINUE, 300, 4, 1, 4);
}

static void
test_close_delimited(void **state)
{
	(void)state;
	/* Read to the end of the stream, then a new connection per request. */
	check_all_ok(M_CLOSE_DELIMITED, 200, 4, 200, 200);
}

static void
test_dropped_idle(void **state)
{
	(void)state;
	/* The server closes each connection after answering without saying
	 * so; the next request on it fails before any answer and is sent once
	 * more on a fresh connection: nothing is lost, nothing counted twice. */
	check_all_ok(M_DROP_IDLE, 200, 2, 200, 400);
}

static void
test_dribble(void **state)
{
	(void)state;
	/* A chunked answer a byte at a time. */
	check_all_ok(M_DRIBBLE, 20, 2, 1, 2);
}

static void
test_errors(void **state)
{
	struct server s;
	struct sim_load_result r;
	char *acked;

	(void)state;
	server_start(&s, M_STATUS_503);
	r = run(s.port, 50, 4, 3, &acked);
	assert_int_equal(r.ok, 0);
	assert_int_equal(r.failed, 50);
	assert_int_equal(r.by_status[5], 50);
	assert_string_equal(acked, "");
	free(acked);
	server_stop(&s);

	/* Not HTTP: no answer, and the connection is not reused. */
	server_start(&s, M_GARBAGE);
	r = run(s.port, 30, 2, 3, &acked);
	assert_int_equal(r.ok, 0);
	assert_int_equal(r.by_status[0], 30);
	assert_int_equal(s.connections, 30);
	free(acked);
	server_stop(&s);

	/* Nobody listening: each request fails, the run still ends. */
	{
		int port = s.port;
		r = run(port, 25, 4, 3, &acked);
		assert_int_equal(r.sent, 25);
		assert_int_equal(r.failed, 25);
		assert_int_equal(r.by_status[0], 25);
		free(acked);
	}
}

static void
test_bad_url(void **state)
{
	struct sim_load_opts o = { .callback = "http://[::1/x", .app = "A", .count = 1, .rate = 1 };
	struct sim_load_result r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(sim_load_run(&o, &r, &cause), -1);
	assert_non_null(strstr(cause, "cannot read the webhook URL"));
	free(cause);
	cause = NULL;
	o.callback = "http://:8080/x";
	assert_int_equal(sim_load_run(&o, &r, &cause), -1);
	assert_non_null(strstr(cause, "cannot read the webhook URL"));
	free(cause);
	cause = NULL;
	/* A port that is not a number (numeric services only: no lookup). */
	o.callback = "http://127.0.0.1:http/x";
	assert_int_equal(sim_load_run(&o, &r, &cause), -1);
	assert_non_null(strstr(cause, "cannot resolve"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length_keepalive), cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_continue),         cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_dropped_idle),     cmocka_unit_test(test_dribble),
		cmocka_unit_test(test_errors),           cmocka_unit_test(test_bad_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
