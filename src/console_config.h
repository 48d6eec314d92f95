/*
 * console_config.h — where the console keeps things and how it reads a
 * link.  A link is "ws://HOST:PORT/PATH#TOKEN" (wss:// with TLS); the
 * token is the fragment, so it is never part of a request line.  The
 * config file $XDG_CONFIG_HOME/wadesk/config (0600) remembers the last
 * link, the agent name and the hub id last seen on that link (so the
 * right cache paints before the network answers).  The cache lives in
 * $XDG_DATA_HOME/wadesk/HUBID.db.
 */
#ifndef WADESK_CONSOLE_CONFIG_H
#define WADESK_CONSOLE_CONFIG_H

struct link {
	int   tls;        /* wss:// */
	char *host;
	int   port;
	char *path;       /* "/v1/desk" */
	char *token;
};
/* Parses a link: 0, or -1 with *why a static sentence. Release with link_release. */
int  link_parse(const char *s, struct link *l, const char **why);
void link_release(struct link *l);

struct console_config {
	char *link;       /* NULL when never connected */
	char *name;       /* agent name */
	char *hub_id;     /* hub id seen on link, NULL unknown */
};
/* $XDG_CONFIG_HOME/wadesk (default ~/.config/wadesk), xmalloc'd. */
char *console_config_dir(void);
/* $XDG_DATA_HOME/wadesk (default ~/.local/share/wadesk), xmalloc'd. */
char *console_data_dir(void);
/* $XDG_CACHE_HOME/wadesk (default ~/.cache/wadesk), xmalloc'd: media files
 * fetched from the hub (a mediastore). */
char *console_cache_dir(void);
/* mkdir -p with mode 0700; 0 / -1 with *cause. */
int  console_mkdirs(const char *dir, char **cause);
/* Loads the config (absent file = empty config, 0); -1 with *cause. */
int  console_config_load(struct console_config *c, char **cause);
/* Writes it atomically, 0600; -1 with *cause. */
int  console_config_save(const struct console_config *c, char **cause);
void console_config_release(struct console_config *c);
/* The cache path for hub_id (xmalloc'd); hub_id must be [A-Za-z0-9_-]. */
char *console_cache_path(const char *hub_id);

/* The hub id last seen behind link's address (not its token: a rotated
 * link keeps its cache), or NULL; and remembering it.  Lets a console or
 * subcommand open the right cache before the hub answers. */
char *console_hub_hint(const char *link);
void  console_set_hub_hint(const char *link, const char *hub_id);

#endif
