/*
 * Session sockets watched for reading in an epoll set of the loop's own
 * (poller.c), itself watched by libevent: a socket leaves the set by
 * being closed, with no EPOLL_CTL_DEL (libevent issues one on every
 * event_del).
 */
#ifndef MXLB_POLLER_H
#define MXLB_POLLER_H

#include <stdbool.h>

#include <event2/event.h>

struct poller;

/* One socket's watch for reading (EPOLLIN, EPOLLRDHUP); cb gets EV_READ,
 * with EV_CLOSED when the peer's FIN has come, EV_READ | EV_WRITE on an
 * error or a hang-up, as libevent gives them. */
struct watch {
	struct poller	*p;
	struct event	*ev;		/* libevent's, at low load */
	evutil_socket_t	 fd;
	bool		 on;		/* watched */
	bool		 counted;	/* in p->nwatch */
	event_callback_fn cb;
	void		*arg;
};

void	poller_open(struct event_base *);
void	watch_assign(struct watch *, struct event_base *, evutil_socket_t,
	    event_callback_fn, void *);
int	watch_add(struct watch *);
void	watch_del(struct watch *);
void	watch_close(struct watch *);
bool	watch_pending(const struct watch *);

#endif
