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
		free(path);
	}
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
 * one is the wildcard (0.0.0.0, ::) of the other's family. */
static bool
addr_clash(const struct mxaddr *a, const struct mxaddr *b)
{
	if (a->family != b->family)
		return false;
	return addr_unspecified(a) || addr_unspecified(b) ||
	    addr_cmp(a, b) == 0;
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
		for (size_t j = 0; j < b->address.n; j++)
			if (addr_clash(&a->address.v[i], &b->address.v[j]))
				return true;
	return false;
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
		errs_add(e, "zone \"%s\": name must be 1-63 of A-Z a-z 0-9 _ . -",
		    c->zone);
	check_farms(c, e);
	check_frontends(c, e);
	return (int)(e->n - before);
}
