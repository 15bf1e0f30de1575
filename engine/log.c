/*
 * Logging: stderr with a timestamp in the foreground, syslog facility mail
 * otherwise (where mail admins already look), also in the foreground with
 * --syslog (the systemd unit: see mxlbd.c).  stderr is block-buffered:
 * the session lines (log_bulk) are flushed 100 ms after the first one it
 * holds, as a write per session line would cost more than the forwarding
 * itself, and an idle engine has nothing to flush; any other line goes
 * out at once.  A line may carry text from peers (a commit's
 * comment, a user name): its control characters are written as \xNN, so
 * a log line is one line and cannot drive a terminal.
 *
 * The level says what happened: info for what runs as it should
 * (sessions, ready, commits), notice for a change an operator wants to
 * see (a server's state, a revert), warning for trouble the engine works
 * around, err for what failed.  On stderr, as in Postfix's logs, a line
 * above info starts with its level.
 */
#include <pthread.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

static bool	log_foreground = true;
static bool	log_attached = true;	/* stderr still reaches someone */
static char	log_buf[64 * 1024];
static struct event *log_flusher;	/* set while stderr holds lines */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *zone, bool foreground)
{
	static char ident[80];

	log_foreground = foreground;
	if (foreground) {
		setvbuf(stderr, log_buf, _IOFBF, sizeof log_buf);
		return;
	}
	/* Like Postfix's multi-instance syslog_name: one tag per zone. */
	snprintf(ident, sizeof ident, "mxlbd-%s", zone);
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/*
 * NULL when a syslog daemon listens on /dev/log, else why not.  syslog(3)
 * drops every line in silence when nothing listens, so an engine about to
 * detach asks first and says so while its stderr still reaches someone.
 * glibc tries a datagram socket, then a stream one: so do we.
 */
const char *
log_syslog_missing(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun;
	int fd, err = 0;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strlcpy_(sun.sun_path, _PATH_LOG, sizeof sun.sun_path);
	for (size_t i = 0; i < nitems(types); i++) {
		if ((fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) == -1)
			return strerror(errno);
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
			close(fd);
			return NULL;
		}
		err = errno;
		close(fd);
	}
	return strerror(err);
}

/* The line, with every control character as \xNN, into buf or, if it
 * does not fit, a new string; NULL if out of memory. */
/* A control character (below 0x20, or 0x7f) in the n bytes at s?  Eight
 * bytes at a time: every session's line is scanned. */
static bool
has_ctl(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t w, d;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		d = w ^ (ones * 0x7f);	/* a zero byte where w has 0x7f */
		if ((((w - ones * 0x20) & ~w) | ((d - ones) & ~d)) & high)
			return true;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static char *log_format(char *, size_t, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static char *
log_format(char *buf, size_t size, const char *fmt, va_list ap)
{
	char *raw = buf, *out, *o;
	size_t nctl = 0;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(buf, size, fmt, aq);
	va_end(aq);
	if (n < 0 || ((size_t)n >= size && vasprintf(&raw, fmt, ap) == -1))
		return NULL;
	if (!has_ctl(raw, (size_t)n))
		return raw;
	for (const char *p = raw; *p; p++)
		nctl += (unsigned char)*p < 0x20 || *p == 0x7f;
	if ((out = malloc(strlen(raw) + nctl * 3 + 1)) != NULL) {
		o = out;
		for (const unsigned char *p = (const unsigned char *)raw; *p;
		    p++) {
			if (*p < 0x20 || *p == 0x7f)
				o += sprintf(o, "\\x%02x", *p);
			else
				*o++ = (char)*p;
		}
		*o = '\0';
	}
	if (raw != buf)
		free(raw);
	return out;
}

/* The timestamp of a foreground line: localtime is costly and changes
 * once a second. */
static void
log_stamp(void)
{
	static time_t last;
	static char ts[32];
	char ms[] = ".000 ";
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != last) {
		last = tv.tv_sec;
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	/* fputs, not fprintf: a session line is written at each session's
	 * end, and printf's parsing was most of the logging's cost. */
	ms[0] = '.';
	ms[1] = (char)('0' + tv.tv_usec / 100000);
	ms[2] = (char)('0' + tv.tv_usec / 10000 % 10);
	ms[3] = (char)('0' + tv.tv_usec / 1000 % 10);
	fputs(ts, stderr);
	fputs(ms, stderr);
}

/* syslog carries the priority; on stderr a line above info says it. */
static const char *
log_level(int prio)
{
	switch (prio) {
	case LOG_NOTICE:
		return "notice: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_INFO:
		return "";
	default:
		return "err: ";
	}
}

static void log_vwrite(int, bool, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(int prio, bool bulk, const char *fmt, va_list ap)
{
	char buf[1024], *line;
	struct timeval tv = { 0, 100 * 1000 };

	if ((line = log_format(buf, sizeof buf, fmt, ap)) == NULL)
		return;
	/* Workers log too: a line is written whole, its stamp with it. */
	pthread_mutex_lock(&log_mutex);
	if (!log_foreground) {
		/* Until the engine detaches, start-up errors also go to the
		 * terminal: whoever started it must see why it did not. */
		if (log_attached && !bulk)
			fprintf(stderr, "mxlbd: %s\n", line);
		syslog(prio, "%s", line);
	} else {
		log_stamp();
		fputs(log_level(prio), stderr);
		fputs(line, stderr);
		putc('\n', stderr);
		if (!bulk)
			log_flush();
		else if (log_flusher != NULL &&
		    !evtimer_pending(log_flusher, NULL))
			evtimer_add(log_flusher, &tv);
	}
	pthread_mutex_unlock(&log_mutex);
	if (line != buf)
		free(line);
}

#define LOG_AT(name, prio, bulk)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	log_vwrite(prio, bulk, fmt, ap);		\
	va_end(ap);					\
}
LOG_AT(log_bulk, LOG_INFO, true)
LOG_AT(log_info, LOG_INFO, false)
LOG_AT(log_notice, LOG_NOTICE, false)
LOG_AT(log_warn, LOG_WARNING, false)
LOG_AT(log_err, LOG_ERR, false)

static void
log_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_flush();
}

/* From now on buffered lines are flushed by a timer of base's loop. */
void
log_timer(struct event_base *base)
{
	if (log_flusher != NULL)
		event_free(log_flusher);
	log_flusher = base != NULL ? evtimer_new(base, log_flush_timer,
	    NULL) : NULL;
}

/* After daemon(): stderr is /dev/null from now on. */
void
log_detach(void)
{
	log_attached = false;
}

void
log_flush(void)
{
	if (log_foreground)
		fflush(stderr);
}
