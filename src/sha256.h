/*
 * sha256.h — SHA-256 (FIPS 180-4), for hashing access tokens at rest.
 *
 * Small and dependency-free; speed does not matter here (a few hashes per
 * connection).  Tested against the FIPS example vectors.
 */
#ifndef WADESK_SHA256_H
#define WADESK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t total;          /* bytes hashed so far */
	unsigned char block[64];
	size_t   used;           /* bytes in block */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* One call: the digest of data. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lower-case hex digest of a NUL-terminated string into out (65 bytes). */
void sha256_hex(const char *s, char out[2 * SHA256_LEN + 1]);

#endif
