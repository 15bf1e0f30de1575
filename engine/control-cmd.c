/*
 * The control commands.  Each checks its arguments and answers exactly
 * once (a `wait` answers later); the table says who may run it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/http.h>

#include "control.h"
#include "zone.h"
#include "notify.h"
#include "worker.h"

struct command {
	const char	*name;
	bool		 admin;
	void		(*fn)(struct client *, json_t *, json_t *);
};

/* A string argument, or NULL after answering bad-request. */
static const char *
arg_string(struct client *c, json_t *req, json_t *id, const char *key)
{
	json_t *v = json_object_get(req, key);

	if (json_is_string(v))
		return json_string_value(v);
	reply_error(c, id, E_BAD_REQUEST, NULL, "%s needs \"%s\" (a string)",
	    json_string_value(json_object_get(req, K_CMD)), key);
	return NULL;
}

/* An optional non-negative integer; -1 after answering bad-request. */
static json_int_t
arg_uint(struct client *c, json_t *req, json_t *id, const char *key,
    json_int_t def)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL || json_is_null(v))
		return def;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return json_integer_value(v);
	reply_error(c, id, E_BAD_REQUEST, NULL, "\"%s\" must be a number >= 0",
	    key);
	return -1;
}

/* A refused commit, rollback or confirm: logged, then answered. */
static void
reply_txn_error(struct client *c, json_t *id, const char *what,
    struct txn_error *e)
{
	const char *code = e->code ? e->code : E_STATE;
	const char *msg = e->message ? e->message : "failed";

	/* Bounded: a config's errors may quote what the peer sent. */
	log_err("%s refused zone=%s user=%s code=%s: %.2048s%s%.512s", what,
	    c->ctl->eng->zone, c->user, code, msg, e->list.n ? ": " : "",
	    e->list.n ? e->list.v[0] : "");
	reply_error(c, id, code, &e->list, "%s", msg);
	txn_error_free(e);
}

/* An optional comment: a string of at most PROTO_COMMENT_MAX bytes, so
 * the history stays small.  False after answering bad-request. */
static bool
arg_comment(struct client *c, json_t *req, json_t *id, const char **out)
{
	json_t *v = json_object_get(req, K_COMMENT);
	const char *cmd = json_string_value(json_object_get(req, K_CMD));

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		reply_error(c, id, E_BAD_REQUEST, NULL, "\"comment\" must be a "
		    "string");
		return false;
	}
	if (json_string_length(v) > PROTO_COMMENT_MAX) {
		log_err("%s refused zone=%s user=%s: comment of %zu bytes",
		    cmd, c->ctl->eng->zone, c->user, json_string_length(v));
		reply_error(c, id, E_BAD_REQUEST, NULL, "the comment is %zu "
		    "bytes long; a comment may have at most %d bytes",
		    json_string_length(v), PROTO_COMMENT_MAX);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static void
cmd_hello(struct client *c, json_t *req, json_t *id)
{
	(void)req;
	reply_ok(c, id, json_pack("{s:i,s:s,s:s,s:s,s:s,s:i}", K_PROTOCOL,
	    PROTO_VERSION, K_ZONE, c->ctl->eng->zone, K_VERSION, MXLB_VERSION,
	    K_ACCESS, c->admin ? "admin" : "read", K_USER, c->user, K_PID,
	    (int)getpid()));
}

static void
cmd_get(struct client *c, json_t *req, json_t *id)
{
	struct txn *t = c->ctl->eng->txn;
	json_int_t n = arg_uint(c, req, id, K_VERSION, (json_int_t)t->running);
	const struct version *v;
	json_t *cfg;

	if (n < 0)
		return;
	v = txn_find(t, (uint64_t)n);
	if (v == NULL && n != 0) {
		reply_error(c, id, E_NOT_FOUND, NULL, "zone %s: no version %lld "
		    "in the history", t->zone, (long long)n);
		return;
	}
	if (v != NULL)
		cfg = json_loads(v->config, 0, NULL);
	else {
		char *empty = txn_empty_config(t);
		cfg = json_loads(empty, 0, NULL);
		free(empty);
	}
	reply_ok(c, id, json_pack("{s:o,s:I,s:I}", K_CONFIG, cfg, K_VERSION,
	    (json_int_t)n, K_RUNNING, (json_int_t)t->running));
}

static void
cmd_stats(struct client *c, json_t *req, json_t *id)
{
	(void)req;
	reply_ok(c, id, stats_json(c->ctl->eng));
}

static void
cmd_history(struct client *c, json_t *req, json_t *id)
{
	struct txn *t = c->ctl->eng->txn;
	json_t *a = json_array();

	(void)req;
	for (size_t i = 0; i < t->nhist; i++)
		json_array_append_new(a, json_pack("{s:I,s:I,s:s,s:s}",
		    K_VERSION, (json_int_t)t->hist[i].number, K_TIME,
		    (json_int_t)t->hist[i].time, K_USER, t->hist[i].user,
		    K_COMMENT, t->hist[i].comment));
	reply_ok(c, id, json_pack("{s:o,s:I,s:b,s:I}", K_VERSIONS, a, K_RUNNING,
	    (json_int_t)t->running, K_PENDING, t->pending, K_DEADLINE,
	    (json_int_t)(t->pending ? t->deadline : 0)));
}

/* HAProxy's `show sess`, for SMTP: who is connected, who waits. */
static void
cmd_sessions(struct client *c, json_t *req, json_t *id)
{
	json_t *farm = json_object_get(req, K_FARM);
	json_t *server = json_object_get(req, K_SERVER);
	json_int_t limit = arg_uint(c, req, id, K_LIMIT, SESSIONS_MAX);

	if (limit < 0)
		return;
	if ((farm != NULL && !json_is_string(farm)) || (server != NULL &&
	    !json_is_string(server)) || (server != NULL && farm == NULL)) {
		reply_error(c, id, E_BAD_REQUEST, NULL, "sessions takes "
		    "\"farm\" and then \"server\" (strings), both optional");
		return;
	}
	if (farm != NULL && engine_farm(c->ctl->eng,
	    json_string_value(farm)) == NULL) {
		reply_error(c, id, E_NOT_FOUND, NULL, "no farm %s in zone %s",
		    json_string_value(farm), c->ctl->eng->zone);
		return;
	}
	if (server != NULL && engine_server(c->ctl->eng,
	    json_string_value(farm), json_string_value(server)) == NULL) {
		reply_error(c, id, E_NOT_FOUND, NULL, "no server %s in farm %s",
		    json_string_value(server), json_string_value(farm));
		return;
	}
	reply_ok(c, id, session_list(c->ctl->eng, farm ?
	    json_string_value(farm) : NULL, server ?
	    json_string_value(server) : NULL, limit > SESSIONS_MAX ?
	    SESSIONS_MAX : (size_t)limit));
}

static void
cmd_subscribe(struct client *c, json_t *req, json_t *id)
{
	(void)req;
	c->subscribed = true;
	reply_ok(c, id, NULL);
}

static void
committed(struct client *c, json_t *id, const char *what)
{
	struct engine *eng = c->ctl->eng;
	struct txn *t = eng->txn;
	const struct version *v = txn_find(t, t->running);
	char *user = str_escape(v->user), *comment = str_escape(v->comment);

	/* Peer text, escaped: a newline in a comment would forge a line, a
	 * quote end the value early. */
	for (char *q = comment; *q != '\0'; q++)
		if (*q == '"')
			*q = '\'';
	log_info("%s zone=%s version=%llu user=%s comment=\"%s\"%s", what,
	    eng->zone, (unsigned long long)t->running, user, comment,
	    t->pending ? " confirm=pending" : "");
	free(user);
	free(comment);
	engine_event(eng, EV_COMMIT, json_pack("{s:I,s:s,s:s,s:b}", K_VERSION,
	    (json_int_t)t->running, K_USER, v->user, K_COMMENT, v->comment,
	    K_PENDING, t->pending));
	reply_ok(c, id, json_pack("{s:I,s:b,s:I}", K_VERSION,
	    (json_int_t)t->running, K_PENDING, t->pending, K_DEADLINE,
	    (json_int_t)(t->pending ? t->deadline : 0)));
}

/* Commit times round up to the next second and the revert timer reads
 * whole seconds: a `confirmed N` commit then stands at least N seconds. */
static int64_t
commit_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec + (ts.tv_nsec > 0);
}

static void
cmd_commit(struct client *c, json_t *req, json_t *id)
{
	struct txn *t = c->ctl->eng->txn;
	struct txn_error e = { NULL, NULL, { NULL, 0 } };
	json_t *cfg = json_object_get(req, K_CONFIG);
	const char *comment;
	json_int_t base = arg_uint(c, req, id, K_BASE, -2), confirm;

	if (base == -1)
		return;
	if (base == -2 || !json_is_object(cfg)) {
		reply_error(c, id, E_BAD_REQUEST, NULL, "commit needs \"config\" "
		    "(an object) and \"base\" (the version it was based on)");
		return;
	}
	if (!arg_comment(c, req, id, &comment))
		return;
	if ((confirm = arg_uint(c, req, id, K_CONFIRMED, 0)) == -1)
		return;
	if (txn_commit(t, cfg, (uint64_t)base, c->user,
	    comment ? comment : "", (long)confirm, commit_time(), &e) == -1) {
		reply_txn_error(c, id, "commit", &e);
		return;
	}
	committed(c, id, "commit");
}

static void
cmd_confirm(struct client *c, json_t *req, json_t *id)
{
	struct engine *eng = c->ctl->eng;
	struct txn_error e = { NULL, NULL, { NULL, 0 } };

	(void)req;
	if (txn_confirm(eng->txn, &e) == -1) {
		reply_txn_error(c, id, "confirm", &e);
		return;
	}
	log_info("confirm zone=%s version=%llu user=%s", eng->zone,
	    (unsigned long long)eng->txn->running, c->user);
	engine_event(eng, EV_CONFIRM, json_pack("{s:I,s:s}", K_VERSION,
	    (json_int_t)eng->txn->running, K_USER, c->user));
	reply_ok(c, id, json_pack("{s:I}", K_VERSION,
	    (json_int_t)eng->txn->running));
}

static void
cmd_rollback(struct client *c, json_t *req, json_t *id)
{
	struct txn *t = c->ctl->eng->txn;
	struct txn_error e = { NULL, NULL, { NULL, 0 } };
	json_int_t n = arg_uint(c, req, id, K_VERSION, -2);
	json_int_t base = n < 0 ? -1 : arg_uint(c, req, id, K_BASE,
	    (json_int_t)t->running);
	const char *comment;

	if (n == -2)
		reply_error(c, id, E_BAD_REQUEST, NULL, "rollback needs "
		    "\"version\"");
	if (n < 0 || base < 0 || !arg_comment(c, req, id, &comment))
		return;
	if (txn_rollback(t, (uint64_t)n, (uint64_t)base, c->user, comment,
	    (int64_t)time(NULL), &e) == -1) {
		reply_txn_error(c, id, "rollback", &e);
		return;
	}
	committed(c, id, "rollback");
}

static void
cmd_admin(struct client *c, json_t *req, json_t *id)
{
	const char *farm, *server, *state;
	char err[1024], words[64];
	int st;

	if ((farm = arg_string(c, req, id, K_FARM)) == NULL ||
	    (server = arg_string(c, req, id, K_SERVER)) == NULL ||
	    (state = arg_string(c, req, id, K_STATE)) == NULL)
		return;
	if ((st = names_find(admin_names, ADMIN_MAX, state)) == -1) {
		reply_error(c, id, E_BAD_REQUEST, NULL, "state \"%s\" is not one "
		    "of %s", state, names_join(words, sizeof words, admin_names,
		    ADMIN_MAX, "|"));
		return;
	}
	switch (engine_admin(c->ctl->eng, farm, server, (enum admin_state)st,
	    err, sizeof err)) {
	case 0:
		break;
	case ADMIN_NOT_SAVED:
		log_err("admin refused zone=%s user=%s: %s", c->ctl->eng->zone,
		    c->user, err);
		reply_error(c, id, E_STATE, NULL, "%s", err);
		return;
	default:
		reply_error(c, id, E_NOT_FOUND, NULL, "%s", err);
		return;
	}
	reply_ok(c, id, json_pack("{s:s,s:s,s:s}", K_FARM, farm, K_SERVER,
	    server, K_STATE, state));
}

/* The listening sockets and what each serves, as the new engine checks
 * them (listener_adopt); fds[] gets the descriptors in the same order,
 * the control socket last. */
static json_t *
takeover_list(struct engine *eng, int *fds, size_t *nfds)
{
	json_t *a = json_array();
	char host[ADDR_STRLEN];

	*nfds = 0;
	/* Every worker's socket: none is closed with clients in its queue. */
	for (size_t i = 0; i < eng->nls; i++) {
		const struct listener *l = eng->ls[i];
		if (l->addr.family != 0)
			addr_format(&l->addr, host, sizeof host);
		for (size_t j = 0; j < l->nsocks; j++) {
			json_array_append_new(a, json_pack("{s:s?,s:i,s:s?}",
			    "address", l->addr.family != 0 ? host : NULL,
			    "port", (int)l->port, "frontend", l->fe != NULL ?
			    l->fe->conf->name : NULL));
			fds[(*nfds)++] = l->socks[j]->fd;
		}
	}
	if (eng->metrics_fd != -1)
		fds[(*nfds)++] = eng->metrics_fd;
	fds[(*nfds)++] = eng->ctl->fd;
	return a;
}

/* Step 1: the sockets go to the new engine, the state directory is left
 * to it; we go on serving until step 2 (or until it goes away). */
static void
takeover_give(struct client *c, json_t *id)
{
	struct engine *eng = c->ctl->eng;
	size_t nfds = 2;
	int *fds;

	for (size_t i = 0; i < eng->nls; i++)
		nfds += eng->ls[i]->nsocks;
	fds = xreallocarray(NULL, nfds, sizeof *fds);
	json_t *msg;

	if (eng->stopping || eng->ctl->handed_over) {
		reply_error(c, id, E_STATE, NULL, "zone %s is stopping: there "
		    "is nothing to take over", eng->zone);
		free(fds);
		return;
	}
	msg = json_pack("{s:O,s:b,s:{s:o,s:i,s:I,s:s,s:s?,s:b}}", K_ID, id,
	    K_OK, 1, K_RESULT, "listeners", takeover_list(eng, fds, &nfds),
	    "pid", (int)getpid(), "running", (json_int_t)eng->txn->running,
	    "version", MXLB_VERSION, "config-file", eng->conffile_named ?
	    eng->conffile : NULL,
	    "metrics", eng->metrics_fd != -1);
	/* From now on the state directory is the new engine's to load. */
	eng->handover = HANDOVER_PENDING;
	eng->successor = (int)c->pid;
	c->ctl->successor = c;
	if (client_send_fds(c, msg, fds, nfds) == -1) {
		log_err("takeover zone=%s by %s (pid %d) failed: could not send "
		    "the sockets", eng->zone, c->user, (int)c->pid);
		c->ctl->successor = NULL;
		eng->handover = HANDOVER_NONE;
		c->closing = true;
		c->closed_at = now_ms();
	} else
		log_warn("takeover zone=%s user=%s pid=%d: %zu listening "
		    "sockets and the control socket sent; commits refused until "
		    "it is done", eng->zone, c->user, (int)c->pid, eng->nls);
	json_decref(msg);
	free(fds);
}

/* Step 2: the new engine serves.  We stop accepting (clients, and control
 * clients: the socket is its now) and end when our sessions have. */
static void
takeover_done(struct client *c, json_t *id)
{
	struct engine *eng = c->ctl->eng;
	json_t *msg = json_pack("{s:O,s:b,s:{s:I}}", K_ID, id, K_OK, 1, K_RESULT,
	    "sessions", (json_int_t)eng->nsessions);

	eng->handover = HANDOVER_DONE;
	c->ctl->successor = NULL;
	/* We are systemd's main process: the new engine is, from now on. */
	(void)notify_send("MAINPID=%d", eng->successor);
	/* Straight to the socket: we may exit before the loop writes. */
	(void)client_send_fds(c, msg, NULL, 0);
	json_decref(msg);
	log_warn("handover zone=%s to pid=%d: no new sessions, %llu open",
	    eng->zone, eng->successor, (unsigned long long)eng->nsessions);
	control_handed_over(c->ctl);
	if (eng->metrics_bound != NULL) {
		/* Our copy only: the socket serves on in the new engine. */
		evhttp_del_accept_socket(eng->metrics_http, eng->metrics_bound);
		eng->metrics_bound = NULL;
		eng->metrics_fd = -1;
	}
	if (eng->stop_ev != NULL)
		event_active(eng->stop_ev, EV_TIMEOUT, 0);
	else
		engine_stop(eng);
}

/*
 * mxlbd --takeover: {"cmd":"takeover"} gets the listening sockets
 * (SCM_RIGHTS); then {"cmd":"takeover","done":true} on the same
 * connection once the new engine serves.  Closing the connection in
 * between gives the zone back to us.
 */
static void
cmd_takeover(struct client *c, json_t *req, json_t *id)
{
	json_t *done = json_object_get(req, "done");

	if (done != NULL && !json_is_boolean(done)) {
		reply_error(c, id, E_BAD_REQUEST, NULL, "\"done\" must be "
		    "true or false");
		return;
	}
	if (c->ctl->successor == c && json_is_true(done))
		takeover_done(c, id);
	else if (json_is_true(done))
		reply_error(c, id, E_STATE, NULL, "no takeover of zone %s is "
		    "under way on this connection", c->ctl->eng->zone);
	else if (c->ctl->successor == c)
		reply_error(c, id, E_STATE, NULL, "the sockets were sent "
		    "already");
	else
		takeover_give(c, id);
}

/* The new engine went away before it took over: ours again. */
void
handover_lost(struct control *ctl)
{
	struct engine *eng = ctl->eng;

	ctl->successor = NULL;
	if (eng->handover != HANDOVER_PENDING)
		return;
	eng->handover = HANDOVER_NONE;
	log_err("takeover zone=%s by pid %d failed: it went away before it "
	    "took over; this engine serves the zone and accepts commits again",
	    eng->zone, eng->successor);
	eng->successor = 0;
}

/* Why a change is refused while the zone is handed over, or NULL. */
static const char *
handover_refusal(const struct client *c, char *buf, size_t len)
{
	const struct engine *eng = c->ctl->eng;

	if (eng->handover == HANDOVER_PENDING && c->ctl->successor != c)
		snprintf(buf, len, "zone %s is being taken over by a new engine "
		    "(pid %d): its state is not changed meanwhile; try again "
		    "in a moment", eng->zone, eng->successor);
	else if (eng->handover == HANDOVER_DONE)
		snprintf(buf, len, "zone %s was handed over to a new engine "
		    "(pid %d); this one (pid %d) only finishes its sessions: "
		    "connect again to reach the new one", eng->zone,
		    eng->successor, (int)getpid());
	else
		return NULL;
	return buf;
}

static void
waiter_free(struct control *ctl, struct waiter *w)
{
	TAILQ_REMOVE(&ctl->waiters, w, entry);
	w->client->nwaits--;
	json_decref(w->id);
	free(w->farm);
	free(w->server);
	free(w);
}

/* Answers the wait if it is over; true if it was. */
static bool
waiter_check(struct control *ctl, struct waiter *w, uint64_t now)
{
	struct rt_server *s = engine_server(ctl->eng, w->farm, w->server);

	if (s == NULL || s->nsess == 0) {
		reply_ok(w->client, w->id, json_pack("{s:s,s:s,s:i}", K_FARM,
		    w->farm, K_SERVER, w->server, K_SESSIONS, 0));
		return true;
	}
	if (w->deadline != 0 && now >= w->deadline) {
		reply_error(w->client, w->id, E_TIMEOUT, NULL, "server %s/%s "
		    "still has %u session%s", w->farm, w->server, s->nsess,
		    s->nsess == 1 ? "" : "s");
		return true;
	}
	return false;
}

/* Sets ev to fire in ms, or stops it when it has nothing to wait for. */
static void
timer_set(struct event *ev, bool on, uint64_t ms)
{
	struct timeval tv = ms_timeval(ms);

	if (on)
		evtimer_add(ev, &tv);
	else
		evtimer_del(ev);
}

/*
 * Answers every wait that is over and sets the one wait timer to the
 * earliest deadline left.  Run when a wait comes, when a server's last
 * session ends, when a config is applied and when the timer fires: a
 * wait is answered by what ends it, never by polling.
 */
void
control_waits(struct control *ctl)
{
	struct waiter *w, *next;
	uint64_t now = now_ms(), first = 0;

	for (w = TAILQ_FIRST(&ctl->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (waiter_check(ctl, w, now))
			waiter_free(ctl, w);
		else if (w->deadline != 0 && (first == 0 || w->deadline < first))
			first = w->deadline;
	}
	timer_set(ctl->wait_timer, first != 0, first - now);
}

static void
waits_expire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	control_waits(arg);
}
LOCKED_EVENT_CB(waits_expire)

static void
cmd_wait(struct client *c, json_t *req, json_t *id)
{
	struct control *ctl = c->ctl;
	const char *farm, *server;
	json_int_t timeout;
	struct waiter *w;

	if ((farm = arg_string(c, req, id, K_FARM)) == NULL ||
	    (server = arg_string(c, req, id, K_SERVER)) == NULL ||
	    (timeout = arg_uint(c, req, id, K_TIMEOUT, 0)) < 0)
		return;
	if (c->nwaits >= PROTO_WAITS_MAX) {
		reply_error(c, id, E_BUSY, NULL, "%u waits already outstanding "
		    "on this connection (at most %d)", c->nwaits,
		    PROTO_WAITS_MAX);
		return;
	}
	if (engine_server(ctl->eng, farm, server) == NULL) {
		reply_error(c, id, E_NOT_FOUND, NULL, "zone %s has no server %s "
		    "in farm %s", ctl->eng->zone, server, farm);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->client = c;
	w->id = json_incref(id ? id : json_null());
	w->farm = xstrdup(farm);
	w->server = xstrdup(server);
	w->deadline = timeout > 0 ? now_ms() + (uint64_t)timeout * 1000 : 0;
	TAILQ_INSERT_TAIL(&ctl->waiters, w, entry);
	c->nwaits++;
	control_waits(ctl);
}

void
waiter_drop_client(struct control *ctl, struct client *c)
{
	struct waiter *w, *next;

	for (w = TAILQ_FIRST(&ctl->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->client == c)
			waiter_free(ctl, w);
	}
}

/* The engine's revert of a confirmed commit not confirmed in time. */
static void
confirm_revert(struct control *ctl)
{
	struct engine *eng = ctl->eng;
	struct txn_error e = { NULL, NULL, { NULL, 0 } };
	uint64_t from = eng->txn->running;

	/* Handed over: the new engine owns the state and the deadline. */
	if (eng->handover != HANDOVER_NONE)
		return;
	if (txn_tick(eng->txn, (int64_t)time(NULL), &e)) {
		log_notice("revert zone=%s version=%llu (version %llu was not "
		    "confirmed) now=%llu", eng->zone,
		    (unsigned long long)eng->txn->revert_to,
		    (unsigned long long)from,
		    (unsigned long long)eng->txn->running);
		engine_event(eng, EV_REVERT, json_pack("{s:I,s:I,s:I}",
		    K_VERSION, (json_int_t)eng->txn->running, K_REVERTED,
		    (json_int_t)from, K_TO, (json_int_t)eng->txn->revert_to));
	} else if (e.code != NULL) {
		log_err("revert zone=%s failed: %.2048s%s%.512s; next attempt "
		    "in %lld s",
		    eng->zone, e.message, e.list.n ? ": " : "",
		    e.list.n ? e.list.v[e.list.n - 1] : "",
		    (long long)eng->txn->retry_delay);
	}
	txn_error_free(&e);
}

/*
 * The confirm timer: set to the pending commit's deadline (or, after a
 * revert that failed, to the next attempt), none without a pending
 * commit.  The deadline is wall-clock seconds: the delay is taken from
 * the wall clock when set, and a timer that fires early only sets itself
 * again.
 */
void
control_confirm_arm(struct control *ctl)
{
	const struct txn *t = ctl->eng->txn;
	int64_t at = (t->deadline > t->retry_at ? t->deadline : t->retry_at) *
	    1000, now;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	timer_set(ctl->confirm, t->pending, at > now ? (uint64_t)(at - now) : 0);
}

/* A pending commit past its deadline reverts; the timer is set again. */
void
control_confirm_run(struct control *ctl)
{
	confirm_revert(ctl);
	control_confirm_arm(ctl);
}

static void
confirm_expire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	control_confirm_run(arg);
}
LOCKED_EVENT_CB(confirm_expire)

/* The timers of waits and of the confirmed commit; the latter fires at
 * once, to take up a commit restored pending from the state. */
void
control_timers_open(struct control *ctl)
{
	struct timeval now = { 0, 0 };

	ctl->wait_timer = evtimer_new(ctl->eng->base, waits_expire_locked, ctl);
	ctl->confirm = evtimer_new(ctl->eng->base, confirm_expire_locked, ctl);
	evtimer_add(ctl->confirm, &now);
}

void
control_timers_close(struct control *ctl)
{
	event_free(ctl->wait_timer);
	event_free(ctl->confirm);
}

/* `mxlb zone import ZONE [force]`: the zone's config file, as a reload
 * reads it; `force` imports it over newer commits. */
static void
cmd_import(struct client *c, json_t *req, json_t *id)
{
	struct engine *eng = c->ctl->eng;
	json_t *force = json_object_get(req, "force");
	struct errs e = { NULL, 0 };
	int rc;

	json_t *file = json_object_get(req, "file");
	struct stat a, b;

	if ((force != NULL && !json_is_boolean(force)) || (file != NULL &&
	    !json_is_string(file))) {
		reply_error(c, id, E_BAD_REQUEST, NULL, "import takes \"force\" "
		    "(true or false) and \"file\" (a path), both optional");
		return;
	}
	if (eng->conffile == NULL) {
		reply_error(c, id, E_NOT_FOUND, NULL, "zone %s has no config "
		    "file", eng->zone);
		return;
	}
	/* "file": only if that is this zone's file (`zone export` wrote it). */
	if (file != NULL && (stat(json_string_value(file), &a) == -1 ||
	    stat(eng->conffile, &b) == -1 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)) {
		reply_error(c, id, E_NOT_FOUND, NULL, "zone %s: %.256s is not its "
		    "config file (%s)", eng->zone, json_string_value(file),
		    eng->conffile);
		return;
	}
	rc = zone_import(eng, json_is_true(force), c->user, json_is_true(force) ?
	    "mxlb zone import force" : "mxlb zone import", &e);
	if (rc == IMPORT_ABSENT)
		reply_error(c, id, E_NOT_FOUND, NULL, "zone %s: no %s to import",
		    eng->zone, eng->conffile);
	else if (rc < 0) {
		log_err("import refused zone=%s user=%s: %.2048s", eng->zone,
		    c->user, e.n ? e.v[e.n - 1] : "?");
		reply_error(c, id, rc == IMPORT_REFUSED ? E_STALE : E_INVALID,
		    rc == IMPORT_REFUSED ? NULL : &e, "%s", rc == IMPORT_REFUSED ?
		    e.v[0] : "the file was not imported; nothing changed");
	} else
		reply_ok(c, id, json_pack("{s:I,s:b,s:s}", K_VERSION,
		    (json_int_t)eng->txn->running, "imported", rc == IMPORT_DONE,
		    "file", eng->conffile));
	errs_free(&e);
}

static const struct command commands[] = {
	{ CMD_HELLO, false, cmd_hello },
	{ CMD_GET, false, cmd_get },
	{ CMD_STATS, false, cmd_stats },
	{ CMD_HISTORY, false, cmd_history },
	{ CMD_SUBSCRIBE, false, cmd_subscribe },
	{ CMD_WAIT, false, cmd_wait },
	{ CMD_SESSIONS, false, cmd_sessions },
	{ CMD_COMMIT, true, cmd_commit },
	{ CMD_CONFIRM, true, cmd_confirm },
	{ CMD_ROLLBACK, true, cmd_rollback },
	{ CMD_ADMIN, true, cmd_admin },
	{ CMD_IMPORT, true, cmd_import },
	{ CMD_TAKEOVER, true, cmd_takeover },
};

static void
unknown_command(struct client *c, json_t *id, const char *name)
{
	char known[256] = "";

	for (size_t i = 0; i < nitems(commands); i++) {
		strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
		strncat(known, commands[i].name, sizeof known - strlen(known) - 1);
	}
	reply_error(c, id, E_UNKNOWN, NULL, "unknown command \"%.64s\" "
	    "(known: %s)", name, known);
}

void
control_command(struct client *c, json_t *req)
{
	json_t *id = json_object_get(req, K_ID);
	json_t *cmd = json_object_get(req, K_CMD);
	char why[256];

	if (id == NULL || !(json_is_integer(id) || json_is_string(id))) {
		reply_error(c, NULL, E_BAD_REQUEST, NULL, "every request needs "
		    "\"id\" (a number or string), echoed in its reply");
		return;
	}
	if (!json_is_string(cmd)) {
		reply_error(c, id, E_BAD_REQUEST, NULL, "a request needs \"cmd\"");
		return;
	}
	for (size_t i = 0; i < nitems(commands); i++) {
		if (strcmp(commands[i].name, json_string_value(cmd)) != 0)
			continue;
		if (commands[i].admin && !c->admin) {
			log_warn("control: refused %s to %s (pid %d): read-only",
			    commands[i].name, c->user, (int)c->pid);
			reply_error(c, id, E_DENIED, NULL, "%s: %s may only read "
			    "this zone (not in its admin group)",
			    commands[i].name, c->user);
		} else if (commands[i].admin && handover_refusal(c, why,
		    sizeof why) != NULL) {
			log_warn("%s refused zone=%s user=%s: handed over",
			    commands[i].name, c->ctl->eng->zone, c->user);
			reply_error(c, id, E_STATE, NULL, "%s: %s",
			    commands[i].name, why);
		} else if (commands[i].admin) {
			commands[i].fn(c, req, id);
			control_confirm_arm(c->ctl);
		} else
			commands[i].fn(c, req, id);
		return;
	}
	unknown_command(c, id, json_string_value(cmd));
}
