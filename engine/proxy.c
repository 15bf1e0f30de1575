/*
 * PROXY protocol headers, byte-exact to HAProxy's proxy-protocol.txt
 * (reference: lb-anchors.md section 1.14).  The caller sends the result in
 * one write before any payload: an SMTP server speaks first, so it must not
 * see a partial header.  Nothing here allocates; on failure buf is left
 * untouched so a caller can never send half a header.
 */

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "proxy.h"

/* One endpoint reduced to what both header versions carry. */
struct proxy_end {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network order; 4 bytes used for v4 */
	uint8_t		port[2];	/* network order, as on the wire */
};

/* v2 signature: contains a NUL, so it is never handled as a C string. */
static const uint8_t proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define PROXY_V2_HDR	16	/* signature, ver_cmd, fam, len */
#define PROXY_V2_PROXY	0x21	/* version 2, command PROXY */
#define PROXY_V2_LOCAL	0x20	/* version 2, command LOCAL */
#define PROXY_V2_TCP4	0x11
#define PROXY_V2_TCP6	0x21
#define PROXY_V2_UNSPEC	0x00

static int	proxy_end_set(struct proxy_end *, const struct sockaddr *);
static void	proxy_end_map6(struct proxy_end *);
static int	proxy_ends(const struct sockaddr *, const struct sockaddr *,
		    struct proxy_end *, struct proxy_end *);
static ssize_t	proxy_v1(const struct proxy_end *, const struct proxy_end *,
		    uint8_t *, size_t);
static void	proxy_v2_start(uint8_t *, uint8_t, uint8_t, uint16_t);
static ssize_t	proxy_v2(const struct proxy_end *, const struct proxy_end *,
		    uint8_t *, size_t);

/*
 * A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; unwrap them
 * here so the backend sees the plain IPv4 address it would log for a direct
 * connection.  Only TCP over IPv4/IPv6 can be described, so anything else
 * (AF_UNIX, AF_UNSPEC) is refused rather than sent as UNKNOWN.
 */
static int
proxy_end_set(struct proxy_end *e, const struct sockaddr *sa)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	if (sa == NULL)
		return (-1);
	memset(e, 0, sizeof(*e));
	/* Copied out, so callers may pass any buffer regardless of alignment. */
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		e->family = AF_INET;
		memcpy(e->addr, &sin.sin_addr, 4);
		memcpy(e->port, &sin.sin_port, 2);
		return (0);
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(e->port, &sin6.sin6_port, 2);
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			e->family = AF_INET;
			memcpy(e->addr, &sin6.sin6_addr.s6_addr[12], 4);
		} else {
			e->family = AF_INET6;
			memcpy(e->addr, &sin6.sin6_addr, 16);
		}
		return (0);
	default:
		return (-1);
	}
}

/* Both ends of a header share one family, so v4 is widened to ::ffff:v4. */
static void
proxy_end_map6(struct proxy_end *e)
{
	uint8_t	v4[4];

	if (e->family != AF_INET)
		return;
	memcpy(v4, e->addr, 4);
	memset(e->addr, 0, 10);
	e->addr[10] = 0xff;
	e->addr[11] = 0xff;
	memcpy(&e->addr[12], v4, 4);
	e->family = AF_INET6;
}

/*
 * Resolve both endpoints to one family: TCP4 whenever both are IPv4 (plain
 * or mapped), otherwise TCP6 with any IPv4 end mapped.
 */
static int
proxy_ends(const struct sockaddr *src, const struct sockaddr *dst,
    struct proxy_end *s, struct proxy_end *d)
{
	if (proxy_end_set(s, src) == -1 || proxy_end_set(d, dst) == -1)
		return (-1);
	if (s->family != d->family) {
		proxy_end_map6(s);
		proxy_end_map6(d);
	}
	return (s->family);
}

/*
 * v1 line.  It is formatted into a local buffer first because snprintf
 * needs room for a NUL the caller's buffer does not have to provide, and
 * so that a short buffer is refused without being written to.
 */
static ssize_t
proxy_v1(const struct proxy_end *s, const struct proxy_end *d, uint8_t *buf,
    size_t len)
{
	char		 line[PROXY_HDR_MAX];
	char		 sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	const char	*proto;
	uint16_t	 sp, dp;
	int		 n;

	proto = s->family == AF_INET ? "TCP4" : "TCP6";
	if (inet_ntop(s->family, s->addr, sa, sizeof(sa)) == NULL ||
	    inet_ntop(d->family, d->addr, da, sizeof(da)) == NULL)
		return (-1);
	sp = (uint16_t)(s->port[0] << 8 | s->port[1]);
	dp = (uint16_t)(d->port[0] << 8 | d->port[1]);
	n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n", proto,
	    sa, da, (unsigned int)sp, (unsigned int)dp);
	if (n < 0 || (size_t)n >= sizeof(line) || (size_t)n > len)
		return (-1);
	memcpy(buf, line, (size_t)n);
	return (n);
}

/* The 16 bytes every v2 header starts with; alen counts what follows. */
static void
proxy_v2_start(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, uint16_t alen)
{
	memcpy(buf, proxy_v2_sig, sizeof(proxy_v2_sig));
	buf[12] = ver_cmd;
	buf[13] = fam;
	buf[14] = (uint8_t)(alen >> 8);
	buf[15] = (uint8_t)(alen & 0xff);
}

/* v2 PROXY: src addr, dst addr, src port, dst port, no TLVs. */
static ssize_t
proxy_v2(const struct proxy_end *s, const struct proxy_end *d, uint8_t *buf,
    size_t len)
{
	size_t	alen, need;
	size_t	asz;
	uint8_t	fam;

	asz = s->family == AF_INET ? 4 : 16;
	fam = s->family == AF_INET ? PROXY_V2_TCP4 : PROXY_V2_TCP6;
	alen = 2 * asz + 4;
	need = PROXY_V2_HDR + alen;
	if (len < need)
		return (-1);
	proxy_v2_start(buf, PROXY_V2_PROXY, fam, (uint16_t)alen);
	memcpy(buf + PROXY_V2_HDR, s->addr, asz);
	memcpy(buf + PROXY_V2_HDR + asz, d->addr, asz);
	memcpy(buf + PROXY_V2_HDR + 2 * asz, s->port, 2);
	memcpy(buf + PROXY_V2_HDR + 2 * asz + 2, d->port, 2);
	return ((ssize_t)need);
}

/*
 * PROXY_NONE writes nothing and returns 0, so the engine can call this for
 * every backend without a special case.
 */
ssize_t
proxy_header(enum proxy_version v, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *buf, size_t len)
{
	struct proxy_end	s, d;

	if (v == PROXY_NONE)
		return (0);
	if (v != PROXY_V1 && v != PROXY_V2)
		return (-1);
	if (buf == NULL || proxy_ends(src, dst, &s, &d) == -1)
		return (-1);
	if (v == PROXY_V1)
		return (proxy_v1(&s, &d, buf, len));
	return (proxy_v2(&s, &d, buf, len));
}

/*
 * LOCAL tells the receiver to use the real socket endpoints, which is what a
 * health probe wants: it must not be counted as a client connection.
 */
ssize_t
proxy_header_local(uint8_t *buf, size_t len)
{
	if (buf == NULL || len < PROXY_V2_HDR)
		return (-1);
	proxy_v2_start(buf, PROXY_V2_LOCAL, PROXY_V2_UNSPEC, 0);
	return (PROXY_V2_HDR);
}
