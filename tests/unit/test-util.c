/*
 * str_escape(): what the engine's logs and the shell's terminal output do
 * with text a peer sent.  A newline must never reach a log line (it would
 * forge a second line), nor an ESC or a C1 control a terminal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void
check(const char *in, const char *want)
{
	char *got = str_escape(in);

	assert_string_equal(got, want);
	free(got);
}

static void
test_controls(void **state)
{
	(void)state;
	check("plain text", "plain text");
	check("a\nb\r\tc", "a\\nb\\r\\tc");
	check("\x1b[2J", "\\x1b[2J");
	check("del\x7f", "del\\x7f");
	check("back\\slash", "back\\\\slash");
	check("", "");
	check(NULL, "");
}

static void
test_utf8(void **state)
{
	(void)state;
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7");
	check("\xc2\x9b" "31m", "\\xc2\\x9b31m");	/* C1 CSI */
	check("\xff\xc3", "\\xff\\xc3");		/* invalid, cut short */
	check("\xc0\xaf", "\\xc0\\xaf");		/* overlong '/' */
	check("\xed\xa0\x80", "\\xed\\xa0\\x80");	/* surrogate */
}

static void
test_truncate(void **state)
{
	char b[12];

	(void)state;
	assert_string_equal(str_escape_buf(b, sizeof b, "0123456789a"), "0123456789a");
	assert_string_equal(str_escape_buf(b, sizeof b, "0123456789ab"), "01234567...");
	/* An escape is never cut in two. */
	assert_string_equal(str_escape_buf(b, sizeof b, "012345\x01xyzw"), "012345...");
	assert_string_equal(str_escape_buf(b, sizeof b, "0123456\xe2\x82\xac-x"), "0123456...");
	assert_string_equal(str_escape_buf(b, 1, "abc"), "");
	assert_string_equal(str_escape_buf(b, 3, "abc"), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
