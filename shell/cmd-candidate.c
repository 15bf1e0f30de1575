/* discard, update, rollback: the candidate as a whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "proto.h"

static int
discard(struct shell *sh, const struct parsed *p)
{
	(void)p;
	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		config_free(z->cand);
		z->cand = config_dup(z->running);
		zone_edits_clear(z);
	}
	return 0;
}

const struct cmd_entry cmd_discard = {
	.words = { "discard" },
	.help = "drop every edit not applied",
	.exec = discard,
	.example = "discard",
};

/* Re-reads what runs, then replays the operator's edits on it. */
static int
update(struct shell *sh, const struct parsed *p)
{
	char err[1024];
	int rc = 0;

	(void)p;
	shell_discover(sh);
	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		char **edits = z->edits;
		size_t n = z->nedits;
		z->edits = NULL;
		z->nedits = 0;
		if (zone_refresh(sh, z, err, sizeof err) == -1) {
			fprintf(stderr, "update: %s\n", err);
			rc = -1;
		}
		for (size_t j = 0; j < n; j++) {
			if (shell_run_line(sh, edits[j], err, sizeof err) == -1) {
				fprintf(stderr, "update: zone %s: '%s' no longer "
				    "applies: %s\n", z->name, edits[j], err);
				rc = -1;
			}
			free(edits[j]);
		}
		free(edits);
		/* Edits typed are not changes pending: two edits of one
		 * weight are one change; say both, counted as show zones. */
		fprintf(sh->out, "zone %s: version %llu, %zu edit%s replayed, "
		    "%zu change%s pending\n", z->name,
		    (unsigned long long)z->base, z->nedits, z->nedits == 1 ?
		    "" : "s", zone_changes(z), zone_changes(z) == 1 ? "" : "s");
	}
	return rc == -1 ? shell_error(sh, "update: some edits did not replay")
	    : 0;
}

const struct cmd_entry cmd_update = {
	.words = { "update" },
	.help = "re-read the running configs and replay your edits on them",
	.flags = CMD_ENGINE,
	.exec = update,
	.example = "update",
};

static int
rollback(struct shell *sh, const struct parsed *p)
{
	struct zone *z = shell_zone(sh, p->args[0]);
	struct errs e = { NULL, 0 };
	struct config *c;
	json_t *res;

	res = engine_call(z, json_pack("{s:s,s:I}", K_CMD, CMD_GET, K_VERSION,
	    (json_int_t)atoll(p->args[1])), sh->err, sizeof sh->err);
	if (res == NULL)
		return -1;
	c = config_from_json(json_object_get(res, K_CONFIG), &e);
	json_decref(res);
	if (c == NULL) {
		shell_error(sh, "version %s does not load: %s", p->args[1],
		    e.n ? e.v[0] : "?");
		errs_free(&e);
		return -1;
	}
	config_free(z->cand);
	z->cand = c;
	zone_record(z, sh->line);
	fprintf(sh->out, "zone %s: version %s loaded into the candidate; "
	    "'zone apply %s' to run it\n", z->name, p->args[1], z->name);
	return 0;
}

const struct cmd_entry cmd_rollback = {
	.words = { "rollback" },
	.help = "load an earlier version of a zone into the candidate",
	.args = { { A_ZONE, "ZONE", "the zone", false },
		  { A_UINT, "VERSION", "a version from 'show history'", false } },
	.flags = CMD_ENGINE | CMD_EDIT,
	.exec = rollback,
	.example = "rollback inbound 12",
};
