/*
 * systemd's service notification: one datagram of NAME=VALUE lines to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract
 * namespace).  systemd documents this protocol as stable, so the engine
 * speaks it itself rather than linking libsystemd for one sendto().
 * Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "commit.h"
#include "engine.h"
#include "notify.h"

static char	notify_last[160];	/* the last STATUS= told */
static bool	notify_failed;

static int
notify_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return -1;
	n = strlen(path);
	if (n >= sizeof sun->sun_path)
		return -1;
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}

bool
notify_enabled(void)
{
	struct sockaddr_un sun;
	socklen_t len;

	return notify_addr(&sun, &len) == 0;
}

/* 0 when sent or when there is no one to tell; -1 with errno otherwise. */
int
notify_send(const char *fmt, ...)
{
	struct sockaddr_un sun;
	socklen_t len;
	char msg[512];
	va_list ap;
	int fd, n;
	ssize_t sent;

	if (notify_addr(&sun, &len) == -1)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof msg) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	sent = sendto(fd, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
	return sent == n ? 0 : -1;
}

/*
 * A failure is logged once: an engine that cannot tell systemd it is
 * ready is killed at the start timeout, and its log should say why.
 */
static void
notify_tell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
notify_tell(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (notify_send("%s", msg) == -1 && !notify_failed) {
		notify_failed = true;
		log_warn("notify: %s: %s", getenv("NOTIFY_SOCKET"),
		    strerror(errno));
	}
}

/* STATUS=, as `systemctl status` shows it: version, sessions, config. */
static void
notify_text(const struct engine *eng, char *buf, size_t len)
{
	snprintf(buf, len, "mxlbd %s zone %s: %llu session%s open, config "
	    "version %llu%s", MXLB_VERSION, eng->zone,
	    (unsigned long long)eng->nsessions, eng->nsessions == 1 ? "" : "s",
	    (unsigned long long)(eng->txn ? eng->txn->running : 0),
	    eng->stopping ? ", stopping" : "");
}

/* Listeners bound, config running.  A detached engine is no longer the
 * process systemd started: it names itself (MAINPID). */
void
notify_ready(struct engine *eng, bool detached)
{
	if (!notify_enabled())
		return;
	notify_text(eng, notify_last, sizeof notify_last);
	if (detached)
		notify_tell("MAINPID=%d\nREADY=1\nSTATUS=%s", (int)getpid(),
		    notify_last);
	else
		notify_tell("READY=1\nSTATUS=%s", notify_last);
}

/* With the monotonic time, as Type=notify-reload asks; plain Type=notify
 * takes it as well. */
void
notify_reloading(void)
{
	struct timespec ts;

	if (!notify_enabled())
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_tell("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

void
notify_stopping(struct engine *eng)
{
	if (!notify_enabled())
		return;
	notify_text(eng, notify_last, sizeof notify_last);
	notify_tell("STOPPING=1\nSTATUS=%s", notify_last);
}

/* Called about once a second (the caller bounds the rate); tells only a
 * status that changed: every datagram wakes up systemd. */
void
notify_status(struct engine *eng)
{
	char now[sizeof notify_last];

	if (!notify_enabled())
		return;
	notify_text(eng, now, sizeof now);
	if (strcmp(now, notify_last) == 0)
		return;
	memcpy(notify_last, now, sizeof notify_last);
	notify_tell("STATUS=%s", notify_last);
}
