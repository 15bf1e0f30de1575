/* `mxlbd --metrics ADDR:PORT`: the counters over HTTP for Prometheus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "engine.h"
#include "metrics.h"
#include "worker.h"

static void
serve(struct evhttp_request *req, void *arg)
{
	struct engine *eng = arg;
	struct evbuffer *out;
	json_t *zones;
	char *text;

	if (strcmp(evhttp_request_get_uri(req), "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
		return;
	}
	zones = json_array();
	engine_lock();
	json_array_append_new(zones, stats_json(eng));
	engine_unlock();
	text = metrics_text(zones);
	json_decref(zones);
	out = evbuffer_new();
	evbuffer_add(out, text, strlen(text));
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

static long
metrics_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return sockaddr_port((struct sockaddr *)&ss);
}

/* "127.0.0.1:9625" or "[::1]:9625" or ":9625" (every address). */
struct evhttp *
metrics_listen(struct engine *eng, const char *spec, struct errs *e)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	char msg[128];
	uint16_t port;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof host ||
	    port_parse(colon + 1, PORT_MIN, PORT_MAX, &port, msg,
	    sizeof msg) == -1) {
		errs_add(e, "--metrics %s: expected ADDRESS:PORT", spec);
		return NULL;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	http = evhttp_new(eng->base);
	evhttp_set_gencb(http, serve, eng);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
	evhttp_set_timeout(http, 10);
	/* Taken over with the frontends (--takeover): the same port. */
	if (eng->adopt_metrics != -1 && metrics_port(eng->adopt_metrics) ==
	    port && (bound = evhttp_accept_socket_with_handle(http,
	    eng->adopt_metrics)) != NULL)
		eng->adopt_metrics = -1;
	else if ((bound = evhttp_bind_socket_with_handle(http, host[0] ? host :
	    "::", port)) == NULL) {
		errs_add(e, "--metrics %s: cannot listen there", spec);
		evhttp_free(http);
		return NULL;
	}
	eng->metrics_fd = evhttp_bound_socket_get_fd(bound);
	eng->metrics_http = http;
	eng->metrics_bound = bound;
	return http;
}
