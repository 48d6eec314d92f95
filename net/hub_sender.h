/*
 * hub_sender.h — the outbox sender: libcurl multi driven from the lws loop.
 *
 * The sender takes messages from the hub's outbox (hub_outbox_next) at
 * `rate` per second, strictly: a token bucket one token deep (sends 1/rate s
 * apart) that also never lets `rate` sends count in one second as the
 * provider sees them (see hub_sender.c), and posts each as one
 * non-blocking libcurl transfer, and reports every answer back
 * (hub_outbox_result): 2xx with a messageId is OK; 429, 5xx, timeouts and
 * connection errors are RETRY (the hub backs off with jitter and keeps the
 * contact's order); other 4xx are FAILED with the provider's reason.
 *
 * It never blocks: an lws_sul timer calls curl_multi_perform every 2 ms
 * while transfers are in flight, and otherwise sleeps until the next send
 * is due (to the microsecond), the next due retry, or a wake-up from the hub.
 */
#ifndef WADESK_HUB_SENDER_H
#define WADESK_HUB_SENDER_H

#include <stdint.h>

struct lws_context;
struct hub;
struct config;
struct hub_sender;

/* apikey is copied.  0 or -1 with *cause. */
int  hub_sender_new(struct lws_context *ctx, struct hub *h, const struct config *cfg,
                    const char *apikey, struct hub_sender **out, char **cause);
void hub_sender_free(struct hub_sender *s);          /* aborts transfers in flight */
void hub_sender_wake(struct hub_sender *s);          /* new work: look now */
void hub_sender_set_apikey(struct hub_sender *s, const char *apikey);
int  hub_sender_busy(struct hub_sender *s);          /* transfers in flight */
/* Starts no new transfer from now on (the end of a drain); those in flight
 * still finish and report. */
void hub_sender_hold(struct hub_sender *s);

#endif
