/*
 * sniff.c — libmagic's answer mapped onto the whitelist, by tables.
 *
 * One libmagic cookie answers MIME types (MAGIC_MIME_TYPE); a second one,
 * opened only when a refusal needs it, answers the human description used
 * when no noun is known for a type ("Ogg data").  Decompression is never
 * enabled (MAGIC_COMPRESS is off), so a sniff reads at most libmagic's
 * bytes_max of the file and nothing is inflated.
 *
 * The mapping, in order:
 *   1. libmagic's type is on the whitelist: that type.
 *   2. alias_table: libmagic's name for something the whitelist names
 *      differently (audio/mpeg is the whitelist's audio/mpeg3).  A row
 *      marked claim_only applies only when the sender claimed that kind
 *      (a bare OLE compound document is an Excel file only if it says so).
 *   3. any other text/ type is libmagic guessing the language of a text
 *      file (text/x-c for a note with braces) and becomes text/plain,
 *      except the active formats of text_deny_table (HTML, RTF, scripts).
 *   4. anything else is refused with "media.type".
 * Then, when the claim is on the whitelist and of the same kind (kind_table:
 * text files, JPEG, MP3, MPEG video, Excel), the claim's own entry is the
 * answer, so image/jpg stays image/jpg and a one-column CSV whose content
 * libmagic cannot tell from plain text stays text/csv.
 */
#include "sniff.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct sniff {
	magic_t mime;            /* MAGIC_MIME_TYPE */
	magic_t desc;            /* descriptions, opened on first refusal */
};

/* Kinds of whitelisted file: names of one kind are interchangeable. */
enum kind { K_TEXT = 1, K_EXCEL, K_PDF, K_PNG, K_JPEG, K_GIF, K_MP3, K_MPEG, K_MOV, K_MP4 };

static const struct {
	const char *mime;
	enum kind   kind;
	const char *noun;
	const char *ext;         /* the usual extension, for sniff_fix_name() */
} kind_table[] = {
	{ "text/plain",                  K_TEXT,  "a text file",          "txt" },
	{ "text/csv",                    K_TEXT,  "a CSV file",           "csv" },
	{ "text/comma-separated-values", K_TEXT,  "a CSV file",           "csv" },
	{ "application/csv",             K_TEXT,  "a CSV file",           "csv" },
	{ "application/vnd.ms-excel",    K_EXCEL, "an Excel spreadsheet", "xls" },
	{ "application/pdf",             K_PDF,   "a PDF",                "pdf" },
	{ "image/png",                   K_PNG,   "a PNG image",          "png" },
	{ "image/jpeg",                  K_JPEG,  "a JPEG image",         "jpg" },
	{ "image/jpg",                   K_JPEG,  "a JPEG image",         "jpg" },
	{ "image/gif",                   K_GIF,   "a GIF image",          "gif" },
	{ "audio/mpeg3",                 K_MP3,   "an MP3 audio file",    "mp3" },
	{ "audio/x-mpeg-3",              K_MP3,   "an MP3 audio file",    "mp3" },
	{ "video/mpeg",                  K_MPEG,  "an MPEG video",        "mpg" },
	{ "video/x-mpeg",                K_MPEG,  "an MPEG video",        "mpg" },
	{ "video/quicktime",             K_MOV,   "a QuickTime video",    "mov" },
	{ "video/mp4",                   K_MP4,   "an MP4 video",         "mp4" },
};

/* libmagic 5.44's names for whitelisted content. */
static const struct {
	const char *from;
	const char *to;
	int         claim_only;
} alias_table[] = {
	{ "audio/mpeg",                "audio/mpeg3",              0 },
	{ "video/x-m4v",               "video/mp4",                0 },
	{ "application/json",          "text/plain",               0 },
	{ "application/x-ndjson",      "text/plain",               0 },
	{ "application/x-ole-storage", "application/vnd.ms-excel", 1 },
	{ "application/CDFV2",         "application/vnd.ms-excel", 1 },
};

/* text/ types that are not plain text to whoever opens them. */
static const struct {
	const char *mime;
	int         prefix;
} text_deny_table[] = {
	{ "text/html",          0 },
	{ "text/rtf",           0 },
	{ "text/x-msdos-batch", 0 },
	{ "text/x-shellscript", 0 },
	{ "text/x-script.",     1 },
	{ "text/x-perl",        0 },
	{ "text/x-php",         0 },
	{ "text/x-ruby",        0 },
	{ "text/x-tcl",         0 },
	{ "text/x-awk",         0 },
	{ "text/x-lisp",        0 },
};

/* Nouns for what is refused; the rest fall back on libmagic's description. */
static const struct {
	const char *mime;
	const char *noun;
} noun_table[] = {
	{ "application/x-executable",     "an ELF executable" },
	{ "application/x-pie-executable", "an ELF executable" },
	{ "application/x-sharedlib",      "an ELF shared library" },
	{ "application/x-object",         "an ELF object file" },
	{ "application/x-coredump",       "a core dump" },
	{ "application/x-dosexec",        "a Windows executable" },
	{ "application/x-mach-binary",    "a macOS executable" },
	{ "application/x-msi",            "a Windows installer" },
	{ "application/vnd.android.package-archive", "an Android package" },
	{ "application/java-archive",     "a Java archive" },
	{ "application/zip",              "a ZIP archive" },
	{ "application/gzip",             "a gzip archive" },
	{ "application/x-xz",             "an xz archive" },
	{ "application/x-bzip2",          "a bzip2 archive" },
	{ "application/x-7z-compressed",  "a 7-Zip archive" },
	{ "application/x-rar",            "a RAR archive" },
	{ "application/vnd.rar",          "a RAR archive" },
	{ "application/x-tar",            "a tar archive" },
	{ "application/x-iso9660-image",  "a disk image" },
	{ "application/msword",           "a Word document" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a Word document" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "an Excel workbook (xlsx)" },
	{ "application/vnd.openxmlformats-officedocument.presentationml.presentation", "a PowerPoint presentation" },
	{ "application/vnd.ms-powerpoint", "a PowerPoint presentation" },
	{ "application/vnd.oasis.opendocument.text", "an OpenDocument text" },
	{ "application/vnd.oasis.opendocument.spreadsheet", "an OpenDocument spreadsheet" },
	{ "application/x-ole-storage",    "an OLE compound document" },
	{ "application/CDFV2",            "an OLE compound document" },
	{ "application/postscript",       "a PostScript file" },
	{ "application/x-sqlite3",        "an SQLite database" },
	{ "application/octet-stream",     NULL },   /* say what libmagic saw */
	{ "image/webp",                   "a WebP image" },
	{ "image/svg+xml",                "an SVG image" },
	{ "image/bmp",                    "a BMP image" },
	{ "image/x-ms-bmp",               "a BMP image" },
	{ "image/tiff",                   "a TIFF image" },
	{ "image/heic",                   "a HEIC image" },
	{ "image/heif",                   "a HEIF image" },
	{ "image/avif",                   "an AVIF image" },
	{ "image/vnd.microsoft.icon",     "an icon" },
	{ "audio/ogg",                    "an Ogg audio file" },
	{ "audio/x-wav",                  "a WAV audio file" },
	{ "audio/flac",                   "a FLAC audio file" },
	{ "audio/x-m4a",                  "an M4A audio file" },
	{ "audio/aac",                    "an AAC audio file" },
	{ "audio/amr",                    "an AMR audio file" },
	{ "video/3gpp",                   "a 3GPP video" },
	{ "video/webm",                   "a WebM video" },
	{ "video/x-matroska",             "a Matroska video" },
	{ "video/x-msvideo",              "an AVI video" },
	{ "text/html",                    "an HTML document" },
	{ "text/rtf",                     "an RTF document" },
	{ "text/x-msdos-batch",           "a DOS batch file" },
	{ "text/x-shellscript",           "a shell script" },
	{ "inode/x-empty",                "an empty file" },
	{ "application/x-empty",          "an empty file" },
};

static const struct {
	const char *ext;
	const char *mime;
} ext_table[] = {
	{ "txt", "text/plain" }, { "text", "text/plain" }, { "log", "text/plain" },
	{ "csv", "text/csv" }, { "xls", "application/vnd.ms-excel" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "jpe", "image/jpeg" }, { "gif", "image/gif" },
	{ "mp3", "audio/mpeg3" },
	{ "mpg", "video/mpeg" }, { "mpeg", "video/mpeg" }, { "mpe", "video/mpeg" },
	{ "mov", "video/quicktime" }, { "qt", "video/quicktime" },
	{ "mp4", "video/mp4" }, { "m4v", "video/mp4" },
};

/* Length of mime without parameters and trailing blanks. */
static size_t
mime_len(const char *mime)
{
	size_t n = strcspn(mime, ";");
	while (n > 0 && (mime[n - 1] == ' ' || mime[n - 1] == '\t'))
		n--;
	return n;
}

static int
mime_is(const char *mime, const char *name)
{
	size_t n = mime_len(mime);
	return strlen(name) == n && strncasecmp(mime, name, n) == 0;
}

static enum kind
kind_of(const char *mime)
{
	if (mime == NULL)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(kind_table); i++)
		if (mime_is(mime, kind_table[i].mime))
			return kind_table[i].kind;
	return 0;
}

const char *
sniff_noun(const char *mime)
{
	if (mime == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(kind_table); i++)
		if (mime_is(mime, kind_table[i].mime))
			return kind_table[i].noun;
	for (size_t i = 0; i < ARRAY_LEN(noun_table); i++)
		if (mime_is(mime, noun_table[i].mime))
			return noun_table[i].noun;
	return NULL;
}

const char *
sniff_claim_from_name(const char *name)
{
	const char *dot, *base;

	if (name == NULL)
		return NULL;
	base = strrchr(name, '/');
	base = base != NULL ? base + 1 : name;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(ext_table); i++)
		if (strcasecmp(dot + 1, ext_table[i].ext) == 0)
			return ext_table[i].mime;
	return NULL;
}

char *
sniff_fix_name(const char *name, const char *mime)
{
	const char *ext = NULL;

	for (size_t i = 0; i < ARRAY_LEN(kind_table); i++)
		if (mime != NULL && mime_is(mime, kind_table[i].mime))
			ext = kind_table[i].ext;
	if (ext == NULL || kind_of(sniff_claim_from_name(name)) == kind_of(mime))
		return xstrdup(name);
	return xasprintf("%s.%s", name, ext);
}

static int
text_denied(const char *mime)
{
	for (size_t i = 0; i < ARRAY_LEN(text_deny_table); i++) {
		const char *d = text_deny_table[i].mime;
		if (text_deny_table[i].prefix ? strncasecmp(mime, d, strlen(d)) == 0
					      : mime_is(mime, d))
			return 1;
	}
	return 0;
}

/* Steps 1-3 of the mapping: the whitelisted name for libmagic's type, or NULL. */
static const char *
map_magic(const char *mime, const char *claim)
{
	const struct media_type *t = media_lookup(mime);

	if (t != NULL)
		return t->mime;
	for (size_t i = 0; i < ARRAY_LEN(alias_table); i++) {
		if (!mime_is(mime, alias_table[i].from))
			continue;
		if (alias_table[i].claim_only &&
		    kind_of(claim) != kind_of(alias_table[i].to))
			return NULL;
		return alias_table[i].to;
	}
	if (strncasecmp(mime, "text/", 5) == 0 && !text_denied(mime))
		return "text/plain";
	return NULL;
}

struct sniff *
sniff_new(char **cause)
{
	struct sniff *s = xcalloc(1, sizeof *s);

	s->mime = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (s->mime == NULL) {
		*cause = xasprintf("cannot open libmagic: %s", strerror(errno));
		goto fail;
	}
	if (magic_load(s->mime, NULL) == -1) {
		const char *e = magic_error(s->mime);
		*cause = xasprintf("cannot load libmagic's database: %s",
				   e != NULL ? e : "unknown error");
		goto fail;
	}
	return s;
fail:
	sniff_free(s);
	return NULL;
}

void
sniff_free(struct sniff *s)
{
	if (s == NULL)
		return;
	if (s->mime != NULL)
		magic_close(s->mime);
	if (s->desc != NULL)
		magic_close(s->desc);
	free(s);
}

void
sniff_result_release(struct sniff_result *r)
{
	free(r->why);
	r->why = NULL;
}

static void
result_init(struct sniff_result *r)
{
	r->type = NULL;
	r->code = NULL;
	r->why = NULL;
	r->mime[0] = '\0';
	r->size = -1;
}

/*
 * libmagic's description, cut at the first comma and kept to printable
 * ASCII (descriptions can quote the file's own bytes), into out.  "" when
 * none.  Exactly one of (p, n) or fd is used.
 */
static void
describe(struct sniff *s, const void *p, size_t n, int fd, char *out, size_t outsz)
{
	const char *d = NULL;
	size_t o = 0;

	out[0] = '\0';
	if (s->desc == NULL) {
		s->desc = magic_open(MAGIC_ERROR);
		if (s->desc != NULL && magic_load(s->desc, NULL) == -1) {
			magic_close(s->desc);
			s->desc = NULL;
		}
		if (s->desc == NULL)
			return;
	}
	if (fd >= 0) {
		if (lseek(fd, 0, SEEK_SET) == 0)
			d = magic_descriptor(s->desc, fd);
	} else {
		d = magic_buffer(s->desc, p, n);
	}
	if (d == NULL)
		return;
	for (; *d != '\0' && *d != ',' && o + 1 < outsz && o < 60; d++)
		if (*d >= 0x20 && *d < 0x7f)
			out[o++] = *d;
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	if (strcmp(out, "data") == 0)
		out[0] = '\0';
}

/* The answer for libmagic's r->mime: accept, or a refusal sentence. */
static int
decide(struct sniff *s, const void *p, size_t n, int fd, const char *claim,
       struct sniff_result *r)
{
	const char *mapped = map_magic(r->mime, claim), *noun, *claim_noun;
	char desc[64];

	if (mapped != NULL) {
		enum kind k = kind_of(mapped);
		r->type = media_lookup(mapped);
		if (claim != NULL && k != 0 && kind_of(claim) == k &&
		    media_lookup(claim) != NULL)
			r->type = media_lookup(claim);
		return 0;
	}

	noun = sniff_noun(r->mime);
	if (noun == NULL) {
		describe(s, p, n, fd, desc, sizeof desc);
		noun = desc[0] != '\0' ? desc : "unrecognised data";
	}
	claim_noun = claim != NULL && media_lookup(claim) != NULL ? sniff_noun(claim) : NULL;
	r->code = "media.type";
	if (claim_noun != NULL)
		r->why = xasprintf("is %s (%s), not %s", noun, r->mime, claim_noun);
	else
		r->why = xasprintf("is %s (%s), a type WhatsApp does not accept",
				   noun, r->mime);
	return -1;
}

/* Copies libmagic's answer into r->mime; -1 with r->why when there is none. */
static int
take_mime(struct sniff *s, const char *m, const char *subject, struct sniff_result *r)
{
	if (m == NULL) {
		const char *e = magic_error(s->mime);
		r->why = xasprintf("cannot sniff %s: %s", subject,
				   e != NULL ? e : "libmagic gave no answer");
		return -1;
	}
	snprintf(r->mime, sizeof r->mime, "%.*s", (int)mime_len(m), m);
	return 0;
}

int
sniff_buffer(struct sniff *s, const void *p, size_t n, const char *claim,
	     struct sniff_result *r)
{
	result_init(r);
	r->size = (int64_t)n;
	if (take_mime(s, magic_buffer(s->mime, p, n), "the content", r) == -1)
		return -1;
	return decide(s, p, n, -1, claim, r);
}

int
sniff_file(struct sniff *s, const char *path, const char *claim,
	   struct sniff_result *r)
{
	struct stat st;
	char *subject = NULL;
	int fd, rc = -1;

	result_init(r);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		r->why = xasprintf("cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		r->why = xasprintf("cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r->why = xasprintf("cannot send '%s': not a regular file", path);
		goto out;
	}
	r->size = st.st_size;
	subject = xasprintf("'%s'", path);
	if (take_mime(s, magic_descriptor(s->mime, fd), subject, r) == -1)
		goto out;
	rc = decide(s, NULL, 0, fd, claim, r);
out:
	free(subject);
	close(fd);
	return rc;
}
