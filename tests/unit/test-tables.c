/*
 * The tables declared once (engine/names.h, engine/counters.h) and what
 * is derived from them: every state and reason has a name of its own;
 * every counter of struct counters is in the table once, reaches the stats
 * JSON and the Prometheus text, and comes back through the monitor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "metrics.h"
#include "monitor.h"
#include "names.h"
#include "proto.h"

/* A table of n names: each non-empty, distinct, found at its own index. */
static void
names_distinct(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_non_null(names[i]);
		assert_true(names[i][0] != '\0');
		assert_int_equal(names_find(names, n, names[i]), (int)i);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
	}
	assert_int_equal(names_find(names, n, "no-such-word"), -1);
	assert_int_equal(names_find(names, n, NULL), -1);
}

static void
test_every_name_is_set_and_distinct(void **state)
{
	(void)state;
	names_distinct(admin_names, ADMIN_MAX);
	names_distinct(pstate_names, PSTATE_MAX);
	names_distinct(refusal_names, REFUSE_MAX);
	names_distinct(check_result_names, CHECK_MAX);
	names_distinct(end_names, END_MAX);
	/* Every refusal says where it counts; the frontend and its farm
	 * count them all. */
	for (int r = 0; r < REFUSE_MAX; r++)
		assert_int_equal(refusal_objects[r] & (OBJ_FRONTEND | OBJ_FARM),
		    OBJ_FRONTEND | OBJ_FARM);
	names_distinct(session_state_names, SESSION_MAX);
	/* The command words are the table's words. */
	assert_string_equal(admin_names[ADMIN_DRAIN], ADMIN_WORD_DRAIN);
	assert_string_equal(admin_names[ADMIN_MAINT], ADMIN_WORD_MAINT);
	assert_string_equal(admin_names[ADMIN_READY], ADMIN_WORD_READY);
}

static void
test_names_join(void **state)
{
	char b[64], small[8];

	(void)state;
	assert_string_equal(names_join(b, sizeof b, admin_names, ADMIN_MAX,
	    "|"), "ready|drain|maint");
	assert_string_equal(names_join(b, sizeof b, pstate_names,
	    PSTATE_UNCHECKED, ", "), "up, down, nolb");
	/* Cut, never overrun. */
	names_join(small, sizeof small, refusal_names, REFUSE_MAX, "|");
	assert_int_equal(strlen(small), sizeof small - 1);
}

/* Every byte of struct counters belongs to exactly one row. */
static void
test_table_covers_struct_counters(void **state)
{
	unsigned char seen[sizeof(struct counters)];

	(void)state;
	memset(seen, 0, sizeof seen);
	for (int id = 0; id < CNT_MAX; id++) {
		const struct counter_def *d = &counter_defs[id];
		size_t len = sizeof(uint64_t) * (d->by ? d->by->n : 1);

		assert_non_null(d->key);
		assert_non_null(d->metric);
		assert_non_null(d->help);
		assert_true(d->off % sizeof(uint64_t) == 0);
		assert_true(d->off + len <= sizeof seen);
		for (size_t k = d->off; k < d->off + len; k++)
			assert_int_equal(seen[k]++, 0);
		for (int j = 0; j < id; j++) {
			assert_string_not_equal(d->key, counter_defs[j].key);
			assert_string_not_equal(d->metric,
			    counter_defs[j].metric);
		}
		/* Prometheus: a counter's name ends in _total. */
		if (d->kind == CK_COUNTER)
			assert_non_null(strstr(d->metric, "_total"));
	}
	for (size_t k = 0; k < sizeof seen; k++)
		assert_int_equal(seen[k], 1);
}

/* Counters with a different value in every member. */
static void
distinct_counters(struct counters *c)
{
	uint64_t *v = (uint64_t *)(void *)c;

	for (size_t i = 0; i < sizeof *c / sizeof *v; i++)
		v[i] = 1000 + i;
}

static void
test_stats_json_round_trip(void **state)
{
	struct counters c, back;
	struct mon_counters mon;
	json_t *o;

	(void)state;
	distinct_counters(&c);
	o = counters_json(&c, OBJ_ALL);
	assert_int_equal(json_object_size(o), CNT_MAX);
	for (int id = 0; id < CNT_MAX; id++) {
		json_t *v = json_object_get(o, counter_defs[id].key);
		assert_non_null(v);
		assert_int_equal(counter_json_get(o, (enum counter_id)id),
		    (long long)counter_value(&c, &counter_defs[id]));
		if (counter_defs[id].by != NULL)
			assert_int_equal(json_object_size(v),
			    counter_defs[id].by->n);
	}
	for (int r = 0; r < REFUSE_MAX; r++)
		assert_int_equal(refused_json_get(o, (enum refusal)r),
		    (long long)c.refused[r]);
	counters_from_json(&back, o);
	assert_memory_equal(&back, &c, sizeof c);
	/* The monitor reads every counter, under the engine's names. */
	mon_counters_from_json(&mon, o);
	assert_memory_equal(&mon.n, &c, sizeof c);
	assert_int_equal(mon.cur, c.cur);
	assert_int_equal(mon.redispatch, c.redispatch);
	assert_int_equal(mon.refused[REFUSE_FD_LIMIT], c.refused[REFUSE_FD_LIMIT]);
	json_decref(o);
}

/* Each object gets the counters and the names kept for it, no others. */
static void
test_stats_json_by_object(void **state)
{
	static const unsigned objs[] = { OBJ_FRONTEND, OBJ_FARM, OBJ_SERVER };
	struct counters c;

	(void)state;
	distinct_counters(&c);
	for (size_t k = 0; k < 3; k++) {
		json_t *o = counters_json(&c, objs[k]);
		for (int id = 0; id < CNT_MAX; id++) {
			const struct counter_def *d = &counter_defs[id];
			json_t *v = json_object_get(o, d->key);
			assert_int_equal(v != NULL,
			    counter_applies(d, objs[k]));
			if (v == NULL || d->by == NULL)
				continue;
			for (size_t i = 0; i < d->by->n; i++)
				assert_int_equal(json_object_get(v,
				    d->by->names[i]) != NULL,
				    counter_name_applies(d, i, objs[k]));
		}
		json_decref(o);
	}
	/* What the issue named: no frontend-only reason for a server,
	 * probe results only for a server. */
	assert_false(counter_name_applies(&counter_defs[CNT_REFUSED],
	    REFUSE_FRONTEND_MAXCONN, OBJ_SERVER));
	assert_true(counter_name_applies(&counter_defs[CNT_REFUSED],
	    REFUSE_QUEUE_TIMEOUT, OBJ_SERVER));
	assert_false(counter_applies(&counter_defs[CNT_CHECKS], OBJ_FARM));
	assert_true(counter_applies(&counter_defs[CNT_CHECKS], OBJ_SERVER));
}

/* One zone, one frontend, farm and server, as the engine's stats. */
static json_t *
stats_fixture(const struct counters *c)
{
	json_t *srv = json_pack("{s:s,s:s,s:s,s:i,s:o}", K_NAME, "s1", K_ADMIN,
	    admin_names[ADMIN_DRAIN], K_STATE, pstate_names[PSTATE_NOLB],
	    K_CHECK_MS, 5, K_COUNTERS, counters_json(c, OBJ_SERVER));
	json_t *farm = json_pack("{s:s,s:o,s:[o]}", K_NAME, "mx", K_COUNTERS,
	    counters_json(c, OBJ_FARM), K_SERVERS, srv);
	json_t *fe = json_pack("{s:s,s:s,s:i,s:o}", K_NAME, "in", K_FARM, "mx",
	    K_MAXCONN, 42, K_COUNTERS, counters_json(c, OBJ_FRONTEND));

	return json_pack("[{s:s,s:s,s:i,s:i,s:[o],s:[o]}]", K_ZONE, "z1",
	    K_VERSION, "9.8.7", K_UPTIME, 7, K_STARTED, 1700000000,
	    K_FRONTENDS, fe, K_FARMS, farm);
}

static void
test_prometheus_has_every_counter(void **state)
{
	struct counters c;
	json_t *zones;
	char *text, line[256];

	(void)state;
	distinct_counters(&c);
	zones = stats_fixture(&c);
	text = metrics_text(zones);
	for (int id = 0; id < CNT_MAX; id++) {
		const struct counter_def *d = &counter_defs[id];
		static const char *const kinds[] = { "frontend", "farm",
		    "server" };
		static const unsigned objs[] = { OBJ_FRONTEND, OBJ_FARM,
		    OBJ_SERVER };
		for (size_t k = 0; k < 3; k++) {
			snprintf(line, sizeof line, "# TYPE mxlb_%s_%s %s\n",
			    kinds[k], d->metric, counter_kind_names[d->kind]);
			assert_int_equal(strstr(text, line) != NULL,
			    counter_applies(d, objs[k]));
			snprintf(line, sizeof line, "# HELP mxlb_%s_%s %s\n",
			    kinds[k], d->metric, d->help);
			assert_int_equal(strstr(text, line) != NULL,
			    counter_applies(d, objs[k]));
		}
		if (d->by == NULL) {
			snprintf(line, sizeof line, "mxlb_server_%s{zone=\"z1\","
			    "farm=\"mx\",server=\"s1\"} %llu\n", d->metric,
			    (unsigned long long)counter_value(&c, d));
			assert_non_null(strstr(text, line));
			continue;
		}
		for (size_t i = 0; i < d->by->n; i++) {
			const uint64_t *v = (const uint64_t *)(const void *)
			    ((const char *)&c + d->off);
			snprintf(line, sizeof line, "mxlb_server_%s{zone=\"z1\","
			    "farm=\"mx\",server=\"s1\",%s=\"%s\"} %llu\n",
			    d->metric, d->by->label, d->by->names[i],
			    (unsigned long long)v[i]);
			assert_int_equal(strstr(text, line) != NULL,
			    counter_name_applies(d, i, OBJ_SERVER) &&
			    counter_applies(d, OBJ_SERVER));
			if (!counter_applies(d, OBJ_FARM))
				continue;
			snprintf(line, sizeof line, "mxlb_farm_%s{zone=\"z1\","
			    "farm=\"mx\",%s=\"%s\"} %llu\n", d->metric,
			    d->by->label, d->by->names[i],
			    (unsigned long long)v[i]);
			assert_non_null(strstr(text, line));
		}
	}
	assert_non_null(strstr(text, "mxlb_build_info{zone=\"z1\","
	    "version=\"9.8.7\"} 1\n"));
	assert_non_null(strstr(text, "mxlb_start_time_seconds{zone=\"z1\"} "
	    "1700000000\n"));
	assert_non_null(strstr(text, "mxlb_frontend_maxconn{zone=\"z1\","
	    "frontend=\"in\",farm=\"mx\"} 42\n"));
	/* No maxconn set on the server: no series. */
	assert_null(strstr(text, "mxlb_server_maxconn{"));
	/* Every state is a series; the current one is 1. */
	for (int s = 0; s < PSTATE_MAX; s++) {
		snprintf(line, sizeof line, "mxlb_server_probe_state{zone=\"z1\","
		    "farm=\"mx\",server=\"s1\",state=\"%s\"} %d\n",
		    pstate_names[s], s == PSTATE_NOLB);
		assert_non_null(strstr(text, line));
	}
	for (int s = 0; s < ADMIN_MAX; s++) {
		snprintf(line, sizeof line, "mxlb_server_admin_state{zone=\"z1\","
		    "farm=\"mx\",server=\"s1\",state=\"%s\"} %d\n",
		    admin_names[s], s == ADMIN_DRAIN);
		assert_non_null(strstr(text, line));
	}
	free(text);
	json_decref(zones);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_name_is_set_and_distinct),
		cmocka_unit_test(test_names_join),
		cmocka_unit_test(test_table_covers_struct_counters),
		cmocka_unit_test(test_stats_json_round_trip),
		cmocka_unit_test(test_stats_json_by_object),
		cmocka_unit_test(test_prometheus_has_every_counter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
