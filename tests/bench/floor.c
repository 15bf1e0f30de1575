/*
 * The floor: the least a relay can do for an SMTP session, for the bench
 * to set mxlbd's CPU beside (BENCH_FLOOR=1, tests/bench/cpu.md).  It
 * accepts, connects to the next of its servers, and copies bytes both ways
 * until either side closes, then closes both.  Nothing else: no log, no
 * probe, no timer, no limit, no PROXY header, no handshake; a write that
 * would block waits for the socket in poll(2), which a real balancer could
 * not do.  Not part of mxlb: a measuring stick, built by bench.sh.
 *
 *   floor epoll|uring PORT SERVER-PORT [SERVER-PORT]   (127.0.0.1 only)
 *
 * epoll: one level-triggered registration per socket for its life, a
 * recv and a send per readiness (what mxlbd's poller does).
 * uring (built with -DFLOOR_URING and liburing): the same relay on
 * io_uring, one ring as the only waiter (DEFER_TASKRUN), a multishot
 * accept, and per side a one-shot recv whose completion queues the send to
 * the other side, whose completion queues the next recv: a wakeup submits
 * and reaps in one io_uring_enter, however many sessions it serves.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef FLOOR_URING
#include <liburing.h>
#endif

#define BUF	65536	/* as mxlbd's FLOW_READ */

static struct sockaddr_in servers[2];
static int nservers, next_server;

struct session;
struct side {
	struct session	*s;
	int		 fd;
	int		 index;		/* 0 client, 1 server */
	char		*buf;		/* uring: the recv's buffer */
};
struct session {
	struct side	 side[2];
	int		 pending;	/* uring: operations in flight */
	int		 dead;
};

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		perror("floor: calloc");
		exit(1);
	}
	return p;
}

static int
listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* Inherited by every accepted socket, as in mxlbd. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(fd, 4096) == -1) {
		perror("floor: listen");
		exit(1);
	}
	return fd;
}

static struct session *
session_new(int cfd)
{
	struct session *s = xcalloc(1, sizeof *s);
	int one = 1, sfd;

	sfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->side[0] = (struct side){ s, cfd, 0, NULL };
	s->side[1] = (struct side){ s, sfd, 1, NULL };
	return s;
}

static const struct sockaddr *
server_next(void)
{
	return (const struct sockaddr *)&servers[next_server++ % nservers];
}

/* ---- epoll ----------------------------------------------------------- */

static void
send_all(int fd, const char *p, ssize_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		struct pollfd pfd = { fd, POLLOUT, 0 };

		if (w > 0) {
			p += w;
			n -= w;
		} else if (w == -1 && errno == EAGAIN)
			(void)poll(&pfd, 1, 1000);
		else
			return;
	}
}

static void
epoll_accept(int ep, int lfd)
{
	struct session *s;
	int cfd;

	cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1)
		return;
	s = session_new(cfd);
	(void)connect(s->side[1].fd, server_next(), sizeof servers[0]);
	for (int i = 0; i < 2; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP,
		    .data.ptr = &s->side[i] };

		epoll_ctl(ep, EPOLL_CTL_ADD, s->side[i].fd, &e);
	}
}

static void
run_epoll(int lfd)
{
	static char buf[BUF];
	static struct session gone = { .dead = 1 };
	static struct side gone_side = { .s = &gone };
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL }, ev[256];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	for (;;) {
		int n = epoll_wait(ep, ev, 256, -1);

		for (int i = 0; i < n; i++) {
			struct side *d = ev[i].data.ptr;
			struct session *s;
			ssize_t r;

			if (d == NULL) {
				epoll_accept(ep, lfd);
				continue;
			}
			if ((s = d->s)->dead)
				continue;
			r = recv(d->fd, buf, BUF, 0);
			if (r > 0)
				send_all(s->side[!d->index].fd, buf, r);
			if (r > 0 || (r == -1 && errno == EAGAIN))
				continue;
			close(s->side[0].fd);
			close(s->side[1].fd);
			/* The rest of this batch may name it: point them at
			 * a dead session instead. */
			for (int j = i + 1; j < n; j++)
				if (ev[j].data.ptr != NULL &&
				    ((struct side *)ev[j].data.ptr)->s == s)
					ev[j].data.ptr = &gone_side;
			free(s);
		}
	}
}

/* ---- io_uring -------------------------------------------------------- */
#ifdef FLOOR_URING

enum { OP_ACCEPT = 1, OP_CONNECT, OP_RECV, OP_SEND };
#define OP_MASK		7ULL	/* a side is 8-aligned: the op in its low bits */

static struct io_uring ring;

static struct io_uring_sqe *
sqe_get(void)
{
	struct io_uring_sqe *q = io_uring_get_sqe(&ring);

	if (q == NULL) {
		io_uring_submit(&ring);
		q = io_uring_get_sqe(&ring);
	}
	return q;
}

static void
queue(struct io_uring_sqe *q, struct side *d, int op)
{
	io_uring_sqe_set_data64(q, (uint64_t)(uintptr_t)d | op);
	if (d != NULL)
		d->s->pending++;
}

static void
queue_accept(int lfd)
{
	struct io_uring_sqe *q = sqe_get();

	io_uring_prep_multishot_accept(q, lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	queue(q, NULL, OP_ACCEPT);
}

/* Poll first: the peer has usually sent nothing yet. */
static void
queue_recv(struct side *d)
{
	struct io_uring_sqe *q = sqe_get();

	io_uring_prep_recv(q, d->fd, d->buf, BUF, 0);
	q->ioprio |= IORING_RECVSEND_POLL_FIRST;
	queue(q, d, OP_RECV);
}

/* Shutting both sockets down completes the recvs still pending; the
 * session is freed when the last of its operations has come back. */
static void
uring_end(struct session *s)
{
	if (!s->dead) {
		s->dead = 1;
		shutdown(s->side[0].fd, SHUT_RDWR);
		shutdown(s->side[1].fd, SHUT_RDWR);
	}
	if (s->pending > 0)
		return;
	for (int i = 0; i < 2; i++) {
		close(s->side[i].fd);
		free(s->side[i].buf);
	}
	free(s);
}

static void
uring_accepted(int lfd, struct io_uring_cqe *cqe)
{
	struct io_uring_sqe *q;
	struct session *s;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		queue_accept(lfd);
	if (cqe->res < 0)
		return;
	s = session_new(cqe->res);
	s->side[0].buf = xcalloc(1, BUF);
	s->side[1].buf = xcalloc(1, BUF);
	q = sqe_get();
	io_uring_prep_connect(q, s->side[1].fd, server_next(),
	    sizeof servers[0]);
	queue(q, &s->side[1], OP_CONNECT);
}

static void
uring_complete(struct side *d, int op, int res)
{
	struct session *s = d->s;
	struct io_uring_sqe *q;

	s->pending--;
	if (res < 0 || (op == OP_RECV && res == 0) || s->dead) {
		uring_end(s);
		return;
	}
	switch (op) {
	case OP_CONNECT:
		queue_recv(&s->side[0]);
		queue_recv(&s->side[1]);
		break;
	case OP_RECV:
		q = sqe_get();
		io_uring_prep_send(q, s->side[!d->index].fd, d->buf, res,
		    MSG_NOSIGNAL | MSG_WAITALL);
		queue(q, d, OP_SEND);
		break;
	case OP_SEND:
		queue_recv(d);
		break;
	}
}

static void
run_uring(int lfd)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
	    IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN };
	struct io_uring_cqe *cqe;
	unsigned head, seen;

	if (io_uring_queue_init_params(4096, &ring, &p) < 0) {
		fprintf(stderr, "floor: io_uring_queue_init failed\n");
		exit(1);
	}
	queue_accept(lfd);
	for (;;) {
		io_uring_submit_and_wait(&ring, 1);
		seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t u = cqe->user_data;

			seen++;
			if ((u & OP_MASK) == OP_ACCEPT)
				uring_accepted(lfd, cqe);
			else
				uring_complete((struct side *)(uintptr_t)
				    (u & ~OP_MASK), u & OP_MASK, cqe->res);
		}
		io_uring_cq_advance(&ring, seen);
	}
}
#endif

int
main(int argc, char **argv)
{
	int lfd;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: floor epoll|uring PORT SERVER-PORT "
		    "[SERVER-PORT]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++, nservers++) {
		servers[nservers].sin_family = AF_INET;
		servers[nservers].sin_port = htons(atoi(argv[i]));
		servers[nservers].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	lfd = listen_on(atoi(argv[2]));
	if (strcmp(argv[1], "epoll") == 0)
		run_epoll(lfd);
#ifdef FLOOR_URING
	else if (strcmp(argv[1], "uring") == 0)
		run_uring(lfd);
#endif
	fprintf(stderr, "floor: no mode %s in this build\n", argv[1]);
	return 2;
}
