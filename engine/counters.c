/* The table of counters.h and what reads and writes through it. */
#include <string.h>

#include "counters.h"

#define OFF(m)	offsetof(struct counters, m)

const struct counter_label refusal_label = { "reason", refusal_names,
    REFUSE_MAX, refusal_objects };
const struct counter_label check_label = { "result", check_result_names,
    CHECK_MAX, NULL };

const struct counter_def counter_defs[CNT_MAX] = {
	[CNT_SESSIONS_CUR] = { "sessions_cur", "sessions", OFF(cur), CK_GAUGE,
	    CU_SESSIONS, NULL, "Sessions open now.", OBJ_ALL },
	[CNT_SESSIONS_MAX] = { "sessions_max", "sessions_max", OFF(max),
	    CK_GAUGE, CU_SESSIONS, NULL, "Most sessions open at once.", OBJ_ALL },
	[CNT_SESSIONS_TOTAL] = { "sessions_total", "sessions_total",
	    OFF(total), CK_COUNTER, CU_SESSIONS, NULL,
	    "Sessions since start.", OBJ_ALL },
	[CNT_QUEUE_CUR] = { "queue_cur", "queue", OFF(qcur), CK_GAUGE,
	    CU_SESSIONS, NULL, "Sessions waiting for a server slot.", OBJ_ALL },
	[CNT_QUEUE_MAX] = { "queue_max", "queue_max", OFF(qmax), CK_GAUGE,
	    CU_SESSIONS, NULL, "Most sessions queued at once.", OBJ_ALL },
	[CNT_BYTES_IN] = { "bytes_in", "bytes_in_total", OFF(bytes_in),
	    CK_COUNTER, CU_BYTES, NULL, "Bytes from clients.", OBJ_ALL },
	[CNT_BYTES_OUT] = { "bytes_out", "bytes_out_total", OFF(bytes_out),
	    CK_COUNTER, CU_BYTES, NULL, "Bytes to clients.", OBJ_ALL },
	[CNT_CONNECT_FAIL] = { "connect_fail", "connect_failures_total",
	    OFF(connect_fail), CK_COUNTER, CU_SESSIONS, NULL,
	    "Failed connections to servers.", OBJ_ALL },
	[CNT_REDISPATCH] = { "redispatch", "redispatches_total",
	    OFF(redispatch), CK_COUNTER, CU_SESSIONS, NULL,
	    "Sessions retried on another server after a failed connect.", OBJ_ALL },
	[CNT_GREETING_TIMEOUT] = { "greeting_timeout",
	    "greeting_timeouts_total", OFF(greeting_timeout), CK_COUNTER,
	    CU_SESSIONS, NULL,
	    "Servers that did not greet within greeting-timeout.", OBJ_ALL },
	[CNT_GREETING_CLOSED] = { "greeting_closed", "greeting_closed_total",
	    OFF(greeting_closed), CK_COUNTER, CU_SESSIONS, NULL,
	    "Servers that closed, reset or sent garbage before their greeting.",
	    OBJ_ALL },
	[CNT_GREETING_REFUSED] = { "greeting_refused",
	    "greeting_refused_total", OFF(greeting_refused), CK_COUNTER,
	    CU_SESSIONS, NULL,
	    "Servers that greeted with 4xx or 5xx (redispatched).", OBJ_ALL },
	[CNT_XCLIENT_FAIL] = { "xclient_fail", "xclient_failures_total",
	    OFF(xclient_fail), CK_COUNTER, CU_SESSIONS, NULL,
	    "XCLIENT exchanges that failed (not offered, or refused).", OBJ_ALL },
	[CNT_REFUSED] = { "refused", "refused_total", OFF(refused), CK_COUNTER,
	    CU_SESSIONS, &refusal_label,
	    "Sessions refused (421 or close), by reason.", OBJ_ALL },
	[CNT_CHECKS] = { "checks", "checks_total", OFF(checks), CK_COUNTER,
	    CU_EVENTS, &check_label, "Probe checks, by result.", OBJ_SERVER },
	[CNT_STATE_CHANGES] = { "state_changes", "state_changes_total",
	    OFF(state_changes), CK_COUNTER, CU_EVENTS, NULL,
	    "Changes of the probe state (up, down, nolb).", OBJ_SERVER },
};

const char *const counter_kind_names[] = {
	[CK_COUNTER] = "counter",
	[CK_GAUGE] = "gauge",
};

static const uint64_t *
counter_at(const struct counters *c, const struct counter_def *d)
{
	return (const uint64_t *)(const void *)((const char *)c + d->off);
}

uint64_t
counter_value(const struct counters *c, const struct counter_def *d)
{
	const uint64_t *v = counter_at(c, d);
	uint64_t n = 0;

	if (d->by == NULL)
		return *v;
	for (size_t i = 0; i < d->by->n; i++)
		n += v[i];
	return n;
}

bool
counter_applies(const struct counter_def *d, unsigned obj)
{
	return d->objs == 0 || (d->objs & obj) != 0;
}

bool
counter_name_applies(const struct counter_def *d, size_t i, unsigned obj)
{
	return d->by->objs == NULL || (d->by->objs[i] & obj) != 0;
}

json_t *
counters_json(const struct counters *c, unsigned obj)
{
	json_t *o = json_object();

	for (int id = 0; id < CNT_MAX; id++) {
		const struct counter_def *d = &counter_defs[id];
		const uint64_t *v = counter_at(c, d);
		json_t *r;

		if (!counter_applies(d, obj))
			continue;
		if (d->by == NULL) {
			json_object_set_new(o, d->key,
			    json_integer((json_int_t)*v));
			continue;
		}
		r = json_object();
		for (size_t i = 0; i < d->by->n; i++)
			if (counter_name_applies(d, i, obj))
				json_object_set_new(r, d->by->names[i],
				    json_integer((json_int_t)v[i]));
		json_object_set_new(o, d->key, r);
	}
	return o;
}

static uint64_t
ju(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

void
counters_from_json(struct counters *c, json_t *o)
{
	memset(c, 0, sizeof *c);
	for (int id = 0; id < CNT_MAX; id++) {
		uint64_t *v = (uint64_t *)(void *)((char *)c +
		    counter_defs[id].off);
		json_t *r = json_object_get(o, counter_defs[id].key);

		if (counter_defs[id].by == NULL)
			*v = (uint64_t)json_integer_value(r);
		else
			for (size_t i = 0; i < counter_defs[id].by->n; i++)
				v[i] = ju(r, counter_defs[id].by->names[i]);
	}
}

long long
counter_json_get(json_t *o, enum counter_id id)
{
	json_t *v = json_object_get(o, counter_defs[id].key), *n;
	const char *reason;
	long long sum = 0;

	if (counter_defs[id].by == NULL)
		return (long long)json_integer_value(v);
	/* Every name the engine sent, also one this shell does not know. */
	json_object_foreach(v, reason, n)
		sum += (long long)json_integer_value(n);
	return sum;
}

long long
refused_json_get(json_t *o, enum refusal why)
{
	return (long long)json_integer_value(json_object_get(json_object_get(o,
	    counter_defs[CNT_REFUSED].key), refusal_names[why]));
}
