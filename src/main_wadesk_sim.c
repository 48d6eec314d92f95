/*
 * main_wadesk_sim.c — wadesk-sim: a Gupshup-compatible sandbox provider.
 *
 * With no command (or options only) it runs the provider; the commands
 * say, media, optin, optout, inbox, wallet and load talk to a running one (see
 * wadesk-sim(1)).  Commands are one table; each parses its own options.
 * Exit codes for the commands: 0 ok, 1 refused by the sim, 2 usage,
 * 3 the sim cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gupshup.h"
#include "gupshup_sim.h"
#include "net/sim_net.h"
#include "sim.h"
#include "util.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static const char usage_run[] =
	"usage: wadesk-sim [--listen ADDR:PORT] [--callback URL] [--app NAME] [--apikey KEY]\n"
	"                  [--sandbox] [--event-delay MS] [--chaos]\n"
	"                  [--customers N --rate PER_MIN --seed S] [--state FILE]\n"
	"                  [--fail-downloads N] [--expire-after-download] [-v]\n"
	"       wadesk-sim say PHONE TEXT [--name NAME] [--sim URL]\n"
	"       wadesk-sim media PHONE FILE [--caption TEXT] [--name NAME] [--filename NAME]\n"
	"                        [--content-type MIME] [--fail-downloads N]\n"
	"                        [--expire-after-download] [--json] [--sim URL]\n"
	"       wadesk-sim optin|optout PHONE [--sim URL]\n"
	"       wadesk-sim inbox PHONE [--json] [--sim URL]\n"
	"       wadesk-sim wallet [--json] [--sim URL]\n"
	"       wadesk-sim load --count N --rate R [--customers K] [--inflight M]\n"
	"                       [--acked FILE] [--sim URL]\n"
	"\n"
	"Runs a Gupshup-compatible WhatsApp provider on ADDR:PORT (default\n"
	"127.0.0.1:8780) that posts its webhooks to the --callback URL; the\n"
	"commands talk to a running one (--sim URL, else $WADESK_SIM, else the\n"
	"last one started).  See wadesk-sim(1).\n";

/* ---- Helpers ---- */

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_double(const char *s, double *out)
{
	char *end;
	double v;
	if (s == NULL || *s == '\0')
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !(v > 0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

/* Where the last started sim writes its URL. */
static char *
url_file_path(int create_dir)
{
	const char *dir = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	if (dir != NULL && *dir != '\0')
		return xasprintf("%s/wadesk-sim.url", dir);
	if (home == NULL || *home == '\0')
		return NULL;
	if (create_dir) {
		char *cache = xasprintf("%s/.cache", home);
		mkdir(cache, 0700);
		free(cache);
	}
	return xasprintf("%s/.cache/wadesk-sim.url", home);
}

/* --sim, else $WADESK_SIM, else the URL file; NULL when none. */
static char *
sim_url(const char *opt)
{
	const char *env = getenv("WADESK_SIM");
	char *path, line[512];
	FILE *f;

	if (opt != NULL)
		return xstrdup(opt);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	path = url_file_path(0);
	if (path == NULL)
		return NULL;
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return line[0] != '\0' ? xstrdup(line) : NULL;
}

/* Writes text with control characters shown as \xNN, so that what a
 * customer received cannot drive the terminal. */
static void
print_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)   /* C1 */
			printf("\\u%04x", p[1]), p++;
		else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f ||
		         (p[2] >= 0xaa && p[2] <= 0xae)))                   /* bidi */
			printf("\\u20%02x", p[2] - 0x80 + 0x00), p += 2;
		else
			putchar(*p);
	}
}

/*
 * Runs one request against the sim and maps the outcome to an exit code:
 * 2xx -> 0 with *body; 4xx/5xx -> 1 after printing the sim's message;
 * unreachable -> 3.
 */
static int
call_sim_data(const char *opt_sim, const char *method, const char *path, const char *form,
              const void *data, size_t datalen, char **body, size_t *len)
{
	char *url = sim_url(opt_sim), *cause = NULL, *msg;
	long status;
	int rc;

	*body = NULL;
	if (url == NULL) {
		fprintf(stderr, "wadesk-sim: no sim to talk to: give --sim URL or set WADESK_SIM\n");
		return EXIT_UNREACHABLE;
	}
	if (data != NULL)
		rc = sim_client_upload(url, path, data, datalen, &status, body, len, &cause);
	else
		rc = sim_client_request(url, method, path, form, &status, body, len, &cause);
	if (rc != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
		free(url);
		return EXIT_UNREACHABLE;
	}
	free(url);
	if (status >= 200 && status < 300)
		return EXIT_OK;
	msg = gupshup_sim_error_message(*body, *len);
	fprintf(stderr, "wadesk-sim: refused: %s (HTTP %ld)\n", msg != NULL ? msg : "no reason given",
	        status);
	free(msg);
	free(*body);
	*body = NULL;
	return EXIT_REFUSED;
}

static int
call_sim(const char *opt_sim, const char *method, const char *path, const char *form,
         char **body, size_t *len)
{
	return call_sim_data(opt_sim, method, path, form, NULL, 0, body, len);
}

/* ---- Commands ---- */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static int
cmd_say(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' }, { "sim", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *sim = NULL;
	struct buf form = { 0 };
	char *body, *result;
	size_t len;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 's': sim = optarg; break;
		case 'h': printf("usage: wadesk-sim say PHONE TEXT [--name NAME] [--sim URL]\n"); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: wadesk-sim say PHONE TEXT [--name NAME] [--sim URL]\n");
		return EXIT_USAGE;
	}
	gupshup_form_add(&form, "phone", argv[optind]);
	gupshup_form_add(&form, "text", argv[optind + 1]);
	if (name != NULL)
		gupshup_form_add(&form, "name", name);
	rc = call_sim(sim, "POST", "/sim/say", form.data, &body, &len);
	buf_free(&form);
	if (rc != EXIT_OK)
		return rc;
	result = gupshup_sim_error_message(body, len);   /* reads "message"; result is below */
	free(result);
	if (strstr(body, "\"dropped\"") != NULL)
		printf("dropped: in the sandbox %s must first send 'PROXY <APPNAME>'\n", argv[optind]);
	else
		printf("delivered\n");
	free(body);
	return EXIT_OK;
}

/* Reads a whole file (at most max bytes) into *out; 0, or -1 after a message. */
static int
read_file(const char *path, size_t max, struct buf *out)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "wadesk-sim: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (out->len + n > max) {
			fprintf(stderr, "wadesk-sim: '%s' is over %zu bytes\n", path, max);
			fclose(f);
			return -1;
		}
		buf_append(out, chunk, n);
	}
	if (ferror(f)) {
		fprintf(stderr, "wadesk-sim: cannot read '%s': %s\n", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int
cmd_media(int argc, char **argv)
{
	enum { O_CAPTION = 256, O_NAME, O_FILENAME, O_TYPE, O_FAIL, O_EXPIRE, O_JSON, O_SIM };
	static const struct option opts[] = {
		{ "caption", required_argument, NULL, O_CAPTION },
		{ "name", required_argument, NULL, O_NAME },
		{ "filename", required_argument, NULL, O_FILENAME },
		{ "content-type", required_argument, NULL, O_TYPE },
		{ "fail-downloads", required_argument, NULL, O_FAIL },
		{ "expire-after-download", no_argument, NULL, O_EXPIRE },
		{ "json", no_argument, NULL, O_JSON },
		{ "sim", required_argument, NULL, O_SIM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"usage: wadesk-sim media PHONE FILE [--caption TEXT] [--name NAME] [--filename NAME]\n"
		"                        [--content-type MIME] [--fail-downloads N]\n"
		"                        [--expire-after-download] [--json] [--sim URL]\n";
	const char *caption = NULL, *name = NULL, *filename = NULL, *type = NULL, *sim = NULL;
	const char *fail = NULL, *base;
	struct buf data = { 0 }, form = { 0 };
	char *body = NULL, *id = NULL, *cause = NULL, *rtype, *rmime, *rsniffed, *rurl;
	size_t len;
	uint64_t v;
	int c, rc, expire = 0, json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_CAPTION: caption = optarg; break;
		case O_JSON: json = 1; break;
		case O_NAME: name = optarg; break;
		case O_FILENAME: filename = optarg; break;
		case O_TYPE: type = optarg; break;
		case O_FAIL:
			if (parse_u64(optarg, 1000000, &v) != 0) {
				fprintf(stderr, "wadesk-sim: --fail-downloads wants a number\n");
				return EXIT_USAGE;
			}
			fail = optarg;
			break;
		case O_EXPIRE: expire = 1; break;
		case O_SIM: sim = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (read_file(argv[optind + 1], SIM_UPLOAD_MAX, &data) != 0) {
		buf_free(&data);
		return EXIT_USAGE;
	}
	if (filename == NULL) {
		base = strrchr(argv[optind + 1], '/');
		filename = base != NULL ? base + 1 : argv[optind + 1];
	}
	rc = call_sim_data(sim, "POST", "/sim/upload", NULL, data.data != NULL ? data.data : "",
	                   data.len, &body, &len);
	buf_free(&data);
	if (rc != EXIT_OK)
		return rc;
	id = gupshup_sim_reply_get(body, len, "id");
	free(body);
	if (id == NULL) {
		fprintf(stderr, "wadesk-sim: the sim's upload answer has no id\n");
		return EXIT_REFUSED;
	}
	gupshup_form_add(&form, "phone", argv[optind]);
	gupshup_form_add(&form, "id", id);
	gupshup_form_add(&form, "filename", filename);
	if (caption != NULL)
		gupshup_form_add(&form, "caption", caption);
	if (name != NULL)
		gupshup_form_add(&form, "name", name);
	if (type != NULL)
		gupshup_form_add(&form, "content_type", type);
	if (fail != NULL)
		gupshup_form_add(&form, "fail_downloads", fail);
	if (expire)
		gupshup_form_add(&form, "expire_after_download", "1");
	free(id);
	rc = call_sim(sim, "POST", "/sim/media", form.data, &body, &len);
	buf_free(&form);
	if (rc != EXIT_OK)
		return rc;
	if (json) {
		fwrite(body, 1, len, stdout);
		putchar('\n');
		free(body);
		return EXIT_OK;
	}
	if (gupshup_sim_media_reply_parse(body, len, &rtype, &rmime, &rsniffed, &rurl, &cause) != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
		free(body);
		return EXIT_REFUSED;
	}
	printf("delivered: %s %s (sniffed %s) %s\n", rtype ? rtype : "?", rmime ? rmime : "?",
	       rsniffed ? rsniffed : "?", rurl ? rurl : "?");
	free(rtype);
	free(rmime);
	free(rsniffed);
	free(rurl);
	free(body);
	return EXIT_OK;
}

static int
opt_command(int argc, char **argv, int in)
{
	static const struct option opts[] = {
		{ "sim", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sim = NULL, *what = in ? "optin" : "optout";
	struct buf form = { 0 };
	char *body;
	size_t len;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': sim = optarg; break;
		case 'h': printf("usage: wadesk-sim %s PHONE [--sim URL]\n", what); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: wadesk-sim %s PHONE [--sim URL]\n", what);
		return EXIT_USAGE;
	}
	gupshup_form_add(&form, "phone", argv[optind]);
	rc = call_sim(sim, "POST", in ? "/sim/optin" : "/sim/optout", form.data, &body, &len);
	buf_free(&form);
	if (rc != EXIT_OK)
		return rc;
	printf("%s opted %s\n", argv[optind], in ? "in" : "out");
	free(body);
	return EXIT_OK;
}

static int
cmd_optin(int argc, char **argv)
{
	return opt_command(argc, argv, 1);
}

static int
cmd_optout(int argc, char **argv)
{
	return opt_command(argc, argv, 0);
}

static int
cmd_inbox(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "sim", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *sim = NULL;
	struct sim_customer cu;
	char *body, *path, *cause = NULL, ts[32];
	size_t len;
	int c, rc, json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': sim = optarg; break;
		case 'h': printf("usage: wadesk-sim inbox PHONE [--json] [--sim URL]\n"); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: wadesk-sim inbox PHONE [--json] [--sim URL]\n");
		return EXIT_USAGE;
	}
	{
		struct buf b = { 0 };
		char digits[16];
		if (sim_phone(argv[optind], digits) != 0) {
			fprintf(stderr, "wadesk-sim: invalid phone number '%s'\n", argv[optind]);
			return EXIT_USAGE;
		}
		buf_printf(&b, "/sim/inbox/%s", digits);
		path = buf_steal(&b);
	}
	rc = call_sim(sim, "GET", path, NULL, &body, &len);
	free(path);
	if (rc != EXIT_OK)
		return rc;
	if (json) {
		printf("%s\n", body);
		free(body);
		return EXIT_OK;
	}
	if (gupshup_sim_inbox_parse(body, len, &cu, &cause) != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
		free(body);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < cu.nitems; i++) {
		const struct sim_item *it = &cu.items[i];
		printf("%s  %-9s %-8s ", time_rfc3339(it->time_ms / 1000, ts), it->status ? it->status : "",
		       it->is_template ? "template" : gupshup_msg_type_name(it->type));
		if (it->is_template) {
			printf("%s [", it->template_id);
			for (size_t j = 0; j < it->nparams; j++) {
				printf(j ? ", " : "");
				print_safe(it->params[j]);
			}
			printf("] ");
		}
		if (it->url != NULL) {
			print_safe(it->url);
			putchar(' ');
		}
		if (it->media_mime != NULL) {
			printf("[%s %lld bytes sha256:%.12s ", it->media_mime, (long long)it->media_size,
			       it->media_sha256 != NULL ? it->media_sha256 : "");
			print_safe(it->media_name != NULL ? it->media_name : "");
			printf("] ");
		}
		if (it->text != NULL)
			print_safe(it->text);
		if (it->code != 0 && it->status != NULL && strcmp(it->status, "failed") == 0)
			printf("  (%d: %s)", it->code, it->reason ? it->reason : "");
		putchar('\n');
	}
	gupshup_sim_customer_release(&cu);
	free(body);
	return EXIT_OK;
}

static void
print_micro(int64_t v)
{
	int64_t a = v < 0 ? -v : v;
	printf("%s$%lld.%06lld", v < 0 ? "-" : "", (long long)(a / 1000000), (long long)(a % 1000000));
}

static int
cmd_wallet(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "sim", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *sim = NULL;
	struct sim_ledger *l;
	int64_t balance;
	char *body, *cause = NULL, ts[32];
	size_t len, n;
	int c, rc, json = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 's': sim = optarg; break;
		case 'h': printf("usage: wadesk-sim wallet [--json] [--sim URL]\n"); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc != optind) {
		fprintf(stderr, "usage: wadesk-sim wallet [--json] [--sim URL]\n");
		return EXIT_USAGE;
	}
	rc = call_sim(sim, "GET", "/sim/wallet", NULL, &body, &len);
	if (rc != EXIT_OK)
		return rc;
	if (json) {
		printf("%s\n", body);
		free(body);
		return EXIT_OK;
	}
	if (gupshup_sim_wallet_parse(body, len, &balance, &l, &n, &cause) != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
		free(body);
		return EXIT_REFUSED;
	}
	printf("balance: ");
	print_micro(balance);
	printf(" (%lld micro-dollars)\n", (long long)balance);
	for (size_t i = 0; i < n; i++) {
		printf("%s  ", time_rfc3339(l[i].time_ms / 1000, ts));
		print_micro(l[i].amount);
		printf("  %-16s %s %s\n", l[i].what ? l[i].what : "", l[i].phone ? l[i].phone : "",
		       l[i].id ? l[i].id : "");
	}
	gupshup_sim_ledger_free(l, n);
	free(body);
	return EXIT_OK;
}

static int
cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' }, { "rate", required_argument, NULL, 'r' },
		{ "customers", required_argument, NULL, 'k' }, { "inflight", required_argument, NULL, 'i' },
		{ "acked", required_argument, NULL, 'a' }, { "sim", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: wadesk-sim load --count N --rate R [--customers K] "
	                            "[--inflight M] [--acked FILE] [--sim URL]\n";
	struct sim_load_opts o = { .customers = 100, .inflight = 64 };
	struct sim_load_result r;
	struct gupshup_sim_info info;
	const char *sim = NULL;
	char *body, *cause = NULL;
	size_t len;
	uint64_t v;
	int c, rc, have_count = 0, have_rate = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_u64(optarg, 100000000, &v) != 0 || v == 0) {
				fprintf(stderr, "wadesk-sim: --count wants a positive number\n");
				return EXIT_USAGE;
			}
			o.count = (unsigned long)v;
			have_count = 1;
			break;
		case 'r':
			if (parse_double(optarg, &o.rate) != 0) {
				fprintf(stderr, "wadesk-sim: --rate wants a positive number\n");
				return EXIT_USAGE;
			}
			have_rate = 1;
			break;
		case 'k':
			if (parse_u64(optarg, 100000000, &v) != 0 || v == 0) {
				fprintf(stderr, "wadesk-sim: --customers wants a positive number\n");
				return EXIT_USAGE;
			}
			o.customers = (unsigned)v;
			break;
		case 'i':
			if (parse_u64(optarg, 1024, &v) != 0 || v == 0) {
				fprintf(stderr, "wadesk-sim: --inflight wants 1 to 1024\n");
				return EXIT_USAGE;
			}
			o.inflight = (unsigned)v;
			break;
		case 'a': o.acked = optarg; break;
		case 's': sim = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (argc != optind || !have_count || !have_rate) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	rc = call_sim(sim, "GET", "/sim/info", NULL, &body, &len);
	if (rc != EXIT_OK)
		return rc;
	if (gupshup_sim_info_parse(body, len, &info, &cause) != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
		free(body);
		return EXIT_REFUSED;
	}
	free(body);
	if (info.callback == NULL) {
		fprintf(stderr, "wadesk-sim: the sim has no --callback to load\n");
		gupshup_sim_info_release(&info);
		return EXIT_REFUSED;
	}
	o.callback = info.callback;
	o.app = info.app;
	if (random_bytes(&o.seed, sizeof o.seed) != 0)
		o.seed = (uint64_t)now_ms();
	if (sim_load_run(&o, &r, &cause) != 0) {
		fprintf(stderr, "wadesk-sim: load: %s\n", cause);
		free(cause);
		gupshup_sim_info_release(&info);
		return EXIT_UNREACHABLE;
	}
	printf("load: %lu sent, %lu answered 200, %lu failed (no answer %lu, 4xx %lu, 5xx %lu)\n",
	       r.sent, r.ok, r.failed, r.by_status[0], r.by_status[4], r.by_status[5]);
	printf("load: %.2f s, %.1f webhooks/s achieved (asked %.1f/s)\n", r.seconds, r.rate, o.rate);
	printf("load: latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.p50_ms,
	       r.p90_ms, r.p99_ms, r.max_ms);
	gupshup_sim_info_release(&info);
	return r.ok == r.sent ? EXIT_OK : EXIT_REFUSED;
}

static int
cmd_run(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_CALLBACK, O_APP, O_APIKEY, O_SANDBOX, O_DELAY, O_CHAOS,
	       O_CUSTOMERS, O_RATE, O_SEED, O_STATE, O_FAIL, O_EXPIRE };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "callback", required_argument, NULL, O_CALLBACK },
		{ "app", required_argument, NULL, O_APP },
		{ "apikey", required_argument, NULL, O_APIKEY },
		{ "sandbox", no_argument, NULL, O_SANDBOX },
		{ "event-delay", required_argument, NULL, O_DELAY },
		{ "chaos", no_argument, NULL, O_CHAOS },
		{ "customers", required_argument, NULL, O_CUSTOMERS },
		{ "rate", required_argument, NULL, O_RATE },
		{ "seed", required_argument, NULL, O_SEED },
		{ "state", required_argument, NULL, O_STATE },
		{ "fail-downloads", required_argument, NULL, O_FAIL },
		{ "expire-after-download", no_argument, NULL, O_EXPIRE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_config cfg = { .event_delay_ms = 5000 };
	struct sim_server_opts so = { .host = "127.0.0.1", .port = 8780 };
	char *host = NULL, *base, *cause = NULL, *url_file;
	uint64_t v, customers = 0;
	double rate = 1;
	int c, have_seed = 0, rc;
	struct sim *s;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: {
			const char *colon = strrchr(optarg, ':');
			if (colon == NULL || parse_u64(colon + 1, 65535, &v) != 0 || v == 0 ||
			    colon == optarg) {
				fprintf(stderr, "wadesk-sim: --listen wants ADDR:PORT, like 127.0.0.1:8780\n");
				return EXIT_USAGE;
			}
			free(host);
			host = xstrndup(optarg, (size_t)(colon - optarg));
			if (host[0] == '[' && host[strlen(host) - 1] == ']') {
				char *h = xstrndup(host + 1, strlen(host) - 2);
				free(host);
				host = h;
			}
			so.host = host;
			so.port = (int)v;
			break;
		}
		case O_CALLBACK: so.callback = optarg; break;
		case O_APP:
			if (*optarg == '\0' || strchr(optarg, '/') != NULL) {
				fprintf(stderr, "wadesk-sim: --app wants a name without '/'\n");
				return EXIT_USAGE;
			}
			cfg.app = optarg;
			break;
		case O_APIKEY: cfg.apikey = optarg; break;
		case O_SANDBOX: cfg.sandbox = 1; break;
		case O_DELAY:
			if (parse_u64(optarg, 3600000, &v) != 0) {
				fprintf(stderr, "wadesk-sim: --event-delay wants milliseconds\n");
				return EXIT_USAGE;
			}
			cfg.event_delay_ms = (int64_t)v;
			break;
		case O_CHAOS: cfg.chaos = 1; break;
		case O_CUSTOMERS:
			if (parse_u64(optarg, 10000, &customers) != 0) {
				fprintf(stderr, "wadesk-sim: --customers wants 0 to 10000\n");
				return EXIT_USAGE;
			}
			break;
		case O_RATE:
			if (parse_double(optarg, &rate) != 0) {
				fprintf(stderr, "wadesk-sim: --rate wants conversations per minute\n");
				return EXIT_USAGE;
			}
			break;
		case O_SEED:
			if (parse_u64(optarg, UINT64_MAX, &cfg.seed) != 0) {
				fprintf(stderr, "wadesk-sim: --seed wants a number\n");
				return EXIT_USAGE;
			}
			have_seed = 1;
			break;
		case O_STATE: so.state = optarg; break;
		case O_FAIL:
			if (parse_u64(optarg, 1000000, &v) != 0) {
				fprintf(stderr, "wadesk-sim: --fail-downloads wants a number\n");
				free(host);
				return EXIT_USAGE;
			}
			cfg.fail_downloads = (unsigned)v;
			break;
		case O_EXPIRE: cfg.expire_after_download = 1; break;
		case 'v': log_level++; break;
		case 'h': fputs(usage_run, stdout); free(host); return EXIT_OK;
		default: free(host); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wadesk-sim: unknown command '%s'\n%s", argv[optind], usage_run);
		free(host);
		return EXIT_USAGE;
	}
	if (!have_seed && random_bytes(&cfg.seed, sizeof cfg.seed) != 0)
		cfg.seed = (uint64_t)now_ms();
	base = xasprintf(strchr(so.host, ':') ? "http://[%s]:%d" : "http://%s:%d", so.host, so.port);
	cfg.base_url = base;
	cfg.callback = so.callback;
	s = sim_new(&cfg);
	if (so.state != NULL && sim_load(s, so.state, &cause) != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
		sim_free(s);
		free(base);
		free(host);
		return 1;
	}
	if (customers > 0)
		sim_crowd_start(s, (unsigned)customers, rate, now_ms());
	if (cfg.apikey == NULL)
		log_info("no --apikey: every apikey is accepted");
	url_file = url_file_path(1);
	so.url_file = url_file;
	rc = sim_server_run(s, &so, &cause);
	if (rc != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
	}
	free(url_file);
	sim_free(s);
	free(base);
	free(host);
	return rc == 0 ? 0 : 1;
}

/* A test aid: a webhook receiver that appends each POST body to a file. */
static int
cmd_sink(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "out", required_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: wadesk-sim sink --listen ADDR:PORT --out FILE [--status CODE]\n";
	struct sim_server_opts so = { .host = "127.0.0.1" };
	char *host = NULL, *cause = NULL;
	const char *colon;
	uint64_t v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			colon = strrchr(optarg, ':');
			if (colon == NULL || colon == optarg || parse_u64(colon + 1, 65535, &v) != 0 || v == 0) {
				fputs(usage, stderr);
				free(host);
				return EXIT_USAGE;
			}
			free(host);
			host = xstrndup(optarg, (size_t)(colon - optarg));
			so.host = host;
			so.port = (int)v;
			break;
		case 'o': so.sink_out = optarg; break;
		case 's':
			if (parse_u64(optarg, 599, &v) != 0 || v < 100) {
				fputs(usage, stderr);
				free(host);
				return EXIT_USAGE;
			}
			so.sink_status = (int)v;
			break;
		case 'h': fputs(usage, stdout); free(host); return EXIT_OK;
		default: free(host); return EXIT_USAGE;
		}
	}
	if (optind != argc || so.port == 0 || so.sink_out == NULL) {
		fputs(usage, stderr);
		free(host);
		return EXIT_USAGE;
	}
	rc = sim_server_run(NULL, &so, &cause);
	if (rc != 0) {
		fprintf(stderr, "wadesk-sim: %s\n", cause);
		free(cause);
	}
	free(host);
	return rc == 0 ? 0 : 1;
}

static const struct cmd commands[] = {
	{ "say", cmd_say, "say PHONE TEXT [--name NAME]" },
	{ "media", cmd_media, "media PHONE FILE [--caption TEXT] [--name NAME]" },
	{ "optin", cmd_optin, "optin PHONE" },
	{ "optout", cmd_optout, "optout PHONE" },
	{ "inbox", cmd_inbox, "inbox PHONE [--json]" },
	{ "wallet", cmd_wallet, "wallet [--json]" },
	{ "load", cmd_load, "load --count N --rate R [--customers K]" },
	{ "sink", cmd_sink, "sink --listen ADDR:PORT --out FILE [--status CODE]" },
};

int
main(int argc, char **argv)
{
	log_init("wadesk-sim");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && argv[1][0] != '-') {
		if (strcmp(argv[1], "help") == 0) {
			fputs(usage_run, stdout);
			return EXIT_OK;
		}
		for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].fn(argc - 1, argv + 1);
		}
		fprintf(stderr, "wadesk-sim: unknown command '%s'\n%s", argv[1], usage_run);
		return EXIT_USAGE;
	}
	return cmd_run(argc, argv);
}
