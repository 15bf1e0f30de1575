/* One client session, from accept to close; shared by session.c (admission
 * and dispatch), queue.c (waiting for a slot) and forward.c (the bytes). */
#ifndef MXLB_SESSION_H
#define MXLB_SESSION_H

#include "engine.h"

enum sstate { S_NEW, S_QUEUED, S_CONNECTING, S_FORWARDING };

struct session {
	struct engine		*eng;
	struct rt_frontend	*fe;
	struct rt_farm		*farm;
	struct rt_server	*srv;
	evutil_socket_t		 cfd;
	struct bufferevent	*cbev, *sbev;
	struct sockaddr_storage	 client;
	struct mxaddr		 caddr;
	uint16_t		 lport;		/* frontend port reached */
	enum sstate		 state;

	struct rt_server	**tried;	/* for redispatch */
	size_t			 ntried;

	uint64_t		 start, queued, last;	/* ms */
	uint64_t		 bytes_in, bytes_out;
	struct event		*timer;		/* queue wait, then idle */
	struct event		*watch;		/* client EOF while queued */
	TAILQ_ENTRY(session)	 qentry;
	bool			 src_counted;
	bool			 cl_eof, sv_eof, cl_shut, sv_shut;
};

void	session_end(struct session *, const char *);
void	session_dispatch(struct session *);
void	session_refuse(struct session *, enum refusal);

/* queue.c */
void	queue_add(struct session *, struct rt_server *);
void	queue_remove(struct session *);

/* forward.c */
void	forward_connect(struct session *, struct rt_server *);
void	forward_free(struct session *);

#endif
