/*
 * XCLIENT, the client side: the EHLO keyword line read as Postfix writes
 * it, and the command as XCLIENT_README defines it (IPv6 as IPV6:, NAME
 * and ADDR last, only what the server offers, a line within 512).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xclient.h"

static struct sockaddr_storage
sa(const char *host, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, host, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, host, &s4->sin_addr), 1);
	}
	return ss;
}

#define OFFER(s)	xclient_offer((s), strlen(s))

static void
test_offer(void **state)
{
	(void)state;
	/* Postfix 3.7, as observed. */
	assert_int_equal(OFFER("250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME "
	    "PORT LOGIN DESTADDR DESTPORT"), XC_OFFERED | XC_NAME | XC_ADDR |
	    XC_PORT | XC_DESTADDR | XC_DESTPORT);
	/* The last line of the reply, and names in any case. */
	assert_int_equal(OFFER("250 xclient addr name"),
	    XC_OFFERED | XC_ADDR | XC_NAME);
	/* smtp-sink offers XCLIENT without ADDR. */
	assert_int_equal(OFFER("250-XCLIENT NAME HELO"), XC_OFFERED | XC_NAME);
	assert_int_equal(OFFER("250-XFORWARD NAME ADDR PROTO HELO"), 0);
	assert_int_equal(OFFER("250-XCLIENTS ADDR"), 0);
	assert_int_equal(OFFER("250-PIPELINING"), 0);
	assert_int_equal(OFFER("250"), 0);
	assert_int_equal(OFFER(""), 0);
	/* Only the first n bytes count. */
	assert_int_equal(xclient_offer("250-XCLIENT ADDR", 11), XC_OFFERED);
}

static void
test_command_v4(void **state)
{
	struct sockaddr_storage c = sa("203.0.113.5", 52000);
	struct sockaddr_storage d = sa("192.0.2.1", 25);
	char buf[XCLIENT_LINE_MAX];
	const char *want = "XCLIENT PORT=52000 DESTADDR=192.0.2.1 DESTPORT=25 "
	    "NAME=[UNAVAILABLE] ADDR=203.0.113.5\r\n";
	int n;

	(void)state;
	n = xclient_command(buf, sizeof buf, OFFER("250-XCLIENT NAME ADDR "
	    "PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT"),
	    (struct sockaddr *)&c, (struct sockaddr *)&d);
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
	/* Only what is offered; without a destination, no DEST*. */
	n = xclient_command(buf, sizeof buf, XC_OFFERED | XC_ADDR,
	    (struct sockaddr *)&c, NULL);
	assert_string_equal(buf, "XCLIENT ADDR=203.0.113.5\r\n");
	assert_int_equal(n, 26);
}

static void
test_command_v6(void **state)
{
	struct sockaddr_storage c = sa("2001:db8::9", 40000);
	struct sockaddr_storage d = sa("::ffff:192.0.2.1", 25);
	char buf[XCLIENT_LINE_MAX];

	(void)state;
	assert_true(xclient_command(buf, sizeof buf, XC_OFFERED | XC_ADDR |
	    XC_PORT | XC_DESTADDR, (struct sockaddr *)&c,
	    (struct sockaddr *)&d) > 0);
	/* An IPv4 client of a dual-stack listener is plain IPv4. */
	assert_string_equal(buf, "XCLIENT PORT=40000 DESTADDR=192.0.2.1 "
	    "ADDR=IPV6:2001:db8::9\r\n");
}

static void
test_command_refused(void **state)
{
	struct sockaddr_storage c = sa("203.0.113.5", 52000);
	char buf[XCLIENT_LINE_MAX], small[20];

	(void)state;
	/* No ADDR offered: nothing to tell. */
	assert_int_equal(xclient_command(buf, sizeof buf, XC_OFFERED | XC_NAME,
	    (struct sockaddr *)&c, NULL), -1);
	/* A buffer too small is an error, never a cut line. */
	assert_int_equal(xclient_command(small, sizeof small, XC_OFFERED |
	    XC_ADDR | XC_NAME, (struct sockaddr *)&c, NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer),
		cmocka_unit_test(test_command_v4),
		cmocka_unit_test(test_command_v6),
		cmocka_unit_test(test_command_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
