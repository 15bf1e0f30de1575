/*
 * XCLIENT, the client side (Postfix's XCLIENT_README): what a server's EHLO
 * reply offers, and the command that tells it the client's address.  Used
 * by sessions (handshake.c) and the SMTP probe.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "util.h"
#include "xclient.h"

/* The EHLO keyword line "XCLIENT NAME ADDR ...": what it offers. */
unsigned
xclient_offer(const char *l, size_t n)
{
	static const struct { const char *name; unsigned bit; } attrs[] = {
		{ "NAME", XC_NAME }, { "ADDR", XC_ADDR }, { "PORT", XC_PORT },
		{ "DESTADDR", XC_DESTADDR }, { "DESTPORT", XC_DESTPORT },
	};
	unsigned bits = 0;
	size_t i = 4;
	char w[32];

	while (n >= 4 && i < n) {
		size_t k = 0;

		while (i < n && l[i] == ' ')
			i++;
		for (; i < n && l[i] != ' '; i++)
			if (k < sizeof w - 1)
				w[k++] = l[i];
		w[k] = '\0';
		if (k == 0)
			break;
		if (bits == 0) {
			if (strcasecmp(w, "XCLIENT") != 0)
				return 0;
			bits = XC_OFFERED;
			continue;
		}
		for (size_t a = 0; a < nitems(attrs); a++)
			if (strcasecmp(w, attrs[a].name) == 0)
				bits |= attrs[a].bit;
	}
	return bits;
}

/* RFC 1891 xtext: '+', '=' and what is not printable ASCII as +XX. */
static void
xtext(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; *src != '\0' && o + 4 < len; src++) {
		unsigned char c = (unsigned char)*src;
		if (c < '!' || c > '~' || c == '+' || c == '=')
			o += (size_t)snprintf(dst + o, len - o, "+%02X", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

/* ADDR's form: IPv4 as is, IPv6 as IPV6:addr (XCLIENT_README). */
static void
xclient_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	struct mxaddr a;
	char host[ADDR_STRLEN];

	addr_from_sockaddr(&a, sa);
	if (a.family == 0) {
		strlcpy_(buf, "[UNAVAILABLE]", len);
		return;
	}
	addr_format(&a, host, sizeof host);
	snprintf(buf, len, "%s%s", a.family == AF_INET6 ? "IPV6:" : "",
	    host);
}

static void
xclient_attr(char *buf, size_t len, size_t *off, const char *name,
    const char *value)
{
	char x[ADDR_STRLEN * 3 + 8];

	xtext(x, sizeof x, value);
	if (*off < len)
		*off += (size_t)snprintf(buf + *off, len - *off, " %s=%s",
		    name, x);
}

/* NAME and ADDR last: once ADDR is sent, a server may take the sender for
 * the client, no longer authorised to send XCLIENT (XCLIENT_README). */
int
xclient_command(char *buf, size_t len, unsigned offer,
    const struct sockaddr *client, const struct sockaddr *dest)
{
	char v[ADDR_STRLEN + 8];
	size_t off;

	if (!(offer & XC_ADDR))
		return -1;
	off = (size_t)snprintf(buf, len, "XCLIENT");
	if (offer & XC_PORT) {
		snprintf(v, sizeof v, "%u", sockaddr_port(client));
		xclient_attr(buf, len, &off, "PORT", v);
	}
	if (dest != NULL && (offer & XC_DESTADDR)) {
		xclient_addr(dest, v, sizeof v);
		xclient_attr(buf, len, &off, "DESTADDR", v);
	}
	if (dest != NULL && (offer & XC_DESTPORT)) {
		snprintf(v, sizeof v, "%u", sockaddr_port(dest));
		xclient_attr(buf, len, &off, "DESTPORT", v);
	}
	if (offer & XC_NAME)
		xclient_attr(buf, len, &off, "NAME", "[UNAVAILABLE]");
	xclient_addr(client, v, sizeof v);
	xclient_attr(buf, len, &off, "ADDR", v);
	if (off + 3 > len)
		return -1;
	memcpy(buf + off, "\r\n", 3);
	return (int)off + 2;
}
