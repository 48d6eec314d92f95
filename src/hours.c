/*
 * hours.c — business hours: a tiny parser evaluated on demand.
 *
 * The spec is parsed on every call (it is a few dozen bytes, and an
 * inbound message is the only caller); the time zone goes through TZ and
 * localtime_r, so IANA rules (DST) apply.  A clause that crosses midnight
 * is checked against the local day and minute like any other: its evening
 * part on the days it names, its morning part on the day after each.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hours.h"
#include "util.h"

static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int
day_at(const char **p)
{
	for (int i = 0; i < 7; i++)
		if (strncasecmp(*p, days[i], 3) == 0) {
			*p += 3;
			return i;
		}
	return -1;
}

static int
time_at(const char **p)
{
	const char *s = *p;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*p += 5;
	return h * 60 + m;
}

static void
skip(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/*
 * Is (wday, minute) inside a clause open from..to on the days in mask?  A
 * clause whose end is before its start crosses midnight: "fri 22:00-06:00"
 * is open Friday from 22:00 and Saturday until 06:00, so its days name the
 * evening the shift starts.
 */
static int
inside(unsigned mask, int from, int to, int wday, int minute)
{
	if (from < to)
		return (mask & (1u << wday)) && minute >= from && minute < to;
	return ((mask & (1u << wday)) && minute >= from) ||
	       ((mask & (1u << ((wday + 6) % 7))) && minute < to);
}

/* Walks spec; when wday >= 0 returns 1 as soon as (wday, minute) is inside.
 * Returns 0 when parsed and not inside, -1 on a syntax error. */
static int
walk(const char *spec, int wday, int minute, const char **why)
{
	const char *p = spec;
	skip(&p);
	while (*p) {
		unsigned mask = 0;
		for (;;) {
			int a = day_at(&p), b;
			if (a < 0) {
				*why = "expected a day (sun mon tue wed thu fri sat)";
				return -1;
			}
			b = a;
			if (*p == '-') {
				p++;
				if ((b = day_at(&p)) < 0) {
					*why = "expected a day after '-'";
					return -1;
				}
			}
			for (int d = a;; d = (d + 1) % 7) {
				mask |= 1u << d;
				if (d == b)
					break;
			}
			if (*p != ',')
				break;
			p++;
		}
		skip(&p);
		int from = time_at(&p);
		if (from < 0 || *p != '-') {
			*why = "expected HH:MM-HH:MM after the days";
			return -1;
		}
		p++;
		int to = time_at(&p);
		if (to < 0 || to == from || from == 24 * 60) {
			*why = "expected an end time other than the start time";
			return -1;
		}
		if (wday >= 0 && inside(mask, from, to, wday, minute))
			return 1;
		skip(&p);
		if (*p == ';') {
			p++;
			skip(&p);
		} else if (*p != '\0') {
			*why = "expected ';' between clauses";
			return -1;
		}
	}
	return 0;
}

int
hours_valid(const char *spec, const char **why)
{
	return walk(spec, -1, 0, why) < 0 ? -1 : 0;
}

int
hours_open_at(const char *spec, int wday, int minute)
{
	const char *why;
	if (spec == NULL || spec[0] == '\0')
		return 1;
	return walk(spec, wday, minute, &why);
}

int
hours_open(const char *spec, const char *tz, int64_t now)
{
	if (spec == NULL || spec[0] == '\0')
		return 1;
	const char *old = getenv("TZ");
	char *saved = old ? xstrdup(old) : NULL;
	setenv("TZ", tz && tz[0] ? tz : "UTC", 1);
	tzset();
	time_t t = (time_t)now;
	struct tm tm;
	localtime_r(&t, &tm);
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
	return hours_open_at(spec, tm.tm_wday, tm.tm_hour * 60 + tm.tm_min);
}
