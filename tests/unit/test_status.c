/*
 * Unit tests for status.c: every (state, event) pair — the four statuses,
 * with Agent responding once per possible resume — plus the sequences the
 * brief names, names, symbols and parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "status.h"
#include "util.h"

#define N   CHAT_NOTIFYING
#define U   CHAT_UNANSWERED
#define AR  CHAT_RESPONDING
#define R   CHAT_RESPONDED

static const struct {
	enum chat_status status, resume;
	enum chat_event  ev;
	enum chat_status want, want_resume;
} rows[] = {
	{ N, N, CHAT_EV_INBOUND, N, N },
	{ N, N, CHAT_EV_AUTOREPLY, U, U },
	{ N, N, CHAT_EV_TYPING, AR, N },
	{ N, N, CHAT_EV_TYPING_LAPSED, N, N },
	{ N, N, CHAT_EV_AGENT_MESSAGE, R, R },

	{ U, U, CHAT_EV_INBOUND, N, N },
	{ U, U, CHAT_EV_AUTOREPLY, U, U },
	{ U, U, CHAT_EV_TYPING, AR, U },
	{ U, U, CHAT_EV_TYPING_LAPSED, U, U },
	{ U, U, CHAT_EV_AGENT_MESSAGE, R, R },

	{ R, R, CHAT_EV_INBOUND, N, N },
	{ R, R, CHAT_EV_AUTOREPLY, R, R },
	{ R, R, CHAT_EV_TYPING, AR, R },
	{ R, R, CHAT_EV_TYPING_LAPSED, R, R },
	{ R, R, CHAT_EV_AGENT_MESSAGE, R, R },

	{ AR, N, CHAT_EV_INBOUND, AR, N },
	{ AR, N, CHAT_EV_AUTOREPLY, AR, U },
	{ AR, N, CHAT_EV_TYPING, AR, N },
	{ AR, N, CHAT_EV_TYPING_LAPSED, N, N },
	{ AR, N, CHAT_EV_AGENT_MESSAGE, R, R },

	{ AR, U, CHAT_EV_INBOUND, AR, N },
	{ AR, U, CHAT_EV_AUTOREPLY, AR, U },
	{ AR, U, CHAT_EV_TYPING, AR, U },
	{ AR, U, CHAT_EV_TYPING_LAPSED, U, U },
	{ AR, U, CHAT_EV_AGENT_MESSAGE, R, R },

	{ AR, R, CHAT_EV_INBOUND, AR, N },
	{ AR, R, CHAT_EV_AUTOREPLY, AR, R },
	{ AR, R, CHAT_EV_TYPING, AR, R },
	{ AR, R, CHAT_EV_TYPING_LAPSED, R, R },
	{ AR, R, CHAT_EV_AGENT_MESSAGE, R, R },

	/* defensive: a resume of Agent responding is read as Responded */
	{ AR, AR, CHAT_EV_TYPING_LAPSED, R, R },
	{ AR, AR, CHAT_EV_TYPING, AR, R },
};

static void
test_every_pair(void **state)
{
	(void)state;
	int seen[CHAT_STATUS_COUNT][CHAT_EVENT_COUNT] = {{0}};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct chat_state s = { rows[i].status, rows[i].resume };
		status_apply(&s, rows[i].ev);
		if (s.status != rows[i].want || s.resume != rows[i].want_resume)
			fail_msg("row %zu: %s (resume %s) + %s -> %s (resume %s)", i,
			         status_name(rows[i].status), status_name(rows[i].resume),
			         status_event_name(rows[i].ev), status_name(s.status),
			         status_name(s.resume));
		seen[rows[i].status][rows[i].ev] = 1;
	}
	for (int st = 0; st < CHAT_STATUS_COUNT; st++)
		for (int ev = 0; ev < CHAT_EVENT_COUNT; ev++)
			assert_true(seen[st][ev]);
}

/* Sequences: each step applies one event and names the status after it. */
static void
test_sequences(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		enum chat_event ev[6];
		size_t n;
		enum chat_status want;
	} seq[] = {
		{ "customer writes", { CHAT_EV_INBOUND }, 1, N },
		{ "BRB answers", { CHAT_EV_INBOUND, CHAT_EV_AUTOREPLY }, 2, U },
		{ "typing then lapse returns to Unanswered",
		  { CHAT_EV_INBOUND, CHAT_EV_AUTOREPLY, CHAT_EV_TYPING, CHAT_EV_TYPING_LAPSED }, 4, U },
		{ "inbound while typing, then lapse: Notifying",
		  { CHAT_EV_INBOUND, CHAT_EV_AUTOREPLY, CHAT_EV_TYPING, CHAT_EV_INBOUND,
		    CHAT_EV_TYPING_LAPSED }, 5, N },
		{ "inbound + autoreply while typing, then lapse: Unanswered",
		  { CHAT_EV_TYPING, CHAT_EV_INBOUND, CHAT_EV_AUTOREPLY, CHAT_EV_TYPING_LAPSED }, 4, U },
		{ "typing on a quiet chat lapses to Responded",
		  { CHAT_EV_TYPING, CHAT_EV_TYPING, CHAT_EV_TYPING_LAPSED }, 3, R },
		{ "agent answers while typing",
		  { CHAT_EV_INBOUND, CHAT_EV_TYPING, CHAT_EV_AGENT_MESSAGE }, 3, R },
		{ "late lapse after the answer changes nothing",
		  { CHAT_EV_INBOUND, CHAT_EV_TYPING, CHAT_EV_AGENT_MESSAGE, CHAT_EV_TYPING_LAPSED }, 4, R },
		{ "autoreply after the answer changes nothing",
		  { CHAT_EV_INBOUND, CHAT_EV_AGENT_MESSAGE, CHAT_EV_AUTOREPLY }, 3, R },
	};
	for (size_t i = 0; i < ARRAY_LEN(seq); i++) {
		struct chat_state s;
		status_init(&s);
		assert_int_equal(s.status, R);
		for (size_t j = 0; j < seq[i].n; j++)
			status_apply(&s, seq[i].ev[j]);
		if (s.status != seq[i].want)
			fail_msg("'%s': ends %s", seq[i].what, status_name(s.status));
		if (s.status != AR)
			assert_int_equal(s.resume, s.status);
	}
}

static void
test_names(void **state)
{
	(void)state;
	static const struct { enum chat_status s; const char *name, *shortname, *sym; } names[] = {
		{ N, "Notifying agent", "notifying", "!" },
		{ U, "Unanswered", "unanswered", "~" },
		{ AR, "Agent responding", "responding", "*" },
		{ R, "Responded", "responded", "." },
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		enum chat_status out;
		assert_string_equal(status_name(names[i].s), names[i].name);
		assert_string_equal(status_symbol(names[i].s), names[i].sym);
		assert_int_equal(status_parse(names[i].name, &out), 0);
		assert_int_equal(out, names[i].s);
		assert_int_equal(status_parse(names[i].shortname, &out), 0);
		assert_int_equal(out, names[i].s);
	}
	enum chat_status out;
	assert_int_equal(status_parse("NOTIFYING", &out), 0);
	assert_int_equal(out, N);
	assert_int_equal(status_parse("notify", &out), -1);
	assert_int_equal(status_parse("", &out), -1);
	assert_int_equal(status_parse(NULL, &out), -1);
	assert_string_equal(status_name((enum chat_status)9), "?");
	assert_string_equal(status_symbol((enum chat_status)9), "?");
	assert_string_equal(status_event_name(CHAT_EV_TYPING_LAPSED), "typing-lapsed");

	struct chat_state s = { N, N };
	status_apply(&s, (enum chat_event)7);
	assert_int_equal(s.status, N);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_pair),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
