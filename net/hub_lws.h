/*
 * hub_lws.h — include this instead of <libwebsockets.h> directly.
 *
 * The build puts -Isrc on the include path, and src/limits.h (the agent
 * limits module) then shadows the system <limits.h>, so OpenSSL's headers,
 * which libwebsockets.h pulls in, miss INT_MAX.  The compiler's own
 * predefined macros stand in for the two values they use.
 */
#ifndef WADESK_HUB_LWS_H
#define WADESK_HUB_LWS_H

#ifndef INT_MAX
#define INT_MAX __INT_MAX__
#endif
#ifndef INT_MIN
#define INT_MIN (-__INT_MAX__ - 1)
#endif
#include <libwebsockets.h>

#endif
