/* Where a zone lives and how it starts (zone.c). */
#ifndef MXLB_ZONE_H
#define MXLB_ZONE_H

#include <sys/types.h>

#include "engine.h"
#include "paths.h"

int	 zone_mkdir(const char *, mode_t, gid_t, struct errs *);
gid_t	 zone_group(const char *, bool, struct errs *);
int	 zone_restore(struct engine *, struct errs *);
char	*zone_confdir(const char *);

/* zone_import's outcomes. */
#define IMPORT_FAILED	(-1)	/* a bad file, or not committed: e says why */
#define IMPORT_REFUSED	(-2)	/* newer commits than the file's import */
#define IMPORT_ABSENT	0	/* no file in the config directory */
#define IMPORT_SAME	1	/* the file is what runs */
#define IMPORT_DONE	2	/* the file runs as a new version */
int	 zone_import(struct engine *, bool, const char *, const char *,
	    struct errs *);

#endif
