/*
 * main_wadesk.c — the wadesk console: option parsing and dispatch.
 *
 *   wadesk                       the console on the last link used
 *   wadesk connect LINK [--name NAME]
 *   wadesk demo                  a private hub + sandbox + console
 *   wadesk SUBCOMMAND ...        scriptable, no curses (console_cli.c)
 *
 * --link LINK and --name NAME are accepted anywhere before "--" (and
 * WADESK_LINK in the environment); without them the config's last link
 * and name are used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console_cli.h"
#include "console_config.h"
#include "console_demo.h"
#include "ui/tui.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: wadesk [--link LINK] [--name NAME]          the console (last link used)\n"
	    "       wadesk connect LINK [--name NAME]           remember LINK and open the console\n"
	    "       wadesk demo                                 a private demo hub with simulated customers\n");
	cli_usage();
	fprintf(stderr, "exit status: 0 done, 1 refused by a rule, 2 usage, 3 cannot reach the hub or bad link\n");
}

/* Removes --link/--name (and -v) from argv wherever they are. */
static int
global_options(int *argc, char **argv, char **link, char **name)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		char **slot = NULL;
		const char *val = NULL;
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--link") == 0 || strcmp(argv[i], "--name") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "wadesk: %s needs a value\n", argv[i]);
				return -1;
			}
			slot = argv[i][2] == 'l' ? link : name;
			val = argv[++i];
		} else if (strncmp(argv[i], "--link=", 7) == 0) {
			slot = link;
			val = argv[i] + 7;
		} else if (strncmp(argv[i], "--name=", 7) == 0) {
			slot = name;
			val = argv[i] + 7;
		} else if (strcmp(argv[i], "-v") == 0 && out == 1) {
			log_level++;
			continue;
		}
		if (slot != NULL) {
			free(*slot);
			*slot = xstrdup(val);
			continue;
		}
		argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

static int
console(const char *link, const char *name, int remember)
{
	struct tui_opts o = { NULL, remember, console_signals(), console_signal_quit };
	if (!isatty(0) || !isatty(1)) {
		fprintf(stderr, "wadesk: the console needs a terminal (subcommands do not: wadesk --help)\n");
		return 2;
	}
	return tui_main(link, name, &o);
}

int
main(int argc, char **argv)
{
	log_init("wadesk");
	char *link = NULL, *name = NULL;
	int code;
	if (global_options(&argc, argv, &link, &name) != 0) {
		usage();
		return 2;
	}
	struct console_config cfg;
	char *cause = NULL;
	if (console_config_load(&cfg, &cause) != 0) {
		fprintf(stderr, "wadesk: %s\n", cause);
		free(cause);
		memset(&cfg, 0, sizeof cfg);
	}
	if (link == NULL && getenv("WADESK_LINK") != NULL && *getenv("WADESK_LINK") != '\0')
		link = xstrdup(getenv("WADESK_LINK"));
	if (name == NULL && cfg.name != NULL)
		name = xstrdup(cfg.name);
	const char *cmd = argc > 1 ? argv[1] : NULL;
	if (cmd != NULL && (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0)) {
		usage();
		code = 0;
	} else if (cmd != NULL && strcmp(cmd, "--version") == 0) {
		printf("wadesk %s\n", WADESK_VERSION);
		code = 0;
	} else if (cmd != NULL && strcmp(cmd, "demo") == 0) {
		code = argc == 2 ? demo_run(argv[0]) : (usage(), 2);
	} else if (cmd != NULL && strcmp(cmd, "connect") == 0) {
		struct link l;
		const char *why;
		if (argc != 3) {
			fprintf(stderr, "usage: wadesk connect LINK [--name NAME]\n");
			code = 2;
		} else if (link_parse(argv[2], &l, &why) != 0) {
			fprintf(stderr, "wadesk: bad link: %s\n", why);
			code = 3;
		} else {
			link_release(&l);
			free(cfg.link);
			cfg.link = xstrdup(argv[2]);
			if (name != NULL) {
				free(cfg.name);
				cfg.name = xstrdup(name);
			}
			free(cfg.hub_id);
			cfg.hub_id = NULL;
			if (console_config_save(&cfg, &cause) != 0) {
				fprintf(stderr, "wadesk: %s\n", cause);
				free(cause);
			}
			code = console(argv[2], name, 1);
		}
	} else {
		const char *use = link != NULL ? link : cfg.link;
		if (cmd == NULL) {
			if (use == NULL) {
				fprintf(stderr, "wadesk: no link yet: 'wadesk connect LINK --name NAME', "
				    "or try 'wadesk demo'\n");
				code = 3;
			} else
				code = console(use, name, link == NULL);
		} else {
			code = cli_run(argc - 1, argv + 1, use, name);
			if (code == -1) {
				fprintf(stderr, "wadesk: unknown command '%s'\n", cmd);
				usage();
				code = 2;
			}
		}
	}
	console_config_release(&cfg);
	free(link);
	free(name);
	return code;
}
