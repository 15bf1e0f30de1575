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
#include "proto.h"
#include "zone.h"

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

/* Where ZONE.json is looked for: --confdir, MXLB_CONFDIR, /etc/mxlb.  The
 * same place for root and others: the file is input, never written. */
char *
zone_confdir(const char *flag)
{
	const char *env = getenv("MXLB_CONFDIR");

	if (flag != NULL)
		return xstrdup(flag);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	return xstrdup("/etc/mxlb");
}

/* "version 7 by alice (add mx3), version 8 by mxlbd (revert: ...)": the
 * commits the file has not seen, newest last, at most three of them. */
static char *
commits_since(const struct txn *t, uint64_t since)
{
	char *out = xstrdup(""), *next, *user, *comment;
	size_t n = 0, shown = 0;

	for (size_t i = 0; i < t->nhist; i++)
		n += t->hist[i].number > since;
	for (size_t i = 0; i < t->nhist; i++) {
		const struct version *v = &t->hist[i];
		if (v->number <= since || n - shown++ > 3)
			continue;
		user = str_escape(v->user);
		comment = str_escape(v->comment);
		next = xasprintf("%s%sversion %llu by %s%s%s%s", out,
		    *out ? ", " : "", (unsigned long long)v->number, user,
		    *comment ? " (" : "", comment, *comment ? ")" : "");
		free(out);
		free(user);
		free(comment);
		out = next;
	}
	if (n > 3) {
		next = xasprintf("%zu commits, the last: %s", n, out);
		free(out);
		out = next;
	}
	return out;
}

static void
refusal(struct engine *eng, struct errs *e)
{
	struct txn *t = eng->txn;
	char *since = commits_since(t, eng->imported);
	char *last = eng->imported ? xasprintf("version %llu",
	    (unsigned long long)eng->imported) : xstrdup("never imported");

	errs_add(e, "%s not imported: zone %s runs version %llu, committed "
	    "after the file's last import (%s): %s; nothing changed.  To keep "
	    "what runs, write it to the file: mxlb zone export %s %s; to "
	    "replace it with the file: mxlb zone import %s force",
	    eng->conffile, eng->zone, (unsigned long long)t->running, last,
	    since, eng->zone, eng->conffile, eng->zone);
	free(since);
	free(last);
}

/* The file and what runs meet: later reloads may import again. */
static void
import_mark(struct engine *eng)
{
	struct errs e = { NULL, 0 };

	if (eng->imported == eng->txn->running)
		return;
	eng->imported = eng->txn->running;
	if (state_save(eng, eng->txn, &e) == -1)
		log_warn("import zone=%s: could not record that %s is version "
		    "%llu", eng->zone, eng->conffile,
		    (unsigned long long)eng->imported);
	errs_free(&e);
}

static int
import_commit(struct engine *eng, struct config *c, bool forced,
    const char *user, const char *why, struct errs *e)
{
	struct txn *t = eng->txn;
	struct txn_error te = { NULL, NULL, { NULL, 0 } };
	json_t *j = config_to_json(c);
	char *comment = forced && t->running != eng->imported ?
	    xasprintf("imported from %s (%s, forced over version %llu)",
	    eng->conffile, why, (unsigned long long)t->running) :
	    xasprintf("imported from %s (%s)", eng->conffile, why);
	const struct version *v;
	int rc = IMPORT_DONE;

	eng->importing = t->running + 1;
	if (txn_commit(t, j, t->running, user, comment, 0,
	    (int64_t)time(NULL), &te) == -1) {
		for (size_t i = 0; i < te.list.n; i++)
			errs_add(e, "%s", te.list.v[i]);
		errs_add(e, "%s", te.message ? te.message : "import failed");
		rc = IMPORT_FAILED;
	} else {
		eng->imported = t->running;
		log_info("import zone=%s version=%llu from %s (%s)", eng->zone,
		    (unsigned long long)t->running, eng->conffile, why);
		v = txn_find(t, t->running);
		engine_event(eng, EV_COMMIT, json_pack("{s:I,s:s,s:s,s:b}",
		    K_VERSION, (json_int_t)t->running, "user", v->user,
		    K_COMMENT, v->comment, "pending", t->pending));
	}
	eng->importing = 0;
	txn_error_free(&te);
	free(comment);
	json_decref(j);
	return rc;
}

/* config_load_file, every error with the file's path. */
static struct config *
load_file(const char *path, struct errs *e)
{
	struct errs le = { NULL, 0 };
	struct config *c = config_load_file(path, &le);
	size_t len = strlen(path);

	for (size_t i = 0; i < le.n; i++) {
		if (strncmp(le.v[i], path, len) == 0 && le.v[i][len] == ':')
			errs_add(e, "%s", le.v[i]);
		else
			errs_add(e, "%s: %s", path, le.v[i]);
	}
	if (c != NULL && le.n > 0) {
		config_free(c);
		c = NULL;
	}
	errs_free(&le);
	return c;
}

/*
 * The zone's file (-c FILE, or CONFDIR/ZONE.json when it exists) as a new
 * version when it differs from what runs.  A file and the shell never
 * overwrite each other silently: when a commit came after the file's last
 * import (the shell's, a rollback, a revert), the file is refused unless
 * `force`.  A zone with no version yet takes the file.  A bad file
 * changes nothing.
 */
int
zone_import(struct engine *eng, bool force, const char *user,
    const char *why, struct errs *e)
{
	struct config *c;
	int rc;

	if (eng->conffile == NULL)
		return IMPORT_ABSENT;
	if (!eng->conffile_named && access(eng->conffile, F_OK) == -1 &&
	    errno == ENOENT)
		return IMPORT_ABSENT;
	if ((c = load_file(eng->conffile, e)) == NULL)
		return IMPORT_FAILED;
	if (strcmp(c->zone, eng->zone) != 0) {
		errs_add(e, "%s: zone is \"%s\", this engine runs zone \"%s\"",
		    eng->conffile, c->zone, eng->zone);
		config_free(c);
		return IMPORT_FAILED;
	}
	if (eng->cfg != NULL && config_equal(c, eng->cfg)) {
		config_free(c);
		import_mark(eng);
		return IMPORT_SAME;
	}
	if (!force && eng->txn->running != 0 &&
	    eng->txn->running != eng->imported) {
		config_free(c);
		refusal(eng, e);
		return IMPORT_REFUSED;
	}
	rc = import_commit(eng, c, force, user, why, e);
	config_free(c);
	return rc;
}
