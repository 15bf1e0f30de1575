/* Where a zone lives and how it starts (zone.c). */
#ifndef MXLB_ZONE_H
#define MXLB_ZONE_H

#include <sys/types.h>

#include "engine.h"

/* A zone's name names its socket (RUNDIR/NAME.sock) and its state
 * directory (STATEDIR/NAME): a config name that is not "." or "..", nor
 * any other name starting with a dot (hidden, and easily mistaken). */
#define ZONE_NAME_RULE	"a zone name is 1-63 of A-Z a-z 0-9 _ . - and " \
			"does not start with a dot"
bool	 zone_name_valid(const char *);
char	*zone_rundir(const char *);
char	*zone_statedir(const char *);
int	 zone_mkdir(const char *, mode_t, gid_t, struct errs *);
gid_t	 zone_group(const char *, bool, struct errs *);
int	 zone_restore(struct engine *, struct errs *);
int	 zone_import(struct engine *, const char *, struct errs *);

#endif
