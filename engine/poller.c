/*
 * The loop's own epoll set for session sockets.
 *
 * libevent removes a socket from its epoll set on every event_del, one
 * EPOLL_CTL_DEL per socket at each session's end, though the kernel drops
 * a closed socket from every epoll set by itself.  Session sockets are
 * watched here instead, for reading, from the accept or the connect to
 * the close: a session costs two EPOLL_CTL_ADD and nothing more.  The set
 * is one descriptor that libevent watches (one epoll_wait more per
 * wakeup that has session events: fewer calls than the two DELs it saves
 * per session only when many sessions share a wakeup).  So a socket goes
 * to the set when at least POLL_NESTED_MIN others are watched, and to
 * libevent (an event made for it, a DEL at its end) below: at low
 * concurrency a wakeup serves one session.
 *
 * A socket paused (its reader waits for the other side to take what it
 * has) is removed with EPOLL_CTL_DEL, as a level-triggered set would
 * report it again and again: that is the slow path.  A descriptor is
 * closed by its owner after watch_close, never duplicated: a duplicate
 * would keep it in the set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <event2/event_struct.h>

#include "poller.h"

#define POLL_BATCH	256	/* events taken per wakeup */
#define POLL_NESTED_MIN	16	/* sockets watched: 8 sessions */

struct poller {
	struct event_base	*base;
	int			 epfd;
	struct event		 ev;
	/* While dispatching: the events taken, so that a watch closed by
	 * an earlier one is struck off the rest. */
	struct epoll_event	*cur;
	int			 icur, ncur;
	size_t			 nwatch;	/* sockets watched */
};

/* One loop per thread: its set lives with the thread, made on first use
 * (no allocation, nothing to free). */
static _Thread_local struct poller loop_poller = { .epfd = -1 };

static void
poller_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct poller *p = arg;
	struct epoll_event evs[POLL_BATCH];
	int n;

	(void)what;
	n = epoll_wait(fd, evs, POLL_BATCH, 0);
	p->cur = evs;
	p->ncur = n;
	for (p->icur = 0; p->icur < n; p->icur++) {
		struct watch *w = evs[p->icur].data.ptr;
		uint32_t e = evs[p->icur].events;
		short ev = 0;

		if (w == NULL || !w->on)
			continue;
		/* As libevent's epoll gives them: an error or a hang-up
		 * is EV_READ | EV_WRITE, the peer's FIN alone EV_CLOSED. */
		if (e & (EPOLLERR | EPOLLHUP))
			ev = EV_READ | EV_WRITE;
		else if (e & EPOLLRDHUP)
			ev = EV_READ | EV_CLOSED;
		else
			ev = EV_READ;
		w->cb(w->fd, ev, w->arg);
	}
	p->cur = NULL;
	p->ncur = 0;
}

static struct poller *
poller_get(struct event_base *base)
{
	struct poller *p = &loop_poller;

	if (p->base == base && p->epfd != -1)
		return p;
	/* A new loop in this thread (the old one is gone with its
	 * events), or the set could not be made before. */
	if (p->epfd != -1)
		close(p->epfd);
	memset(p, 0, sizeof *p);
	p->base = base;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd == -1)
		return p;
	event_assign(&p->ev, base, p->epfd, EV_READ | EV_PERSIST,
	    poller_dispatch, p);
	if (event_add(&p->ev, NULL) == -1) {
		close(p->epfd);
		p->epfd = -1;
	}
	return p;
}

/* Made before any session (else at the first): a loop's descriptors at
 * rest include its set's. */
void
poller_open(struct event_base *base)
{
	(void)poller_get(base);
}

void
watch_assign(struct watch *w, struct event_base *base, evutil_socket_t fd,
    event_callback_fn cb, void *arg)
{
	struct poller *p = poller_get(base);

	watch_close(w);
	w->p = p;
	w->fd = fd;
	w->on = false;
	w->cb = cb;
	w->arg = arg;
	w->counted = fd != -1;
	if (fd != -1 && p->nwatch++ < POLL_NESTED_MIN &&
	    (w->ev = event_new(base, fd, EV_READ | EV_CLOSED | EV_PERSIST,
	    cb, arg)) == NULL)
		abort();	/* out of memory, as xmalloc */
}

/* 0, or -1 with errno (no set: EMFILE when it could not be made). */
int
watch_add(struct watch *w)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP,
	    .data.ptr = w };

	if (w->on)
		return 0;
	if (w->ev != NULL) {
		if (event_add(w->ev, NULL) == -1)
			return -1;
		w->on = true;
		return 0;
	}
	if (w->p->epfd == -1 && poller_get(w->p->base)->epfd == -1)
		return -1;
	if (epoll_ctl(w->p->epfd, EPOLL_CTL_ADD, w->fd, &e) == -1 &&
	    errno != EEXIST)
		return -1;
	w->on = true;
	return 0;
}

/* Struck off what the dispatch in progress has yet to deliver. */
static void
watch_strike(struct watch *w)
{
	struct poller *p = w->p;

	for (int i = p->icur + 1; p->cur != NULL && i < p->ncur; i++)
		if (p->cur[i].data.ptr == w)
			p->cur[i].data.ptr = NULL;
}

/* Paused: out of the set until watch_add. */
void
watch_del(struct watch *w)
{
	if (!w->on)
		return;
	if (w->ev != NULL)
		event_del(w->ev);
	else
		(void)epoll_ctl(w->p->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->on = false;
	watch_strike(w);
}

/* The descriptor is about to be closed, which takes it out of the set. */
void
watch_close(struct watch *w)
{
	if (w->p == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	w->ev = NULL;
	if (w->counted)
		w->p->nwatch--;
	w->counted = false;
	w->on = false;
	watch_strike(w);
}

bool
watch_pending(const struct watch *w)
{
	return w->on;
}
