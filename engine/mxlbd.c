/* mxlbd: the forwarding engine of one zone. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

#define STOP_GRACE_S	60	/* sessions get this long to end at SIGTERM */

struct mxlbd {
	struct engine	*eng;
	const char	*config_path;
	struct event	*housekeeping;
	struct event	*deadline;
	unsigned	 ticks;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: mxlbd -z ZONE -c FILE.json [-f]   run a zone\n"
	    "       mxlbd -n -c FILE.json             check a config file\n"
	    "  -z ZONE  the zone this engine runs\n"
	    "  -c FILE  the zone's config, as JSON\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -n       check the config, report every error, and exit\n");
	exit(2);
}

static struct config *
load(const char *path, const char *zone)
{
	struct errs e = { NULL, 0 };
	struct config *c = config_load_file(path, &e);

	if (c != NULL && zone != NULL && strcmp(c->zone, zone) != 0)
		errs_add(&e, "%s: zone is \"%s\", not \"%s\"", path, c->zone,
		    zone);
	for (size_t i = 0; i < e.n; i++)
		log_warn("config: %s", e.v[i]);
	if (e.n > 0) {
		config_free(c);
		c = NULL;
	}
	errs_free(&e);
	return c;
}

static int
check_only(const char *path)
{
	struct errs e = { NULL, 0 };
	struct config *c = config_load_file(path, &e);

	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "%s\n", e.v[i]);
	if (c == NULL) {
		fprintf(stderr, "%s: %zu error%s\n", path, e.n,
		    e.n == 1 ? "" : "s");
		errs_free(&e);
		return 1;
	}
	printf("%s: zone %s: %zu farm%s, %zu frontend%s: OK\n", path, c->zone,
	    c->nfarms, c->nfarms == 1 ? "" : "s", c->nfrontends,
	    c->nfrontends == 1 ? "" : "s");
	config_free(c);
	return 0;
}

static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct mxlbd *d = arg;
	struct config *c;
	struct errs e = { NULL, 0 };

	(void)sig;
	(void)what;
	if ((c = load(d->config_path, d->eng->zone)) == NULL) {
		log_warn("reload: %s refused, the running config stays",
		    d->config_path);
		return;
	}
	if (engine_apply(d->eng, c, &e) == -1) {
		for (size_t i = 0; i < e.n; i++)
			log_warn("reload: %s", e.v[i]);
		log_warn("reload: refused, the running config stays");
		config_free(c);
	} else
		log_warn("reload: %s applied", d->config_path);
	errs_free(&e);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct mxlbd *d = arg;

	(void)fd;
	(void)what;
	log_warn("stop: %llu sessions still open after %d s, closing them",
	    (unsigned long long)d->eng->nsessions, STOP_GRACE_S);
	event_base_loopexit(d->eng->base, NULL);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct mxlbd *d = arg;
	struct timeval tv = { STOP_GRACE_S, 0 };

	(void)what;
	if (d->eng->stopping)
		return;
	log_warn("stop: signal %d, no new sessions, %llu open", (int)sig,
	    (unsigned long long)d->eng->nsessions);
	d->deadline = evtimer_new(d->eng->base, on_deadline, d);
	evtimer_add(d->deadline, &tv);
	engine_stop(d->eng);
}

static void
on_stats(evutil_socket_t sig, short what, void *arg)
{
	struct mxlbd *d = arg;
	json_t *j = stats_json(d->eng);
	char *s = json_dumps(j, JSON_COMPACT);

	(void)sig;
	(void)what;
	log_info("stats %s", s);
	free(s);
	json_decref(j);
	log_flush();
}

static void
on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
	struct mxlbd *d = arg;

	(void)fd;
	(void)what;
	log_flush();
	if (++d->ticks % 100 == 0)
		for (size_t i = 0; i < d->eng->nfes; i++)
			srctable_sweep(d->eng->fes[i]->sources, now_ms());
}

/* Sessions need two descriptors each: take all the system allows. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
run(const char *zone, const char *path, bool foreground)
{
	struct mxlbd d = { NULL, path, NULL, NULL, 0 };
	struct event_base *base;
	struct event *sigs[5];
	struct timeval hk = { 0, 100 * 1000 };
	struct errs e = { NULL, 0 };
	struct config *c;
	int rc = 0;

	log_init(zone, foreground);
	if ((c = load(path, zone)) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	srandom((unsigned)(time(NULL) ^ getpid()));
	base = event_base_new();
	d.eng = engine_new(base, zone);
	if (engine_apply(d.eng, c, &e) == -1) {
		for (size_t i = 0; i < e.n; i++)
			log_warn("start: %s", e.v[i]);
		config_free(c);
		rc = 1;
		goto out;
	}
	if (!foreground && daemon(0, 0) == -1) {
		log_warn("daemon: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	event_reinit(base);
	sigs[0] = evsignal_new(base, SIGTERM, on_stop, &d);
	sigs[1] = evsignal_new(base, SIGINT, on_stop, &d);
	sigs[2] = evsignal_new(base, SIGHUP, on_reload, &d);
	sigs[3] = evsignal_new(base, SIGUSR1, on_stats, &d);
	sigs[4] = event_new(base, -1, EV_PERSIST, on_housekeeping, &d);
	for (size_t i = 0; i < 4; i++)
		evsignal_add(sigs[i], NULL);
	evtimer_add(sigs[4], &hk);
	log_warn("ready zone=%s pid=%d version=%s", zone, (int)getpid(),
	    MXLB_VERSION);
	event_base_dispatch(base);
	log_warn("stopped zone=%s", zone);
	for (size_t i = 0; i < nitems(sigs); i++)
		event_free(sigs[i]);
	if (d.deadline != NULL)
		event_free(d.deadline);
out:
	errs_free(&e);
	engine_free(d.eng);
	event_base_free(base);
	log_flush();
	return rc;
}

int
main(int argc, char **argv)
{
	const char *zone = NULL, *path = NULL;
	bool foreground = false, check = false;
	int ch;

	while ((ch = getopt(argc, argv, "c:fhnz:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'z':
			zone = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || path == NULL)
		usage();
	if (check)
		return check_only(path);
	if (zone == NULL)
		usage();
	return run(zone, path, foreground);
}
