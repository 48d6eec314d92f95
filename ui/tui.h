/*
 * tui.h — the curses console.  ui/ is the only code that includes curses;
 * everything it shows comes from the UI model (src/console.h), the cache
 * and the session, so this layer only paints and reads keys.
 */
#ifndef WADESK_UI_TUI_H
#define WADESK_UI_TUI_H

struct tui_opts {
	const char *demo;       /* non-NULL: the first screen's demo notice */
	int         remember;   /* save link and name in the config */
	int         sigfd;      /* read end of the signal self-pipe, -1 none */
	/* Called when sigfd has a byte: returns 1 to quit (with *why set). */
	int       (*on_signal)(int sig, const char **why);
};

/* Runs the console on link as agent name until the user quits.
 * Returns the process exit status (0, or 3 when the link is bad). */
int tui_main(const char *link, const char *name, const struct tui_opts *o);

#endif
