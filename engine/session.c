/*
 * A session's life: admission at accept (source lists, limits), the choice
 * of a server, the SMTP-correct refusal, and the one log line at the end.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "handshake.h"
#include "proto.h"
#include "session.h"
#include "sockmap.h"
#include "source.h"

/* Every open session, oldest first: `show sessions` lists them. */
static TAILQ_HEAD(, session) sessions_all =
    TAILQ_HEAD_INITIALIZER(sessions_all);

static void
counters_open(struct counters *c)
{
	c->cur++;
	c->total++;
	if (c->cur > c->max)
		c->max = c->cur;
}

/* The line RFC 5321 §3.8 asks for before a server closes on its own. */
static void
send_421(struct engine *eng, evutil_socket_t fd)
{
	char line[320];
	int n;

	n = snprintf(line, sizeof line,
	    "421 4.3.2 %s Service not available, try again later\r\n",
	    eng->hostname);
	/* A fresh socket has room for one line; if not, the client is gone. */
	(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Seconds with milliseconds, as HAProxy's timers; "-" for a step the
 * session never reached. */
static void
log_secs(char *buf, size_t len, uint64_t from, uint64_t to)
{
	uint64_t ms = to > from ? to - from : 0, s = ms / 1000;
	char d[24], *p = d + sizeof d;

	if (from == 0) {
		strlcpy_(buf, "-", len);
		return;
	}
	/* By hand: three of these per session line, snprintf's cost. */
	*--p = '\0';
	for (int i = 0; i < 3; i++, ms /= 10)
		*--p = (char)('0' + ms % 10);
	*--p = '.';
	do
		*--p = (char)('0' + s % 10);
	while ((s /= 10) != 0);
	strlcpy_(buf, p, len);
}

/* The accept time, local with its offset (as the logs of the MX behind
 * are in local time); the second's text is made once a second. */
static void
log_accept_time(const struct timeval *tv, char *buf, size_t len)
{
	static time_t last = -1;
	static char sec[40], zone[8];
	struct tm tm;

	if (tv->tv_sec != last) {
		last = tv->tv_sec;
		localtime_r(&tv->tv_sec, &tm);
		strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
		strftime(zone, sizeof zone, "%z", &tm);
	}
	snprintf(buf, len, "%s.%03ld%s", sec, (long)tv->tv_usec / 1000, zone);
}

/*
 * The session's one line (mxlbd(8) documents each key).  The keys of old
 * come first in their old order, so that greps keep working; what
 * HAProxy's tcplog adds comes before the bytes.
 */
static void
log_session(struct session *s, const char *end)
{
	char caddr[ADDR_STRLEN + 10], faddr[ADDR_STRLEN + 10];
	char saddr[ADDR_STRLEN + 10], host[ADDR_STRLEN], when[96];
	char queue[32], conn[32], dur[32], src[ADDR_STRLEN];
	const struct sockaddr *local = session_local(s);
	uint64_t now = now_ms();

	sockaddr_format((const struct sockaddr *)&s->client, caddr,
	    sizeof caddr);
	if (local != NULL)
		sockaddr_format(local, faddr, sizeof faddr);
	else
		strlcpy_(faddr, "-", sizeof faddr);
	if (s->srv != NULL) {
		addr_format(&s->srv->conf->address, host, sizeof host);
		snprintf(saddr, sizeof saddr, s->srv->conf->address.family ==
		    AF_INET6 ? "[%s]:%u" : "%s:%u", host, s->sport);
	} else
		strlcpy_(saddr, "-", sizeof saddr);
	log_accept_time(&s->accepted, when, sizeof when);
	if (s->queued == 0)
		strlcpy_(queue, "0.000", sizeof queue);
	else
		log_secs(queue, sizeof queue, s->queued,
		    s->unqueued > s->queued ? s->unqueued : now);
	log_secs(conn, sizeof conn, s->connected ? s->connecting : 0,
	    s->connected);
	log_secs(dur, sizeof dur, s->start, now);
	source_name(s->farm->conf, src, sizeof src);
	log_bulk("session client=%s frontend=%s farm=%s server=%s "
	    "frontend_addr=%s server_addr=%s source=%s accept=%s queue=%s "
	    "connect=%s redispatch=%zu transport=%s bytes_in=%llu "
	    "bytes_out=%llu duration=%s end=%s",
	    caddr, s->fe->conf->name, s->farm->conf->name,
	    s->srv ? server_name(s->srv->conf) : "-", faddr, saddr, src, when,
	    queue, conn, s->ntried, s->srv ? transport_names[server_transport(
	    s->srv->conf)] : "-", (unsigned long long)s->up.bytes,
	    (unsigned long long)s->down.bytes, dur, end);
}

/* Refused before any session exists: count, answer, log, close. */
static void
refuse_fd(struct engine *eng, struct rt_frontend *fe, evutil_socket_t fd,
    const struct sockaddr *sa, size_t salen, enum refusal why)
{
	bool tempfail = fe->farm->conf->on_unavailable == UNAVAIL_TEMPFAIL;
	struct session s;	/* what the log line needs of one */
	char end[48];

	fe->st.refused[why]++;
	fe->farm->st.refused[why]++;
	if (tempfail)
		send_421(eng, fd);
	memset(&s, 0, sizeof s);
	s.fe = fe;
	s.farm = fe->farm;
	s.cfd = fd;
	memcpy(&s.client, sa, salen < sizeof s.client ? salen :
	    sizeof s.client);
	s.start = now_ms();
	gettimeofday(&s.accepted, NULL);
	snprintf(end, sizeof end, "%s:%s", tempfail ? "tempfail" : "close",
	    refusal_names[why]);
	log_session(&s, end);
	close(fd);
}

static enum refusal
admit(struct engine *eng, struct rt_frontend *fe, const struct mxaddr *a,
    bool *counted)
{
	const struct frontend *c = fe->conf;
	const struct fieldset *fs = &frontend_fields;

	if (eng->stopping)
		return REFUSE_SHUTDOWN;
	if ((c->allowed_source.n > 0 && !cidrlist_match(&c->allowed_source, a))
	    || cidrlist_match(&c->denied_source, a))
		return REFUSE_DENIED_SOURCE;
	if (FIELD_ISSET(fs, c, "maxconn") &&
	    fe->st.cur >= (uint64_t)c->maxconn)
		return REFUSE_FRONTEND_MAXCONN;
	return srctable_admit(fe->sources, c, a, now_ms(), counted);
}

/*
 * The client's socket is watched for reading once, from the accept to the
 * close (one registration): what a readable client means depends on where
 * the session is.
 */
static void
session_client_read(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	/* Relaying runs unlocked; only this worker leaves S_FORWARDING. */
	if (s->state == S_FORWARDING) {
		forward_read(fd, what, s);
		return;
	}
	engine_lock();
	/* A step another thread posted comes first (worker_post). */
	if (s->mailed)
		;
	else if (s->state == S_QUEUED)
		queue_client_read(s);
	else
		handshake_client_read(s);
	engine_unlock();
}

/* Under the lock, in the session's worker: what another thread posted.
 * The queue's timer is stopped here, by the thread it belongs to. */
void
session_mail(struct session *s)
{
	evtimer_del(&s->timer);
	switch ((enum smail)s->mail) {
	case MAIL_CONNECT:
		forward_connect_socket(s);
		break;
	case MAIL_DISPATCH:
		session_dispatch(s);
		break;
	case MAIL_SHUTDOWN:
		session_refuse(s, REFUSE_SHUTDOWN);
		break;
	}
}

/* The address the client reached: a listener bound to one address knows
 * it; on a wildcard listener, getsockname once. */
const struct sockaddr *
session_local(struct session *s)
{
	socklen_t len = sizeof s->local;

	if (s->local_len == 0) {
		if (getsockname(s->cfd, (struct sockaddr *)&s->local, &len) ==
		    -1)
			return NULL;
		s->local_len = len;
	}
	return (const struct sockaddr *)&s->local;
}

static bool
listener_specific(const struct listener *l)
{
	const struct mxaddr *a = &l->addr;

	if (a->family == AF_INET)
		return a->v4.s_addr != htonl(INADDR_ANY);
	return a->family == AF_INET6 && !IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

/* Every embedded event is assigned once, so any may be deleted later. */
static void
session_events_init(struct session *s)
{
	struct event_base *base = s->w->base;

	watch_assign(&s->c_rd, base, s->cfd, session_client_read, s);
	watch_assign(&s->s_rd, base, -1, NULL, s);
	evtimer_assign(&s->timer, base, NULL, s);
}

void
session_accept(struct listener *l, struct worker *w, evutil_socket_t fd,
    const struct sockaddr *sa, int salen)
{
	struct engine *eng = l->eng;
	struct rt_frontend *fe = l->fe;
	struct session *s;
	struct mxaddr a;
	enum refusal why;
	bool counted = false;

	w->accepted++;
	addr_from_sockaddr(&a, sa);
	if ((why = admit(eng, fe, &a, &counted)) != REFUSE_MAX) {
		refuse_fd(eng, fe, fd, sa, (size_t)salen, why);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->eng = eng;
	s->w = w;
	w->nsessions++;
	s->fe = fe;
	s->farm = fe->farm;
	fe->refs++;
	fe->farm->refs++;
	s->cfd = fd;
	s->sfd = -1;
	session_events_init(s);
	memcpy(&s->client, sa, (size_t)salen < sizeof s->client ?
	    (size_t)salen : sizeof s->client);
	s->caddr = a;
	s->lport = l->port;
	s->start = s->last = now_ms();
	gettimeofday(&s->accepted, NULL);
	s->src_counted = counted;
	if (listener_specific(l)) {
		struct sockaddr_storage ss;

		s->local_len = addr_to_sockaddr(&l->addr, l->port, &ss);
		memcpy(&s->local, &ss, s->local_len);
	}
	TAILQ_INSERT_TAIL(&sessions_all, s, aentry);
	counters_open(&fe->st);
	counters_open(&s->farm->st);
	eng->nsessions++;
	if (watch_add(&s->c_rd) == -1) {
		log_err("epoll: %s: refusing the session", strerror(errno));
		session_refuse(s, REFUSE_FD_LIMIT);
		return;
	}
	session_dispatch(s);
}

void
session_dispatch(struct session *s)
{
	struct rt_server *srv;
	bool queue;

	srv = balance_pick(s->farm, &s->caddr, s->tried, s->ntried, &queue,
	    now_ms());
	if (srv == NULL)
		session_refuse(s, REFUSE_NO_SERVER);
	else if (queue)
		queue_add(s, srv);
	else
		forward_connect(s, srv);
}

void
session_refuse(struct session *s, enum refusal why)
{
	bool tempfail = s->farm->conf->on_unavailable == UNAVAIL_TEMPFAIL;
	char end[48];

	s->fe->st.refused[why]++;
	s->farm->st.refused[why]++;
	if (s->srv != NULL && (refusal_objects[why] & OBJ_SERVER))
		s->srv->st.refused[why]++;
	if (tempfail)
		send_421(s->eng, s->cfd);
	snprintf(end, sizeof end, "%s:%s", tempfail ? "tempfail" : "close",
	    refusal_names[why]);
	session_end(s, end);
}

static void
session_free(struct session *s)
{
	TAILQ_REMOVE(&sessions_all, s, aentry);
	forward_free(s);
	close(s->cfd);
	free(s->tried);
	free(s);
}

void
session_end(struct session *s, const char *why)
{
	struct engine *eng = s->eng;
	struct rt_server *srv;

	/* A queued session holds no slot: leaving the queue is all. */
	if (s->state == S_QUEUED)
		queue_remove(s);
	if (s->mailed) {
		TAILQ_REMOVE(&s->w->mail, s, qentry);
		s->mailed = false;
	}
	s->w->nsessions--;
	srv = s->srv;
	sockmap_end(s);		/* the kernel's count, for the log line */
	log_session(s, why);
	s->fe->st.cur--;
	s->farm->st.cur--;
	if (s->src_counted)
		srctable_release(s->fe->sources, &s->caddr);
	rt_frontend_unref(s->fe);
	rt_farm_unref(s->farm);
	session_free(s);
	if (srv != NULL)
		server_release(eng, srv);
	if (--eng->nsessions == 0 && eng->stopping)
		event_base_loopexit(eng->base, NULL);
}

static const char *
state_name(const struct session *s)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof peer;

	switch (s->state) {
	case S_QUEUED: return session_state_names[SESSION_QUEUED];
	case S_CONNECTING:
		/* A connect is known done when the greeting comes; until
		 * then, only the socket knows (ENOTCONN while connecting). */
		if (s->hs != NULL && s->sfd != -1 && getpeername(s->sfd,
		    (struct sockaddr *)&peer, &len) == 0)
			return session_state_names[SESSION_GREETING];
		return session_state_names[SESSION_CONNECTING];
	case S_GREETING: return session_state_names[SESSION_GREETING];
	case S_FORWARDING: return session_state_names[SESSION_CONNECTED];
	default: return session_state_names[SESSION_DISPATCHING];
	}
}

static json_t *
session_json(const struct session *s, uint64_t now)
{
	char caddr[ADDR_STRLEN + 10], src[ADDR_STRLEN];
	json_t *j;

	sockaddr_format((const struct sockaddr *)&s->client, caddr,
	    sizeof caddr);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:f,s:I,s:I}", K_CLIENT,
	    caddr, K_FRONTEND, s->fe->conf->name, K_FARM, s->farm->conf->name,
	    K_SERVER, s->srv ? server_name(s->srv->conf) : "-", K_TRANSPORT,
	    s->srv ? transport_names[server_transport(s->srv->conf)] : "-",
	    K_STATE,
	    state_name(s), K_AGE, (double)(now - s->start) / 1000.0,
	    K_WAIT, s->state == S_QUEUED ? (double)(now - s->queued) / 1000.0 :
	    0.0, K_BYTES_IN, (json_int_t)sockmap_bytes_in(s), K_BYTES_OUT,
	    (json_int_t)__atomic_load_n(&s->down.bytes, __ATOMIC_RELAXED));
	source_name(s->farm->conf, src, sizeof src);
	json_object_set_new(j, K_SOURCE, json_string(src));
	return j;
}

/*
 * The sessions of a farm (or of one of its servers, or all), oldest
 * first: connected and connecting ones, then each server's queue.  At
 * most `max` are listed; "more" counts the rest, so a reply stays small
 * under a flood.
 */
json_t *
session_list(struct engine *eng, const char *farm, const char *server,
    size_t max)
{
	json_t *a = json_array();
	const struct session *s;
	uint64_t now = now_ms();
	size_t n = 0, more = 0;

	TAILQ_FOREACH(s, &sessions_all, aentry) {
		if (s->eng != eng || (farm != NULL &&
		    strcmp(s->farm->conf->name, farm) != 0) ||
		    (server != NULL && (s->srv == NULL ||
		    strcmp(server_name(s->srv->conf), server) != 0)))
			continue;
		if (n++ < max)
			json_array_append_new(a, session_json(s, now));
		else
			more++;
	}
	return json_pack("{s:o,s:I,s:I}", K_SESSIONS, a, K_TOTAL,
	    (json_int_t)n, K_MORE, (json_int_t)more);
}
