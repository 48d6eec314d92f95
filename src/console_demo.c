/*
 * console_demo.c — `wadesk demo` (see console_demo.h).
 *
 * Order matters: the hub's directory is initialised first (it prints the
 * webhook URL the sim must call and takes the sim's URL as its provider),
 * then the sim and the hub start, and the console connects once the hub's
 * port accepts.  Children run in their own process group with
 * PR_SET_PDEATHSIG, so even a console killed with SIGKILL takes them
 * down; the console's own XDG directories live inside the temporary
 * directory, so the demo never touches the user's config or cache.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "console_demo.h"
#include "ui/tui.h"
#include "util.h"

#define DEMO_APP "wadeskdemo"
#define DEMO_APIKEY "demo-apikey-not-secret"

static pid_t demo_pids[2] = { -1, -1 };
static const char *const demo_names[2] = { "wadesk-sim", "wadeskd" };
static int sigpipe_fds[2] = { -1, -1 };

int
demo_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sa;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* The directory of the running wadesk, so the demo finds its siblings. */
static char *
bin_path(const char *argv0, const char *prog)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			char *p = xasprintf("%s/%s", self, prog);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	(void)argv0;
	return xstrdup(prog);      /* from PATH */
}

/* Starts argv with stdout/stderr to log (append); returns the pid or -1. */
static pid_t
spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	int nul = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (nul >= 0)
		dup2(nul, 0);
	setpgid(0, 0);
	execvp(argv[0], argv);
	fprintf(stderr, "wadesk demo: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Runs argv to completion; its stdout into *out (may be NULL). 0 on exit 0. */
static int
run(char *const argv[], const char *log, char **out)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(p[1], 1);
		if (fd >= 0)
			dup2(fd, 2);
		close(p[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	struct buf b = {0};
	char chunk[1024];
	ssize_t k;
	while ((k = read(p[0], chunk, sizeof chunk)) > 0 || (k < 0 && errno == EINTR))
		if (k > 0)
			buf_append(&b, chunk, (size_t)k);
	close(p[0]);
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (out != NULL)
		*out = buf_steal(&b);
	buf_free(&b);
	return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The value of "key: value" in text (xmalloc'd) or NULL. */
static char *
line_value(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, k) == 0 && p[k] == ':') {
			const char *v = p + k + 1;
			while (*v == ' ')
				v++;
			const char *e = strchr(v, '\n');
			return xstrndup(v, e != NULL ? (size_t)(e - v) : strlen(v));
		}
	}
	return NULL;
}

static int
wait_port(int port, int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa;
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* The last lines of the demo's log, since its directory goes away. */
static void
show_log(const char *log)
{
	FILE *f = fopen(log, "r");
	char *lines[12] = { NULL };
	char line[512];
	size_t n = 0;
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		free(lines[n % 12]);
		lines[n++ % 12] = xstrdup(line);
	}
	if (f != NULL)
		fclose(f);
	for (size_t i = n > 12 ? n - 12 : 0; i < n; i++)
		fprintf(stderr, "  %s", lines[i % 12]);
	for (size_t i = 0; i < 12; i++)
		free(lines[i]);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
stop_children(void)
{
	for (int i = 0; i < 2; i++)
		if (demo_pids[i] > 0)
			kill(demo_pids[i], SIGTERM);
	for (int i = 0; i < 2; i++) {
		if (demo_pids[i] <= 0)
			continue;
		int st;
		for (int t = 0; t < 60; t++) {            /* up to 3 s, then SIGKILL */
			if (waitpid(demo_pids[i], &st, WNOHANG) != 0)
				break;
			struct timespec ts = { 0, 50 * 1000000L };
			nanosleep(&ts, NULL);
			if (t == 59) {
				kill(demo_pids[i], SIGKILL);
				waitpid(demo_pids[i], &st, 0);
			}
		}
		demo_pids[i] = -1;
	}
}

static void
on_sig(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;
	if (sigpipe_fds[1] >= 0 && write(sigpipe_fds[1], &c, 1) < 0) {
		/* the pipe is full: the loop will see the earlier bytes */
	}
	errno = saved;
}

int
console_signals(void)
{
	if (sigpipe_fds[0] >= 0)
		return sigpipe_fds[0];
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	return sigpipe_fds[0];
}

int
console_signal_quit(int sig, const char **why)
{
	if (sig == SIGHUP)
		*why = "the terminal went away";
	return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

/* SIGCHLD: did one of our children die? */
static int
demo_signal(int sig, const char **why)
{
	static char buf[96];
	if (sig == SIGCHLD) {
		for (int i = 0; i < 2; i++) {
			int st;
			if (demo_pids[i] > 0 && waitpid(demo_pids[i], &st, WNOHANG) == demo_pids[i]) {
				snprintf(buf, sizeof buf, "demo: %s stopped unexpectedly (see its log)",
				    demo_names[i]);
				demo_pids[i] = -1;
				*why = buf;
				return 1;
			}
		}
		return 0;
	}
	return console_signal_quit(sig, why);
}

int
demo_run(const char *argv0)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/wadesk-demo.XXXXXX", tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	char *dir = mkdtemp(tmpl);
	if (dir == NULL) {
		fprintf(stderr, "wadesk demo: cannot create a temporary directory: %s\n", strerror(errno));
		free(tmpl);
		return 1;
	}
	int code = 1;
	char *hubdir = xasprintf("%s/hub", dir), *log = xasprintf("%s/demo.log", dir);
	char *keyfile = xasprintf("%s/apikey", dir), *out = NULL, *admin = NULL, *webhook = NULL;
	char *wadeskd = bin_path(argv0, "wadeskd"), *sim = bin_path(argv0, "wadesk-sim");
	int hub_port = demo_free_port(), sim_port = demo_free_port();
	while (sim_port == hub_port && hub_port > 0)
		sim_port = demo_free_port();
	char *hub_listen = xasprintf("127.0.0.1:%d", hub_port);
	char *sim_listen = xasprintf("127.0.0.1:%d", sim_port);
	char *sim_url = xasprintf("http://127.0.0.1:%d", sim_port);
	FILE *kf = fopen(keyfile, "w");
	if (kf != NULL) {
		fputs(DEMO_APIKEY "\n", kf);
		fclose(kf);
	}
	/* Private XDG directories: the demo leaves the user's alone. */
	char *xc = xasprintf("%s/config", dir), *xd = xasprintf("%s/data", dir);
	setenv("XDG_CONFIG_HOME", xc, 1);
	setenv("XDG_DATA_HOME", xd, 1);
	setenv("WADESK_SIM", sim_url, 1);
	free(xc);
	free(xd);

	if (console_signals() < 0) {
		fprintf(stderr, "wadesk demo: cannot set up signal handling: %s\n", strerror(errno));
		goto out;
	}

	fprintf(stderr, "wadesk demo: starting a private hub on %s and a sandbox on %s (in %s)\n",
	    hub_listen, sim_listen, dir);
	char *init[] = { wadeskd, (char *)"-d", hubdir, (char *)"init", (char *)"--listen", hub_listen,
		(char *)"--provider", (char *)"sim", (char *)"--api-url", sim_url, (char *)"--app",
		(char *)DEMO_APP, (char *)"--source", (char *)"917834811114", (char *)"--apikey-file",
		keyfile, NULL };
	char *show[] = { wadeskd, (char *)"-d", hubdir, (char *)"access", (char *)"show", NULL };
	if (run(init, log, NULL) != 0 || run(show, log, &out) != 0) {
		fprintf(stderr, "wadesk demo: cannot set up the hub (%s):\n", wadeskd);
		show_log(log);
		goto out;
	}
	admin = line_value(out, "admin");
	webhook = line_value(out, "webhook");
	if (admin == NULL || webhook == NULL) {
		fprintf(stderr, "wadesk demo: 'wadeskd access show' printed no admin link\n");
		goto out;
	}
	char *simv[] = { sim, (char *)"--listen", sim_listen, (char *)"--callback", webhook,
		(char *)"--app", (char *)DEMO_APP, (char *)"--apikey", (char *)DEMO_APIKEY,
		(char *)"--event-delay", (char *)"300", (char *)"--customers", (char *)"5",
		(char *)"--rate", (char *)"3", (char *)"--seed", (char *)"42", NULL };
	char *hubv[] = { wadeskd, (char *)"-d", hubdir, (char *)"--listen", hub_listen, NULL };
	demo_pids[0] = spawn(simv, log);
	demo_pids[1] = spawn(hubv, log);
	if (demo_pids[0] < 0 || demo_pids[1] < 0 || wait_port(hub_port, 5000) != 0) {
		fprintf(stderr, "wadesk demo: the hub did not start:\n");
		show_log(log);
		goto out;
	}
	char *notice = xasprintf("DEMO: a private hub with simulated customers (stops when you quit). "
	    "For a real hub: wadesk connect LINK --name NAME");
	struct tui_opts o = { notice, 0, sigpipe_fds[0], demo_signal };
	code = tui_main(admin, "demo", &o);
	free(notice);
out:
	stop_children();
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(hubdir);
	free(log);
	free(keyfile);
	free(out);
	free(admin);
	free(webhook);
	free(wadeskd);
	free(sim);
	free(hub_listen);
	free(sim_listen);
	free(sim_url);
	free(tmpl);
	return code;
}
