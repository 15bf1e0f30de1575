/*
 * PROXY header encoder round trip.  Two endpoints are derived from the
 * bytes (IPv4, IPv6, IPv4-mapped IPv6, or a family the protocol cannot
 * carry); each is encoded as v1 and v2 and decoded again with the strict
 * receiver's decoder of tests/unit/test-proxy.c (proxy-decode.h).  Aborts
 * when what a backend would learn differs from what the engine knew, when
 * a header is longer than the spec allows, or when a refused call touched
 * the caller's buffer.
 *
 * Input: kind(src) kind(dst) addr(src) port(src) addr(dst) port(dst) cut,
 * where kind & 3 is 0 IPv4, 1 IPv6, 2 mapped, 3 another family; missing
 * bytes read as 0.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "proxy-decode.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-proxy: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

struct input {
	const uint8_t	*p;
	size_t		 n;
};

static uint8_t
take(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* One endpoint: the sockaddr handed to the encoder (heap-allocated to its
 * family's exact size, so ASan sees any read past it), and the family and
 * 16-byte address a receiver should learn, before both ends are unified. */
struct end {
	struct sockaddr	*sa;
	int		 family;	/* AF_INET, AF_INET6; 0: unusable */
	uint8_t		 addr[16];	/* v4 in the first 4 bytes */
	unsigned int	 port;
};

static void
end_make(struct end *e, uint8_t kind, struct input *in)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	uint8_t a[16];
	size_t alen = (kind & 3) == 1 ? 16 : 4;

	memset(e, 0, sizeof *e);
	memset(a, 0, sizeof a);
	for (size_t i = 0; i < alen; i++)
		a[i] = take(in);
	e->port = (unsigned int)take(in) << 8;
	e->port |= take(in);
	switch (kind & 3) {
	case 0:
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)e->port);
		memcpy(&sin.sin_addr, a, 4);
		e->sa = malloc(sizeof sin);
		memcpy(e->sa, &sin, sizeof sin);
		e->family = AF_INET;
		memcpy(e->addr, a, 4);
		return;
	case 1:
	case 2:
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)e->port);
		sin6.sin6_flowinfo = kind;	/* noise the encoder must ignore */
		sin6.sin6_scope_id = kind;
		if ((kind & 3) == 2) {
			sin6.sin6_addr.s6_addr[10] = 0xff;
			sin6.sin6_addr.s6_addr[11] = 0xff;
			memcpy(&sin6.sin6_addr.s6_addr[12], a, 4);
		} else
			memcpy(&sin6.sin6_addr, a, 16);
		e->sa = malloc(sizeof sin6);
		memcpy(e->sa, &sin6, sizeof sin6);
		/* Mapped, whether built so or drawn so: the backend sees v4. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			e->family = AF_INET;
			memcpy(e->addr, &sin6.sin6_addr.s6_addr[12], 4);
		} else {
			e->family = AF_INET6;
			memcpy(e->addr, &sin6.sin6_addr, 16);
		}
		return;
	default: {
		/* AF_UNIX, AF_UNSPEC or anything else: never sent as UNKNOWN. */
		sa_family_t fam = (sa_family_t)(kind >> 2);
		if (fam == AF_INET || fam == AF_INET6)
			fam = AF_UNIX;
		e->sa = calloc(1, sizeof(sa_family_t));
		memcpy(e->sa, &fam, sizeof fam);
		e->family = 0;
		return;
	}
	}
}

/* Both ends in one family: v4 only if both are v4, else ::ffff:v4. */
static void
end_widen(struct end *e)
{
	uint8_t v4[4];

	if (e->family != AF_INET)
		return;
	memcpy(v4, e->addr, 4);
	memset(e->addr, 0, sizeof e->addr);
	e->addr[10] = e->addr[11] = 0xff;
	memcpy(&e->addr[12], v4, 4);
	e->family = AF_INET6;
}

/* A refused call returns -1 and leaves every byte of buf as it was. */
static void
check_refused(enum proxy_version v, const struct end *s, const struct end *d,
    size_t len)
{
	uint8_t buf[PROXY_HDR_MAX + 16], was[sizeof buf];

	memset(buf, 0xa5, sizeof buf);
	memcpy(was, buf, sizeof buf);
	CHECK(proxy_header(v, s->sa, d->sa, buf, len) == -1);
	CHECK(memcmp(buf, was, sizeof buf) == 0);
}

static void
check_version(enum proxy_version v, const struct end *s, const struct end *d,
    uint8_t cut)
{
	uint8_t buf[PROXY_HDR_MAX];
	struct hdr h;
	ssize_t n;
	size_t asz = s->family == AF_INET ? 4 : 16;

	n = proxy_header(v, s->sa, d->sa, buf, sizeof buf);
	CHECK(n > 0 && n <= PROXY_HDR_MAX);
	if (v == PROXY_V1) {
		CHECK(n <= V1_MAXLINE);
		CHECK(dec_v1(buf, (size_t)n, &h) == n);
		/* The spec's worst cases: TCP4 56 bytes, TCP6 104. */
		CHECK(n <= (s->family == AF_INET ? 56 : 104));
	} else {
		CHECK(dec_v2(buf, (size_t)n, &h) == n);
		CHECK((size_t)n == 16 + 2 * asz + 4);
		CHECK(!h.local);
	}
	CHECK(h.version == (int)v);
	CHECK(h.family == s->family);
	CHECK(memcmp(h.src, s->addr, asz) == 0);
	CHECK(memcmp(h.dst, d->addr, asz) == 0);
	CHECK(h.sport == s->port);
	CHECK(h.dport == d->port);
	/* Any shorter buffer is refused untouched: never half a header. */
	check_refused(v, s, d, cut % (size_t)n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t ks = take(&in), kd = take(&in), cut, buf[PROXY_HDR_MAX];
	struct end s, d;
	struct hdr h;

	end_make(&s, ks, &in);
	end_make(&d, kd, &in);
	cut = take(&in);
	CHECK(proxy_header(PROXY_NONE, s.sa, d.sa, buf, sizeof buf) == 0);
	check_refused((enum proxy_version)(3 + cut % 8), &s, &d, sizeof buf);
	if (s.family == 0 || d.family == 0) {
		check_refused(PROXY_V1, &s, &d, PROXY_HDR_MAX);
		check_refused(PROXY_V2, &s, &d, PROXY_HDR_MAX);
	} else {
		if (s.family != d.family) {
			end_widen(&s);
			end_widen(&d);
		}
		check_version(PROXY_V1, &s, &d, cut);
		check_version(PROXY_V2, &s, &d, cut);
	}
	CHECK(proxy_header_local(buf, sizeof buf) == 16);
	CHECK(dec_v2(buf, 16, &h) == 16 && h.local && h.family == AF_UNSPEC);
	CHECK(proxy_header_local(buf, cut % 16) == -1);
	free(s.sa);
	free(d.sa);
	return 0;
}
