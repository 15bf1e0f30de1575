/*
 * systemd's service notification: one datagram of NAME=VALUE lines to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract
 * namespace).  systemd documents this protocol as stable, so the engine
 * speaks it itself rather than linking libsystemd for one sendto().
 * Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

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
