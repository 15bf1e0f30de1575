/*
 * The server's side of the SMTP handshake, read by the engine before the
 * client sees anything: the greeting decides (handshake.c), and XCLIENT
 * tells a Postfix the client's address (the probe does it too).
 */
#ifndef MXLB_HANDSHAKE_H
#define MXLB_HANDSHAKE_H

#include <stddef.h>
#include <sys/socket.h>

/* What an EHLO reply line offers of XCLIENT: a bit per attribute. */
#define XC_OFFERED	0x01	/* the XCLIENT keyword itself */
#define XC_NAME		0x02
#define XC_ADDR		0x04
#define XC_PORT		0x08
#define XC_DESTADDR	0x10
#define XC_DESTPORT	0x20

/* XCLIENT_README: a command line stays within 512 characters. */
#define XCLIENT_LINE_MAX	512

unsigned	 xclient_offer(const char *, size_t);
/* The XCLIENT command (with CRLF) for a client and the address it reached,
 * with the attributes offered; its length, or -1 if ADDR is not offered. */
int		 xclient_command(char *, size_t, unsigned,
		    const struct sockaddr *, const struct sockaddr *);

struct session;
void		 handshake_start(struct session *);
void		 handshake_free(struct session *);

#endif
