/* The config model: field tables, objects and whole-config validation. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *const balance_enums[] =
    { "roundrobin", "leastconn", "source", "first", NULL };
static const char *const stickiness_enums[] = { "none", "source", NULL };
static const char *const probe_enums[] = { "smtp", "tcp", "none", NULL };
static const char *const unavail_enums[] = { "tempfail", "close", NULL };
static const char *const proxy_enums[] = { "none", "v1", "v2", NULL };
static const char *const status_enums[] = { "active", "inactive", NULL };
static const char *const greet5xx_enums[] = { "redispatch", "pass", NULL };
static const char *const passive_enums[] = { "on", "off", NULL };
static const char *const forward_enums[] = { "user", "kernel", NULL };

#define SEC(n)	((long)(n) * 1000)

#define S(m)	offsetof(struct server, m)
static const struct field server_f[] = {
	{ "address", FT_ADDR, S(address), 0, 0, NULL, NULL, "ADDRESS",
	  "the server's IPv4 or IPv6 address", F_KEY | F_REQUIRED },
	{ "name", FT_NAME, S(name), 0, 0, NULL, NULL, "NAME",
	  "name of the server in its farm (default: its address)", 0 },
	{ "port", FT_PORT, S(port), PORT_MIN, PORT_MAX, NULL, NULL, "PORT",
	  "port on the server (default: the farm's, else the frontend's)", 0 },
	{ "weight", FT_UINT, S(weight), 0, 256, "1", NULL, "0-256",
	  "share of new sessions within its tier; 0 takes none", 0 },
	{ "priority", FT_UINT, S(priority), 0, 65535, "0", NULL, "N",
	  "MX-style tier: the lowest tier with a server up takes the traffic",
	  0 },
	{ "backup", FT_FLAG, S(backup), 0, 0, NULL, NULL, NULL,
	  "used only when no other tier has a server available", 0 },
	{ "proxyprotocol", FT_ENUM, S(proxyprotocol), 0, 0, "none",
	  proxy_enums, NULL,
	  "PROXY protocol header telling the server the client's address", 0 },
	{ "xclient", FT_FLAG, S(xclient), 0, 0, NULL, NULL, NULL,
	  "tell the server the client's address with XCLIENT (Postfix), sent "
	  "before the client sees the greeting; not with proxyprotocol",
	  F_PROBE },
	{ "maxconn", FT_UINT, S(maxconn), 1, 1000000, NULL, NULL, "N",
	  "most sessions at once; more wait in the server's queue", 0 },
	{ "status", FT_ENUM, S(status), 0, 0, "active", status_enums, NULL,
	  "inactive servers take no sessions and are not probed", 0 },
	{ "agent-port", FT_PORT, S(agent_port), PORT_MIN, PORT_MAX, NULL, NULL,
	  "PORT", "port of the server's agent (HAProxy agent-check text, "
	  "as mxlb agent answers)", 0 },
	{ "agent-interval", FT_DURATION, S(agent_interval), 100, SEC(3600),
	  "5", NULL, "SEC", "time between two questions to the agent", 0 },
};
#undef S
const struct fieldset server_fields = { "server", server_f,
    nitems(server_f), sizeof(struct server) };

#define F(m)	offsetof(struct farm, m)
static const struct field farm_f[] = {
	{ "name", FT_NAME, F(name), 0, 0, NULL, NULL, "NAME",
	  "name of the farm, unique within its zone", F_KEY | F_REQUIRED },
	{ "balance", FT_ENUM, F(balance), 0, 0, "roundrobin", balance_enums,
	  NULL, "how new sessions are spread over the servers of a tier", 0 },
	{ "stickiness", FT_ENUM, F(stickiness), 0, 0, "none",
	  stickiness_enums, NULL,
	  "send a client back to the server it had last (30 minutes)", 0 },
	{ "port", FT_PORT, F(port), PORT_MIN, PORT_MAX, NULL, NULL, "PORT",
	  "default server port (default: the frontend's port)", F_PROBE },
	{ "probe", FT_ENUM, F(probe), 0, 0, "smtp", probe_enums, NULL,
	  "health probe: full SMTP dialogue, TCP connect, or none", F_PROBE },
	{ "probe-interval", FT_DURATION, F(probe_interval), SEC(0) + 100,
	  SEC(3600), "5", NULL, "SEC", "time between two probes of a server",
	  F_PROBE },
	{ "probe-timeout", FT_DURATION, F(probe_timeout), 100, SEC(600), "10",
	  NULL, "SEC", "time a probe may take (above postscreen's greet wait)",
	  F_PROBE },
	{ "probe-rise", FT_UINT, F(probe_rise), 1, 100, "2", NULL, "N",
	  "successes in a row that bring a down server up", F_PROBE },
	{ "probe-fall", FT_UINT, F(probe_fall), 1, 100, "3", NULL, "N",
	  "failures in a row that take an up server down", F_PROBE },
	{ "probe-port", FT_PORT, F(probe_port), PORT_MIN,
	  PORT_MAX, NULL, NULL, "PORT",
	  "port to probe (default: the server's)", F_PROBE },
	{ "probe-helo", FT_HOST, F(probe_helo), 0, 0, NULL, NULL, "NAME",
	  "name the SMTP probe gives in EHLO (default: this host's)", F_PROBE },
	{ "on-unavailable", FT_ENUM, F(on_unavailable), 0, 0, "tempfail",
	  unavail_enums, NULL,
	  "when no server can take a session: 421 and close, or just close",
	  0 },
	{ "queue-timeout", FT_DURATION, F(queue_timeout), 0, SEC(3600), "60",
	  NULL, "SEC", "longest wait for a server slot before the 421", 0 },
	{ "connect-timeout", FT_DURATION, F(connect_timeout), 100, SEC(300),
	  "5", NULL, "SEC", "time to connect to a server before trying another",
	  0 },
	{ "source", FT_SOURCE, F(source), 0, 0, NULL, NULL, "client|ADDRESS",
	  "where sessions connect from: client (the client's own address, "
	  "transparent, see mxlbd(8)) or an ADDRESS of this host (default: "
	  "the one routing picks)", F_PROBE },
	{ "slowstart", FT_DURATION, F(slowstart), 0, SEC(3600), "0", NULL,
	  "SEC", "a server back in service takes its share of new sessions "
	  "gradually over this time (0: at once)", 0 },
	{ "greeting-timeout", FT_DURATION, F(greeting_timeout), 100, SEC(300),
	  "30", NULL, "SEC", "time for a server's complete 220 greeting before "
	  "the session tries another (the client sees nothing before)", 0 },
	{ "on-greeting-5xx", FT_ENUM, F(on_greeting_5xx), 0, 0, "redispatch",
	  greet5xx_enums, NULL, "a 5xx greeting: try another server, or pass "
	  "the refusal to the client", 0 },
	{ "passive-health", FT_ENUM, F(passive_health), 0, 0, "on",
	  passive_enums, NULL, "failed sessions (connect, greeting) count "
	  "toward probe-fall between probes", 0 },
	{ "forward", FT_ENUM, F(forward), 0, 0, "user", forward_enums, NULL,
	  "who relays the client's bytes after the greeting: mxlbd (user), "
	  "or the kernel by a BPF sockmap (kernel: needs libbpf and CAP_BPF)",
	  0 },
};
#undef F
const struct fieldset farm_fields = { "farm", farm_f, nitems(farm_f),
    sizeof(struct farm) };

#define E(m)	offsetof(struct frontend, m)
static const struct field frontend_f[] = {
	{ "name", FT_NAME, E(name), 0, 0, NULL, NULL, "NAME",
	  "name of the frontend, unique within its zone", F_KEY | F_REQUIRED },
	{ "bind", FT_PORTS, E(bind), PORT_MIN, PORT_MAX, NULL, NULL, "PORTS",
	  "ports to listen on: 25 or 25,587 or 2500-2510", F_REQUIRED },
	{ "address", FT_ADDRS, E(address), 0, 0, NULL, NULL, "ADDR[,ADDR...]",
	  "addresses to listen on (default: all, IPv4 and IPv6; :: is "
	  "dual-stack too)", 0 },
	{ "farm", FT_NAME, E(farm), 0, 0, NULL, NULL, "FARM",
	  "farm that takes the sessions", F_REQUIRED | F_FARMREF },
	{ "allowed-source", FT_CIDRS, E(allowed_source), 0, 0, NULL, NULL,
	  "CIDR[,CIDR...]", "only these clients may connect", 0 },
	{ "denied-source", FT_CIDRS, E(denied_source), 0, 0, NULL, NULL,
	  "CIDR[,CIDR...]", "these clients are refused", 0 },
	{ "maxconn", FT_UINT, E(maxconn), 1, 1000000, NULL, NULL, "N",
	  "most sessions at once on this frontend", 0 },
	{ "source-maxconn", FT_UINT, E(source_maxconn), 1, 1000000, NULL, NULL,
	  "N", "most sessions at once from one client address", 0 },
	{ "source-rate", FT_UINT, E(source_rate), 1, 1000000, NULL, NULL, "N",
	  "most new sessions per minute from one client address", 0 },
	{ "idle-timeout", FT_DURATION, E(idle_timeout), SEC(1), SEC(3600),
	  "600", NULL, "SEC", "a session silent both ways this long is closed",
	  0 },
	{ "disabled", FT_FLAG, E(disabled), 0, 0, NULL, NULL, NULL,
	  "do not listen; sessions in flight go on", 0 },
};
#undef E
const struct fieldset frontend_fields = { "frontend", frontend_f,
    nitems(frontend_f), sizeof(struct frontend) };

struct config *
config_new(const char *zone)
{
	struct config *c = xcalloc(1, sizeof *c);

	c->zone = xstrdup(zone);
	return c;
}

void
farm_free(struct farm *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nservers; i++)
		object_free(&server_fields, f->servers[i]);
	free(f->servers);
	object_free(&farm_fields, f);
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nfarms; i++)
		farm_free(c->farms[i]);
	for (size_t i = 0; i < c->nfrontends; i++)
		object_free(&frontend_fields, c->frontends[i]);
	free(c->farms);
	free(c->frontends);
	free(c->zone);
	free(c);
}

static struct farm *
farm_dup(const struct farm *src)
{
	struct farm *f = object_dup(&farm_fields, src);

	f->servers = xreallocarray(NULL, src->nservers, sizeof *f->servers);
	f->nservers = src->nservers;
	for (size_t i = 0; i < src->nservers; i++)
		f->servers[i] = object_dup(&server_fields, src->servers[i]);
	return f;
}

struct config *
config_dup(const struct config *src)
{
	struct config *c = config_new(src->zone);

	for (size_t i = 0; i < src->nfarms; i++)
		config_add_farm(c, farm_dup(src->farms[i]));
	for (size_t i = 0; i < src->nfrontends; i++)
		config_add_frontend(c,
		    object_dup(&frontend_fields, src->frontends[i]));
	return c;
}

static bool
farm_equal(const struct farm *a, const struct farm *b)
{
	if (!object_equal(&farm_fields, a, b) || a->nservers != b->nservers)
		return false;
	for (size_t i = 0; i < a->nservers; i++)
		if (!object_equal(&server_fields, a->servers[i], b->servers[i]))
			return false;
	return true;
}

bool
config_equal(const struct config *a, const struct config *b)
{
	if (strcmp(a->zone, b->zone) != 0 || a->nfarms != b->nfarms ||
	    a->nfrontends != b->nfrontends)
		return false;
	for (size_t i = 0; i < a->nfarms; i++)
		if (!farm_equal(a->farms[i], b->farms[i]))
			return false;
	for (size_t i = 0; i < a->nfrontends; i++)
		if (!object_equal(&frontend_fields, a->frontends[i],
		    b->frontends[i]))
			return false;
	return true;
}

struct farm *
config_farm(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nfarms; i++)
		if (strcmp(c->farms[i]->name, name) == 0)
			return c->farms[i];
	return NULL;
}

struct frontend *
config_frontend(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nfrontends; i++)
		if (strcmp(c->frontends[i]->name, name) == 0)
			return c->frontends[i];
	return NULL;
}

/* A server without a name goes by its address, as in the design. */
const char *
server_name(const struct server *s)
{
	static char buf[8][ADDR_STRLEN];
	static unsigned next;
	char *b;

	if (s->name != NULL)
		return s->name;
	/* A small ring, so one printf may name several servers. */
	b = buf[next++ % nitems(buf)];
	addr_format(&s->address, b, ADDR_STRLEN);
	return b;
}

enum transport
server_transport(const struct server *s)
{
	if (s->xclient)
		return TRANSPORT_XCLIENT;
	if (s->proxyprotocol == 1)	/* PROXY_V1: proxy.h is the engine's */
		return TRANSPORT_PROXY_V1;
	if (s->proxyprotocol == 2)
		return TRANSPORT_PROXY_V2;
	return TRANSPORT_PLAIN;
}

struct server *
farm_server(const struct farm *f, const char *name)
{
	for (size_t i = 0; i < f->nservers; i++)
		if (strcmp(server_name(f->servers[i]), name) == 0)
			return f->servers[i];
	return NULL;
}

/* NULL if the name is not valid: callers check names first. */
struct farm *
farm_new(const char *name)
{
	struct farm *f = object_new(&farm_fields);
	char err[FIELD_ERRLEN];

	if (field_parse(&farm_fields, f, &farm_f[0], name, err, sizeof err)) {
		object_free(&farm_fields, f);
		return NULL;
	}
	return f;
}

struct server *
server_new(const struct mxaddr *a)
{
	struct server *s = object_new(&server_fields);

	s->address = *a;
	s->set |= 1;	/* address is field 0 */
	return s;
}

/* NULL if the name is not valid. */
struct frontend *
frontend_new(const char *name)
{
	struct frontend *fe = object_new(&frontend_fields);
	char err[FIELD_ERRLEN];

	if (field_parse(&frontend_fields, fe, &frontend_f[0], name, err,
	    sizeof err)) {
		object_free(&frontend_fields, fe);
		return NULL;
	}
	return fe;
}

void
config_add_farm(struct config *c, struct farm *f)
{
	*ARRAY_PUSH(c->farms, c->nfarms) = f;
}

void
config_add_frontend(struct config *c, struct frontend *fe)
{
	*ARRAY_PUSH(c->frontends, c->nfrontends) = fe;
}

void
farm_add_server(struct farm *f, struct server *s)
{
	*ARRAY_PUSH(f->servers, f->nservers) = s;
}

/* Removal keeps the order of the others: order is meaningful for `first`. */
#define REMOVE_AT(arr, n, i) do {					\
	memmove(&(arr)[i], &(arr)[(i) + 1], ((n) - (i) - 1) * sizeof *(arr)); \
	(n)--;								\
} while (0)

void
config_remove_farm(struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nfarms; i++) {
		if (strcmp(c->farms[i]->name, name) == 0) {
			farm_free(c->farms[i]);
			REMOVE_AT(c->farms, c->nfarms, i);
			return;
		}
	}
}

void
config_remove_frontend(struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nfrontends; i++) {
		if (strcmp(c->frontends[i]->name, name) == 0) {
			object_free(&frontend_fields, c->frontends[i]);
			REMOVE_AT(c->frontends, c->nfrontends, i);
			return;
		}
	}
}

void
farm_remove_server(struct farm *f, const char *name)
{
	for (size_t i = 0; i < f->nservers; i++) {
		if (strcmp(server_name(f->servers[i]), name) == 0) {
			object_free(&server_fields, f->servers[i]);
			REMOVE_AT(f->servers, f->nservers, i);
			return;
		}
	}
}
