/*
 * The stats snapshot (stats.c's JSON) in Prometheus' text exposition
 * format, with zone, frontend, farm and server labels.  The shell's
 * `show stats prometheus` and mxlbd's --metrics endpoint both use it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
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
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
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

struct metric {
	const char	*name;		/* after mxlb_ */
	const char	*key;		/* in the counters object */
	const char	*type;
	const char	*help;
};

static const struct metric counters[] = {
	{ "sessions", "sessions_cur", "gauge", "Sessions open now." },
	{ "sessions_max", "sessions_max", "gauge", "Most sessions open at once." },
	{ "sessions_total", "sessions_total", "counter", "Sessions since start." },
	{ "queue", "queue_cur", "gauge", "Sessions waiting for a server slot." },
	{ "queue_max", "queue_max", "gauge", "Most sessions queued at once." },
	{ "bytes_in_total", "bytes_in", "counter", "Bytes from clients." },
	{ "bytes_out_total", "bytes_out", "counter", "Bytes to clients." },
	{ "connect_failures_total", "connect_fail", "counter",
	  "Failed connections to servers." },
	{ "redispatches_total", "redispatch", "counter",
	  "Sessions retried on another server after a failed connect." },
};

/* One object kind (frontend, farm, server) at a time, so each metric's
 * HELP and TYPE come once, before its samples. */
struct sample {
	json_t		*counters;
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
emit(struct buf *b, const char *kind, struct sample *v, size_t n)
{
	for (size_t m = 0; m < nitems(counters); m++) {
		bprintf(b, "# HELP mxlb_%s_%s %s\n# TYPE mxlb_%s_%s %s\n", kind,
		    counters[m].name, counters[m].help, kind, counters[m].name,
		    counters[m].type);
		for (size_t i = 0; i < n; i++) {
			bprintf(b, "mxlb_%s_%s", kind, counters[m].name);
			labels(b, &v[i]);
			bprintf(b, "} %lld\n", (long long)json_integer_value(
			    json_object_get(v[i].counters, counters[m].key)));
		}
	}
	bprintf(b, "# HELP mxlb_%s_refused_total Sessions refused (421 or "
	    "close), by reason.\n# TYPE mxlb_%s_refused_total counter\n", kind,
	    kind);
	for (size_t i = 0; i < n; i++) {
		const char *reason;
		json_t *count;
		json_object_foreach(json_object_get(v[i].counters, "refused"),
		    reason, count) {
			bprintf(b, "mxlb_%s_refused_total", kind);
			labels(b, &v[i]);
			label(b, "reason", reason, false);
			bprintf(b, "} %lld\n", (long long)json_integer_value(count));
		}
	}
}

struct samples {
	struct sample	*v;
	size_t		 n;
};

static void
add(struct samples *s, struct sample x)
{
	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	s->v[s->n++] = x;
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Server state as gauges: one series per state, 1 for the current one,
 * as Prometheus exporters do for enums. */
static void
server_states(struct buf *b, const struct samples *srv, json_t **objs)
{
	static const char *const probe[] = { "up", "down", "nolb",
	    "unchecked" };
	static const char *const admin[] = { "ready", "drain", "maint" };

	bprintf(b, "# HELP mxlb_server_probe_state Probe state of a server "
	    "(1 for the current state).\n# TYPE mxlb_server_probe_state gauge\n");
	for (size_t i = 0; i < srv->n; i++)
		for (size_t k = 0; k < nitems(probe); k++) {
			bprintf(b, "mxlb_server_probe_state");
			labels(b, &srv->v[i]);
			label(b, "state", probe[k], false);
			bprintf(b, "} %d\n", !strcmp(str(objs[i], "state"),
			    probe[k]));
		}
	bprintf(b, "# HELP mxlb_server_admin_state Admin state of a server "
	    "(1 for the current state).\n# TYPE mxlb_server_admin_state gauge\n");
	for (size_t i = 0; i < srv->n; i++)
		for (size_t k = 0; k < nitems(admin); k++) {
			bprintf(b, "mxlb_server_admin_state");
			labels(b, &srv->v[i]);
			label(b, "state", admin[k], false);
			bprintf(b, "} %d\n", !strcmp(str(objs[i], "admin"),
			    admin[k]));
		}
	bprintf(b, "# HELP mxlb_server_weight Configured weight.\n"
	    "# TYPE mxlb_server_weight gauge\n");
	for (size_t i = 0; i < srv->n; i++) {
		bprintf(b, "mxlb_server_weight");
		labels(b, &srv->v[i]);
		bprintf(b, "} %lld\n", (long long)json_integer_value(
		    json_object_get(objs[i], "weight")));
	}
	bprintf(b, "# HELP mxlb_server_check_seconds Duration of the last "
	    "probe.\n# TYPE mxlb_server_check_seconds gauge\n");
	for (size_t i = 0; i < srv->n; i++) {
		bprintf(b, "mxlb_server_check_seconds");
		labels(b, &srv->v[i]);
		bprintf(b, "} %.3f\n", (double)json_integer_value(
		    json_object_get(objs[i], "check_ms")) / 1000.0);
	}
}

char *
metrics_text(json_t *zones)
{
	struct buf b = { NULL, 0, 0 };
	struct samples fe = { NULL, 0 }, fa = { NULL, 0 }, sv = { NULL, 0 };
	json_t **sobj = NULL, *z, *o, *s;
	size_t i, j, k;

	bprintf(&b, "# HELP mxlb_up Whether the zone's engine answered.\n"
	    "# TYPE mxlb_up gauge\n");
	json_array_foreach(zones, i, z) {
		const char *zone = str(z, "zone");
		bprintf(&b, "mxlb_up{zone=\"%s\"} 1\n", zone);
		json_array_foreach(json_object_get(z, "frontends"), j, o)
			add(&fe, (struct sample){ json_object_get(o, "counters"),
			    zone, str(o, "name"), str(o, "farm"), NULL });
		json_array_foreach(json_object_get(z, "farms"), j, o) {
			add(&fa, (struct sample){ json_object_get(o, "counters"),
			    zone, NULL, str(o, "name"), NULL });
			json_array_foreach(json_object_get(o, "servers"), k, s) {
				add(&sv, (struct sample){ json_object_get(s,
				    "counters"), zone, NULL, str(o, "name"),
				    str(s, "name") });
				sobj = xreallocarray(sobj, sv.n, sizeof *sobj);
				sobj[sv.n - 1] = s;
			}
		}
	}
	bprintf(&b, "# HELP mxlb_uptime_seconds Seconds since the engine "
	    "started.\n# TYPE mxlb_uptime_seconds gauge\n");
	json_array_foreach(zones, i, z)
		bprintf(&b, "mxlb_uptime_seconds{zone=\"%s\"} %lld\n",
		    str(z, "zone"), (long long)json_integer_value(
		    json_object_get(z, "uptime")));
	emit(&b, "frontend", fe.v, fe.n);
	emit(&b, "farm", fa.v, fa.n);
	emit(&b, "server", sv.v, sv.n);
	server_states(&b, &sv, sobj);
	free(fe.v);
	free(fa.v);
	free(sv.v);
	free(sobj);
	if (b.s == NULL)
		b.s = xstrdup("");
	return b.s;
}
