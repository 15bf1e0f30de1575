/*
 * The zones a shell sees (one control socket each in the run directory)
 * and its private candidate: each zone's running config plus the
 * operator's edits, which `update` replays on a newer running config.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer.h"
#include "proto.h"
#include "shell.h"

struct zone *
shell_zone(struct shell *sh, const char *name)
{
	for (size_t i = 0; i < sh->nzones; i++)
		if (strcmp(sh->zones[i]->name, name) == 0)
			return sh->zones[i];
	return NULL;
}

static struct zone *
zone_new(struct shell *sh, const char *name)
{
	struct zone *z = xcalloc(1, sizeof *z);

	z->name = xstrdup(name);
	z->sock = zone_sock(sh->rundir, name);
	z->running = config_new(name);
	z->cand = config_new(name);
	*ARRAY_PUSH(sh->zones, sh->nzones) = z;
	return z;
}

/* Reads the running config; the candidate starts over from it. */
int
zone_refresh(struct shell *sh, struct zone *z, char *err, size_t errlen)
{
	json_t *res = engine_call(z, json_pack("{s:s}", K_CMD, CMD_GET), err,
	    errlen);
	struct errs e = { NULL, 0 };
	struct config *c;

	(void)sh;
	z->up = res != NULL;
	if (res == NULL)
		return -1;
	c = config_from_json(json_object_get(res, K_CONFIG), &e);
	if (c == NULL) {
		snprintf(err, errlen, "zone %s: running config does not load: %s",
		    z->name, e.n ? e.v[0] : "?");
		errs_free(&e);
		json_decref(res);
		return -1;
	}
	z->base = (uint64_t)json_integer_value(json_object_get(res, K_VERSION));
	z->live = z->base;
	config_free(z->running);
	config_free(z->cand);
	z->running = c;
	z->cand = config_dup(c);
	json_decref(res);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(struct zone *const *)a)->name,
	    (*(struct zone *const *)b)->name);
}

/* "NAME command ssh lb2.example.net mxlb bridge NAME": a zone reached
 * through a command's stdin and stdout. */
static void
zones_file(struct shell *sh, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, name[64], err[256];
	size_t cap = 0, lineno = 0;
	int off;

	while (f != NULL && getline(&line, &cap, f) != -1) {
		struct zone *z;
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
			continue;
		/* %n is stored only when " command " matched. */
		off = -1;
		if (sscanf(line, "%63s command %n", name, &off) != 1 ||
		    off == -1 || !name_valid(name) || line[off] == '\0') {
			fprintf(stderr, "mxlb: %s:%zu: not \"ZONE command "
			    "COMMAND...\"; line ignored\n", path, lineno);
			continue;
		}
		if (shell_zone(sh, name) != NULL)
			continue;
		z = zone_new(sh, name);
		z->cmd = xstrdup(line + off);
		if (!sh->names_only)
			(void)zone_refresh(sh, z, err, sizeof err);
	}
	free(line);
	if (f != NULL)
		fclose(f);
}

static void
zones_files(struct shell *sh)
{
	const char *home = getenv("HOME"), *env = getenv("MXLB_ZONES");
	char *p;

	if (env != NULL) {
		zones_file(sh, env);
		return;
	}
	zones_file(sh, "/etc/mxlb/zones");
	if (home != NULL) {
		p = xasprintf("%s/.config/mxlb/zones", home);
		zones_file(sh, p);
		free(p);
	}
}

/* The run directory is closed to this user: which group opens it. */
static void
rundir_denied(struct shell *sh)
{
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr;
	struct stat st;

	if (stat(sh->rundir, &st) == 0 && (gr = getgrgid(st.st_gid)) != NULL)
		snprintf(sh->unseen, sizeof sh->unseen, "permission denied on "
		    "%s: user %s is not in group %s, which may use its zones "
		    "(or run as root)", sh->rundir, pw ? pw->pw_name : "?",
		    gr->gr_name);
	else
		snprintf(sh->unseen, sizeof sh->unseen, "permission denied on "
		    "%s: %s", sh->rundir, strerror(EACCES));
}

/* Every ZONE.sock in the run directory is a zone. */
void
shell_discover(struct shell *sh)
{
	DIR *d = opendir(sh->rundir);
	struct dirent *de;
	char err[256];

	if (d == NULL && (errno == EACCES || errno == EPERM))
		rundir_denied(sh);

	while (d != NULL && (de = readdir(d)) != NULL) {
		char *name = zone_of_sock(de->d_name);
		if (name == NULL)
			continue;
		if (name_valid(name) && shell_zone(sh, name) == NULL) {
			struct zone *z = zone_new(sh, name);
			if (!sh->names_only)
				(void)zone_refresh(sh, z, err, sizeof err);
		}
		free(name);
	}
	if (d != NULL)
		closedir(d);
	zones_files(sh);
	if (sh->nzones > 0)
		qsort(sh->zones, sh->nzones, sizeof *sh->zones, by_name);
}

struct zone *
zone_of_farm(struct shell *sh, const char *name, struct farm **fp)
{
	for (size_t i = 0; i < sh->nzones; i++) {
		struct farm *f = config_farm(sh->zones[i]->cand, name);
		if (f != NULL) {
			if (fp)
				*fp = f;
			return sh->zones[i];
		}
	}
	return NULL;
}

struct zone *
zone_of_frontend(struct shell *sh, const char *name, struct frontend **fp)
{
	for (size_t i = 0; i < sh->nzones; i++) {
		struct frontend *fe = config_frontend(sh->zones[i]->cand, name);
		if (fe != NULL) {
			if (fp)
				*fp = fe;
			return sh->zones[i];
		}
	}
	return NULL;
}

/* The prompt's mark, `zone apply` and `show zones` all ask the diff. */
bool
zone_pending(const struct zone *z)
{
	return config_equal(z->running, z->cand) ? false : zone_changes(z) > 0;
}

bool
shell_pending(const struct shell *sh)
{
	for (size_t i = 0; i < sh->nzones; i++)
		if (zone_pending(sh->zones[i]))
			return true;
	return false;
}

void
zone_record(struct zone *z, const char *line)
{
	*ARRAY_PUSH(z->edits, z->nedits) = xstrdup(line);
}

/* Applied or discarded: nothing left for `update` to replay. */
void
zone_edits_clear(struct zone *z)
{
	for (size_t i = 0; i < z->nedits; i++)
		free(z->edits[i]);
	z->nedits = 0;
}

static void
zone_free(struct zone *z)
{
	peer_free(z->peer);
	zone_edits_clear(z);
	free(z->edits);
	config_free(z->running);
	config_free(z->cand);
	free(z->name);
	free(z->sock);
	free(z->cmd);
	free(z);
}

void
shell_free(struct shell *sh)
{
	for (size_t i = 0; i < sh->nzones; i++)
		zone_free(sh->zones[i]);
	free(sh->zones);
	free(sh->rundir);
}
