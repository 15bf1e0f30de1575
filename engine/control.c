/*
 * The control socket: a UNIX stream socket speaking one JSON object per
 * line.  Every peer is identified by its credentials (SO_PEERCRED), every
 * line is bounded and validated, and a peer that breaks the protocol gets
 * an error or is disconnected: nothing it sends can stop the engine.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "control.h"

static void client_free(struct client *);

static void
client_send(struct client *c, json_t *msg)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *line;

	if (c->closing)
		return;
	/* A peer that reads nothing does not get to grow our memory. */
	if (evbuffer_get_length(out) > PROTO_OUTPUT_MAX) {
		log_warn("control: %s (pid %d) reads no replies, dropped",
		    c->user, (int)c->pid);
		c->closing = true;
		c->closed_at = now_ms();
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	line = json_dumps(msg, CONFIG_JSON_FLAGS);
	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\n", 1);
	free(line);
}

void
reply_ok(struct client *c, json_t *id, json_t *result)
{
	json_t *msg = json_object();

	json_object_set(msg, K_ID, id ? id : json_null());
	json_object_set_new(msg, K_OK, json_true());
	json_object_set_new(msg, K_RESULT, result ? result : json_object());
	client_send(c, msg);
	json_decref(msg);
}

void
reply_error(struct client *c, json_t *id, const char *code, struct errs *list,
    const char *fmt, ...)
{
	json_t *msg = json_object(), *err = json_object();
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		text = NULL;
	va_end(ap);
	json_object_set_new(err, K_CODE, json_string(code));
	json_object_set_new(err, K_MESSAGE, json_string(text ? text : code));
	if (list != NULL && list->n > 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < list->n; i++)
			json_array_append_new(a, json_string(list->v[i]));
		json_object_set_new(err, K_ERRORS, a);
	}
	json_object_set(msg, K_ID, id ? id : json_null());
	json_object_set_new(msg, K_OK, json_false());
	json_object_set_new(msg, K_ERROR, err);
	client_send(c, msg);
	json_decref(msg);
	free(text);
}

void
control_broadcast(struct control *ctl, json_t *event)
{
	struct client *c;

	TAILQ_FOREACH(c, &ctl->clients, entry)
		if (c->subscribed)
			client_send(c, event);
}

/* One line: JSON, an object, then the command. */
static void
client_line(struct client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		reply_error(c, NULL, E_PARSE, NULL, "line is not JSON: %s "
		    "(column %d)", jerr.text, jerr.column);
		return;
	}
	if (!json_is_object(req))
		reply_error(c, NULL, E_PARSE, NULL, "a request is a JSON object");
	else
		control_command(c, req);
	json_decref(req);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	size_t len;
	char *line;

	while (!c->closing) {
		eol = evbuffer_search_eol(in, NULL, &len, EVBUFFER_EOL_LF);
		if (eol.pos == -1)
			break;
		line = xmalloc((size_t)eol.pos + 1);
		evbuffer_remove(in, line, (size_t)eol.pos);
		evbuffer_drain(in, len);
		line[eol.pos] = '\0';
		if (eol.pos > 0)
			client_line(c, line, (size_t)eol.pos);
		free(line);
	}
	/* No end of line within the limit: the stream cannot be resynced. */
	if (!c->closing && evbuffer_get_length(in) > PROTO_LINE_MAX) {
		reply_error(c, NULL, E_TOO_LONG, NULL, "line longer than %d "
		    "bytes; closing", PROTO_LINE_MAX);
		log_warn("control: %s (pid %d) sent an oversized line, dropped",
		    c->user, (int)c->pid);
		c->closing = true;
		c->closed_at = now_ms();
	}
	if (c->closing)
		bufferevent_disable(bev, EV_READ);
}

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	client_free(arg);
}

static void
client_free(struct client *c)
{
	struct control *ctl = c->ctl;

	waiter_drop_client(ctl, c);
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->nclients--;
	bufferevent_free(c->bev);
	free(c);
}

#define CLOSE_FLUSH_MS	5000	/* a closing peer gets this long to read */

/* Frees closing clients outside their callbacks, and answers waits. */
static void
control_timer(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	struct client *c, *next;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&ctl->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->closing && (evbuffer_get_length(
		    bufferevent_get_output(c->bev)) == 0 ||
		    now - c->closed_at > CLOSE_FLUSH_MS))
			client_free(c);
	}
	control_tick(ctl);
}

static bool
in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd pw, *res;
	char buf[4096];
	gid_t groups[256];
	int n = (int)nitems(groups);

	if (want == (gid_t)-1)
		return false;
	if (gid == want)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || res == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) == -1)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

static void
peer_name(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res;
	char tmp[4096];

	if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res != NULL)
		snprintf(buf, len, "%s", pw.pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

/* Refused peers get one error line, written straight to the socket. */
static void
refuse(evutil_socket_t fd, const char *msg)
{
	char line[512];
	int n = snprintf(line, sizeof line, "{\"id\":null,\"ok\":false,\"error\":"
	    "{\"code\":\"%s\",\"message\":\"%s\"}}\n", E_DENIED, msg);

	(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
control_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control *ctl = arg;
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct client *c;
	bool admin, reader;
	char who[64];

	(void)evl;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		close(fd);
		return;
	}
	peer_name(cred.uid, who, sizeof who);
	admin = cred.uid == 0 || cred.uid == geteuid() ||
	    in_group(cred.uid, cred.gid, ctl->admin_gid);
	reader = admin || in_group(cred.uid, cred.gid, ctl->read_gid);
	if (!reader) {
		log_warn("control: refused %s (pid %d): not root, not in the "
		    "admin or read-only group", who, (int)cred.pid);
		refuse(fd, "access denied: you are in neither the admin nor the "
		    "read-only group of this zone");
		return;
	}
	if (ctl->nclients >= PROTO_CLIENTS_MAX) {
		log_warn("control: refused %s (pid %d): %d clients already",
		    who, (int)cred.pid, PROTO_CLIENTS_MAX);
		refuse(fd, "too many control clients");
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->ctl = ctl;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->admin = admin;
	strlcpy_(c->user, who, sizeof c->user);
	c->bev = bufferevent_socket_new(ctl->eng->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	/* Reading stops past one line's limit; client_read then refuses. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, PROTO_LINE_MAX + 1);
	bufferevent_setcb(c->bev, client_read, NULL, client_event, c);
	bufferevent_enable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->nclients++;
}

/* Another engine answers on the socket: this zone is already running. */
static bool
socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd == -1)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	close(fd);
	return live;
}

static int
socket_bind(struct control *ctl, struct errs *e)
{
	struct sockaddr_un sun;
	gid_t group = ctl->read_gid != (gid_t)-1 ? ctl->read_gid : ctl->admin_gid;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(ctl->path) >= sizeof sun.sun_path) {
		errs_add(e, "%s: path too long for a socket", ctl->path);
		return -1;
	}
	strlcpy_(sun.sun_path, ctl->path, sizeof sun.sun_path);
	if (socket_live(&sun)) {
		errs_add(e, "zone %s is already running: %s answers",
		    ctl->eng->zone, ctl->path);
		return -1;
	}
	(void)unlink(ctl->path);	/* stale, from an engine that died */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* 0660 from the start: no window where others could connect. */
	old = umask(0117);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 128) == -1) {
		umask(old);
		errs_add(e, "%s: %s", ctl->path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	umask(old);
	if (group != (gid_t)-1 && chown(ctl->path, (uid_t)-1, group) == -1)
		log_warn("control: chgrp %s: %s", ctl->path, strerror(errno));
	return fd;
}

struct control *
control_open(struct engine *eng, const char *path, gid_t admin_gid,
    gid_t read_gid, struct errs *e)
{
	struct control *ctl = xcalloc(1, sizeof *ctl);
	struct timeval tv = { 0, 200 * 1000 };
	int fd;

	ctl->eng = eng;
	ctl->path = xstrdup(path);
	ctl->admin_gid = admin_gid;
	ctl->read_gid = read_gid;
	TAILQ_INIT(&ctl->clients);
	TAILQ_INIT(&ctl->waiters);
	if ((fd = socket_bind(ctl, e)) == -1) {
		free(ctl->path);
		free(ctl);
		return NULL;
	}
	ctl->evl = evconnlistener_new(eng->base, control_accept, ctl,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	ctl->tick = event_new(eng->base, -1, EV_PERSIST, control_timer, ctl);
	evtimer_add(ctl->tick, &tv);
	return ctl;
}

void
control_close(struct control *ctl)
{
	struct client *c;

	if (ctl == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		client_free(c);
	evconnlistener_free(ctl->evl);
	event_free(ctl->tick);
	(void)unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
