/*
 * Unit tests for sniff.c.  The samples are built here, byte by byte, as
 * small but well-formed files of each whitelisted kind (no binaries in the
 * repository); the answers are what libmagic 5.44 gives for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sniff.h"
#include "util.h"

static struct sniff *sn;

static int
setup(void **state)
{
	(void)state;
	char *cause = NULL;
	sn = sniff_new(&cause);
	if (sn == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sniff_free(sn);
	return 0;
}

/* --- sample builders ---------------------------------------------------- */

static void
put32be(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };
	buf_append(b, x, 4);
}

static uint32_t
crc32_png(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void
png_chunk(struct buf *b, const char *type, const void *data, size_t n)
{
	size_t at;
	put32be(b, (uint32_t)n);
	at = b->len;
	buf_append(b, type, 4);
	buf_append(b, data, n);
	put32be(b, crc32_png((unsigned char *)b->data + at, n + 4));
}

/* A 1x1 8-bit greyscale PNG: IHDR, one stored zlib block, IEND. */
static void
make_png(struct buf *b)
{
	static const unsigned char ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0 };
	/* zlib header, final stored block of 2 bytes (filter 0, pixel 0), adler32 */
	static const unsigned char idat[] = { 0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff,
		0x00, 0x00, 0x00, 0x02, 0x00, 0x01 };
	buf_append(b, "\x89PNG\r\n\x1a\n", 8);
	png_chunk(b, "IHDR", ihdr, sizeof ihdr);
	png_chunk(b, "IDAT", idat, sizeof idat);
	png_chunk(b, "IEND", "", 0);
}

/* A 1x1 GIF89a with a two-colour table and one LZW-coded pixel. */
static void
make_gif(struct buf *b)
{
	static const unsigned char g[] = {
		'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
		0, 0, 0, 0xff, 0xff, 0xff,
		0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,
		0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
	};
	buf_append(b, g, sizeof g);
}

/* SOI, a JFIF APP0 segment, EOI. */
static void
make_jpeg(struct buf *b)
{
	static const unsigned char j[] = {
		0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0,
		0, 1, 0, 1, 0, 0, 0xff, 0xd9,
	};
	buf_append(b, j, sizeof j);
}

static void
make_pdf(struct buf *b)
{
	buf_puts(b, "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
		    "2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
		    "trailer\n<< /Root 1 0 R >>\n%%EOF\n");
}

/* An ID3v2.3 header without frames, then two MPEG-1 layer III frames
 * (128 kbit/s, 44.1 kHz: 417 bytes each, silent). */
static void
make_mp3(struct buf *b)
{
	static const unsigned char id3[10] = { 'I', 'D', '3', 3, 0, 0, 0, 0, 0, 0 };
	static const unsigned char hdr[4] = { 0xff, 0xfb, 0x90, 0x64 };
	unsigned char zero[413] = {0};
	buf_append(b, id3, sizeof id3);
	for (int i = 0; i < 2; i++) {
		buf_append(b, hdr, sizeof hdr);
		buf_append(b, zero, sizeof zero);
	}
}

/* An ISO BMFF file: ftyp box with brand, then an empty free box. */
static void
make_bmff(struct buf *b, const char brand[4], const char compat[8])
{
	put32be(b, 24);
	buf_append(b, "ftyp", 4);
	buf_append(b, brand, 4);
	put32be(b, 0x200);
	buf_append(b, compat, 8);
	put32be(b, 8);
	buf_append(b, "free", 4);
}

/* An MPEG-2 program stream pack header. */
static void
make_mpeg(struct buf *b)
{
	static const unsigned char m[] = { 0x00, 0x00, 0x01, 0xba, 0x44, 0x00, 0x04,
		0x00, 0x04, 0x01, 0x01, 0x89, 0xc3, 0xf8 };
	buf_append(b, m, sizeof m);
}

struct sample {
	const char *name;
	void      (*make)(struct buf *b);
	const char *claim;
	const char *magic;       /* what libmagic says */
	const char *want;        /* the whitelist entry we accept it as */
};

static void make_mp4(struct buf *b) { make_bmff(b, "isom", "isommp41"); }
static void make_m4v(struct buf *b) { make_bmff(b, "M4V ", "M4V mp42"); }
static void make_mov(struct buf *b) { make_bmff(b, "qt  ", "qt  qt  "); }
static void make_csv(struct buf *b) { buf_puts(b, "name,qty,price\nwidget,2,3.50\ngadget,10,1.25\n"); }
static void make_txt(struct buf *b) { buf_puts(b, "Hello, this is a plain note.\nSecond line.\n"); }
static void make_utf8(struct buf *b) { buf_puts(b, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xb9 100\n"); }
static void make_csrc(struct buf *b) { buf_puts(b, "#include <stdio.h>\nint main(void) { return 0; }\n"); }
static void make_json(struct buf *b) { buf_puts(b, "{\"order\": 1234, \"items\": [1, 2]}\n"); }
static void make_onecol(struct buf *b) { buf_puts(b, "sku\nA-1\nB-2\n"); }

static const struct sample accepted[] = {
	{ "png",   make_png,   NULL,               "image/png",       "image/png" },
	{ "gif",   make_gif,   NULL,               "image/gif",       "image/gif" },
	{ "jpeg",  make_jpeg,  NULL,               "image/jpeg",      "image/jpeg" },
	{ "jpg",   make_jpeg,  "image/jpg",        "image/jpeg",      "image/jpg" },
	{ "pdf",   make_pdf,   "application/pdf",  "application/pdf", "application/pdf" },
	{ "mp3",   make_mp3,   NULL,               "audio/mpeg",      "audio/mpeg3" },
	{ "mp3x",  make_mp3,   "audio/x-mpeg-3",   "audio/mpeg",      "audio/x-mpeg-3" },
	{ "mp4",   make_mp4,   NULL,               "video/mp4",       "video/mp4" },
	{ "m4v",   make_m4v,   NULL,               "video/x-m4v",     "video/mp4" },
	{ "mov",   make_mov,   NULL,               "video/quicktime", "video/quicktime" },
	{ "mpeg",  make_mpeg,  "video/x-mpeg",     "video/mpeg",      "video/x-mpeg" },
	{ "csv",   make_csv,   NULL,               "text/csv",        "text/csv" },
	{ "csv as excel", make_csv, "application/vnd.ms-excel", "text/csv", "text/csv" },
	{ "txt",   make_txt,   "text/plain",       "text/plain",      "text/plain" },
	{ "utf8",  make_utf8,  NULL,               "text/plain",      "text/plain" },
	{ "c-ish note", make_csrc, "text/plain",   "text/x-c",        "text/plain" },
	{ "json",  make_json,  NULL,               "application/json", "text/plain" },
	{ "one-column csv", make_onecol, "application/csv", "text/plain", "application/csv" },
	/* whitelisted content under another whitelisted claim is what it is */
	{ "pdf, claims png", make_pdf, "image/png", "application/pdf", "application/pdf" },
	{ "m4v, claims gif", make_m4v, "image/gif", "video/x-m4v", "video/mp4" },
};

static void
test_accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(accepted); i++) {
		const struct sample *s = &accepted[i];
		struct buf b = {0};
		struct sniff_result r;
		s->make(&b);
		int rc = sniff_buffer(sn, b.data, b.len, s->claim, &r);
		if (rc != 0 || strcmp(r.mime, s->magic) != 0 ||
		    strcmp(r.type->mime, s->want) != 0)
			fail_msg("%s: rc %d magic '%s' why '%s'", s->name, rc, r.mime,
				 r.why ? r.why : "");
		assert_null(r.why);
		assert_int_equal(r.size, (int64_t)b.len);
		sniff_result_release(&r);
		buf_free(&b);
	}
}

static void make_html(struct buf *b) { buf_puts(b, "<html><body>pay here</body></html>\n"); }
static void make_sh(struct buf *b) { buf_puts(b, "#!/bin/sh\nrm -rf ~\n"); }
static void make_empty(struct buf *b) { (void)b; }
static void
make_webp(struct buf *b)
{
	unsigned char zero[20] = {0};
	buf_append(b, "RIFF\x24\x00\x00\x00WEBPVP8 ", 16);
	buf_append(b, zero, sizeof zero);
}
static void
make_ole(struct buf *b)
{
	unsigned char zero[600] = {0};
	buf_append(b, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);
	buf_append(b, zero, sizeof zero);
}
static void
make_noise(struct buf *b)
{
	uint32_t x = 2463534242u;
	for (int i = 0; i < 200; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		buf_putc(b, (char)(x & 0xff));
	}
}

static const struct {
	const char *name;
	void      (*make)(struct buf *b);
	const char *claim;
	const char *magic;
	const char *why;
} refused[] = {
	{ "html as text", make_html, "text/plain", "text/html",
	  "is an HTML document (text/html), not a text file" },
	{ "script", make_sh, NULL, "text/x-shellscript",
	  "is a shell script (text/x-shellscript), a type WhatsApp does not accept" },
	{ "empty", make_empty, "application/pdf", "application/x-empty",
	  "is an empty file (application/x-empty), not a PDF" },
	{ "webp", make_webp, "image/webp", "image/webp",
	  "is a WebP image (image/webp), a type WhatsApp does not accept" },
	{ "bare OLE", make_ole, NULL, "application/x-ole-storage",
	  "is an OLE compound document (application/x-ole-storage), a type WhatsApp does not accept" },
	{ "noise as jpeg", make_noise, "image/jpeg", "application/octet-stream",
	  "is unrecognised data (application/octet-stream), not a JPEG image" },
};

static void
test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(refused); i++) {
		struct buf b = {0};
		struct sniff_result r;
		refused[i].make(&b);
		int rc = sniff_buffer(sn, b.data, b.len, refused[i].claim, &r);
		if (rc == 0 || strcmp(r.mime, refused[i].magic) != 0)
			fail_msg("%s: rc %d magic '%s'", refused[i].name, rc, r.mime);
		assert_string_equal(r.why, refused[i].why);
		assert_null(r.type);
		assert_string_equal(r.code, "media.type");
		sniff_result_release(&r);
		buf_free(&b);
	}
}

/* A bare OLE container counts as Excel only when it says it is. */
static void
test_claim_only(void **state)
{
	(void)state;
	struct buf b = {0};
	struct sniff_result r;
	make_ole(&b);
	assert_int_equal(sniff_buffer(sn, b.data, b.len, "application/vnd.ms-excel", &r), 0);
	assert_string_equal(r.type->mime, "application/vnd.ms-excel");
	sniff_result_release(&r);
	assert_int_equal(sniff_buffer(sn, b.data, b.len, "application/pdf", &r), -1);
	assert_string_equal(r.why, "is an OLE compound document (application/x-ole-storage), "
			    "not a PDF");
	sniff_result_release(&r);
	buf_free(&b);
}

/* The case: a renamed executable sent as invoice.pdf. */
static void
test_renamed_elf(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_sniff.XXXXXX";
	struct sniff_result r;
	char *path, *cmd;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/invoice.pdf", dir);
	cmd = xasprintf("cp /bin/true '%s'", path);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(sniff_file(sn, path, sniff_claim_from_name(path), &r), -1);
	assert_string_equal(r.code, "media.type");
	assert_null(r.type);
	assert_true(strncmp(r.mime, "application/x-", 14) == 0);
	assert_true(strstr(r.mime, "executable") != NULL);
	assert_non_null(strstr(r.why, "is an ELF executable (application/x-"));
	assert_non_null(strstr(r.why, "), not a PDF"));
	assert_true(r.size > 0);
	sniff_result_release(&r);

	/* a real PDF under the same name passes, and the size is reported */
	struct buf b = {0};
	make_pdf(&b);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
	fclose(f);
	assert_int_equal(sniff_file(sn, path, "application/pdf", &r), 0);
	assert_string_equal(r.type->mime, "application/pdf");
	assert_int_equal(r.size, (int64_t)b.len);
	sniff_result_release(&r);

	/* an empty file on disk */
	f = fopen(path, "wb");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(sniff_file(sn, path, "application/pdf", &r), -1);
	assert_string_equal(r.code, "media.type");
	assert_non_null(strstr(r.why, "is an empty file ("));
	sniff_result_release(&r);

	unlink(path);
	/* missing file, directory: errors, not refusals */
	assert_int_equal(sniff_file(sn, path, NULL, &r), -1);
	assert_null(r.code);
	assert_non_null(strstr(r.why, "cannot open '"));
	assert_non_null(strstr(r.why, "No such file or directory"));
	sniff_result_release(&r);
	assert_int_equal(sniff_file(sn, dir, NULL, &r), -1);
	assert_null(r.code);
	assert_non_null(strstr(r.why, "not a regular file"));
	sniff_result_release(&r);

	rmdir(dir);
	free(cmd);
	free(path);
	buf_free(&b);
}

static void
test_claim_from_name(void **state)
{
	(void)state;
	static const struct { const char *name, *mime; } rows[] = {
		{ "invoice.pdf", "application/pdf" }, { "/x/y/PHOTO.JPG", "image/jpeg" },
		{ "a.jpeg", "image/jpeg" }, { "clip.mov", "video/quicktime" },
		{ "song.mp3", "audio/mpeg3" }, { "list.csv", "text/csv" },
		{ "book.xls", "application/vnd.ms-excel" }, { "notes.txt", "text/plain" },
		{ "v.mp4", "video/mp4" }, { "v.mpg", "video/mpeg" }, { "i.gif", "image/gif" },
		{ "i.png", "image/png" },
		{ "a.exe", NULL }, { "noext", NULL }, { ".pdf", NULL }, { "dir.pdf/x", NULL },
		{ "x.", NULL }, { "", NULL },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const char *m = sniff_claim_from_name(rows[i].name);
		if (rows[i].mime == NULL)
			assert_null(m);
		else
			assert_string_equal(m, rows[i].mime);
	}
	assert_null(sniff_claim_from_name(NULL));
	/* every extension maps to a whitelisted type with a noun */
	assert_non_null(media_lookup(sniff_claim_from_name("x.m4v")));
	assert_string_equal(sniff_noun("application/pdf; x=y"), "a PDF");
	assert_null(sniff_noun("application/x-unknown-thing"));
}

static void
test_fix_name(void **state)
{
	(void)state;
	static const struct { const char *name, *mime, *want; } rows[] = {
		{ "invoice.exe", "application/pdf", "invoice.exe.pdf" },
		{ "invoice.pdf", "application/pdf", "invoice.pdf" },
		{ "Invoice.PDF", "application/pdf", "Invoice.PDF" },
		{ "photo.jpeg", "image/jpg", "photo.jpeg" },
		{ "photo.png", "image/jpeg", "photo.png.jpg" },
		{ "report", "application/pdf", "report.pdf" },
		{ "data.txt", "text/csv", "data.txt" },          /* text is text */
		{ "clip.m4v", "video/mp4", "clip.m4v" },
		{ "song", "audio/x-mpeg-3", "song.mp3" },
		{ "movie.mpeg", "video/x-mpeg", "movie.mpeg" },
		{ "x.bin", "application/x-unknown", "x.bin" },
		{ "file", NULL, "file" },
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char *got = sniff_fix_name(rows[i].name, rows[i].mime);
		assert_string_equal(got, rows[i].want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_claim_only),
		cmocka_unit_test(test_renamed_elf),
		cmocka_unit_test(test_claim_from_name),
		cmocka_unit_test(test_fix_name),
	};
	return cmocka_run_group_tests_name("sniff", tests, setup, teardown);
}
