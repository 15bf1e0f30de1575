/* One client session, from accept to close; shared by session.c (admission
 * and dispatch), queue.c (waiting for a slot) and forward.c (the bytes). */
#ifndef MXLB_SESSION_H
#define MXLB_SESSION_H

#include <sys/time.h>

#include <event2/event_struct.h>

#include "engine.h"
#include "poller.h"
#include "worker.h"

/* A TCP endpoint's address, IPv4 or IPv6: every session holds two, and a
 * sockaddr_storage is 128 bytes where this is 28. */
union tcpaddr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

enum sstate { S_NEW, S_QUEUED, S_CONNECTING, S_GREETING, S_FORWARDING };

/* What another thread posted for a session (worker_post). */
enum smail { MAIL_CONNECT, MAIL_DISPATCH, MAIL_SHUTDOWN };

/* One direction of the byte stream.  Bytes normally go straight from a
 * read to a write; only what the reader could not take waits in `pend`. */
struct flow {
	evutil_socket_t	 src, dst;
	struct watch	*rd;		/* read on src */
	struct event	*wr;		/* write on dst: made when one blocks */
	char		*pend;
	size_t		 off, len;
	uint64_t	 bytes;
	bool		 eof;		/* src said it is done */
	bool		 shut;		/* and dst was told */
};

struct session {
	struct engine		*eng;
	struct worker		*w;		/* its events' loop */
	struct rt_frontend	*fe;
	struct rt_farm		*farm;
	struct rt_server	*srv;
	evutil_socket_t		 cfd, sfd;
	union tcpaddr		 client;
	struct mxaddr		 caddr;
	uint16_t		 lport;		/* frontend port reached */
	enum sstate		 state;

	struct rt_server	**tried;	/* for redispatch */
	size_t			 ntried;

	uint64_t		 start, queued, last;	/* ms */
	/* For the log line: when each step was reached (ms, 0: never), the
	 * wall time of the accept, the server's port. */
	uint64_t		 unqueued, connecting, connected;
	struct timeval		 accepted;
	uint16_t		 sport;
	struct flow		 up, down;	/* client->server, server->client */
	/* Embedded: no allocation per event on the hot path. */
	struct watch		 c_rd, s_rd;	/* poller.c */
	struct event		 timer;		/* queue wait, connect, idle */
	TAILQ_ENTRY(session)	 qentry;
	TAILQ_ENTRY(session)	 aentry;	/* every session, for listing */
	bool			 src_counted;
	bool			 mailed;	/* in w->mail, by qentry */
	uint8_t			 mail;		/* enum smail */
	/* The start of the server's current reply line, to see its 221. */
	char			 head[4];
	uint8_t			 nhead;
	bool			 bye;		/* the server said 221 */
	struct handshake	*hs;		/* S_GREETING: the server's replies */
	/* The frontend address the client reached (local_len 0: not known
	 * yet; a listener on one address knows it without a system call). */
	union tcpaddr		 local;
	socklen_t		 local_len;
	struct relay		*kr;		/* forward kernel: sockmap.c */
};

void	session_end(struct session *, const char *);
void	session_dispatch(struct session *);
void	session_refuse(struct session *, enum refusal);
const struct sockaddr *session_local(struct session *);
void	session_mail(struct session *);

/* queue.c */
void	queue_add(struct session *, struct rt_server *);
void	queue_remove(struct session *);
void	queue_client_read(struct session *);

/* forward.c */
void	forward_connect(struct session *, struct rt_server *);
void	forward_connect_socket(struct session *);
void	forward_free(struct session *);
void	forward_start(struct session *, const char *, size_t);
void	forward_retry(struct session *);
void	forward_connect_failed(struct session *, const char *);
void	forward_read(evutil_socket_t, short, void *);
/* The relay's own steps, unlocked (worker.h): its bytes and its end. */
void	relay_count(struct session *, struct flow *, size_t);
void	relay_end(struct session *, const char *);

#endif
