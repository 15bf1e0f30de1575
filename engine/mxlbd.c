/* mxlbd: the forwarding engine of one zone. */
#include <errno.h>
#include <fcntl.h>
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
#include "poller.h"
#include "takeover.h"
#include "schema.h"
#include "config-man.h"
#include "source.h"
#include "worker.h"
#include "zone.h"

#define STOP_GRACE_S	60	/* sessions get this long to end at SIGTERM */

struct mxlbd {
	struct engine	*eng;
	struct txn	 txn;
	struct event	*housekeeping;
	struct event	*deadline;
	uint64_t	 swept;		/* ms: per-source tables last swept */
	struct evhttp	*http;
	struct takeover	 to;		/* --takeover: from the old engine */
	int		 report;	/* --takeover without -f: to the parent */
};

static void
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: mxlbd -z ZONE [-c FILE.json | --confdir DIR] [-f] "
	    "[--rundir DIR]\n"
	    "             [--statedir DIR] [--group GROUP] [--read-group GROUP]\n"
	    "             [--takeover] [--workers N|auto]\n"
	    "       mxlbd -n -c FILE.json | mxlbd -n -z ZONE [--confdir DIR]\n"
	    "  -z ZONE          the zone this engine runs\n"
	    "  -c FILE          the zone's config file (must exist): imported "
	    "on start and\n"
	    "                   on SIGHUP as a new version if it differs "
	    "from the running one\n"
	    "  --confdir DIR    or DIR/ZONE.json, when it exists (MXLB_CONFDIR, "
	    "/etc/mxlb)\n"
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
	    "  --takeover       take the listening sockets of the running "
	    "engine of ZONE,\n"
	    "                   which finishes its sessions and ends "
	    "(restarts, upgrades)\n"
	    "  --workers N|auto event loops (threads), auto: one per CPU "
	    "(MXLBD_WORKERS, 1)\n"
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

/*
 * SIGHUP (systemctl reload): import the zone's file again, as the shell
 * would commit it; refused over a newer commit (zone.c).  0 when the
 * file runs; -1 with the reason logged at err.
 */
static int
reload(struct mxlbd *d)
{
	struct errs e = { NULL, 0 };
	const char *f = d->eng->conffile;
	int rc;

	switch ((rc = zone_import(d->eng, false, "mxlbd", "reload", &e))) {
	case IMPORT_ABSENT:
		log_warn("reload: no %s, nothing to import", f);
		break;
	case IMPORT_SAME:
		log_warn("reload: %s is what runs (version %llu), nothing "
		    "changed", f, (unsigned long long)d->txn.running);
		break;
	case IMPORT_DONE:
		break;
	default:
		for (size_t i = 0; i < e.n; i++)
			log_err("reload: %s", e.v[i]);
		log_err("reload: %s %s, version %llu stays running", f,
		    rc == IMPORT_REFUSED ? "refused" : "not imported",
		    (unsigned long long)d->txn.running);
	}
	errs_free(&e);
	return rc < 0 ? -1 : 0;
}

static void
on_reload(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct mxlbd *d = arg;

	if (d->eng->handover != HANDOVER_NONE) {
		/* The state directory is the new engine's. */
		log_warn("reload: zone %s is handed over to pid %d: ignored",
		    d->eng->zone, d->eng->successor);
		return;
	}
	notify_reloading();
	(void)reload(d);
	/* Ready again either way: a refused file leaves the running config
	 * serving, as it was. */
	notify_ready(d->eng, false);
}
LOCKED_EVENT_CB(on_reload)

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
LOCKED_EVENT_CB(on_deadline)

static void
stop_begin(struct mxlbd *d, const char *why)
{
	struct timeval tv = { STOP_GRACE_S, 0 };

	if (d->eng->stopping)
		return;
	log_info("stop: %s, no new sessions, %llu open", why,
	    (unsigned long long)d->eng->nsessions);
	d->deadline = evtimer_new(d->eng->base, on_deadline_locked, d);
	evtimer_add(d->deadline, &tv);
	engine_stop(d->eng);
	/* Handed over, the service goes on in the new engine: systemd must
	 * not hear STOPPING=1 from the old one (NotifyAccess=all). */
	if (d->eng->handover == HANDOVER_NONE)
		notify_stopping(d->eng);
}

static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	char why[32];

	(void)what;
	snprintf(why, sizeof why, "signal %d", (int)sig);
	stop_begin(arg, why);
}
LOCKED_EVENT_CB(on_stop)

/* The zone was handed over (cmd_takeover): as a stop, but the listening
 * sockets live on in the new engine. */
static void
on_handed_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stop_begin(arg, "handed over");
}
LOCKED_EVENT_CB(on_handed_over)

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
LOCKED_EVENT_CB(on_stats)

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
LOCKED_EVENT_CB(on_housekeeping)

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
	const char	*confdir;
	const char	*metrics, *user, *hostname;
	long		 control_idle;	/* -1: the default */
	bool		 foreground, check, syslog, takeover;
	bool		 takeover_die;	/* tests: die holding the sockets */
	int		 workers;	/* event loops (threads) */
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

/* -n -z ZONE: the file a reload would import, checked. */
static int
check_zone_file(const struct options *o)
{
	char *dir = zone_confdir(o->confdir);
	char *path = xasprintf("%s/%s.json", dir, o->zone);
	int rc;

	free(dir);
	if (access(path, F_OK) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		free(path);
		return 1;
	}
	rc = check_only(path);
	free(path);
	return rc;
}

/* -c FILE, else DIR/ZONE.json: the zone's config file. */
static void
conffile_set(struct engine *eng, const char *path, const char *dir,
    bool named)
{
	char *confdir;

	free(eng->conffile);
	eng->conffile_named = named;
	if (path != NULL) {
		/* Absolute: a reload, or a takeover by an engine started
		 * elsewhere, reads the same file. */
		char *abs = path[0] == '/' ? NULL : realpath(path, NULL);
		eng->conffile = abs != NULL ? abs : xstrdup(path);
		return;
	}
	confdir = zone_confdir(dir);
	eng->conffile = xasprintf("%s/%s.json", confdir, eng->zone);
	free(confdir);
}

/*
 * The zone's file on start: a bad one stops the start (the admin fixes
 * it, `mxlbd -n` says where); one older than a shell commit is not
 * imported over it, and the zone starts with what it ran.  A takeover
 * (systemctl reload) follows the same rules: a bad file fails it, and the
 * old engine, which never stopped serving, takes the zone back; a stale
 * one is refused and logged, and the restart goes on with what runs.
 */
static int
start_import(struct engine *eng, bool takeover, struct errs *e)
{
	struct errs why = { NULL, 0 };
	int rc;

	switch ((rc = zone_import(eng, false, "mxlbd", takeover ? "reload" :
	    "start", &why))) {
	case IMPORT_FAILED:
		for (size_t i = 0; i < why.n; i++)
			errs_add(e, "%s", why.v[i]);
		errs_free(&why);
		return -1;
	case IMPORT_REFUSED:
		for (size_t i = 0; i < why.n; i++)
			log_err("%s: %s", takeover ? "reload" : "start",
			    why.v[i]);
		log_err("%s: zone %s %s version %llu, not %s", takeover ?
		    "reload" : "start", eng->zone, takeover ? "goes on with" :
		    "starts with", (unsigned long long)eng->txn->running,
		    eng->conffile);
		break;
	default:
		break;
	}
	errs_free(&why);
	return 0;
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
	    o->statedir), *sock = zone_sock(rundir, o->zone);
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
	if (o->takeover) {
		if (takeover_start(&d->to, eng, sock, e) == -1)
			goto out;
		if (o->takeover_die) {
			log_warn("takeover: --takeover-die: dying with the "
			    "sockets");
			log_flush();
			raise(SIGKILL);
		}
	}
	if ((eng->ctl = control_open(eng, sock, admin, reader,
	    o->takeover ? d->to.ctl_fd : -1, e)) == NULL)
		goto out;
	d->to.ctl_fd = -1;
	/* A new engine given neither -c nor --confdir keeps the -c file of
	 * the one it takes over from. */
	if (o->path == NULL && o->confdir == NULL && d->to.config_file != NULL)
		conffile_set(eng, d->to.config_file, NULL, true);
	else
		conffile_set(eng, o->path, o->confdir, o->path != NULL);
	if (o->control_idle >= 0)
		control_set_idle(eng->ctl, (unsigned)o->control_idle);
	if (zone_restore(eng, e) == -1)
		goto out;
	if (start_import(eng, o->takeover, e) == -1)
		goto out;
	listener_adopt_end(eng);
	if (o->metrics != NULL &&
	    (d->http = metrics_listen(eng, o->metrics, e)) == NULL)
		goto out;
	if (eng->adopt_metrics != -1) {
		log_warn("takeover: the old engine's --metrics port is not "
		    "this engine's --metrics: closed");
		close(eng->adopt_metrics);
		eng->adopt_metrics = -1;
	}
	if (o->user != NULL && privdrop(eng, rundir, o->user, e) == -1)
		goto out;
	/* What the running config needs may have gone with root. */
	if (o->user != NULL && eng->cfg != NULL &&
	    source_check(eng->cfg, e) == -1)
		goto out;
	rc = 0;
out:
	free(rundir);
	free(statedir);
	free(sock);
	return rc;
}

/*
 * --takeover without -f: the process that serves must be the one that
 * asked for the sockets (the old engine tells systemd MAINPID= its peer's
 * pid), so it forks first; the parent waits and exits with the takeover's
 * result, so `systemctl reload` (ExecReload) fails when the takeover did.
 */
static int
detach_wait(struct mxlbd *d)
{
	int p[2];
	pid_t pid;
	char b = 1;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		fprintf(stderr, "mxlbd: --takeover: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &b, 1) == -1 && errno == EINTR)
			;
		_exit(b == 0 ? 0 : 1);
	}
	close(p[0]);
	d->report = p[1];
	(void)setsid();
	return 0;
}

/* Our stdio goes nowhere, the parent exits 0. */
static void
detach_done(struct mxlbd *d)
{
	int fd = open("/dev/null", O_RDWR);
	char b = 0;

	if (fd != -1) {
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	/* "/" always exists; a failure would only keep a directory busy. */
	if (chdir("/") == -1)
		log_warn("takeover: chdir /: %s", strerror(errno));
	log_detach();
	if (write(d->report, &b, 1) != 1)
		log_warn("takeover: the parent process is gone: %s",
		    strerror(errno));
	close(d->report);
	d->report = -1;
}

/* Everything is loaded and listens: the old engine may stop accepting. */
static int
handover_finish(struct mxlbd *d, const struct options *o)
{
	struct errs e = { NULL, 0 };

	/* systemd: we are the service's main process now (NotifyAccess=all;
	 * the old engine says the same, being the main process). */
	(void)notify_send("MAINPID=%d\nREADY=1", (int)getpid());
	if (takeover_finish(&d->to, o->zone, &e) == -1) {
		for (size_t i = 0; i < e.n; i++)
			log_err("start: %s", e.v[i]);
		log_err("start: zone %s not taken over; the running engine "
		    "(pid %d) goes on serving", o->zone, (int)d->to.old_pid);
		(void)notify_send("MAINPID=%d", (int)d->to.old_pid);
		errs_free(&e);
		return -1;
	}
	takeover_end(&d->to);
	if (!o->foreground)
		detach_done(d);
	return 0;
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
	d.to.fd = d.to.ctl_fd = d.report = -1;
	setup_log(o);
	if (o->takeover && !o->foreground && detach_wait(&d) == -1)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	srandom((unsigned)(time(NULL) ^ getpid()));
	workers_init((unsigned)o->workers);
	base = event_base_new();
	poller_open(base);	/* its descriptor is one of those at rest */
	d.eng = engine_new(base, o->zone);
	workers_new(d.eng, base, (unsigned)o->workers);
	set_hostname(d.eng, o->hostname);
	if (setup(&d, o, &e) == -1) {
		for (size_t i = 0; i < e.n; i++)
			log_err("start: %s", e.v[i]);
		log_err("start: zone %s not started", o->zone);
		rc = 1;
		goto out;
	}
	if (o->takeover && handover_finish(&d, o) == -1) {
		rc = 1;
		goto out;
	}
	if (!o->foreground && !o->takeover && daemon(0, 0) == -1) {
		log_err("daemon: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	if (!o->foreground)
		log_detach();
	event_reinit(base);
	log_timer(base);
	sigs[0] = evsignal_new(base, SIGTERM, on_stop_locked, &d);
	sigs[1] = evsignal_new(base, SIGINT, on_stop_locked, &d);
	sigs[2] = evsignal_new(base, SIGHUP, on_reload_locked, &d);
	sigs[3] = evsignal_new(base, SIGUSR1, on_stats_locked, &d);
	sigs[4] = event_new(base, -1, EV_PERSIST, on_housekeeping_locked, &d);
	d.eng->stop_ev = event_new(base, -1, 0, on_handed_over_locked, &d);
	for (size_t i = 0; i < 4; i++)
		evsignal_add(sigs[i], NULL);
	evtimer_add(sigs[4], &hk);
	d.swept = now_ms();
	log_info("ready zone=%s pid=%d version=%s running=%llu hostname=%s",
	    o->zone, (int)getpid(), MXLB_VERSION,
	    (unsigned long long)d.txn.running, d.eng->hostname);
	/* Listeners are bound and the config runs. */
	notify_ready(d.eng, !o->foreground);
	if (workers_start(d.eng) == 0)
		event_base_dispatch(base);
	else
		rc = 1;
	workers_stop(d.eng);
	log_info("stopped zone=%s", o->zone);
	for (size_t i = 0; i < nitems(sigs); i++)
		event_free(sigs[i]);
	if (d.deadline != NULL)
		event_free(d.deadline);
	event_free(d.eng->stop_ev);
	d.eng->stop_ev = NULL;
out:
	workers_stop(d.eng);
	if (d.report != -1) {
		/* The parent exits with our status (detach_wait). */
		char b = (char)rc;
		if (write(d.report, &b, 1) != 1)
			rc = 1;	/* the parent exits 1 anyway */
		close(d.report);
	}
	takeover_end(&d.to);
	errs_free(&e);
	if (d.http != NULL)
		evhttp_free(d.http);
	control_close(d.eng->ctl);
	d.eng->ctl = NULL;
	free(d.eng->conffile);
	d.eng->conffile = NULL;
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
		{ "confdir", required_argument, NULL, 'C' },
		{ "group", required_argument, NULL, 'G' },
		{ "read-group", required_argument, NULL, 'r' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "user", required_argument, NULL, 'U' },
		{ "control-idle", required_argument, NULL, 'I' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "syslog", no_argument, NULL, 'L' },
		{ "takeover", no_argument, NULL, 'T' },
		{ "takeover-die", no_argument, NULL, 'D' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "schema", no_argument, NULL, 'J' },
		{ "man-config", no_argument, NULL, 'K' },	/* hidden */
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct options o;
	const char *env;
	int ch;

	memset(&o, 0, sizeof o);
	o.control_idle = -1;
	o.workers = 1;
	if ((env = getenv("MXLBD_WORKERS")) != NULL && *env != '\0' &&
	    (o.workers = workers_parse(env)) == -1) {
		fprintf(stderr, "mxlbd: MXLBD_WORKERS: a number of workers is "
		    "1-%d, or auto\n", WORKERS_MAX);
		return 2;
	}
	while ((ch = getopt_long(argc, argv, "c:fhnVz:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.path = optarg; break;
		case 'f': o.foreground = true; break;
		case 'n': o.check = true; break;
		case 'z': o.zone = optarg; break;
		case 'R': o.rundir = optarg; break;
		case 'S': o.statedir = optarg; break;
		case 'C': o.confdir = optarg; break;
		case 'G': o.group = optarg; break;
		case 'r': o.read_group = optarg; break;
		case 'M': o.metrics = optarg; break;
		case 'U': o.user = optarg; break;
		case 'I': o.control_idle = control_idle(optarg); break;
		case 'H': o.hostname = optarg; break;
		case 'L': o.syslog = true; break;
		case 'T': o.takeover = true; break;
		case 'D': o.takeover_die = true; break;
		case 'w':
			if ((o.workers = workers_parse(optarg)) == -1) {
				fprintf(stderr, "mxlbd: --workers %s: a number "
				    "of workers is 1-%d, or auto\n", optarg,
				    WORKERS_MAX);
				return 2;
			}
			break;
		case 'J': return print_schema();
		case 'K': return config_man(stdout) == 0 ? 0 : 1;
		case 'V': printf("mxlbd %s\n", MXLB_VERSION); return 0;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (o.check && o.path != NULL)
		return check_only(o.path);
	if (o.zone == NULL)
		usage(stderr, 2);
	/* Before anything touches the disk: the name is a path component. */
	if (!zone_name_valid(o.zone)) {
		char *esc = str_escape(o.zone);
		fprintf(stderr, "mxlbd: zone \"%s\": %s\n", esc, ZONE_NAME_RULE);
		free(esc);
		return 2;
	}
	if (o.check)
		return check_zone_file(&o);
	return run(&o);
}
