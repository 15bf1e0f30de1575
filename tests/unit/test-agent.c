/*
 * The agent-check reply parser: every HAProxy form, garbage and
 * oversized lines, as the engine and `mxlb agent` read them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent.h"
#include "names.h"

static struct agent_reply
ok(const char *line)
{
	struct agent_reply r;
	char err[160] = "";

	if (agent_parse(line, strlen(line), &r, err, sizeof err) != 0)
		fail_msg("\"%s\" refused: %s", line, err);
	return r;
}

static int
ok_len(const char *line, size_t len)
{
	struct agent_reply r;
	char err[160];

	return agent_parse(line, len, &r, err, sizeof err);
}

static void
bad(const char *line, size_t len, const char *why)
{
	struct agent_reply r;
	char err[160] = "";

	if (agent_parse(line, len, &r, err, sizeof err) == 0)
		fail_msg("\"%.40s\" accepted", line);
	if (strstr(err, why) == NULL)
		fail_msg("\"%.40s\": error \"%s\", wanted \"%s\"", line, err,
		    why);
}

static void
test_words(void **state)
{
	struct agent_reply r;

	(void)state;
	r = ok("up\n");
	assert_int_equal(r.up, 1);
	assert_int_equal(r.admin, -1);
	assert_int_equal(r.pct, -1);
	r = ok("down\r\n");
	assert_int_equal(r.up, 0);
	assert_string_equal(r.word, "down");
	r = ok("fail");
	assert_int_equal(r.up, 0);
	r = ok("stopped");
	assert_int_equal(r.up, 0);
	assert_string_equal(r.word, "stopped");
	assert_int_equal(ok("ready").admin, ADMIN_READY);
	assert_int_equal(ok("drain").admin, ADMIN_DRAIN);
	assert_int_equal(ok("maint").admin, ADMIN_MAINT);
	assert_int_equal(ok("READY").admin, ADMIN_READY);
	assert_int_equal(ok("75%").pct, 75);
	assert_int_equal(ok("0%").pct, 0);
	assert_int_equal(ok("100%").pct, 100);
	assert_int_equal(ok("maxconn:30").maxconn, 30);
}

/* Words in any order, separated by spaces, tabs or commas. */
static void
test_combined(void **state)
{
	struct agent_reply r;

	(void)state;
	r = ok("maxconn:7 75%");
	assert_int_equal(r.pct, 75);
	assert_int_equal(r.maxconn, 7);
	r = ok("ready,up\t50%");
	assert_int_equal(r.admin, ADMIN_READY);
	assert_int_equal(r.up, 1);
	assert_int_equal(r.pct, 50);
	r = ok("  drain   #queue=250\n");
	assert_int_equal(r.admin, ADMIN_DRAIN);
	assert_int_equal(r.queue, 250);
	assert_string_equal(r.reason, "queue=250");
	r = ok("down #disk full");
	assert_int_equal(r.up, 0);
	assert_string_equal(r.reason, "disk full");
	assert_int_equal(r.queue, -1);
	r = ok("ready 40% #queue=12 active=2 deferred=10");
	assert_int_equal(r.queue, 12);
	assert_int_equal(r.pct, 40);
	/* Only the first line counts. */
	r = ok("up\ndown\n");
	assert_int_equal(r.up, 1);
	/* "myqueue=3" is not queue=3. */
	assert_int_equal(ok("up #myqueue=3").queue, -1);
}

static void
test_garbage(void **state)
{
	char big[2048];

	(void)state;
	bad("down#diskfull", 13, "without a space");
	bad("hello", 5, "unknown word");
	bad("", 0, "empty");
	bad("\r\n", 2, "empty");
	bad(" , \t", 4, "empty");
	bad("-5%", 3, "bad weight");
	bad("%", 1, "unknown word");
	bad("5000%", 5, "bad weight");
	bad("12x%", 4, "bad weight");
	bad("99999999999%", 12, "bad weight");
	bad("maxconn:", 8, "unknown word");
	bad("maxconn:x", 9, "bad");
	bad("up\x01", 3, "control");
	bad("up \xff", 4, "8-bit");
	bad("up\0down", 7, "control");
	/* Oversized: refused whole, not cut. */
	memset(big, 'u', sizeof big);
	bad(big, sizeof big, "longer than");
	memcpy(big, "up #", 4);
	memset(big + 4, 'x', 600);
	big[604] = '\n';
	bad(big, 605, "longer than");
	/* Just under the limit, with a long reason kept in part. */
	memset(big + 4, 'x', AGENT_LINE_MAX - 4);
	assert_int_equal(ok_len(big, AGENT_LINE_MAX), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_combined),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
