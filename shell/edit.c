/* Helpers shared by the editing commands (cmd-farm.c, cmd-server.c,
 * cmd-frontend.c): attributes onto objects, and the checks the engine
 * would make, done as the operator types. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"

/* Sets (or, after `no`, resets) every attribute given; on error the
 * object may be half-changed: callers work on a copy. */
int
attrs_apply(const struct fieldset *fs, void *obj, const struct parsed *p,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < p->nopts; i++) {
		const struct field *f = p->opts[i].field;
		if (f == NULL || fieldset_find(fs, f->key) != f)
			continue;
		if (p->opts[i].no)
			field_reset(fs, obj, f);
		else if (field_parse(fs, obj, f, f->type == FT_FLAG ? "true" :
		    p->opts[i].val, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* Farm and frontend names are unique within their zone (each zone is
 * one engine, with its own config); the same name may be used in another
 * zone, and then commands name the zone (farm_find). */
int
name_free(struct shell *sh, struct zone *z, const char *name, char *err,
    size_t errlen)
{
	(void)sh;
	if (config_farm(z->cand, name) != NULL)
		snprintf(err, errlen, "farm %s already exists (zone %s)", name,
		    z->name);
	else if (config_frontend(z->cand, name) != NULL)
		snprintf(err, errlen, "frontend %s already exists (zone %s)",
		    name, z->name);
	else
		return 0;
	return -1;
}

/* "z1, z2 and z3": the zones that have a farm (or frontend) so named. */
static size_t
zones_with(struct shell *sh, const char *name, bool farm, char *list,
    size_t len, struct zone **first)
{
	size_t n = 0, total = 0;

	for (size_t i = 0; i < sh->nzones; i++) {
		struct config *c = sh->zones[i]->cand;
		if (farm ? config_farm(c, name) == NULL :
		    config_frontend(c, name) == NULL)
			continue;
		if (total++ == 0)
			*first = sh->zones[i];
	}
	list[0] = '\0';
	for (size_t i = 0; i < sh->nzones; i++) {
		struct config *c = sh->zones[i]->cand;
		size_t off = strlen(list);
		if (farm ? config_farm(c, name) == NULL :
		    config_frontend(c, name) == NULL)
			continue;
		n++;
		snprintf(list + off, len - off, "%s%s", n == 1 ? "" : n ==
		    total ? " and " : ", ", sh->zones[i]->name);
	}
	return total;
}

const struct opt zone_which_opt[] = {
	{ "zone", A_ZONE, "ZONE", "the zone, where the name is in more than one",
	  false },
	{ NULL, A_NONE, NULL, NULL, false }
};

/*
 * The zone of a farm or frontend named in a command.  Where the name is
 * in one zone, that zone; where it is in several, the command's `zone`
 * word says which, and without it the command is refused with the list.
 */
static struct zone *
object_zone(struct shell *sh, const char *name, const char *zone, bool farm)
{
	const char *what = farm ? "farm" : "frontend";
	struct zone *z = NULL;
	char list[512];
	size_t n = zones_with(sh, name, farm, list, sizeof list, &z);

	if (zone != NULL) {
		z = shell_zone(sh, zone);
		if (z != NULL && (farm ? config_farm(z->cand, name) != NULL :
		    config_frontend(z->cand, name) != NULL))
			return z;
		shell_error(sh, "zone %s has no %s %s%s%s", zone, what, name,
		    n ? " (it is in zone " : "", n ? list : "");
		if (n)
			strncat(sh->err, ")", sizeof sh->err - strlen(sh->err)
			    - 1);
		return NULL;
	}
	if (n == 1)
		return z;
	if (n == 0)
		shell_error(sh, "no %s %s", what, name);
	else
		shell_error(sh, "%s %s is in zones %s: say which with 'zone "
		    "ZONE' after the names (as in '... %s zone %s')", what,
		    name, list, name, z->name);
	return NULL;
}

struct zone *
farm_find(struct shell *sh, const char *name, const char *zone,
    struct farm **fp)
{
	struct zone *z = object_zone(sh, name, zone, true);

	if (z != NULL && fp != NULL)
		*fp = config_farm(z->cand, name);
	return z;
}

struct zone *
frontend_find(struct shell *sh, const char *name, const char *zone,
    struct frontend **fp)
{
	struct zone *z = object_zone(sh, name, zone, false);

	if (z != NULL && fp != NULL)
		*fp = config_frontend(z->cand, name);
	return z;
}

/* Runs the engine's own validation on a zone's candidate. */
int
zone_check(struct zone *z, char *err, size_t errlen)
{
	struct errs e = { NULL, 0 };
	size_t off = 0;

	if (config_validate(z->cand, &e) == 0)
		return 0;
	for (size_t i = 0; i < e.n && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s%s",
		    i ? "; " : "", e.v[i]);
	errs_free(&e);
	return -1;
}

/* A zone name the shell has no engine for: say how to start one. */
struct zone *
zone_for_edit(struct shell *sh, const char *name, char *err, size_t errlen)
{
	struct zone *z = shell_zone(sh, name);

	if (z == NULL)
		snprintf(err, errlen, "zone %s has no engine: start one with "
		    "'mxlbd -z %s' (or 'systemctl start mxlbd@%s'); zones are "
		    "found in %s", name, name, name, sh->rundir);
	return z;
}
