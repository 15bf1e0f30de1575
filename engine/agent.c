/*
 * The agent check client: every agent-interval, connect to the server's
 * agent-port, read one line of HAProxy agent-check text and apply it as
 * HAProxy does.  Words the agent does not say leave things as they are;
 * what the agent set (drain, maint, down, a weight) only the agent undoes.
 * An agent that cannot be reached changes nothing: it is shown, not acted
 * on (HAProxy: "failing to connect to the agent is not an error").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "agent.h"
#include "engine.h"
#include "proto.h"
#include "worker.h"

#define AGENT_TIMEOUT_MS	2000

struct agent {
	struct engine		*eng;
	struct rt_server	*srv;
	struct event		*timer;
	struct bufferevent	*bev;
	struct mxaddr		 addr;	/* what it was started for */
	long			 port, interval;
};

static void agent_run(evutil_socket_t, short, void *);
static void agent_run_locked(evutil_socket_t, short, void *);

static void
schedule(struct agent *a, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(a->timer, &tv);
}

static void
end_run(struct agent *a)
{
	if (a->bev != NULL) {
		bufferevent_free(a->bev);
		a->bev = NULL;
	}
	evtimer_del(a->timer);
	event_assign(a->timer, a->eng->base, -1, 0, agent_run_locked, a);
	schedule(a, a->interval);
}

/* No reply to apply: say why, keep the agent's last word. */
static void
no_reply(struct agent *a, const char *why, const char *detail)
{
	struct rt_server *s = a->srv;

	snprintf(s->agent_text, sizeof s->agent_text, "(%s%s%.100s)", why,
	    detail ? ": " : "", detail ? detail : "");
	end_run(a);
}

static void
apply(struct agent *a, const struct agent_reply *r, const char *line)
{
	struct rt_server *s = a->srv;
	bool was = server_available(s);
	enum admin_state wadmin = s->agent_admin;
	bool wdown = s->agent_down;

	if (r->pct >= 0) {
		s->agent_has_pct = true;
		s->agent_pct = r->pct;
	}
	if (r->admin >= 0)
		s->agent_admin = (enum admin_state)r->admin;
	if (r->up >= 0)
		s->agent_down = r->up == 0;
	if (r->queue >= 0) {
		s->mx_queue_known = true;
		s->mx_queue = r->queue;
	}
	strlcpy_(s->agent_text, line, sizeof s->agent_text);
	s->agent_when = (uint64_t)time(NULL);
	if (wadmin != s->agent_admin || wdown != s->agent_down) {
		char text[sizeof s->agent_text * 4];
		str_escape_buf(text, sizeof text, line);
		for (char *c = text; *c != '\0'; c++)
			if (*c == '"')
				*c = '\'';
		s->changed = s->agent_when;
		log_warn("agent farm=%s server=%s state=%s was=%s reply=\"%s\"",
		    s->farm->conf->name, server_name(s->conf),
		    s->agent_down ? "down" : admin_names[s->agent_admin],
		    wdown ? "down" : admin_names[wadmin], text);
		/* As a probe event: state and was, the reply as the check. */
		engine_event(a->eng, EV_AGENT, json_pack("{s:s,s:s,s:s,s:s,"
		    "s:s}", K_FARM, s->farm->conf->name, K_SERVER,
		    server_name(s->conf), K_STATE, s->agent_down ? "down" :
		    admin_names[s->agent_admin], K_WAS, wdown ? "down" :
		    admin_names[wadmin], K_CHECK, s->agent_text));
	}
	server_ramp_check(s, was, now_ms());
	if (!server_available(s))
		server_requeue(s);
}

static void
got_line(struct agent *a, const char *line, size_t len)
{
	struct agent_reply r;
	char err[160], text[AGENT_LINE_MAX + 1];
	size_t n = 0;

	if (agent_parse(line, len, &r, err, sizeof err) == -1) {
		no_reply(a, "bad reply", err);
		return;
	}
	/* Parsed: printable up to its end of line, and at most the max. */
	while (n < len && line[n] != '\r' && line[n] != '\n')
		n++;
	memcpy(text, line, n);
	text[n] = '\0';
	apply(a, &r, text);
	end_run(a);
}

static void
agent_read(struct bufferevent *bev, void *arg)
{
	struct agent *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	size_t len = evbuffer_get_length(in);
	char buf[AGENT_LINE_MAX + 2];
	int n;

	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_ANY);
	if (eol.pos == -1 && len <= AGENT_LINE_MAX)
		return;		/* more to come */
	if (eol.pos == -1 || (size_t)eol.pos > AGENT_LINE_MAX) {
		no_reply(a, "bad reply", "longer than 512 bytes");
		return;
	}
	n = evbuffer_remove(in, buf, (size_t)eol.pos + 1);
	got_line(a, buf, n > 0 ? (size_t)n : 0);
}
LOCKED_BEV_CB(agent_read)

static void
agent_event(struct bufferevent *bev, short what, void *arg)
{
	struct agent *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char buf[AGENT_LINE_MAX + 1];
	size_t len;

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_enable(bev, EV_READ);
		return;
	}
	/* A line without its newline, then the end: a reply all the same. */
	if ((what & BEV_EVENT_EOF) && (len = evbuffer_get_length(in)) > 0 &&
	    len <= AGENT_LINE_MAX) {
		int n = evbuffer_remove(in, buf, len);
		got_line(a, buf, n > 0 ? (size_t)n : 0);
	} else if (what & BEV_EVENT_EOF)
		no_reply(a, "no reply", "closed");
	else
		no_reply(a, "no reply", strerror(EVUTIL_SOCKET_ERROR()));
}
LOCKED_BEV_EVENT_CB(agent_event)

static void
agent_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	no_reply(arg, "no reply", "timeout");
}
LOCKED_EVENT_CB(agent_timeout)

static void
agent_run(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	struct sockaddr_storage ss;
	socklen_t len;

	(void)fd;
	(void)what;
	len = addr_to_sockaddr(&a->addr, (uint16_t)a->port, &ss);
	a->bev = bufferevent_socket_new(a->eng->base,
	    addr_socket_out(ss.ss_family), BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(a->bev, agent_read_locked, NULL, agent_event_locked,
	    a);
	event_assign(a->timer, a->eng->base, -1, 0, agent_timeout_locked, a);
	schedule(a, a->interval < AGENT_TIMEOUT_MS ? a->interval :
	    AGENT_TIMEOUT_MS);
	if (bufferevent_socket_connect(a->bev, (struct sockaddr *)&ss,
	    (int)len) == -1)
		no_reply(a, "no reply", strerror(EVUTIL_SOCKET_ERROR()));
}
LOCKED_EVENT_CB(agent_run)

/* What the agent said no longer holds once it is gone from the config. */
static void
agent_forget(struct rt_server *s)
{
	bool was = server_available(s);

	s->agent_admin = ADMIN_READY;
	s->agent_down = false;
	s->agent_has_pct = false;
	s->mx_queue_known = false;
	s->agent_text[0] = '\0';
	server_ramp_check(s, was, now_ms());
}

/* Starts, keeps or stops the agent check after a config change. */
void
agent_restart(struct engine *eng, struct rt_server *s)
{
	const struct server *c = s->conf;
	struct agent *a = s->agent;
	bool want = FIELD_ISSET(&server_fields, c, "agent-port") &&
	    c->status == STATUS_ACTIVE;

	if (a != NULL && want && a->port == c->agent_port &&
	    a->interval == c->agent_interval &&
	    addr_cmp(&a->addr, &c->address) == 0)
		return;
	agent_stop(s);
	if (!want) {
		agent_forget(s);
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->eng = eng;
	a->srv = s;
	a->addr = c->address;
	a->port = c->agent_port;
	a->interval = c->agent_interval;
	a->timer = evtimer_new(eng->base, agent_run_locked, a);
	s->agent = a;
	schedule(a, random() % (a->interval < 1000 ? a->interval + 1 : 1001));
}

void
agent_stop(struct rt_server *s)
{
	struct agent *a = s->agent;

	if (a == NULL)
		return;
	if (a->bev != NULL)
		bufferevent_free(a->bev);
	event_free(a->timer);
	free(a);
	s->agent = NULL;
}
