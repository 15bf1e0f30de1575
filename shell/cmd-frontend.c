/* frontend add, frontend bind, frontend set, no frontend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"

static const struct opt zone_opt[] = {
	{ "zone", A_ZONE, "ZONE", "the zone (engine) that listens", false },
	{ NULL, A_NONE, NULL, NULL, false }
};
static const char *const add_required[] = { "zone", "bind", "farm", NULL };

/* The farm in the same zone, and no address and port twice. */
static int
frontend_check(struct shell *sh, struct zone *z, struct frontend *fe,
    const struct frontend *self)
{
	struct config tmp = *z->cand;
	struct frontend *v[2] = { NULL, NULL };
	struct errs e = { NULL, 0 };

	if (fe->farm == NULL || fe->bind.n == 0)
		return shell_error(sh, "frontend %s: %s is required", fe->name,
		    fe->farm == NULL ? "farm" : "bind");
	/* A frontend's farm is the one of that name in its own zone. */
	if (config_farm(z->cand, fe->farm) == NULL) {
		for (size_t i = 0; i < sh->nzones; i++)
			if (config_farm(sh->zones[i]->cand, fe->farm) != NULL)
				return shell_error(sh, "frontend %s: farm %s is "
				    "in zone %s, not %s (a frontend's farm is in "
				    "its zone)", fe->name, fe->farm,
				    sh->zones[i]->name, z->name);
		return shell_error(sh, "frontend %s: farm %s does not exist",
		    fe->name, fe->farm);
	}
	for (size_t i = 0; i < z->cand->nfrontends; i++) {
		if (z->cand->frontends[i] == self)
			continue;
		/* The engine's own check, on this pair. */
		v[0] = z->cand->frontends[i];
		v[1] = fe;
		tmp.frontends = v;
		tmp.nfrontends = 2;
		tmp.nfarms = 0;
		config_validate(&tmp, &e);
		for (size_t j = 0; j < e.n; j++)
			if (strstr(e.v[j], "listens on") != NULL) {
				shell_error(sh, "%s", e.v[j]);
				errs_free(&e);
				return -1;
			}
		errs_free(&e);
	}
	return 0;
}

static int
frontend_add(struct shell *sh, const struct parsed *p)
{
	struct zone *z;
	struct frontend *fe;

	if ((z = zone_for_edit(sh, parsed_opt(p, "zone"), sh->err,
	    sizeof sh->err)) == NULL ||
	    name_free(sh, z, p->args[0], sh->err, sizeof sh->err) == -1)
		return -1;
	fe = frontend_new(p->args[0]);
	if (attrs_apply(&frontend_fields, fe, p, sh->err, sizeof sh->err) ==
	    -1 || frontend_check(sh, z, fe, NULL) == -1) {
		object_free(&frontend_fields, fe);
		return -1;
	}
	config_add_frontend(z->cand, fe);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_frontend_add = {
	.words = { "frontend", "add" },
	.help = "create a frontend: where clients connect, and to which farm",
	.args = { { A_NEWNAME, "NAME", "name of the new frontend", false } },
	.opts = zone_opt,
	.attrs = &frontend_fields,
	.required = add_required,
	.flags = CMD_EDIT,
	.exec = frontend_add,
	.example = "frontend add smtp zone inbound bind 25 farm mx",
};

static int
frontend_change(struct shell *sh, const struct parsed *p, const char *ports)
{
	struct frontend *fe = NULL, *tmp;
	struct zone *z = frontend_find(sh, p->args[0], parsed_opt(p, "zone"),
	    &fe);
	const struct field *bind = fieldset_find(&frontend_fields, "bind");
	int rc;

	if (z == NULL)
		return -1;
	tmp = object_dup(&frontend_fields, fe);
	rc = attrs_apply(&frontend_fields, tmp, p, sh->err, sizeof sh->err);
	if (rc == 0 && ports != NULL)
		rc = field_parse(&frontend_fields, tmp, bind, ports, sh->err,
		    sizeof sh->err);
	if (rc == 0)
		rc = frontend_check(sh, z, tmp, fe);
	if (rc == 0) {
		/* Checked on the copy: now the real one, which cannot fail. */
		attrs_apply(&frontend_fields, fe, p, sh->err, sizeof sh->err);
		if (ports != NULL)
			field_parse(&frontend_fields, fe, bind, ports, sh->err,
			    sizeof sh->err);
		zone_record(z, sh->line);
	}
	object_free(&frontend_fields, tmp);
	return rc;
}

static int
frontend_bind(struct shell *sh, const struct parsed *p)
{
	return frontend_change(sh, p, p->args[1]);
}

const struct cmd_entry cmd_frontend_bind = {
	.words = { "frontend", "bind" },
	.help = "set the ports a frontend listens on",
	.args = { { A_FRONTEND, "FRONTEND", "the frontend", false },
		  { A_PORTS, "PORTS", "ports: 25 or 25,587 or 2500-2510",
		    false } },
	.opts = zone_which_opt,
	.flags = CMD_EDIT,
	.exec = frontend_bind,
	.example = "frontend bind smtp 25,587",
};

static int
frontend_set(struct shell *sh, const struct parsed *p)
{
	if (p->nopts == (parsed_has(p, "zone") ? 1U : 0U))
		return shell_error(sh, "frontend set: which attributes?");
	return frontend_change(sh, p, NULL);
}

const struct cmd_entry cmd_frontend_set = {
	.words = { "frontend", "set" },
	.help = "change a frontend's attributes (no ATTRIBUTE resets one)",
	.args = { { A_FRONTEND, "FRONTEND", "the frontend", false } },
	.opts = zone_which_opt,
	.attrs = &frontend_fields,
	.flags = CMD_EDIT | CMD_ATTR_NO,
	.exec = frontend_set,
	.example = "frontend set smtp source-maxconn 20 no disabled",
};

static int
frontend_del(struct shell *sh, const struct parsed *p)
{
	struct zone *z = frontend_find(sh, p->args[0], parsed_opt(p, "zone"),
	    NULL);

	if (z == NULL)
		return -1;
	config_remove_frontend(z->cand, p->args[0]);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_no_frontend = {
	.words = { "no", "frontend" },
	.help = "delete a frontend (its sessions run to their end)",
	.args = { { A_FRONTEND, "FRONTEND", "the frontend", false } },
	.opts = zone_which_opt,
	.flags = CMD_EDIT,
	.exec = frontend_del,
	.example = "no frontend smtp",
};
