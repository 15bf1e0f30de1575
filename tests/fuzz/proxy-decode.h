/*
 * A PROXY header decoder for the tests (tests/unit/test-proxy.c and the
 * fuzz harness): written from proxy-protocol.txt, independent of
 * engine/proxy.c, and as strict as the receivers (Postfix, Exim) it stands
 * for; test-proxy.c's test_decoder_strict checks its rules.
 */
#ifndef MXLB_FUZZ_PROXY_DECODE_H
#define MXLB_FUZZ_PROXY_DECODE_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#define V1_MAXLINE	107	/* spec: CRLF must appear within this */

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* What a receiver learns from a header. */
struct hdr {
	int		version;	/* 1 or 2 */
	int		local;		/* v2 LOCAL command */
	int		family;		/* AF_INET, AF_INET6 or AF_UNSPEC */
	uint8_t		src[16], dst[16];
	unsigned int	sport, dport;
};

/* Decimal 0..65535, no sign, no leading zeros. */
static int
dec_port(const char *s, unsigned int *port)
{
	size_t		n = strlen(s), i;
	unsigned long	v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return (-1);
	*port = (unsigned int)v;
	return (0);
}

/* Dotted decimal without leading zeros, or IPv6 text. */
static int
dec_addr(int af, const char *s, uint8_t *out)
{
	char	back[INET6_ADDRSTRLEN];

	if (inet_pton(af, s, out) != 1)
		return (-1);
	/* inet_ntop gives the one canonical v4 form; v6 may be written freely. */
	if (af == AF_INET && (inet_ntop(af, out, back, sizeof(back)) == NULL ||
	    strcmp(back, s) != 0))
		return (-1);
	return (0);
}

/*
 * Copy out the v1 line (without CRLF) if CRLF ends it within 107 bytes and
 * no lone CR, LF or NUL precedes it.  Returns the header length.
 */
static int
dec_v1_line(const uint8_t *b, size_t n, char *line)
{
	size_t	i;

	for (i = 0; i < n && i < V1_MAXLINE; i++) {
		if (b[i] == '\r') {
			if (i + 1 >= n || i + 1 >= V1_MAXLINE || b[i + 1] != '\n')
				return (-1);
			memcpy(line, b, i);
			line[i] = '\0';
			return ((int)i + 2);
		}
		if (b[i] == '\n' || b[i] == '\0')
			return (-1);
	}
	return (-1);
}

/* Split on single spaces; an empty field means two spaces in a row. */
static int
dec_split(char *line, char **f, int max)
{
	int	nf = 0, i;
	char	*p = line, *sp;

	for (;;) {
		if (nf == max)
			return (-1);
		f[nf++] = p;
		if ((sp = strchr(p, ' ')) == NULL)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	for (i = 0; i < nf; i++)
		if (f[i][0] == '\0')
			return (-1);
	return (nf);
}

static int
dec_v1(const uint8_t *b, size_t n, struct hdr *h)
{
	char	line[V1_MAXLINE + 1], *f[7];
	int	hl, nf, af;

	memset(h, 0, sizeof(*h));
	if (n < 8 || memcmp(b, "PROXY ", 6) != 0)
		return (-1);
	if ((hl = dec_v1_line(b, n, line)) == -1)
		return (-1);
	if ((nf = dec_split(line, f, 7)) != 6)
		return (-1);
	if (strcmp(f[1], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		af = AF_INET6;
	else
		return (-1);	/* UNKNOWN is never to be sent by mxlb */
	if (dec_addr(af, f[2], h->src) == -1 ||
	    dec_addr(af, f[3], h->dst) == -1 ||
	    dec_port(f[4], &h->sport) == -1 || dec_port(f[5], &h->dport) == -1)
		return (-1);
	h->version = 1;
	h->family = af;
	return (hl);
}

static int
dec_v2(const uint8_t *b, size_t n, struct hdr *h)
{
	size_t	len, asz;

	memset(h, 0, sizeof(*h));
	if (n < 16 || memcmp(b, sig, 12) != 0 || (b[12] & 0xf0) != 0x20)
		return (-1);
	if ((b[12] & 0x0f) > 1)
		return (-1);
	len = (size_t)b[14] << 8 | b[15];
	if (n < 16 + len)
		return (-1);
	h->version = 2;
	h->local = (b[12] & 0x0f) == 0;
	if (b[13] == 0x00) {
		h->family = AF_UNSPEC;
		return (h->local ? (int)(16 + len) : -1);
	}
	if (b[13] != 0x11 && b[13] != 0x21)
		return (-1);
	h->family = b[13] == 0x11 ? AF_INET : AF_INET6;
	asz = b[13] == 0x11 ? 4 : 16;
	if (len < 2 * asz + 4)
		return (-1);
	memcpy(h->src, b + 16, asz);
	memcpy(h->dst, b + 16 + asz, asz);
	h->sport = (unsigned int)b[16 + 2 * asz] << 8 | b[17 + 2 * asz];
	h->dport = (unsigned int)b[18 + 2 * asz] << 8 | b[19 + 2 * asz];
	return ((int)(16 + len));
}

#endif
