/*
 * A farm's `source`: the address its sessions (and probes) connect from.
 * `client` is transparent mode (IP_TRANSPARENT): the server sees the
 * client's own address.  source.c.
 */
#ifndef MXLB_SOURCE_H
#define MXLB_SOURCE_H

#include "config.h"

#define SOURCE_ERRLEN	160

int	 source_check(const struct config *, struct errs *);
int	 source_bind(int, const struct farm *, int, const struct mxaddr *,
	    uint16_t, char *, size_t);
int	 source_bind_probe(int, const struct farm *, int, char *, size_t);
void	 source_name(const struct farm *, char *, size_t);

#endif
