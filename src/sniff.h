/*
 * sniff.h — a file's real type, found from its content with libmagic and
 * mapped onto the MIME whitelist of media.h.
 *
 * Neither the sender's declared type nor the file name decides what a file
 * is: a renamed executable stays an executable.  The declared type (the
 * "claim") only picks between names of the same kind (image/jpg for
 * image/jpeg, text/csv for a text file, ...) and names what the file
 * pretended to be in a refusal:
 *
 *	is an ELF executable (application/x-pie-executable), not a PDF
 *
 * libmagic's answer is mapped onto the whitelist by a table in sniff.c
 * (audio/mpeg -> audio/mpeg3, video/x-m4v -> video/mp4, the text/x-*
 * language guesses -> text/plain, ...; docs/media.md lists it).  Sizes are
 * not checked here: call media_check() with the entry and the size.
 *
 * A struct sniff holds libmagic's database, loaded once by sniff_new().  It
 * is not thread-safe (libmagic cookies are not): one per thread.
 */
#ifndef WADESK_SNIFF_H
#define WADESK_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "media.h"

struct sniff;

struct sniff_result {
	const struct media_type *type;  /* the whitelist entry; NULL unless accepted */
	const char *code;               /* on -1: "media.type" for a refusal, NULL for an error */
	char       *why;                /* on -1: xmalloc'd sentence (refusal or error) */
	char        mime[80];           /* libmagic's own answer ("" if it gave none) */
	int64_t     size;               /* sniff_file(): the file's size in bytes */
};

/*
 * Opens libmagic with the system's default database.  NULL with *cause
 * (xmalloc'd) when the database cannot be loaded.  Free with sniff_free().
 */
struct sniff *sniff_new(char **cause);
void sniff_free(struct sniff *s);

/*
 * Sniffs n bytes at p.  claim is the declared MIME type or NULL (parameters
 * like "; charset=" are ignored).  0 when the content is whitelisted:
 * r->type is set (the claim's entry when it names the same kind, else the
 * sniffed one).  -1 otherwise: r->code "media.type" and r->why the
 * refusal, or r->code NULL and r->why an error from libmagic.  r->mime is
 * filled whenever libmagic answered.  Release r with sniff_result_release().
 */
int sniff_buffer(struct sniff *s, const void *p, size_t n, const char *claim,
		 struct sniff_result *r);
/*
 * As sniff_buffer() for the file at path (followed if a symlink; it must be
 * a regular file).  r->size gets its size.  An unreadable file gives -1 with
 * r->code NULL and r->why "cannot open 'PATH': REASON".
 */
int sniff_file(struct sniff *s, const char *path, const char *claim,
	       struct sniff_result *r);
/* Frees r->why; r can be reused. */
void sniff_result_release(struct sniff_result *r);

/*
 * The whitelisted MIME type that a file name's extension stands for
 * (".pdf" -> "application/pdf", case ignored), or NULL.  For a claim when
 * only a path is known (`:attach PATH`, `wadesk send --file`).
 */
const char *sniff_claim_from_name(const char *name);

/*
 * name (a safe base name: run filename_safe() first) with the usual
 * extension of the whitelisted type mime appended when its own extension
 * names another kind or is missing, so that a program picking an opener by
 * extension opens what the file really is: ("invoice.exe",
 * "application/pdf") -> "invoice.exe.pdf", ("photo.jpeg", "image/jpg") ->
 * "photo.jpeg", ("report", "application/pdf") -> "report.pdf".  A mime not
 * on the whitelist leaves name as it is.  xmalloc'd.
 */
char *sniff_fix_name(const char *name, const char *mime);

/*
 * What a MIME type is, in words, for messages: "a PDF", "an ELF
 * executable", ...; NULL when the type is not in sniff.c's tables.
 */
const char *sniff_noun(const char *mime);

#endif
