/*
 * Fuzzes phone.c.  Invariants: success means 8 to 15 ASCII digits, the
 * first not 0, and those digits appear in the input in order; failure
 * means out is "" and a sentence is given.  Normalising a result again
 * gives the same result.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = xstrndup((const char *)data, size);
	char out[16], again[16];
	const char *why = NULL;

	memset(out, 'x', sizeof out);
	if (phone_normalize(in, out, &why) == 0) {
		size_t n = strlen(out), k = 0;
		assert(why == NULL);
		assert(n >= 8 && n <= 15 && out[0] != '0');
		for (size_t i = 0; i < n; i++)
			assert(out[i] >= '0' && out[i] <= '9');
		for (const char *p = in; *p && k < n; p++)
			if (*p == out[k])
				k++;
		assert(k == n);
		assert(phone_normalize(out, again, &why) == 0);
		assert(strcmp(out, again) == 0);
	} else {
		assert(out[0] == 0 && why != NULL && why[0] != 0);
	}
	free(in);
	return 0;
}
