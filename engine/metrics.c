/*
 * The stats snapshot (stats.c's JSON) in Prometheus' text exposition
 * format, with zone, frontend, farm and server labels.  The shell's
 * `show stats prometheus` and mxlbd's --metrics endpoint both use it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "metrics.h"
#include "proto.h"
#include "util.h"

struct buf {
	char	*s;
	size_t	 len, cap;
};

static void
bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		/* Before the first allocation s is NULL and cap 0: vsnprintf
		 * only measures (NULL + 0 is undefined, clang's UBSan says). */
		n = vsnprintf(b->s == NULL ? NULL : b->s + b->len,
		    b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 64;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
}

/* Label values are quoted; a backslash, quote or newline is escaped. */
static void
label(struct buf *b, const char *key, const char *v, bool first)
{
	bprintf(b, "%s%s=\"", first ? "" : ",", key);
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			bprintf(b, "\\%c", *v);
		else if (*v == '\n')
			bprintf(b, "\\n");
		else
			bprintf(b, "%c", *v);
	}
	bprintf(b, "\"");
}

/* One object kind (frontend, farm, server) at a time, so each metric's
 * HELP and TYPE come once, before its samples. */
struct sample {
	json_t		*obj, *counters;
	const char	*zone, *frontend, *farm, *server;
};

static void
labels(struct buf *b, const struct sample *s)
{
	bprintf(b, "{");
	label(b, "zone", s->zone, true);
	if (s->frontend)
		label(b, "frontend", s->frontend, false);
	if (s->farm)
		label(b, "farm", s->farm, false);
	if (s->server)
		label(b, "server", s->server, false);
}

static void
sample_line(struct buf *b, const char *kind, const struct counter_def *d,
    const struct sample *v, const char *name, json_t *count)
{
	bprintf(b, "mxlb_%s_%s", kind, d->metric);
	labels(b, v);
	if (name != NULL)
		label(b, d->by->label, name, false);
	bprintf(b, "} %lld\n", (long long)json_integer_value(count));
}

/* A name this table knows and does not keep for obj: an engine of
 * before the table said so sent it (always 0). */
static bool
name_skipped(const struct counter_def *d, const char *name, unsigned obj)
{
	int i = names_find(d->by->names, d->by->n, name);

	return i >= 0 && !counter_name_applies(d, (size_t)i, obj);
}

static void
emit(struct buf *b, const char *kind, unsigned obj, struct sample *v,
    size_t n)
{
	for (size_t m = 0; m < CNT_MAX; m++) {
		const struct counter_def *d = &counter_defs[m];
		if (!counter_applies(d, obj))
			continue;
		bprintf(b, "# HELP mxlb_%s_%s %s\n# TYPE mxlb_%s_%s %s\n", kind,
		    d->metric, d->help, kind, d->metric,
		    counter_kind_names[d->kind]);
		for (size_t i = 0; i < n; i++) {
			json_t *c = json_object_get(v[i].counters, d->key), *r;
			const char *name;
			if (d->by == NULL) {
				sample_line(b, kind, d, &v[i], NULL, c);
				continue;
			}
			json_object_foreach(c, name, r)
				if (!name_skipped(d, name, obj))
					sample_line(b, kind, d, &v[i], name, r);
		}
	}
}

/* One value of each object as a gauge NAME, for the objects that have
 * it (a limit their config sets, a queue their agent reported). */
static void
gauge(struct buf *b, const char *name, const char *key, const char *help,
    const struct sample *v, size_t n)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_object_get(v[i].obj, key);
		if (!json_is_integer(x))
			continue;
		bprintf(b, "%s", name);
		labels(b, &v[i]);
		bprintf(b, "} %lld\n", (long long)json_integer_value(x));
	}
}

struct samples {
	struct sample	*v;
	size_t		 n;
};

static void
add(struct samples *s, struct sample x)
{
	*ARRAY_PUSH(s->v, s->n) = x;
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Server state as gauges: one series per state, 1 for the current one,
 * as Prometheus exporters do for enums. */
static void
server_states(struct buf *b, const struct samples *srv)
{
	bprintf(b, "# HELP mxlb_server_probe_state Probe state of a server "
	    "(1 for the current state).\n# TYPE mxlb_server_probe_state gauge\n");
	for (size_t i = 0; i < srv->n; i++)
		for (size_t k = 0; k < PSTATE_MAX; k++) {
			bprintf(b, "mxlb_server_probe_state");
			labels(b, &srv->v[i]);
			label(b, "state", pstate_names[k], false);
			bprintf(b, "} %d\n", !strcmp(str(srv->v[i].obj,
			    K_STATE), pstate_names[k]));
		}
	bprintf(b, "# HELP mxlb_server_admin_state Admin state of a server "
	    "(1 for the current state).\n# TYPE mxlb_server_admin_state gauge\n");
	for (size_t i = 0; i < srv->n; i++)
		for (size_t k = 0; k < ADMIN_MAX; k++) {
			bprintf(b, "mxlb_server_admin_state");
			labels(b, &srv->v[i]);
			label(b, "state", admin_names[k], false);
			bprintf(b, "} %d\n", !strcmp(str(srv->v[i].obj,
			    K_ADMIN), admin_names[k]));
		}
	bprintf(b, "# HELP mxlb_server_transport How a server learns the "
	    "client's address (1 for its transport).\n"
	    "# TYPE mxlb_server_transport gauge\n");
	for (size_t i = 0; i < srv->n; i++) {
		const char *t = str(srv->v[i].obj, K_TRANSPORT);
		for (size_t k = 0; t != NULL && k < TRANSPORT_MAX; k++) {
			bprintf(b, "mxlb_server_transport");
			labels(b, &srv->v[i]);
			label(b, "transport", transport_names[k], false);
			bprintf(b, "} %d\n", !strcmp(t, transport_names[k]));
		}
	}
	gauge(b, "mxlb_server_weight", K_WEIGHT, "Configured weight.", srv->v,
	    srv->n);
	bprintf(b, "# HELP mxlb_server_check_seconds Duration of the last "
	    "probe.\n# TYPE mxlb_server_check_seconds gauge\n");
	for (size_t i = 0; i < srv->n; i++) {
		bprintf(b, "mxlb_server_check_seconds");
		labels(b, &srv->v[i]);
		bprintf(b, "} %.3f\n", (double)json_integer_value(
		    json_object_get(srv->v[i].obj, K_CHECK_MS)) / 1000.0);
	}
}

/* Per zone: the engine's version and start, beside mxlb_up. */
static void
zone_gauges(struct buf *b, json_t *zones)
{
	json_t *z, *v;
	size_t i;

	bprintf(b, "# HELP mxlb_build_info The engine's version (the value is "
	    "1).\n# TYPE mxlb_build_info gauge\n");
	json_array_foreach(zones, i, z) {
		bprintf(b, "mxlb_build_info{");
		label(b, "zone", str(z, K_ZONE), true);
		label(b, "version", str(z, K_VERSION), false);
		bprintf(b, "} 1\n");
	}
	bprintf(b, "# HELP mxlb_start_time_seconds When the engine started, "
	    "as Unix time.\n# TYPE mxlb_start_time_seconds gauge\n");
	json_array_foreach(zones, i, z) {
		if (!json_is_integer(v = json_object_get(z, K_STARTED)))
			continue;
		bprintf(b, "mxlb_start_time_seconds{");
		label(b, "zone", str(z, K_ZONE), true);
		bprintf(b, "} %lld\n", (long long)json_integer_value(v));
	}
	bprintf(b, "# HELP mxlb_uptime_seconds Seconds since the engine "
	    "started.\n# TYPE mxlb_uptime_seconds gauge\n");
	json_array_foreach(zones, i, z)
		bprintf(b, "mxlb_uptime_seconds{zone=\"%s\"} %lld\n",
		    str(z, K_ZONE), (long long)json_integer_value(
		    json_object_get(z, K_UPTIME)));
}

/* Per worker of each zone (mxlbd --workers): how the sessions spread. */
static void
worker_series(struct buf *b, json_t *zones)
{
	static const struct { const char *name, *key, *type, *help; } ws[] = {
		{ "mxlb_worker_accepted_total", K_ACCEPTED, "counter",
		    "Connections the worker accepted." },
		{ "mxlb_worker_sessions", K_SESSIONS, "gauge",
		    "Sessions open in the worker now." },
	};
	json_t *z, *w;
	size_t i, j;

	for (size_t k = 0; k < nitems(ws); k++) {
		bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", ws[k].name,
		    ws[k].help, ws[k].name, ws[k].type);
		json_array_foreach(zones, i, z)
			json_array_foreach(json_object_get(z, K_WORKERS), j, w)
				bprintf(b, "%s{zone=\"%s\",worker=\"%zu\"} "
				    "%lld\n", ws[k].name, str(z, K_ZONE), j,
				    (long long)json_integer_value(
				    json_object_get(w, ws[k].key)));
	}
}

char *
metrics_text(json_t *zones)
{
	struct buf b = { NULL, 0, 0 };
	struct samples fe = { NULL, 0 }, fa = { NULL, 0 }, sv = { NULL, 0 };
	json_t *z, *o, *s;
	size_t i, j, k;

	bprintf(&b, "# HELP mxlb_up Whether the zone's engine answered.\n"
	    "# TYPE mxlb_up gauge\n");
	json_array_foreach(zones, i, z) {
		const char *zone = str(z, K_ZONE);
		bprintf(&b, "mxlb_up{zone=\"%s\"} 1\n", zone);
		json_array_foreach(json_object_get(z, K_FRONTENDS), j, o)
			add(&fe, (struct sample){ o, json_object_get(o,
			    K_COUNTERS), zone, str(o, K_NAME), str(o, K_FARM),
			    NULL });
		json_array_foreach(json_object_get(z, K_FARMS), j, o) {
			add(&fa, (struct sample){ o, json_object_get(o,
			    K_COUNTERS), zone, NULL, str(o, K_NAME), NULL });
			json_array_foreach(json_object_get(o, K_SERVERS), k, s)
				add(&sv, (struct sample){ s, json_object_get(s,
				    K_COUNTERS), zone, NULL, str(o, K_NAME),
				    str(s, K_NAME) });
		}
	}
	zone_gauges(&b, zones);
	worker_series(&b, zones);
	emit(&b, K_FRONTEND, OBJ_FRONTEND, fe.v, fe.n);
	emit(&b, K_FARM, OBJ_FARM, fa.v, fa.n);
	emit(&b, K_SERVER, OBJ_SERVER, sv.v, sv.n);
	gauge(&b, "mxlb_frontend_maxconn", K_MAXCONN, "Sessions the frontend "
	    "takes at once (its maxconn).", fe.v, fe.n);
	gauge(&b, "mxlb_server_maxconn", K_MAXCONN, "Sessions the server takes "
	    "at once (its maxconn); more wait in its queue.", sv.v, sv.n);
	server_states(&b, &sv);
	/* Slow start and the agent check: the weight in use, and the queue
	 * of each MX whose agent reports one (mxlb agent's #queue=N). */
	gauge(&b, "mxlb_server_effective_weight", K_EFF_WEIGHT, "Weight "
	    "balancing uses now (slow start, agent); 0 when the server takes "
	    "no new sessions.", sv.v, sv.n);
	gauge(&b, "mxlb_server_mx_queue_messages", K_MX_QUEUE, "Messages in the "
	    "server's mail queue (active and deferred), as its agent last "
	    "said.", sv.v, sv.n);
	free(fe.v);
	free(fa.v);
	free(sv.v);
	if (b.s == NULL)
		b.s = xstrdup("");
	return b.s;
}
