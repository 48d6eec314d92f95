/*
 * console_config.c — links, XDG directories and the console's config file
 * (see console_config.h).  The file is INI (read with inih), one key per
 * line; it is written to a temporary file and renamed over the old one so
 * a crash never leaves half a config, and it is 0600 because the link
 * holds an access token.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "console_config.h"
#include "util.h"

int
link_parse(const char *s, struct link *l, const char **why)
{
	memset(l, 0, sizeof *l);
	const char *p;
	if (strncmp(s, "ws://", 5) == 0)
		p = s + 5;
	else if (strncmp(s, "wss://", 6) == 0) {
		p = s + 6;
		l->tls = 1;
	} else {
		*why = "a link starts with ws:// or wss://";
		return -1;
	}
	const char *hash = strchr(p, '#');
	if (hash == NULL || hash[1] == '\0') {
		*why = "the link has no access token (the part after #)";
		return -1;
	}
	const char *slash = memchr(p, '/', (size_t)(hash - p));
	const char *hend = slash != NULL ? slash : hash;
	const char *colon = NULL;
	if (*p == '[') {                       /* [::1]:port */
		const char *rb = memchr(p, ']', (size_t)(hend - p));
		if (rb == NULL) {
			*why = "the link's host is malformed";
			return -1;
		}
		l->host = xstrndup(p + 1, (size_t)(rb - p - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(hend - p));
		l->host = xstrndup(p, (size_t)((colon != NULL ? colon : hend) - p));
	}
	if (*l->host == '\0') {
		*why = "the link has no host";
		goto fail;
	}
	l->port = l->tls ? 443 : 80;
	if (colon != NULL) {
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (end != hend || port < 1 || port > 65535) {
			*why = "the link's port is not a number from 1 to 65535";
			goto fail;
		}
		l->port = (int)port;
	}
	l->path = slash != NULL ? xstrndup(slash, (size_t)(hash - slash)) : xstrdup("/v1/desk");
	l->token = xstrdup(hash + 1);
	return 0;
fail:
	link_release(l);
	return -1;
}

void
link_release(struct link *l)
{
	free(l->host);
	free(l->path);
	free(l->token);
	memset(l, 0, sizeof *l);
}

static char *
xdg_dir(const char *env, const char *fallback)
{
	const char *v = getenv(env);
	if (v != NULL && *v == '/')
		return xasprintf("%s/wadesk", v);
	const char *home = getenv("HOME");
	return xasprintf("%s/%s/wadesk", home != NULL ? home : ".", fallback);
}

char *
console_config_dir(void)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config");
}

char *
console_data_dir(void)
{
	return xdg_dir("XDG_DATA_HOME", ".local/share");
}

char *
console_cache_dir(void)
{
	return xdg_dir("XDG_CACHE_HOME", ".cache");
}

int
console_mkdirs(const char *dir, char **cause)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			*cause = xasprintf("cannot create directory '%s': %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return 0;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct console_config *c = user;
	(void)section;
	char **slot = strcmp(name, "link") == 0 ? &c->link :
	    strcmp(name, "name") == 0 ? &c->name :
	    strcmp(name, "hub_id") == 0 ? &c->hub_id : NULL;
	if (slot != NULL) {
		free(*slot);
		*slot = xstrdup(value);
	}
	return 1;
}

int
console_config_load(struct console_config *c, char **cause)
{
	memset(c, 0, sizeof *c);
	char *dir = console_config_dir(), *path = xasprintf("%s/config", dir);
	free(dir);
	int r = ini_parse(path, on_key, c);
	if (r == -1 && errno == ENOENT)
		r = 0;
	if (r != 0) {
		*cause = r > 0 ? xasprintf("cannot parse '%s': line %d", path, r) :
		    xasprintf("cannot read '%s': %s", path, strerror(errno));
		free(path);
		console_config_release(c);
		return -1;
	}
	free(path);
	return 0;
}

int
console_config_save(const struct console_config *c, char **cause)
{
	char *dir = console_config_dir();
	if (console_mkdirs(dir, cause) != 0) {
		free(dir);
		return -1;
	}
	char *path = xasprintf("%s/config", dir), *tmp = xasprintf("%s/config.tmp", dir);
	free(dir);
	int r = -1;
	FILE *f = NULL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		*cause = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "# wadesk console: the last link used (it holds an access token)\n");
	if (c->link != NULL)
		fprintf(f, "link = %s\n", c->link);
	if (c->name != NULL)
		fprintf(f, "name = %s\n", c->name);
	if (c->hub_id != NULL)
		fprintf(f, "hub_id = %s\n", c->hub_id);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		*cause = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		fclose(f);
		goto out;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		*cause = xasprintf("cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (r != 0)
		unlink(tmp);
	free(path);
	free(tmp);
	return r;
}

void
console_config_release(struct console_config *c)
{
	free(c->link);
	free(c->name);
	free(c->hub_id);
	memset(c, 0, sizeof *c);
}

char *
console_cache_path(const char *hub_id)
{
	char *dir = console_data_dir();
	struct buf b = {0};
	for (const char *s = hub_id; *s != '\0' && b.len < 64; s++)
		buf_putc(&b, (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ? *s : '_');
	char *p = xasprintf("%s/%s.db", dir, b.len > 0 ? b.data : "hub");
	buf_free(&b);
	free(dir);
	return p;
}

/* The hint file for a link: its host, port and path, never its token. */
static char *
hint_path(const char *link)
{
	struct link l;
	const char *why;
	if (link_parse(link, &l, &why) != 0)
		return NULL;
	char *dir = console_data_dir();
	struct buf b = {0};
	buf_printf(&b, "%s:%d%s", l.host, l.port, l.path);
	for (size_t i = 0; i < b.len; i++)
		if (!((b.data[i] >= 'a' && b.data[i] <= 'z') || (b.data[i] >= 'A' && b.data[i] <= 'Z') ||
		    (b.data[i] >= '0' && b.data[i] <= '9') || b.data[i] == '.' || b.data[i] == '-'))
			b.data[i] = '_';
	char *p = xasprintf("%s/hub-%s%s", dir, l.tls ? "s-" : "", b.data);
	buf_free(&b);
	free(dir);
	link_release(&l);
	return p;
}

char *
console_hub_hint(const char *link)
{
	char *p = hint_path(link);
	if (p == NULL)
		return NULL;
	FILE *f = fopen(p, "r");
	free(p);
	if (f == NULL)
		return NULL;
	char id[128];
	char *r = NULL;
	if (fgets(id, sizeof id, f) != NULL) {
		id[strcspn(id, "\r\n")] = '\0';
		if (id[0] != '\0')
			r = xstrdup(id);
	}
	fclose(f);
	return r;
}

void
console_set_hub_hint(const char *link, const char *hub_id)
{
	char *p = hint_path(link), *dir = console_data_dir(), *cause = NULL;
	if (p != NULL && console_mkdirs(dir, &cause) == 0) {
		FILE *f = fopen(p, "w");
		if (f != NULL) {
			fprintf(f, "%s\n", hub_id);
			fclose(f);
		}
	}
	free(cause);
	free(dir);
	free(p);
}
