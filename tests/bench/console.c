/*
 * bench/console — how fast the console paints a big cache.
 *
 * Builds a cache of 10,000 chats and 1,000,000 messages with the cache
 * API (in a private XDG directory), then starts `wadesk` in a 140x40
 * pane of a private tmux server and reads the console's own timing notes
 * (WADESK_BENCH_FILE): the CLOCK_MONOTONIC instant its first full paint
 * reached the terminal, and its RSS then.  Exec-to-paint is that instant
 * minus the one just before tmux started the program (so tmux's spawn is
 * included).  With a hub and sim next to wadesk (WADESK_BIN), it also
 * measures event-to-screen: `wadesk-sim say` inbound messages, from the
 * frame's arrival to the paint that shows it.  Figures are printed, not
 * asserted.  Goals: first paint <= 60 ms, RSS <= 15 MB, event <= 5 ms.
 *
 *   bench/console [CHATS MESSAGES]
 *   bench/console --gen CACHE.db CHATS MESSAGES   (used by console-events.sh)
 */
#include <errno.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_cache.h"
#include "util.h"

static const char *const first[] = { "Asha", "Ravi", "Maria", "Chen", "Fatima", "Olu", "Ines",
	"Yusuf", "Mei", "Lars", "Priya", "Tomás", "Zanele", "Hiro", "Noor", "Ivan" };
static const char *const texts[] = {
	"Hi, where is my order?", "Thanks a lot!", "Can I change the delivery address?",
	"The app says *payment failed* again", "Is the shop open on Sunday?",
	"I would like a refund please", "Ok 👍", "Mi pedido no ha llegado", "注文はいつ届きますか",
};

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int
generate(const char *path, long chats, long msgs, int keep_events)
{
	struct cache *c;
	char *cause = NULL;
	if (cache_open(path, &c, &cause) != 0) {
		fprintf(stderr, "bench: %s\n", cause);
		return -1;
	}
	int64_t now = now_s(), t0 = mono_ms();
	cache_begin(c, NULL);
	if (!keep_events) {
		cache_meta_set(c, "hub_id", "bench", NULL);
		cache_set_last_event(c, msgs + chats, NULL);
	}
	long per = msgs / chats;
	for (long i = 0; i < chats; i++) {
		char phone[24], name[48];
		snprintf(phone, sizeof phone, "91970%07ld", i);
		snprintf(name, sizeof name, "%s %ld", first[i % 16], i);
		int64_t last = now - (chats - i) * 60;
		for (long k = 0; k < per; k++) {
			char id[40];
			snprintf(id, sizeof id, "bench-%ld", i * per + k + 1);
			int out = k % 2;
			struct cache_msg m = {
				.id = id, .phone = phone, .out = out, .type = (char *)"text",
				.text = (char *)texts[(i + k) % ARRAY_LEN(texts)],
				.state = (char *)(out ? "read" : ""), .reason = (char *)"",
				.agent = (char *)(out ? "bench-agent" : ""),
				.time = last - (per - k) * 30,
			};
			if (cache_msg_put(c, &m, &cause) != 0) {
				fprintf(stderr, "bench: %s\n", cause);
				return -1;
			}
		}
		struct cache_chat ch = {
			.phone = phone, .name = name, .note = (char *)"", .tags = (char *)(i % 7 ? "" : ",vip,"),
			.status = (int)(i % 4), .responding = (char *)(i % 4 == 2 ? "ravi" : ""),
			.unread = (int)(i % 3), .preview = (char *)texts[i % ARRAY_LEN(texts)],
			.last_time = last, .last_inbound = last - 30, .opted_in = (int)(i % 2),
		};
		cache_chat_put(c, &ch, NULL);
	}
	cache_commit(c, NULL);
	cache_close(c);
	printf("generated %ld chats, %ld messages in %.1f s\n", chats, per * chats,
	    (double)(mono_ms() - t0) / 1000);
	return 0;
}

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = xvasprintf(fmt, ap);
	va_end(ap);
	int r = system(cmd);
	free(cmd);
	return r;
}

/* Waits up to ms for a line starting with key in file; returns it or NULL. */
static char *
wait_line(const char *file, const char *key, int nth, int ms)
{
	for (int waited = 0; waited < ms; waited += 5) {
		FILE *f = fopen(file, "r");
		char line[256];
		int seen = 0;
		while (f != NULL && fgets(line, sizeof line, f) != NULL)
			if (strncmp(line, key, strlen(key)) == 0 && ++seen == nth) {
				fclose(f);
				return xstrdup(line);
			}
		if (f != NULL)
			fclose(f);
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--stamp") == 0) {
		/* Baseline: a program that only notes when it started. */
		FILE *f = fopen(argv[2], "a");
		if (f != NULL) {
			fprintf(f, "paint %lld 0\n", (long long)mono_ns());
			fclose(f);
		}
		pause();
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "--gen") == 0)
		/* Fill an existing cache (a real hub's) without touching its events. */
		return generate(argv[2], atol(argv[3]), atol(argv[4]), 1) == 0 ? 0 : 1;
	long chats = argc > 2 ? atol(argv[1]) : 10000, msgs = argc > 2 ? atol(argv[2]) : 1000000;
	const char *bin = getenv("WADESK_BIN") != NULL ? getenv("WADESK_BIN") : "build/bin";
	char tmpl[] = "/tmp/wadesk-bench.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (dir == NULL)
		return 1;
	char *cfgdir = xasprintf("%s/config/wadesk", dir), *datadir = xasprintf("%s/data/wadesk", dir);
	sh("mkdir -p '%s' '%s'", cfgdir, datadir);
	char *db = xasprintf("%s/bench.db", datadir);
	int rc = 1;
	if (generate(db, chats, msgs, 0) != 0)
		goto out;
	/* A link nobody answers (port 9 is discard, closed on loopback):
	 * the console paints from the cache and shows the offline banner. */
	char *cfg = xasprintf("%s/config", cfgdir);
	FILE *f = fopen(cfg, "w");
	fprintf(f, "link = ws://127.0.0.1:9/v1/desk#benchtoken\nname = bench-agent\nhub_id = bench\n");
	fclose(f);
	free(cfg);
	/* Which cache belongs to that address (console_hub_hint). */
	char *hint = xasprintf("%s/hub-127.0.0.1_9_v1_desk", datadir);
	f = fopen(hint, "w");
	fprintf(f, "bench\n");
	fclose(f);
	free(hint);
	char *notes = xasprintf("%s/notes", dir);
	char *sock = xasprintf("wadesk-bench-%d", (int)getpid());
	double paint_ms[5], base_ms = 1e9;
	long rss_kb = 0;
	int runs = 0;
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	self[sl > 0 ? sl : 0] = '\0';
	/* One server for all runs, so its start-up is not counted. */
	sh("tmux -L %s -f /dev/null new-session -d -s keep -x 140 -y 40 'sleep 600'", sock);
	for (int r = 0; r < 3; r++) {
		unlink(notes);
		int64_t start = mono_ns();
		sh("tmux -L %s new-session -d -s base -x 140 -y 40 '%s --stamp %s'", sock, self, notes);
		char *line = wait_line(notes, "paint ", 1, 5000);
		long long at;
		if (line != NULL && sscanf(line, "paint %lld", &at) == 1 &&
		    (double)(at - start) / 1e6 < base_ms)
			base_ms = (double)(at - start) / 1e6;
		free(line);
		sh("tmux -L %s kill-session -t base", sock);
	}
	for (int r = 0; r < 5; r++) {
		unlink(notes);
		int64_t start = mono_ns();
		sh("tmux -L %s new-session -d -s run -x 140 -y 40 "
		    "\"env XDG_CONFIG_HOME=%s/config XDG_DATA_HOME=%s/data WADESK_BENCH_FILE=%s TERM=screen "
		    "%s/wadesk\"", sock, dir, dir, notes, bin);
		char *line = wait_line(notes, "paint ", 1, 5000);
		if (line != NULL) {
			long long at;
			long kb;
			if (sscanf(line, "paint %lld %ld", &at, &kb) == 2) {
				paint_ms[runs++] = (double)(at - start) / 1e6;
				rss_kb = kb;
			}
			free(line);
		}
		char *stages = wait_line(notes, "stages ", 1, 100);
		if (stages != NULL && getenv("BENCH_VERBOSE") != NULL) {
			long long t0, a, c2, p;
			if (sscanf(stages, "stages tui %lld app %lld curses %lld paint %lld", &t0, &a, &c2, &p) == 4)
				printf("  run %d: exec->tui_main %.1f ms, cache open %.1f, curses %.1f, paint %.1f\n",
				    r, (double)(t0 - start) / 1e6, a / 1e6, c2 / 1e6, p / 1e6);
		}
		free(stages);
		if (r == 0) {
			/* What the first screen looked like. */
			sh("sleep 0.3; tmux -L %s capture-pane -p | head -12", sock);
		}
		sh("tmux -L %s kill-session -t run", sock);
	}
	sh("tmux -L %s kill-server 2>/dev/null", sock);
	if (runs == 0) {
		fprintf(stderr, "bench: the console never painted\n");
		goto out;
	}
	double best = paint_ms[0], sum = 0;
	for (int i = 0; i < runs; i++) {
		sum += paint_ms[i];
		if (paint_ms[i] < best)
			best = paint_ms[i];
	}
	printf("console: %ld chats / %ld messages cache, 140x40 tmux pane\n", chats, msgs);
	printf("  exec -> first full paint: best %.1f ms, mean %.1f ms over %d runs (goal <= 60 ms)\n",
	    best, sum / runs, runs);
	printf("  (tmux spawning a program that only notes the time: %.1f ms, included above;\n"
	    "   the console's own share: %.1f ms)\n", base_ms, best - base_ms);
	printf("  RSS after first paint:    %.1f MB (goal <= 15 MB)\n", (double)rss_kb / 1024);
	rc = 0;
	free(notes);
	free(sock);
out:
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(cfgdir);
	free(datadir);
	free(db);
	return rc;
}
