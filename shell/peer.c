/*
 * The client side of the control protocol: see peer.h.  A connection is
 * kept per zone and reopened when it breaks, so a stopped, restarted or
 * hung engine is noticed on the next call, never hidden behind a cached
 * answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "config.h"
#include "peer.h"
#include "proto.h"
#include "util.h"

int			peer_timeout_ms = 10000;
volatile sig_atomic_t	peer_interrupted;

struct peer {
	char			*zone;
	char			*sock;		/* or NULL, with cmd */
	char			*cmd;
	int			 fd;
	pid_t			 pid;		/* cmd's process */
	struct evbuffer		*in;
	json_int_t		 next_id;
	json_t			*hello;
	json_t			*pending;	/* events read during a call */
	enum peer_status	 status;
	bool			 subscribed;
	int64_t			 hung_at;	/* when it last timed out */
	char			 hung[512];	/* and what was said */
};

struct peer *
peer_new(const char *zone, const char *sock, const char *cmd)
{
	struct peer *p = xcalloc(1, sizeof *p);

	p->zone = xstrdup(zone);
	p->sock = sock ? xstrdup(sock) : NULL;
	p->cmd = cmd ? xstrdup(cmd) : NULL;
	p->fd = -1;
	p->pid = -1;
	p->next_id = 1;
	p->pending = json_array();
	return p;
}

void
peer_close(struct peer *p)
{
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	if (p->pid > 0) {
		/* A remote command (ssh) ends when its stdin does; a hung one
		 * is not waited for. */
		(void)kill(p->pid, SIGTERM);
		(void)waitpid(p->pid, NULL, 0);
	}
	p->pid = -1;
	if (p->in != NULL)
		evbuffer_free(p->in);
	p->in = NULL;
	json_decref(p->hello);
	p->hello = NULL;
	p->subscribed = false;
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	peer_close(p);
	json_decref(p->pending);
	free(p->zone);
	free(p->sock);
	free(p->cmd);
	free(p);
}

bool
peer_connected(const struct peer *p)
{
	return p->fd != -1;
}

enum peer_status
peer_status(const struct peer *p)
{
	return p->status;
}

json_t *
peer_hello(const struct peer *p)
{
	return p->hello;
}

int
peer_fd(const struct peer *p)
{
	return p->fd;
}

bool
peer_has_events(const struct peer *p)
{
	return json_array_size(p->pending) > 0;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where the engine is, for messages: a remote zone's command is used
 * instead of the local socket, so that is what to name. */
static const char *
peer_where(const struct peer *p)
{
	return p->cmd ? p->cmd : p->sock;
}

static int
peer_fail(struct peer *p, enum peer_status st, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
peer_fail(struct peer *p, enum peer_status st, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "zone %s: ", p->zone);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	p->status = st;
	if (st == PEER_TIMEOUT) {
		p->hung_at = mono_ms();
		snprintf(p->hung, sizeof p->hung, "%s", err);
	}
	if (st != PEER_ENGINE)
		peer_close(p);
	return -1;
}

/* EACCES on the socket: who we are and the group that may connect. */
static int
peer_denied(struct peer *p, char *err, size_t errlen)
{
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr;
	struct stat st;
	char group[64];

	if (stat(p->sock, &st) == -1)
		return peer_fail(p, PEER_DENIED, err, errlen, "permission denied "
		    "on %s: %s (a directory above it is closed to you)",
		    p->sock, strerror(errno));
	if ((gr = getgrgid(st.st_gid)) != NULL)
		snprintf(group, sizeof group, "%s", gr->gr_name);
	else
		snprintf(group, sizeof group, "%u", (unsigned)st.st_gid);
	return peer_fail(p, PEER_DENIED, err, errlen, "permission denied on %s: "
	    "user %s is not in group %s, which may use this zone (or run as "
	    "root)", p->sock, pw ? pw->pw_name : "?", group);
}

/* A remote zone: the command's stdin and stdout are the stream. */
static int
peer_spawn(struct peer *p, char *err, size_t errlen)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return peer_fail(p, PEER_BROKEN, err, errlen, "%s",
		    strerror(errno));
	if ((p->pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return peer_fail(p, PEER_BROKEN, err, errlen, "%s",
		    strerror(errno));
	}
	if (p->pid == 0) {
		signal(SIGINT, SIG_IGN);	/* the shell decides */
		dup2(sv[1], STDIN_FILENO);
		dup2(sv[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", p->cmd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	return sv[0];
}

int
peer_connect(struct peer *p, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	if (p->fd != -1)
		return p->fd;
	p->status = PEER_OK;
	if (p->cmd != NULL) {
		if ((fd = peer_spawn(p, err, errlen)) == -1)
			return -1;
	} else {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(p->sock) >= sizeof sun.sun_path)
			return peer_fail(p, PEER_NO_SOCKET, err, errlen,
			    "%s: path too long for a socket", p->sock);
		strlcpy_(sun.sun_path, p->sock, sizeof sun.sun_path);
		/* Non-blocking: a hung engine's full backlog is EAGAIN now,
		 * not a connect that never returns. */
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0)) == -1)
			return peer_fail(p, PEER_BROKEN, err, errlen, "%s",
			    strerror(errno));
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
			int e = errno;
			close(fd);
			if (e == ENOENT)
				return peer_fail(p, PEER_NO_SOCKET, err, errlen,
				    "no engine: no socket at %s (is mxlbd -z %s "
				    "running?)", p->sock, p->zone);
			if (e == ECONNREFUSED)
				return peer_fail(p, PEER_REFUSED, err, errlen,
				    "engine not running (socket left by a "
				    "crash?): nothing answers on %s", p->sock);
			if (e == EACCES || e == EPERM)
				return peer_denied(p, err, errlen);
			if (e == EAGAIN)
				return peer_fail(p, PEER_TIMEOUT, err, errlen,
				    "engine not answering: %s accepts no more "
				    "connections (hung?)", p->sock);
			return peer_fail(p, PEER_BROKEN, err, errlen,
			    "engine not reached at %s: %s", p->sock,
			    strerror(e));
		}
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	}
	p->fd = fd;
	p->in = evbuffer_new();
	return fd;
}

static int
peer_send(struct peer *p, const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text);

	while (len > 0) {
		ssize_t n = send(p->fd, text, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR && !peer_interrupted)
			continue;
		if (n <= 0)
			return peer_fail(p, errno == EINTR ? PEER_INTERRUPTED :
			    PEER_CLOSED, err, errlen, "engine at %s went away: "
			    "%s", peer_where(p), strerror(errno));
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reads into the buffer once; 1 a line is there, 0 nothing yet, -1 the
 * engine went away or broke the protocol.  wait_ms -1: until the deadline
 * given by the caller has passed (checked by the caller).
 */
static int
peer_fill(struct peer *p, int wait_ms, char *err, size_t errlen)
{
	struct pollfd pfd = { p->fd, POLLIN, 0 };
	struct evbuffer_ptr eol;
	int rc, n;

	eol = evbuffer_search_eol(p->in, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos != -1)
		return 1;
	rc = poll(&pfd, 1, wait_ms);
	if (rc == -1 && errno == EINTR) {
		if (peer_interrupted)
			return peer_fail(p, PEER_INTERRUPTED, err, errlen,
			    "interrupted");
		return 0;
	}
	if (rc <= 0)
		return 0;
	n = evbuffer_read(p->in, p->fd, 65536);
	if (n <= 0)
		return peer_fail(p, PEER_CLOSED, err, errlen, "the engine at %s "
		    "closed the connection (it stopped or restarted)",
		    peer_where(p));
	eol = evbuffer_search_eol(p->in, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos != -1)
		return 1;
	if (evbuffer_get_length(p->in) > PROTO_LINE_MAX)
		return peer_fail(p, PEER_BROKEN, err, errlen, "the engine at %s "
		    "sent a line over %d bytes", peer_where(p), PROTO_LINE_MAX);
	return 0;
}

/* One complete line as JSON; NULL and the peer closed when it is not. */
static json_t *
peer_line(struct peer *p, char *err, size_t errlen)
{
	size_t len;
	char *line = evbuffer_readln(p->in, &len, EVBUFFER_EOL_LF);
	json_t *j = line ? json_loadb(line, len, 0, NULL) : NULL;

	free(line);
	if (!json_is_object(j)) {
		json_decref(j);
		peer_fail(p, PEER_BROKEN, err, errlen, "the engine at %s sent "
		    "a line that is not a JSON object", peer_where(p));
		return NULL;
	}
	return j;
}

/* The reply's error: the engine's message and its list of errors. */
static void
peer_engine_error(struct peer *p, json_t *e, char *err, size_t errlen)
{
	const char *msg = json_string_value(json_object_get(e, K_MESSAGE));
	const char *code = json_string_value(json_object_get(e, K_CODE));
	json_t *item;
	size_t i;

	p->status = PEER_ENGINE;
	snprintf(err, errlen, "%s", msg ? msg : code ? code : "error");
	json_array_foreach(json_object_get(e, K_ERRORS), i, item)
		snprintf(err + strlen(err), errlen - strlen(err), "\n  %s",
		    json_string_value(item) ? json_string_value(item) : "?");
}

/* The reply to request id, events set aside, within timeout_ms. */
static json_t *
peer_reply(struct peer *p, json_int_t id, int timeout_ms, char *err,
    size_t errlen)
{
	int64_t deadline = mono_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - mono_ms();
		json_t *j, *jid;
		int rc;

		if (left <= 0) {
			peer_fail(p, PEER_TIMEOUT, err, errlen, "engine not "
			    "answering within %d s at %s (hung or stopped?)",
			    (timeout_ms + 999) / 1000, peer_where(p));
			return NULL;
		}
		if ((rc = peer_fill(p, (int)left, err, errlen)) == -1)
			return NULL;
		if (rc == 0)
			continue;
		if ((j = peer_line(p, err, errlen)) == NULL)
			return NULL;
		if (json_is_string(json_object_get(j, K_EVENT))) {
			json_array_append_new(p->pending, j);
			continue;
		}
		jid = json_object_get(j, K_ID);
		if (json_is_null(jid) && json_is_false(json_object_get(j, K_OK)) &&
		    !strcmp(json_string_value(json_object_get(json_object_get(j,
		    K_ERROR), K_CODE)) ?: "", E_DENIED)) {
			peer_fail(p, PEER_DENIED, err, errlen, "permission "
			    "denied by the engine at %s: %s", peer_where(p),
			    json_string_value(json_object_get(json_object_get(j,
			    K_ERROR), K_MESSAGE)) ?: "denied");
			json_decref(j);
			return NULL;
		}
		if (!json_is_integer(jid) || json_integer_value(jid) != id) {
			peer_fail(p, PEER_BROKEN, err, errlen, "the engine at %s "
			    "answered request %lld with id %s: not the protocol",
			    peer_where(p), (long long)id, json_is_integer(jid) ?
			    "another" : "none");
			json_decref(j);
			return NULL;
		}
		return j;
	}
}

static json_t *
peer_exchange(struct peer *p, json_t *req, int timeout_ms, char *err,
    size_t errlen)
{
	json_int_t id = p->next_id++;
	json_t *reply, *result = NULL;
	char *text;
	int rc;

	json_object_set_new(req, K_ID, json_integer(id));
	text = json_dumps(req, CONFIG_JSON_FLAGS);
	json_decref(req);
	if (peer_interrupted) {
		free(text);
		peer_fail(p, PEER_INTERRUPTED, err, errlen, "interrupted");
		return NULL;
	}
	rc = peer_send(p, text, err, errlen);
	free(text);
	if (rc == -1 || peer_send(p, "\n", err, errlen) == -1)
		return NULL;
	if ((reply = peer_reply(p, id, timeout_ms ? timeout_ms :
	    peer_timeout_ms, err, errlen)) == NULL)
		return NULL;
	p->status = PEER_OK;
	if (json_is_true(json_object_get(reply, K_OK)))
		result = json_incref(json_object_get(reply, K_RESULT));
	else
		peer_engine_error(p, json_object_get(reply, K_ERROR), err,
		    errlen);
	if (result == NULL && p->status == PEER_OK)
		snprintf(err, errlen, "zone %s: a reply without a result",
		    p->zone);
	json_decref(reply);
	return result;
}

int
peer_open(struct peer *p, char *err, size_t errlen)
{
	json_t *h;
	json_int_t v;

	if (p->hello != NULL && p->fd != -1)
		return 0;
	/* An engine that just did not answer is not asked again before a
	 * timeout has passed: one hung zone costs a command one timeout. */
	if (p->status == PEER_TIMEOUT && mono_ms() - p->hung_at <
	    peer_timeout_ms) {
		snprintf(err, errlen, "%s", p->hung);
		return -1;
	}
	if (peer_connect(p, err, errlen) == -1)
		return -1;
	h = peer_exchange(p, json_pack("{s:s,s:i}", K_CMD, CMD_HELLO,
	    K_PROTOCOL, PROTO_VERSION), 0, err, errlen);
	if (h == NULL) {
		if (p->status == PEER_ENGINE)
			return peer_fail(p, PEER_VERSION, err, errlen, "the "
			    "engine at %s does not take this mxlb's hello "
			    "(protocol %d): %s", peer_where(p), PROTO_VERSION,
			    err);
		return -1;
	}
	v = json_integer_value(json_object_get(h, K_PROTOCOL));
	if (!json_is_integer(json_object_get(h, K_PROTOCOL)) ||
	    v != PROTO_VERSION) {
		json_decref(h);
		return peer_fail(p, PEER_VERSION, err, errlen, "the engine at "
		    "%s speaks protocol version %lld, this mxlb speaks %d "
		    "(install the same version of mxlb and mxlbd)",
		    peer_where(p), (long long)v, PROTO_VERSION);
	}
	p->hello = h;
	return 0;
}

json_t *
peer_call(struct peer *p, json_t *req, int timeout_ms, char *err,
    size_t errlen)
{
	if (peer_open(p, err, errlen) == -1) {
		json_decref(req);
		return NULL;
	}
	return peer_exchange(p, req, timeout_ms, err, errlen);
}

int
peer_subscribe(struct peer *p, char *err, size_t errlen)
{
	json_t *r = peer_call(p, json_pack("{s:s}", K_CMD, CMD_SUBSCRIBE), 0,
	    err, errlen);

	json_decref(r);
	p->subscribed = r != NULL;
	return r ? 0 : -1;
}

bool
peer_subscribed(const struct peer *p)
{
	return p->subscribed && p->fd != -1;
}

int
peer_events(struct peer *p, json_t *out, char *err, size_t errlen)
{
	json_t *j;
	size_t i;
	int rc;

	json_array_foreach(p->pending, i, j)
		json_array_append(out, j);
	json_array_clear(p->pending);
	if (p->fd == -1)
		return 0;
	while ((rc = peer_fill(p, 0, err, errlen)) == 1) {
		if ((j = peer_line(p, err, errlen)) == NULL)
			return -1;
		if (json_is_string(json_object_get(j, K_EVENT)))
			json_array_append(out, j);
		json_decref(j);
	}
	return rc == -1 ? -1 : 0;
}
