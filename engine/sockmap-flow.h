/* What the kernel relay keeps per client (sockmap.bpf.c writes it,
 * sockmap.c reads it): one definition for both sides. */
#ifndef MXLB_SOCKMAP_FLOW_H
#define MXLB_SOCKMAP_FLOW_H

#include <linux/types.h>

struct sockmap_flow {
	__u64	bytes;		/* client to server, relayed by the kernel */
	__u64	last_ns;	/* CLOCK_MONOTONIC of the last bytes; 0: none */
};

#endif
