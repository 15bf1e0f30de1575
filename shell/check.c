/*
 * `mxlb check [ZONE...] [--warn-down N] [--crit-down N]`: a Nagios and
 * Icinga plugin.  One status line with perfdata; exit 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN.  CRITICAL also when an engine does not answer or
 * a farm has no server able to take a session.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "shell.h"

struct tally {
	long	 zones, zones_down, up, down, nolb, unavailable_farms;
	long	 sessions, refused;
	char	 worst[256];
};

static void
tally_zone(struct tally *t, json_t *st)
{
	json_t *f, *s, *r;
	size_t i, j;
	const char *reason;

	json_array_foreach(json_object_get(st, "farms"), i, f) {
		long avail = 0;
		json_array_foreach(json_object_get(f, "servers"), j, s) {
			const char *state = json_string_value(json_object_get(s,
			    "state"));
			if (!strcmp(state, "down")) {
				t->down++;
				snprintf(t->worst, sizeof t->worst, "%s/%s down: "
				    "%.120s", json_string_value(json_object_get(f,
				    "name")), json_string_value(json_object_get(s,
				    "name")), json_string_value(json_object_get(s,
				    "check_text")));
			} else if (!strcmp(state, "nolb"))
				t->nolb++;
			else
				t->up++;
			avail += json_is_true(json_object_get(s, "available"));
		}
		if (avail == 0 && json_array_size(json_object_get(f, "servers")))
			t->unavailable_farms++;
		t->sessions += (long)json_integer_value(json_object_get(
		    json_object_get(f, "counters"), "sessions_cur"));
		json_object_foreach(json_object_get(json_object_get(f,
		    "counters"), "refused"), reason, r)
			t->refused += (long)json_integer_value(r);
	}
}

/* A count of servers: digits only, or -1. */
static long
count_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s >= '0' && *s <= '9' && *end == '\0' && v < 100000 ? v : -1;
}

int
check_main(struct shell *sh, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "warn-down", required_argument, NULL, 'w' },
		{ "crit-down", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct tally t;
	long warn = 1, crit = -1;
	char err[512], th[64];
	int ch, rc;

	memset(&t, 0, sizeof t);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "w:c:", longopts, NULL)) != -1) {
		if ((ch == 'w' || ch == 'c') && count_arg(optarg) >= 0)
			*(ch == 'w' ? &warn : &crit) = count_arg(optarg);
		else {
			printf("MXLB UNKNOWN - usage: mxlb check [ZONE...] "
			    "[--warn-down N] [--crit-down N]\n");
			return 3;
		}
	}
	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		bool want = optind == argc;
		for (int k = optind; k < argc; k++)
			want |= !strcmp(argv[k], z->name);
		if (!want)
			continue;
		json_t *st = engine_call(z, json_pack("{s:s}", K_CMD, CMD_STATS),
		    err, sizeof err);
		t.zones++;
		if (st == NULL) {
			t.zones_down++;
			snprintf(t.worst, sizeof t.worst, "zone %s: engine not "
			    "answering", z->name);
			continue;
		}
		tally_zone(&t, st);
		json_decref(st);
	}
	for (int k = optind; k < argc; k++)
		if (shell_zone(sh, argv[k]) == NULL) {
			t.zones++;
			t.zones_down++;
			snprintf(t.worst, sizeof t.worst, "zone %s: no engine",
			    argv[k]);
		}
	if (t.zones == 0) {
		printf("MXLB UNKNOWN - no zone found in %s\n", sh->rundir);
		return 3;
	}
	if (t.zones_down || t.unavailable_farms || (crit >= 0 && t.down >= crit))
		rc = 2;
	else if (warn >= 0 && t.down >= warn)
		rc = 1;
	else
		rc = 0;
	snprintf(th, sizeof th, "%ld;", warn);
	if (crit >= 0)
		snprintf(th + strlen(th), sizeof th - strlen(th), "%ld", crit);
	printf("MXLB %s - %ld zone%s, %ld server%s up, %ld down, %ld nolb%s%s%s"
	    " | servers_up=%ld servers_down=%ld;%s servers_nolb=%ld "
	    "sessions=%ld refused=%ldc\n", rc == 2 ? "CRITICAL" : rc == 1 ?
	    "WARNING" : "OK", t.zones, t.zones == 1 ? "" : "s", t.up,
	    t.up == 1 ? "" : "s", t.down, t.nolb, t.unavailable_farms ?
	    ", a farm has no server available" : "", t.worst[0] ? "; " : "",
	    t.worst, t.up, t.down, th, t.nolb, t.sessions, t.refused);
	return rc;
}
