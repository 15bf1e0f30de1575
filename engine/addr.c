/* Addresses, CIDR blocks and port lists: parsing, printing, matching. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

int
addr_parse(struct mxaddr *a, const char *s, char *err, size_t errlen)
{
	char buf[ADDR_STRLEN];
	size_t len = strlen(s);

	memset(a, 0, sizeof *a);
	/* Accept the bracketed form people copy from URLs and logs. */
	if (len > 2 && s[0] == '[' && s[len - 1] == ']' && len - 2 < sizeof buf) {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	snprintf(err, errlen, "\"%.60s\" is not an IPv4 or IPv6 address", s);
	return -1;
}

/* v in decimal at p, without a terminator; where it ends. */
static char *
fmt_uint(char *p, unsigned v)
{
	char d[10];
	int n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = d[--n];
	return p;
}

void
addr_format(const struct mxaddr *a, char *buf, size_t len)
{
	/* Every session's log line has two or three addresses: glibc's
	 * inet_ntop formats IPv4 with sprintf, a third of the line's cost. */
	if (a->family == AF_INET && len >= INET_ADDRSTRLEN) {
		const uint8_t *b = (const uint8_t *)&a->v4;

		for (int i = 0; i < 4; i++) {
			buf = fmt_uint(buf, b[i]);
			*buf++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (inet_ntop(a->family, a->family == AF_INET ? (const void *)&a->v4 :
	    (const void *)&a->v6, buf, len) == NULL)
		strlcpy_(buf, "?", len);
}

int
addr_cmp(const struct mxaddr *a, const struct mxaddr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == AF_INET)
		return memcmp(&a->v4, &b->v4, sizeof a->v4);
	return memcmp(&a->v6, &b->v6, sizeof a->v6);
}

/* A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; the model
 * (and every CIDR an operator writes) speaks plain IPv4 for them. */
void
addr_from_sockaddr(struct mxaddr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		a->v4 = ((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *v6 =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(v6)) {
			a->family = AF_INET;
			memcpy(&a->v4, &v6->s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			a->v6 = *v6;
		}
	}
}

socklen_t
addr_to_sockaddr(const struct mxaddr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->v4;
		return sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->v6;
		return sizeof *sin6;
	}
}

/*
 * A non-blocking socket for a connection the engine makes (a session's
 * server side, a probe).  SO_REUSEADDR, kept by its TIME_WAIT, lets a
 * zone listen later on the ephemeral port it used; without it that port
 * stays taken for a minute.  IP_BIND_ADDRESS_NO_PORT: if a source address
 * is bound, the port is chosen at connect, per destination, instead of
 * one port per bind out of the ephemeral range.
 */
int
addr_socket_out(int family)
{
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof one);
	return fd;
}

uint16_t
sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* "1.2.3.4:25" or "[::1]:25", the way mail logs write endpoints. */
void
sockaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	struct mxaddr a;
	char host[ADDR_STRLEN];

	addr_from_sockaddr(&a, sa);
	if (a.family == 0) {
		strlcpy_(buf, "-", len);
		return;
	}
	addr_format(&a, host, sizeof host);
	if (len >= sizeof host + sizeof "[]:65535") {
		char *p = buf;
		size_t n = strlen(host);

		if (a.family == AF_INET6)
			*p++ = '[';
		memcpy(p, host, n);
		p += n;
		if (a.family == AF_INET6)
			*p++ = ']';
		*p++ = ':';
		*fmt_uint(p, sockaddr_port(sa)) = '\0';
		return;
	}
	snprintf(buf, len, a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
	    sockaddr_port(sa));
}

static size_t
addr_bits(const struct mxaddr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

static const uint8_t *
addr_bytes(const struct mxaddr *a)
{
	return a->family == AF_INET ? (const uint8_t *)&a->v4 :
	    (const uint8_t *)&a->v6;
}

/* True when the first `bits` bits of two same-family addresses agree. */
static bool
prefix_equal(const uint8_t *x, const uint8_t *y, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(x, y, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((x[full] ^ y[full]) & (0xff << (8 - rest))) == 0;
}

int
cidr_parse(struct cidr *c, const char *s, char *err, size_t errlen)
{
	char buf[ADDR_STRLEN], *slash, *end;
	long prefix;

	memset(c, 0, sizeof *c);	/* padding too: lists compare bytes */
	if (strlen(s) >= sizeof buf) {
		snprintf(err, errlen, "\"%.60s...\" is not a CIDR block", s);
		return -1;
	}
	strlcpy_(buf, s, sizeof buf);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(&c->addr, buf, err, errlen) == -1)
		return -1;
	if (slash == NULL) {
		c->prefix = (uint8_t)addr_bits(&c->addr);
		return 0;
	}
	errno = 0;
	prefix = strtol(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' || !isdigit((unsigned char)*slash) ||
	    prefix < 0 || (size_t)prefix > addr_bits(&c->addr)) {
		snprintf(err, errlen, "\"%s\": prefix length must be 0-%zu", s,
		    addr_bits(&c->addr));
		return -1;
	}
	c->prefix = (uint8_t)prefix;
	/* Host bits set is almost always a typo for another network. */
	for (size_t bit = c->prefix; bit < addr_bits(&c->addr); bit++) {
		if (addr_bytes(&c->addr)[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(err, errlen,
			    "\"%s\" has host bits set after /%u", s, c->prefix);
			return -1;
		}
	}
	return 0;
}

void
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	addr_format(&c->addr, a, sizeof a);
	if (c->prefix == addr_bits(&c->addr))
		strlcpy_(buf, a, len);
	else
		snprintf(buf, len, "%s/%u", a, c->prefix);
}

bool
cidr_match(const struct cidr *c, const struct mxaddr *a)
{
	if (c->addr.family != a->family)
		return false;
	return prefix_equal(addr_bytes(&c->addr), addr_bytes(a), c->prefix);
}

static bool
cidr_has(const void *c, const void *a)
{
	return cidr_match(c, a);
}

bool
cidrlist_match(const struct cidrlist *l, const struct mxaddr *a)
{
	return set_has(l->v, l->n, sizeof *l->v, a, cidr_has);
}

static int
cidr_cmp(const struct cidr *a, const struct cidr *b)
{
	int r = addr_cmp(&a->addr, &b->addr);

	return r != 0 ? r : (int)a->prefix - (int)b->prefix;
}

/* Sorted insert without duplicates: lists compare as sets. */
void
addrlist_add(struct addrlist *l, const struct mxaddr *a)
{
	size_t i = 0;

	while (i < l->n && addr_cmp(&l->v[i], a) < 0)
		i++;
	if (i < l->n && addr_cmp(&l->v[i], a) == 0)
		return;
	*ARRAY_INSERT(l->v, l->n, i) = *a;
}

void
cidrlist_add(struct cidrlist *l, const struct cidr *c)
{
	size_t i = 0;

	while (i < l->n && cidr_cmp(&l->v[i], c) < 0)
		i++;
	if (i < l->n && cidr_cmp(&l->v[i], c) == 0)
		return;
	*ARRAY_INSERT(l->v, l->n, i) = *c;
}

/* Calls fn on each comma-separated item; empty items are an error. */
static int
list_each(const char *s, const char *what, char *err, size_t errlen,
    int (*fn)(void *, const char *, char *, size_t), void *arg)
{
	char *copy = xstrdup(s), *p = copy, *item;
	int rc = 0;

	if (*s == '\0') {
		snprintf(err, errlen, "empty %s list", what);
		rc = -1;
	}
	while (rc == 0 && (item = strsep(&p, ",")) != NULL) {
		if (*item == '\0') {
			snprintf(err, errlen, "empty item in %s list \"%.60s\"",
			    what, s);
			rc = -1;
		} else
			rc = fn(arg, item, err, errlen);
	}
	free(copy);
	return rc;
}

static int
addrlist_item(void *arg, const char *s, char *err, size_t errlen)
{
	struct mxaddr a;

	if (addr_parse(&a, s, err, errlen) == -1)
		return -1;
	addrlist_add(arg, &a);
	return 0;
}

int
addrlist_parse(struct addrlist *l, const char *s, char *err, size_t errlen)
{
	return list_each(s, "address", err, errlen, addrlist_item, l);
}

static int
cidrlist_item(void *arg, const char *s, char *err, size_t errlen)
{
	struct cidr c;

	if (cidr_parse(&c, s, err, errlen) == -1)
		return -1;
	cidrlist_add(arg, &c);
	return 0;
}

int
cidrlist_parse(struct cidrlist *l, const char *s, char *err, size_t errlen)
{
	return list_each(s, "CIDR", err, errlen, cidrlist_item, l);
}

/* A port in [min, max], which stays within what 16 bits hold. */
int
port_parse(const char *s, long min, long max, uint16_t *port, char *err,
    size_t errlen)
{
	char *end;
	long v;

	if (min < 0)
		min = 0;
	if (max > UINT16_MAX)
		max = UINT16_MAX;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		snprintf(err, errlen, "\"%.20s\" is not a port (%ld-%ld)", s,
		    min, max);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* Ranges are merged as they come, so "25,26,20-24" is kept as 20-26. */
static void
portlist_add(struct portlist *l, uint16_t lo, uint16_t hi)
{
	size_t i = 0, j;

	while (i < l->n && (uint32_t)l->v[i].hi + 1 < lo)
		i++;
	j = i;
	while (j < l->n && l->v[j].lo <= (uint32_t)hi + 1) {
		if (l->v[j].lo < lo)
			lo = l->v[j].lo;
		if (l->v[j].hi > hi)
			hi = l->v[j].hi;
		j++;
	}
	if (j == i)
		(void)ARRAY_INSERT(l->v, l->n, i);
	else {
		memmove(&l->v[i + 1], &l->v[j], (l->n - j) * sizeof *l->v);
		l->n -= j - i - 1;
	}
	l->v[i].lo = lo;
	l->v[i].hi = hi;
}

struct portlist_arg {
	struct portlist	*l;
	long		 min, max;
};

static int
portlist_item(void *arg, const char *s, char *err, size_t errlen)
{
	struct portlist_arg *a = arg;
	struct portlist *l = a->l;
	char buf[32], *dash;
	uint16_t lo, hi;

	if (strlen(s) >= sizeof buf) {
		snprintf(err, errlen, "\"%.20s...\" is not a port or range", s);
		return -1;
	}
	strlcpy_(buf, s, sizeof buf);
	if ((dash = strchr(buf, '-')) != NULL)
		*dash++ = '\0';
	if (port_parse(buf, a->min, a->max, &lo, err, errlen) == -1)
		return -1;
	hi = lo;
	if (dash != NULL &&
	    port_parse(dash, a->min, a->max, &hi, err, errlen) == -1)
		return -1;
	if (hi < lo) {
		snprintf(err, errlen, "port range \"%s\" ends before it starts",
		    s);
		return -1;
	}
	portlist_add(l, lo, hi);
	if (portlist_count(l) > PORTLIST_MAX) {
		snprintf(err, errlen, "more than %d ports in one list",
		    PORTLIST_MAX);
		return -1;
	}
	return 0;
}

int
portlist_parse(struct portlist *l, const char *s, long min, long max,
    char *err, size_t errlen)
{
	struct portlist_arg a = { l, min, max };

	return list_each(s, "port", err, errlen, portlist_item, &a);
}

char *
portlist_format(const struct portlist *l)
{
	size_t len = l->n * 12 + 1, off = 0;
	char *s = xmalloc(len);

	s[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		off += (size_t)snprintf(s + off, len - off, "%s%u", i ? "," : "",
		    l->v[i].lo);
		if (l->v[i].hi != l->v[i].lo)
			off += (size_t)snprintf(s + off, len - off, "-%u",
			    l->v[i].hi);
	}
	return s;
}

size_t
portlist_count(const struct portlist *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += (size_t)l->v[i].hi - l->v[i].lo + 1;
	return n;
}

static bool
prange_has(const void *r, const void *port)
{
	const struct prange *pr = r;
	uint16_t p = *(const uint16_t *)port;

	return p >= pr->lo && p <= pr->hi;
}

bool
portlist_has(const struct portlist *l, uint16_t port)
{
	return set_has(l->v, l->n, sizeof *l->v, &port, prange_has);
}
