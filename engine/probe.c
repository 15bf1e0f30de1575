/*
 * Health probes.  The SMTP probe talks to the server the way a sending MTA
 * does: PROXY header if the server wants one, the greeting read to its last
 * line (so postscreen's "220-" pre-greet passes), EHLO with its multi-line
 * 250, then QUIT and 221.  2xx: up; 4xx: nolb (reachable, takes no new
 * sessions); 5xx, garbage, timeout: down after probe-fall failures.
 * On an xclient server it sends XCLIENT after EHLO as sessions do, so a
 * server that stops authorising the balancer goes down before clients
 * notice.  Real sessions' failures count toward probe-fall too
 * (passive health, probe_passive()).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>

#include "xclient.h"
#include "proxy.h"
#include "engine.h"
#include "proto.h"
#include "source.h"
#include "worker.h"

#define PROBE_LINE_MAX	1024	/* longer reply lines are garbage */

enum probe_step { P_IDLE, P_CONNECT, P_GREETING, P_EHLO, P_XCLIENT, P_QUIT };
/* Indexes a server's checks counter. */
enum probe_result { R_OK = CHECK_OK, R_NOLB = CHECK_NOLB,
	R_FAIL = CHECK_FAIL };

struct probe {
	struct engine		*eng;
	struct rt_server	*srv;
	struct event		*timer;	/* next run, or the running deadline */
	struct bufferevent	*bev;
	enum probe_step		 step;
	uint64_t		 started;
	unsigned		 oks, fails;	/* in a row */
	bool			 confirmed;	/* a result was seen */
	bool			 fresh;		/* no result ever: unchecked */
	unsigned		 xoffer;	/* XC_* in the EHLO reply */
	bool			 xunoffered;	/* XCLIENT sent to hear why not */
	char			 greeting[128];
};

static void probe_run(evutil_socket_t, short, void *);
static void probe_run_locked(evutil_socket_t, short, void *);

static uint16_t
probe_port(struct engine *eng, const struct rt_server *s)
{
	const struct farm *f = s->farm->conf;
	const struct fieldset *fs = &farm_fields, *ss = &server_fields;

	if (FIELD_ISSET(fs, f, "probe-port"))
		return (uint16_t)f->probe_port;
	if (FIELD_ISSET(ss, s->conf, "port"))
		return (uint16_t)s->conf->port;
	if (FIELD_ISSET(fs, f, "port"))
		return (uint16_t)f->port;
	/* Servers then listen where the clients came: the frontend's port. */
	for (size_t i = 0; eng->cfg && i < eng->cfg->nfrontends; i++) {
		const struct frontend *fe = eng->cfg->frontends[i];
		if (strcmp(fe->farm, f->name) == 0 && fe->bind.n > 0)
			return fe->bind.v[0].lo;
	}
	return 0;
}

static void
schedule(struct probe *p, long ms)
{
	struct timeval tv = ms_timeval((uint64_t)ms);

	evtimer_add(p->timer, &tv);
}

/* interval ± 10 %, so probes of many servers do not come in waves. */
static long
next_delay(const struct probe *p)
{
	long iv = p->srv->farm->conf->probe_interval;
	long spread = iv / 5;

	return iv - iv / 10 + (spread > 0 ? random() % spread : 0);
}

static void
set_state(struct probe *p, enum probe_state st)
{
	struct rt_server *s = p->srv;
	char text[sizeof s->check_text * 4];
	const char *was = pstate_names[p->fresh ? PSTATE_UNCHECKED : s->pstate];

	/* A first result that keeps the state (a new server found up) is
	 * shown by the stats, not logged as a change. */
	if (s->pstate == st)
		return;
	/* The server's text goes inside quotes in a key=value log line:
	 * escaped, and no quote to end it early. */
	str_escape_buf(text, sizeof text, s->check_text);
	for (char *c = text; *c != '\0'; c++)
		if (*c == '"')
			*c = '\'';
	/* A server down is trouble; any other change is news. */
	(st == PSTATE_DOWN ? log_warn : log_notice)("probe farm=%s "
	    "server=%s state=%s was=%s check=\"%s\" latency=%u.%03u",
	    s->farm->conf->name, server_name(s->conf),
	    pstate_names[st], was, text, s->check_ms / 1000,
	    s->check_ms % 1000);
	engine_event(p->eng, EV_PROBE, json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}",
	    K_FARM, s->farm->conf->name, K_SERVER, server_name(s->conf),
	    K_STATE, pstate_names[st], K_WAS, was,
	    K_CHECK, s->check_text, K_LATENCY_MS, (int)s->check_ms));
	server_set_pstate(s, st);
}

static void
apply_result(struct probe *p, enum probe_result r)
{
	struct rt_server *s = p->srv;
	const struct farm *f = s->farm->conf;

	s->st.checks[r]++;
	if (r == R_OK) {
		p->fails = 0;
		p->oks++;
		if (s->pstate == PSTATE_NOLB || (s->pstate == PSTATE_DOWN &&
		    p->oks >= (unsigned)f->probe_rise))
			set_state(p, PSTATE_UP);
	} else if (r == R_NOLB) {
		p->oks = 0;
		p->fails = 0;
		set_state(p, PSTATE_NOLB);
	} else {
		p->oks = 0;
		p->fails++;
		/* A server never seen working is not given the benefit of
		 * the doubt: down at its first failure. */
		if (s->pstate != PSTATE_DOWN && (!p->confirmed ||
		    p->fails >= (unsigned)f->probe_fall))
			set_state(p, PSTATE_DOWN);
	}
	p->confirmed = true;
	p->fresh = false;
}

/* The connection of this run closed, the timer back to the next run. */
static void
probe_end_run(struct probe *p)
{
	if (p->bev != NULL) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	evtimer_del(p->timer);
	event_assign(p->timer, p->eng->base, -1, 0, probe_run_locked, p);
	p->step = P_IDLE;
}

static void
probe_done(struct probe *p, enum probe_result r, int code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
probe_done(struct probe *p, enum probe_result r, int code, const char *fmt,
    ...)
{
	struct rt_server *s = p->srv;
	va_list ap;

	probe_end_run(p);
	s->check_code = code;
	s->check_ms = (uint32_t)(now_ms() - p->started);
	va_start(ap, fmt);
	vsnprintf(s->check_text, sizeof s->check_text, fmt, ap);
	va_end(ap);
	apply_result(p, r);
	schedule(p, next_delay(p));
}

/* The final line of a reply, or NULL while more lines are to come. */
static char *
read_reply(struct probe *p, struct evbuffer *in, bool *bad)
{
	char *line;
	size_t len;

	*bad = false;
	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		if (p->step == P_EHLO)
			p->xoffer |= xclient_offer(line, len);
		if (len < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    (len > 3 && line[3] != ' ' && line[3] != '-')) {
			*bad = true;
			return line;
		}
		if (len == 3 || line[3] == ' ')
			return line;
		if (p->step == P_GREETING)	/* keep the banner's first line */
			strlcpy_(p->greeting, line, sizeof p->greeting);
		free(line);
	}
	if (evbuffer_get_length(in) > PROBE_LINE_MAX) {
		*bad = true;
		return xstrdup("reply line too long");
	}
	return NULL;
}

static void
probe_send(struct probe *p, const char *cmd)
{
	evbuffer_add_printf(bufferevent_get_output(p->bev), "%s\r\n", cmd);
}

/* XCLIENT as a session sends it, with the probe's own addresses. */
static void
probe_xclient(struct probe *p)
{
	struct sockaddr_storage local, peer;
	socklen_t ll = sizeof local, pl = sizeof peer;
	evutil_socket_t fd = bufferevent_getfd(p->bev);
	char cmd[XCLIENT_LINE_MAX];
	int n;

	/* Not offered: asked anyway, for the server's words (handshake.c). */
	p->xunoffered = !(p->xoffer & XC_OFFERED);
	if (p->xunoffered)
		p->xoffer = XCLIENT_ASK;
	if (getsockname(fd, (struct sockaddr *)&local, &ll) == -1 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) == -1 ||
	    (n = xclient_command(cmd, sizeof cmd, p->xoffer,
	    (struct sockaddr *)&local, (struct sockaddr *)&peer)) < 0) {
		probe_done(p, R_FAIL, 0, "XCLIENT offered without ADDR");
		return;
	}
	p->step = P_XCLIENT;
	evbuffer_add(bufferevent_get_output(p->bev), cmd, (size_t)n);
}

/* One complete reply in the current step. */
static void
probe_reply(struct probe *p, const char *line)
{
	int code = atoi(line);
	const char *helo = p->srv->farm->conf->probe_helo;

	if (p->step == P_XCLIENT && p->xunoffered) {
		probe_done(p, R_FAIL, code, "XCLIENT not offered: %s", line);
		return;
	}
	if (code >= 400 && code < 500) {
		probe_done(p, R_NOLB, code, "%s", line);
		return;
	}
	if (code < 200 || code >= 300) {
		probe_done(p, R_FAIL, code, "%s", line);
		return;
	}
	if (p->step == P_GREETING) {
		strlcpy_(p->greeting, line, sizeof p->greeting);
		p->step = P_EHLO;
		evbuffer_add_printf(bufferevent_get_output(p->bev),
		    "EHLO %s\r\n", helo ? helo : p->eng->hostname);
	} else if (p->step == P_EHLO && p->srv->conf->xclient)
		probe_xclient(p);
	else if (p->step == P_EHLO || p->step == P_XCLIENT) {
		p->step = P_QUIT;
		probe_send(p, "QUIT");
	} else
		probe_done(p, R_OK, code, "%s", p->greeting);
}

static void
probe_read(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	bool bad;

	while (p->step >= P_GREETING &&
	    (line = read_reply(p, in, &bad)) != NULL) {
		if (bad)
			probe_done(p, R_FAIL, 0, "garbage: %.80s", line);
		else
			probe_reply(p, line);
		free(line);
	}
}
LOCKED_BEV_CB(probe_read)

static const char *
step_name(enum probe_step st)
{
	static const char *const names[] = { "idle", "connect", "greeting",
	    "EHLO", "XCLIENT", "QUIT" };
	return names[st];
}

static void
send_proxy(struct probe *p)
{
	struct sockaddr_storage local, peer;
	socklen_t ll = sizeof local, pl = sizeof peer;
	evutil_socket_t fd = bufferevent_getfd(p->bev);
	uint8_t hdr[PROXY_HDR_MAX];
	ssize_t n = -1;

	if (p->srv->conf->proxyprotocol == PROXY_V2)
		n = proxy_header_local(hdr, sizeof hdr);
	else if (p->srv->conf->proxyprotocol == PROXY_V1 &&
	    getsockname(fd, (struct sockaddr *)&local, &ll) == 0 &&
	    getpeername(fd, (struct sockaddr *)&peer, &pl) == 0)
		n = proxy_header(PROXY_V1, (struct sockaddr *)&local,
		    (struct sockaddr *)&peer, hdr, sizeof hdr);
	/* Straight to the socket: one write, even if a TCP probe closes
	 * right after. */
	if (n > 0)
		(void)send(fd, hdr, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The engine itself is out of descriptors: that says nothing about the
 * server, so no verdict; try again at the next interval. */
static bool
probe_starved(struct probe *p, int err)
{
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return false;
	probe_end_run(p);
	schedule(p, next_delay(p));
	return true;
}

static void
probe_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		send_proxy(p);
		if (p->srv->farm->conf->probe == PROBE_TCP) {
			probe_done(p, R_OK, 0, "connected");
			return;
		}
		p->step = P_GREETING;
		bufferevent_enable(p->bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_EOF)
		probe_done(p, R_FAIL, 0, "connection closed during %s",
		    step_name(p->step));
	else if (probe_starved(p, err))
		return;
	else if (p->step == P_CONNECT)
		probe_done(p, R_FAIL, 0, "connect: %s", strerror(err));
	else
		probe_done(p, R_FAIL, 0, "%s during %s", strerror(err),
		    step_name(p->step));
}
LOCKED_BEV_EVENT_CB(probe_event)

static void
probe_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	probe_done(p, R_FAIL, 0, "timeout during %s after %ld ms",
	    step_name(p->step), p->srv->farm->conf->probe_timeout);
}
LOCKED_EVENT_CB(probe_timeout)

static void
probe_run(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct rt_server *s = p->srv;
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port = probe_port(p->eng, s);
	char why[SOURCE_ERRLEN];
	int sfd, srcerr;

	(void)fd;
	(void)what;
	p->started = now_ms();
	if (port == 0) {
		probe_done(p, R_FAIL, 0, "no port to probe (set probe-port)");
		return;
	}
	len = addr_to_sockaddr(&s->conf->address, port, &ss);
	p->step = P_CONNECT;
	p->greeting[0] = '\0';
	p->xoffer = 0;
	p->xunoffered = false;
	sfd = addr_socket_out(ss.ss_family);
	srcerr = source_bind_probe(sfd, s->farm->conf, ss.ss_family, why,
	    sizeof why);
	/* On -1 libevent makes the socket in connect, and reports why not. */
	p->bev = bufferevent_socket_new(p->eng->base, sfd,
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(p->bev, probe_read_locked, NULL, probe_event_locked,
	    p);
	event_assign(p->timer, p->eng->base, -1, 0, probe_timeout_locked, p);
	schedule(p, s->farm->conf->probe_timeout);
	if (srcerr == -1) {
		probe_done(p, R_FAIL, 0, "%s", why);
		return;
	}
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss,
	    (int)len) == -1 && !probe_starved(p, EVUTIL_SOCKET_ERROR()))
		probe_done(p, R_FAIL, 0, "connect: %s",
		    strerror(EVUTIL_SOCKET_ERROR()));
}
LOCKED_EVENT_CB(probe_run)

/* Servers of a farm without probe, and inactive ones, are taken as up. */
void
probe_start(struct engine *eng, struct rt_server *s)
{
	struct probe *p;
	long first;

	if (s->farm->conf->probe == PROBE_NONE ||
	    s->conf->status == STATUS_INACTIVE) {
		s->pstate = PSTATE_UP;
		s->check_code = 0;
		strlcpy_(s->check_text, "not probed", sizeof s->check_text);
		return;
	}
	/* A server that was not probed has no result yet: unchecked. */
	if (strcmp(s->check_text, "not probed") == 0)
		s->check_text[0] = '\0';
	p = xcalloc(1, sizeof *p);
	p->fresh = s->check_text[0] == '\0';
	p->eng = eng;
	p->srv = s;
	p->timer = evtimer_new(eng->base, probe_run_locked, p);
	s->probe = p;
	/* The first probe comes soon, spread over a second at most. */
	first = s->farm->conf->probe_interval < 1000 ?
	    s->farm->conf->probe_interval : 1000;
	schedule(p, random() % (first + 1));
}

void
probe_stop(struct rt_server *s)
{
	struct probe *p = s->probe;

	if (p == NULL)
		return;
	if (p->bev != NULL)
		bufferevent_free(p->bev);
	event_free(p->timer);
	free(p);
	s->probe = NULL;
}

/* Probed, but no probe has finished yet: neither up nor down is known.
 * The server takes sessions meanwhile (as HAProxy's default init-state),
 * but no one is told it was seen working. */
bool
probe_unchecked(const struct rt_server *s)
{
	return s->probe != NULL && s->probe->fresh;
}

/*
 * A real session's verdict on its server (passive health, as HAProxy's
 * `observe layer4` and nginx's max_fails): a failed connect or handshake
 * counts toward probe-fall as a failed probe does, so a dead server goes
 * down after probe-fall bad sessions, not at the next probes.  A good
 * greeting ends a run of failures.  Only a probed server: nothing else
 * would bring it back up.
 */
void
probe_passive(struct rt_server *s, bool ok, int code, const char *why)
{
	struct probe *p = s->probe;

	if (p == NULL || s->farm->conf->passive_health == PASSIVE_OFF ||
	    s->pstate != PSTATE_UP)
		return;
	if (ok) {
		p->fails = 0;
		return;
	}
	p->oks = 0;
	if (++p->fails < (unsigned)s->farm->conf->probe_fall)
		return;
	s->check_code = code;
	s->check_ms = 0;
	snprintf(s->check_text, sizeof s->check_text, "session: %s", why);
	p->confirmed = true;
	p->fresh = false;
	set_state(p, PSTATE_DOWN);
}
