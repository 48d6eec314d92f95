/*
 * hub_server.h — the hub's network side: one libwebsockets context serving
 * the provider webhook, /healthz, /metrics and the desk websocket, with the
 * outbox sender on the same loop.  main_wadeskd.c calls hub_serve().
 */
#ifndef WADESK_HUB_SERVER_H
#define WADESK_HUB_SERVER_H

struct config;

/*
 * Runs the hub of DIR with cfg (owned by the caller; reloaded in place on
 * SIGHUP from DIR/wadesk.conf, listen_override kept) until SIGTERM/SIGINT,
 * then drains: stops taking webhooks and consoles, commits what is in
 * flight, gives the outbox up to 5 s, and returns 0.  Returns 1 when the
 * hub cannot start (the reason is logged).
 */
int hub_serve(const char *dir, struct config *cfg, const char *listen_override);

#endif
