/*
 * hub_fetch.h — inbound media downloads: libcurl multi driven from the lws
 * loop (docs/media.md §"Inbound: the hub downloads").
 *
 * The fetcher takes due jobs from the hub (hub_fetch_next), streams each
 * into a mediastore writer under DIR/media capped at the declared
 * category's cap, sniffs the finished file by content, commits it, and
 * reports one outcome per attempt (hub_fetch_result).  Nothing blocks the
 * loop: the sniff of a finished file (libmagic reads at most 7 MiB) and
 * the commit's two fsyncs run in one finisher thread with its own
 * libmagic cookie, which touches only its job.  Like the sender the
 * fetcher is driven by an lws_sul timer: every millisecond while
 * transfers are in flight or finishing, otherwise at the next due retry
 * or a wake-up.
 */
#ifndef WADESK_HUB_FETCH_H
#define WADESK_HUB_FETCH_H

struct lws_context;
struct hub;
struct config;
struct mediastore;
struct sniff;
struct hub_fetcher;

/* ms and sn are borrowed (they outlive the fetcher; sn is unused since
 * the finisher thread opens its own); apikey is copied.  0 or -1 with
 * *cause. */
int  hub_fetcher_new(struct lws_context *ctx, struct hub *h, const struct config *cfg,
                     struct mediastore *ms, struct sniff *sn, const char *apikey,
                     struct hub_fetcher **out, char **cause);
void hub_fetcher_free(struct hub_fetcher *f);   /* NULL ok; abandons transfers (jobs stay) */
void hub_fetcher_wake(struct hub_fetcher *f);   /* new jobs may be due */
void hub_fetcher_set_apikey(struct hub_fetcher *f, const char *apikey);
int  hub_fetcher_busy(struct hub_fetcher *f);   /* transfers in flight */

#endif
