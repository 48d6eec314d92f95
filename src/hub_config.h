/*
 * hub_config.h — wadesk.conf, the hub's INI file (read with inih).
 *
 * Every key is a row of one table in hub_config.c (section, name, type, where
 * it lands, default), which is also what wadesk.conf(5) documents and what
 * `wadeskd init` writes.  Runtime-editable behaviour (automation texts,
 * business hours, template messaging) lives in the database as settings,
 * not here; this file holds what an operator sets once: addresses,
 * provider account, pacing, durability.
 */
#ifndef WADESK_HUB_CONFIG_H
#define WADESK_HUB_CONFIG_H

#include <stdint.h>
#include <stdio.h>

struct config {
	/* [hub] */
	char   *listen;          /* ADDR:PORT, default 127.0.0.1:8700 */
	char   *public_host;     /* host written into links; default: listen's address */
	char   *tls_cert;        /* PEM paths; both set = wss:// and https:// */
	char   *tls_key;
	char   *sync;            /* "full" (default) | "normal" */
	int64_t max_consoles;    /* default 256 */
	char   *public_url;      /* base of media URLs the provider fetches; default
	                            scheme://HOST:PORT from listen/public_host */
	/* [provider] */
	char   *provider;        /* "gupshup" | "sim" */
	char   *api_url;         /* default https://api.gupshup.io */
	char   *app;             /* Gupshup app name (src.name) */
	char   *source;          /* the business number */
	char   *apikey_file;     /* file holding the apikey (0600) */
	int64_t rate;            /* outbound messages per second, default 20 */
	int     sandbox;         /* bool: the app is a sandbox app (text only) */
	int64_t timeout_ms;      /* one send attempt, default 10000 */
	int64_t backoff_min_ms;  /* first retry delay, default 500 */
	int64_t backoff_max_ms;  /* retry delay cap, default 60000 */
	int64_t media_backoff_ms;/* first media download retry, default 5000 (table scales) */
};

/* Fills c with every default. */
void hub_config_defaults(struct config *c);
/* Reads path over the defaults in c.  0, or -1 with *cause ("wadesk.conf:12:
 * unknown key 'x' in [hub]"). */
int  hub_config_load(struct config *c, const char *path, char **cause);
/* Writes c as a commented INI file to f. */
void hub_config_write(const struct config *c, FILE *f);
void hub_config_release(struct config *c);
/* Splits "ADDR:PORT" ("[::1]:8700" too): 0 with host (xmalloc'd) and port, or -1. */
int  hub_config_split_listen(const char *listen, char **host, int *port);

#endif
