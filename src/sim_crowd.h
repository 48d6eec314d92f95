/*
 * sim_crowd.h — wadesk-sim's simulated customers, as a pure schedule.
 *
 * A crowd is N customers with names, numbers and a language drawn from
 * small built-in lists by a seeded generator.  New conversations start at
 * PER_MIN a minute across the crowd (exponential gaps); a customer who
 * wrote waits for an answer, then after a few seconds replies (a
 * follow-up, thanks, now and then "STOP" or, outside the sandbox, a
 * photo or a document).  At a small rate a message is hostile: terminal
 * escape sequences, C0 controls, bidi overrides, a 5000-character line.
 * Same seed, same people and the same lines in the same order.
 *
 * The crowd never touches the provider: the sim asks it what is due
 * (sim_crowd_next) and tells it what a customer received.
 */
#ifndef WADESK_SIM_CROWD_H
#define WADESK_SIM_CROWD_H

#include <stddef.h>
#include <stdint.h>

#include "gupshup.h"

struct sim_crowd;

enum sim_crowd_kind {
	CROWD_TEXT,
	CROWD_IMAGE,                /* a photo with a caption */
	CROWD_FILE,                 /* a document with a caption */
};

struct sim_crowd_action {
	char        phone[16];
	const char *name;           /* static */
	enum sim_crowd_kind kind;
	char       *text;           /* xmalloc'd: the text or caption; caller frees */
};

/* A crowd of n customers; app is the sandbox keyword's app name. */
struct sim_crowd *sim_crowd_new(uint64_t seed, unsigned n, double rate_per_min, int sandbox,
                                const char *app, int64_t now_ms);
void sim_crowd_free(struct sim_crowd *c);

/* 1 with *a filled when some customer acts at or before now_ms; 0 otherwise. */
int sim_crowd_next(struct sim_crowd *c, int64_t now_ms, struct sim_crowd_action *a);
/* When the next action is due (ms), or -1. */
int64_t sim_crowd_due(const struct sim_crowd *c);
/* An agent's message reached phone (read at now_ms). */
void sim_crowd_received(struct sim_crowd *c, const char *phone, int64_t now_ms);
/* 1 when phone is one of the crowd. */
int sim_crowd_owns(const struct sim_crowd *c, const char *phone);
/* The i-th customer's phone and name (for tests); NULL past the end. */
const char *sim_crowd_phone(const struct sim_crowd *c, unsigned i, const char **name);

#endif
