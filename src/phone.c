/*
 * phone.c — E.164 normalisation.
 *
 * Design.  One pass classifies each byte through a table (digit,
 * separator, plus, letter, other) and collects the digits; the checks on
 * the digit string then run in a fixed order, so a number with several
 * faults gets the sentence for the most basic one first (bad characters
 * before length).  Digits beyond 16 are counted but not stored.
 */
#include <ctype.h>
#include <string.h>

#include "phone.h"
#include "util.h"

#define E164_MIN       8
#define E164_MAX       15
#define SHORT_CODE_MAX 6

enum byte_class { C_OTHER, C_DIGIT, C_SEPARATOR, C_PLUS, C_LETTER };

static const char separators[] = " \t-.()";

static enum byte_class
classify(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return C_DIGIT;
	if (c != 0 && strchr(separators, c))
		return C_SEPARATOR;
	if (c == '+')
		return C_PLUS;
	if (c < 0x80 && isalpha(c))
		return C_LETTER;
	return C_OTHER;
}

/* The sentences a refusal can carry, in the order they are checked. */
static const char why_empty[] = "the phone number is empty";
static const char why_letters[] = "a phone number cannot contain letters";
static const char why_other[] =
	"a phone number may contain only digits, spaces, dashes, dots, parentheses and a leading +";
static const char why_plus[] = "a + may only come first in a phone number";
static const char why_short_code[] =
	"short codes cannot use WhatsApp: write the full number with its country code";
static const char why_trunk[] =
	"the number has no country code: write it with + and the country code, without the leading 0";
static const char why_cc_zero[] = "no country code starts with 0";
static const char why_too_short[] =
	"the number is too short: with its country code it has 8 to 15 digits";
static const char why_too_long[] =
	"the number is too long: with its country code it has 8 to 15 digits";

static int
refuse(char out[16], const char **why, const char *sentence)
{
	out[0] = 0;
	if (why)
		*why = sentence;
	return -1;
}

int
phone_normalize(const char *in, char out[16], const char **why)
{
	char digits[E164_MAX + 3];  /* "00" and 15 digits, plus one to see "too long" */
	size_t n = 0;
	int plus = 0, seen = 0;   /* seen: a digit or '+' came already */

	if (in == NULL)
		return refuse(out, why, why_empty);
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		switch (classify(*p)) {
		case C_DIGIT:
			if (n < sizeof digits - 1)
				digits[n] = (char)*p;
			n++;
			seen = 1;
			break;
		case C_SEPARATOR:
			break;
		case C_PLUS:
			if (seen)
				return refuse(out, why, why_plus);
			plus = seen = 1;
			break;
		case C_LETTER:
			return refuse(out, why, why_letters);
		case C_OTHER:
			return refuse(out, why, why_other);
		}
	}
	if (n == 0)
		return refuse(out, why, why_empty);
	size_t skip = 0;
	if (!plus && n >= 2 && digits[0] == '0' && digits[1] == '0')
		skip = 2;                 /* the international prefix */
	size_t len = n - skip;
	if (len <= SHORT_CODE_MAX)
		return refuse(out, why, why_short_code);
	if (digits[skip] == '0')
		return refuse(out, why, plus || skip ? why_cc_zero : why_trunk);
	if (len < E164_MIN)
		return refuse(out, why, why_too_short);
	if (len > E164_MAX)
		return refuse(out, why, why_too_long);
	memcpy(out, digits + skip, len);
	out[len] = 0;
	if (why)
		*why = NULL;
	return 0;
}
