/*
 * sim_sample.c — the simulated customers' pictures and documents (see
 * sim_sample.h).
 *
 * The PNG is written chunk by chunk (IHDR, IDAT, IEND) with its CRC-32
 * per chunk; the image data is a zlib stream of "stored" deflate blocks,
 * which needs no compressor, only the Adler-32 of the raw rows.  The PDF
 * is four objects and a content stream; the cross-reference table holds
 * each object's byte offset, measured while writing.
 */
#include "sim_sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PNG_SIDE 32

static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void
put_be32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                       (unsigned char)(v >> 8), (unsigned char)v };
	buf_append(b, x, 4);
}

static void
png_chunk(struct buf *out, const char type[4], const unsigned char *data, size_t n)
{
	uint32_t crc = crc32_update(0, (const unsigned char *)type, 4);
	crc = crc32_update(crc, data, n);
	put_be32(out, (uint32_t)n);
	buf_append(out, type, 4);
	if (n > 0)
		buf_append(out, data, n);
	put_be32(out, crc);
}

void
sim_sample_png(uint64_t seed, struct buf *out)
{
	static const unsigned char magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13] = { 0, 0, 0, PNG_SIDE, 0, 0, 0, PNG_SIDE, 8, 2, 0, 0, 0 };
	unsigned char raw[PNG_SIDE * (1 + 3 * PNG_SIDE)];
	unsigned char a[3], b[3];
	unsigned step = 2u + (unsigned)(seed % 7);
	uint32_t s1 = 1, s2 = 0;
	struct buf z = { 0 };
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		a[i] = (unsigned char)(seed >> (8 * i));
		b[i] = (unsigned char)(255 - a[i]);
	}
	for (unsigned y = 0; y < PNG_SIDE; y++) {
		raw[n++] = 0;                        /* filter: none */
		for (unsigned x = 0; x < PNG_SIDE; x++) {
			const unsigned char *c = ((x / step + y / step) & 1) ? a : b;
			memcpy(raw + n, c, 3);
			n += 3;
		}
	}
	for (size_t i = 0; i < n; i++) {
		s1 = (s1 + raw[i]) % 65521u;
		s2 = (s2 + s1) % 65521u;
	}
	/* zlib header (deflate, 32K window, no dictionary), one final stored block. */
	buf_append(&z, "\x78\x01", 2);
	{
		unsigned char hdr[5] = { 1, (unsigned char)n, (unsigned char)(n >> 8),
		                         (unsigned char)~n, (unsigned char)(~n >> 8) };
		buf_append(&z, hdr, 5);
	}
	buf_append(&z, raw, n);
	put_be32(&z, (s2 << 16) | s1);

	buf_append(out, magic, sizeof magic);
	png_chunk(out, "IHDR", ihdr, sizeof ihdr);
	png_chunk(out, "IDAT", (const unsigned char *)z.data, z.len);
	png_chunk(out, "IEND", NULL, 0);
	buf_free(&z);
}

void
sim_sample_pdf(const char *number, struct buf *out)
{
	char safe[64], *content;
	size_t base = out->len, off[5], i;
	const size_t nobj = 5;

	for (i = 0; number[i] != '\0' && i + 1 < sizeof safe; i++) {
		unsigned char c = (unsigned char)number[i];
		safe[i] = c >= 0x20 && c < 0x7f && c != '(' && c != ')' && c != '\\' ? (char)c : '?';
	}
	safe[i] = '\0';
	content = xasprintf("BT /F1 18 Tf 40 100 Td (Invoice %s) Tj ET\n", safe);

	buf_puts(out, "%PDF-1.4\n");
	off[1] = out->len - base;
	buf_puts(out, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	off[2] = out->len - base;
	buf_puts(out, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
	off[3] = out->len - base;
	buf_puts(out, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] "
	              "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
	              "/BaseFont /Helvetica >> >> >> /Contents 4 0 R >>\nendobj\n");
	off[4] = out->len - base;
	buf_printf(out, "4 0 obj\n<< /Length %zu >>\nstream\n%sendstream\nendobj\n",
	           strlen(content), content);
	{
		size_t xref = out->len - base;
		buf_printf(out, "xref\n0 %zu\n0000000000 65535 f \n", nobj);
		for (i = 1; i < nobj; i++)
			buf_printf(out, "%010zu 00000 n \n", off[i]);
		buf_printf(out, "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		           nobj, xref);
	}
	free(content);
}
