/*
 * hub_config.c — wadesk.conf through inih and one table of keys.
 *
 * The table drives defaults, parsing, validation and writing, so a key is
 * added in one place.  Unknown keys are errors (a typo must not silently
 * fall back to a default).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "hub_config.h"
#include "util.h"

enum ctype { C_STR, C_INT, C_BOOL };

struct ckey {
	const char *section;
	const char *name;
	enum ctype  type;
	size_t      off;
	const char *dflt;
	const char *doc;
};

#define K(sec, name, type, member, dflt, doc) \
	{ sec, name, type, offsetof(struct config, member), dflt, doc }

static const struct ckey keys[] = {
	K("hub", "listen", C_STR, listen, "127.0.0.1:8700", "address and port to listen on"),
	K("hub", "public_host", C_STR, public_host, "", "host name written into links (default: the listen address)"),
	K("hub", "tls_cert", C_STR, tls_cert, "", "PEM certificate; with tls_key, serve wss:// and https://"),
	K("hub", "tls_key", C_STR, tls_key, "", "PEM private key"),
	K("hub", "sync", C_STR, sync, "full", "durability: full (acknowledged = on disk) or normal"),
	K("hub", "max_consoles", C_INT, max_consoles, "256", "most consoles connected at once"),
	K("hub", "public_url", C_STR, public_url, "", "base URL the provider fetches outbound media from (default: http://LISTEN_HOST:PORT)"),
	K("provider", "provider", C_STR, provider, "gupshup", "gupshup or sim"),
	K("provider", "api_url", C_STR, api_url, "https://api.gupshup.io", "base URL of the provider API"),
	K("provider", "app", C_STR, app, "", "the Gupshup app name (src.name)"),
	K("provider", "source", C_STR, source, "", "the business WhatsApp number, E.164 digits"),
	K("provider", "apikey_file", C_STR, apikey_file, "", "file holding the API key"),
	K("provider", "rate", C_INT, rate, "20", "outbound messages per second"),
	K("provider", "sandbox", C_BOOL, sandbox, "false", "the app is a sandbox app (text only)"),
	K("provider", "timeout_ms", C_INT, timeout_ms, "10000", "time allowed for one send attempt"),
	K("provider", "backoff_min_ms", C_INT, backoff_min_ms, "500", "first retry delay"),
	K("provider", "backoff_max_ms", C_INT, backoff_max_ms, "60000", "longest retry delay"),
	K("provider", "media_backoff_ms", C_INT, media_backoff_ms, "5000", "first retry of a media download (then x3, x12, x60, x180, x720)"),
};

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" }, *const no[] = { "0", "false", "no", "off" };
	for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) { *out = 1; return 0; }
		if (strcasecmp(v, no[i]) == 0) { *out = 0; return 0; }
	}
	return -1;
}

static int
set_key(struct config *c, const struct ckey *k, const char *v, char **cause)
{
	char *end;
	switch (k->type) {
	case C_STR: {
		char **p = (char **)(void *)((char *)c + k->off);
		free(*p);
		*p = xstrdup(v);
		return 0;
	}
	case C_INT: {
		long long x = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || x < 0) {
			*cause = xasprintf("'%s' is not a non-negative integer", v);
			return -1;
		}
		*(int64_t *)(void *)((char *)c + k->off) = x;
		return 0;
	}
	case C_BOOL:
		if (parse_bool(v, (int *)(void *)((char *)c + k->off)) < 0) {
			*cause = xasprintf("'%s' is not a boolean (true/false)", v);
			return -1;
		}
		return 0;
	}
	return -1;
}

void
hub_config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		char *cause = NULL;
		if (set_key(c, &keys[i], keys[i].dflt, &cause) < 0)
			abort();   /* a bad default is a programming error */
	}
}

struct load_state {
	struct config *c;
	char *cause;
};

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *ls = user;
	if (ls->cause != NULL)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		char *why = NULL;
		if (set_key(ls->c, &keys[i], value, &why) < 0) {
			ls->cause = xasprintf("%s: %s", name, why);
			free(why);
			return 0;
		}
		return 1;
	}
	ls->cause = xasprintf("unknown key '%s' in [%s]", name, section);
	return 0;
}

int
hub_config_load(struct config *c, const char *path, char **cause)
{
	struct load_state ls = { c, NULL };
	int rc = ini_parse(path, handler, &ls);
	if (rc == -1) {
		*cause = xasprintf("cannot open '%s'", path);
		return -1;
	}
	if (ls.cause != NULL) {
		/* inih returns the line of the first line the handler refused */
		*cause = xasprintf("%s:%d: %s", path, rc, ls.cause);
		free(ls.cause);
		return -1;
	}
	if (rc != 0) {
		*cause = xasprintf("%s: line %d: syntax error", path, rc);
		return -1;
	}
	char *host = NULL;
	int port;
	if (hub_config_split_listen(c->listen, &host, &port) < 0) {
		*cause = xasprintf("%s: listen: '%s' is not ADDR:PORT", path, c->listen);
		return -1;
	}
	free(host);
	if (strcmp(c->sync, "full") != 0 && strcmp(c->sync, "normal") != 0) {
		*cause = xasprintf("%s: sync: '%s' is not full or normal", path, c->sync);
		return -1;
	}
	if (strcmp(c->provider, "gupshup") != 0 && strcmp(c->provider, "sim") != 0) {
		*cause = xasprintf("%s: provider: '%s' is not gupshup or sim", path, c->provider);
		return -1;
	}
	if (c->rate == 0)
		c->rate = 1;
	return 0;
}

void
hub_config_write(const struct config *c, FILE *f)
{
	const char *section = "";
	fprintf(f, "# wadesk.conf — see wadesk.conf(5).  Written by `wadeskd init`.\n");
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const struct ckey *k = &keys[i];
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(f, "\n[%s]\n", section);
		}
		fprintf(f, "# %s\n", k->doc);
		const void *p = (const char *)c + k->off;
		switch (k->type) {
		case C_STR:
			fprintf(f, "%s = %s\n", k->name, *(char *const *)p ? *(char *const *)p : "");
			break;
		case C_INT:
			fprintf(f, "%s = %lld\n", k->name, (long long)*(const int64_t *)p);
			break;
		case C_BOOL:
			fprintf(f, "%s = %s\n", k->name, *(const int *)p ? "true" : "false");
			break;
		}
	}
}

void
hub_config_release(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (keys[i].type == C_STR)
			free(*(char **)(void *)((char *)c + keys[i].off));
	memset(c, 0, sizeof *c);
}

int
hub_config_split_listen(const char *listen, char **host, int *port)
{
	const char *colon = strrchr(listen, ':');
	if (colon == NULL || colon == listen)
		return -1;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 0 || p > 65535 || colon[1] == '\0')
		return -1;
	const char *h = listen;
	size_t n = (size_t)(colon - listen);
	if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	*host = xstrndup(h, n);
	*port = (int)p;
	return 0;
}
