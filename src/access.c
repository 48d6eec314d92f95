/*
 * access.c — token files, hashes and links (see access.h for the design).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "sha256.h"
#include "util.h"

static const char *const roles[] = { "agent", "supervisor", "admin" };

static char *
random_hex(size_t nbytes, char **cause)
{
	unsigned char b[64];
	if (nbytes > sizeof b || random_bytes(b, nbytes) < 0) {
		*cause = xstrdup("cannot read random bytes (getrandom)");
		return NULL;
	}
	char *out = xmalloc(2 * nbytes + 1);
	hex_encode(b, nbytes, out);
	return out;
}

/* Writes DIR/NAME.tmp with mode 0600 (the caller renames it). */
static int
write_tmp(const char *dir, const char *name, const char *text, char **cause)
{
	char *path = xasprintf("%s/%s.tmp", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd < 0) {
		*cause = xasprintf("cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		*cause = xasprintf("cannot write '%s': %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	rc = 0;
out:
	free(path);
	return rc;
}

static int
commit_tmp(const char *dir, const char *name, char **cause)
{
	char *tmp = xasprintf("%s/%s.tmp", dir, name), *path = xasprintf("%s/%s", dir, name);
	int rc = rename(tmp, path);
	if (rc < 0)
		*cause = xasprintf("cannot rename '%s': %s", tmp, strerror(errno));
	free(tmp);
	free(path);
	return rc;
}

int
access_secret_create(const char *dir, char **cause)
{
	char *s = random_hex(32, cause);
	if (s == NULL)
		return -1;
	int rc = write_tmp(dir, ACCESS_SECRET_FILE, s, cause);
	if (rc == 0)
		rc = commit_tmp(dir, ACCESS_SECRET_FILE, cause);
	free(s);
	return rc;
}

char *
access_read_file(const char *dir, const char *name, char **cause)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	char line[512];
	char *out = NULL;
	if (f == NULL) {
		*cause = xasprintf("cannot open '%s': %s", path, strerror(errno));
	} else if (fgets(line, sizeof line, f) == NULL) {
		*cause = xasprintf("cannot read '%s': empty file", path);
	} else {
		line[strcspn(line, "\r\n")] = '\0';
		out = xstrdup(line);
	}
	if (f != NULL)
		fclose(f);
	free(path);
	return out;
}

int
access_rotate(const char *dir, struct store *st, int64_t *generation, char **cause)
{
	char *tokens[3] = { NULL, NULL, NULL };
	char name[32];
	int rc = -1, began = 0;

	for (size_t i = 0; i < 3; i++) {
		if ((tokens[i] = random_hex(32, cause)) == NULL)
			goto out;
		snprintf(name, sizeof name, "%s.token", roles[i]);
		if (write_tmp(dir, name, tokens[i], cause) < 0)
			goto out;
	}
	if (store_begin(st, cause) < 0)
		goto out;
	began = 1;
	int64_t gen = store_meta_int(st, "access_generation", 0) + 1;
	for (size_t i = 0; i < 3; i++) {
		char hash[65];
		sha256_hex(tokens[i], hash);
		if (store_token_set(st, roles[i], hash, gen, cause) < 0)
			goto out;
	}
	if (store_meta_set_int(st, "access_generation", gen, cause) < 0)
		goto out;
	/* Files first: a crash after this leaves new files and old hashes,
	 * which only refuses links until the next rotation; the other order
	 * could leave a file with a token nobody can check. */
	for (size_t i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "%s.token", roles[i]);
		if (commit_tmp(dir, name, cause) < 0)
			goto out;
	}
	if (store_commit(st, cause) < 0) {
		began = 0;
		goto out;
	}
	began = 0;
	*generation = gen;
	rc = 0;
out:
	if (began)
		store_rollback(st);
	for (size_t i = 0; i < 3; i++) {
		if (tokens[i] != NULL)
			explicit_bzero(tokens[i], strlen(tokens[i]));
		free(tokens[i]);
	}
	return rc;
}

int
access_links(const char *dir, const struct config *c, struct access_links *l, char **cause)
{
	char *host = NULL, *tok[3] = { NULL, NULL, NULL }, *secret = NULL;
	int port, tls = c->tls_cert[0] != '\0' && c->tls_key[0] != '\0';

	memset(l, 0, sizeof *l);
	if (hub_config_split_listen(c->listen, &host, &port) < 0) {
		*cause = xasprintf("listen: '%s' is not ADDR:PORT", c->listen);
		return -1;
	}
	if (c->public_host[0] != '\0') {
		free(host);
		host = xstrdup(c->public_host);
	} else if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "") == 0) {
		free(host);
		host = xstrdup("127.0.0.1");
	}
	const char *lb = strchr(host, ':') ? "[" : "", *rb = strchr(host, ':') ? "]" : "";
	for (size_t i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof name, "%s.token", roles[i]);
		if ((tok[i] = access_read_file(dir, name, cause)) == NULL)
			goto fail;
	}
	if ((secret = access_read_file(dir, ACCESS_SECRET_FILE, cause)) == NULL)
		goto fail;
	l->agent = xasprintf("%s://%s%s%s:%d/v1/desk#%s", tls ? "wss" : "ws", lb, host, rb, port, tok[0]);
	l->supervisor = xasprintf("%s://%s%s%s:%d/v1/desk#%s", tls ? "wss" : "ws", lb, host, rb, port, tok[1]);
	l->admin = xasprintf("%s://%s%s%s:%d/v1/desk#%s", tls ? "wss" : "ws", lb, host, rb, port, tok[2]);
	l->webhook = xasprintf("%s://%s%s%s:%d/v1/webhook/gupshup/%s", tls ? "https" : "http",
	                       lb, host, rb, port, secret);
	for (size_t i = 0; i < 3; i++)
		free(tok[i]);
	free(secret);
	free(host);
	return 0;
fail:
	for (size_t i = 0; i < 3; i++)
		free(tok[i]);
	free(host);
	return -1;
}

void
access_links_release(struct access_links *l)
{
	if (l == NULL)
		return;
	free(l->agent);
	free(l->supervisor);
	free(l->admin);
	free(l->webhook);
	memset(l, 0, sizeof *l);
}

int
access_check(struct store *st, const char *token, enum proto_role *role, int64_t *generation,
             char **cause)
{
	char hash[65], *r = NULL;
	sha256_hex(token, hash);
	int rc = store_token_find(st, hash, &r, generation, cause);
	if (rc == 1)
		*role = proto_role_lookup(r);
	free(r);
	return rc;
}
