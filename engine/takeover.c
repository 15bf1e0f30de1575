/*
 * mxlbd --takeover, the new engine's side: ask the running engine of the
 * zone for its listening sockets over its control socket (SCM_RIGHTS),
 * check every one, and tell it when we serve, so that a restart or an
 * upgrade refuses no client.  The running engine's side is cmd_takeover
 * (control-cmd.c).  Until "done", the old engine serves and keeps the
 * sockets too: if we die, closing our connection gives the zone back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine.h"
#include "proto.h"
#include "takeover.h"

#define TAKEOVER_TIMEOUT_S	10
/* The old engine sends its descriptors 250 to a message at most. */
#define RECV_FDS_MAX		253
/* The longest reply: PORTLIST_MAX ports a frontend, and some frontends;
 * past this the peer is not an engine we know. */
#define REPLY_MAX		(4 * 1024 * 1024)

static int
send_line(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* One reply line, a byte at a time: no byte after it is taken from the
 * socket (descriptors follow it in messages of their own).  NULL on EOF,
 * error, timeout or an oversized line; *eof tells EOF apart. */
static char *
recv_line(int fd, bool *eof)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	*eof = false;
	for (;;) {
		n = recv(fd, buf + len, 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*eof = n == 0;
			free(buf);
			return NULL;
		}
		if (buf[len] == '\n')
			break;
		if (++len == REPLY_MAX) {
			free(buf);
			return NULL;
		}
		if (len == cap)
			buf = xreallocarray(buf, cap *= 2, 1);
	}
	buf[len] = '\0';
	return buf;
}

static void
close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* Exactly `want` descriptors, in one-byte messages.  -1 if fewer or more
 * come, or anything but SCM_RIGHTS; whatever came is closed then. */
static int
recv_fds(int fd, int *fds, size_t want, struct errs *e)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(RECV_FDS_MAX * sizeof(int))];
	} cm;
	size_t got = 0;

	while (got < want) {
		struct msghdr msg;
		struct cmsghdr *h;
		char byte;
		struct iovec iov = { &byte, 1 };
		ssize_t n;

		memset(&msg, 0, sizeof msg);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof cm.buf;
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != 1 || byte != 'F') {
			errs_add(e, "takeover: %s after %zu of %zu sockets",
			    n == 0 ? "the engine closed the connection" : n == -1 ?
			    strerror(errno) : "unexpected data", got, want);
			goto fail;
		}
		for (h = CMSG_FIRSTHDR(&msg); h != NULL;
		    h = CMSG_NXTHDR(&msg, h)) {
			size_t k;
			if (h->cmsg_level != SOL_SOCKET ||
			    h->cmsg_type != SCM_RIGHTS)
				continue;
			k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int rfd;
				memcpy(&rfd, CMSG_DATA(h) + i * sizeof(int),
				    sizeof rfd);
				if (got < want)
					fds[got++] = rfd;
				else
					close(rfd);
			}
		}
		if (msg.msg_flags & MSG_CTRUNC) {
			errs_add(e, "takeover: more sockets in one message "
			    "than expected");
			goto fail;
		}
	}
	return 0;
fail:
	close_fds(fds, got);
	return -1;
}

/* The reply of the running engine: an error, or what it sends. */
static json_t *
takeover_reply(int fd, const char *what, struct errs *e)
{
	json_t *r, *err;
	bool eof;
	char *line = recv_line(fd, &eof);

	if (line == NULL) {
		errs_add(e, "takeover: %s: %s", what, eof ? "the engine closed "
		    "the connection" : errno == EAGAIN ? "no reply in time" :
		    "no usable reply");
		return NULL;
	}
	r = json_loads(line, 0, NULL);
	free(line);
	if (!json_is_object(r)) {
		errs_add(e, "takeover: %s: the reply is not a JSON object",
		    what);
		json_decref(r);
		return NULL;
	}
	if (!json_is_true(json_object_get(r, K_OK))) {
		err = json_object_get(r, K_ERROR);
		const char *code = json_string_value(json_object_get(err,
		    K_CODE));
		const char *text = json_string_value(json_object_get(err,
		    K_MESSAGE));
		errs_add(e, "takeover refused by the running engine: %s: %s",
		    code != NULL ? code : "error", text != NULL ? text :
		    "(no message)");
		json_decref(r);
		return NULL;
	}
	return r;
}

static int
takeover_connect(const char *path, struct errs *e)
{
	struct sockaddr_un sun;
	struct timeval tv = { TAKEOVER_TIMEOUT_S, 0 };
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errs_add(e, "%s: path too long for a socket", path);
		return -1;
	}
	strlcpy_(sun.sun_path, path, sizeof sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof tv) == -1 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof tv) == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof sun) == -1) {
		errs_add(e, "takeover: %s: %s (is the zone running?)", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/* Checks each listening socket against what the old engine says it is,
 * and keeps it for the frontend that wants it (listener_adopt). */
static int
takeover_adopt(struct engine *eng, json_t *ls, int *fds, struct errs *e)
{
	size_t n = json_array_size(ls);

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(ls, i);
		json_t *port = json_object_get(o, "port");
		const char *addr = json_string_value(json_object_get(o,
		    "address"));
		struct mxaddr a;
		char why[256];

		memset(&a, 0, sizeof a);
		if (!json_is_integer(port) || json_integer_value(port) < 1 ||
		    json_integer_value(port) > 65535 || (addr != NULL &&
		    addr_parse(&a, addr, why, sizeof why) == -1)) {
			errs_add(e, "takeover: listener %zu: not an address "
			    "and a port", i + 1);
			return -1;
		}
		if (listener_adopt(eng, fds[i], &a,
		    (uint16_t)json_integer_value(port), why, sizeof why) == -1) {
			errs_add(e, "takeover: the socket sent for %s:%lld "
			    "is refused: %s", addr ? addr : "*",
			    (long long)json_integer_value(port), why);
			return -1;
		}
		fds[i] = -1;	/* the engine's now */
	}
	return 0;
}

/* The --metrics socket: a listening TCP socket; metrics_listen takes it
 * if our --metrics names its port, else it is closed. */
static int
takeover_metrics(struct engine *eng, int fd, struct errs *e)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss, il;
	int type = 0, acc = 0;

	il = sizeof type;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) == -1 ||
	    type != SOCK_STREAM || (il = sizeof acc, getsockopt(fd, SOL_SOCKET,
	    SO_ACCEPTCONN, &acc, &il)) == -1 || acc != 1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		errs_add(e, "takeover: the metrics socket received is not a "
		    "listening TCP socket");
		return -1;
	}
	eng->adopt_metrics = fd;
	return 0;
}

int
takeover_start(struct takeover *t, struct engine *eng, const char *sock,
    struct errs *e)
{
	json_t *r = NULL, *res, *ls;
	bool metrics;
	int *fds = NULL;
	size_t n = 0;

	memset(t, 0, sizeof *t);
	t->ctl_fd = -1;
	if ((t->fd = takeover_connect(sock, e)) == -1)
		return -1;
	if (send_line(t->fd, "{\"id\":1,\"cmd\":\"" CMD_TAKEOVER "\"}\n") ==
	    -1) {
		errs_add(e, "takeover: %s: %s", sock, strerror(errno));
		goto fail;
	}
	if ((r = takeover_reply(t->fd, sock, e)) == NULL)
		goto fail;
	res = json_object_get(r, K_RESULT);
	ls = json_object_get(res, "listeners");
	if (!json_is_array(ls) || json_array_size(ls) > 65536 ||
	    !json_is_integer(json_object_get(res, "pid"))) {
		errs_add(e, "takeover: %s: the reply has no listener list",
		    sock);
		goto fail;
	}
	metrics = json_is_true(json_object_get(res, "metrics"));
	n = json_array_size(ls) + (metrics ? 1 : 0) + 1;
	fds = xreallocarray(NULL, n, sizeof *fds);
	if (recv_fds(t->fd, fds, n, e) == -1) {
		free(fds);
		fds = NULL;
		goto fail;
	}
	t->old_pid = (pid_t)json_integer_value(json_object_get(res, "pid"));
	if (json_is_string(json_object_get(res, "config-file")))
		t->config_file = xstrdup(json_string_value(json_object_get(res,
		    "config-file")));
	if (takeover_adopt(eng, ls, fds, e) == -1)
		goto fail;
	if (metrics && takeover_metrics(eng, fds[n - 2], e) == -1)
		goto fail;
	if (metrics)
		fds[n - 2] = -1;
	t->ctl_fd = fds[n - 1];
	log_warn("takeover zone=%s: %zu listening sockets and the control "
	    "socket received from pid %d (version %s)", eng->zone,
	    json_array_size(ls),
	    (int)t->old_pid, json_is_string(json_object_get(res, "version")) ?
	    json_string_value(json_object_get(res, "version")) : "?");
	free(fds);
	json_decref(r);
	return 0;
fail:
	if (fds != NULL)
		close_fds(fds, n);
	free(fds);
	json_decref(r);
	takeover_end(t);
	return -1;
}

/*
 * We serve: the old engine stops accepting and ends with its sessions.
 * A connection closed without a reply counts if the old engine is gone
 * (it ended at once, having no session).
 */
int
takeover_finish(struct takeover *t, const char *zone, struct errs *e)
{
	json_t *r;

	if (send_line(t->fd, "{\"id\":2,\"cmd\":\"" CMD_TAKEOVER "\","
	    "\"done\":true}\n") == -1) {
		errs_add(e, "takeover: telling pid %d: %s", (int)t->old_pid,
		    strerror(errno));
		return -1;
	}
	if ((r = takeover_reply(t->fd, "done", e)) == NULL) {
		if (kill(t->old_pid, 0) == -1 && errno == ESRCH) {
			errs_free(e);
			return 0;
		}
		return -1;
	}
	log_warn("takeover zone=%s done: pid %d finishes %lld sessions and "
	    "ends", zone, (int)t->old_pid, (long long)json_integer_value(
	    json_object_get(json_object_get(r, K_RESULT), "sessions")));
	json_decref(r);
	return 0;
}

void
takeover_end(struct takeover *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	free(t->config_file);
	t->config_file = NULL;
}
