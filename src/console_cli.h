/*
 * console_cli.h — the scriptable subcommands of wadesk (no curses): chats,
 * history, send, tail, tag, untag, note, name, brb, canned, access.  Each
 * connects, brings the cache up to date with the hub (so it reads what the
 * hub has now), does one thing and exits:
 *   0 done; 1 refused by a rule ("wadesk: refused (CODE): SENTENCE" on
 *   stderr); 2 usage; 3 cannot reach the hub or bad link.
 */
#ifndef WADESK_CONSOLE_CLI_H
#define WADESK_CONSOLE_CLI_H

enum { EXIT_DONE = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_HUB = 3 };

/* Runs subcommand argv[0] with its arguments (global options already
 * removed) on link as agent name.  Returns the exit status; -1 when
 * argv[0] is not a subcommand. */
int cli_run(int argc, char **argv, const char *link, const char *name);
/* One usage line per subcommand, for --help. */
void cli_usage(void);

#endif
