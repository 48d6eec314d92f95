/*
 * filename.c — safe names and free paths for saved media.
 *
 * Design.  A name is cleaned in stages, each simple on its own: cut the
 * directory part on the raw bytes (as the file system would read them),
 * sanitise as one line of text (sanitize.c does UTF-8 validity, controls
 * and bidi), map the characters other systems reserve, trim dots and
 * spaces at both ends, then cap the length keeping the extension.  Free
 * paths are found by walking "NAME", "STEM (2).EXT", ... with one function
 * that builds candidate k, used by both the lstat() probe and the O_EXCL
 * creator.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filename.h"
#include "sanitize.h"
#include "util.h"

#define EXT_MAX  32      /* longest extension kept when cutting a name */
#define TRIES    9999

static const char unsafe[] = "<>:\"|?*";

static int
trimmed(char c)
{
	return c == '.' || c == ' ';
}

/* Start of the extension (the last '.', not the first byte), or len. */
static size_t
ext_start(const char *s, size_t len)
{
	const char *dot = memrchr(s, '.', len);
	return dot && dot != s ? (size_t)(dot - s) : len;
}

char *
filename_safe(const char *name)
{
	const char *base = name ? name : "";
	char *s;
	size_t a = 0, b;

	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	s = text_sanitize_line(base, strlen(base));
	for (char *p = s; *p; p++)
		if (strchr(unsafe, *p))
			*p = '_';
	b = strlen(s);
	while (a < b && trimmed(s[a]))
		a++;
	while (b > a && trimmed(s[b - 1]))
		b--;
	memmove(s, s + a, b - a);
	b -= a;
	s[b] = 0;
	if (b == 0) {
		free(s);
		return xstrdup("file");
	}
	if (b > FILENAME_MAX_BYTES) {
		size_t e = ext_start(s, b), elen = b - e, keep;
		if (elen > EXT_MAX)
			elen = 0;
		keep = FILENAME_MAX_BYTES - elen;
		while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
			keep--;
		if (elen == 0)   /* the cut is the new end: trim it as above */
			while (keep > 0 && trimmed(s[keep - 1]))
				keep--;
		memmove(s + keep, s + b - elen, elen);
		s[keep + elen] = 0;
	}
	return s;
}

/* Candidate k (1: the name itself) for safe_name in dir. */
static char *
candidate(const char *dir, const char *name, unsigned k)
{
	size_t dlen = strlen(dir);
	const char *sep = dlen && dir[dlen - 1] == '/' ? "" : "/";
	size_t e = ext_start(name, strlen(name));

	if (dlen == 0) {
		dir = ".";
		sep = "/";
	}
	if (k == 1)
		return xasprintf("%s%s%s", dir, sep, name);
	return xasprintf("%s%s%.*s (%u)%s", dir, sep, (int)e, name, k, name + e);
}

char *
filename_unique(const char *dir, const char *safe_name)
{
	struct stat st;

	if (stat(dir[0] ? dir : ".", &st) == -1)
		return NULL;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return NULL;
	}
	for (unsigned k = 1; k <= TRIES; k++) {
		char *path = candidate(dir, safe_name, k);
		if (lstat(path, &st) == -1) {
			if (errno == ENOENT)
				return path;
			free(path);
			return NULL;
		}
		free(path);
	}
	errno = EEXIST;
	return NULL;
}

int
filename_open(const char *dir, const char *safe_name, char **path)
{
	*path = NULL;
	for (unsigned k = 1; k <= TRIES; k++) {
		char *p = candidate(dir, safe_name, k);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd != -1) {
			*path = p;
			return fd;
		}
		free(p);
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}
