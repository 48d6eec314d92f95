/*
 * console_media.c — saving media and checking files before an upload
 * (see console_media.h).
 *
 * A saved file's name comes from a customer, so it is never used as it
 * is: filename_safe() keeps only a base name without leading dots or
 * control characters, sniff_fix_name() makes its extension say what the
 * content really is, and filename_open() creates it with O_EXCL|O_NOFOLLOW,
 * trying "name (2).ext", "name (3).ext"... so nothing is overwritten and
 * no symlink planted in the directory is followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console.h"
#include "console_media.h"
#include "filename.h"
#include "media.h"
#include "util.h"

/* `xdg-user-dir DOWNLOAD`, or NULL when it is missing or says only $HOME
 * (its answer when no download directory is configured). */
static char *
xdg_user_dir(void)
{
	FILE *p = popen("xdg-user-dir DOWNLOAD 2>/dev/null", "r");
	if (p == NULL)
		return NULL;
	char line[4096];
	char *r = NULL;
	if (fgets(line, sizeof line, p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		const char *home = getenv("HOME");
		if (line[0] == '/' && (home == NULL || strcmp(line, home) != 0))
			r = xstrdup(line);
	}
	pclose(p);
	return r;
}

int
cmedia_on_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (path == NULL)
		return 0;
	char *dup = xstrdup(path), *save = NULL;
	int found = 0;
	for (char *d = strtok_r(dup, ":", &save); d != NULL && !found; d = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/%s", *d ? d : ".", prog);
		found = access(f, X_OK) == 0;
		free(f);
	}
	free(dup);
	return found;
}

char *
cmedia_download_dir(char **cause)
{
	const char *env = getenv("XDG_DOWNLOAD_DIR");
	char *dir = NULL;
	if (env != NULL && env[0] == '/')
		dir = xstrdup(env);
	if (dir == NULL && cmedia_on_path("xdg-user-dir"))
		dir = xdg_user_dir();
	if (dir == NULL) {
		const char *home = getenv("HOME");
		dir = xasprintf("%s/Downloads", home != NULL ? home : ".");
	}
	if (console_mkdirs(dir, cause) != 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

int
cmedia_save(const char *src, const char *dir, const char *name, const char *mime,
    char **saved, char **cause)
{
	*saved = NULL;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		*cause = xasprintf("cannot open '%s': %s", src, strerror(errno));
		return -1;
	}
	char *safe = filename_safe(name);
	char *fixed = sniff_fix_name(safe, mime);
	free(safe);
	char *path = NULL;
	int out = filename_open(dir, fixed, &path);
	if (out < 0) {
		*cause = xasprintf("cannot create '%s' in '%s': %s", fixed, dir, strerror(errno));
		free(fixed);
		close(in);
		return -1;
	}
	free(fixed);
	char chunk[65536];
	ssize_t k;
	int err = 0;
	while ((k = read(in, chunk, sizeof chunk)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		for (ssize_t off = 0; off < k;) {
			ssize_t w = write(out, chunk + off, (size_t)(k - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				err = errno;
				break;
			}
			off += w;
		}
		if (err != 0)
			break;
	}
	if (close(out) != 0 && err == 0)
		err = errno;
	close(in);
	if (err != 0) {
		*cause = xasprintf("cannot write '%s': %s", path, strerror(err));
		unlink(path);
		free(path);
		return -1;
	}
	*saved = path;
	return 0;
}

char *
cmedia_save_name(const char *name, const char *mime, const char *type, const char *id)
{
	if (name != NULL && *name != '\0')
		return xstrdup(name);
	return xasprintf("%s-%s", console_media_kind(mime, type), id != NULL ? id : "0");
}

int
cmedia_prepare(struct sniff *sn, const char *path, const char *caption, struct session *s,
    const char *phone, int64_t now, struct cmedia_out *out, const char **code, char **why)
{
	memset(out, 0, sizeof *out);
	*code = NULL;
	*why = NULL;
	struct sniff_result r;
	memset(&r, 0, sizeof r);
	if (sniff_file(sn, path, sniff_claim_from_name(path), &r) != 0) {
		*code = r.code;
		*why = r.code != NULL ? xasprintf("'%s' %s", path, r.why) : xstrdup(r.why);
		sniff_result_release(&r);
		return -1;
	}
	const char *mcode, *mwhy;
	if (media_check(r.type->mime, r.size, &mcode, &mwhy) != 0) {
		char a[16], b[16];
		*code = mcode;
		*why = strcmp(mcode, "media.size") == 0 ?
		    xasprintf("'%s' is %s: %s (at most %s for %s)", path, console_human_size(r.size, a),
		        mwhy, console_human_size(media_cap(r.type->category), b),
		        media_category_name(r.type->category)) :
		    xasprintf("'%s': %s", path, mwhy);
		sniff_result_release(&r);
		return -1;
	}
	struct send_decision d;
	session_decide_kind(s, phone, SEND_MEDIA, caption, r.type->mime, now, &d);
	if (d.result == SEND_REFUSED) {
		*code = d.code;
		*why = xstrdup(d.reason);
		decision_release(&d);
		sniff_result_release(&r);
		return -1;
	}
	decision_release(&d);
	out->mime = r.type->mime;
	out->size = r.size;
	const char *base = strrchr(path, '/');
	out->filename = xstrdup(base != NULL ? base + 1 : path);
	sniff_result_release(&r);
	return 0;
}

void
cmedia_out_release(struct cmedia_out *out)
{
	free(out->filename);
	memset(out, 0, sizeof *out);
}

char *
cmedia_base_url(const struct link *l)
{
	int v6 = strchr(l->host, ':') != NULL && l->host[0] != '[';
	return xasprintf("%s://%s%s%s:%d", l->tls ? "https" : "http", v6 ? "[" : "", l->host,
	    v6 ? "]" : "", l->port);
}
