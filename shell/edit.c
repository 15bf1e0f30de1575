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

/* Farm and frontend names are unique across every zone the shell sees,
 * so later commands need no zone. */
int
name_free(struct shell *sh, const char *name, char *err, size_t errlen)
{
	struct zone *z;

	if ((z = zone_of_farm(sh, name, NULL)) != NULL)
		snprintf(err, errlen, "farm %s already exists (zone %s)", name,
		    z->name);
	else if ((z = zone_of_frontend(sh, name, NULL)) != NULL)
		snprintf(err, errlen, "frontend %s already exists (zone %s)",
		    name, z->name);
	else
		return 0;
	return -1;
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
