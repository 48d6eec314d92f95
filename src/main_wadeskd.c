/*
 * main_wadeskd.c — the hub's command line.
 *
 *   wadeskd -d DIR init [--listen ADDR:PORT] [--provider gupshup|sim]
 *                       [--api-url URL] [--app NAME] [--source NUMBER]
 *                       [--apikey-file PATH]
 *   wadeskd -d DIR [--listen ADDR:PORT] [-v]
 *   wadeskd -d DIR access show|rotate [--qr]
 *
 * Exit status: 0 done, 1 failure (one line on stderr says why), 2 usage.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qrencode.h>

#include "access.h"
#include "hub_config.h"
#include "hub.h"
#include "net/hub_server.h"
#include "store.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wadeskd -d DIR init [--listen ADDR:PORT] [--provider gupshup|sim] [--api-url URL]\n"
	    "                           [--app NAME] [--source NUMBER] [--apikey-file PATH]\n"
	    "       wadeskd -d DIR [--listen ADDR:PORT] [-v]\n"
	    "       wadeskd -d DIR access show|rotate [--qr]\n");
	exit(2);
}

static int
die(char *cause)
{
	fprintf(stderr, "wadeskd: %s\n", cause);
	free(cause);
	return 1;
}

static int
load_config(const char *dir, struct config *c, char **cause)
{
	char *path = xasprintf("%s/wadesk.conf", dir);
	hub_config_defaults(c);
	int rc = hub_config_load(c, path, cause);
	free(path);
	return rc;
}

/* Makes path absolute against the current directory (xmalloc'd). */
static char *
absolute(const char *path)
{
	char cwd[4096];
	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

static int
cmd_init(const char *dir, int argc, char **argv)
{
	struct config c;
	char *cause = NULL;
	hub_config_defaults(&c);
	static const struct { const char *flag; size_t off; } opts[] = {
		{ "--listen", offsetof(struct config, listen) },
		{ "--provider", offsetof(struct config, provider) },
		{ "--api-url", offsetof(struct config, api_url) },
		{ "--app", offsetof(struct config, app) },
		{ "--source", offsetof(struct config, source) },
		{ "--apikey-file", offsetof(struct config, apikey_file) },
	};
	for (int i = 0; i < argc; i++) {
		size_t k;
		for (k = 0; k < ARRAY_LEN(opts); k++)
			if (strcmp(argv[i], opts[k].flag) == 0)
				break;
		if (k == ARRAY_LEN(opts) || i + 1 >= argc)
			usage();
		char **field = (char **)(void *)((char *)&c + opts[k].off);
		free(*field);
		*field = strcmp(opts[k].flag, "--apikey-file") == 0 ? absolute(argv[++i]) : xstrdup(argv[++i]);
	}
	char *host;
	int port;
	if (hub_config_split_listen(c.listen, &host, &port) < 0) {
		hub_config_release(&c);
		return die(xasprintf("--listen: '%s' is not ADDR:PORT", argv[0]));
	}
	free(host);
	if (strcmp(c.provider, "gupshup") != 0 && strcmp(c.provider, "sim") != 0) {
		hub_config_release(&c);
		return die(xstrdup("--provider: must be gupshup or sim"));
	}
	if (strcmp(c.provider, "sim") == 0 && strcmp(c.api_url, "https://api.gupshup.io") == 0) {
		free(c.api_url);
		c.api_url = xstrdup("http://127.0.0.1:8780");   /* wadesk-sim's default */
	}
	if (mkdir(dir, 0700) < 0) {
		int e = errno;
		hub_config_release(&c);
		if (e == EEXIST)
			return die(xasprintf("'%s' already exists; init refuses to overwrite it", dir));
		return die(xasprintf("cannot create '%s': %s", dir, strerror(e)));
	}
	char *path = xasprintf("%s/wadesk.conf", dir);
	FILE *f = fopen(path, "wx");
	int rc = -1;
	if (f == NULL) {
		cause = xasprintf("cannot create '%s': %s", path, strerror(errno));
	} else {
		hub_config_write(&c, f);
		if (fclose(f) != 0)
			cause = xasprintf("cannot write '%s': %s", path, strerror(errno));
		else
			rc = 0;
	}
	free(path);
	struct store *st = NULL;
	int64_t gen;
	if (rc == 0)
		rc = access_secret_create(dir, &cause);
	if (rc == 0)
		rc = hub_init_db(dir, &c, &cause);
	if (rc == 0) {
		char *db = xasprintf("%s/wadesk.db", dir);
		struct store_options o = { 1, 0 };
		rc = store_open(db, 0, &o, &st, &cause);
		free(db);
	}
	if (rc == 0)
		rc = access_rotate(dir, st, &gen, &cause);
	store_close(st);
	hub_config_release(&c);
	if (rc < 0)
		return die(cause);
	printf("initialised %s; links: wadeskd -d %s access show\n", dir, dir);
	return 0;
}

static void
print_qr(const char *text)
{
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	if (q == NULL) {
		fprintf(stderr, "wadeskd: cannot encode a QR code\n");
		return;
	}
	/* Two modules per character cell: upper and lower half blocks, with a
	 * quiet zone of two modules. */
	int w = q->width, margin = 2;
	for (int y = -margin; y < w + margin; y += 2) {
		for (int x = -margin; x < w + margin; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w && (q->data[y * w + x] & 1);
			int bot = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && (q->data[(y + 1) * w + x] & 1);
			fputs(top && bot ? " " : top ? "\xe2\x96\x84" : bot ? "\xe2\x96\x80" : "\xe2\x96\x88", stdout);
		}
		putchar('\n');
	}
	QRcode_free(q);
}

static int
cmd_access(const char *dir, int argc, char **argv)
{
	int qr = 0, rotate;
	char *cause = NULL;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "show") == 0)
		rotate = 0;
	else if (strcmp(argv[0], "rotate") == 0)
		rotate = 1;
	else
		usage();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--qr") == 0)
			qr = 1;
		else
			usage();
	}
	struct config c;
	if (load_config(dir, &c, &cause) < 0) {
		hub_config_release(&c);
		return die(cause);
	}
	if (rotate) {
		struct store *st;
		char *db = xasprintf("%s/wadesk.db", dir);
		struct store_options o = { strcmp(c.sync, "normal") != 0, 0 };
		int64_t gen;
		int rc = store_open(db, 0, &o, &st, &cause);
		free(db);
		if (rc == 0)
			rc = access_rotate(dir, st, &gen, &cause);
		store_close(st);
		if (rc < 0) {
			hub_config_release(&c);
			return die(cause);
		}
	}
	struct access_links l;
	if (access_links(dir, &c, &l, &cause) < 0) {
		hub_config_release(&c);
		return die(cause);
	}
	const char *names[] = { "agent", "supervisor", "admin", "webhook" };
	const char *links[] = { l.agent, l.supervisor, l.admin, l.webhook };
	for (size_t i = 0; i < 4; i++)
		printf("%s: %s\n", names[i], links[i]);
	if (qr)
		for (size_t i = 0; i < 3; i++) {
			printf("\n%s:\n", names[i]);
			print_qr(links[i]);
		}
	access_links_release(&l);
	hub_config_release(&c);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = NULL, *listen = NULL;
	int i;

	log_init("wadeskd");
	umask(077);   /* the database, config and token files are private */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			log_level++;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("wadeskd %s\n", WADESK_VERSION);
			return 0;
		} else
			break;
	}
	if (dir == NULL)
		usage();
	if (i < argc && strcmp(argv[i], "init") == 0) {
		/* --listen given before "init" counts too */
		char **args = xcalloc((size_t)(argc - i) + 2, sizeof *args);
		int n = 0;
		if (listen != NULL) {
			args[n++] = (char *)"--listen";
			args[n++] = (char *)listen;
		}
		for (int j = i + 1; j < argc; j++)
			args[n++] = argv[j];
		int rc = cmd_init(dir, n, args);
		free(args);
		return rc;
	}
	if (i < argc && strcmp(argv[i], "access") == 0)
		return cmd_access(dir, argc - i - 1, argv + i + 1);
	if (i < argc)
		usage();

	struct config c;
	char *cause = NULL;
	if (load_config(dir, &c, &cause) < 0) {
		hub_config_release(&c);
		return die(cause);
	}
	int rc = hub_serve(dir, &c, listen);
	hub_config_release(&c);
	return rc;
}
