/* Where the zones of this host live (paths.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"

#define SOCK_SUFFIX	".sock"

bool
zone_name_valid(const char *name)
{
	return name_valid(name) && name[0] != '.';
}

/* The design's defaults: /run/mxlb and /var/lib/mxlb for root, the XDG
 * places for anyone else; flags and MXLB_* variables override them. */
struct place {
	const char	*env;	/* the MXLB_* variable */
	const char	*root;	/* for root */
	const char	*xdg;	/* XDG variable: $XDG/mxlb */
	const char	*home;	/* without it, $HOME/home; NULL: none */
	const char	*tmp;	/* else tmp-UID */
};

static const struct place run_place = { "MXLB_RUNDIR", "/run/mxlb",
    "XDG_RUNTIME_DIR", NULL, "/tmp/mxlb" };
static const struct place state_place = { "MXLB_STATEDIR", "/var/lib/mxlb",
    "XDG_STATE_HOME", ".local/state/mxlb", "/tmp/mxlb-state" };

static char *
place_dir(const struct place *p, const char *flag)
{
	const char *env = getenv(p->env), *xdg = getenv(p->xdg);
	const char *home = getenv("HOME");

	if (flag != NULL)
		return xstrdup(flag);
	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (geteuid() == 0)
		return xstrdup(p->root);
	if (xdg != NULL && *xdg != '\0')
		return xasprintf("%s/mxlb", xdg);
	if (p->home != NULL && home != NULL)
		return xasprintf("%s/%s", home, p->home);
	return xasprintf("%s-%u", p->tmp, (unsigned)geteuid());
}

char *
zone_rundir(const char *flag)
{
	return place_dir(&run_place, flag);
}

char *
zone_statedir(const char *flag)
{
	return place_dir(&state_place, flag);
}

/* The control socket of zone in rundir. */
char *
zone_sock(const char *rundir, const char *zone)
{
	return xasprintf("%s/%s" SOCK_SUFFIX, rundir, zone);
}

/* The zone whose socket a file of the run directory is, or NULL. */
char *
zone_of_sock(const char *file)
{
	size_t len = strlen(file), n = strlen(SOCK_SUFFIX);

	if (len <= n || strcmp(file + len - n, SOCK_SUFFIX) != 0)
		return NULL;
	return xstrndup_(file, len - n);
}
