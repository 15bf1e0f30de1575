/*
 * Whole-config validation.  Every error is reported with its path and what
 * is allowed, so an operator fixes them all in one go.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void
check_required(const struct fieldset *fs, const void *obj, const char *path,
    struct errs *e)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct field *f = &fs->f[i];
		if ((f->flags & F_REQUIRED) && !field_isset(fs, obj, f))
			errs_add(e, "%s: %s is required", path, f->key);
	}
}

static void
check_servers(const struct farm *f, struct errs *e)
{
	char *path;

	for (size_t i = 0; i < f->nservers; i++) {
		const struct server *s = f->servers[i];
		const char *name = server_name(s);
		bool addressed = s->address.family != 0 || s->name != NULL;

		/* Without a name or an address, its place names it. */
		path = addressed ? xasprintf("farm %s: server %s", f->name, name) :
		    xasprintf("farm %s: server #%zu", f->name, i + 1);
		check_required(&server_fields, s, path, e);
		for (size_t j = 0; addressed && j < i; j++)
			if (strcmp(server_name(f->servers[j]), name) == 0)
				errs_add(e, "%s: the name is used twice in the "
				    "farm (give one a name)", path);
		/* Both would tell the address twice, and the PROXY header
		 * would come before the greeting XCLIENT must read. */
		if (s->xclient && s->proxyprotocol != 0)
			errs_add(e, "%s: xclient and proxyprotocol %s exclude "
			    "each other (use one)", path,
			    s->proxyprotocol == 1 ? "v1" : "v2");
		free(path);
	}
}

static bool addr_unspecified(const struct mxaddr *);

/* A source ADDRESS is one family: every server must be of it.  (Which
 * addresses this host has is the engine's to check, at commit.) */
static void
check_source(const struct farm *f, const char *path, struct errs *e)
{
	char a[ADDR_STRLEN];

	if (!FIELD_ISSET(&farm_fields, f, "source") ||
	    f->source.family == AF_UNSPEC)
		return;
	addr_format(&f->source, a, sizeof a);
	if (addr_unspecified(&f->source)) {
		errs_add(e, "%s: source %s is not one address (no source: the "
		    "address routing picks)", path, a);
		return;
	}
	for (size_t i = 0; i < f->nservers; i++)
		if (f->servers[i]->address.family != f->source.family)
			errs_add(e, "%s: source %s is IPv%d, server %s is not: "
			    "it could not be reached from it", path, a,
			    f->source.family == AF_INET ? 4 : 6,
			    server_name(f->servers[i]));
}

static void
check_farms(const struct config *c, struct errs *e)
{
	for (size_t i = 0; i < c->nfarms; i++) {
		const struct farm *f = c->farms[i];
		char *path = xasprintf("farm %s", f->name);

		check_required(&farm_fields, f, path, e);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->farms[j]->name, f->name) == 0)
				errs_add(e, "%s: defined twice", path);
		check_servers(f, e);
		check_source(f, path, e);
		free(path);
	}
}

static bool
addr_unspecified(const struct mxaddr *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	return a->family == AF_INET ? a->v4.s_addr == INADDR_ANY :
	    memcmp(&a->v6, &any6, sizeof any6) == 0;
}

/* Linux refuses a second bind on a port when the addresses are equal, or
 * one is the wildcard (0.0.0.0, ::) of the other's family.  "::" listens
 * dual-stack (listener.c), so it takes the port on IPv4 as well. */
static bool
addr_clash(const struct mxaddr *a, const struct mxaddr *b)
{
	if (a->family != b->family)
		return (a->family == AF_INET6 && addr_unspecified(a)) ||
		    (b->family == AF_INET6 && addr_unspecified(b));
	return addr_unspecified(a) || addr_unspecified(b) ||
	    addr_cmp(a, b) == 0;
}

static bool
addr_clashes(const void *a, const void *b)
{
	return addr_clash(a, b);
}

/* Two listeners clash on a port when their addresses clash, or when one
 * has no address (one socket for every address of both families). */
static bool
listen_overlap(const struct frontend *a, const struct frontend *b)
{
	bool port = false;

	for (size_t i = 0; i < a->bind.n && !port; i++)
		for (uint32_t p = a->bind.v[i].lo; p <= a->bind.v[i].hi; p++)
			if (portlist_has(&b->bind, (uint16_t)p)) {
				port = true;
				break;
			}
	if (!port)
		return false;
	if (a->address.n == 0 || b->address.n == 0)
		return true;
	for (size_t i = 0; i < a->address.n; i++)
		if (set_has(b->address.v, b->address.n, sizeof *b->address.v,
		    &a->address.v[i], addr_clashes))
			return true;
	return false;
}

/* A v4-mapped address (::ffff:a.b.c.d) is the IPv4 address it carries. */
static struct mxaddr
addr_plain(const struct mxaddr *a)
{
	struct mxaddr p = *a;

	if (a->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->v6)) {
		memset(&p, 0, sizeof p);
		p.family = AF_INET;
		memcpy(&p.v4, &a->v6.s6_addr[12], 4);
	}
	return p;
}

/* Addresses that reach this host wherever the config is checked:
 * loopback, and the unspecified address (a connect to it is local). */
static bool
addr_self(const struct mxaddr *a)
{
	static const struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;

	if (a->family == AF_INET)
		return (ntohl(a->v4.s_addr) >> 24) == 127 || addr_unspecified(a);
	return memcmp(&a->v6, &lo6, sizeof lo6) == 0 || addr_unspecified(a);
}

/*
 * Does frontend fe accept a connection to a (plain, not mapped) on port?
 * Its own addresses do; a wildcard (no address: both families; 0.0.0.0;
 * "::", dual-stack) also takes the host's loopback.  Other local
 * addresses are not known here: the shell checks remote zones too.
 */
static bool
frontend_reaches(const struct frontend *fe, const struct mxaddr *a,
    uint16_t port)
{
	if (!portlist_has(&fe->bind, port))
		return false;
	if (fe->address.n == 0)
		return addr_self(a);
	for (size_t i = 0; i < fe->address.n; i++) {
		const struct mxaddr *fa = &fe->address.v[i];
		struct mxaddr p = addr_plain(fa);

		if (addr_cmp(&p, a) == 0)
			return true;
		if (addr_unspecified(fa) && addr_self(a) &&
		    (fa->family == AF_INET6 || a->family == AF_INET))
			return true;
	}
	return false;
}

/* The frontend of c that takes a:port, or NULL. */
static const struct frontend *
frontend_at(const struct config *c, const struct mxaddr *a, uint16_t port)
{
	for (size_t i = 0; i < c->nfrontends; i++)
		if (frontend_reaches(c->frontends[i], a, port))
			return c->frontends[i];
	return NULL;
}

static void
loop_error(const struct farm *f, const struct server *s,
    const struct mxaddr *a, uint16_t port, const struct frontend *from,
    const struct frontend *fe, struct errs *e)
{
	char host[ADDR_STRLEN], via[96] = "";

	addr_format(a, host, sizeof host);
	if (from != NULL)
		snprintf(via, sizeof via, " (the port of frontend %s)",
		    from->name);
	errs_add(e, "farm %s: server %s: connects to %s port %u%s, where "
	    "frontend %s listens: every session would loop back into this "
	    "zone (give the server another address or port)", f->name,
	    server_name(s), host, port, via, fe->name);
}

/* The server takes each port of frontend `from`: is one of them a loop? */
static bool
inherited_loop(const struct config *c, const struct farm *f,
    const struct server *s, const struct mxaddr *a,
    const struct frontend *from, struct errs *e)
{
	const struct frontend *fe;

	for (size_t r = 0; r < from->bind.n; r++)
		for (uint32_t p = from->bind.v[r].lo; p <= from->bind.v[r].hi;
		    p++)
			if ((fe = frontend_at(c, a, (uint16_t)p)) != NULL) {
				loop_error(f, s, a, (uint16_t)p, from, fe, e);
				return true;
			}
	return false;
}

/*
 * A server that is one of the zone's own frontends makes each session
 * connect to the engine again, which connects again, until descriptors
 * run out.  Without a port of its own (server or farm), a server takes
 * the port each frontend of its farm was reached on.
 */
static void
check_server_loop(const struct config *c, const struct farm *f,
    const struct server *s, struct errs *e)
{
	const struct frontend *fe;
	struct mxaddr a;

	if (s->address.family == 0)
		return;
	a = addr_plain(&s->address);
	if (FIELD_ISSET(&server_fields, s, "port") ||
	    FIELD_ISSET(&farm_fields, f, "port")) {
		long port = FIELD_ISSET(&server_fields, s, "port") ? s->port :
		    f->port;
		if ((fe = frontend_at(c, &a, (uint16_t)port)) != NULL)
			loop_error(f, s, &a, (uint16_t)port, NULL, fe, e);
		return;
	}
	for (size_t i = 0; i < c->nfrontends; i++) {
		const struct frontend *from = c->frontends[i];
		if (from->farm != NULL && strcmp(from->farm, f->name) == 0 &&
		    inherited_loop(c, f, s, &a, from, e))
			return;
	}
}

static void
check_loops(const struct config *c, struct errs *e)
{
	for (size_t i = 0; i < c->nfarms; i++)
		for (size_t j = 0; j < c->farms[i]->nservers; j++)
			check_server_loop(c, c->farms[i],
			    c->farms[i]->servers[j], e);
}

static void
check_frontends(const struct config *c, struct errs *e)
{
	for (size_t i = 0; i < c->nfrontends; i++) {
		const struct frontend *fe = c->frontends[i];
		char *path = xasprintf("frontend %s", fe->name);

		check_required(&frontend_fields, fe, path, e);
		if (fe->farm != NULL && config_farm(c, fe->farm) == NULL)
			errs_add(e, "%s: farm \"%s\" does not exist in zone %s",
			    path, fe->farm, c->zone);
		for (size_t j = 0; j < i; j++) {
			const struct frontend *o = c->frontends[j];
			if (strcmp(o->name, fe->name) == 0)
				errs_add(e, "%s: defined twice", path);
			else if (listen_overlap(o, fe))
				errs_add(e, "%s: listens on an address and port "
				    "that frontend %s already has", path,
				    o->name);
		}
		free(path);
	}
}

/* Returns the number of errors added. */
int
config_validate(const struct config *c, struct errs *e)
{
	size_t before = e->n;

	/* Object names are checked as they are parsed; a missing zone is
	 * reported by whoever read the config. */
	if (*c->zone != '\0' && !name_valid(c->zone))
		errs_add(e, "zone \"%s\": name must be " NAME_RULE,
		    c->zone);
	check_farms(c, e);
	check_frontends(c, e);
	check_loops(c, e);
	return (int)(e->n - before);
}
