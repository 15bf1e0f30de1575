/*
 * Logging: stderr with a timestamp in the foreground, syslog facility mail
 * otherwise (where mail admins already look).  stderr is block-buffered and
 * flushed by the engine's housekeeping timer: a write per session line
 * would cost more than the forwarding itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>

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

static void
log_vwrite(int prio, const char *fmt, va_list ap)
{
	static time_t last;
	static char ts[32];
	struct timeval tv;
	struct tm tm;

	if (!log_foreground) {
		va_list copy;
		/* Until the engine detaches, start-up errors also go to the
		 * terminal: whoever started it must see why it did not. */
		if (log_attached && prio <= LOG_WARNING) {
			va_copy(copy, ap);
			fputs("mxlbd: ", stderr);
			vfprintf(stderr, fmt, copy);
			fputc('\n', stderr);
			va_end(copy);
		}
		vsyslog(prio, fmt, ap);
		return;
	}
	gettimeofday(&tv, NULL);
	/* localtime is costly and changes once a second. */
	if (tv.tv_sec != last) {
		last = tv.tv_sec;
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	fprintf(stderr, "%s.%03ld ", ts, (long)tv.tv_usec / 1000);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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
