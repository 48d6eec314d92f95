/*
 * console_demo.h — `wadesk demo`: a private hub and sandbox provider with
 * simulated customers in a temporary directory, on free loopback ports,
 * and the console connected to them as admin.  Both children are stopped
 * and the directory removed when the console exits, on Ctrl-C, when either
 * child dies, and when the terminal goes away.
 */
#ifndef WADESK_CONSOLE_DEMO_H
#define WADESK_CONSOLE_DEMO_H

/* Runs the demo; argv0 locates wadeskd and wadesk-sim next to wadesk.
 * Returns the exit status. */
int demo_run(const char *argv0);

/* A free TCP port on 127.0.0.1 (bound and released), or -1. */
int demo_free_port(void);

/* Routes SIGINT, SIGTERM, SIGHUP and SIGCHLD to a self-pipe (the signal
 * handler only writes the signal number); returns its read end or -1.
 * Idempotent. */
int console_signals(void);
/* The default reaction to a signal byte: 1 (quit, *why may be set) for
 * SIGINT, SIGTERM, SIGHUP; 0 otherwise. */
int console_signal_quit(int sig, const char **why);

#endif
