/*
 * mediastore.c — content-addressed files: a temporary file per writer,
 * hashed while it is written, renamed to its digest on commit.
 *
 * Durability follows the usual rename dance: fsync the data, rename into
 * place, fsync the directory that gained the name (and DIR/media too when
 * the two-digit fan-out directory was just created).  rename(2) replaces
 * atomically, so two writers committing the same bytes at once both
 * succeed and leave one file; when the name exists already the commit just
 * drops its temporary file.  A name that exists with the wrong size (a
 * file damaged outside wadesk) is replaced.
 */
#include "mediastore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "util.h"

#define STALE_TMP_SECONDS (24 * 60 * 60)

struct mediastore {
	char *root;              /* DIR/media */
	char *tmp;               /* DIR/media/tmp */
};

struct media_writer {
	struct mediastore *ms;
	char         *path;      /* the temporary file */
	int           fd;
	int64_t       size;
	int64_t       cap;       /* < 0: none */
	int           failed;
	int           over_cap;
	struct sha256 hash;
};

/* mkdir that accepts an existing directory; 1 created, 0 existed, -1 error. */
static int
make_dir(const char *path, char **cause)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 1;
	if (errno != EEXIST) {
		*cause = xasprintf("cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf("cannot use '%s': not a directory", path);
		return -1;
	}
	return 0;
}

static int
sync_dir(const char *path, char **cause)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1) {
		*cause = xasprintf("cannot sync '%s': %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Removes temporary files a crashed writer left behind. */
static void
sweep_tmp(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "dl-", 3) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && now - st.st_mtime > STALE_TMP_SECONDS &&
		    unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_info("removed stale media download %s/%s", tmp, e->d_name);
	}
	closedir(d);
}

struct mediastore *
mediastore_open(const char *dir, char **cause)
{
	struct mediastore *ms = xcalloc(1, sizeof *ms);

	ms->root = xasprintf("%s/media", dir);
	ms->tmp = xasprintf("%s/tmp", ms->root);
	if (make_dir(ms->root, cause) == -1 || make_dir(ms->tmp, cause) == -1) {
		mediastore_free(ms);
		return NULL;
	}
	sweep_tmp(ms->tmp);
	return ms;
}

void
mediastore_free(struct mediastore *ms)
{
	if (ms == NULL)
		return;
	free(ms->root);
	free(ms->tmp);
	free(ms);
}

int
mediastore_valid_hash(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < MEDIASTORE_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

char *
mediastore_path(const struct mediastore *ms, const char *hex)
{
	if (!mediastore_valid_hash(hex))
		return NULL;
	return xasprintf("%s/%.2s/%s", ms->root, hex, hex);
}

int
mediastore_lookup(const struct mediastore *ms, const char *hex, int64_t *size)
{
	char *path = mediastore_path(ms, hex);
	struct stat st;
	int rc = -1;

	if (path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		if (size != NULL)
			*size = st.st_size;
		rc = 0;
	}
	free(path);
	return rc;
}

struct media_writer *
mediastore_begin(struct mediastore *ms, int64_t cap, char **cause)
{
	struct media_writer *w = xcalloc(1, sizeof *w);

	w->ms = ms;
	w->cap = cap;
	w->path = xasprintf("%s/dl-XXXXXX", ms->tmp);
	w->fd = mkostemp(w->path, O_CLOEXEC);
	if (w->fd == -1) {
		*cause = xasprintf("cannot create a file in '%s': %s", ms->tmp,
				   strerror(errno));
		free(w->path);
		free(w);
		return NULL;
	}
	sha256_init(&w->hash);
	return w;
}

int
media_writer_write(struct media_writer *w, const void *p, size_t n, char **cause)
{
	const char *c = p;

	if (w->failed) {
		*cause = xstrdup("cannot write after a failed write");
		return -1;
	}
	if (w->cap >= 0 && (uint64_t)n > (uint64_t)(w->cap - w->size)) {
		w->failed = w->over_cap = 1;
		*cause = xasprintf("file is larger than its cap of %lld bytes",
				   (long long)w->cap);
		return -1;
	}
	while (n > 0) {
		ssize_t k = write(w->fd, c, n);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0) {
			w->failed = 1;
			*cause = xasprintf("cannot write '%s': %s", w->path,
					   k == 0 ? "no progress" : strerror(errno));
			return -1;
		}
		sha256_update(&w->hash, c, (size_t)k);
		w->size += k;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int
media_writer_over_cap(const struct media_writer *w)
{
	return w->over_cap;
}

int64_t
media_writer_size(const struct media_writer *w)
{
	return w->size;
}

const char *
media_writer_path(const struct media_writer *w)
{
	return w->path;
}

/*
 * Frees w, removing its temporary file unless it was renamed into place:
 * once renamed, the name may already belong to another writer's mkostemp().
 */
static void
writer_release(struct media_writer *w, int renamed)
{
	if (w->fd != -1)
		close(w->fd);
	if (!renamed)
		unlink(w->path);
	free(w->path);
	free(w);
}

void
media_writer_abort(struct media_writer *w)
{
	if (w != NULL)
		writer_release(w, 0);
}

int
media_writer_commit(struct media_writer *w, const char *expect,
		    char hex[MEDIASTORE_HEX_LEN + 1], char **cause)
{
	unsigned char digest[SHA256_LEN];
	char *sub = NULL, *final = NULL;
	struct stat st;
	int made, renamed = 0, rc = -1, fd = w->fd;

	if (w->failed) {
		*cause = xstrdup("cannot commit after a failed write");
		goto out;
	}
	w->fd = -1;
	if (fsync(fd) == -1) {
		*cause = xasprintf("cannot sync '%s': %s", w->path, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) == -1) {
		*cause = xasprintf("cannot close '%s': %s", w->path, strerror(errno));
		goto out;
	}
	sha256_final(&w->hash, digest);
	hex_encode(digest, sizeof digest, hex);
	if (expect != NULL && strcmp(expect, hex) != 0) {
		*cause = xasprintf("content does not match its digest (expected %s, got %s)",
				   expect, hex);
		goto out;
	}

	sub = xasprintf("%s/%.2s", w->ms->root, hex);
	final = xasprintf("%s/%s", sub, hex);
	if ((made = make_dir(sub, cause)) == -1)
		goto out;
	if (made == 1 && sync_dir(w->ms->root, cause) == -1)
		goto out;
	if (stat(final, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == w->size) {
		rc = 0;                   /* stored already */
		goto out;
	}
	if (rename(w->path, final) == -1) {
		*cause = xasprintf("cannot rename '%s' to '%s': %s", w->path, final,
				   strerror(errno));
		goto out;
	}
	renamed = 1;
	rc = sync_dir(sub, cause);
out:
	writer_release(w, renamed);
	free(final);
	free(sub);
	return rc;
}

int
mediastore_put(struct mediastore *ms, const void *p, size_t n, int64_t cap,
	       char hex[MEDIASTORE_HEX_LEN + 1], char **cause)
{
	struct media_writer *w = mediastore_begin(ms, cap, cause);

	if (w == NULL)
		return -1;
	if (media_writer_write(w, p, n, cause) == -1) {
		media_writer_abort(w);
		return -1;
	}
	return media_writer_commit(w, NULL, hex, cause);
}
