/*
 * The client side of the control protocol (engine/proto.h), shared by the
 * shell, the monitor, `check` and `bridge`: one connection per zone (its
 * socket, or a remote zone's command), a `hello` that checks the protocol
 * version, an id per request checked on its reply, one bounded line
 * reader, a connect-and-answer timeout, and errors that tell a missing,
 * crashed, forbidden, hung or incompatible engine apart.
 */
#ifndef MXLB_PEER_H
#define MXLB_PEER_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

enum peer_status {
	PEER_OK,
	PEER_NO_SOCKET,		/* nothing at the path: no engine */
	PEER_REFUSED,		/* a socket nobody listens on: a crash */
	PEER_DENIED,		/* the socket's mode or the engine said no */
	PEER_TIMEOUT,		/* no answer in time: hung */
	PEER_VERSION,		/* another protocol version */
	PEER_CLOSED,		/* the engine went away */
	PEER_BROKEN,		/* not the protocol: bad JSON, wrong id */
	PEER_INTERRUPTED,	/* the operator pressed Ctrl-C */
	PEER_ENGINE,		/* the engine answered with an error */
};

struct peer;

/* Connect and answer timeout, --timeout SEC; 10 s by default. */
extern int			peer_timeout_ms;
/* Set by SIGINT: a wait in progress stops. */
extern volatile sig_atomic_t	peer_interrupted;

struct peer	*peer_new(const char *zone, const char *sock, const char *cmd);
void		 peer_free(struct peer *);
/* Connected and said hello; -1 with the reason in err. */
int		 peer_open(struct peer *, char *, size_t);
/* The bare stream without hello (bridge): the fd, or -1. */
int		 peer_connect(struct peer *, char *, size_t);
void		 peer_close(struct peer *);
bool		 peer_connected(const struct peer *);
/* Sends req (taking it), returns the reply's result; NULL with the reason
 * in err and peer_status() telling which.  timeout_ms 0: the default. */
json_t		*peer_call(struct peer *, json_t *, int, char *, size_t);
enum peer_status peer_status(const struct peer *);
/* The hello's result, while connected. */
json_t		*peer_hello(const struct peer *);
/* Asks for events on this connection (after peer_open). */
int		 peer_subscribe(struct peer *, char *, size_t);
bool		 peer_subscribed(const struct peer *);
/* The fd to poll for events, or -1. */
int		 peer_fd(const struct peer *);
/* Reads what arrived without waiting; the events, oldest first, are
 * appended to out.  -1 when the engine went away (err says so). */
int		 peer_events(struct peer *, json_t *, char *, size_t);
/* Events that arrived during a call, kept for peer_events. */
bool		 peer_has_events(const struct peer *);

#endif
