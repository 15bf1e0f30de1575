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
