/*
 * The counters of a frontend, farm and server, declared once in
 * counter_defs[]: the engine's stats JSON, the Prometheus text, the
 * monitor's columns, `show stats`, `show servers` and `mxlb check` are
 * derived from it.
 */
#ifndef MXLB_COUNTERS_H
#define MXLB_COUNTERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

/* The members, shared with the monitor's copy (which adds rates) so that
 * one offset in the table serves both. */
#define COUNTER_MEMBERS \
	uint64_t	cur, max, total;	/* sessions */ \
	uint64_t	qcur, qmax;		/* queued sessions */ \
	uint64_t	bytes_in, bytes_out;	/* from and to the client */ \
	uint64_t	connect_fail, redispatch; \
	/* the server failed at its greeting: silent, closed, 4xx/5xx */ \
	uint64_t	greeting_timeout, greeting_closed, greeting_refused; \
	uint64_t	xclient_fail; \
	uint64_t	refused[REFUSE_MAX]; \
	uint64_t	checks[CHECK_MAX];	/* a server's probes */ \
	uint64_t	state_changes;		/* of its probe state */

struct counters {
	COUNTER_MEMBERS
};

/* In the order of the stats JSON and of the Prometheus text. */
enum counter_id {
	CNT_SESSIONS_CUR,
	CNT_SESSIONS_MAX,
	CNT_SESSIONS_TOTAL,
	CNT_QUEUE_CUR,
	CNT_QUEUE_MAX,
	CNT_BYTES_IN,
	CNT_BYTES_OUT,
	CNT_CONNECT_FAIL,
	CNT_REDISPATCH,
	CNT_GREETING_TIMEOUT,
	CNT_GREETING_CLOSED,
	CNT_GREETING_REFUSED,
	CNT_XCLIENT_FAIL,
	CNT_REFUSED,
	CNT_CHECKS,
	CNT_STATE_CHANGES,
	CNT_MAX
};

enum counter_kind { CK_COUNTER, CK_GAUGE };
enum counter_unit { CU_SESSIONS, CU_BYTES, CU_EVENTS };

/* A counter kept as an array, one per name of a table: a JSON object by
 * name, a Prometheus label. */
struct counter_label {
	const char		*label;	/* "reason" */
	const char *const	*names;
	size_t			 n;
	const unsigned		*objs;	/* per name: OBJ_*; NULL: all */
};

extern const struct counter_label refusal_label, check_label;

struct counter_def {
	const char		*key;	/* in the stats JSON's "counters" */
	const char		*metric;/* Prometheus: mxlb_OBJECT_METRIC */
	size_t			 off;	/* in struct counters */
	enum counter_kind	 kind;
	enum counter_unit	 unit;
	const struct counter_label *by;	/* NULL: one value */
	const char		*help;
	unsigned		 objs;	/* OBJ_* it is kept for; 0: all */
};

extern const struct counter_def counter_defs[CNT_MAX];
extern const char *const counter_kind_names[];	/* Prometheus' TYPE */

/* A counter's value; the sum over the names for a labelled one. */
uint64_t	 counter_value(const struct counters *, const struct counter_def *);
/* Whether a counter, or the name i of a labelled one, is kept for obj. */
bool		 counter_applies(const struct counter_def *, unsigned);
bool		 counter_name_applies(const struct counter_def *, size_t,
		    unsigned);
/* The counters kept for obj (OBJ_FRONTEND, OBJ_FARM or OBJ_SERVER). */
json_t		*counters_json(const struct counters *, unsigned);
/* Fills c from a stats JSON "counters" object: what is missing is 0. */
void		 counters_from_json(struct counters *, json_t *);
/* One counter of a stats JSON "counters" object, and one refusal. */
long long	 counter_json_get(json_t *, enum counter_id);
long long	 refused_json_get(json_t *, enum refusal);

#endif
