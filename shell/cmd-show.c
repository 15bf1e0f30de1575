/* show zones | farms | servers | frontends | running | candidate | diff |
 * history | stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"
#include "edit.h"
#include "proto.h"

/* The shell's view of each zone: the engine's word and the pending edits. */
static int
zones_json(struct shell *sh)
{
	json_t *all = json_array(), *o;

	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		o = json_pack("{s:s,s:s,s:I,s:I}", "zone", z->name, "engine",
		    z->up ? "up" : "down", "version", (json_int_t)z->live,
		    "pending", (json_int_t)zone_changes(z));
		if (!z->up)
			json_object_set_new(o, "why", json_string(z->why));
		json_array_append_new(all, o);
	}
	shell_json_print(sh, all);
	return 0;
}

static int
show_zones(struct shell *sh, const struct parsed *p)
{
	if (shell_sync(sh, NULL) == -1 && sh->unseen[0] != '\0')
		fprintf(stderr, "%% %s\n", sh->unseen);	/* no zone seen */
	if (parsed_has(p, "json"))
		return zones_json(sh);
	fprintf(sh->out, "%-16s %-8s %8s %8s\n", "ZONE", "ENGINE", "VERSION",
	    "PENDING");
	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		size_t n = zone_changes(z);
		fprintf(sh->out, "%-16s %-8s %8llu %8zu%s%s\n", z->name,
		    z->up ? "up" : "down", (unsigned long long)z->live, n,
		    z->up ? "" : "  ", z->up ? "" : z->why);
	}
	return 0;
}

const struct cmd_entry cmd_show_zones = {
	.words = { "show", "zones" },
	.help = "each zone: engine up or down, running version, pending changes",
	.flags = CMD_JSON,
	.exec = show_zones,
	.example = "show zones",
};

/* The candidate's farms or frontends, each as in the config file, with
 * its zone. */
static int
objects_json(struct shell *sh, const char *key)
{
	json_t *all = json_array(), *c, *o;
	size_t j;

	for (size_t i = 0; i < sh->nzones; i++) {
		c = config_to_json(sh->zones[i]->cand);
		json_array_foreach(json_object_get(c, key), j, o) {
			json_object_set_new(o, "zone",
			    json_string(sh->zones[i]->name));
			json_array_append(all, o);
		}
		json_decref(c);
	}
	shell_json_print(sh, all);
	return 0;
}

static int
show_farms(struct shell *sh, const struct parsed *p)
{
	if (parsed_has(p, "json"))
		return objects_json(sh, "farms");
	fprintf(sh->out, "%-16s %-12s %-10s %-6s %7s\n", "FARM", "ZONE",
	    "BALANCE", "PROBE", "SERVERS");
	for (size_t i = 0; i < sh->nzones; i++) {
		struct config *c = sh->zones[i]->cand;
		for (size_t j = 0; j < c->nfarms; j++) {
			struct farm *f = c->farms[j];
			char *bal = field_format(fieldset_find(&farm_fields,
			    "balance"), f);
			char *pr = field_format(fieldset_find(&farm_fields,
			    "probe"), f);
			fprintf(sh->out, "%-16s %-12s %-10s %-6s %7zu\n",
			    f->name, c->zone, bal, pr, f->nservers);
			free(bal);
			free(pr);
		}
	}
	return 0;
}

const struct cmd_entry cmd_show_farms = {
	.words = { "show", "farms" },
	.help = "the farms of every zone (candidate)",
	.flags = CMD_JSON,
	.exec = show_farms,
	.example = "show farms",
};

/* The engine's view of a server: admin and probe state, check, sessions. */
static json_t *
server_stats(json_t *stats, const char *farm, const char *server)
{
	json_t *farms = json_object_get(stats, K_FARMS), *f, *s;
	size_t i, j;

	json_array_foreach(farms, i, f) {
		if (strcmp(json_string_value(json_object_get(f, K_NAME)), farm))
			continue;
		json_array_foreach(json_object_get(f, K_SERVERS), j, s)
			if (!strcmp(json_string_value(json_object_get(s, K_NAME)),
			    server))
				return s;
	}
	return NULL;
}

/* The weight, and while slow start or the agent changes it, the weight
 * balancing uses now before it: "3/10". */
static void
server_weight_cell(char *buf, size_t len, const struct server *s,
    json_t *st)
{
	json_t *ew = st ? json_object_get(st, K_EFF_WEIGHT) : NULL;

	if (json_is_integer(ew) && json_integer_value(ew) != s->weight &&
	    json_is_true(json_object_get(st, K_AVAILABLE)))
		snprintf(buf, len, "%lld/%ld",
		    (long long)json_integer_value(ew), s->weight);
	else
		snprintf(buf, len, "%ld", s->weight);
}

/* Beside the last check: the agent's last reply and the MX's queue. */
static char *
server_agent_cell(json_t *st)
{
	json_t *text = st ? json_object_get(st, K_AGENT_TEXT) : NULL;
	json_t *q = st ? json_object_get(st, K_MX_QUEUE) : NULL;
	char *t, *cell;

	if (!json_is_string(text))
		return xstrdup("");
	t = str_escape(json_string_value(text));
	if (json_is_integer(q))
		cell = xasprintf("  | agent: %s | mx queue %lld", t,
		    (long long)json_integer_value(q));
	else
		cell = xasprintf("  | agent: %s", t);
	free(t);
	return cell;
}

static void
server_row(struct shell *sh, const struct farm *f, const struct server *s,
    json_t *stats, const char *none)
{
	json_t *st = stats ? server_stats(stats, f->name, server_name(s)) :
	    NULL;
	char a[ADDR_STRLEN], addr[ADDR_STRLEN + 8];

	addr_format(&s->address, a, sizeof a);
	if (field_isset(&server_fields, s, fieldset_find(&server_fields,
	    "port")))
		snprintf(addr, sizeof addr, s->address.family == AF_INET6 ?
		    "[%s]:%ld" : "%s:%ld", a, s->port);
	else
		snprintf(addr, sizeof addr, "%s", a);
	/* The engine's words, and a server's banner: escaped, never raw. */
	char *admin = str_escape(st ? json_string_value(json_object_get(st,
	    K_ADMIN)) : "-");
	char *state = str_escape(st ? json_string_value(json_object_get(st,
	    K_STATE)) : "-");
	char *check = str_escape(st ? json_string_value(json_object_get(st,
	    K_CHECK_TEXT)) : none);

	char weight[32], *agent = server_agent_cell(st);

	server_weight_cell(weight, sizeof weight, s, st);
	fprintf(sh->out, "%-12s %-14s %-22s %7s %4ld%s %-9s %-9s %-9s %5lld  "
	    "%s%s\n", f->name, server_name(s), addr, weight, s->priority,
	    s->backup ? "b" : " ", admin, state,
	    transport_names[server_transport(s)],
	    st ? counter_json_get(json_object_get(st, K_COUNTERS),
	    CNT_SESSIONS_CUR) : 0LL, check, agent);
	free(agent);
	free(admin);
	free(state);
	free(check);
}

/* Each server: its config (the candidate's) and what its engine says of
 * it (null when the engine is down or the server is not applied yet). */
static void
servers_json(struct zone *z, const struct parsed *p, json_t *stats,
    json_t *all)
{
	json_t *c = config_to_json(z->cand), *f, *s, *st;
	size_t i, k;

	json_array_foreach(json_object_get(c, "farms"), i, f) {
		const struct farm *cf = z->cand->farms[i];
		if (p->args[0] && strcmp(p->args[0], cf->name))
			continue;
		json_array_foreach(json_object_get(f, "servers"), k, s) {
			const char *name = server_name(cf->servers[k]);
			st = stats ? server_stats(stats, cf->name, name) : NULL;
			json_array_append_new(all, json_pack("{s:s,s:s,s:s,s:O,"
			    "s:O}", "zone", z->name, "farm", cf->name, "server",
			    name, "config", s, "engine", st ? st : json_null()));
		}
	}
	json_decref(c);
}

static int
show_servers(struct shell *sh, const struct parsed *p)
{
	char err[256];
	json_t *all = parsed_has(p, "json") ? json_array() : NULL;

	if (all != NULL) {
		for (size_t i = 0; i < sh->nzones; i++) {
			json_t *stats = engine_call(sh->zones[i], json_pack(
			    "{s:s}", K_CMD, CMD_STATS), err, sizeof err);
			servers_json(sh->zones[i], p, stats, all);
			json_decref(stats);
		}
		shell_json_print(sh, all);
		return 0;
	}
	fprintf(sh->out, "%-12s %-14s %-22s %7s %5s %-9s %-9s %-9s %5s  %s\n",
	    "FARM", "SERVER", "ADDRESS", "WEIGHT", "PRIO", "ADMIN", "STATE",
	    "TRANSPORT", "SESS", "LAST CHECK");
	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		json_t *stats = engine_call(z, json_pack("{s:s}", K_CMD,
		    CMD_STATS), err, sizeof err);
		for (size_t j = 0; j < z->cand->nfarms; j++) {
			struct farm *f = z->cand->farms[j];
			if (p->args[0] && strcmp(p->args[0], f->name))
				continue;
			for (size_t k = 0; k < f->nservers; k++)
				server_row(sh, f, f->servers[k], stats, z->up ?
				    "(not applied)" : "(engine down)");
		}
		json_decref(stats);
	}
	return 0;
}

const struct cmd_entry cmd_show_servers = {
	.words = { "show", "servers" },
	.help = "servers with their admin and probe state and sessions",
	.args = { { A_FARM, "FARM", "only this farm", true } },
	.flags = CMD_JSON,
	.exec = show_servers,
	.example = "show servers mx",
};

static int
show_frontends(struct shell *sh, const struct parsed *p)
{
	if (parsed_has(p, "json"))
		return objects_json(sh, "frontends");
	fprintf(sh->out, "%-16s %-12s %-16s %-16s %s\n", "FRONTEND", "ZONE",
	    "BIND", "FARM", "ADDRESS");
	for (size_t i = 0; i < sh->nzones; i++) {
		struct config *c = sh->zones[i]->cand;
		for (size_t j = 0; j < c->nfrontends; j++) {
			struct frontend *fe = c->frontends[j];
			char *b = portlist_format(&fe->bind);
			char *a = field_format(fieldset_find(&frontend_fields,
			    "address"), fe);
			fprintf(sh->out, "%-16s %-12s %-16s %-16s %s%s\n",
			    fe->name, c->zone, b, fe->farm, *a ? a : "all",
			    fe->disabled ? " (disabled)" : "");
			free(a);
			free(b);
		}
	}
	return 0;
}

const struct cmd_entry cmd_show_frontends = {
	.words = { "show", "frontends" },
	.help = "the frontends of every zone (candidate)",
	.flags = CMD_JSON,
	.exec = show_frontends,
	.example = "show frontends",
};

static void
session_row(struct shell *sh, json_t *v)
{
	char *f[6], *src;
	static const char *const keys[] = { K_CLIENT, K_FRONTEND, K_FARM,
	    K_SERVER, K_TRANSPORT, K_STATE };

	/* A remote engine's words are escaped like any peer text. */
	for (size_t i = 0; i < nitems(keys); i++)
		f[i] = str_escape(json_string_value(json_object_get(v, keys[i])));
	fprintf(sh->out, "%-40s %-14s %-12s %-14s %-9s %-11s %7.1f %7.1f "
	    "%10lld %10lld", f[0], f[1], f[2], f[3], f[4], f[5],
	    json_real_value(json_object_get(v, K_AGE)),
	    json_real_value(json_object_get(v, K_WAIT)),
	    (long long)json_integer_value(json_object_get(v, K_BYTES_IN)),
	    (long long)json_integer_value(json_object_get(v, K_BYTES_OUT)));
	for (size_t i = 0; i < nitems(keys); i++)
		free(f[i]);
	/* Where the server sees it come from: a column of its own. */
	src = str_escape(json_string_value(json_object_get(v, K_SOURCE)));
	fprintf(sh->out, " %s\n", src);
	free(src);
}

static int
sessions_one(struct shell *sh, struct zone *z, const struct parsed *p,
    json_t *all)
{
	json_t *req = json_pack("{s:s}", K_CMD, CMD_SESSIONS), *res, *v;
	size_t i;

	if (p->args[0] != NULL)
		json_object_set_new(req, K_FARM, json_string(p->args[0]));
	if (p->args[1] != NULL)
		json_object_set_new(req, K_SERVER, json_string(p->args[1]));
	if ((res = engine_call(z, req, sh->err, sizeof sh->err)) == NULL)
		return -1;
	if (all != NULL) {
		json_object_set_new(res, K_ZONE, json_string(z->name));
		json_array_append_new(all, res);
		return 0;
	}
	json_array_foreach(json_object_get(res, K_SESSIONS), i, v)
		session_row(sh, v);
	if (json_integer_value(json_object_get(res, K_MORE)) > 0)
		fprintf(sh->out, "... and %lld more in zone %s (%lld in all)\n",
		    (long long)json_integer_value(json_object_get(res, K_MORE)),
		    z->name,
		    (long long)json_integer_value(json_object_get(res, K_TOTAL)));
	json_decref(res);
	return 0;
}

static int
show_sessions(struct shell *sh, const struct parsed *p)
{
	struct zone *only = NULL;
	json_t *all;
	int rc = 0;
	char *s;

	/* A farm in several zones: each of them, unless the zone is said. */
	if (parsed_has(p, "zone") && p->args[0] != NULL &&
	    (only = farm_find(sh, p->args[0], parsed_opt(p, "zone"), NULL)) ==
	    NULL)
		return -1;
	if (parsed_has(p, "zone") && p->args[0] == NULL)
		only = shell_zone(sh, parsed_opt(p, "zone"));
	all = parsed_has(p, "json") ? json_array() : NULL;

	if (all == NULL)
		fprintf(sh->out, "%-40s %-14s %-12s %-14s %-9s %-11s %7s %7s "
		    "%10s %10s %s\n", "CLIENT", "FRONTEND", "FARM", "SERVER",
		    "TRANSPORT", "STATE", "AGE", "WAIT", "BYTES-IN", "BYTES-OUT",
		    "SOURCE");
	for (size_t i = 0; i < sh->nzones && rc == 0; i++) {
		struct zone *z = sh->zones[i];
		if ((only != NULL && z != only) || (only == NULL && (!z->up ||
		    (p->args[0] != NULL && config_farm(z->cand, p->args[0]) ==
		    NULL))))
			continue;
		rc = sessions_one(sh, z, p, all);
	}
	if (all != NULL) {
		s = json_dumps(all, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
		fprintf(sh->out, "%s\n", s);
		free(s);
		json_decref(all);
	}
	return rc;
}

static const struct opt sessions_opts[] = {
	{ "zone", A_ZONE, "ZONE", "only this zone (where the farm's name is in "
	  "more than one)", false },
	{ NULL, A_NONE, NULL, NULL, false }
};

const struct cmd_entry cmd_show_sessions = {
	.words = { "show", "sessions" },
	.help = "who is connected and who waits in each server's queue now "
	    "(the first 1000 per zone)",
	.args = { { A_FARM, "FARM", "only this farm", true },
		  { A_SERVER, "SERVER", "only this server of the farm", true } },
	.opts = sessions_opts,
	.flags = CMD_ENGINE | CMD_JSON,
	.exec = show_sessions,
	.example = "show sessions mx mx1",
};
