/*
 * `mxlb check [ZONE...] [-t SEC] [--warn-down N] [--crit-down N]`: a
 * Nagios and Icinga plugin (and keepalived's check script).  One status
 * line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 * CRITICAL also when an engine is down (a zone with state on disk and no
 * engine counts) or a farm has no server able to take a session; UNKNOWN
 * when an engine does not answer within the timeout.  The zones' trouble
 * is said first.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counters.h"
#include "peer.h"
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
	json_t *f, *s, *c;
	size_t i, j;

	json_array_foreach(json_object_get(st, K_FARMS), i, f) {
		long avail = 0;
		json_array_foreach(json_object_get(f, K_SERVERS), j, s) {
			int state = names_find(pstate_names, PSTATE_MAX,
			    json_string_value(json_object_get(s, K_STATE)));
			if (state == PSTATE_DOWN) {
				t->down++;
				snprintf(t->worst, sizeof t->worst, "%s/%s down: "
				    "%.120s", json_string_value(json_object_get(f,
				    K_NAME)), json_string_value(json_object_get(s,
				    K_NAME)), json_string_value(json_object_get(s,
				    K_CHECK_TEXT)));
			} else if (state == PSTATE_NOLB)
				t->nolb++;
			else
				t->up++;
			avail += json_is_true(json_object_get(s, K_AVAILABLE));
		}
		if (avail == 0 && json_array_size(json_object_get(f, K_SERVERS)))
			t->unavailable_farms++;
		c = json_object_get(f, K_COUNTERS);
		t->sessions += (long)counter_json_get(c, CNT_SESSIONS_CUR);
		t->refused += (long)counter_json_get(c, CNT_REFUSED);
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

static const char check_usage[] =
    "usage: mxlb check [ZONE...] [-t SEC] [-w N] [-c N]\n"
    "  ZONE             only these zones (default: every zone of this host)\n"
    "  -w, --warn-down N  WARNING when N servers or more are down (1;\n"
    "                     never: no WARNING, as keepalived wants)\n"
    "  -c, --crit-down N  CRITICAL when N servers or more are down (never)\n"
    "  -t, --timeout SEC  an engine that does not answer in SEC is UNKNOWN"
    " (10)\n"
    "  -V, --version    the plugin's version\n"
    "  -h, --help       this text\n"
    "CRITICAL also when an engine is down or a farm has no server able to "
    "take a session.\n";

/* Every zone of this host: sockets, and state left by stopped engines. */
static void
check_zones(struct shell *sh, char ***names, size_t *n)
{
	char *dir = zone_statedir(NULL), *path;
	struct dirent *de;
	DIR *d;

	for (size_t i = 0; i < sh->nzones; i++) {
		*ARRAY_PUSH(*names, *n) = xstrdup(sh->zones[i]->name);
	}
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct stat st;
			if (!zone_name_valid(de->d_name) ||
			    shell_zone(sh, de->d_name) != NULL)
				continue;
			path = xasprintf("%s/%s/state.json", dir, de->d_name);
			if (stat(path, &st) == 0) {
				*ARRAY_PUSH(*names, *n) = xstrdup(de->d_name);
			}
			free(path);
		}
		closedir(d);
	}
	free(dir);
}

/* A "|" would end the text and start the perfdata. */
static void
add_problem(char *buf, size_t len, const char *text)
{
	size_t at = strlen(buf);

	snprintf(buf + at, len - at, "%s%.300s", at ? "; " : "", text);
	for (char *p = buf + at; *p; p++)
		if (*p == '|' || *p == '\n')
			*p = '/';
}

/* The zone's stats into the tally; its trouble into problems. */
static void
check_zone(struct shell *sh, const char *name, struct tally *t,
    long *hung, char *problems, size_t plen)
{
	struct zone *z = shell_zone(sh, name);
	char *sock = zone_sock(sh->rundir, name), err[1024];
	struct peer *peer = z ? NULL : peer_new(name, sock, NULL);
	json_t *st, *req = json_pack("{s:s}", K_CMD, CMD_STATS);
	enum peer_status ps;

	st = z ? engine_call(z, req, err, sizeof err) :
	    peer_call(peer, req, 0, err, sizeof err);
	ps = peer_status(z ? z->peer : peer);
	t->zones++;
	if (st != NULL)
		tally_zone(t, st);
	else if (ps == PEER_TIMEOUT || ps == PEER_ENGINE) {
		(*hung)++;
		add_problem(problems, plen, err);
	} else {
		t->zones_down++;
		add_problem(problems, plen, err);
	}
	json_decref(st);
	peer_free(peer);
	free(sock);
}

/* "alert at N or more" in the Monitoring Plugins range syntax. */
static void
range_from(char *buf, size_t len, long at)
{
	if (at < 0)
		buf[0] = '\0';
	else if (at == 0)
		snprintf(buf, len, "@0:");
	else
		snprintf(buf, len, "%ld", at - 1);
}

int
check_main(struct shell *sh, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "warn-down", required_argument, NULL, 'w' },
		{ "crit-down", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct tally t;
	long warn = 1, crit = -1, hung = 0;
	char problems[2048] = "", wr[32], cr[32], **names = NULL;
	size_t nnames = 0;
	int ch, rc;

	memset(&t, 0, sizeof t);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "w:c:t:hV", longopts, NULL)) !=
	    -1) {
		if ((ch == 'w' || ch == 'c') && strcmp(optarg, "never") == 0)
			*(ch == 'w' ? &warn : &crit) = -1;
		else if ((ch == 'w' || ch == 'c') && count_arg(optarg) >= 0)
			*(ch == 'w' ? &warn : &crit) = count_arg(optarg);
		else if (ch == 't' && count_arg(optarg) > 0 &&
		    count_arg(optarg) <= 3600)
			peer_timeout_ms = (int)count_arg(optarg) * 1000;
		else if (ch == 'h') {
			fputs(check_usage, stdout);
			return 0;
		} else if (ch == 'V') {
			printf("mxlb check %s\n", MXLB_VERSION);
			return 0;
		} else {
			printf("MXLB UNKNOWN - usage: mxlb check [ZONE...] "
			    "[-t SEC] [--warn-down N] [--crit-down N]\n");
			return 3;
		}
	}
	/* The zones' names only: each is asked once, below. */
	sh->names_only = true;
	shell_discover(sh);
	if (optind == argc)
		check_zones(sh, &names, &nnames);
	for (int k = optind; k < argc; k++) {
		*ARRAY_PUSH(names, nnames) = xstrdup(argv[k]);
	}
	for (size_t i = 0; i < nnames; i++) {
		check_zone(sh, names[i], &t, &hung, problems, sizeof problems);
		free(names[i]);
	}
	free(names);
	if (t.zones == 0) {
		printf("MXLB UNKNOWN - no zone found in %s\n", sh->rundir);
		return 3;
	}
	if (t.zones_down || t.unavailable_farms || (crit >= 0 && t.down >= crit))
		rc = 2;
	else if (hung)
		rc = 3;
	else if (warn >= 0 && t.down >= warn)
		rc = 1;
	else
		rc = 0;
	if (t.worst[0])
		add_problem(problems, sizeof problems, t.worst);
	range_from(wr, sizeof wr, warn);
	range_from(cr, sizeof cr, crit);
	printf("MXLB %s - %ld zone%s, %ld down, %ld not answering; %ld server%s "
	    "up, %ld down, %ld nolb%s%s%s | zones_down=%ld;;0 "
	    "servers_up=%ld servers_down=%ld;%s;%s servers_nolb=%ld "
	    "sessions=%ld refused=%ldc\n", rc == 3 ? "UNKNOWN" : rc == 2 ?
	    "CRITICAL" : rc == 1 ? "WARNING" : "OK", t.zones, t.zones == 1 ?
	    "" : "s", t.zones_down, hung, t.up, t.up == 1 ? "" : "s", t.down,
	    t.nolb, t.unavailable_farms ? ", a farm has no server available" :
	    "", problems[0] ? "; " : "", problems, t.zones_down + hung, t.up,
	    t.down, wr, cr, t.nolb, t.sessions, t.refused);
	return rc;
}
