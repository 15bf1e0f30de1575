/* A snapshot of every counter, as JSON: for the control socket, the
 * monitor and the exporters. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "session.h"

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

/* Slow start and agent: the weight in use, rounded up (a server that
 * takes sessions never shows 0), and what the agent said. */
static void
agent_json(json_t *o, const struct rt_server *s, uint64_t now)
{
	long ew = server_available(s) ? server_eff_weight(s, now) : 0;

	json_object_set_new(o, K_EFF_WEIGHT,
	    json_integer((ew + WEIGHT_SCALE - 1) / WEIGHT_SCALE));
	json_object_set_new(o, K_RAMP,
	    json_integer((json_int_t)(server_ramp(s, now) * 100)));
	if (!FIELD_ISSET(&server_fields, s->conf, "agent-port"))
		return;
	json_object_set_new(o, K_AGENT_STATE,
	    json_string(admin_names[s->agent_admin]));
	json_object_set_new(o, K_AGENT_DOWN, json_boolean(s->agent_down));
	json_object_set_new(o, K_AGENT_PCT,
	    json_integer(s->agent_has_pct ? s->agent_pct : 100));
	json_object_set_new(o, K_AGENT_TEXT, json_string(s->agent_text));
	if (s->mx_queue_known)
		json_object_set_new(o, K_MX_QUEUE, json_integer(s->mx_queue));
}

static json_t *
server_json(const struct engine *eng, const struct rt_server *s, uint64_t now)
{
	json_t *o = json_object();
	char addr[ADDR_STRLEN];

	addr_format(&s->conf->address, addr, sizeof addr);
	json_object_set_new(o, K_NAME, json_string(server_name(s->conf)));
	json_object_set_new(o, K_ADDRESS, json_string(addr));
	json_object_set_new(o, K_PORT, json_integer(server_port(eng, s)));
	json_object_set_new(o, K_ADMIN, json_string(admin_names[s->admin]));
	json_object_set_new(o, K_STATE, json_string(
	    pstate_names[probe_unchecked(s) ? PSTATE_UNCHECKED : s->pstate]));
	json_object_set_new(o, K_AVAILABLE, json_boolean(server_available(s)));
	json_object_set_new(o, K_WEIGHT, json_integer(s->conf->weight));
	agent_json(o, s, now);
	json_object_set_new(o, K_PRIORITY, json_integer(s->conf->priority));
	json_object_set_new(o, K_BACKUP, json_boolean(s->conf->backup));
	json_object_set_new(o, K_TRANSPORT, json_string(
	    transport_names[server_transport(s->conf)]));
	json_object_set_new(o, K_CHECK_CODE, json_integer(s->check_code));
	json_object_set_new(o, K_CHECK_TEXT, json_string(s->check_text));
	json_object_set_new(o, K_CHECK_MS, json_integer(s->check_ms));
	json_object_set_new(o, K_LAST_CHANGE, json_integer((json_int_t)s->changed));
	json_object_set_new(o, K_QUEUE_OLDEST, json_real(oldest_wait(s, now)));
	if (FIELD_ISSET(&server_fields, s->conf, "maxconn"))
		json_object_set_new(o, K_MAXCONN,
		    json_integer(s->conf->maxconn));
	json_object_set_new(o, K_COUNTERS, counters_json(&s->st, OBJ_SERVER));
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
	json_object_set_new(o, K_NAME, json_string(f->conf->name));
	json_object_set_new(o, K_QUEUE_OLDEST, json_real(oldest));
	json_object_set_new(o, K_COUNTERS, counters_json(&f->st, OBJ_FARM));
	json_object_set_new(o, K_SERVERS, a);
	return o;
}

static json_t *
frontend_json(const struct rt_frontend *f)
{
	json_t *o = json_object();

	json_object_set_new(o, K_NAME, json_string(f->conf->name));
	json_object_set_new(o, K_FARM, json_string(f->farm->conf->name));
	if (FIELD_ISSET(&frontend_fields, f->conf, "maxconn"))
		json_object_set_new(o, K_MAXCONN,
		    json_integer(f->conf->maxconn));
	json_object_set_new(o, K_COUNTERS, counters_json(&f->st, OBJ_FRONTEND));
	return o;
}

/* The counters above are the sums; here is how the workers share them. */
static json_t *
workers_json(const struct engine *eng)
{
	json_t *a = json_array();

	for (size_t i = 0; i < eng->nworkers; i++)
		json_array_append_new(a, json_pack("{s:I,s:I}", K_ACCEPTED,
		    (json_int_t)eng->workers[i]->accepted, K_SESSIONS,
		    (json_int_t)eng->workers[i]->nsessions));
	return a;
}

json_t *
stats_json(const struct engine *eng)
{
	json_t *o = json_object(), *fes = json_array(), *farms = json_array();
	uint64_t now = now_ms();

	json_object_set_new(o, K_ZONE, json_string(eng->zone));
	json_object_set_new(o, K_VERSION, json_string(MXLB_VERSION));
	json_object_set_new(o, K_PID, json_integer(getpid()));
	json_object_set_new(o, K_UPTIME,
	    json_integer((json_int_t)((uint64_t)time(NULL) - eng->started)));
	json_object_set_new(o, K_STARTED,
	    json_integer((json_int_t)eng->started));
	for (size_t i = 0; i < eng->nfes; i++)
		json_array_append_new(fes, frontend_json(eng->fes[i]));
	for (size_t i = 0; i < eng->nfarms; i++)
		json_array_append_new(farms, farm_json(eng, eng->farms[i], now));
	json_object_set_new(o, K_FRONTENDS, fes);
	json_object_set_new(o, K_FARMS, farms);
	json_object_set_new(o, K_WORKERS, workers_json(eng));
	return o;
}
