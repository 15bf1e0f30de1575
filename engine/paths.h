/*
 * Where the zones of this host live: their run directory, control
 * sockets and state directories.  One definition for mxlbd, which makes
 * them, and for mxlb, which finds them (paths.c).
 */
#ifndef MXLB_PATHS_H
#define MXLB_PATHS_H

#include <stdbool.h>

#include "field.h"

/* A zone's name names its socket (RUNDIR/NAME.sock) and its state
 * directory (STATEDIR/NAME): a config name that is not "." or "..", nor
 * any other name starting with a dot (hidden, and easily mistaken). */
#define ZONE_NAME_RULE	"a zone name is " NAME_RULE " and " \
			"does not start with a dot"
bool	 zone_name_valid(const char *);
char	*zone_rundir(const char *);
char	*zone_statedir(const char *);
char	*zone_sock(const char *, const char *);
char	*zone_of_sock(const char *);

#endif
