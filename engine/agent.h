/*
 * The agent check: one line of HAProxy agent-check text read from a
 * server's agent-port ("ready 75% #queue=12", "drain", "down #disk full").
 * The parser is here for the engine, `mxlb agent` and the unit tests.
 */
#ifndef MXLB_AGENT_H
#define MXLB_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#define AGENT_LINE_MAX	512	/* longer lines are refused whole */

struct agent_reply {
	int	 pct;		/* weight in % of the configured one; -1 */
	int	 admin;		/* ADMIN_READY, _DRAIN, _MAINT; -1 */
	int	 up;		/* 1 up, 0 down/fail/stopped; -1 */
	long	 maxconn;	/* maxconn:N; -1 (read, not applied) */
	long	 queue;		/* queue=N in the description; -1 */
	char	 word[16];	/* down, fail or stopped, as said */
	char	 reason[128];	/* after "#", printable */
};

/*
 * Parses one reply of len bytes (up to the first CR or LF, or all of it).
 * 0 and *r filled; -1 and why in err, and then nothing is to be applied.
 */
int	 agent_parse(const char *, size_t, struct agent_reply *, char *,
	    size_t);

#endif
