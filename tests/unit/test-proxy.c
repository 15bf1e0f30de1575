/*
 * PROXY protocol encoder tests.  Expected bytes are written out by hand from
 * proxy-protocol.txt, and a small decoder written here (independent of
 * engine/proxy.c) applies the receiver's rules, so a header that Postfix or
 * Exim would refuse fails here first.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy.h"

/* The receiver's rules, shared with the fuzz harness. */
#include "../fuzz/proxy-decode.h"

/* ---- helpers ---------------------------------------------------------- */

/* A sockaddr from text: AF_INET6 when it has a colon. */
static const struct sockaddr *
mksa(struct sockaddr_storage *ss, const char *addr, unsigned int port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	}
	return ((const struct sockaddr *)ss);
}

/* Encode and require exactly the expected bytes, then decode them back. */
static void
expect_bytes(enum proxy_version v, const char *sa, unsigned int sp,
    const char *da, unsigned int dp, const uint8_t *want, size_t wlen)
{
	struct sockaddr_storage	s, d;
	uint8_t			buf[PROXY_HDR_MAX];
	struct hdr		h;
	ssize_t			n;

	n = proxy_header(v, mksa(&s, sa, sp), mksa(&d, da, dp), buf,
	    sizeof(buf));
	assert_int_equal(n, wlen);
	assert_memory_equal(buf, want, wlen);
	if (v == PROXY_V1)
		assert_int_equal(dec_v1(buf, (size_t)n, &h), n);
	else
		assert_int_equal(dec_v2(buf, (size_t)n, &h), n);
	assert_int_equal(h.sport, sp);
	assert_int_equal(h.dport, dp);
}

#define V1_EXPECT(sa, sp, da, dp, line)					\
	expect_bytes(PROXY_V1, sa, sp, da, dp, (const uint8_t *)line,	\
	    sizeof(line) - 1)

/* ---- exact bytes ------------------------------------------------------ */

static void
test_v1_tcp4_exact(void **state)
{
	(void)state;
	/* The example from the spec, byte for byte. */
	V1_EXPECT("192.168.0.1", 56324, "192.168.0.11", 443,
	    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
}

static void
test_v1_tcp6_exact(void **state)
{
	(void)state;
	V1_EXPECT("2001:db8::1", 56324, "2001:db8::11", 25,
	    "PROXY TCP6 2001:db8::1 2001:db8::11 56324 25\r\n");
	/* inet_ntop's compressed, lower-case form. */
	V1_EXPECT("2001:DB8:0:0:1:0:0:1", 1, "fe80::a:b:c:d", 587,
	    "PROXY TCP6 2001:db8::1:0:0:1 fe80::a:b:c:d 1 587\r\n");
}

static void
test_v2_tcp4_exact(void **state)
{
	static const uint8_t want[28] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,	/* sig */
		0x55, 0x49, 0x54, 0x0a,
		0x21,				/* v2, PROXY */
		0x11,				/* AF_INET, STREAM */
		0x00, 0x0c,			/* len 12 */
		192, 168, 0, 1,			/* src addr */
		192, 168, 0, 11,		/* dst addr */
		0xdc, 0x04,			/* src port 56324 */
		0x01, 0xbb,			/* dst port 443 */
	};

	(void)state;
	expect_bytes(PROXY_V2, "192.168.0.1", 56324, "192.168.0.11", 443,
	    want, sizeof(want));
}

static void
test_v2_tcp6_exact(void **state)
{
	static const uint8_t want[52] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,	/* sig */
		0x55, 0x49, 0x54, 0x0a,
		0x21,				/* v2, PROXY */
		0x21,				/* AF_INET6, STREAM */
		0x00, 0x24,			/* len 36 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,	/* src 2001:db8::1 */
		0, 0, 0, 0, 0, 0, 0, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,	/* dst 2001:db8::11 */
		0, 0, 0, 0, 0, 0, 0, 0x11,
		0xdc, 0x04,			/* src port 56324 */
		0x00, 0x19,			/* dst port 25 */
	};

	(void)state;
	expect_bytes(PROXY_V2, "2001:db8::1", 56324, "2001:db8::11", 25,
	    want, sizeof(want));
}

static void
test_v2_local_exact(void **state)
{
	static const uint8_t want[16] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a,
		0x20,				/* v2, LOCAL */
		0x00,				/* UNSPEC */
		0x00, 0x00,			/* len 0 */
	};
	uint8_t		buf[PROXY_HDR_MAX];
	struct hdr	h;

	(void)state;
	assert_int_equal(proxy_header_local(buf, sizeof(buf)), 16);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(dec_v2(buf, 16, &h), 16);
	assert_true(h.local);
	assert_int_equal(h.family, AF_UNSPEC);
}

/* ---- mapped addresses ------------------------------------------------- */

static void
test_mapped_to_v4(void **state)
{
	static const uint8_t want[28] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
		192, 0, 2, 7, 198, 51, 100, 25, 0x30, 0x39, 0x00, 0x19,
	};

	(void)state;
	/* Dual-stack listener: both ends mapped, or one mapped one plain. */
	V1_EXPECT("::ffff:192.0.2.7", 12345, "::ffff:198.51.100.25", 25,
	    "PROXY TCP4 192.0.2.7 198.51.100.25 12345 25\r\n");
	V1_EXPECT("::ffff:192.0.2.7", 12345, "198.51.100.25", 25,
	    "PROXY TCP4 192.0.2.7 198.51.100.25 12345 25\r\n");
	V1_EXPECT("192.0.2.7", 12345, "::ffff:198.51.100.25", 25,
	    "PROXY TCP4 192.0.2.7 198.51.100.25 12345 25\r\n");
	expect_bytes(PROXY_V2, "::ffff:192.0.2.7", 12345,
	    "::ffff:198.51.100.25", 25, want, sizeof(want));
	expect_bytes(PROXY_V2, "192.0.2.7", 12345,
	    "::ffff:198.51.100.25", 25, want, sizeof(want));
}

static void
test_v4_mapped_into_v6(void **state)
{
	static const uint8_t want[52] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
		0x55, 0x49, 0x54, 0x0a, 0x21, 0x21, 0x00, 0x24,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
		0x30, 0x39, 0x00, 0x19,
	};

	(void)state;
	/* One real v6 end forces TCP6; the v4 end becomes ::ffff:v4. */
	V1_EXPECT("192.0.2.7", 12345, "2001:db8::25", 25,
	    "PROXY TCP6 ::ffff:192.0.2.7 2001:db8::25 12345 25\r\n");
	V1_EXPECT("::ffff:192.0.2.7", 12345, "2001:db8::25", 25,
	    "PROXY TCP6 ::ffff:192.0.2.7 2001:db8::25 12345 25\r\n");
	V1_EXPECT("2001:db8::25", 25, "192.0.2.7", 12345,
	    "PROXY TCP6 2001:db8::25 ::ffff:192.0.2.7 25 12345\r\n");
	expect_bytes(PROXY_V2, "192.0.2.7", 12345, "2001:db8::25", 25,
	    want, sizeof(want));
}

/* ---- refusals --------------------------------------------------------- */

/* Every length below the header's own must fail and leave buf untouched. */
static void
check_short(enum proxy_version v, const struct sockaddr *s,
    const struct sockaddr *d)
{
	uint8_t	buf[PROXY_HDR_MAX], zero[PROXY_HDR_MAX];
	ssize_t	full;
	size_t	len;

	full = proxy_header(v, s, d, buf, sizeof(buf));
	assert_true(full > 0);
	memset(zero, 0xaa, sizeof(zero));
	for (len = 0; len < (size_t)full; len++) {
		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(proxy_header(v, s, d, buf, len), -1);
		assert_memory_equal(buf, zero, sizeof(buf));
	}
	assert_int_equal(proxy_header(v, s, d, buf, (size_t)full), full);
}

static void
test_too_small(void **state)
{
	struct sockaddr_storage	s4, d4, s6, d6;
	uint8_t			buf[16];

	(void)state;
	mksa(&s4, "192.168.0.1", 56324);
	mksa(&d4, "192.168.0.11", 443);
	mksa(&s6, "2001:db8::1", 56324);
	mksa(&d6, "2001:db8::11", 25);
	check_short(PROXY_V1, (struct sockaddr *)&s4, (struct sockaddr *)&d4);
	check_short(PROXY_V1, (struct sockaddr *)&s6, (struct sockaddr *)&d6);
	check_short(PROXY_V2, (struct sockaddr *)&s4, (struct sockaddr *)&d4);
	check_short(PROXY_V2, (struct sockaddr *)&s6, (struct sockaddr *)&d6);
	assert_int_equal(proxy_header_local(buf, 15), -1);
	assert_int_equal(proxy_header_local(buf, 0), -1);
	assert_int_equal(proxy_header_local(NULL, 16), -1);
}

static void
test_unsupported_family(void **state)
{
	struct sockaddr_storage	in, un, none;
	struct sockaddr_un	*su = (struct sockaddr_un *)&un;
	const struct sockaddr	*a = (struct sockaddr *)&in;
	const struct sockaddr	*u = (struct sockaddr *)&un;
	const struct sockaddr	*z = (struct sockaddr *)&none;
	uint8_t			buf[PROXY_HDR_MAX];

	(void)state;
	mksa(&in, "192.0.2.1", 25);
	memset(&un, 0, sizeof(un));
	su->sun_family = AF_UNIX;
	strcpy(su->sun_path, "/run/mxlb.sock");
	memset(&none, 0, sizeof(none));		/* AF_UNSPEC */
	assert_int_equal(proxy_header(PROXY_V1, u, a, buf, sizeof(buf)), -1);
	assert_int_equal(proxy_header(PROXY_V1, a, u, buf, sizeof(buf)), -1);
	assert_int_equal(proxy_header(PROXY_V2, u, a, buf, sizeof(buf)), -1);
	assert_int_equal(proxy_header(PROXY_V2, a, u, buf, sizeof(buf)), -1);
	assert_int_equal(proxy_header(PROXY_V2, u, u, buf, sizeof(buf)), -1);
	assert_int_equal(proxy_header(PROXY_V1, z, a, buf, sizeof(buf)), -1);
	assert_int_equal(proxy_header(PROXY_V2, a, NULL, buf, sizeof(buf)),
	    -1);
	assert_int_equal(proxy_header(PROXY_V1, a, a, NULL, sizeof(buf)), -1);
	assert_int_equal(proxy_header((enum proxy_version)3, a, a, buf,
	    sizeof(buf)), -1);
	/* No PROXY header configured: nothing to send, not an error. */
	assert_int_equal(proxy_header(PROXY_NONE, a, a, buf, sizeof(buf)), 0);
}

/* ---- lengths ---------------------------------------------------------- */

static void
test_worst_case_length(void **state)
{
	static const char	*full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
	struct sockaddr_storage	s, d;
	uint8_t			buf[PROXY_HDR_MAX];
	struct hdr		h;
	ssize_t			n;

	(void)state;
	/* The longest text inet_ntop can produce, with the longest ports. */
	n = proxy_header(PROXY_V1, mksa(&s, full, 65535),
	    mksa(&d, full, 65535), buf, sizeof(buf));
	assert_int_equal(n, 104);		/* spec: TCP6 max 104 */
	assert_true(n <= V1_MAXLINE && n <= PROXY_HDR_MAX);
	assert_int_equal(dec_v1(buf, (size_t)n, &h), n);
	n = proxy_header(PROXY_V1, mksa(&s, "255.255.255.255", 65535),
	    mksa(&d, "255.255.255.255", 65535), buf, sizeof(buf));
	assert_int_equal(n, 56);		/* spec: TCP4 max 56 */
	n = proxy_header(PROXY_V2, mksa(&s, full, 65535),
	    mksa(&d, full, 65535), buf, sizeof(buf));
	assert_int_equal(n, 52);
}

/* ---- round trip ------------------------------------------------------- */

struct rt_case {
	const char	*src, *dst;
	unsigned int	 sport, dport;
	int		 family;		/* expected on the wire */
	const char	*wsrc, *wdst;		/* expected on the wire */
};

static const struct rt_case rt_cases[] = {
	{ "0.0.0.0", "0.0.0.0", 0, 0, AF_INET, "0.0.0.0", "0.0.0.0" },
	{ "255.255.255.255", "10.0.0.1", 65535, 65535, AF_INET,
	    "255.255.255.255", "10.0.0.1" },
	{ "127.0.0.1", "127.0.0.1", 1, 25, AF_INET, "127.0.0.1",
	    "127.0.0.1" },
	{ "10.1.2.3", "::ffff:10.0.0.25", 40000, 587, AF_INET, "10.1.2.3",
	    "10.0.0.25" },
	{ "::ffff:0.0.0.0", "::ffff:255.255.255.255", 0, 65535, AF_INET,
	    "0.0.0.0", "255.255.255.255" },
	{ "::", "::1", 0, 65535, AF_INET6, "::", "::1" },
	{ "::1", "::", 65535, 0, AF_INET6, "::1", "::" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::1", 65535,
	    465, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "2001:db8::1" },
	{ "fe80::1", "0.0.0.0", 1024, 0, AF_INET6, "fe80::1",
	    "::ffff:0.0.0.0" },
	{ "::ffff:192.0.2.1", "2001:db8:1:2:3:4:5:6", 25, 25, AF_INET6,
	    "::ffff:192.0.2.1", "2001:db8:1:2:3:4:5:6" },
};

/* Decode what was encoded and compare with what the case expects. */
static void
rt_check(const struct rt_case *c, enum proxy_version v)
{
	struct sockaddr_storage	s, d;
	uint8_t			buf[PROXY_HDR_MAX], ws[16], wd[16];
	struct hdr		h;
	ssize_t			n;
	size_t			asz = c->family == AF_INET ? 4 : 16;

	n = proxy_header(v, mksa(&s, c->src, c->sport),
	    mksa(&d, c->dst, c->dport), buf, sizeof(buf));
	assert_true(n > 0 && n <= PROXY_HDR_MAX);
	if (v == PROXY_V1) {
		assert_true(n <= V1_MAXLINE);
		assert_int_equal(dec_v1(buf, (size_t)n, &h), n);
	} else
		assert_int_equal(dec_v2(buf, (size_t)n, &h), n);
	assert_int_equal(h.version, v);
	assert_false(h.local);
	assert_int_equal(h.family, c->family);
	assert_int_equal(inet_pton(c->family, c->wsrc, ws), 1);
	assert_int_equal(inet_pton(c->family, c->wdst, wd), 1);
	assert_memory_equal(h.src, ws, asz);
	assert_memory_equal(h.dst, wd, asz);
	assert_int_equal(h.sport, c->sport);
	assert_int_equal(h.dport, c->dport);
}

static void
test_round_trip(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		rt_check(&rt_cases[i], PROXY_V1);
		rt_check(&rt_cases[i], PROXY_V2);
	}
}

/* ---- the decoder itself ----------------------------------------------- */

static int
dec_v1_str(const char *s)
{
	struct hdr	h;

	return (dec_v1((const uint8_t *)s, strlen(s), &h));
}

/* The round trip only proves something if the decoder is strict. */
static void
test_decoder_strict(void **state)
{
	char	longline[200], line[V1_MAXLINE + 1];

	(void)state;
	assert_int_equal(dec_v1_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), 32);
	assert_int_equal(dec_v1_str("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), -1);
	assert_int_equal(dec_v1_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), -1);
	assert_int_equal(dec_v1_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"), -1);
	assert_int_equal(dec_v1_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), -1);
	assert_int_equal(dec_v1_str("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"), -1);
	assert_int_equal(dec_v1_str("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), -1);
	assert_int_equal(dec_v1_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"),
	    -1);
	assert_int_equal(dec_v1_str("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), -1);
	assert_int_equal(dec_v1_str("PROXY TCP4 ::1 ::2 1 2\r\n"), -1);
	assert_int_equal(dec_v1_str("PROXY UNKNOWN\r\n"), -1);
	/* CRLF ending at byte 107 is accepted, one byte later it is not. */
	memset(longline, 'a', sizeof(longline));
	memcpy(longline + 105, "\r\n", 2);
	assert_int_equal(dec_v1_line((uint8_t *)longline, 200, line), 107);
	memset(longline, 'a', sizeof(longline));
	memcpy(longline + 106, "\r\n", 2);
	assert_int_equal(dec_v1_line((uint8_t *)longline, 200, line), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder_strict),
		cmocka_unit_test(test_v1_tcp4_exact),
		cmocka_unit_test(test_v1_tcp6_exact),
		cmocka_unit_test(test_v2_tcp4_exact),
		cmocka_unit_test(test_v2_tcp6_exact),
		cmocka_unit_test(test_v2_local_exact),
		cmocka_unit_test(test_mapped_to_v4),
		cmocka_unit_test(test_v4_mapped_into_v6),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_unsupported_family),
		cmocka_unit_test(test_worst_case_length),
		cmocka_unit_test(test_round_trip),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
