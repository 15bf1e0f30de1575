/* farm add, farm set, no farm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"

static const struct opt zone_opt[] = {
	{ "zone", A_ZONE, "ZONE", "the zone (engine) the farm belongs to", false },
	{ NULL, A_NONE, NULL, NULL, false }
};
static const char *const zone_required[] = { "zone", NULL };

static int
farm_add(struct shell *sh, const struct parsed *p)
{
	struct zone *z;
	struct farm *f;

	if ((z = zone_for_edit(sh, parsed_opt(p, "zone"), sh->err,
	    sizeof sh->err)) == NULL ||
	    name_free(sh, z, p->args[0], sh->err, sizeof sh->err) == -1)
		return -1;
	f = farm_new(p->args[0]);
	if (attrs_apply(&farm_fields, f, p, sh->err, sizeof sh->err) == -1) {
		farm_free(f);
		return -1;
	}
	config_add_farm(z->cand, f);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_farm_add = {
	.words = { "farm", "add" },
	.help = "create a farm: a pool of mail servers and how to use them",
	.args = { { A_NEWNAME, "NAME", "name of the new farm", false } },
	.opts = zone_opt,
	.attrs = &farm_fields,
	.required = zone_required,
	.flags = CMD_EDIT,
	.exec = farm_add,
	.example = "farm add mx zone inbound balance leastconn probe smtp",
};

static int
farm_set(struct shell *sh, const struct parsed *p)
{
	struct farm *f = NULL, *tmp;
	struct zone *z = farm_find(sh, p->args[0], parsed_opt(p, "zone"), &f);
	int rc;

	if (z == NULL)
		return -1;
	if (p->nopts == (parsed_has(p, "zone") ? 1U : 0U))
		return shell_error(sh, "farm set %s: which attributes? (try "
		    "'farm set %s ?')", p->args[0], p->args[0]);
	/* On a copy first: the candidate is unchanged on error. */
	tmp = object_dup(&farm_fields, f);
	rc = attrs_apply(&farm_fields, tmp, p, sh->err, sizeof sh->err);
	object_free(&farm_fields, tmp);
	if (rc == -1)
		return -1;
	attrs_apply(&farm_fields, f, p, sh->err, sizeof sh->err);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_farm_set = {
	.words = { "farm", "set" },
	.help = "change a farm's attributes (no ATTRIBUTE resets one)",
	.args = { { A_FARM, "FARM", "the farm", false } },
	.opts = zone_which_opt,
	.attrs = &farm_fields,
	.flags = CMD_EDIT | CMD_ATTR_NO,
	.exec = farm_set,
	.example = "farm set mx probe-interval 2 no probe-helo",
};

static int
farm_del(struct shell *sh, const struct parsed *p)
{
	struct zone *z = farm_find(sh, p->args[0], parsed_opt(p, "zone"), NULL);

	if (z == NULL)
		return -1;
	for (size_t i = 0; i < z->cand->nfrontends; i++)
		if (strcmp(z->cand->frontends[i]->farm, p->args[0]) == 0)
			return shell_error(sh, "farm %s is used by frontend %s: "
			    "remove or change that first", p->args[0],
			    z->cand->frontends[i]->name);
	config_remove_farm(z->cand, p->args[0]);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_no_farm = {
	.words = { "no", "farm" },
	.help = "delete a farm and its servers",
	.args = { { A_FARM, "FARM", "the farm", false } },
	.opts = zone_which_opt,
	.flags = CMD_EDIT,
	.exec = farm_del,
	.example = "no farm mx",
};
