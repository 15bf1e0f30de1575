/* One request to a zone's engine over its control socket (engine/proto.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "shell.h"

#define CALL_TIMEOUT_MS	30000

/* A remote zone: the command's stdin and stdout are the stream. */
static int
zone_spawn(const struct zone *z, pid_t *pid, char *err, size_t errlen)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    (*pid = fork()) == -1) {
		snprintf(err, errlen, "zone %s: %s", z->name, strerror(errno));
		return -1;
	}
	if (*pid == 0) {
		dup2(sv[1], STDIN_FILENO);
		dup2(sv[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", z->cmd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	return sv[0];
}

static int
zone_connect(const struct zone *z, pid_t *pid, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	*pid = -1;
	if (z->cmd != NULL)
		return zone_spawn(z, pid, err, errlen);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(z->sock) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "%s: path too long", z->sock);
		return -1;
	}
	strlcpy_(sun.sun_path, z->sock, sizeof sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		snprintf(err, errlen, "zone %s: engine not reached at %s: %s",
		    z->name, z->sock, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line, bounded in size and time. */
static char *
read_line(int fd, int timeout_ms, char *err, size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;

	for (;;) {
		int rc = poll(&pfd, 1, timeout_ms);
		if (rc <= 0) {
			snprintf(err, errlen, "engine did not answer in %d s",
			    timeout_ms / 1000);
			break;
		}
		if (len + 1 >= cap) {
			if (cap >= PROTO_LINE_MAX * 4) {
				snprintf(err, errlen, "reply too long");
				break;
			}
			buf = xreallocarray(buf, cap, 2);
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0) {
			snprintf(err, errlen, "engine closed the connection");
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (memchr(buf, '\n', len) != NULL)
			return buf;
	}
	free(buf);
	return NULL;
}

static void
reap(pid_t pid)
{
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
}

/*
 * Sends req (taking it) and returns the reply's "result"; NULL with the
 * engine's error message in err.  timeout_ms 0: the default.
 */
json_t *
engine_call_timeout(const struct zone *z, json_t *req, int timeout_ms,
    char *err, size_t errlen)
{
	json_t *reply, *result = NULL, *e;
	char *line, *text;
	pid_t pid;
	int fd;

	json_object_set_new(req, K_ID, json_integer(1));
	text = json_dumps(req, CONFIG_JSON_FLAGS);
	json_decref(req);
	if ((fd = zone_connect(z, &pid, err, errlen)) == -1) {
		free(text);
		return NULL;
	}
	if (write_all(fd, text, strlen(text)) == -1 ||
	    write_all(fd, "\n", 1) == -1) {
		snprintf(err, errlen, "zone %s: %s", z->name, strerror(errno));
		free(text);
		close(fd);
		reap(pid);
		return NULL;
	}
	free(text);
	line = read_line(fd, timeout_ms ? timeout_ms : CALL_TIMEOUT_MS, err,
	    errlen);
	close(fd);
	reap(pid);
	if (line == NULL)
		return NULL;
	reply = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
	free(line);
	if (json_is_true(json_object_get(reply, K_OK)))
		result = json_incref(json_object_get(reply, K_RESULT));
	else if ((e = json_object_get(reply, K_ERROR)) != NULL)
		snprintf(err, errlen, "%s", json_string_value(json_object_get(e,
		    K_MESSAGE)) ? json_string_value(json_object_get(e,
		    K_MESSAGE)) : "error");
	else
		snprintf(err, errlen, "zone %s: malformed reply", z->name);
	/* Validation errors come as a list: keep them in the message. */
	if (result == NULL && (e = json_object_get(reply, K_ERROR)) != NULL) {
		json_t *list = json_object_get(e, K_ERRORS), *item;
		size_t i;
		json_array_foreach(list, i, item)
			snprintf(err + strlen(err), errlen - strlen(err),
			    "\n  %s", json_string_value(item));
	}
	json_decref(reply);
	return result;
}

json_t *
engine_call(const struct zone *z, json_t *req, char *err, size_t errlen)
{
	return engine_call_timeout(z, req, 0, err, errlen);
}
