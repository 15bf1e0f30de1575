/* Stats as Prometheus text (metrics.c). */
#ifndef MXLB_METRICS_H
#define MXLB_METRICS_H

#include <jansson.h>

/* Takes an array of stats objects, one per zone; returns malloc'd text. */
char	*metrics_text(json_t *);

#endif
