/*
 * Connecting to the chosen server and moving bytes both ways.
 *
 * Writes are speculative: what a read brings is written to the other side
 * at once, and only what that side cannot take is kept, while reading from
 * the sender pauses.  So a session needs no poll change per SMTP exchange,
 * memory per session is bounded by one read, and a slow side slows the
 * other instead of growing a buffer.  A half-close is passed on when the
 * bytes before it are.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handshake.h"
#include "proxy.h"
#include "session.h"
#include "sockmap.h"
#include "source.h"

/* Bytes moved per read, on the stack.  64 KiB, loopback's largest
 * segment: a 100 KiB message crosses in two reads and two writes instead
 * of seven of each at 16 KiB (CPU per message 0.80-0.84x HAProxy's there,
 * from 0.85-0.93x).  What a slow side leaves pending is at most this. */
#define FLOW_READ	65536

static void flow_write(evutil_socket_t, short, void *);

/* The relay runs unlocked (worker.h): its end takes the lock. */
void
relay_end(struct session *s, const char *why)
{
	engine_lock();
	session_end(s, why);
	engine_unlock();
}

static uint16_t
server_port(const struct session *s, const struct rt_server *srv)
{
	const struct fieldset *ss = &server_fields, *fs = &farm_fields;

	if (FIELD_ISSET(ss, srv->conf, "port"))
		return (uint16_t)srv->conf->port;
	if (FIELD_ISSET(fs, s->farm->conf, "port"))
		return (uint16_t)s->farm->conf->port;
	return s->lport;
}

/* addr_socket_out's socket, with IP_BIND_ADDRESS_NO_PORT only when a
 * source is bound (it means nothing otherwise), and SO_REUSEADDR only if
 * the engine closes first (server_close_first): system calls less per
 * session. */
static int
server_socket(const struct farm *f, int family)
{
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (FIELD_ISSET(&farm_fields, f, "source"))
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
	return fd;
}

/*
 * The engine is about to shut down or close the server connection.  If
 * the server has not closed its side first, the TIME_WAIT will be ours,
 * on an ephemeral port a zone may want to listen on: SO_REUSEADDR, which
 * the TIME_WAIT keeps, lets it (engine-reuse).  A server that closes
 * first, as after its 221, leaves no TIME_WAIT here: no system call.
 */
static void
server_close_first(struct session *s)
{
	int one = 1;

	if (s->sfd != -1 && !s->down.eof)
		(void)setsockopt(s->sfd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one);
}

/* The header goes alone in the first write on a fresh socket: its
 * failure is the connect's (0), or -1 with errno. */
static int
send_proxy_header(struct session *s)
{
	const struct sockaddr *local = session_local(s);
	uint8_t hdr[PROXY_HDR_MAX];
	ssize_t n;

	if (local == NULL)
		return 0;
	n = proxy_header((enum proxy_version)s->srv->conf->proxyprotocol,
	    (struct sockaddr *)&s->client, local, hdr, sizeof hdr);
	if (n > 0 && send(s->sfd, hdr, (size_t)n, MSG_NOSIGNAL |
	    MSG_DONTWAIT) == -1 && errno != EAGAIN && errno != EINTR)
		return -1;
	return 0;
}

static void
flow_free_wr(struct flow *f)
{
	if (f->wr != NULL)
		event_free(f->wr);
	f->wr = NULL;
}

/* The server failed the session before the client saw anything of it:
 * another server gets it (redispatch). */
void
forward_retry(struct session *s)
{
	struct rt_server *srv = s->srv;

	flow_free_wr(&s->up);
	watch_close(&s->s_rd);
	evtimer_del(&s->timer);
	handshake_free(s);
	server_close_first(s);
	close(s->sfd);
	s->sfd = -1;
	s->srv = NULL;
	s->state = S_NEW;
	*ARRAY_PUSH(s->tried, s->ntried) = srv; /* compared, never dereferenced */
	server_release(s->eng, srv);
	/* Redispatch: the client has seen nothing yet. */
	s->farm->st.redispatch++;
	session_dispatch(s);
}

void
forward_connect_failed(struct session *s, const char *why)
{
	struct rt_server *srv = s->srv;

	srv->st.connect_fail++;
	s->farm->st.connect_fail++;
	log_info("connect farm=%s server=%s error=\"%s\"", s->farm->conf->name,
	    server_name(srv->conf), why);
	probe_passive(srv, false, 0, why);
	forward_retry(s);
}

static void
idle_check(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	uint64_t idle = (uint64_t)s->fe->conf->idle_timeout, now = now_ms();
	struct timeval tv;

	(void)fd;
	(void)what;
	sockmap_sync(s);	/* the client's last bytes may be the kernel's */
	if (now - s->last >= idle) {
		relay_end(s, end_names[END_IDLE_TIMEOUT]);
		return;
	}
	/* Re-armed here rather than on every read: far cheaper. */
	tv = ms_timeval(s->last + idle - now);
	evtimer_add(&s->timer, &tv);
}

/* rd has watched src since the accept or the connect (one registration
 * per socket); it was paused only if a client spoke out of turn. */
static void
flow_init(struct flow *f, evutil_socket_t src, evutil_socket_t dst,
    struct watch *rd)
{
	f->src = src;
	f->dst = dst;
	f->rd = rd;
	if (!watch_pending(rd))
		(void)watch_add(rd);
}

/* What a read brought waits in f->pend: reading pauses until it is
 * written.  The write event is made on the first need only (most
 * sessions never need one): two fewer events in every session. */
static void
flow_wait(struct session *s, struct flow *f)
{
	if (f->wr == NULL && (f->wr = event_new(s->w->base, f->dst,
	    EV_WRITE | EV_PERSIST, flow_write, s)) == NULL)
		abort();	/* out of memory, as xmalloc */
	watch_del(f->rd);
	event_add(f->wr, NULL);
}

static void reply_scan(struct session *, const char *, size_t);

/* The handshake is over: the client gets the server's greeting (held
 * until now), then the bytes flow both ways. */
void
forward_start(struct session *s, const char *greeting, size_t n)
{
	struct timeval tv = ms_timeval((uint64_t)s->fe->conf->idle_timeout);
	struct flow *f = &s->down;
	ssize_t w;

	s->state = S_FORWARDING;
	flow_init(&s->up, s->cfd, s->sfd, &s->c_rd);
	flow_init(&s->down, s->sfd, s->cfd, &s->s_rd);
	s->last = now_ms();
	event_assign(&s->timer, s->w->base, -1, 0, idle_check, s);
	evtimer_add(&s->timer, &tv);
	sockmap_start(s);	/* forward kernel: before the client may speak */
	if (n == 0)
		return;
	relay_count(s, f, n);
	reply_scan(s, greeting, n);
	/* A failed write is found again, and judged, by flow_write. */
	w = send(f->dst, greeting, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == (ssize_t)n)
		return;
	if (w < 0)
		w = 0;
	f->len = n - (size_t)w;
	f->off = 0;
	f->pend = xmalloc(f->len);
	memcpy(f->pend, greeting + w, f->len);
	flow_wait(s, f);
}

/* A PROXY server waits for the header: the engine speaks first, so it
 * waits for the connect to be writable (the only server that needs it). */
static void
connect_done(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	engine_lock();
	/* The connect's event, made for it (up.wr is the relay's later). */
	flow_free_wr(&s->up);
	if (what & EV_TIMEOUT)
		forward_connect_failed(s, "connect timeout");
	/* A failed connect fails the header's send, with its error. */
	else if (send_proxy_header(s) == -1)
		forward_connect_failed(s, strerror(errno));
	else {
		s->connected = now_ms();
		handshake_start(s);
	}
	engine_unlock();
}

/* The server's socket, watched for reading from the connect to the
 * close: the handshake reads it, then the relay. */
static void
server_read(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	/* Only this worker leaves S_FORWARDING: no lock to look. */
	if (s->state == S_FORWARDING) {
		forward_read(fd, what, s);
		return;
	}
	engine_lock();
	handshake_read(fd, what, s);
	engine_unlock();
}

/* srv's slot is the session's from now; its worker connects. */
void
forward_connect(struct session *s, struct rt_server *srv)
{
	s->srv = srv;
	srv->refs++;
	srv->nsess++;
	srv->st.cur++;
	srv->st.total++;
	if (srv->st.cur > srv->st.max)
		srv->st.max = srv->st.cur;
	s->state = S_CONNECTING;
	s->sport = server_port(s, srv);
	s->connecting = now_ms();
	if (!worker_owns(s->w)) {
		s->mail = MAIL_CONNECT;
		worker_post(s);
		return;
	}
	forward_connect_socket(s);
}

void
forward_connect_socket(struct session *s)
{
	struct rt_server *srv = s->srv;
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval tv = ms_timeval((uint64_t)s->farm->conf->connect_timeout);
	int one = 1;
	char why[SOURCE_ERRLEN];

	len = addr_to_sockaddr(&srv->conf->address, s->sport, &ss);
	s->sfd = server_socket(s->farm->conf, ss.ss_family);
	if (s->sfd == -1 && (errno == EMFILE || errno == ENFILE)) {
		/* Our shortage, not the server's: no connect failure to
		 * charge it, and no other server would do better. */
		log_err("socket: %s: refusing the session", strerror(errno));
		s->srv = NULL;
		srv->st.total--;
		server_release(s->eng, srv);
		session_refuse(s, REFUSE_FD_LIMIT);
		return;
	}
	if (s->sfd == -1) {
		forward_connect_failed(s, strerror(errno));
		return;
	}
	if (source_bind(s->sfd, s->farm->conf, ss.ss_family, &s->caddr,
	    sockaddr_port((struct sockaddr *)&s->client), why,
	    sizeof why) == -1) {
		forward_connect_failed(s, why);
		return;
	}
	/* SMTP is a dialogue of small lines: never hold one back. */
	(void)setsockopt(s->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	watch_assign(&s->s_rd, s->w->base, s->sfd, server_read, s);
	if (connect(s->sfd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		forward_connect_failed(s, strerror(errno));
		return;
	}
	/* Watched only after the connect: a socket not yet connecting
	 * reports a hang-up. */
	if (srv->conf->proxyprotocol != PROXY_NONE) {
		if ((s->up.wr = event_new(s->w->base, s->sfd, EV_WRITE,
		    connect_done, s)) == NULL)
			abort();	/* out of memory, as xmalloc */
		event_add(s->up.wr, &tv);
		return;
	}
	s->connected = 0;
	handshake_start(s);
}

/* Atomic: the relay runs unlocked, beside other workers' relays and the
 * main thread's reads of the counters (sockmap.c's counts too). */
void
relay_count(struct session *s, struct flow *f, size_t n)
{
	struct counters *c[3] = { &s->fe->st, &s->farm->st, &s->srv->st };

	__atomic_store_n(&f->bytes, f->bytes + n, __ATOMIC_RELAXED);
	for (size_t i = 0; i < nitems(c); i++)
		__atomic_fetch_add(f == &s->up ? &c[i]->bytes_in :
		    &c[i]->bytes_out, n, __ATOMIC_RELAXED);
}

static bool
both_done(const struct session *s)
{
	return s->up.shut && s->down.shut;
}

/* True when the server has said all it will (its FIN is waiting). */
static bool
server_finished(const struct session *s)
{
	char c;

	return s->down.eof || recv(s->sfd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * Follows the server's reply lines just far enough to see a 221, its
 * answer to QUIT: the dialogue is over then, whoever closes first and
 * however.  Only the first 4 bytes of each line are looked at.
 */
static void
reply_scan(struct session *s, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && !s->bye; i++) {
		if (buf[i] == '\n') {
			/* "221\n": a bare reply code. */
			if (s->nhead == 3 && memcmp(s->head, "221", 3) == 0)
				s->bye = true;
			s->nhead = 0;
		} else if (s->nhead < sizeof s->head) {
			s->head[s->nhead++] = buf[i];
			if (s->nhead == sizeof s->head &&
			    memcmp(s->head, "221", 3) == 0 &&
			    (s->head[3] == ' ' || s->head[3] == '\r'))
				s->bye = true;
		}
	}
}

/* An error on a socket: a reset after everything was said is how many
 * clients close (after QUIT and 221, often without waiting for the
 * server's FIN), and counts as a normal end. */
static void
flow_error(struct session *s, evutil_socket_t fd)
{
	bool client = fd == s->cfd;

	if (s->bye || (client ? s->down.shut || server_finished(s) :
	    s->up.shut))
		relay_end(s, end_names[END_CLOSED]);
	else
		relay_end(s, end_names[client ? END_CLIENT_ERROR :
		    END_SERVER_ERROR]);
}

static void
flow_eof(struct session *s, struct flow *f)
{
	f->eof = true;
	/* After the 221 the dialogue is over: once all is written, the
	 * first side to close ends the session (no half-close to pass on,
	 * no shutdown on a socket whose peer may be gone). */
	if (s->bye && s->up.len == 0 && s->down.len == 0) {
		relay_end(s, end_names[END_CLOSED]);
		return;
	}
	watch_del(f->rd);
	/* forward kernel: the client's last bytes may still be on their
	 * way; sockmap.c passes the FIN on after them. */
	if (f == &s->up && sockmap_hold_eof(s))
		return;
	if (f->len == 0) {
		if (f == &s->up)
			server_close_first(s);
		shutdown(f->dst, SHUT_WR);
		f->shut = true;
		if (both_done(s))
			relay_end(s, end_names[END_CLOSED]);
	}
}

void
forward_read(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct flow *f = fd == s->cfd ? &s->up : &s->down;
	char buf[FLOW_READ];
	ssize_t n, w;

	/* After the 221 and all written, a FIN (EV_CLOSED) or a reset or
	 * hang-up (EV_WRITE, on a socket watched for reading) ends the
	 * session whatever comes with it (flow_eof, flow_error): no read to
	 * see which. */
	if (s->bye && (what & (EV_CLOSED | EV_WRITE)) && s->up.len == 0 &&
	    s->down.len == 0) {
		relay_end(s, end_names[END_CLOSED]);
		return;
	}
	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n == 0) {
		flow_eof(s, f);
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			flow_error(s, fd);
		return;
	}
	relay_count(s, f, (size_t)n);
	if (f == &s->down)
		reply_scan(s, buf, (size_t)n);
	s->last = now_ms();
	w = send(f->dst, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == -1 && errno != EAGAIN && errno != EINTR) {
		flow_error(s, f->dst);
		return;
	}
	if (w == n) {
		/* The peer's FIN came with these bytes (EPOLLRDHUP), and the
		 * read took all there was: the end is known without another
		 * read that returns 0. */
		if ((what & EV_CLOSED) && (size_t)n < sizeof buf)
			flow_eof(s, f);
		return;
	}
	/* The other side is slow: keep the rest, stop reading until it is
	 * written. */
	if (w < 0)
		w = 0;
	f->len = (size_t)(n - w);
	f->off = 0;
	f->pend = xmalloc(f->len);
	memcpy(f->pend, buf + w, f->len);
	flow_wait(s, f);
}

static void
flow_write(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct flow *f = fd == s->cfd ? &s->down : &s->up;
	ssize_t w;

	(void)what;
	w = send(fd, f->pend + f->off, f->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == -1) {
		if (errno != EAGAIN && errno != EINTR)
			flow_error(s, fd);
		return;
	}
	f->off += (size_t)w;
	f->len -= (size_t)w;
	if (f->len > 0)
		return;
	free(f->pend);
	f->pend = NULL;
	event_del(f->wr);
	if (!f->eof)
		(void)watch_add(f->rd);
	else {
		if (f == &s->up)
			server_close_first(s);
		shutdown(f->dst, SHUT_WR);
		f->shut = true;
		if (both_done(s))
			relay_end(s, end_names[END_CLOSED]);
	}
}

/* Releases the server side and the buffers; session.c closes the client. */
void
forward_free(struct session *s)
{
	watch_close(&s->c_rd);
	flow_free_wr(&s->up);
	flow_free_wr(&s->down);
	watch_close(&s->s_rd);
	event_del(&s->timer);
	if (s->sfd != -1) {
		server_close_first(s);
		close(s->sfd);
	}
	s->sfd = -1;
	free(s->up.pend);
	free(s->down.pend);
	handshake_free(s);
}
