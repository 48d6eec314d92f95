/*
 * sim_sample.h — small media files made in code, for wadesk-sim's
 * simulated customers: a PNG picture and a one-page PDF invoice.
 *
 * Both are complete, valid files (libmagic and image viewers take them
 * for what they are), a few hundred bytes each, and depend only on their
 * arguments, so the same seed sends the same bytes.
 */
#ifndef WADESK_SIM_SAMPLE_H
#define WADESK_SIM_SAMPLE_H

#include <stdint.h>

struct buf;

/*
 * Appends a 32x32 RGB PNG to out: a two-colour pattern picked by seed.
 * Uncompressed deflate blocks (zlib "stored"), with real CRC-32 and
 * Adler-32 checksums.
 */
void sim_sample_png(uint64_t seed, struct buf *out);

/*
 * Appends a one-page PDF 1.4 whose page shows the line "Invoice NUMBER"
 * (NUMBER: printable ASCII only; anything else becomes '?'), with a
 * correct cross-reference table.
 */
void sim_sample_pdf(const char *number, struct buf *out);

#endif
