/*
 * The server's greeting decides, before the client sees anything.
 *
 * After the connect (and the PROXY header, if any) the engine reads the
 * server's greeting itself, to the last line of a possibly multi-line 220,
 * within the farm's greeting-timeout.  A server that stays silent, closes,
 * resets, sends garbage or greets 4xx (5xx unless on-greeting-5xx pass)
 * costs the client nothing: the session goes to another server, and the
 * failure counts toward the server's probe-fall (passive health).
 *
 * For an xclient server the engine then says EHLO, checks that XCLIENT is
 * offered, sends it and reads the new 220: that one is the greeting the
 * client sees, and nothing of the exchange before it.  A server that does
 * not offer XCLIENT is asked anyway, only for its words: Postfix offers it
 * to authorised hosts only, and its refusal ("550 5.7.0 Error:
 * insufficient authorization") says more than the silence; the session
 * goes elsewhere whatever the reply.  PROTO and HELO are
 * not sent: the client has said neither yet, and its own EHLO or HELO
 * after the 220 sets both (Postfix's smtpd does so at HELO/EHLO).
 *
 * Every reply is bounded: a line of HS_LINE_MAX, a reply of HS_BUF_MAX.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handshake.h"
#include "session.h"

#define HS_BUF_MAX	8192	/* a whole greeting or EHLO reply */
/* What a greeting or an EHLO reply needs: the buffer only grows for a
 * longer one.  A small buffer matters at scale: many sessions wait for
 * their greeting at once, and their freed buffers are the holes the heap
 * keeps between long-lived sessions (scale.sh, memory per idle session). */
#define HS_BUF_START	512
#define HS_LINE_MAX	1024	/* a longer reply line is garbage */

enum hs_step { H_GREETING, H_EHLO, H_XCLIENT };
enum hs_fail { HF_TIMEOUT, HF_CLOSED, HF_REFUSED, HF_XCLIENT };

struct handshake {
	enum hs_step	 step;
	unsigned	 offer;		/* XC_* seen in the EHLO reply */
	bool		 unoffered;	/* XCLIENT sent only to hear why not */
	size_t		 len;		/* bytes in buf */
	size_t		 line;		/* where the unread line starts */
	size_t		 cap;		/* of buf: HS_BUF_START to HS_BUF_MAX */
	char		 buf[];
};

static const char *const step_names[] = {
	[H_GREETING] = "greeting",
	[H_EHLO] = "EHLO",
	[H_XCLIENT] = "XCLIENT",
};

static void
hs_count(struct counters *c, enum hs_fail kind)
{
	switch (kind) {
	case HF_TIMEOUT:
		c->greeting_timeout++;
		break;
	case HF_CLOSED:
		c->greeting_closed++;
		break;
	case HF_REFUSED:
		c->greeting_refused++;
		break;
	case HF_XCLIENT:
		c->xclient_fail++;
		break;
	}
}

/* The sockets stay watched (forward.c goes on with them, or
 * forward_retry closes the server's): only the timer stops. */
static void
hs_stop(struct session *s)
{
	evtimer_del(&s->timer);
}

/*
 * Until the server's first bytes prove the connect (s->connected 0), the
 * timer runs to the connect-timeout or the greeting-timeout, whichever
 * comes first after the connect began; after, to the greeting-timeout
 * after the connect.
 */
static void
hs_arm(struct session *s)
{
	uint64_t ct = (uint64_t)s->farm->conf->connect_timeout;
	uint64_t gt = (uint64_t)s->farm->conf->greeting_timeout;
	uint64_t at, now = now_ms();
	struct timeval tv;

	if (s->connected != 0)
		at = s->connected + gt;
	else
		at = s->connecting + (ct < gt ? ct : gt);
	tv = ms_timeval(at > now ? at - now : 0);
	evtimer_add(&s->timer, &tv);
}

/* The connect is known to be done: the greeting-timeout counts from now. */
static void
hs_connected(struct session *s)
{
	s->connected = now_ms();
	s->state = S_GREETING;
	hs_arm(s);
}

static void
hs_fail(struct session *s, enum hs_fail kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The server failed the session before the client saw it: charge it, say
 * why, and try another server. */
static void
hs_fail(struct session *s, enum hs_fail kind, int code, const char *fmt,
    ...)
{
	struct rt_server *srv = s->srv;
	char why[160], text[sizeof why * 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	hs_count(&srv->st, kind);
	hs_count(&s->farm->st, kind);
	/* The server's words go inside quotes: escaped, no quote in them. */
	str_escape_buf(text, sizeof text, why);
	for (char *c = text; *c != '\0'; c++)
		if (*c == '"')
			*c = '\'';
	log_info("greeting farm=%s server=%s transport=%s error=\"%s\"",
	    s->farm->conf->name, server_name(srv->conf),
	    transport_names[server_transport(srv->conf)], text);
	hs_stop(s);
	probe_passive(srv, false, code, why);
	forward_retry(s);
}

/* The server greeted: what is left in the buffer is the client's. */
static void
hs_pass(struct session *s)
{
	struct handshake *h = s->hs;

	hs_stop(s);
	probe_passive(s->srv, true, 0, NULL);
	forward_start(s, h->buf, h->len);
	handshake_free(s);
}

static bool
hs_send(struct session *s, const char *cmd, size_t n)
{
	/* A line on a socket that has sent nothing yet: it fits. */
	if (send(s->sfd, cmd, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n)
		return true;
	hs_fail(s, HF_CLOSED, 0, "cannot send %s: %s", step_names[s->hs->step],
	    strerror(errno));
	return false;
}

/* The reply is read: the next starts at the front of the buffer. */
static void
hs_consume(struct handshake *h)
{
	memmove(h->buf, h->buf + h->line, h->len - h->line);
	h->len -= h->line;
	h->line = 0;
}

static bool
hs_ehlo_done(struct session *s, int code, const char *l, int n)
{
	struct handshake *h = s->hs;
	const struct sockaddr *local = session_local(s);
	char cmd[XCLIENT_LINE_MAX];
	int m;

	if (code / 100 != 2) {
		hs_fail(s, HF_XCLIENT, code, "EHLO: %.*s", n, l);
		return false;
	}
	h->unoffered = !(h->offer & XC_OFFERED);
	if (h->unoffered)
		h->offer = XCLIENT_ASK;
	m = xclient_command(cmd, sizeof cmd, h->offer,
	    (struct sockaddr *)&s->client, local);
	if (m < 0) {
		hs_fail(s, HF_XCLIENT, code, "XCLIENT offered without ADDR");
		return false;
	}
	hs_consume(h);
	h->step = H_XCLIENT;
	return hs_send(s, cmd, (size_t)m);
}

/* One complete reply; true while the handshake goes on. */
static bool
hs_reply(struct session *s, int code, const char *l, int n)
{
	struct handshake *h = s->hs;
	char ehlo[300];
	bool pass5 = s->farm->conf->on_greeting_5xx == GREET5XX_PASS;

	switch (h->step) {
	case H_GREETING:
		if (code / 100 == 4 || (code / 100 == 5 && !pass5)) {
			hs_fail(s, HF_REFUSED, code, "greeting %.*s", n, l);
			return false;
		}
		if (code / 100 != 2 && code / 100 != 5) {
			hs_fail(s, HF_CLOSED, code, "not a greeting: %.*s", n, l);
			return false;
		}
		/* A deliberate 5xx refusal goes to the client as it is. */
		if (code / 100 == 5 || !s->srv->conf->xclient) {
			hs_pass(s);
			return false;
		}
		hs_consume(h);
		h->step = H_EHLO;
		n = snprintf(ehlo, sizeof ehlo, "EHLO %s\r\n", s->eng->hostname);
		return hs_send(s, ehlo, (size_t)n);
	case H_EHLO:
		return hs_ehlo_done(s, code, l, n);
	case H_XCLIENT:
		if (h->unoffered) {
			hs_fail(s, HF_XCLIENT, code, "XCLIENT not offered: %.*s",
			    n, l);
			return false;
		}
		if (code != 220) {
			hs_fail(s, HF_XCLIENT, code, "XCLIENT: %.*s", n, l);
			return false;
		}
		hs_pass(s);
		return false;
	}
	return false;
}

static bool
reply_line_ok(const char *l, size_t n)
{
	return n >= 3 && isdigit((unsigned char)l[0]) &&
	    isdigit((unsigned char)l[1]) && isdigit((unsigned char)l[2]) &&
	    (n == 3 || l[3] == ' ' || l[3] == '-');
}

/* The complete lines in the buffer, up to the end of a reply. */
static void
hs_parse(struct session *s)
{
	struct handshake *h = s->hs;
	char *nl;

	while ((nl = memchr(h->buf + h->line, '\n', h->len - h->line)) !=
	    NULL) {
		const char *l = h->buf + h->line;
		size_t n = (size_t)(nl - l);

		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (n > HS_LINE_MAX || !reply_line_ok(l, n)) {
			hs_fail(s, HF_CLOSED, 0, "garbage during %s: %.*s",
			    step_names[h->step], (int)(n > 80 ? 80 : n), l);
			return;
		}
		if (h->step == H_EHLO)
			h->offer |= xclient_offer(l, n);
		h->line = (size_t)(nl - h->buf) + 1;
		if (n > 3 && l[3] == '-')
			continue;
		if (!hs_reply(s, atoi(l), l, (int)n))
			return;
	}
	if (h->len - h->line > HS_LINE_MAX || h->len == HS_BUF_MAX)
		hs_fail(s, HF_CLOSED, 0, "%s reply too long",
		    step_names[h->step]);
}

/*
 * The server's socket is readable.  Watching it only for reading from the
 * connect on is enough: a refused or reset connect reports itself as an
 * error here (EPOLLERR, EPOLLHUP), and the greeting arriving proves the
 * connect.
 */
void
handshake_read(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct handshake *h = s->hs;
	ssize_t n;
	int err;

	(void)what;
	if (h->len == h->cap && h->cap < HS_BUF_MAX) {
		h->cap = h->cap * 2 < HS_BUF_MAX ? h->cap * 2 : HS_BUF_MAX;
		s->hs = h = xreallocarray(h, 1, sizeof *h + h->cap);
	}
	n = recv(fd, h->buf + h->len, h->cap - h->len, MSG_DONTWAIT);
	err = n == -1 ? errno : 0;
	if (err == EAGAIN || err == EINTR)
		return;
	if (s->connected == 0) {
		/* A reset comes from a connected server (a refused connect
		 * is ECONNREFUSED): it failed the greeting, not the
		 * connect. */
		if (err != 0 && err != ECONNRESET && err != EPIPE) {
			forward_connect_failed(s, strerror(err));
			return;
		}
		hs_connected(s);
	}
	if (n == 0) {
		hs_fail(s, HF_CLOSED, 0, "closed during %s",
		    step_names[h->step]);
		return;
	}
	if (n == -1) {
		hs_fail(s, HF_CLOSED, 0, "%s during %s", strerror(err),
		    step_names[h->step]);
		return;
	}
	h->len += (size_t)n;
	hs_parse(s);
}

static void
hs_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	long ms = s->farm->conf->greeting_timeout;
	struct sockaddr_storage peer;
	socklen_t len = sizeof peer;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	if (s->connected == 0) {
		/* Connected but silent, or still connecting?  Only a
		 * connected socket has a peer (ENOTCONN in SYN-SENT). */
		if (getpeername(s->sfd, (struct sockaddr *)&peer, &len) == -1) {
			if (now - s->connecting >=
			    (uint64_t)s->farm->conf->connect_timeout) {
				hs_stop(s);
				forward_connect_failed(s, "connect timeout");
				return;
			}
			hs_arm(s);	/* the connect-timeout is later */
			return;
		}
		/* The connect is done, but when is not known: the
		 * greeting-timeout counts from the connect's start. */
		s->connected = s->connecting;
		s->state = S_GREETING;
		if (now - s->connecting < (uint64_t)ms) {
			hs_arm(s);
			return;
		}
	}
	if (s->hs->step == H_GREETING)
		hs_fail(s, HF_TIMEOUT, 0, "no greeting within %ld.%03ld s",
		    ms / 1000, ms % 1000);
	else
		hs_fail(s, HF_TIMEOUT, 0, "no %s reply within %ld.%03ld s",
		    step_names[s->hs->step], ms / 1000, ms % 1000);
}
LOCKED_EVENT_CB(hs_timeout)

/* An SMTP client says nothing before the greeting: readable means it left
 * (or talks out of turn, which the server will judge). */
void
handshake_client_read(struct session *s)
{
	char c;
	ssize_t n;

	n = recv(s->cfd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		session_end(s, end_names[END_CLIENT_GONE_GREETING]);
	else if (n > 0)
		watch_del(&s->c_rd);
}

/* s->s_rd is assigned (forward.c); s->connected is 0 while the connect
 * is not known to be done. */
void
handshake_start(struct session *s)
{
	if (s->hs == NULL) {
		s->hs = xmalloc(sizeof *s->hs + HS_BUF_START);
		s->hs->cap = HS_BUF_START;
	}
	s->hs->step = H_GREETING;
	s->hs->offer = 0;
	s->hs->unoffered = false;
	s->hs->len = s->hs->line = 0;
	s->state = s->connected != 0 ? S_GREETING : S_CONNECTING;
	evtimer_assign(&s->timer, s->w->base, hs_timeout_locked, s);
	if (!watch_pending(&s->s_rd))
		(void)watch_add(&s->s_rd);
	hs_arm(s);
}

void
handshake_free(struct session *s)
{
	free(s->hs);
	s->hs = NULL;
}
