/*
 * Logging: stderr with a timestamp in the foreground, syslog facility mail
 * otherwise (where mail admins already look), also in the foreground with
 * --syslog (the systemd unit: see mxlbd.c).  stderr is block-buffered and
 * flushed by the engine's housekeeping timer: a write per session line
 * would cost more than the forwarding itself.  Warnings and errors may
 * carry text from peers (a commit's comment, a user name): their control
 * characters are written as \xNN, so a log line is one line and cannot
 * drive a terminal.
 */
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

/* The line with every control character as \xNN; NULL if out of memory. */
static char *
log_escape(const char *fmt, va_list ap)
{
	char *raw, *out, *o;

	if (vasprintf(&raw, fmt, ap) == -1)
		return NULL;
	if ((out = malloc(strlen(raw) * 4 + 1)) == NULL) {
		free(raw);
		return NULL;
	}
	o = out;
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
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
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != last) {
		last = tv.tv_sec;
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	fprintf(stderr, "%s.%03ld ", ts, (long)tv.tv_usec / 1000);
}

static void
log_vwrite(int prio, const char *fmt, va_list ap)
{
	char *line;

	if (prio == LOG_INFO) {
		/* Per-session lines: no peer text, and too many to copy. */
		if (!log_foreground) {
			vsyslog(prio, fmt, ap);
			return;
		}
		log_stamp();
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		return;
	}
	if ((line = log_escape(fmt, ap)) == NULL)
		return;
	if (!log_foreground) {
		/* Until the engine detaches, start-up errors also go to the
		 * terminal: whoever started it must see why it did not. */
		if (log_attached)
			fprintf(stderr, "mxlbd: %s\n", line);
		syslog(prio, "%s", line);
	} else {
		log_stamp();
		/* syslog carries the priority; on stderr an error says so. */
		fprintf(stderr, "%s%s\n", prio <= LOG_ERR ? "err: " : "", line);
	}
	free(line);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Warnings are rare and urgent: they go out at once. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap);
	va_end(ap);
	log_flush();
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap);
	va_end(ap);
	log_flush();
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
