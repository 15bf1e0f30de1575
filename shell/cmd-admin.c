/* server drain | maint | ready: a server's admin state, not config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "names.h"
#include "proto.h"

static const struct opt wait_opt[] = {
	{ "wait", A_SEC, "SEC", "return when its sessions reach 0 (at most SEC)",
	  true },
	{ "zone", A_ZONE, "ZONE", "the zone, where the name is in more than one",
	  false },
	{ NULL, A_NONE, NULL, NULL, false }
};

static int
admin_set(struct shell *sh, const struct parsed *p, const char *state)
{
	struct zone *z = farm_find(sh, p->args[0], parsed_opt(p, "zone"), NULL);
	const char *wait = parsed_opt(p, "wait");
	long secs = wait ? atol(wait) : 0;
	json_t *res;

	if (z == NULL)
		return -1;
	res = engine_call(z, json_pack("{s:s,s:s,s:s,s:s}", K_CMD, CMD_ADMIN,
	    K_FARM, p->args[0], K_SERVER, p->args[1], K_STATE, state), sh->err,
	    sizeof sh->err);
	if (res == NULL)
		return -1;
	json_decref(res);
	fprintf(sh->out, "server %s/%s: %s\n", p->args[0], p->args[1], state);
	if (!parsed_has(p, "wait"))
		return 0;
	res = engine_call_timeout(z, json_pack("{s:s,s:s,s:s,s:I}", K_CMD,
	    CMD_WAIT, K_FARM, p->args[0], K_SERVER, p->args[1], K_TIMEOUT,
	    (json_int_t)secs), secs > 0 ? (int)(secs + 5) * 1000 : 24 * 3600000,
	    sh->err, sizeof sh->err);
	if (res == NULL)
		return -1;
	json_decref(res);
	fprintf(sh->out, "server %s/%s: no session left\n", p->args[0],
	    p->args[1]);
	return 0;
}

static int
drain(struct shell *sh, const struct parsed *p)
{
	return admin_set(sh, p, admin_names[ADMIN_DRAIN]);
}

static int
maint(struct shell *sh, const struct parsed *p)
{
	return admin_set(sh, p, admin_names[ADMIN_MAINT]);
}

static int
ready(struct shell *sh, const struct parsed *p)
{
	return admin_set(sh, p, admin_names[ADMIN_READY]);
}

#define ADMIN_ARGS { { A_FARM, "FARM", "the farm", false }, \
	{ A_SERVER, "SERVER", "the server", false } }

const struct cmd_entry cmd_server_drain = {
	.words = { "server", ADMIN_WORD_DRAIN },
	.help = "take no new sessions; current ones finish (kept across "
	    "restarts)",
	.args = ADMIN_ARGS,
	.opts = wait_opt,
	.flags = CMD_ENGINE,
	.exec = drain,
	.example = "server drain mx mx1 wait 600",
};

const struct cmd_entry cmd_server_maint = {
	.words = { "server", ADMIN_WORD_MAINT },
	.help = "maintenance: no new sessions, not counted as available",
	.args = ADMIN_ARGS,
	.opts = wait_opt,
	.flags = CMD_ENGINE,
	.exec = maint,
	.example = "server maint mx mx1",
};

const struct cmd_entry cmd_server_ready = {
	.words = { "server", ADMIN_WORD_READY },
	.help = "back in service after drain or maint",
	.args = ADMIN_ARGS,
	.opts = zone_which_opt,
	.flags = CMD_ENGINE,
	.exec = ready,
	.example = "server ready mx mx1",
};
