/* show running | candidate | diff | history | stats: configs and counters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"
#include "edit.h"
#include "metrics.h"
#include "proto.h"

static const struct opt stats_opts[] = {
	{ "prometheus", A_NONE, NULL, "in Prometheus' text format", false },
	{ NULL, A_NONE, NULL, NULL, false }
};

/* A script that rebuilds the zone: piped into mxlb, it gives the same. */
static void
print_script(struct shell *sh, const struct config *c)
{
	size_t n;
	char **lines = config_script(c, &n);

	fprintf(sh->out, "# zone %s\n", c->zone);
	for (size_t i = 0; i < n; i++)
		fprintf(sh->out, "%s\n", lines[i]);
	fprintf(sh->out, "zone apply %s\n", c->zone);
	script_free(lines, n);
}

static int
show_configs(struct shell *sh, const struct parsed *p, bool running)
{
	json_t *all = json_array();
	char *s;

	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		struct config *c = running ? z->running : z->cand;
		if (running && p->args[0] && strcmp(p->args[0], z->name))
			continue;
		if (parsed_has(p, "json"))
			json_array_append_new(all, config_to_json(c));
		else
			print_script(sh, c);
	}
	/* One zone named: exactly its config file (mxlbd -c, zone export). */
	if (parsed_has(p, "json") && running && p->args[0] != NULL &&
	    json_array_size(all) == 1) {
		s = config_file_text(json_array_get(all, 0));
		fputs(s, sh->out);
		free(s);
	} else if (parsed_has(p, "json")) {
		s = json_dumps(all, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
		fprintf(sh->out, "%s\n", s);
		free(s);
	}
	json_decref(all);
	return 0;
}

static int
show_running(struct shell *sh, const struct parsed *p)
{
	/* What runs now, not what ran when the shell started; nothing when
	 * an engine cannot say. */
	if (shell_sync(sh, p->args[0]) == -1)
		return -1;
	return show_configs(sh, p, true);
}

const struct cmd_entry cmd_show_running = {
	.words = { "show", "running" },
	.help = "the running configs, as a script that rebuilds them",
	.args = { { A_ZONE, "ZONE", "only this zone", true } },
	.flags = CMD_JSON,
	.exec = show_running,
	.example = "show running inbound",
};

static int
show_candidate(struct shell *sh, const struct parsed *p)
{
	return show_configs(sh, p, false);
}

const struct cmd_entry cmd_show_candidate = {
	.words = { "show", "candidate" },
	.help = "the candidate configs, with your edits",
	.flags = CMD_JSON,
	.exec = show_candidate,
	.example = "show candidate",
};

/* A farm or frontend of this zone has a namesake in another zone. */
static bool
names_shared(struct shell *sh, const struct zone *z)
{
	for (size_t i = 0; i < sh->nzones; i++) {
		const struct config *o = sh->zones[i]->cand;
		if (sh->zones[i] == z)
			continue;
		for (size_t j = 0; j < o->nfarms; j++)
			if (config_farm(z->cand, o->farms[j]->name) ||
			    config_farm(z->running, o->farms[j]->name))
				return true;
		for (size_t j = 0; j < o->nfrontends; j++)
			if (config_frontend(z->cand, o->frontends[j]->name) ||
			    config_frontend(z->running, o->frontends[j]->name))
				return true;
	}
	return false;
}

static int
show_diff(struct shell *sh, const struct parsed *p)
{
	json_t *all = parsed_has(p, "json") ? json_array() : NULL, *a;

	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		size_t n;
		char **lines = config_diff(z->running, z->cand,
		    names_shared(sh, z), &n);
		a = json_array();
		for (size_t j = 0; j < n; j++) {
			if (all != NULL)
				json_array_append_new(a, json_string(lines[j]));
			else
				fprintf(sh->out, "%s\n", lines[j]);
		}
		if (all != NULL)
			json_array_append_new(all, json_pack("{s:s,s:I,s:o}",
			    "zone", z->name, "base", (json_int_t)z->base,
			    "changes", a));
		else
			json_decref(a);
		script_free(lines, n);
	}
	if (all != NULL)
		shell_json_print(sh, all);
	return 0;
}

const struct cmd_entry cmd_show_diff = {
	.words = { "show", "diff" },
	.help = "your edits as commands: + added, - removed, set changed",
	.flags = CMD_JSON,
	.exec = show_diff,
	.example = "show diff",
};

static int
history_one(struct shell *sh, struct zone *z)
{
	json_t *res = engine_call(z, json_pack("{s:s}", K_CMD, CMD_HISTORY),
	    sh->err, sizeof sh->err), *v;
	size_t i;

	if (res == NULL)
		return -1;
	fprintf(sh->out, "zone %s\n%9s  %-19s  %-12s %s\n", z->name, "VERSION",
	    "TIME", "USER", "COMMENT");
	json_array_foreach(json_object_get(res, K_VERSIONS), i, v) {
		time_t t = (time_t)json_integer_value(json_object_get(v, K_TIME));
		json_int_t n = json_integer_value(json_object_get(v, K_VERSION));
		char when[32];
		struct tm tm;
		/* User names and comments come from peers: shown, not obeyed. */
		char *user = str_escape(json_string_value(json_object_get(v,
		    K_USER)));
		char *comment = str_escape(json_string_value(json_object_get(v,
		    K_COMMENT)));
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S",
		    localtime_r(&t, &tm));
		fprintf(sh->out, "%c%8lld  %-19s  %-12s %s\n", n ==
		    json_integer_value(json_object_get(res, K_RUNNING)) ? '*' :
		    ' ', (long long)n, when, user, comment);
		free(user);
		free(comment);
	}
	json_decref(res);
	return 0;
}

static int
show_history(struct shell *sh, const struct parsed *p)
{
	json_t *all = parsed_has(p, "json") ? json_array() : NULL, *res;

	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		if (p->args[0] != NULL && strcmp(p->args[0], z->name))
			continue;
		if (all == NULL) {
			if (history_one(sh, z) == -1)
				return -1;
			continue;
		}
		if ((res = engine_call(z, json_pack("{s:s}", K_CMD,
		    CMD_HISTORY), sh->err, sizeof sh->err)) == NULL) {
			json_decref(all);
			return -1;
		}
		json_object_set_new(res, "zone", json_string(z->name));
		json_array_append_new(all, res);
	}
	if (all != NULL)
		shell_json_print(sh, all);
	return 0;
}

const struct cmd_entry cmd_show_history = {
	.words = { "show", "history" },
	.help = "the versions of each zone: time, user, comment (* runs)",
	.args = { { A_ZONE, "ZONE", "only this zone", true } },
	.flags = CMD_ENGINE | CMD_JSON,
	.exec = show_history,
	.example = "show history inbound",
};

static void
stats_human(struct shell *sh, json_t *st)
{
	json_t *f, *s, *c;
	size_t i, j, nw;

	char *zn = str_escape(json_string_value(json_object_get(st, K_ZONE)));

	nw = json_array_size(json_object_get(st, K_WORKERS));
	fprintf(sh->out, "zone %s  pid %lld  up %llds", zn,
	    (long long)json_integer_value(json_object_get(st, K_PID)),
	    (long long)json_integer_value(json_object_get(st, K_UPTIME)));
	/* One event loop is the rule: only more are worth a word. */
	if (nw > 1)
		fprintf(sh->out, "  workers %zu", nw);
	fputc('\n', sh->out);
	free(zn);
	json_array_foreach(json_object_get(st, K_FARMS), i, f) {
		char *fn = str_escape(json_string_value(json_object_get(f,
		    K_NAME)));
		c = json_object_get(f, K_COUNTERS);
		fprintf(sh->out, "  farm %-12s sessions %lld now, %lld total; "
		    "queue %lld; refused %s %lld %s %lld\n", fn,
		    counter_json_get(c, CNT_SESSIONS_CUR),
		    counter_json_get(c, CNT_SESSIONS_TOTAL),
		    counter_json_get(c, CNT_QUEUE_CUR),
		    refusal_names[REFUSE_NO_SERVER],
		    refused_json_get(c, REFUSE_NO_SERVER),
		    refusal_names[REFUSE_QUEUE_TIMEOUT],
		    refused_json_get(c, REFUSE_QUEUE_TIMEOUT));
		free(fn);
		json_array_foreach(json_object_get(f, K_SERVERS), j, s) {
			char *sn = str_escape(json_string_value(json_object_get(s,
			    K_NAME)));
			c = json_object_get(s, K_COUNTERS);
			fprintf(sh->out, "    %-14s %-5s %-5s sessions %lld now, "
			    "%lld total; bytes %lld in, %lld out; connect "
			    "errors %lld\n", sn,
			    json_string_value(json_object_get(s, K_ADMIN)),
			    json_string_value(json_object_get(s, K_STATE)),
			    counter_json_get(c, CNT_SESSIONS_CUR),
			    counter_json_get(c, CNT_SESSIONS_TOTAL),
			    counter_json_get(c, CNT_BYTES_IN),
			    counter_json_get(c, CNT_BYTES_OUT),
			    counter_json_get(c, CNT_CONNECT_FAIL));
			free(sn);
		}
	}
}

static int
show_stats(struct shell *sh, const struct parsed *p)
{
	json_t *all = json_array(), *st;
	char *s;

	for (size_t i = 0; i < sh->nzones; i++) {
		st = engine_call(sh->zones[i], json_pack("{s:s}", K_CMD,
		    CMD_STATS), sh->err, sizeof sh->err);
		if (st == NULL) {
			json_decref(all);
			return -1;
		}
		if (!parsed_has(p, "json") && !parsed_has(p, "prometheus"))
			stats_human(sh, st);
		json_array_append_new(all, st);
	}
	if (parsed_has(p, "json")) {
		s = json_dumps(all, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
		fprintf(sh->out, "%s\n", s);
		free(s);
	} else if (parsed_has(p, "prometheus")) {
		s = metrics_text(all);
		fputs(s, sh->out);
		free(s);
	}
	json_decref(all);
	return 0;
}

const struct cmd_entry cmd_show_stats = {
	.words = { "show", "stats" },
	.help = "the engines' counters",
	.opts = stats_opts,
	.flags = CMD_ENGINE | CMD_JSON,
	.exec = show_stats,
	.example = "show stats json",
};
