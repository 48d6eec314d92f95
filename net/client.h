/*
 * client.h — the console's websocket client (libwebsockets), and the one
 * event loop of the console process.
 *
 * Thread-free: the caller runs client_service() in its loop; lws sleeps in
 * poll(2) until a socket, a watched file descriptor (the terminal, a
 * signal self-pipe) or a timer needs attention, then calls the hooks.  So
 * the screen is never blocked by the network and the network never waits
 * for a key.  Frames are queued by client_send() and written only from
 * lws's WRITEABLE callback.  One connection at a time; reconnecting is the
 * caller's decision (client_connect() again after on_close).
 */
#ifndef WADESK_NET_CLIENT_H
#define WADESK_NET_CLIENT_H

#include <stddef.h>

struct client;

struct client_hooks {
	/* The websocket is open (the caller sends hello). */
	void (*on_open)(void *arg);
	/* One complete text frame (not NUL-terminated; len bytes). */
	void (*on_frame)(void *arg, const char *data, size_t len);
	/* The connection failed or closed; why is a short sentence (the
	 * peer's close reason when it gave one). */
	void (*on_close)(void *arg, const char *why);
	/* A watched descriptor is readable (or hung up). */
	void (*on_fd)(void *arg, int fd);
	/* A timer set with client_timer() fired. */
	void (*on_timer)(void *arg, int which);
};

/* Creates the lws context (no connection yet).  NULL with *cause. */
struct client *client_new(const struct client_hooks *hooks, void *arg, char **cause);
/* Frees the context and closes everything; NULL ok. */
void client_free(struct client *c);

/* Starts connecting to ws[s]://host:port/path with subprotocol proto.
 * 0, or -1 with *cause (on_close is not called then). */
int  client_connect(struct client *c, int tls, const char *host, int port, const char *path,
                    const char *proto, char **cause);
/* 1 while a connection is open or being opened. */
int  client_busy(const struct client *c);
/* Queues one text frame (copied).  -1 when there is no open connection. */
int  client_send(struct client *c, const char *data, size_t len);
/* Closes the connection (on_close follows). */
void client_close(struct client *c);

/* Watches fd for reading (stays watched until client_free). 0 / -1. */
int  client_watch_fd(struct client *c, int fd, char **cause);
/* Arms timer `which` (0..7) to fire once in ms milliseconds (re-arming
 * moves it); ms < 0 cancels it. */
void client_timer(struct client *c, int which, long ms);

/* Runs the loop once: sleeps until something happens, handles it.
 * Returns -1 when the context is broken. */
int  client_service(struct client *c);
/* Makes a sleeping client_service() return (signal-safe: no). */
void client_wake(struct client *c);

#endif
