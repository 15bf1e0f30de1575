/*
 * XCLIENT, the client side (Postfix's XCLIENT_README): what a server's EHLO
 * reply offers, and the command that tells it the client's address.
 */
#ifndef MXLB_XCLIENT_H
#define MXLB_XCLIENT_H

#include <stddef.h>
#include <sys/socket.h>

/* What an EHLO reply line offers of XCLIENT: a bit per attribute. */
#define XC_OFFERED	0x01	/* the XCLIENT keyword itself */
#define XC_NAME		0x02
#define XC_ADDR		0x04
#define XC_PORT		0x08
#define XC_DESTADDR	0x10
#define XC_DESTPORT	0x20

/* What to send a server that does not offer XCLIENT, to hear its refusal. */
#define XCLIENT_ASK	(XC_OFFERED | XC_ADDR | XC_NAME)

/* XCLIENT_README: a command line stays within 512 characters. */
#define XCLIENT_LINE_MAX	512

unsigned	 xclient_offer(const char *, size_t);
/* The XCLIENT command (with CRLF) for a client and the address it reached,
 * with the attributes offered; its length, or -1 if ADDR is not offered. */
int		 xclient_command(char *, size_t, unsigned,
		    const struct sockaddr *, const struct sockaddr *);

#endif
