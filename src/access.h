/*
 * access.h — access links, tokens and the webhook secret.
 *
 * DIR holds, each 0600: webhook.secret and agent.token, supervisor.token,
 * admin.token (the live tokens, so `wadeskd access show` can print links).
 * The database holds only SHA-256 hashes of tokens, with the generation
 * they belong to, and meta "access_generation" = the current generation.
 * A rotation writes new token files, then commits new hashes and the next
 * generation in one transaction; a running hub notices the new generation
 * (it polls it every 250 ms) and closes every session opened with an older
 * one.  That is how `wadeskd access rotate` on the command line reaches a
 * running hub: through the database, no signal needed.
 *
 * Tokens are 256 bits from getrandom(2), written as 64 hex digits.
 */
#ifndef WADESK_ACCESS_H
#define WADESK_ACCESS_H

#include <stdint.h>

#include "hub_config.h"
#include "proto.h"
#include "store.h"

#define ACCESS_SECRET_FILE "webhook.secret"

/* Creates DIR/webhook.secret (0600, 32 random bytes as hex). 0 or -1. */
int access_secret_create(const char *dir, char **cause);
/* Reads DIR/NAME, trimmed of the trailing newline (xmalloc'd). */
char *access_read_file(const char *dir, const char *name, char **cause);

/* New tokens for the three roles at generation current+1 (1 when none):
 * files rewritten, hashes stored, generation bumped, one transaction.
 * *generation gets the new generation. */
int access_rotate(const char *dir, struct store *st, int64_t *generation, char **cause);

struct access_links {
	char *agent, *supervisor, *admin, *webhook;
};
/* The four links from DIR's token files and the config.  0 or -1. */
int  access_links(const char *dir, const struct config *c, struct access_links *l, char **cause);
void access_links_release(struct access_links *l);

/*
 * Checks a presented token: 1 with *role and *generation when its hash is
 * stored (of any generation: the caller compares with the current one to
 * tell auth.expired from a valid session), 0 when unknown, -1 on error.
 */
int access_check(struct store *st, const char *token, enum proto_role *role,
                 int64_t *generation, char **cause);

#endif
