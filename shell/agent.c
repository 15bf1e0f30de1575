/*
 * `mxlb agent`: run on each MX, it answers mxlbd's agent check (HAProxy's
 * agent-check text) with a weight from the Postfix queue's depth.
 *
 * It is inetd-style by default: one reply on stdout, then exit, so
 * systemd socket activation (Accept=yes), inetd or xinetd do the
 * listening, the limits and the privileges, and there is no daemon to
 * supervise.  `--listen [ADDR:]PORT` is a tiny sequential listener for
 * hosts without those (and for tests): one reply per connection.
 *
 * The depth is the number of files in the queue's active and deferred
 * directories, counted without opening a message (postqueue -p would
 * read every queue file through showq): cheap at any queue size.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "shell.h"

struct agent_opts {
	const char	*queue_dir;	/* NULL: ask postconf */
	const char	*config_dir;	/* postconf -c */
	long		 drain_above;	/* -1: never drain */
	long		 ramp_lo, ramp_hi;	/* -1: no ramp */
	long		 min_pct;
};

static void
agent_usage(FILE *f)
{
	fprintf(f, "usage: mxlb agent [--queue-dir DIR | --config-dir DIR] "
	    "[--drain-above N]\n"
	    "                  [--ramp LOW:HIGH] [--min-weight PCT] "
	    "[--listen [ADDR:]PORT]\n"
	    "  answers one agent check on stdout (inetd, systemd Accept=yes),"
	    " or each\n"
	    "  connection on --listen; the reply is \"ready|drain PCT%% "
	    "#queue=N ...\".\n"
	    "  --queue-dir DIR    Postfix's queue_directory (default: "
	    "postconf's)\n"
	    "  --config-dir DIR   the Postfix instance (postconf -c DIR)\n"
	    "  --drain-above N    more than N messages queued: drain\n"
	    "  --ramp LOW:HIGH    weight 100%% up to LOW messages, falling "
	    "linearly to\n"
	    "                     --min-weight (default 10%%) at HIGH\n");
}

/* A whole number in [0, max], or -1. */
static long
num_arg(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

/* postconf -h queue_directory [-c DIR]: run without a shell. */
static char *
postconf_queue_dir(const char *config_dir, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	int fd[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe(fd) == -1 || (pid = fork()) == -1) {
		snprintf(err, errlen, "postconf: %s", strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		if (config_dir != NULL)
			execlp("postconf", "postconf", "-c", config_dir, "-h",
			    "queue_directory", (char *)NULL);
		else
			execlp("postconf", "postconf", "-h", "queue_directory",
			    (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while (len < (ssize_t)sizeof buf - 1 &&
	    (n = read(fd[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0)
		len += n;
	close(fd[0]);
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || buf[0] != '/') {
		snprintf(err, errlen, "postconf%s%s -h queue_directory "
		    "failed (use --queue-dir)", config_dir ? " -c " : "",
		    config_dir ? config_dir : "");
		return NULL;
	}
	return xstrdup(buf);
}

/* Files under dir (Postfix hashes deferred into subdirectories);
 * -1 and err if it cannot be read. */
static long
count_files(const char *dir, int depth, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;
		long sub;

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
		    (int)sizeof path || lstat(path, &st) == -1)
			continue;	/* gone meanwhile: delivered */
		if (S_ISREG(st.st_mode))
			n++;
		else if (S_ISDIR(st.st_mode) && depth < 4) {
			sub = count_files(path, depth + 1, err, errlen);
			if (sub < 0) {
				closedir(d);
				return -1;
			}
			n += sub;
		}
	}
	closedir(d);
	return n;
}

/* The weight in % for a queue of q messages. */
static long
weight_pct(const struct agent_opts *o, long q)
{
	if (o->ramp_lo < 0 || q <= o->ramp_lo)
		return 100;
	if (q >= o->ramp_hi)
		return o->min_pct;
	return 100 - (100 - o->min_pct) * (q - o->ramp_lo) /
	    (o->ramp_hi - o->ramp_lo);
}

/* One reply line, newline included. */
static void
agent_reply(const struct agent_opts *o, char *line, size_t len)
{
	char err[PATH_MAX + 128] = "", active[PATH_MAX], deferred[PATH_MAX];
	char *qdir = o->queue_dir ? xstrdup(o->queue_dir) :
	    postconf_queue_dir(o->config_dir, err, sizeof err);
	long a = -1, d = -1, q, pct;

	if (qdir != NULL) {
		snprintf(active, sizeof active, "%s/active", qdir);
		snprintf(deferred, sizeof deferred, "%s/deferred", qdir);
		if ((a = count_files(active, 0, err, sizeof err)) >= 0)
			d = count_files(deferred, 0, err, sizeof err);
	}
	free(qdir);
	if (a < 0 || d < 0) {
		/* Nothing the engine would act on, only the reason. */
		for (char *c = err; *c; c++)
			if (*c == '\n' || *c == '\r' || *c == '#')
				*c = ' ';
		snprintf(line, len, "#error %.300s\n", err);
		fprintf(stderr, "mxlb agent: %s\n", err);
		return;
	}
	q = a + d;
	pct = weight_pct(o, q);
	snprintf(line, len, "%s %ld%% #queue=%ld active=%ld deferred=%ld\n",
	    o->drain_above >= 0 && q > o->drain_above ? "drain" : "ready", pct,
	    q, a, d);
}

static int
agent_listen(const struct agent_opts *o, const char *spec)
{
	char host[256] = "", line[512];
	const char *port = spec, *colon = strrchr(spec, ':');
	struct addrinfo hints, *ai;
	int fd, c, on = 1, rc;

	if (colon != NULL) {
		snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if (num_arg(port, 65535) <= 0 ||
	    (rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0) {
		fprintf(stderr, "mxlb agent: --listen %s: want [ADDR:]PORT "
		    "with a numeric address and a port 1-65535\n", spec);
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof on) == -1 || bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 16) == -1) {
		fprintf(stderr, "mxlb agent: --listen %s: %s\n", spec,
		    strerror(errno));
		freeaddrinfo(ai);
		return 1;
	}
	freeaddrinfo(ai);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct timeval tv = { 2, 0 };
		if ((c = accept(fd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors: wait for one, do not spin. */
			if (errno == EMFILE || errno == ENFILE) {
				struct timespec ts = { 0, 100 * 1000000 };
				nanosleep(&ts, NULL);
				continue;
			}
			fprintf(stderr, "mxlb agent: accept: %s\n",
			    strerror(errno));
			return 1;
		}
		/* A peer that does not read does not hold the next one. */
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		agent_reply(o, line, sizeof line);
		if (write(c, line, strlen(line)) == -1)
			fprintf(stderr, "mxlb agent: a reply not sent: %s\n",
			    strerror(errno));
		close(c);
	}
}

int
agent_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "queue-dir", required_argument, NULL, 'q' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "drain-above", required_argument, NULL, 'd' },
		{ "ramp", required_argument, NULL, 'r' },
		{ "min-weight", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct agent_opts o = { NULL, NULL, -1, -1, -1, 10 };
	const char *listen_on = NULL;
	char line[512], *colon;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'q': o.queue_dir = optarg; break;
		case 'c': o.config_dir = optarg; break;
		case 'l': listen_on = optarg; break;
		case 'd':
			o.drain_above = num_arg(optarg, LONG_MAX / 200);
			if (o.drain_above < 0)
				goto bad;
			break;
		case 'm':
			if ((o.min_pct = num_arg(optarg, 100)) < 1)
				goto bad;
			break;
		case 'r':
			colon = strchr(optarg, ':');
			if (colon == NULL)
				goto bad;
			*colon = '\0';
			o.ramp_lo = num_arg(optarg, LONG_MAX / 200);
			o.ramp_hi = num_arg(colon + 1, LONG_MAX / 200);
			*colon = ':';
			if (o.ramp_lo < 0 || o.ramp_hi <= o.ramp_lo)
				goto bad;
			break;
		case 'h': agent_usage(stdout); return 0;
		default: agent_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mxlb agent: unexpected \"%s\"\n",
		    argv[optind]);
		return 2;
	}
	if (listen_on != NULL)
		return agent_listen(&o, listen_on);
	agent_reply(&o, line, sizeof line);
	fputs(line, stdout);
	return fflush(stdout) == 0 && line[0] != '#' ? 0 : 1;
bad:
	fprintf(stderr, "mxlb agent: --%s %s: want %s\n",
	    longopts[ch == 'd' ? 2 : ch == 'm' ? 4 : 3].name, optarg,
	    ch == 'd' ? "a number of messages" : ch == 'm' ?
	    "a percentage 1-100" : "LOW:HIGH, two numbers of messages, "
	    "LOW below HIGH");
	return 2;
}
