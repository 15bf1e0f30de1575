/*
 * The control socket: a UNIX stream socket speaking one JSON object per
 * line.  Every peer is identified by its credentials (SO_PEERCRED), every
 * line is bounded and validated, and a peer that breaks the protocol gets
 * an error or is disconnected: nothing it sends can stop the engine.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "control.h"
#include "worker.h"

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
	c->active = now_ms();
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

/* Requests handled in one turn: a client with many queued does not keep
 * the sessions (or other clients) waiting. */
#define LINES_PER_TURN	32
/* Freeing more than this in one go is worth giving back to the system. */
#define TRIM_BYTES	(64 * 1024)

/* A closing client's input is read and dropped, up to this much, so that
 * closing does not reset the connection before it has read our last reply
 * (unread input at close() makes a reset). */
#define LINGER_BYTES	(64 * 1024)

/* Closes once the replies are flushed (control_timer), our side first. */
static void
client_close(struct client *c)
{
	c->closing = true;
	c->closed_at = now_ms();
}

static void
client_discard(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	c->discarded += evbuffer_get_length(in);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->discarded > LINGER_BYTES)
		bufferevent_disable(c->bev, EV_READ);
}

/* One request line out of the input, searched from where the last search
 * stopped (a long line arriving in pieces is not searched again from its
 * start each time).  NULL if no line is complete. */
static char *
client_getline(struct client *c, size_t *lenp)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr from, eol;
	size_t eollen, len;
	char *line;

	if (evbuffer_ptr_set(in, &from, c->scanned, EVBUFFER_PTR_SET) == -1) {
		c->scanned = 0;
		evbuffer_ptr_set(in, &from, 0, EVBUFFER_PTR_SET);
	}
	eol = evbuffer_search_eol(in, &from, &eollen, EVBUFFER_EOL_LF);
	if (eol.pos == -1) {
		c->scanned = evbuffer_get_length(in);
		return NULL;
	}
	len = (size_t)eol.pos;
	line = xmalloc(len + 1);
	evbuffer_remove(in, line, len);
	evbuffer_drain(in, eollen);
	line[len] = '\0';
	c->scanned = 0;
	*lenp = len;
	return line;
}

static void
client_process(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len;
	bool too_long = false;
	char *line;

	for (int n = 0; !c->closing; n++) {
		/* Backpressure: no new work while the replies are not read. */
		if (evbuffer_get_length(out) > PROTO_OUTPUT_PAUSE) {
			c->paused = true;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		if (n == LINES_PER_TURN) {
			event_active(c->resume, EV_TIMEOUT, 0);
			return;
		}
		if ((line = client_getline(c, &len)) == NULL)
			break;
		if (len > c->line_max) {
			free(line);
			too_long = true;
			break;
		}
		c->active = now_ms();
		if (len > 0)
			client_line(c, line, len);
		if (len > TRIM_BYTES)
			c->ctl->trim = true;
		free(line);
	}
	/* No end of line within the limit: the stream cannot be resynced. */
	if (!c->closing && (too_long || evbuffer_get_length(in) > c->line_max)) {
		reply_error(c, NULL, E_TOO_LONG, NULL, "line longer than %zu "
		    "bytes%s; closing", c->line_max, c->admin ? "" :
		    " (the read-only group's limit)");
		log_warn("control: %s (pid %d) sent an oversized line, dropped "
		    "(the limit is %zu bytes)", c->user, (int)c->pid,
		    c->line_max);
		c->ctl->trim = true;
		client_close(c);
	}
	if (c->closing)
		client_discard(c);
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (c->closing)
		client_discard(c);
	else if (!c->paused)
		client_process(c);
}
LOCKED_BEV_CB(client_read)

/* The output drained below the low watermark: serve the client again. */
static void
client_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (!c->paused || c->closing)
		return;
	c->paused = false;
	bufferevent_enable(c->bev, EV_READ);
	client_process(c);
}
LOCKED_BEV_CB(client_write)

static void
client_resume(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	if (!c->paused)
		client_process(c);
}
LOCKED_EVENT_CB(client_resume)

static void
client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	client_free(arg);
}
LOCKED_BEV_EVENT_CB(client_event)

static void
client_free(struct client *c)
{
	struct control *ctl = c->ctl;

	waiter_drop_client(ctl, c);
	if (c == ctl->successor)
		handover_lost(ctl);
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->nclients--;
	if (c->admin)
		ctl->nadmins--;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) +
	    evbuffer_get_length(bufferevent_get_output(c->bev)) > TRIM_BYTES)
		ctl->trim = true;
	bufferevent_free(c->bev);
	event_free(c->resume);
	free(c);
}

static void	control_upkeep(struct control *);

/* A peer, as control_accept takes it (the fuzz harness too). */
struct client *
client_attach(struct control *ctl, struct bufferevent *bev, uid_t uid,
    pid_t pid, bool admin, const char *user)
{
	struct client *c = xcalloc(1, sizeof *c);

	c->ctl = ctl;
	c->uid = uid;
	c->pid = pid;
	c->admin = admin;
	c->line_max = admin ? PROTO_LINE_MAX : PROTO_READ_LINE_MAX;
	c->active = c->out_since = now_ms();
	/* Logged and kept in the history: escaped once, here. */
	str_escape_buf(c->user, sizeof c->user, user);
	c->bev = bev;
	c->resume = event_new(bufferevent_get_base(bev), -1, 0,
	    client_resume_locked, c);
	/* Reading stops past one line's limit; client_process then refuses;
	 * client_write runs when a paused client's replies are half read. */
	bufferevent_setwatermark(bev, EV_READ, 0, c->line_max + 1);
	bufferevent_setwatermark(bev, EV_WRITE, PROTO_OUTPUT_PAUSE / 2, 0);
	bufferevent_setcb(bev, client_read_locked, client_write_locked,
	    client_event_locked, c);
	bufferevent_enable(bev, EV_READ);
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->nclients++;
	if (admin)
		ctl->nadmins++;
	control_upkeep(ctl);
	return c;
}

#define CLOSE_FLUSH_MS	5000	/* a closing peer gets this long to read */

/* A client paused for not reading its replies, whose output has not gone
 * down for this long, is dropped: it breaks the protocol. */
#define STALL_MS	10000

/* True if the client stopped reading what it asked for. */
static bool
client_stalled(struct client *c, uint64_t now)
{
	size_t len = evbuffer_get_length(bufferevent_get_output(c->bev));

	if (len == 0 || len < c->out_seen || !c->paused)
		c->out_since = now;
	c->out_seen = len;
	return !c->closing && now - c->out_since > STALL_MS;
}

static bool
client_idle(const struct control *ctl, const struct client *c, uint64_t now)
{
	return ctl->idle_ms != 0 && !c->closing && !c->subscribed &&
	    c->nwaits == 0 && now - c->active > ctl->idle_ms;
}

/*
 * Two descriptors on /dev/null, kept so that an admin can still connect
 * when the engine has no descriptor left: closed to accept (one for the
 * socket, one for the user and group look-ups), then opened again.
 */
#define RESERVE_FDS	2

static int	reserve_open(struct control *);
static void	refuse_flush(struct control *);

/* Frees closing clients outside their callbacks, closes idle ones. */
static void
control_timer(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	struct client *c, *next;
	uint64_t now = now_ms();
	unsigned idle = 0;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&ctl->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (client_idle(ctl, c, now)) {
			idle++;
			client_close(c);
		} else if (client_stalled(c, now)) {
			log_warn("control: %s (pid %d) reads no replies, dropped",
			    c->user, (int)c->pid);
			client_close(c);
		}
		if (!c->closing)
			continue;
		if (now - c->closed_at > CLOSE_FLUSH_MS)
			client_free(c);
		else if (!c->shut && evbuffer_get_length(
		    bufferevent_get_output(c->bev)) == 0) {
			/* Flushed: the peer reads our end, then closes
			 * (client_event frees it). */
			(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
			c->shut = true;
		}
	}
	if (idle > 0)
		log_info("control: closed %u client%s idle for %llu s", idle,
		    idle == 1 ? "" : "s",
		    (unsigned long long)ctl->idle_ms / 1000);
	refuse_flush(ctl);
	(void)reserve_open(ctl);
	if (ctl->trim) {
		/* glibc keeps freed heap pages; a burst of big lines would
		 * otherwise cost their memory for good. */
		malloc_trim(0);
		ctl->trim = false;
	}
	/* Nothing left to look after: an idle engine does not wake up. */
	if (TAILQ_EMPTY(&ctl->clients) && ctl->refused == 0 &&
	    ctl->reserve == RESERVE_FDS)
		evtimer_del(ctl->tick);
}
LOCKED_EVENT_CB(control_timer)

/* The upkeep timer runs while there are clients, refusals not logged yet
 * or reserve descriptors to take back. */
static void
control_upkeep(struct control *ctl)
{
	struct timeval tv = { 0, 200 * 1000 };

	if (!evtimer_pending(ctl->tick, NULL))
		evtimer_add(ctl->tick, &tv);
}

void
control_set_idle(struct control *ctl, unsigned secs)
{
	ctl->idle_ms = (uint64_t)secs * 1000;
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

/* Refusals not logged yet, counted, once their second is over. */
static void
refuse_flush(struct control *ctl)
{
	uint64_t now = now_ms();

	if (ctl->refused == 0 || now - ctl->refused_at < 1000)
		return;
	log_warn("%s (and %u more refusals in the last %llu ms)",
	    ctl->refusal, ctl->refused - 1,
	    (unsigned long long)(now - ctl->refused_at));
	ctl->refused_at = now;
	ctl->refused = 0;
}

/* Refusals are logged at most once a second, with how many were not:
 * a flood of connections does not become a flood of log lines. */
static void __attribute__((format(printf, 2, 3)))
refuse_log(struct control *ctl, const char *fmt, ...)
{
	uint64_t now = now_ms();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctl->refusal, sizeof ctl->refusal, fmt, ap);
	va_end(ap);
	control_upkeep(ctl);
	if (ctl->refused_at != 0 && now - ctl->refused_at < 1000) {
		ctl->refused++;
		return;
	}
	ctl->refused++;
	if (ctl->refused == 1) {
		log_warn("%s", ctl->refusal);
		ctl->refused_at = now;
		ctl->refused = 0;
	} else
		refuse_flush(ctl);
}

/* Refused peers get one error line, written straight to the socket. */
static void
refuse(evutil_socket_t fd, const char *code, const char *msg)
{
	char line[512];
	int n = snprintf(line, sizeof line, "{\"id\":null,\"ok\":false,\"error\":"
	    "{\"code\":\"%s\",\"message\":\"%s\"}}\n", code, msg);

	(void)send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static unsigned
clients_of(const struct control *ctl, uid_t uid)
{
	const struct client *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &ctl->clients, entry)
		if (c->uid == uid && !c->closing)
			n++;
	return n;
}

/* A client with these credentials, connected now, or NULL. */
static const struct client *
client_of(const struct control *ctl, uid_t uid, gid_t gid)
{
	const struct client *c;

	TAILQ_FOREACH(c, &ctl->clients, entry)
		if (c->uid == uid && c->gid == gid && !c->closing)
			return c;
	return NULL;
}

/* Why a peer may not have a slot now, or NULL.  The admin group may take
 * every slot; the others leave PROTO_ADMIN_RESERVE, and one uid that is not
 * an admin holds at most PROTO_CLIENTS_PER_UID. */
static const char *
no_slot(const struct control *ctl, uid_t uid, bool admin, bool reserved)
{
	if (reserved && !admin)
		return "the engine is out of descriptors: only its admin "
		    "group is let in";
	if (ctl->nclients >= PROTO_CLIENTS_MAX)
		return "too many control clients";
	if (admin)
		return NULL;
	if (ctl->nclients - ctl->nadmins >=
	    PROTO_CLIENTS_MAX - PROTO_ADMIN_RESERVE)
		return "too many read-only control clients (the last slots are "
		    "kept for the admin group)";
	if (clients_of(ctl, uid) >= PROTO_CLIENTS_PER_UID)
		return "too many control clients of this user";
	return NULL;
}

/* A connection accepted: who it is, whether it may stay.  `reserved`: it
 * took the descriptor kept for an admin. */
static void
client_admit(struct control *ctl, evutil_socket_t fd, bool reserved)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct bufferevent *bev;
	const struct client *same;
	const char *why;
	bool admin, reader;
	char who[64], esc[128];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		close(fd);
		return;
	}
	peer_name(cred.uid, who, sizeof who);
	str_escape_buf(esc, sizeof esc, who);
	if ((same = client_of(ctl, cred.uid, cred.gid)) != NULL) {
		/* Known already: no group look-up per connection of a flood. */
		admin = same->admin;
		reader = true;
	} else {
		admin = cred.uid == 0 || cred.uid == geteuid() ||
		    in_group(cred.uid, cred.gid, ctl->admin_gid);
		reader = admin || in_group(cred.uid, cred.gid, ctl->read_gid);
	}
	if (!reader) {
		refuse_log(ctl, "control: refused %s (pid %d): not root, not in "
		    "the admin or read-only group", esc, (int)cred.pid);
		refuse(fd, E_DENIED, "access denied: you are in neither the "
		    "admin nor the read-only group of this zone");
		return;
	}
	if ((why = no_slot(ctl, cred.uid, admin, reserved)) != NULL) {
		refuse_log(ctl, "control: refused %s (pid %d): %s", esc,
		    (int)cred.pid, why);
		refuse(fd, E_BUSY, why);
		return;
	}
	bev = bufferevent_socket_new(ctl->eng->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	client_attach(ctl, bev, cred.uid, cred.pid, admin, who)->gid =
	    cred.gid;
}

static int
reserve_open(struct control *ctl)
{
	while (ctl->reserve < RESERVE_FDS) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			return -1;
		ctl->reserved[ctl->reserve++] = fd;
	}
	return 0;
}

static void
reserve_close(struct control *ctl)
{
	while (ctl->reserve > 0)
		close(ctl->reserved[--ctl->reserve]);
}

static void
control_retry(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	(void)fd;
	(void)what;
	event_add(ctl->ev, NULL);
}
LOCKED_EVENT_CB(control_retry)

/* Out of descriptors, and the reserve is in use: pause accepting instead
 * of spinning on the error, as the frontends do. */
static void
control_pause(struct control *ctl, int err)
{
	struct timeval tv = { 0, 250 * 1000 };
	uint64_t now = now_ms();

	if (now - ctl->paused_at >= 10000) {
		log_err("control: cannot accept: %s: trying again every "
		    "250 ms", strerror(err));
		ctl->paused_at = now;
	}
	event_del(ctl->ev);
	evtimer_add(ctl->retry, &tv);
}

#define ACCEPT_BATCH	16

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *ctl = arg;
	bool reserved;
	int fd, err;

	(void)what;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		reserved = false;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && (errno == EMFILE || errno == ENFILE) &&
		    ctl->reserve == RESERVE_FDS) {
			reserve_close(ctl);
			control_upkeep(ctl);	/* opens them again */
			reserved = true;
			fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
			    SOCK_CLOEXEC);
		}
		if (fd == -1) {
			err = errno;
			if (reserved)
				(void)reserve_open(ctl);
			if (err == EINTR || err == ECONNABORTED)
				continue;
			if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
			    err == ENOMEM)
				control_pause(ctl, err);
			return;		/* EAGAIN: all taken */
		}
		client_admit(ctl, fd, reserved);
		if (reserved && reserve_open(ctl) == -1) {
			/* An admin holds the reserve now; the tick takes it
			 * back when a descriptor frees. */
			control_pause(ctl, EMFILE);
			return;
		}
	}
}
LOCKED_EVENT_CB(control_accept)

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

/*
 * The socket's own group and mode say who may connect: several zones may
 * share the run directory, so it is not the directory's (0755) that
 * decides.  The read-only group if there is one, else the admin group,
 * 0660; 0600 without a group.
 */
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
	/* 0600 from the start: nobody else connects before the group is
	 * set. */
	old = umask(0177);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 128) == -1) {
		umask(old);
		errs_add(e, "%s: %s", ctl->path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	umask(old);
	if (group == (gid_t)-1)
		return fd;
	if (chown(ctl->path, (uid_t)-1, group) == -1)
		log_warn("control: chgrp %s: %s: only the engine's user may "
		    "connect", ctl->path, strerror(errno));
	else if (chmod(ctl->path, 0660) == -1)
		log_warn("control: chmod %s: %s", ctl->path, strerror(errno));
	return fd;
}

/*
 * The socket received from the engine we take over, instead of binding a
 * new one: clients waiting in its queue are served by us, and the path
 * never stops answering.  Only a listening stream socket bound to our
 * own path is taken.
 */
static int
socket_adopt(struct control *ctl, int fd, struct errs *e)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	int type = 0, acc = 0;
	socklen_t il = sizeof type;

	memset(&sun, 0, sizeof sun);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) == -1 ||
	    type != SOCK_STREAM || (il = sizeof acc, getsockopt(fd, SOL_SOCKET,
	    SO_ACCEPTCONN, &acc, &il)) == -1 || acc != 1 ||
	    getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    sun.sun_family != AF_UNIX || len <= offsetof(struct sockaddr_un,
	    sun_path) || strncmp(sun.sun_path, ctl->path,
	    sizeof sun.sun_path) != 0) {
		errs_add(e, "takeover: the control socket received is not a "
		    "listening socket on %s", ctl->path);
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		errs_add(e, "takeover: %s: %s", ctl->path, strerror(errno));
		return -1;
	}
	return fd;
}

/* `fd` -1: bind the socket; else the one received at a takeover. */
struct control *
control_open(struct engine *eng, const char *path, gid_t admin_gid,
    gid_t read_gid, int fd, struct errs *e)
{
	struct control *ctl = xcalloc(1, sizeof *ctl);

	ctl->eng = eng;
	ctl->path = xstrdup(path);
	ctl->admin_gid = admin_gid;
	ctl->read_gid = read_gid;
	ctl->idle_ms = PROTO_IDLE_S * 1000;
	TAILQ_INIT(&ctl->clients);
	TAILQ_INIT(&ctl->waiters);
	if ((ctl->fd = fd == -1 ? socket_bind(ctl, e) : socket_adopt(ctl, fd,
	    e)) == -1) {
		free(ctl->path);
		free(ctl);
		return NULL;
	}
	(void)reserve_open(ctl);
	ctl->ev = event_new(eng->base, ctl->fd, EV_READ | EV_PERSIST,
	    control_accept_locked, ctl);
	event_add(ctl->ev, NULL);
	ctl->retry = evtimer_new(eng->base, control_retry_locked, ctl);
	ctl->tick = event_new(eng->base, -1, EV_PERSIST, control_timer_locked,
	    ctl);
	control_upkeep(ctl);
	control_timers_open(ctl);
	return ctl;
}

/*
 * Sends `line` and then the descriptors, at most SEND_FDS_MAX to a
 * one-byte message (the kernel takes 253 at most per message), straight
 * to the socket: the client's output must be empty, so that nothing
 * queued goes after them.  Blocks at most 2 s (the peer is an admin's
 * engine reading it).  -1: the stream is broken, close the client.
 */
#define SEND_FDS_MAX	250

static int
send_all(int fd, const char *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(SEND_FDS_MAX * sizeof(int))];
	} cm;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof cm);
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(&cm.h), fds, nfds * sizeof(int));
	}
	while (iov.iov_len > 0) {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
		msg.msg_control = NULL;	/* sent with the first byte */
		msg.msg_controllen = 0;
	}
	return 0;
}

int
client_send_fds(struct client *c, json_t *msg, const int *fds, size_t nfds)
{
	int fd = bufferevent_getfd(c->bev), fl = fcntl(fd, F_GETFL);
	struct timeval tv = { 2, 0 };
	char *line = json_dumps(msg, CONFIG_JSON_FLAGS), *nl;
	int rc = -1;

	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 ||
	    fl == -1) {
		free(line);
		return -1;
	}
	nl = xasprintf("%s\n", line);
	free(line);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 &&
	    send_all(fd, nl, strlen(nl), NULL, 0) == 0) {
		rc = 0;
		for (size_t i = 0; i < nfds && rc == 0; i += SEND_FDS_MAX)
			rc = send_all(fd, "F", 1, fds + i, nfds - i >
			    SEND_FDS_MAX ? SEND_FDS_MAX : nfds - i);
	}
	(void)fcntl(fd, F_SETFL, fl);
	free(nl);
	c->active = now_ms();
	return rc;
}

/* The new engine took over: no new control clients here (the socket is
 * its now, path and all); those connected stay until they leave. */
void
control_handed_over(struct control *ctl)
{
	event_del(ctl->ev);
	evtimer_del(ctl->retry);
	close(ctl->fd);
	ctl->fd = -1;
	ctl->handed_over = true;
}

void
control_close(struct control *ctl)
{
	struct client *c;

	if (ctl == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		client_free(c);
	event_free(ctl->ev);
	event_free(ctl->retry);
	if (ctl->fd != -1)
		close(ctl->fd);
	reserve_close(ctl);
	event_free(ctl->tick);
	control_timers_close(ctl);
	/* Handed over: the path is the new engine's socket. */
	if (!ctl->handed_over)
		(void)unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
