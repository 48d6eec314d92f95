/*
 * filename.h — safe local names for files whose names come from outside
 * (a customer's attachment, a provider's payload), and a free path to save
 * them under without overwriting anything.
 */
#ifndef WADESK_FILENAME_H
#define WADESK_FILENAME_H

#define FILENAME_MAX_BYTES 200   /* leaves room for " (9999)" under NAME_MAX */

/*
 * Safe local file name from an untrusted one (NULL allowed):
 *  - only what follows the last '/' or '\' is kept ("../../.bashrc" and
 *    "C:\dir\x.pdf" lose their directories);
 *  - the name is sanitised as one line of text (sanitize.h): invalid UTF-8
 *    becomes U+FFFD, control characters and bidi controls are dropped (so
 *    "invoice<RLO>fdp.exe" cannot pose as a PDF), tabs and newlines become
 *    spaces;
 *  - characters unsafe in file names on common systems, < > : " | ? *,
 *    become '_';
 *  - leading dots and spaces are removed (no hidden files, no "." or ".."),
 *    and so are trailing dots and spaces;
 *  - an empty result becomes "file";
 *  - over FILENAME_MAX_BYTES bytes, the name is cut on a UTF-8 character
 *    boundary, keeping the extension (the part from the last '.', when it
 *    is at most 32 bytes).
 * The result is valid UTF-8, non-empty, at most FILENAME_MAX_BYTES bytes,
 * without '/', and does not start with '.'.  Returns an xmalloc'd string.
 */
char *filename_safe(const char *name);

/*
 * First path that does not exist (lstat(2): a dangling symlink counts as
 * existing) among DIR/NAME, DIR/STEM (2).EXT, DIR/STEM (3).EXT, ... where
 * EXT is the part of safe_name from its last '.' (none when the name has
 * no dot).  A trailing '/' on dir is not doubled.  Returns an xmalloc'd
 * path, or NULL with errno set when dir is not a directory one can stat,
 * lstat fails for a reason other than ENOENT, or names up to (9999) are
 * all taken.
 * Racy by nature: another process may create the path before the caller
 * does, so callers that write should use filename_open() instead.
 */
char *filename_unique(const char *dir, const char *safe_name);

/*
 * As filename_unique(), race-free: creates the file with
 * open(O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0666 & ~umask) and
 * moves to the next candidate on EEXIST.  Returns the open descriptor and
 * sets *path (xmalloc'd, caller frees; caller unlinks it if writing fails),
 * or -1 with errno set and *path NULL.
 */
int filename_open(const char *dir, const char *safe_name, char **path);

#endif
