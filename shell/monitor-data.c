/*
 * The monitor's data: each poll asks every zone's engine for its stats,
 * turns them into a snapshot with rates against the previous one, and
 * gathers the events of a `subscribe` connection per zone.  An engine
 * that goes away is shown as such and reconnected to when it returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "peer.h"
#include "proto.h"
#include "runtime.h"

#define POLL_TIMEOUT_MS	2000
#define MON_WHY		64

struct mon_source {
	struct shell		*sh;
	char			**only;		/* zones asked for, or NULL */
	int			  nonly;
	struct mon_snapshot	 *prev;
	uint64_t		  prev_ms;
	char			 *events[MON_EVENTS];
	size_t			  nevents;
	char			  why[MON_WHY][1024];	/* per zone, told */
};

/* A hung engine holds the screen at most this long, or --timeout. */
static int
poll_timeout(void)
{
	return peer_timeout_ms < POLL_TIMEOUT_MS ? peer_timeout_ms :
	    POLL_TIMEOUT_MS;
}

struct mon_source *
mon_source_new(struct shell *sh, char **zones, int n)
{
	struct mon_source *m = xcalloc(1, sizeof *m);

	m->sh = sh;
	m->only = zones;
	m->nonly = n;
	return m;
}

static void
event_add(struct mon_source *m, char *text)
{
	if (m->nevents == MON_EVENTS) {
		free(m->events[0]);
		memmove(&m->events[0], &m->events[1],
		    (MON_EVENTS - 1) * sizeof m->events[0]);
		m->nevents--;
	}
	m->events[m->nevents++] = text;
}

void
mon_source_free(struct mon_source *m)
{
	for (size_t i = 0; i < m->nevents; i++)
		free(m->events[i]);
	mon_snapshot_free(m->prev);
	free(m);
}

/* One event line as the operator reads it. */
static char *
event_text(const char *zone, json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, K_EVENT));
	time_t t = (time_t)json_integer_value(json_object_get(ev, "time"));
	char when[16];
	struct tm tm;

	strftime(when, sizeof when, "%H:%M:%S", localtime_r(&t, &tm));
	if (!strcmp(name, EV_PROBE) || !strcmp(name, EV_ADMIN))
		return xasprintf("%s %s %s %s/%s %s -> %s %s", when, zone, name,
		    json_string_value(json_object_get(ev, "farm")),
		    json_string_value(json_object_get(ev, "server")),
		    json_string_value(json_object_get(ev, "was")),
		    json_string_value(json_object_get(ev, "state")),
		    json_is_string(json_object_get(ev, "check")) ?
		    json_string_value(json_object_get(ev, "check")) : "");
	if (!strcmp(name, EV_COMMIT))
		return xasprintf("%s %s commit: version %lld by %s %s", when,
		    zone, (long long)json_integer_value(json_object_get(ev,
		    K_VERSION)), json_string_value(json_object_get(ev, "user")),
		    json_string_value(json_object_get(ev, K_COMMENT)));
	if (!strcmp(name, EV_REVERT))
		return xasprintf("%s %s revert: version %lld not confirmed, "
		    "now version %lld", when, zone, (long long)
		    json_integer_value(json_object_get(ev, "reverted")),
		    (long long)json_integer_value(json_object_get(ev,
		    K_VERSION)));
	return xasprintf("%s %s %s", when, zone, name);
}

/* Reads what the subscription sent, without waiting. */
static void
read_events(struct mon_source *m, struct zone *z)
{
	json_t *evs = json_array(), *ev;
	char err[512];
	size_t i;

	if (peer_events(z->peer, evs, err, sizeof err) == -1)
		event_add(m, xasprintf("engine of zone %s went away", z->name));
	json_array_foreach(evs, i, ev)
		event_add(m, event_text(z->name, ev));
	json_decref(evs);
}

static uint64_t
ju(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void
cp(char *dst, size_t len, json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	snprintf(dst, len, "%s", s ? s : "");
}

void
mon_counters_from_json(struct mon_counters *c, json_t *o)
{
	json_t *r = json_object_get(o, "refused");

	memset(c, 0, sizeof *c);
	c->cur = ju(o, "sessions_cur");
	c->max = ju(o, "sessions_max");
	c->total = ju(o, "sessions_total");
	c->qcur = ju(o, "queue_cur");
	c->qmax = ju(o, "queue_max");
	c->bytes_in = ju(o, "bytes_in");
	c->bytes_out = ju(o, "bytes_out");
	c->connect_fail = ju(o, "connect_fail");
	c->redispatch = ju(o, "redispatch");
	/* The engine's own names for the reasons (runtime.h). */
	for (size_t i = 0; i < REFUSE_MAX && i < nitems(c->refused); i++)
		c->refused[i] = ju(r, refusal_names[i]);
}

static uint64_t
refused_total(const struct mon_counters *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < nitems(c->refused); i++)
		n += c->refused[i];
	return n;
}

/* Rates against the same object in the previous snapshot. */
static void
rate(struct mon_counters *c, const struct mon_counters *p, double dt)
{
	if (p == NULL || dt <= 0)
		return;
	if (c->total >= p->total)
		c->rate = (double)(c->total - p->total) / dt;
	if (refused_total(c) >= refused_total(p))
		c->refused_rate = (double)(refused_total(c) -
		    refused_total(p)) / dt;
}

static const struct mon_farm *
prev_farm(const struct mon_snapshot *p, const char *zone, const char *farm)
{
	for (size_t i = 0; p && i < p->nzones; i++)
		if (!strcmp(p->zones[i].name, zone))
			for (size_t j = 0; j < p->zones[i].nfarms; j++)
				if (!strcmp(p->zones[i].farms[j].name, farm))
					return &p->zones[i].farms[j];
	return NULL;
}

static const struct mon_counters *
prev_frontend(const struct mon_snapshot *p, const char *zone, const char *fe)
{
	for (size_t i = 0; p && i < p->nzones; i++)
		if (!strcmp(p->zones[i].name, zone))
			for (size_t j = 0; j < p->zones[i].nfes; j++)
				if (!strcmp(p->zones[i].fes[j].name, fe))
					return &p->zones[i].fes[j].c;
	return NULL;
}

static void
farm_from_json(struct mon_farm *f, json_t *jf, const struct mon_farm *pf,
    double dt)
{
	json_t *js;
	size_t i;

	cp(f->name, sizeof f->name, jf, "name");
	f->oldest = json_number_value(json_object_get(jf, "queue_oldest"));
	mon_counters_from_json(&f->c, json_object_get(jf, "counters"));
	rate(&f->c, pf ? &pf->c : NULL, dt);
	f->nservers = json_array_size(json_object_get(jf, "servers"));
	f->servers = xcalloc(f->nservers + 1, sizeof *f->servers);
	json_array_foreach(json_object_get(jf, "servers"), i, js) {
		struct mon_server *s = &f->servers[i];
		cp(s->name, sizeof s->name, js, "name");
		mon_format_address(s->address, sizeof s->address,
		    json_string_value(json_object_get(js, "address")) ?
		    json_string_value(json_object_get(js, "address")) : "",
		    (long)ju(js, "port"));
		cp(s->admin, sizeof s->admin, js, "admin");
		cp(s->state, sizeof s->state, js, "state");
		cp(s->check, sizeof s->check, js, "check_text");
		s->check_ms = (uint32_t)ju(js, "check_ms");
		s->weight = (long)ju(js, "weight");
		s->priority = (long)ju(js, "priority");
		s->backup = json_is_true(json_object_get(js, "backup"));
		s->oldest = json_number_value(json_object_get(js,
		    "queue_oldest"));
		s->changed = (int64_t)ju(js, "last_change");
		mon_counters_from_json(&s->c, json_object_get(js, "counters"));
		for (size_t k = 0; pf && k < pf->nservers; k++)
			if (!strcmp(pf->servers[k].name, s->name))
				rate(&s->c, &pf->servers[k].c, dt);
	}
}

static void
zone_from_stats(struct mon_zone *z, json_t *st, const struct mon_snapshot *p,
    double dt)
{
	json_t *j;
	size_t i;

	z->up = true;
	cp(z->version, sizeof z->version, st, "version");
	z->uptime = (int64_t)ju(st, "uptime");
	z->pid = (int64_t)ju(st, "pid");
	z->nfes = json_array_size(json_object_get(st, "frontends"));
	z->fes = xcalloc(z->nfes + 1, sizeof *z->fes);
	json_array_foreach(json_object_get(st, "frontends"), i, j) {
		cp(z->fes[i].name, sizeof z->fes[i].name, j, "name");
		cp(z->fes[i].farm, sizeof z->fes[i].farm, j, "farm");
		mon_counters_from_json(&z->fes[i].c, json_object_get(j,
		    "counters"));
		rate(&z->fes[i].c, prev_frontend(p, z->name, z->fes[i].name),
		    dt);
	}
	z->nfarms = json_array_size(json_object_get(st, "farms"));
	z->farms = xcalloc(z->nfarms + 1, sizeof *z->farms);
	json_array_foreach(json_object_get(st, "farms"), i, j)
		farm_from_json(&z->farms[i], j, prev_farm(p, z->name,
		    json_string_value(json_object_get(j, "name"))), dt);
}

static bool
wanted(const struct mon_source *m, const char *zone)
{
	if (m->nonly == 0)
		return true;
	for (int i = 0; i < m->nonly; i++)
		if (!strcmp(m->only[i], zone))
			return true;
	return false;
}

static void
poll_zone(struct mon_source *m, size_t i, struct mon_zone *z, double dt)
{
	struct zone *zn = m->sh->zones[i];
	bool was_up = zn->up;
	char err[512];
	json_t *st = NULL;

	snprintf(z->name, sizeof z->name, "%s", zn->name);
	snprintf(err, sizeof err, "zone %s: the engine went away", zn->name);
	if (zn->peer == NULL)
		zn->peer = peer_new(zn->name, zn->sock, zn->cmd);
	if (!peer_subscribed(zn->peer) && peer_subscribe(zn->peer, err,
	    sizeof err) == 0)
		event_add(m, xasprintf("watching zone %s", zn->name));
	if (peer_subscribed(zn->peer))
		read_events(m, zn);
	if (peer_connected(zn->peer))
		st = engine_call_timeout(zn, json_pack("{s:s}", K_CMD,
		    CMD_STATS), poll_timeout(), err, sizeof err);
	if (st != NULL)
		zone_from_stats(z, st, m->prev, dt);
	else {
		zn->up = false;
		snprintf(zn->why, sizeof zn->why, "%s", err);
	}
	json_decref(st);
	/* Why a zone is shown down: said once, when it happens. */
	if (!zn->up && (was_up || strcmp(m->why[i % MON_WHY], zn->why))) {
		event_add(m, xasprintf("%s", zn->why));
		snprintf(m->why[i % MON_WHY], sizeof m->why[0], "%s", zn->why);
	} else if (zn->up)
		m->why[i % MON_WHY][0] = '\0';
}

struct mon_snapshot *
mon_source_poll(struct mon_source *m)
{
	struct mon_snapshot *snap = xcalloc(1, sizeof *snap);
	uint64_t now = now_ms();
	double dt = m->prev ? (double)(now - m->prev_ms) / 1000.0 : 0;

	shell_discover(m->sh);	/* zones that appeared since */
	snap->now = time(NULL);
	snap->zones = xcalloc(m->sh->nzones + 1, sizeof *snap->zones);
	for (size_t i = 0; i < m->sh->nzones; i++)
		if (wanted(m, m->sh->zones[i]->name))
			poll_zone(m, i, &snap->zones[snap->nzones++], dt);
	for (size_t i = 0; i < m->nevents; i++)
		snap->events[snap->nevents++] = xstrdup(m->events[i]);
	/* The source keeps the snapshot: the next poll's rates need it, and
	 * the caller reads it until then. */
	mon_snapshot_free(m->prev);
	m->prev = snap;
	m->prev_ms = now;
	return snap;
}

int
mon_source_admin(struct mon_source *m, const struct mon_target *t,
    const char *state, char *err, size_t errlen)
{
	struct zone *z = shell_zone(m->sh, t->zone);
	json_t *res;

	if (z == NULL) {
		snprintf(err, errlen, "zone %s is gone", t->zone);
		return -1;
	}
	res = engine_call_timeout(z, json_pack("{s:s,s:s,s:s,s:s}", K_CMD,
	    CMD_ADMIN, K_FARM, t->farm, K_SERVER, t->server, K_STATE, state),
	    poll_timeout(), err, errlen);
	json_decref(res);
	return res ? 0 : -1;
}
