/*
 * phone.h — phone numbers as WhatsApp and Gupshup want them: E.164 digits
 * without the '+' ("919812345678").
 *
 * A number is taken to carry its country code: written with a leading '+'
 * or the international prefix 00, or already as bare international digits
 * (the way Gupshup and most CRMs export them).  The one national form we
 * can recognise for sure is a single leading 0 (a trunk prefix, as in
 * "09812345678"); it is refused rather than guessed at, since the country
 * it belongs to is unknown.
 */
#ifndef WADESK_PHONE_H
#define WADESK_PHONE_H

/*
 * Normalises in to E.164 digits without '+': strips spaces, tabs, dashes,
 * dots, parentheses, one leading '+' or "00".  On success returns 0 and
 * out (16 bytes) holds 8 to 15 digits, NUL-terminated, the first not 0.
 * Otherwise returns -1, leaves out "" and sets *why to a static sentence
 * (lower case, no full stop) for the user:
 *   empty, letters, other characters, a '+' not at the start, a short code
 *   (at most 6 digits), no country code (leading 0 trunk prefix), country
 *   code 0, fewer than 8 or more than 15 digits.
 * in may be NULL (refused as empty).  why may be NULL.
 */
int phone_normalize(const char *in, char out[16], const char **why);

#endif
