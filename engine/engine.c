/*
 * The zone's live objects and the switch from one config to the next.
 * Everything that can fail (listening sockets) is done before anything
 * changes; then the new objects replace the old in one step.  Objects are
 * matched by name, so counters, probe and admin state, stick tables and
 * listening sockets carry over, and sessions keep the objects they hold.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "proto.h"
#include "sockmap.h"
#include "source.h"
#include "worker.h"

/* What workers left for the main thread: the events for control clients,
 * and the waits a server's last session may have ended. */
static void
engine_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct engine *eng = arg;
	json_t *ev;
	size_t i;

	(void)fd;
	(void)what;
	if (eng->deferred != NULL) {
		json_array_foreach(eng->deferred, i, ev)
			if (eng->ctl != NULL)
				control_broadcast(eng->ctl, ev);
		json_array_clear(eng->deferred);
	}
	if (eng->waits_due && eng->ctl != NULL)
		control_waits(eng->ctl);
	eng->waits_due = false;
}
LOCKED_EVENT_CB(engine_deferred)

struct engine *
engine_new(struct event_base *base, const char *zone)
{
	struct engine *eng = xcalloc(1, sizeof *eng);

	eng->base = base;
	eng->zone = xstrdup(zone);
	if (gethostname(eng->hostname, sizeof eng->hostname - 1) == -1)
		strlcpy_(eng->hostname, "localhost", sizeof eng->hostname);
	eng->started = (uint64_t)time(NULL);
	eng->metrics_fd = eng->adopt_metrics = -1;
	eng->deferred_ev = event_new(base, -1, 0, engine_deferred_locked, eng);
	eng->deferred = json_array();
	return eng;
}

void
rt_server_unref(struct rt_server *s)
{
	if (--s->refs > 0)
		return;
	probe_stop(s);
	agent_stop(s);
	object_free(&server_fields, s->conf);
	free(s);
}

void
rt_farm_unref(struct rt_farm *f)
{
	if (--f->refs > 0)
		return;
	for (size_t i = 0; i < f->nservers; i++)
		rt_server_unref(f->servers[i]);
	free(f->servers);
	stick_free(f->stick);
	object_free(&farm_fields, f->conf);
	free(f);
}

void
rt_frontend_unref(struct rt_frontend *fe)
{
	if (--fe->refs > 0)
		return;
	rt_farm_unref(fe->farm);
	srctable_free(fe->sources);
	object_free(&frontend_fields, fe->conf);
	free(fe);
}

struct rt_farm *
engine_farm(struct engine *eng, const char *name)
{
	for (size_t i = 0; i < eng->nfarms; i++)
		if (strcmp(eng->farms[i]->conf->name, name) == 0)
			return eng->farms[i];
	return NULL;
}

static struct rt_frontend *
engine_frontend(struct engine *eng, const char *name)
{
	for (size_t i = 0; i < eng->nfes; i++)
		if (strcmp(eng->fes[i]->conf->name, name) == 0)
			return eng->fes[i];
	return NULL;
}

/* A server that takes no new sessions hands its queue back. */
void
server_set_pstate(struct rt_server *s, enum probe_state st)
{
	bool was = server_available(s);

	if (s->pstate == st)
		return;
	s->pstate = st;
	s->changed = (uint64_t)time(NULL);
	s->st.state_changes++;
	server_ramp_check(s, was, now_ms());
	if (!server_available(s))
		server_requeue(s);
}

/* The probe restarts when anything it depends on changed: the farm's
 * fields marked F_PROBE, or anything of the server. */
static bool
probe_changed(const struct farm *a, const struct farm *b,
    const struct server *sa, const struct server *sb)
{
	for (size_t i = 0; i < farm_fields.n; i++) {
		const struct field *f = &farm_fields.f[i];
		if ((f->flags & F_PROBE) && !field_equal(f, a, b))
			return true;
	}
	return !object_equal(&server_fields, sa, sb);
}

/* The remembered admin state of a server, running or not. */
static const struct admin_entry *
admin_entry(const struct engine *eng, const char *farm, const char *server)
{
	for (size_t i = 0; i < eng->nadmins; i++)
		if (strcmp(eng->admins[i].farm, farm) == 0 &&
		    strcmp(eng->admins[i].server, server) == 0)
			return &eng->admins[i];
	return NULL;
}

static enum admin_state
admin_lookup(const struct engine *eng, const char *farm, const char *server)
{
	const struct admin_entry *ae = admin_entry(eng, farm, server);

	return ae != NULL ? ae->state : ADMIN_READY;
}

static struct rt_server *
server_build(struct engine *eng, struct rt_farm *f, const struct farm *oldconf,
    struct rt_server **old, size_t nold, const struct server *conf)
{
	struct rt_server *s = NULL;

	for (size_t i = 0; i < nold && s == NULL; i++)
		if (strcmp(server_name(old[i]->conf), server_name(conf)) == 0)
			s = old[i];
	if (s != NULL) {
		bool restart = probe_changed(oldconf, f->conf, s->conf, conf);
		bool was = server_available(s);
		s->refs++;
		object_free(&server_fields, s->conf);
		s->conf = object_dup(&server_fields, conf);
		if (restart) {
			probe_stop(s);
			probe_start(eng, s);
		}
		agent_restart(eng, s);
		server_ramp_check(s, was, now_ms());
		return s;
	}
	s = xcalloc(1, sizeof *s);
	s->refs = 1;
	s->conf = object_dup(&server_fields, conf);
	s->farm = f;
	s->changed = (uint64_t)time(NULL);
	s->admin = admin_lookup(eng, f->conf->name, server_name(conf));
	TAILQ_INIT(&s->queue);
	probe_start(eng, s);
	agent_restart(eng, s);
	/* Slow start does not apply to the servers the engine starts with. */
	if (eng->cfg != NULL)
		server_ramp_check(s, false, now_ms());
	return s;
}

/* Out of the config: no new sessions; those it has run to their end. */
static void
server_retire(struct rt_server *s)
{
	s->removed = true;
	probe_stop(s);
	agent_stop(s);
	stick_forget(s->farm, s);
	server_requeue(s);
}

/* The farm object stays: sessions and counters refer to it. */
static void
farm_update(struct engine *eng, struct rt_farm *f, const struct farm *conf)
{
	struct farm *oldconf = f->conf;
	struct rt_server **old = f->servers;
	size_t nold = f->nservers;

	f->conf = object_dup(&farm_fields, conf);
	f->conf->servers = NULL;
	f->conf->nservers = 0;
	f->servers = xreallocarray(NULL, conf->nservers, sizeof *f->servers);
	f->nservers = 0;
	for (size_t i = 0; i < conf->nservers; i++)
		f->servers[f->nservers++] = server_build(eng, f,
		    oldconf ? oldconf : f->conf, old, nold, conf->servers[i]);
	for (size_t i = 0; i < nold; i++) {
		if (!set_has(f->servers, f->nservers, sizeof *f->servers,
		    &old[i], NULL))
			server_retire(old[i]);
		rt_server_unref(old[i]);
	}
	free(old);
	object_free(&farm_fields, oldconf);
}

static void
farm_retire(struct rt_farm *f)
{
	for (size_t i = 0; i < f->nservers; i++)
		server_retire(f->servers[i]);
	rt_farm_unref(f);
}

static struct listener *
find_listener(struct listener **v, size_t n, const struct mxaddr *a,
    uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (v[i]->port == port && v[i]->addr.family == a->family &&
		    (a->family == 0 || addr_cmp(&v[i]->addr, a) == 0))
			return v[i];
	return NULL;
}

struct plan {
	struct listener	**ls;	/* the listeners the new config wants */
	size_t		  nls;
	const char	**fe;	/* the frontend each one serves */
};

static void
plan_add(struct plan *p, struct listener *l, const char *fe)
{
	size_t n = p->nls;	/* fe runs beside ls */

	*ARRAY_PUSH(p->fe, n) = fe;
	*ARRAY_PUSH(p->ls, p->nls) = l;
}

/* Finds or opens every listener of one frontend address. */
static void
plan_address(struct engine *eng, struct plan *p, const struct frontend *fe,
    const struct mxaddr *a, struct errs *e)
{
	for (size_t r = 0; r < fe->bind.n; r++) {
		for (uint32_t port = fe->bind.v[r].lo; port <= fe->bind.v[r].hi;
		    port++) {
			struct listener *l = find_listener(eng->ls, eng->nls, a,
			    (uint16_t)port);
			if (l == NULL)
				l = listener_open(eng, a, (uint16_t)port, e);
			if (l != NULL)
				plan_add(p, l, fe->name);
		}
	}
}

/* Opens what is new; on any failure closes it again and changes nothing. */
static int
plan_listeners(struct engine *eng, const struct config *cfg, struct plan *p,
    struct errs *e)
{
	size_t before = e->n;
	struct mxaddr any;

	memset(&any, 0, sizeof any);
	for (size_t i = 0; i < cfg->nfrontends; i++) {
		const struct frontend *fe = cfg->frontends[i];
		if (fe->disabled)
			continue;
		if (fe->address.n == 0)
			plan_address(eng, p, fe, &any, e);
		for (size_t j = 0; j < fe->address.n; j++)
			plan_address(eng, p, fe, &fe->address.v[j], e);
	}
	if (e->n == before)
		return 0;
	for (size_t i = 0; i < p->nls; i++)
		if (find_listener(eng->ls, eng->nls, &p->ls[i]->addr,
		    p->ls[i]->port) != p->ls[i])
			listener_close(p->ls[i]);
	return -1;
}

static void
apply_farms(struct engine *eng, const struct config *cfg)
{
	struct rt_farm **farms = xreallocarray(NULL, cfg->nfarms,
	    sizeof *farms);

	for (size_t i = 0; i < cfg->nfarms; i++) {
		struct rt_farm *f = engine_farm(eng, cfg->farms[i]->name);
		if (f == NULL) {
			f = xcalloc(1, sizeof *f);
		}
		f->refs++;
		farm_update(eng, f, cfg->farms[i]);
		farms[i] = f;
	}
	for (size_t i = 0; i < eng->nfarms; i++) {
		if (config_farm(cfg, eng->farms[i]->conf->name) == NULL)
			farm_retire(eng->farms[i]);
		else
			rt_farm_unref(eng->farms[i]);
	}
	free(eng->farms);
	eng->farms = farms;
	eng->nfarms = cfg->nfarms;
}

static void
apply_frontends(struct engine *eng, const struct config *cfg)
{
	struct rt_frontend **fes = xreallocarray(NULL, cfg->nfrontends,
	    sizeof *fes);

	for (size_t i = 0; i < cfg->nfrontends; i++) {
		const struct frontend *conf = cfg->frontends[i];
		struct rt_frontend *fe = engine_frontend(eng, conf->name);
		if (fe == NULL) {
			fe = xcalloc(1, sizeof *fe);
			fe->sources = srctable_new();
		} else {
			object_free(&frontend_fields, fe->conf);
			rt_farm_unref(fe->farm);
		}
		fe->refs++;
		fe->conf = object_dup(&frontend_fields, conf);
		fe->farm = engine_farm(eng, conf->farm);
		fe->farm->refs++;
		fes[i] = fe;
	}
	for (size_t i = 0; i < eng->nfes; i++)
		rt_frontend_unref(eng->fes[i]);
	free(eng->fes);
	eng->fes = fes;
	eng->nfes = cfg->nfrontends;
}

static void
plan_free(struct plan *p)
{
	free(p->ls);
	free(p->fe);
	free(p);
}

/*
 * Opens what cfg (validated by the caller) needs and keeps it ready for
 * engine_apply; nothing changes yet.  Fails only if a new listening
 * socket cannot be opened or a farm's source cannot be used here (see
 * source.c), and then nothing is kept.
 */
int
engine_prepare(struct engine *eng, const struct config *cfg, struct errs *e)
{
	struct plan *p;

	engine_abort(eng);
	/* What only the engine knows: its capabilities, its addresses. */
	if (source_check(cfg, e) == -1 || sockmap_check(cfg, e) == -1)
		return -1;
	p = xcalloc(1, sizeof *p);
	if (plan_listeners(eng, cfg, p, e) == -1) {
		plan_free(p);
		return -1;
	}
	eng->prepared = p;
	return 0;
}

/* A prepared config that will not be applied: its new sockets close. */
void
engine_abort(struct engine *eng)
{
	struct plan *p = eng->prepared;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nls; i++)
		if (find_listener(eng->ls, eng->nls, &p->ls[i]->addr,
		    p->ls[i]->port) != p->ls[i])
			listener_close(p->ls[i]);
	plan_free(p);
	eng->prepared = NULL;
}

/*
 * Switches the zone to cfg, which it then owns.  After engine_prepare on
 * the same cfg it cannot fail; without it, it fails only if a new
 * listening socket cannot be opened, and then nothing has changed.
 * Admin states are kept for servers the config no longer has: a server
 * removed and brought back (or a commit reverted) has the state it had.
 */
int
engine_apply(struct engine *eng, struct config *cfg, struct errs *e)
{
	struct plan *p;

	if (eng->prepared == NULL && engine_prepare(eng, cfg, e) == -1)
		return -1;
	p = eng->prepared;
	eng->prepared = NULL;
	apply_farms(eng, cfg);
	apply_frontends(eng, cfg);
	for (size_t i = 0; i < p->nls; i++) {
		p->ls[i]->fe = engine_frontend(eng, p->fe[i]);
		p->ls[i]->keep = true;
	}
	for (size_t i = 0; i < eng->nls; i++)
		if (!eng->ls[i]->keep)
			listener_close(eng->ls[i]);
	for (size_t i = 0; i < p->nls; i++)
		p->ls[i]->keep = false;
	free(eng->ls);
	eng->ls = p->ls;
	eng->nls = p->nls;
	free(p->fe);
	free(p);
	config_free(eng->cfg);
	eng->cfg = cfg;
	if (eng->ctl != NULL)
		control_waits(eng->ctl);	/* a server gone ends its waits */
	return 0;
}

struct rt_server *
engine_server(struct engine *eng, const char *farm, const char *server)
{
	struct rt_farm *f = engine_farm(eng, farm);

	for (size_t i = 0; f != NULL && i < f->nservers; i++)
		if (strcmp(server_name(f->servers[i]->conf), server) == 0)
			return f->servers[i];
	return NULL;
}

static void
admin_remember(struct engine *eng, const char *farm, const char *server,
    enum admin_state st)
{
	size_t i;

	for (i = 0; i < eng->nadmins; i++)
		if (strcmp(eng->admins[i].farm, farm) == 0 &&
		    strcmp(eng->admins[i].server, server) == 0)
			break;
	if (i == eng->nadmins) {
		if (st == ADMIN_READY)
			return;
		struct admin_entry *a = ARRAY_PUSH(eng->admins, eng->nadmins);
		a->farm = xstrdup(farm);
		a->server = xstrdup(server);
	}
	eng->admins[i].state = st;
	if (st == ADMIN_READY) {
		free(eng->admins[i].farm);
		free(eng->admins[i].server);
		eng->admins[i] = eng->admins[--eng->nadmins];
	}
}

/*
 * Sets a server's admin state, in memory and in the state directory, or
 * in neither: ADMIN_NOT_FOUND without such a server (a server the config
 * no longer has may only be set back to ready, which forgets it),
 * ADMIN_NOT_SAVED when the state could not be saved.
 */
int
engine_admin(struct engine *eng, const char *farm, const char *server,
    enum admin_state st, char *err, size_t errlen)
{
	struct rt_server *s = engine_server(eng, farm, server);
	const struct admin_entry *ae = admin_entry(eng, farm, server);
	struct errs e = { NULL, 0 };
	enum admin_state was;
	bool avail;

	if (s == NULL && (ae == NULL || st != ADMIN_READY)) {
		snprintf(err, errlen, "zone %s has no server %s in farm %s",
		    eng->zone, server, farm);
		return ADMIN_NOT_FOUND;
	}
	was = s != NULL ? s->admin : ae->state;
	avail = s != NULL && server_available(s);
	if (s != NULL) {
		s->admin = st;
		server_ramp_check(s, avail, now_ms());
	}
	admin_remember(eng, farm, server, st);
	if (eng->txn != NULL && state_save(eng, eng->txn, &e) == -1) {
		if (s != NULL)
			s->admin = was;
		admin_remember(eng, farm, server, was);
		snprintf(err, errlen, "zone %s: the admin state of %s/%s could "
		    "not be saved, it stays %s: %s", eng->zone, farm, server,
		    admin_names[was], e.n ? e.v[e.n - 1] : "?");
		errs_free(&e);
		return ADMIN_NOT_SAVED;
	}
	if (was != st) {
		if (s != NULL)
			s->changed = (uint64_t)time(NULL);
		log_notice("admin farm=%s server=%s state=%s was=%s", farm, server,
		    admin_names[st], admin_names[was]);
		engine_event(eng, EV_ADMIN, json_pack("{s:s,s:s,s:s,s:s}",
		    K_FARM, farm, K_SERVER, server, K_STATE, admin_names[st],
		    K_WAS, admin_names[was]));
	}
	if (s != NULL && !server_available(s))
		server_requeue(s);
	return 0;
}

/* Tells subscribers; takes the event's fields. */
void
engine_event(struct engine *eng, const char *name, json_t *fields)
{
	if (eng->ctl != NULL) {
		json_object_set_new(fields, K_EVENT, json_string(name));
		json_object_set_new(fields, K_ZONE, json_string(eng->zone));
		json_object_set_new(fields, K_TIME,
		    json_integer((json_int_t)time(NULL)));
		/* Control clients belong to the main thread. */
		if (!worker_main(eng)) {
			json_array_append(eng->deferred, fields);
			event_active(eng->deferred_ev, EV_TIMEOUT, 1);
		} else
			control_broadcast(eng->ctl, fields);
	}
	json_decref(fields);
}

void
engine_waits(struct engine *eng)
{
	if (eng->ctl == NULL)
		return;
	if (worker_main(eng))
		control_waits(eng->ctl);
	else {
		eng->waits_due = true;
		event_active(eng->deferred_ev, EV_TIMEOUT, 1);
	}
}

/* Stop listening and refuse whoever waits; sessions in flight go on. */
void
engine_stop(struct engine *eng)
{
	eng->stopping = true;
	for (size_t i = 0; i < eng->nls; i++)
		listener_close(eng->ls[i]);
	free(eng->ls);
	eng->ls = NULL;
	eng->nls = 0;
	for (size_t i = 0; i < eng->nfarms; i++)
		for (size_t j = 0; j < eng->farms[i]->nservers; j++) {
			probe_stop(eng->farms[i]->servers[j]);
			agent_stop(eng->farms[i]->servers[j]);
		}
	/* Handed over, the queues still get a server as ours free up (the
	 * grace time bounds it): a restart refuses nobody. */
	if (eng->handover != HANDOVER_DONE)
		session_shutdown_queued(eng);
	if (eng->nsessions == 0)
		event_base_loopexit(eng->base, NULL);
}

void
engine_free(struct engine *eng)
{
	engine_abort(eng);
	for (size_t i = 0; i < eng->nls; i++)
		listener_close(eng->ls[i]);
	for (size_t i = 0; i < eng->nfes; i++)
		rt_frontend_unref(eng->fes[i]);
	for (size_t i = 0; i < eng->nfarms; i++)
		farm_retire(eng->farms[i]);
	free(eng->ls);
	free(eng->fes);
	free(eng->farms);
	config_free(eng->cfg);
	for (size_t i = 0; i < eng->nadmins; i++) {
		free(eng->admins[i].farm);
		free(eng->admins[i].server);
	}
	free(eng->admins);
	for (size_t i = 0; i < eng->nadopt; i++)
		if (eng->adopt[i].fd != -1)
			close(eng->adopt[i].fd);
	free(eng->adopt);
	if (eng->adopt_metrics != -1)
		close(eng->adopt_metrics);
	free(eng->statedir);
	free(eng->zone);
	event_free(eng->deferred_ev);
	json_decref(eng->deferred);
	workers_free(eng);	/* after the listeners: it closes theirs */
	free(eng);
}
