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
	uint64_t	refused[REFUSE_MAX];

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
	CNT_MAX
};

enum counter_kind { CK_COUNTER, CK_GAUGE };
enum counter_unit { CU_SESSIONS, CU_BYTES };

struct counter_def {
	const char		*key;	/* in the stats JSON's "counters" */
	const char		*metric;/* Prometheus: mxlb_OBJECT_METRIC */
	size_t			 off;	/* in struct counters */
	enum counter_kind	 kind;
	enum counter_unit	 unit;
	/* refused[]: a JSON object by refusal_names, a label `reason`. */
	bool			 by_reason;
	const char		*help;
};

extern const struct counter_def counter_defs[CNT_MAX];
extern const char *const counter_kind_names[];	/* Prometheus' TYPE */

/* A counter's value; the sum over the reasons for a by_reason one. */
uint64_t	 counter_value(const struct counters *, const struct counter_def *);
json_t		*counters_json(const struct counters *);
/* Fills c from a stats JSON "counters" object: what is missing is 0. */
void		 counters_from_json(struct counters *, json_t *);
/* One counter of a stats JSON "counters" object, and one refusal. */
long long	 counter_json_get(json_t *, enum counter_id);
long long	 refused_json_get(json_t *, enum refusal);

#endif
