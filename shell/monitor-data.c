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
	time_t t = (time_t)json_integer_value(json_object_get(ev, K_TIME));
	char when[16];
	struct tm tm;

	strftime(when, sizeof when, "%H:%M:%S", localtime_r(&t, &tm));
	if (!strcmp(name, EV_PROBE) || !strcmp(name, EV_ADMIN) ||
	    !strcmp(name, EV_AGENT))
		return xasprintf("%s %s %s %s/%s %s -> %s %s", when, zone, name,
		    json_string_value(json_object_get(ev, K_FARM)),
		    json_string_value(json_object_get(ev, K_SERVER)),
		    json_string_value(json_object_get(ev, K_WAS)),
		    json_string_value(json_object_get(ev, K_STATE)),
		    json_is_string(json_object_get(ev, K_CHECK)) ?
		    json_string_value(json_object_get(ev, K_CHECK)) : "");
	if (!strcmp(name, EV_COMMIT))
		return xasprintf("%s %s commit: version %lld by %s %s", when,
		    zone, (long long)json_integer_value(json_object_get(ev,
		    K_VERSION)), json_string_value(json_object_get(ev, K_USER)),
		    json_string_value(json_object_get(ev, K_COMMENT)));
	if (!strcmp(name, EV_REVERT))
		return xasprintf("%s %s revert: version %lld not confirmed, "
		    "now version %lld", when, zone, (long long)
		    json_integer_value(json_object_get(ev, K_REVERTED)),
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
	memset(c, 0, sizeof *c);
	counters_from_json(&c->n, o);
}

/* Rates against the same object in the previous snapshot. */
static void
rate(struct mon_counters *c, const struct mon_counters *p, double dt)
{
	uint64_t r, pr;

	if (p == NULL || dt <= 0)
		return;
	if (c->total >= p->total)
		c->rate = (double)(c->total - p->total) / dt;
	r = counter_value(&c->n, &counter_defs[CNT_REFUSED]);
	pr = counter_value(&p->n, &counter_defs[CNT_REFUSED]);
	if (r >= pr)
		c->refused_rate = (double)(r - pr) / dt;
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

	cp(f->name, sizeof f->name, jf, K_NAME);
	f->oldest = json_number_value(json_object_get(jf, K_QUEUE_OLDEST));
	mon_counters_from_json(&f->c, json_object_get(jf, K_COUNTERS));
	rate(&f->c, pf ? &pf->c : NULL, dt);
	f->nservers = json_array_size(json_object_get(jf, K_SERVERS));
	f->servers = xcalloc(f->nservers + 1, sizeof *f->servers);
	json_array_foreach(json_object_get(jf, K_SERVERS), i, js) {
		struct mon_server *s = &f->servers[i];
		cp(s->name, sizeof s->name, js, K_NAME);
		mon_format_address(s->address, sizeof s->address,
		    json_string_value(json_object_get(js, K_ADDRESS)) ?
		    json_string_value(json_object_get(js, K_ADDRESS)) : "",
		    (long)ju(js, K_PORT));
		cp(s->admin, sizeof s->admin, js, K_ADMIN);
		cp(s->state, sizeof s->state, js, K_STATE);
		cp(s->check, sizeof s->check, js, K_CHECK_TEXT);
		s->check_ms = (uint32_t)ju(js, K_CHECK_MS);
		s->weight = (long)ju(js, K_WEIGHT);
		s->eff_weight = json_is_integer(json_object_get(js,
		    K_EFF_WEIGHT)) ? (long)ju(js, K_EFF_WEIGHT) : s->weight;
		cp(s->agent, sizeof s->agent, js, K_AGENT_TEXT);
		if (json_is_integer(json_object_get(js, K_MX_QUEUE)))
			snprintf(s->agent + strlen(s->agent), sizeof s->agent -
			    strlen(s->agent), " | mx queue %lld", (long long)
			    ju(js, K_MX_QUEUE));
		s->priority = (long)ju(js, K_PRIORITY);
		s->backup = json_is_true(json_object_get(js, K_BACKUP));
		s->oldest = json_number_value(json_object_get(js,
		    K_QUEUE_OLDEST));
		s->changed = (int64_t)ju(js, K_LAST_CHANGE);
		mon_counters_from_json(&s->c, json_object_get(js, K_COUNTERS));
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
	cp(z->version, sizeof z->version, st, K_VERSION);
	z->uptime = (int64_t)ju(st, K_UPTIME);
	z->pid = (int64_t)ju(st, K_PID);
	z->workers = json_array_size(json_object_get(st, K_WORKERS));
	z->nfes = json_array_size(json_object_get(st, K_FRONTENDS));
	z->fes = xcalloc(z->nfes + 1, sizeof *z->fes);
	json_array_foreach(json_object_get(st, K_FRONTENDS), i, j) {
		cp(z->fes[i].name, sizeof z->fes[i].name, j, K_NAME);
		cp(z->fes[i].farm, sizeof z->fes[i].farm, j, K_FARM);
		mon_counters_from_json(&z->fes[i].c, json_object_get(j,
		    K_COUNTERS));
		rate(&z->fes[i].c, prev_frontend(p, z->name, z->fes[i].name),
		    dt);
	}
	z->nfarms = json_array_size(json_object_get(st, K_FARMS));
	z->farms = xcalloc(z->nfarms + 1, sizeof *z->farms);
	json_array_foreach(json_object_get(st, K_FARMS), i, j)
		farm_from_json(&z->farms[i], j, prev_farm(p, z->name,
		    json_string_value(json_object_get(j, K_NAME))), dt);
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
