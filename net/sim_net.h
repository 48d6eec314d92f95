/*
 * sim_net.h — wadesk-sim's network side: the HTTP server (libwebsockets)
 * that feeds requests to the model in src/sim.h and posts its callbacks
 * (libcurl multi, inside the same loop), and the HTTP client the control
 * commands use (libcurl), and the load generator (sim_load.c).
 */
#ifndef WADESK_SIM_NET_H
#define WADESK_SIM_NET_H

#include <stddef.h>
#include <stdint.h>

struct sim;

struct sim_server_opts {
	const char *host;           /* listen address, "127.0.0.1" */
	int         port;
	const char *callback;       /* the hub's webhook URL, or NULL */
	const char *state;          /* --state FILE, or NULL */
	const char *url_file;       /* where to write the sim's URL, or NULL */
	/* Test aid ("wadesk-sim sink"): with no sim, every POST body is
	 * appended to sink_out as one line and answered sink_status. */
	const char *sink_out;
	int         sink_status;
};

/*
 * Serves the sim (s; NULL in sink mode) on host:port until SIGINT or SIGTERM, posting callbacks
 * to opts->callback, saving opts->state about once a second when changed
 * and at exit.  0 on a clean stop; -1 with *cause when the server cannot
 * start.
 */
int sim_server_run(struct sim *s, const struct sim_server_opts *opts, char **cause);

/*
 * One blocking HTTP request to a running sim (control commands only;
 * never inside a loop).  form, when not NULL, is POSTed as
 * application/x-www-form-urlencoded.  0 with *status and *body (xmalloc'd,
 * NUL-terminated, *len bytes); -1 with *cause when the sim cannot be
 * reached.
 */
int sim_client_request(const char *base, const char *method, const char *path,
                       const char *form, long *status, char **body, size_t *len, char **cause);

/* As sim_client_request, POSTing datalen raw bytes as application/octet-stream. */
int sim_client_upload(const char *base, const char *path, const void *data, size_t datalen,
                      long *status, char **body, size_t *len, char **cause);

struct sim_load_opts {
	const char   *callback;     /* the webhook URL */
	const char   *app;
	unsigned long count;
	double        rate;         /* webhooks per second */
	unsigned      customers;    /* distinct senders */
	unsigned      inflight;     /* at most this many requests at once */
	uint64_t      seed;
	const char   *acked;        /* write the ids answered 200 here, or NULL */
};

struct sim_load_result {
	unsigned long sent, ok, failed;
	unsigned long by_status[6];     /* 0: no answer, 1xx..5xx */
	double        seconds, rate;
	double        p50_ms, p90_ms, p99_ms, max_ms;
};

/*
 * Posts count inbound "message" callbacks to the webhook at rate/s with a
 * bounded number in flight, and measures each answer's latency.  0 with *r
 * filled; -1 with *cause on a setup failure.  http:// URLs go through
 * keep-alive connections on one epoll loop (sim_load.c), https:// through
 * curl multi (sim_load_run_curl, sim_client.c).
 */
int sim_load_run(const struct sim_load_opts *o, struct sim_load_result *r, char **cause);
int sim_load_run_curl(const struct sim_load_opts *o, struct sim_load_result *r, char **cause);

#endif
