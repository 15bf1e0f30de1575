/* show zones | farms | servers | frontends | running | candidate | diff |
 * history | stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edit.h"
#include "proto.h"

static int
show_zones(struct shell *sh, const struct parsed *p)
{
	(void)p;
	if (shell_sync(sh, NULL) == -1 && sh->unseen[0] != '\0')
		fprintf(stderr, "%% %s\n", sh->unseen);	/* no zone seen */
	fprintf(sh->out, "%-16s %-8s %8s %8s\n", "ZONE", "ENGINE", "VERSION",
	    "PENDING");
	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		size_t n = 0;
		char **a, **b;
		size_t na, nb;
		a = config_script(z->running, &na);
		b = config_script(z->cand, &nb);
		/* Pending changes: the lines that differ. */
		for (size_t x = 0; x < na; x++) {
			size_t y;
			for (y = 0; y < nb && strcmp(a[x], b[y]); y++)
				;
			n += y == nb;
		}
		for (size_t y = 0; y < nb; y++) {
			size_t x;
			for (x = 0; x < na && strcmp(a[x], b[y]); x++)
				;
			n += x == na;
		}
		script_free(a, na);
		script_free(b, nb);
		fprintf(sh->out, "%-16s %-8s %8llu %8zu%s%s\n", z->name,
		    z->up ? "up" : "down", (unsigned long long)z->live, n,
		    z->up ? "" : "  ", z->up ? "" : z->why);
	}
	return 0;
}

const struct cmd_entry cmd_show_zones = {
	.words = { "show", "zones" },
	.help = "each zone: engine up or down, running version, pending changes",
	.exec = show_zones,
	.example = "show zones",
};

static int
show_farms(struct shell *sh, const struct parsed *p)
{
	(void)p;
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
	.exec = show_farms,
	.example = "show farms",
};

/* The engine's view of a server: admin and probe state, check, sessions. */
static json_t *
server_stats(json_t *stats, const char *farm, const char *server)
{
	json_t *farms = json_object_get(stats, "farms"), *f, *s;
	size_t i, j;

	json_array_foreach(farms, i, f) {
		if (strcmp(json_string_value(json_object_get(f, "name")), farm))
			continue;
		json_array_foreach(json_object_get(f, "servers"), j, s)
			if (!strcmp(json_string_value(json_object_get(s, "name")),
			    server))
				return s;
	}
	return NULL;
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
	fprintf(sh->out, "%-12s %-14s %-22s %6ld %4ld%s %-6s %-5s %5lld  %s\n",
	    f->name, server_name(s), addr, s->weight, s->priority,
	    s->backup ? "b" : " ",
	    st ? json_string_value(json_object_get(st, "admin")) : "-",
	    st ? json_string_value(json_object_get(st, "state")) : "-",
	    st ? (long long)json_integer_value(json_object_get(json_object_get(
	    st, "counters"), "sessions_cur")) : 0LL,
	    st ? json_string_value(json_object_get(st, "check_text")) :
	    none);
}

static int
show_servers(struct shell *sh, const struct parsed *p)
{
	char err[256];

	fprintf(sh->out, "%-12s %-14s %-22s %6s %5s %-6s %-5s %5s  %s\n",
	    "FARM", "SERVER", "ADDRESS", "WEIGHT", "PRIO", "ADMIN", "STATE",
	    "SESS", "LAST CHECK");
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
	.exec = show_servers,
	.example = "show servers mx",
};

static int
show_frontends(struct shell *sh, const struct parsed *p)
{
	(void)p;
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
	.exec = show_frontends,
	.example = "show frontends",
};
