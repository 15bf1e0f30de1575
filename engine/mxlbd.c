/* mxlbd: the forwarding engine of one zone. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/http.h>
#include <unistd.h>

#include "commit.h"
#include "engine.h"
#include "notify.h"
#include "schema.h"
#include "zone.h"

#define STOP_GRACE_S	60	/* sessions get this long to end at SIGTERM */

struct mxlbd {
	struct engine	*eng;
	struct txn	 txn;
	const char	*config_path;
	struct event	*housekeeping;
	struct event	*deadline;
	uint64_t	 swept;		/* ms: per-source tables last swept */
	struct evhttp	*http;
};

static void
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: mxlbd -z ZONE [-c FILE.json] [-f] [--rundir DIR] "
	    "[--statedir DIR]\n"
	    "             [--group GROUP] [--read-group GROUP]\n"
	    "       mxlbd -n -c FILE.json\n"
	    "  -z ZONE          the zone this engine runs\n"
	    "  -c FILE          import FILE as a new version if it differs "
	    "from the running one\n"
	    "  -f               stay in the foreground, log to stderr\n"
	    "  -n               check the config file, report every error, "
	    "exit\n"
	    "  --rundir DIR     control socket DIR/ZONE.sock (MXLB_RUNDIR)\n"
	    "  --statedir DIR   state in DIR/ZONE/ (MXLB_STATEDIR)\n"
	    "  --group GROUP    may change the zone (default: mxlb, if it "
	    "exists)\n"
	    "  --read-group G   may only look\n"
	    "  --metrics A:P    Prometheus metrics on http://A:P/metrics\n"
	    "  --user USER      after binding, run as USER\n"
	    "  --hostname NAME  the name in the 421 line (default: the FQDN)\n"
	    "  --syslog         log to syslog also with -f (the systemd unit)\n"
	    "  -V, --version    mxlbd's version\n"
	    "  -h, --help       this text\n");
	exit(status);
}

/* The config file's JSON Schema, for share/ and for editors. */
static int
print_schema(void)
{
	json_t *s = config_schema();
	int rc = json_dumpf(s, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(s);
	putchar('\n');
	return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
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

/* SIGHUP: import the -c file again, as the shell would commit it. */
static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct mxlbd *d = arg;
	struct errs e = { NULL, 0 };

	(void)sig;
	(void)what;
	notify_reloading();
	if (d->config_path == NULL)
		log_warn("reload: no -c file to read");
	else if (zone_import(d->eng, d->config_path, &e) == -1) {
		for (size_t i = 0; i < e.n; i++)
			log_err("reload: %s", e.v[i]);
		log_err("reload: %s refused, the running config stays",
		    d->config_path);
	}
	errs_free(&e);
	/* Ready again either way: a refused file leaves the running config
	 * serving, as it was. */
	notify_ready(d->eng, false);
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
	log_info("stop: signal %d, no new sessions, %llu open", (int)sig,
	    (unsigned long long)d->eng->nsessions);
	d->deadline = evtimer_new(d->eng->base, on_deadline, d);
	evtimer_add(d->deadline, &tv);
	engine_stop(d->eng);
	notify_stopping(d->eng);
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

#define SWEEP_MS	10000	/* per-source entries that count no more go */

/* Once a second under systemd (its status line), else every SWEEP_MS. */
static void
on_housekeeping(evutil_socket_t fd, short what, void *arg)
{
	struct mxlbd *d = arg;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	if (now - d->swept >= SWEEP_MS) {
		d->swept = now;
		for (size_t i = 0; i < d->eng->nfes; i++)
			srctable_sweep(d->eng->fes[i]->sources, now);
	}
	notify_status(d->eng);
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

/* --control-idle SECS (hidden, for tests): 0 keeps idle clients. */
static long
control_idle(const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 0 || v > 86400) {
		fprintf(stderr, "mxlbd: --control-idle \"%s\": seconds, 0 to "
		    "86400\n", arg);
		exit(2);
	}
	return v;
}

static int
prepare_hook(void *arg, const struct config *c, struct errs *e)
{
	return engine_prepare(arg, c, e);
}

static void
abort_hook(void *arg)
{
	engine_abort(arg);
}

static int
apply_hook(void *arg, struct config *c, struct errs *e)
{
	return engine_apply(arg, c, e);
}

struct options {
	const char	*zone, *path, *rundir, *statedir, *group, *read_group;
	const char	*metrics, *user, *hostname;
	long		 control_idle;	/* -1: the default */
	bool		 foreground, check, syslog;
};

/* A DNS name: it goes into the 421 line and EHLO as it is. */
static bool
hostname_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		    || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0;
}

/*
 * The name in the 421 line and the probes' EHLO, as Postfix's myhostname:
 * --hostname, else the FQDN of gethostname() (its canonical name), else
 * the short name when no FQDN is found.
 */
static void
set_hostname(struct engine *eng, const char *name)
{
	struct addrinfo hints, *res = NULL;

	if (name != NULL) {
		strlcpy_(eng->hostname, name, sizeof eng->hostname);
		return;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(eng->hostname, NULL, &hints, &res) == 0 &&
	    res->ai_canonname != NULL && strchr(res->ai_canonname, '.') &&
	    hostname_valid(res->ai_canonname))
		strlcpy_(eng->hostname, res->ai_canonname,
		    sizeof eng->hostname);
	if (res != NULL)
		freeaddrinfo(res);
}

/* Where logs go, and a word on stderr while it still reaches someone
 * when they would go nowhere. */
static void
setup_log(const struct options *o)
{
	const char *why;

	/*
	 * --syslog (the unit's choice) rather than stderr into the journal:
	 * syslog(3) gives every line its facility (mail), priority, tag
	 * mxlbd-ZONE and PID, and no timestamp of ours in the message, with
	 * journald as with any syslog daemon, and the same lines as a
	 * detached engine's.  Only a terminal also gets the start-up errors
	 * on stderr; under systemd that would log them twice.
	 */
	log_init(o->zone, o->foreground && !o->syslog);
	if (o->foreground && o->syslog && !isatty(STDERR_FILENO))
		log_detach();
	if ((!o->foreground || o->syslog) &&
	    (why = log_syslog_missing()) != NULL)
		fprintf(stderr, "mxlbd: warning: no syslog daemon at /dev/log "
		    "(%s): the log of zone %s is lost%s\n", why, o->zone,
		    o->foreground ? "" : " once detached; use -f to log to "
		    "stderr");
}

/* Directories, control socket, state, import: everything before serving. */
static int
setup(struct mxlbd *d, const struct options *o, struct errs *e)
{
	struct engine *eng = d->eng;
	gid_t admin = zone_group(o->group ? o->group : "mxlb",
	    o->group != NULL, e);
	gid_t reader = zone_group(o->read_group, true, e);
	char *rundir = zone_rundir(o->rundir), *statedir = zone_statedir(
	    o->statedir), *sock = xasprintf("%s/%s.sock", rundir, o->zone);
	int rc = -1;

	eng->statedir = xasprintf("%s/%s", statedir, o->zone);
	txn_init(&d->txn, o->zone);
	d->txn.prepare = prepare_hook;
	d->txn.abort = abort_hook;
	d->txn.apply = apply_hook;
	d->txn.save = state_save;
	d->txn.arg = eng;
	eng->txn = &d->txn;
	/* Zones may share the run directory: it is open to all (0755) and
	 * each socket has its own group and mode (control.c). */
	if (e->n > 0 || zone_mkdir(rundir, 0755, (gid_t)-1, e) == -1 ||
	    zone_mkdir(eng->statedir, 0750, (gid_t)-1, e) == -1)
		goto out;
	if ((eng->ctl = control_open(eng, sock, admin, reader, e)) == NULL)
		goto out;
	if (o->control_idle >= 0)
		control_set_idle(eng->ctl, (unsigned)o->control_idle);
	if (zone_restore(eng, e) == -1)
		goto out;
	if (o->path != NULL && zone_import(eng, o->path, e) == -1)
		goto out;
	if (o->metrics != NULL &&
	    (d->http = metrics_listen(eng, o->metrics, e)) == NULL)
		goto out;
	if (o->user != NULL && privdrop(eng, rundir, o->user, e) == -1)
		goto out;
	rc = 0;
out:
	free(rundir);
	free(statedir);
	free(sock);
	return rc;
}

static int
run(const struct options *o)
{
	struct mxlbd d;
	struct event_base *base;
	struct event *sigs[5];
	struct timeval hk = ms_timeval(notify_enabled() ? 1000 : SWEEP_MS);
	struct errs e = { NULL, 0 };
	int rc = 0;

	if (o->hostname != NULL && !hostname_valid(o->hostname)) {
		fputs("mxlbd: --hostname \"", stderr);
		for (const unsigned char *p = (const unsigned char *)o->hostname;
		    *p; p++)
			fprintf(stderr, *p < 0x20 || *p >= 0x7f ? "\\x%02x" :
			    "%c", *p);
		fputs("\": a host name is 1-253 of A-Z a-z 0-9 - _ in "
		    "dot-separated labels of 1-63\n", stderr);
		return 2;
	}
	memset(&d, 0, sizeof d);
	d.config_path = o->path;
	setup_log(o);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	srandom((unsigned)(time(NULL) ^ getpid()));
	base = event_base_new();
	d.eng = engine_new(base, o->zone);
	set_hostname(d.eng, o->hostname);
	if (setup(&d, o, &e) == -1) {
		for (size_t i = 0; i < e.n; i++)
			log_err("start: %s", e.v[i]);
		log_err("start: zone %s not started", o->zone);
		rc = 1;
		goto out;
	}
	if (!o->foreground && daemon(0, 0) == -1) {
		log_err("daemon: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	if (!o->foreground)
		log_detach();
	event_reinit(base);
	log_timer(base);
	sigs[0] = evsignal_new(base, SIGTERM, on_stop, &d);
	sigs[1] = evsignal_new(base, SIGINT, on_stop, &d);
	sigs[2] = evsignal_new(base, SIGHUP, on_reload, &d);
	sigs[3] = evsignal_new(base, SIGUSR1, on_stats, &d);
	sigs[4] = event_new(base, -1, EV_PERSIST, on_housekeeping, &d);
	for (size_t i = 0; i < 4; i++)
		evsignal_add(sigs[i], NULL);
	evtimer_add(sigs[4], &hk);
	d.swept = now_ms();
	log_info("ready zone=%s pid=%d version=%s running=%llu hostname=%s",
	    o->zone, (int)getpid(), MXLB_VERSION,
	    (unsigned long long)d.txn.running, d.eng->hostname);
	/* Listeners are bound and the config runs. */
	notify_ready(d.eng, !o->foreground);
	event_base_dispatch(base);
	log_info("stopped zone=%s", o->zone);
	for (size_t i = 0; i < nitems(sigs); i++)
		event_free(sigs[i]);
	if (d.deadline != NULL)
		event_free(d.deadline);
out:
	errs_free(&e);
	if (d.http != NULL)
		evhttp_free(d.http);
	control_close(d.eng->ctl);
	d.eng->ctl = NULL;
	engine_free(d.eng);
	txn_free(&d.txn);
	log_timer(NULL);
	event_base_free(base);
	log_flush();
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "statedir", required_argument, NULL, 'S' },
		{ "group", required_argument, NULL, 'G' },
		{ "read-group", required_argument, NULL, 'r' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "user", required_argument, NULL, 'U' },
		{ "control-idle", required_argument, NULL, 'I' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "syslog", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "schema", no_argument, NULL, 'J' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct options o;
	int ch;

	memset(&o, 0, sizeof o);
	o.control_idle = -1;
	while ((ch = getopt_long(argc, argv, "c:fhnVz:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.path = optarg; break;
		case 'f': o.foreground = true; break;
		case 'n': o.check = true; break;
		case 'z': o.zone = optarg; break;
		case 'R': o.rundir = optarg; break;
		case 'S': o.statedir = optarg; break;
		case 'G': o.group = optarg; break;
		case 'r': o.read_group = optarg; break;
		case 'M': o.metrics = optarg; break;
		case 'U': o.user = optarg; break;
		case 'I': o.control_idle = control_idle(optarg); break;
		case 'H': o.hostname = optarg; break;
		case 'L': o.syslog = true; break;
		case 'J': return print_schema();
		case 'V': printf("mxlbd %s\n", MXLB_VERSION); return 0;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (o.check)
		return o.path ? check_only(o.path) : (usage(stderr, 2), 2);
	if (o.zone == NULL)
		usage(stderr, 2);
	/* Before anything touches the disk: the name is a path component. */
	if (!zone_name_valid(o.zone)) {
		char *esc = str_escape(o.zone);
		fprintf(stderr, "mxlbd: zone \"%s\": %s\n", esc, ZONE_NAME_RULE);
		free(esc);
		return 2;
	}
	return run(&o);
}
