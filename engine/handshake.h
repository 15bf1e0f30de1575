/*
 * The server's side of the SMTP handshake, read by the engine before the
 * client sees anything: the greeting decides (handshake.c), and XCLIENT
 * tells a Postfix the client's address (the probe does it too).
 */
#ifndef MXLB_HANDSHAKE_H
#define MXLB_HANDSHAKE_H

#include <event2/util.h>

#include "xclient.h"

struct session;
void		 handshake_start(struct session *);
void		 handshake_free(struct session *);
void		 handshake_read(evutil_socket_t, short, void *);
void		 handshake_client_read(struct session *);

#endif
