/*
 * hours.h — weekly business hours, for the away message.
 *
 * A spec is a list of "DAYS HH:MM-HH:MM" clauses separated by ';', DAYS a
 * day ("mon"), a range ("mon-fri", may wrap: "fri-mon") or a comma list
 * ("mon,wed,sat"); the end time may be 24:00.  An end before the start
 * crosses midnight: "mon-fri 22:00-06:00" is open from 22:00 on each of
 * those days until 06:00 the next morning (so Saturday until 06:00 too).
 * "" means always open.
 * Example: "mon-fri 09:00-18:00; sat 10:00-14:00; sun 22:00-02:00".
 */
#ifndef WADESK_HOURS_H
#define WADESK_HOURS_H

#include <stdint.h>

/* 0 when spec parses, -1 with *why (static sentence) otherwise. */
int hours_valid(const char *spec, const char **why);
/* 1 when now (unix seconds) falls inside spec in time zone tz (IANA name,
 * "" = UTC); 0 outside; -1 when the spec is invalid. */
int hours_open(const char *spec, const char *tz, int64_t now);
/* Same with the local weekday (0 = Sunday) and minute of the day given. */
int hours_open_at(const char *spec, int wday, int minute);

#endif
