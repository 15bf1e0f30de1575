/*
 * The in-memory shell of the grammar tests and the shell fuzz harness:
 * two zones as their engines would run them, no engine behind.
 *   inbound:  farm mx (mx1, mx2, and 2001:db8::25 named by its address),
 *             frontend smtp on 25
 *   outbound: farm relay (r1), frontend submission on 587
 * The names are those of the commands' examples, so the examples parse.
 * A fixture that does not build is a bug in the fixture: it aborts.
 */
#ifndef MXLB_SHELL_FIXTURE_H
#define MXLB_SHELL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "shell.h"

static void
fixture_set(const struct fieldset *fs, void *obj, const char *key,
    const char *text)
{
	char err[FIELD_ERRLEN] = "";

	if (field_parse(fs, obj, fieldset_find(fs, key), text, err,
	    sizeof err) != 0) {
		fprintf(stderr, "shell fixture: %s %s: %s\n", key, text, err);
		abort();
	}
}

static struct server *
fixture_server(const char *address, const char *name)
{
	struct mxaddr a;
	char err[FIELD_ERRLEN];
	struct server *s;

	if (addr_parse(&a, address, err, sizeof err) != 0) {
		fprintf(stderr, "shell fixture: %s\n", err);
		abort();
	}
	s = server_new(&a);
	if (name != NULL)
		fixture_set(&server_fields, s, "name", name);
	return s;
}

static struct frontend *
fixture_frontend(const char *name, const char *bind, const char *farm)
{
	struct frontend *fe = frontend_new(name);

	fixture_set(&frontend_fields, fe, "bind", bind);
	fixture_set(&frontend_fields, fe, "farm", farm);
	return fe;
}

static void
fixture_zone(struct shell *sh, struct config *running)
{
	struct zone *z = xcalloc(1, sizeof *z);

	z->name = xstrdup(running->zone);
	z->sock = zone_sock(sh->rundir, z->name);
	z->up = true;
	z->base = 1;
	z->running = running;
	z->cand = config_dup(running);
	*ARRAY_PUSH(sh->zones, sh->nzones) = z;
}

static struct shell *
shell_fixture(const char *rundir)
{
	struct shell *sh = xcalloc(1, sizeof *sh);
	struct config *c;
	struct farm *f;

	sh->rundir = xstrdup(rundir);
	sh->out = stdout;

	c = config_new("inbound");
	f = farm_new("mx");
	farm_add_server(f, fixture_server("192.0.2.10", "mx1"));
	farm_add_server(f, fixture_server("192.0.2.11", "mx2"));
	farm_add_server(f, fixture_server("2001:db8::25", NULL));
	config_add_farm(c, f);
	config_add_frontend(c, fixture_frontend("smtp", "25", "mx"));
	fixture_zone(sh, c);

	c = config_new("outbound");
	f = farm_new("relay");
	farm_add_server(f, fixture_server("198.51.100.1", "r1"));
	config_add_farm(c, f);
	config_add_frontend(c, fixture_frontend("submission", "587", "relay"));
	fixture_zone(sh, c);
	return sh;
}

#endif
