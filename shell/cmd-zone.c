/* zone apply, zone confirm, rollback, discard, update. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "proto.h"

static int
apply_one(struct shell *sh, struct zone *z, const struct parsed *p)
{
	const char *comment = parsed_opt(p, "comment");
	const char *confirmed = parsed_opt(p, "confirmed");
	char err[4096];
	json_t *req, *res;

	if (!zone_pending(z)) {
		fprintf(sh->out, "zone %s: nothing to apply (version %llu "
		    "running)\n", z->name, (unsigned long long)z->base);
		return 0;
	}
	if (zone_check(z, err, sizeof err) == -1)
		return shell_error(sh, "zone %s: %s", z->name, err);
	req = json_pack("{s:s,s:o,s:I,s:s}", K_CMD, CMD_COMMIT, K_CONFIG,
	    config_to_json(z->cand), K_BASE, (json_int_t)z->base, K_COMMENT,
	    comment ? comment : "");
	if (confirmed != NULL)
		json_object_set_new(req, K_CONFIRMED,
		    json_integer(atoll(confirmed)));
	if ((res = engine_call(z, req, err, sizeof err)) == NULL)
		return shell_error(sh, "%s", err);
	z->base = (uint64_t)json_integer_value(json_object_get(res, K_VERSION));
	config_free(z->running);
	z->running = config_dup(z->cand);
	zone_edits_clear(z);
	fprintf(sh->out, "zone %s: version %llu running", z->name,
	    (unsigned long long)z->base);
	if (confirmed != NULL)
		fprintf(sh->out, "; reverted in %s s unless 'zone confirm %s'",
		    confirmed, z->name);
	fputc('\n', sh->out);
	json_decref(res);
	return 0;
}

static int
zone_apply(struct shell *sh, const struct parsed *p)
{
	const char *name = p->args[0];
	int rc = 0, done = 0;

	if (name != NULL && strcmp(name, "all") != 0)
		return apply_one(sh, shell_zone(sh, name), p);
	for (size_t i = 0; i < sh->nzones; i++) {
		if (!zone_pending(sh->zones[i]))
			continue;
		done++;
		if (apply_one(sh, sh->zones[i], p) == -1)
			return -1;
	}
	if (done == 0)
		fprintf(sh->out, "nothing to apply\n");
	return rc;
}

static const struct opt apply_opts[] = {
	{ "comment", A_TEXT, "TEXT", "why, for the history", false },
	{ "confirmed", A_SEC, "SEC",
	  "revert by itself after SEC seconds unless confirmed", false },
	{ NULL, A_NONE, NULL, NULL, false }
};

const struct cmd_entry cmd_zone_apply = {
	.words = { "zone", "apply" },
	.help = "commit the candidate to the zones' engines",
	.args = { { A_ZONE_ALL, "ZONE|all", "one zone, or all with changes "
		    "(the default)", true } },
	.opts = apply_opts,
	.flags = CMD_ENGINE,
	.exec = zone_apply,
	.example = "zone apply inbound comment 'add mx3' confirmed 120",
};

/* The only zone, when there is just one: `zone confirm` needs no name. */
static struct zone *
zone_or_only(struct shell *sh, const char *name)
{
	if (name != NULL)
		return shell_zone(sh, name);
	if (sh->nzones == 1)
		return sh->zones[0];
	shell_error(sh, "which zone? (%zu zones)", sh->nzones);
	return NULL;
}

static int
zone_confirm(struct shell *sh, const struct parsed *p)
{
	struct zone *z = zone_or_only(sh, p->args[0]);
	json_t *res;

	if (z == NULL)
		return -1;
	res = engine_call(z, json_pack("{s:s}", K_CMD, CMD_CONFIRM), sh->err,
	    sizeof sh->err);
	if (res == NULL)
		return -1;
	fprintf(sh->out, "zone %s: version %lld confirmed\n", z->name,
	    (long long)json_integer_value(json_object_get(res, K_VERSION)));
	json_decref(res);
	return 0;
}

const struct cmd_entry cmd_zone_confirm = {
	.words = { "zone", "confirm" },
	.help = "keep a commit made with 'confirmed'",
	.args = { { A_ZONE, "ZONE", "the zone (optional with one zone)",
		    true } },
	.flags = CMD_ENGINE,
	.exec = zone_confirm,
	.example = "zone confirm inbound",
};
