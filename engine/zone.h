/* Where a zone lives and how it starts (zone.c). */
#ifndef MXLB_ZONE_H
#define MXLB_ZONE_H

#include <sys/types.h>

#include "engine.h"
#include "paths.h"

int	 zone_mkdir(const char *, mode_t, gid_t, struct errs *);
gid_t	 zone_group(const char *, bool, struct errs *);
int	 zone_restore(struct engine *, struct errs *);
int	 zone_import(struct engine *, const char *, struct errs *);

#endif
