/*
 * Unit tests for the console's media work apart from the screen:
 * console_media.c (download directory, safe never-overwriting saves, the
 * checks before an upload), the upload answer's parser, `:attach`
 * parsing, and net/xfer.c against a small HTTP server run in a thread of
 * this test (a fetch verified against its digest, a substituted one
 * dropped, an upload with its headers and streamed body, progress).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "console.h"
#include "console_json.h"
#include "console_media.h"
#include "console_session.h"
#include "mediastore.h"
#include "net/xfer.h"
#include "sha256.h"
#include "util.h"
#include "slurp.h"

static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/wadesk-cmedia.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static char *
write_file(const char *name, const void *data, size_t len)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
	"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

/* A customer's "../../.bashrc" lands as a safe name inside the directory,
 * with the real type's extension, and a second save never overwrites. */
static void
test_save(void **state)
{
	(void)state;
	char *src = write_file("src.bin", pdf, sizeof pdf - 1);
	char *dir = xasprintf("%s/dl", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	char *saved = NULL, *cause = NULL;
	assert_int_equal(cmedia_save(src, dir, "../../.bashrc", "application/pdf", &saved, &cause), 0);
	char *want = xasprintf("%s/bashrc.pdf", dir);
	assert_string_equal(saved, want);
	size_t len;
	char *got = slurp(saved, &len);
	assert_int_equal(len, sizeof pdf - 1);
	assert_memory_equal(got, pdf, len);
	free(got);
	free(saved);
	free(want);
	assert_int_equal(cmedia_save(src, dir, "../../.bashrc", "application/pdf", &saved, &cause), 0);
	want = xasprintf("%s/bashrc (2).pdf", dir);
	assert_string_equal(saved, want);
	free(saved);
	free(want);
	/* Nothing outside the directory. */
	char *outside = xasprintf("%s/.bashrc", tmpdir);
	assert_int_not_equal(access(outside, F_OK), 0);
	free(outside);
	/* A name claiming another type gets the real one appended. */
	assert_int_equal(cmedia_save(src, dir, "invoice.exe", "application/pdf", &saved, &cause), 0);
	assert_non_null(strstr(saved, "/invoice.exe.pdf"));
	free(saved);
	/* A missing source says so. */
	assert_int_equal(cmedia_save("/nonexistent/x", dir, "a", "application/pdf", &saved, &cause), -1);
	assert_non_null(strstr(cause, "cannot open '/nonexistent/x'"));
	free(cause);
	free(dir);
	free(src);
}

static void
test_download_dir(void **state)
{
	(void)state;
	char *old_home = getenv("HOME") != NULL ? xstrdup(getenv("HOME")) : NULL;
	char *old_path = getenv("PATH") != NULL ? xstrdup(getenv("PATH")) : NULL;
	char *want = xasprintf("%s/x/dl", tmpdir), *cause = NULL;
	setenv("XDG_DOWNLOAD_DIR", want, 1);
	char *d = cmedia_download_dir(&cause);
	assert_string_equal(d, want);
	struct stat st;
	assert_int_equal(stat(d, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	free(d);
	free(want);
	unsetenv("XDG_DOWNLOAD_DIR");
	setenv("HOME", tmpdir, 1);
	setenv("PATH", "/nonexistent", 1);
	d = cmedia_download_dir(&cause);
	want = xasprintf("%s/Downloads", tmpdir);
	assert_string_equal(d, want);
	free(d);
	free(want);
	if (old_home != NULL)
		setenv("HOME", old_home, 1);
	if (old_path != NULL)
		setenv("PATH", old_path, 1);
	free(old_home);
	free(old_path);
}

/* The checks before an upload, each with its stable code. */
static void
test_prepare(void **state)
{
	(void)state;
	char *cause = NULL;
	struct sniff *sn = sniff_new(&cause);
	assert_non_null(sn);
	struct cache *c;
	assert_int_equal(cache_open(":memory:", &c, NULL), 0);
	static const struct session_hooks hooks = { 0 };
	struct session s;
	session_init(&s, "tok", "ravi", &hooks, NULL);
	session_set_cache(&s, c);
	int64_t now = now_s();
	struct cache_chat ch = { .phone = (char *)"911", .name = (char *)"", .note = (char *)"",
		.tags = (char *)"", .responding = (char *)"", .preview = (char *)"",
		.last_time = now - 60, .last_inbound = now - 60, .status = 0 };
	assert_int_equal(cache_chat_put(c, &ch, NULL), 0);
	struct cmedia_out out;
	const char *code;
	char *why;
	char *ok = write_file("invoice.pdf", pdf, sizeof pdf - 1);
	assert_int_equal(cmedia_prepare(sn, ok, "here", &s, "911", now, &out, &code, &why), 0);
	assert_string_equal(out.mime, "application/pdf");
	assert_int_equal(out.size, sizeof pdf - 1);
	assert_string_equal(out.filename, "invoice.pdf");
	cmedia_out_release(&out);
	/* Outside the window: media.session_only. */
	assert_int_equal(cmedia_prepare(sn, ok, NULL, &s, "999", now, &out, &code, &why), -1);
	assert_string_equal(code, "media.session_only");
	free(why);
	/* Sandbox: sandbox.text_only. */
	s.sandbox = 1;
	assert_int_equal(cmedia_prepare(sn, ok, NULL, &s, "911", now, &out, &code, &why), -1);
	assert_string_equal(code, "sandbox.text_only");
	free(why);
	s.sandbox = 0;
	/* A renamed executable: media.type, saying what it really is. */
	size_t elen;
	char *elf = slurp("/bin/true", &elen);
	char *fake = write_file("x.pdf", elf, elen);
	free(elf);
	assert_int_equal(cmedia_prepare(sn, fake, NULL, &s, "911", now, &out, &code, &why), -1);
	assert_string_equal(code, "media.type");
	assert_non_null(strstr(why, "ELF"));
	free(why);
	/* Over the image cap: media.size. */
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
		0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0,
		0x1f, 0x15, 0xc4, 0x89 };
	char *big = write_file("big.png", png, sizeof png);
	assert_int_equal(truncate(big, 6 * 1000 * 1000), 0);
	assert_int_equal(cmedia_prepare(sn, big, NULL, &s, "911", now, &out, &code, &why), -1);
	assert_string_equal(code, "media.size");
	assert_non_null(strstr(why, "6.0 MB"));
	free(why);
	/* A missing file: no code, the reason. */
	assert_int_equal(cmedia_prepare(sn, "/nonexistent/f.pdf", NULL, &s, "911", now, &out, &code,
	    &why), -1);
	assert_null(code);
	assert_non_null(strstr(why, "/nonexistent/f.pdf"));
	free(why);
	free(ok);
	free(fake);
	free(big);
	session_release(&s);
	cache_close(c);
	sniff_free(sn);
}

static void
test_upload_answer(void **state)
{
	(void)state;
	char *sha, *mime, *code, *msg;
	int64_t size;
	const char *ok = "{\"sha256\":\"ab\",\"mime\":\"application/pdf\",\"size\":42}";
	assert_int_equal(cjson_upload_answer(ok, strlen(ok), &sha, &mime, &size, &code, &msg), 0);
	assert_string_equal(sha, "ab");
	assert_string_equal(mime, "application/pdf");
	assert_int_equal(size, 42);
	assert_null(code);
	free(sha);
	free(mime);
	const char *bad = "{\"code\":\"media.type\",\"message\":\"is an ELF executable\"}";
	assert_int_equal(cjson_upload_answer(bad, strlen(bad), &sha, &mime, &size, &code, &msg), 0);
	assert_null(sha);
	assert_int_equal(size, -1);
	assert_string_equal(code, "media.type");
	assert_string_equal(msg, "is an ELF executable");
	free(code);
	free(msg);
	assert_int_equal(cjson_upload_answer("<html>", 6, &sha, &mime, &size, &code, &msg), -1);
	assert_int_equal(cjson_upload_answer("", 0, &sha, &mime, &size, &code, &msg), -1);
}

static void
test_attach_parse(void **state)
{
	(void)state;
	struct cmdline c;
	const char *why;
	assert_int_equal(cmdline_parse("attach /tmp/a.pdf", &c, &why), 0);
	assert_int_equal(c.verb, CMD_ATTACH);
	assert_string_equal(c.arg1, "/tmp/a.pdf");
	assert_null(c.arg2);
	cmdline_release(&c);
	assert_int_equal(cmdline_parse("attach \"/tmp/my file.pdf\" the invoice", &c, &why), 0);
	assert_string_equal(c.arg1, "/tmp/my file.pdf");
	assert_string_equal(c.arg2, "the invoice");
	cmdline_release(&c);
	assert_int_equal(cmdline_parse("attach", &c, &why), -1);
	assert_string_equal(why, "usage: attach PATH [caption]");
	char *e = xfer_pct_encode("a b/é\".pdf");
	assert_string_equal(e, "a%20b%2F%C3%A9%22.pdf");
	free(e);
	struct link l = { .tls = 0, .host = (char *)"127.0.0.1", .port = 8080 };
	char *u = cmedia_base_url(&l);
	assert_string_equal(u, "http://127.0.0.1:8080");
	free(u);
	l.host = (char *)"::1";
	l.tls = 1;
	u = cmedia_base_url(&l);
	assert_string_equal(u, "https://[::1]:8080");
	free(u);
}

/* ---- a small HTTP server for xfer ------------------------------------ */

struct server {
	int lfd, port;
	pthread_t th;
	int nreq;                 /* requests to serve */
	const char *status;       /* "200 OK" */
	const void *body;
	size_t body_len;
	struct buf req;           /* the last request: head and body */
};

static void *
serve(void *arg)
{
	struct server *sv = arg;
	for (int i = 0; i < sv->nreq; i++) {
		int fd = accept(sv->lfd, NULL, NULL);
		if (fd < 0)
			break;
		buf_reset(&sv->req);
		char chunk[4096];
		ssize_t k;
		size_t want = (size_t)-1;
		while (sv->req.len < want && (k = read(fd, chunk, sizeof chunk)) > 0) {
			buf_append(&sv->req, chunk, (size_t)k);
			buf_putc(&sv->req, '\0');
			sv->req.len--;
			char *end = strstr(sv->req.data, "\r\n\r\n");
			if (end != NULL && want == (size_t)-1) {
				char *cl = strcasestr(sv->req.data, "Content-Length:");
				size_t n = cl != NULL && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
				want = (size_t)(end + 4 - sv->req.data) + n;
			}
		}
		char *head = xasprintf("HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		    sv->status, sv->body_len);
		if (write(fd, head, strlen(head)) < 0 || write(fd, sv->body, sv->body_len) < 0)
			fprintf(stderr, "test server: write failed\n");
		free(head);
		close(fd);
	}
	return NULL;
}

static void
server_start(struct server *sv, int nreq, const char *status, const void *body, size_t len)
{
	memset(sv, 0, sizeof *sv);
	sv->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(sv->lfd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(sv->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(sv->lfd, 4), 0);
	socklen_t al = sizeof a;
	getsockname(sv->lfd, (struct sockaddr *)&a, &al);
	sv->port = ntohs(a.sin_port);
	sv->nreq = nreq;
	sv->status = status;
	sv->body = body;
	sv->body_len = len;
	assert_int_equal(pthread_create(&sv->th, NULL, serve, sv), 0);
}

static void
server_stop(struct server *sv)
{
	pthread_join(sv->th, NULL);
	close(sv->lfd);
	buf_free(&sv->req);
}

struct outcome {
	int done, ok, progress, over_cap;
	char *error, *body;
	char sha[65];
	int64_t last_done;
};

static void
on_progress(void *arg, int64_t done, int64_t total)
{
	struct outcome *o = arg;
	(void)total;
	o->progress++;
	o->last_done = done;
}

static void
on_done(void *arg, const struct xfer_result *r)
{
	struct outcome *o = arg;
	o->done = 1;
	o->ok = r->ok;
	o->over_cap = r->over_cap;
	o->error = r->error != NULL ? xstrdup(r->error) : NULL;
	o->body = r->body != NULL ? xstrdup(r->body) : NULL;
	memcpy(o->sha, r->sha256, sizeof o->sha);
}

/* The loop's side: waits on the pipe, dispatches, until done. */
static void
run(struct xfer *x, struct outcome *o)
{
	int64_t end = mono_ms() + 10000;
	while (!o->done && mono_ms() < end) {
		struct pollfd p = { .fd = xfer_fd(x), .events = POLLIN };
		poll(&p, 1, 200);
		xfer_dispatch(x);
	}
	assert_true(o->done);
}

static void
test_xfer(void **state)
{
	(void)state;
	char *cause = NULL;
	struct xfer *x = xfer_new(&cause);
	assert_non_null(x);
	struct mediastore *ms = mediastore_open(tmpdir, &cause);
	assert_non_null(ms);
	unsigned char d[SHA256_LEN];
	char hex[65];
	sha256(pdf, sizeof pdf - 1, d);
	hex_encode(d, sizeof d, hex);
	/* A good fetch: stored under its digest, token in the header only. */
	struct server sv;
	server_start(&sv, 1, "200 OK", pdf, sizeof pdf - 1);
	char *url = xasprintf("http://127.0.0.1:%d/v1/media/%s", sv.port, hex);
	struct outcome o = {0};
	assert_int_equal(xfer_fetch(x, url, "sekrit", ms, hex, 1000000, on_progress, on_done, &o,
	    &cause), 0);
	run(x, &o);
	pthread_join(sv.th, NULL);
	assert_non_null(strstr(sv.req.data, "Authorization: Bearer sekrit\r\n"));
	assert_null(strstr(sv.req.data, "/v1/media/sekrit"));
	close(sv.lfd);
	buf_free(&sv.req);
	assert_true(o.ok);
	assert_string_equal(o.sha, hex);
	assert_int_equal(mediastore_lookup(ms, hex, NULL), 0);
	free(o.error);
	free(o.body);
	/* A substituted transfer (other bytes than the digest) is dropped. */
	static const char other[] = "not the file you asked for";
	unsigned char d2[SHA256_LEN];
	char hex2[65];
	sha256("something else", 14, d2);
	hex_encode(d2, sizeof d2, hex2);
	server_start(&sv, 1, "200 OK", other, sizeof other - 1);
	free(url);
	url = xasprintf("http://127.0.0.1:%d/v1/media/%s", sv.port, hex2);
	memset(&o, 0, sizeof o);
	assert_int_equal(xfer_fetch(x, url, "sekrit", ms, hex2, 1000000, NULL, on_done, &o, &cause), 0);
	run(x, &o);
	pthread_join(sv.th, NULL);
	assert_non_null(strstr(sv.req.data, "Authorization: Bearer sekrit\r\n"));
	assert_non_null(strstr(sv.req.data, "GET /v1/media/"));
	close(sv.lfd);
	buf_free(&sv.req);
	assert_false(o.ok);
	assert_non_null(strstr(o.error, "does not match"));
	assert_int_not_equal(mediastore_lookup(ms, hex2, NULL), 0);
	free(o.error);
	free(o.body);
	/* A 404 is an error with the status. */
	server_start(&sv, 1, "404 Not Found", "", 0);
	free(url);
	url = xasprintf("http://127.0.0.1:%d/v1/media/%s", sv.port, hex2);
	memset(&o, 0, sizeof o);
	assert_int_equal(xfer_fetch(x, url, "sekrit", ms, hex2, 1000000, NULL, on_done, &o, &cause), 0);
	run(x, &o);
	server_stop(&sv);
	assert_false(o.ok);
	assert_string_equal(o.error, "HTTP 404 from the hub");
	free(o.error);
	free(o.body);
	/* Over the cap: refused while streaming. */
	server_start(&sv, 1, "200 OK", pdf, sizeof pdf - 1);
	free(url);
	url = xasprintf("http://127.0.0.1:%d/v1/media/%s", sv.port, hex);
	memset(&o, 0, sizeof o);
	assert_int_equal(xfer_fetch(x, url, "sekrit", ms, hex, 10, NULL, on_done, &o, &cause), 0);
	run(x, &o);
	server_stop(&sv);
	assert_false(o.ok);
	free(o.error);
	free(o.body);
	/* An upload: streamed body, headers, the answer handed back. */
	char *src = write_file("up.pdf", pdf, sizeof pdf - 1);
	static const char answer[] = "{\"sha256\":\"x\",\"mime\":\"application/pdf\",\"size\":1}";
	server_start(&sv, 1, "201 Created", answer, sizeof answer - 1);
	free(url);
	url = xasprintf("http://127.0.0.1:%d/v1/media", sv.port);
	memset(&o, 0, sizeof o);
	assert_int_equal(xfer_upload(x, url, "sekrit", src, "application/pdf", "my invoice.pdf",
	    on_progress, on_done, &o, &cause), 0);
	run(x, &o);
	pthread_join(sv.th, NULL);
	assert_true(o.ok);
	assert_string_equal(o.body, answer);
	assert_true(o.progress >= 1);
	assert_int_equal(o.last_done, sizeof pdf - 1);
	assert_non_null(strstr(sv.req.data, "POST /v1/media HTTP/1.1\r\n"));
	assert_non_null(strstr(sv.req.data, "Authorization: Bearer sekrit\r\n"));
	assert_non_null(strstr(sv.req.data, "Content-Type: application/pdf\r\n"));
	assert_non_null(strstr(sv.req.data, "filename*=UTF-8''my%20invoice.pdf\r\n"));
	char *cl = xasprintf("Content-Length: %zu\r\n", sizeof pdf - 1);
	assert_non_null(strstr(sv.req.data, cl));
	free(cl);
	char *body = strstr(sv.req.data, "\r\n\r\n") + 4;
	assert_memory_equal(body, pdf, sizeof pdf - 1);
	close(sv.lfd);
	buf_free(&sv.req);
	free(o.error);
	free(o.body);
	/* An unreadable file fails at once. */
	assert_int_equal(xfer_upload(x, url, "t", "/nonexistent/f", "application/pdf", "f",
	    NULL, on_done, &o, &cause), -1);
	assert_non_null(strstr(cause, "cannot open '/nonexistent/f'"));
	free(cause);
	free(src);
	free(url);
	mediastore_free(ms);
	xfer_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save),
		cmocka_unit_test(test_download_dir),
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_upload_answer),
		cmocka_unit_test(test_attach_parse),
		cmocka_unit_test(test_xfer),
	};
	return cmocka_run_group_tests_name("console_media", tests, setup, teardown);
}
