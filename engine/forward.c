/*
 * Connecting to the chosen server and moving bytes both ways.  Each side's
 * output is capped: a slow reader stops the other side's reading (so memory
 * stays bounded), and a half-close is passed on once the data before it is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "proxy.h"
#include "session.h"

#define FWD_MAX		(256 * 1024)	/* bytes waiting for one side */

static void fwd_read(struct bufferevent *, void *);
static void fwd_write(struct bufferevent *, void *);
static void fwd_event(struct bufferevent *, short, void *);
static void connect_event(struct bufferevent *, short, void *);

static uint16_t
server_port(const struct session *s, const struct rt_server *srv)
{
	const struct fieldset *ss = &server_fields, *fs = &farm_fields;

	if (field_isset(ss, srv->conf, fieldset_find(ss, "port")))
		return (uint16_t)srv->conf->port;
	if (field_isset(fs, s->farm->conf, fieldset_find(fs, "port")))
		return (uint16_t)s->farm->conf->port;
	return s->lport;
}

/* The header goes first in the output, so it leaves in the first write. */
static void
add_proxy_header(struct session *s, struct rt_server *srv)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof local;
	uint8_t hdr[PROXY_HDR_MAX];
	ssize_t n;

	if (srv->conf->proxyprotocol == PROXY_NONE)
		return;
	if (getsockname(s->cfd, (struct sockaddr *)&local, &len) == -1)
		return;
	n = proxy_header((enum proxy_version)srv->conf->proxyprotocol,
	    (struct sockaddr *)&s->client, (struct sockaddr *)&local, hdr,
	    sizeof hdr);
	if (n > 0)
		bufferevent_write(s->sbev, hdr, (size_t)n);
}

static void
connect_failed(struct session *s, const char *why)
{
	struct rt_server *srv = s->srv;

	srv->st.connect_fail++;
	s->farm->st.connect_fail++;
	log_info("connect farm=%s server=%s error=\"%s\"", s->farm->conf->name,
	    server_name(srv->conf), why);
	bufferevent_free(s->sbev);
	s->sbev = NULL;
	s->srv = NULL;
	srv->nsess--;
	srv->st.cur--;
	s->tried = xreallocarray(s->tried, s->ntried + 1, sizeof *s->tried);
	s->tried[s->ntried++] = srv;	/* compared, never dereferenced */
	server_slot_free(srv);
	rt_server_unref(srv);
	/* Redispatch: the client has seen nothing yet. */
	s->farm->st.redispatch++;
	session_dispatch(s);
}

void
forward_connect(struct session *s, struct rt_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval tv;
	long ms = s->farm->conf->connect_timeout;

	s->srv = srv;
	srv->refs++;
	srv->nsess++;
	srv->st.cur++;
	srv->st.total++;
	if (srv->st.cur > srv->st.max)
		srv->st.max = srv->st.cur;
	s->state = S_CONNECTING;
	len = addr_to_sockaddr(&srv->conf->address, server_port(s, srv), &ss);
	s->sbev = bufferevent_socket_new(s->eng->base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->sbev, NULL, NULL, connect_event, s);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	bufferevent_set_timeouts(s->sbev, NULL, &tv);
	add_proxy_header(s, srv);
	if (bufferevent_socket_connect(s->sbev, (struct sockaddr *)&ss,
	    (int)len) == -1)
		connect_failed(s, strerror(EVUTIL_SOCKET_ERROR()));
}

static void
forward_start(struct session *s)
{
	struct timeval tv = { 0, 0 };

	s->state = S_FORWARDING;
	bufferevent_set_timeouts(s->sbev, NULL, NULL);
	if (s->watch != NULL)
		event_del(s->watch);
	s->cbev = bufferevent_socket_new(s->eng->base, s->cfd,
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->cbev, fwd_read, fwd_write, fwd_event, s);
	bufferevent_setcb(s->sbev, fwd_read, fwd_write, fwd_event, s);
	bufferevent_enable(s->cbev, EV_READ | EV_WRITE);
	bufferevent_enable(s->sbev, EV_READ | EV_WRITE);
	s->last = now_ms();
	tv.tv_sec = s->fe->conf->idle_timeout / 1000;
	tv.tv_usec = (s->fe->conf->idle_timeout % 1000) * 1000;
	evtimer_add(s->timer, &tv);
}

static void
idle_check(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	uint64_t idle = (uint64_t)s->fe->conf->idle_timeout, now = now_ms();
	struct timeval tv;

	(void)fd;
	(void)what;
	if (now - s->last >= idle) {
		session_end(s, "idle-timeout");
		return;
	}
	/* Re-armed lazily here rather than on every read: cheaper. */
	tv.tv_sec = (time_t)((s->last + idle - now) / 1000);
	tv.tv_usec = (suseconds_t)((s->last + idle - now) % 1000 * 1000);
	evtimer_add(s->timer, &tv);
}

static void
connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		if (s->timer == NULL)
			s->timer = evtimer_new(s->eng->base, idle_check, s);
		else
			event_assign(s->timer, s->eng->base, -1, 0, idle_check,
			    s);
		forward_start(s);
	} else if (what & BEV_EVENT_TIMEOUT)
		connect_failed(s, "connect timeout");
	else
		connect_failed(s, strerror(EVUTIL_SOCKET_ERROR()));
}

static struct bufferevent *
other(struct session *s, struct bufferevent *bev)
{
	return bev == s->cbev ? s->sbev : s->cbev;
}

static void
fwd_read(struct bufferevent *src, void *arg)
{
	struct session *s = arg;
	struct bufferevent *dst = other(s, src);
	struct evbuffer *in = bufferevent_get_input(src);
	struct evbuffer *out = bufferevent_get_output(dst);
	size_t n = evbuffer_get_length(in);

	if (src == s->cbev) {
		s->bytes_in += n;
		s->fe->st.bytes_in += n;
		s->farm->st.bytes_in += n;
		s->srv->st.bytes_in += n;
	} else {
		s->bytes_out += n;
		s->fe->st.bytes_out += n;
		s->farm->st.bytes_out += n;
		s->srv->st.bytes_out += n;
	}
	s->last = now_ms();
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= FWD_MAX) {
		bufferevent_disable(src, EV_READ);
		bufferevent_setwatermark(dst, EV_WRITE, FWD_MAX / 2, 0);
	}
}

static bool *
shut_flag(struct session *s, struct bufferevent *bev)
{
	return bev == s->cbev ? &s->cl_shut : &s->sv_shut;
}

static bool
got_eof(struct session *s, struct bufferevent *bev)
{
	return bev == s->cbev ? s->cl_eof : s->sv_eof;
}

/* dst drained (below its watermark, or empty). */
static void
fwd_write(struct bufferevent *dst, void *arg)
{
	struct session *s = arg;
	struct bufferevent *src = other(s, dst);

	if (!got_eof(s, src) && !(bufferevent_get_enabled(src) & EV_READ)) {
		bufferevent_setwatermark(dst, EV_WRITE, 0, 0);
		bufferevent_enable(src, EV_READ);
	}
	if (got_eof(s, src) && !*shut_flag(s, dst) &&
	    evbuffer_get_length(bufferevent_get_output(dst)) == 0) {
		shutdown(bufferevent_getfd(dst), SHUT_WR);
		*shut_flag(s, dst) = true;
		if (s->cl_shut && s->sv_shut)
			session_end(s, "closed");
	}
}

static void
fwd_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	struct bufferevent *dst = other(s, bev);

	if (what & BEV_EVENT_EOF) {
		if (bev == s->cbev)
			s->cl_eof = true;
		else
			s->sv_eof = true;
		bufferevent_setwatermark(dst, EV_WRITE, 0, 0);
		fwd_write(dst, s);	/* pass the half-close on if drained */
		return;
	}
	/* A reset after the other side's last byte and FIN were delivered is
	 * how many clients close: the session was complete. */
	if (bev == s->cbev && s->sv_eof && s->cl_shut)
		session_end(s, "closed");
	else if (bev == s->sbev && s->cl_eof && s->sv_shut)
		session_end(s, "closed");
	else if (what & BEV_EVENT_ERROR)
		session_end(s, bev == s->cbev ? "client-error" : "server-error");
	else
		session_end(s, "error");
}

void
forward_free(struct session *s)
{
	if (s->sbev != NULL)
		bufferevent_free(s->sbev);
	if (s->cbev != NULL) {
		bufferevent_free(s->cbev);	/* closes cfd */
		s->cfd = -1;
	}
	s->sbev = s->cbev = NULL;
}
