/*
 * libFuzzer harness for the desk protocol codec: any bytes go through
 * proto_decode(); whatever decodes is encoded again and must decode to the
 * same encoding (the codec's round-trip property), and nothing may leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m, m2;
	const char *code;
	char *cause = NULL;

	if (proto_decode((const char *)data, size, &m, &code, &cause) == 0) {
		size_t len, len2;
		char *j = proto_encode(&m, &len);
		char *cause2 = NULL;
		if (proto_decode(j, len, &m2, &code, &cause2) != 0)
			abort();
		char *j2 = proto_encode(&m2, &len2);
		if (len != len2 || memcmp(j, j2, len) != 0)
			abort();
		free(j);
		free(j2);
		free(cause2);
		proto_msg_release(&m2);
	} else if (code == NULL || cause == NULL) {
		abort();
	}
	free(cause);
	proto_msg_release(&m);
	return 0;
}
