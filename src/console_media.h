/*
 * console_media.h — the console's media work apart from the network and
 * the screen: where files go (the download directory), saving a cached
 * file under a safe, never-overwriting name, and the checks a file must
 * pass before a byte of it is uploaded (docs/media.md, "Outbound").
 *
 * The TUI (`s`, `o`, `:attach`) and the subcommands (`wadesk save`,
 * `wadesk send --file`) share these; net/xfer moves the bytes.
 */
#ifndef WADESK_CONSOLE_MEDIA_H
#define WADESK_CONSOLE_MEDIA_H

#include <stdint.h>

#include "console_config.h"
#include "console_session.h"
#include "sniff.h"

/*
 * The directory downloads are saved to, created (0700) when missing:
 * $XDG_DOWNLOAD_DIR when set (absolute), else what `xdg-user-dir DOWNLOAD`
 * prints when that is on PATH and names a directory other than $HOME,
 * else ~/Downloads.  xmalloc'd, or NULL with *cause.
 */
char *cmedia_download_dir(char **cause);

/*
 * Copies the file at src into dir under a safe name made from the
 * sender's name (filename_safe(), then sniff_fix_name() with mime), never
 * overwriting: "name.pdf", "name (2).pdf", ... created with O_EXCL.  0
 * with *saved (the path, xmalloc'd), or -1 with *cause; a partial copy
 * is removed.
 */
int cmedia_save(const char *src, const char *dir, const char *name, const char *mime,
                char **saved, char **cause);

/* The name to save a message's media under: the sender's name, or for
 * media sent without one (WhatsApp images, audio, video) "KIND-MSGID"
 * ("image-42"; cmedia_save() adds the extension).  xmalloc'd. */
char *cmedia_save_name(const char *name, const char *mime, const char *type, const char *id);

/* What the console knows about a file it is about to send. */
struct cmedia_out {
	const char *mime;       /* the whitelist entry's type (static) */
	int64_t     size;
	char       *filename;   /* the path's base name (xmalloc'd) */
};

/*
 * Every check before an upload, in order: the file's real type
 * (sniff_file() with the claim from its name: "media.type"), its size for
 * that type ("media.size"), then what the send becomes (decide_send()
 * with SEND_MEDIA for phone: "media.session_only", "sandbox.text_only",
 * ...).  0 with *out filled (release with cmedia_out_release()); -1 with
 * *code the stable code (NULL when the file cannot be read) and *why an
 * xmalloc'd sentence naming the file.
 */
int cmedia_prepare(struct sniff *sn, const char *path, const char *caption, struct session *s,
                   const char *phone, int64_t now, struct cmedia_out *out, const char **code,
                   char **why);
void cmedia_out_release(struct cmedia_out *out);

/* 1 when prog is an executable file in a $PATH directory. */
int cmedia_on_path(const char *prog);

/* "http://HOST:PORT" (https for a wss link; IPv6 hosts bracketed) for
 * the hub's HTTP endpoints (xmalloc'd). */
char *cmedia_base_url(const struct link *l);

#endif
