/* A snapshot of every counter, as JSON: for the control socket, the
 * monitor and the exporters. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session.h"

static json_t *
counters_json(const struct counters *c)
{
	json_t *o = json_object(), *r = json_object();

	json_object_set_new(o, "sessions_cur", json_integer((json_int_t)c->cur));
	json_object_set_new(o, "sessions_max", json_integer((json_int_t)c->max));
	json_object_set_new(o, "sessions_total",
	    json_integer((json_int_t)c->total));
	json_object_set_new(o, "queue_cur", json_integer((json_int_t)c->qcur));
	json_object_set_new(o, "queue_max", json_integer((json_int_t)c->qmax));
	json_object_set_new(o, "bytes_in",
	    json_integer((json_int_t)c->bytes_in));
	json_object_set_new(o, "bytes_out",
	    json_integer((json_int_t)c->bytes_out));
	json_object_set_new(o, "connect_fail",
	    json_integer((json_int_t)c->connect_fail));
	json_object_set_new(o, "redispatch",
	    json_integer((json_int_t)c->redispatch));
	for (int i = 0; i < REFUSE_MAX; i++)
		json_object_set_new(r, refusal_names[i],
		    json_integer((json_int_t)c->refused[i]));
	json_object_set_new(o, "refused", r);
	return o;
}

/* Seconds the head of the queue has waited: the figure that says trouble. */
static double
oldest_wait(const struct rt_server *s, uint64_t now)
{
	const struct session *head = TAILQ_FIRST(&s->queue);

	return head == NULL ? 0 : (double)(now - head->queued) / 1000.0;
}

/* The port sessions go to: the server's, the farm's, else the port the
 * client reached (the first a frontend of the farm binds); 0 unknown. */
static long
server_port(const struct engine *eng, const struct rt_server *s)
{
	const struct farm *f = s->farm->conf;

	if (FIELD_ISSET(&server_fields, s->conf, "port"))
		return s->conf->port;
	if (FIELD_ISSET(&farm_fields, f, "port"))
		return f->port;
	for (size_t i = 0; eng->cfg && i < eng->cfg->nfrontends; i++) {
		const struct frontend *fe = eng->cfg->frontends[i];
		if (strcmp(fe->farm, f->name) == 0 && fe->bind.n > 0)
			return fe->bind.v[0].lo;
	}
	return 0;
}

static json_t *
server_json(const struct engine *eng, const struct rt_server *s, uint64_t now)
{
	json_t *o = json_object();
	char addr[ADDR_STRLEN];

	addr_format(&s->conf->address, addr, sizeof addr);
	json_object_set_new(o, "name", json_string(server_name(s->conf)));
	json_object_set_new(o, "address", json_string(addr));
	json_object_set_new(o, "port", json_integer(server_port(eng, s)));
	json_object_set_new(o, "admin", json_string(admin_names[s->admin]));
	json_object_set_new(o, "state", json_string(probe_unchecked(s) ?
	    "unchecked" : pstate_names[s->pstate]));
	json_object_set_new(o, "available", json_boolean(server_available(s)));
	json_object_set_new(o, "weight", json_integer(s->conf->weight));
	json_object_set_new(o, "priority", json_integer(s->conf->priority));
	json_object_set_new(o, "backup", json_boolean(s->conf->backup));
	json_object_set_new(o, "check_code", json_integer(s->check_code));
	json_object_set_new(o, "check_text", json_string(s->check_text));
	json_object_set_new(o, "check_ms", json_integer(s->check_ms));
	json_object_set_new(o, "last_change", json_integer((json_int_t)s->changed));
	json_object_set_new(o, "queue_oldest", json_real(oldest_wait(s, now)));
	json_object_set_new(o, "counters", counters_json(&s->st));
	return o;
}

static json_t *
farm_json(const struct engine *eng, const struct rt_farm *f, uint64_t now)
{
	json_t *o = json_object(), *a = json_array();
	double oldest = 0;

	for (size_t i = 0; i < f->nservers; i++) {
		double w = oldest_wait(f->servers[i], now);
		if (w > oldest)
			oldest = w;
		json_array_append_new(a, server_json(eng, f->servers[i], now));
	}
	json_object_set_new(o, "name", json_string(f->conf->name));
	json_object_set_new(o, "queue_oldest", json_real(oldest));
	json_object_set_new(o, "counters", counters_json(&f->st));
	json_object_set_new(o, "servers", a);
	return o;
}

json_t *
stats_json(const struct engine *eng)
{
	json_t *o = json_object(), *fes = json_array(), *farms = json_array();
	uint64_t now = now_ms();

	json_object_set_new(o, "zone", json_string(eng->zone));
	json_object_set_new(o, "version", json_string(MXLB_VERSION));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "uptime",
	    json_integer((json_int_t)((uint64_t)time(NULL) - eng->started)));
	for (size_t i = 0; i < eng->nfes; i++) {
		json_t *fe = json_object();
		json_object_set_new(fe, "name",
		    json_string(eng->fes[i]->conf->name));
		json_object_set_new(fe, "farm",
		    json_string(eng->fes[i]->farm->conf->name));
		json_object_set_new(fe, "counters",
		    counters_json(&eng->fes[i]->st));
		json_array_append_new(fes, fe);
	}
	for (size_t i = 0; i < eng->nfarms; i++)
		json_array_append_new(farms, farm_json(eng, eng->farms[i], now));
	json_object_set_new(o, "frontends", fes);
	json_object_set_new(o, "farms", farms);
	return o;
}
