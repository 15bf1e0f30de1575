/*
 * `mxlbd --user USER`: started as root, the engine binds what needs root
 * (port 25, the control socket), gives its state directory to USER, then
 * runs as USER for good.  (Under systemd the unit uses
 * AmbientCapabilities=CAP_NET_BIND_SERVICE instead.)
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

/* The state must stay writable by the user the engine becomes: a file it
 * could not hand over would fail the first save after the drop. */
static int
chown_tree(const char *dir, uid_t uid, gid_t gid, struct errs *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL || chown(dir, uid, gid) == -1) {
		errs_add(e, "%s: %s", dir, strerror(errno));
		rc = -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *path;
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (chown(path, uid, gid) == -1) {
			errs_add(e, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		free(path);
	}
	if (d != NULL)
		closedir(d);
	return rc;
}

int
privdrop(struct engine *eng, const char *rundir, const char *user,
    struct errs *e)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		errs_add(e, "--user %s: no such user", user);
		return -1;
	}
	if (geteuid() != 0) {
		errs_add(e, "--user %s: only root can change user", user);
		return -1;
	}
	if (eng->statedir != NULL &&
	    chown_tree(eng->statedir, pw->pw_uid, pw->pw_gid, e) == -1)
		return -1;
	/* So that the engine can remove its socket when it stops; the group
	 * (the read or admin group) stays. */
	if (rundir != NULL && chown(rundir, pw->pw_uid, (gid_t)-1) == -1) {
		errs_add(e, "--user %s: %s: %s", user, rundir, strerror(errno));
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		errs_add(e, "--user %s: %s", user, strerror(errno));
		return -1;
	}
	/* Make sure there is no way back. */
	if (setuid(0) == 0) {
		errs_add(e, "--user %s: could still become root", user);
		return -1;
	}
	log_info("running as user=%s uid=%u", user, (unsigned)pw->pw_uid);
	return 0;
}
