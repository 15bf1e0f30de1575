/* Listening sockets.  A listener outlives config changes that keep its
 * address and port, so clients never see a refused connection. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "worker.h"

#define LISTEN_BACKLOG	1024

static void
listener_retry(evutil_socket_t fd, short what, void *arg)
{
	struct lsock *ls = arg;

	(void)fd;
	(void)what;
	event_add(ls->ev, NULL);
}

/* Out of descriptors: pause accepting instead of spinning on the error;
 * sessions in flight go on and free descriptors as they end. */
static void
listener_pause(struct lsock *ls, int err)
{
	struct timeval tv = { 0, 250 * 1000 };

	log_err("accept: %s: pausing for 250 ms", strerror(err));
	event_del(ls->ev);
	evtimer_add(ls->retry, &tv);
}

/*
 * In the socket's worker; a listener being closed (ls->l NULL, under the
 * lock) takes no more sessions.
 *
 * One accept per readiness.  The accept that finds the queue empty
 * (EAGAIN) is a system call for nothing, and with more than one per
 * readiness it came on most: 0.57 per session at concurrency 16, 1 at
 * concurrency 1 (perf, untraced).  A listener with more clients waiting
 * stays ready, and the next epoll_wait, which the loop makes anyway for
 * the sessions in flight, reports it again: those sessions get their turn
 * between two accepts, and a burst of new clients does not starve them.
 */
static void
listener_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct lsock *ls = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	(void)what;
	len = sizeof ss;
	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		/* Else EAGAIN: the client left, or the other engine of a
		 * takeover, which shares the socket, took it. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			listener_pause(ls, errno);
		return;
	}
	engine_lock();
	if (ls->l != NULL)
		session_accept(ls->l, ls->w, fd, (struct sockaddr *)&ss,
		    (int)len);
	else
		close(fd);
	engine_unlock();
}

static bool
listen_dualstack(const struct mxaddr *a)
{
	return a->family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

static int
socket_setup(int fd, const struct mxaddr *a)
{
	int one = 1, zero = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
		return -1;
	/* One socket per worker on the same address; only then, so that
	 * a second engine on a port in use still fails to start. */
	if (engine_threaded && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof one) == -1)
		return -1;
	/* Accepted sockets inherit it: no call per session. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* Lets keepalived move a VIP here after we started. */
	if (a->family == AF_INET6 || a->family == 0)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one,
		    sizeof one);
	(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
	/* "All addresses" and "::" are one dual-stack socket, whatever the
	 * host's net.ipv6.bindv6only says: IPv4 clients arrive as
	 * ::ffff:a.b.c.d, which addr_from_sockaddr() makes plain IPv4. */
	if ((a->family == 0 || listen_dualstack(a)) && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) == -1)
		return -1;
	if (a->family == AF_INET6 && !listen_dualstack(a) && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == -1)
		return -1;
	return 0;
}

static int
socket_listen(const struct mxaddr *a, uint16_t port, char *what, size_t len)
{
	struct sockaddr_storage ss;
	struct mxaddr any;
	socklen_t sl;
	int fd, family;

	if (a->family == 0) {
		memset(&any, 0, sizeof any);
		any.family = AF_INET6;	/* :: */
		sl = addr_to_sockaddr(&any, port, &ss);
	} else
		sl = addr_to_sockaddr(a, port, &ss);
	family = ss.ss_family;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(what, len, "socket: %s", strerror(errno));
		return -1;
	}
	if (socket_setup(fd, a) == -1 || bind(fd, (struct sockaddr *)&ss, sl)
	    == -1 || listen(fd, LISTEN_BACKLOG) == -1) {
		snprintf(what, len, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct lsock *
lsock_new(struct listener *l, struct worker *w, int fd)
{
	struct lsock *ls = xcalloc(1, sizeof *ls);

	ls->l = l;
	ls->w = w;
	ls->fd = fd;
	ls->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, listener_accept,
	    ls);
	ls->retry = evtimer_new(w->base, listener_retry, ls);
	event_add(ls->ev, NULL);
	return ls;
}

/* In the socket's worker, under the lock. */
static void
lsock_free(void *arg)
{
	struct lsock *ls = arg;

	event_free(ls->ev);
	event_free(ls->retry);
	close(ls->fd);
	free(ls);
}

static void
lsock_close(struct lsock *ls)
{
	ls->l = NULL;
	if (worker_owns(ls->w))
		lsock_free(ls);
	else
		worker_call(ls->w, lsock_free, ls);
}

/*
 * fd is worker 0's socket; each other worker gets its own on the same
 * address (SO_REUSEPORT: the kernel spreads the connections).  One it
 * cannot have (a socket received at a takeover from an engine without
 * workers is alone on its port) leaves that address to the others.
 */
/* A socket received at a takeover for this address, -1 if none is left. */
static int
adopted_take(struct engine *eng, const struct mxaddr *a, uint16_t port)
{
	int fd;

	for (size_t i = 0; i < eng->nadopt; i++) {
		struct adopted *ad = &eng->adopt[i];
		if (ad->fd == -1 || ad->port != port || ad->addr.family !=
		    a->family || (a->family != 0 && addr_cmp(&ad->addr, a) != 0))
			continue;
		fd = ad->fd;
		ad->fd = -1;	/* the listener owns it now */
		/* From an engine without workers: the workers' sockets can
		 * join it only if it allows them. */
		if (engine_threaded)
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &(int){ 1 },
			    sizeof(int));
		return fd;
	}
	return -1;
}

/*
 * fd is worker 0's socket; each other worker gets its own on the same
 * address (SO_REUSEPORT: the kernel spreads the connections): one the old
 * engine had, at a takeover, or a new one.  The old engine's sockets are
 * all kept, even more than there are workers: closing one would reset
 * the clients in its queue.  One a worker cannot have (the port is
 * another's) leaves that address to the others.
 */
static struct listener *
listener_wrap(struct engine *eng, const struct mxaddr *a, uint16_t port, int fd)
{
	struct listener *l = xcalloc(1, sizeof *l);
	char what[128];
	int wfd;

	l->eng = eng;
	l->addr = *a;
	l->port = port;
	l->fd = fd;
	*ARRAY_PUSH(l->socks, l->nsocks) = lsock_new(l, eng->workers[0], fd);
	while ((wfd = adopted_take(eng, a, port)) != -1) {
		struct worker *w = eng->workers[l->nsocks % eng->nworkers];
		*ARRAY_PUSH(l->socks, l->nsocks) = lsock_new(l, w, wfd);
	}
	for (size_t i = l->nsocks; i < eng->nworkers; i++) {
		if ((wfd = socket_listen(a, port, what, sizeof what)) == -1) {
			log_warn("listen: port %u: worker %zu: %s: the other "
			    "workers serve it", port, i, what);
			continue;
		}
		*ARRAY_PUSH(l->socks, l->nsocks) = lsock_new(l,
		    eng->workers[i], wfd);
	}
	return l;
}

struct listener *
listener_open(struct engine *eng, const struct mxaddr *a, uint16_t port,
    struct errs *e)
{
	char what[128], host[ADDR_STRLEN] = "*";
	int fd;

	if ((fd = adopted_take(eng, a, port)) != -1)
		return listener_wrap(eng, a, port, fd);
	if (a->family != 0)
		addr_format(a, host, sizeof host);
	if ((fd = socket_listen(a, port, what, sizeof what)) == -1) {
		errs_add(e, "listen on %s%s%s:%u: %s", a->family == AF_INET6 ?
		    "[" : "", host, a->family == AF_INET6 ? "]" : "", port,
		    what);
		return NULL;
	}
	return listener_wrap(eng, a, port, fd);
}

/*
 * A listening socket received from the engine we take over: it must be a
 * TCP socket that listens (not any descriptor a peer could pass), bound
 * where the old engine says, so that it serves the right frontend.  On
 * success it waits in eng->adopt for the config that wants it.
 */
int
listener_adopt(struct engine *eng, int fd, const struct mxaddr *a,
    uint16_t port, char *why, size_t len)
{
	struct sockaddr_storage ss;
	struct mxaddr got, want = *a;
	socklen_t sl = sizeof ss;
	int type = 0, acc = 0, fl;
	socklen_t il = sizeof type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) == -1 ||
	    type != SOCK_STREAM) {
		snprintf(why, len, "not a stream socket");
		return -1;
	}
	il = sizeof acc;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &il) == -1 ||
	    acc != 1) {
		snprintf(why, len, "not listening");
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		snprintf(why, len, "not a TCP socket");
		return -1;
	}
	/* Every address is one dual-stack socket on "::" (socket_listen). */
	if (want.family == 0)
		want.family = AF_INET6;
	addr_from_sockaddr(&got, (struct sockaddr *)&ss);
	if (ss.ss_family != want.family || addr_cmp(&got, &want) != 0 ||
	    sockaddr_port((struct sockaddr *)&ss) != port) {
		char host[ADDR_STRLEN];
		sockaddr_format((struct sockaddr *)&ss, host, sizeof host);
		snprintf(why, len, "bound to %s, not to the address it was "
		    "sent for", host);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		snprintf(why, len, "fcntl: %s", strerror(errno));
		return -1;
	}
	eng->adopt = xreallocarray(eng->adopt, eng->nadopt + 1,
	    sizeof *eng->adopt);
	eng->adopt[eng->nadopt].addr = *a;
	eng->adopt[eng->nadopt].port = port;
	eng->adopt[eng->nadopt++].fd = fd;
	return 0;
}

/* Received sockets no frontend wanted (the config changed in between). */
void
listener_adopt_end(struct engine *eng)
{
	for (size_t i = 0; i < eng->nadopt; i++) {
		if (eng->adopt[i].fd == -1)
			continue;
		log_warn("takeover: port %u of the old engine is in no "
		    "frontend of the running config: closed",
		    eng->adopt[i].port);
		close(eng->adopt[i].fd);
	}
	free(eng->adopt);
	eng->adopt = NULL;
	eng->nadopt = 0;
}

void
listener_close(struct listener *l)
{
	for (size_t i = 0; i < l->nsocks; i++)
		lsock_close(l->socks[i]);
	free(l->socks);
	free(l);
}
