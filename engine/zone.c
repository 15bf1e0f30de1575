/*
 * Where a zone lives (run and state directories) and how it starts: the
 * state directory's last acknowledged version, then an optional import.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commit.h"
#include "zone.h"

bool
zone_name_valid(const char *name)
{
	return name_valid(name) && name[0] != '.';
}

/* The design's defaults: /run/mxlb and /var/lib/mxlb for root, the XDG
 * places for anyone else; flags and MXLB_* variables override them. */
char *
zone_rundir(const char *flag)
{
	const char *env = getenv("MXLB_RUNDIR"), *xdg;

	if (flag != NULL)
		return xstrdup(flag);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (geteuid() == 0)
		return xstrdup("/run/mxlb");
	if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && *xdg != '\0')
		return xasprintf("%s/mxlb", xdg);
	return xasprintf("/tmp/mxlb-%u", (unsigned)geteuid());
}

char *
zone_statedir(const char *flag)
{
	const char *env = getenv("MXLB_STATEDIR"), *xdg, *home;

	if (flag != NULL)
		return xstrdup(flag);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (geteuid() == 0)
		return xstrdup("/var/lib/mxlb");
	if ((xdg = getenv("XDG_STATE_HOME")) != NULL && *xdg != '\0')
		return xasprintf("%s/mxlb", xdg);
	if ((home = getenv("HOME")) != NULL)
		return xasprintf("%s/.local/state/mxlb", home);
	return xasprintf("/tmp/mxlb-state-%u", (unsigned)geteuid());
}

/* mkdir -p, the last component with `mode` and group `gid`. */
int
zone_mkdir(const char *path, mode_t mode, gid_t gid, struct errs *e)
{
	char *p = xstrdup(path);
	struct stat st;

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		(void)mkdir(p, 0755);
		*s = '/';
	}
	free(p);
	if (mkdir(path, mode) == -1 && errno != EEXIST) {
		errs_add(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1) {
		errs_add(e, "%s: chown to group %d: %s", path, (int)gid,
		    strerror(errno));
		return -1;
	}
	/* Ours, so ours to protect, even if it existed before. */
	if (stat(path, &st) == 0 && st.st_uid == geteuid())
		(void)chmod(path, mode);
	return 0;
}

gid_t
zone_group(const char *name, bool required, struct errs *e)
{
	struct group *gr;

	if (name == NULL)
		return (gid_t)-1;
	if ((gr = getgrnam(name)) != NULL)
		return gr->gr_gid;
	if (required)
		errs_add(e, "group %s does not exist", name);
	return (gid_t)-1;
}

/* The running version from the state directory, switched in. */
int
zone_restore(struct engine *eng, struct errs *e)
{
	const struct version *v;
	json_t *j;
	struct config *c;

	if (state_load(eng, e) == -1)
		return -1;
	if ((v = txn_find(eng->txn, eng->txn->running)) == NULL)
		return 0;	/* a new zone: nothing runs yet */
	if ((j = json_loads(v->config, 0, NULL)) == NULL) {
		errs_add(e, "%s: version %llu does not parse", eng->statedir,
		    (unsigned long long)v->number);
		return -1;
	}
	c = config_from_json(j, e);
	json_decref(j);
	if (c == NULL)
		return -1;
	if (engine_apply(eng, c, e) == -1) {
		config_free(c);
		return -1;
	}
	log_info("restored zone=%s version=%llu", eng->zone,
	    (unsigned long long)v->number);
	return 0;
}

/* `-c FILE`: a new version when it differs from what runs. */
int
zone_import(struct engine *eng, const char *path, struct errs *e)
{
	struct config *c = config_load_file(path, e);
	struct txn_error te = { NULL, NULL, { NULL, 0 } };
	json_t *j;
	char *comment;
	int rc = 0;

	if (c == NULL)
		return -1;
	if (eng->cfg != NULL && config_equal(c, eng->cfg)) {
		config_free(c);
		return 0;
	}
	j = config_to_json(c);
	config_free(c);
	comment = xasprintf("imported from %s", path);
	if (txn_commit(eng->txn, j, eng->txn->running, "mxlbd -c", comment, 0,
	    (int64_t)time(NULL), &te) == -1) {
		for (size_t i = 0; i < te.list.n; i++)
			errs_add(e, "%s", te.list.v[i]);
		errs_add(e, "%s", te.message ? te.message : "import failed");
		rc = -1;
	} else
		log_info("import zone=%s version=%llu from %s", eng->zone,
		    (unsigned long long)eng->txn->running, path);
	txn_error_free(&te);
	free(comment);
	json_decref(j);
	return rc;
}
