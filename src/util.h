/*
 * util.h — the few helpers every part of wadesk shares: allocation that
 * cannot return NULL, a growable byte buffer, clocks, RFC 3339 time, and
 * the log.
 *
 * Allocation failure is fatal (the process prints one line and aborts):
 * wadesk's allocations are small and a half-handled OOM is worse than a
 * clean stop; the hub's durability never depends on memory.
 *
 * The log writes one line per call to stderr: "2026-11-25T10:14:03Z wadeskd:
 * message".  log_verbose() lines appear only when log_level >= 1 (-v).
 * Secrets (tokens, apikeys) must never be passed to the log.
 */
#ifndef WADESK_UTIL_H
#define WADESK_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);            /* xstrdup(NULL) returns NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * A growable buffer.  data is always NUL-terminated (data[len] == 0) once
 * anything was appended, so text can be used as a C string.  Zero-initialise
 * (struct buf b = {0}) to start; buf_free() releases and resets it.
 */
struct buf {
	char   *data;
	size_t  len;
	size_t  cap;
};
void  buf_append(struct buf *b, const void *p, size_t n);
void  buf_puts(struct buf *b, const char *s);
void  buf_putc(struct buf *b, char c);
/* Appends s percent-encoded: every byte but RFC 3986's unreserved ones
 * (ALPHA DIGIT - . _ ~) becomes %XX.  Right for a URL path segment and for
 * RFC 5987's filename*=UTF-8''... */
void  buf_put_pct(struct buf *b, const char *s);
void  buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *buf_steal(struct buf *b);          /* returns data ("" if empty), resets b */
void  buf_reset(struct buf *b);          /* len = 0, keeps the allocation */
void  buf_free(struct buf *b);

/* Wall-clock time in milliseconds / seconds since the epoch. */
int64_t now_ms(void);
int64_t now_s(void);
/* Monotonic milliseconds, for timers and latency. */
int64_t mono_ms(void);
/* Monotonic nanoseconds, for benchmarks. */
int64_t mono_ns(void);

/* Formats unix seconds as RFC 3339 UTC ("2026-11-25T10:14:03Z") into out. */
const char *time_rfc3339(int64_t t, char out[32]);
/* Parses RFC 3339 ("...Z" or "+hh:mm"); -1 on error. */
int time_parse_rfc3339(const char *s, int64_t *t);

/* Log: program name set once by main. */
extern int log_level;
void log_init(const char *progname);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills buf with n cryptographically random bytes (getrandom(2)); 0 or -1. */
int random_bytes(void *buf, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const void *p, size_t n, char *out);

/* Sorts n doubles in place, ascending (benchmarks' latency samples). */
void doubles_sort(double *v, size_t n);
/* The q-quantile (0..1, nearest rank) of n sorted doubles; 0 when n is 0. */
double percentile(const double *v, size_t n, double q);

#endif
