/*
 * gupshup_sim.h — the Gupshup codec's second half: the JSON only
 * wadesk-sim speaks, kept beside gupshup.c so that json-c stays inside
 * the codec modules.  It covers the sim's control API (/sim/...: a
 * customer's inbox, the wallet and its ledger, the sim's info) and the
 * --state file, which is the same objects in one document.
 *
 * Ownership as in gupshup.h: builders only read; a parse fills structs
 * that own their strings, released with the matching *_free.
 */
#ifndef WADESK_GUPSHUP_SIM_H
#define WADESK_GUPSHUP_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

/*
 * {"phone","name","opted_in","optin_ms","last_inbound_ms","bound","messages":[...]}.
 * A message: {"id","wa_id","time_ms","type","text","url","filename",
 * "template":{"id","params"},"status","code","reason","cost_micro",
 * "media":{"name","mime","size","sha256"}}; "media" only for outbound media
 * the sim downloaded and accepted.
 */
char *gupshup_sim_inbox_build(const struct sim_customer *c);
/* 0 with *c filled (owned; gupshup_sim_customer_release); -1 with *cause. */
int  gupshup_sim_inbox_parse(const char *body, size_t len, struct sim_customer *c, char **cause);
void gupshup_sim_customer_release(struct sim_customer *c);
void gupshup_sim_item_release(struct sim_item *it);

/* {"currency":"USD","balance_micro":N,"balance":"0.998800","ledger":[...]} */
char *gupshup_sim_wallet_build(int64_t balance, const struct sim_ledger *l, size_t n);
/* 0 with *balance and *l (n entries, owned; gupshup_sim_ledger_free); -1 with *cause. */
int  gupshup_sim_wallet_parse(const char *body, size_t len, int64_t *balance,
                              struct sim_ledger **l, size_t *n, char **cause);
void gupshup_sim_ledger_free(struct sim_ledger *l, size_t n);

/* {"app","source","sandbox","callback","base_url"}: what /sim/info tells. */
struct gupshup_sim_info {
	char *app;
	char *source;
	char *callback;             /* NULL when the sim has none */
	char *base_url;
	int   sandbox;
};
char *gupshup_sim_info_build(const struct gupshup_sim_info *info);
int  gupshup_sim_info_parse(const char *body, size_t len, struct gupshup_sim_info *info,
                            char **cause);
void gupshup_sim_info_release(struct gupshup_sim_info *info);

/*
 * POST /sim/media's answer: {"status":"ok","id":ID,"type":"image",
 * "mime":"image/png","sniffed":"image/png","url":"http://.../wa/APP/wa/media/ID?download=false"}.
 * Parse: 0 with the four strings (xmalloc'd, NULL when absent); -1 with *cause.
 */
char *gupshup_sim_media_reply(const char *id, const char *type, const char *mime,
                              const char *sniffed, const char *url);
int  gupshup_sim_media_reply_parse(const char *body, size_t len, char **type, char **mime,
                                   char **sniffed, char **url, char **cause);

/* {"status":"ok"} plus one optional string member (key NULL: none). */
char *gupshup_sim_ok(const char *key, const char *value);
/* A string member of a reply object ("id" of POST /sim/upload's), or NULL (xmalloc'd). */
char *gupshup_sim_reply_get(const char *body, size_t len, const char *key);
/* The "message" of an error body, or NULL (xmalloc'd). */
char *gupshup_sim_error_message(const char *body, size_t len);

/*
 * The --state document: {"version":1,"balance":N,"ledger":[...],
 * "customers":[inbox objects]}.  Parse: 0 with everything owned by the
 * caller (customers released with gupshup_sim_customer_release, then
 * free(*c); ledger with gupshup_sim_ledger_free); -1 with *cause.
 */
char *gupshup_sim_state_build(int64_t balance, const struct sim_ledger *l, size_t nl,
                              const struct sim_customer *c, size_t nc);
int  gupshup_sim_state_parse(const char *body, size_t len, int64_t *balance,
                             struct sim_ledger **l, size_t *nl,
                             struct sim_customer **c, size_t *nc, char **cause);

#endif
