/*
 * The control protocol: framing and message decoding, fed as a byte
 * stream to the real control code of a real (minimal) engine.
 *
 * Each run builds an event base, an engine and its transaction state (the
 * apply hook is the engine's own, with listeners and probes turned off so
 * that no socket is opened), and one client whose bufferevent is one end of
 * a bufferevent pair, set up as control_accept sets up a peer.  The bytes
 * are written into the other end, in chunks, and the loop runs a bounded
 * number of times: client_read, client_line, control_command and every
 * command, commit included, run as for a peer on the socket.  Everything is
 * freed at the end, so LeakSanitizer sees any leak.
 *
 * control.c is included, not linked, to reach its static read path; its
 * limits are scaled down (PROTO_LINE_MAX 8 KB, PROTO_READ_LINE_MAX 1 KB,
 * PROTO_OUTPUT_MAX 16 KB, PROTO_OUTPUT_PAUSE 4 KB) so that an oversized
 * line and a peer that reads nothing are reachable with small inputs.
 *
 * Besides the sanitizers, every line the engine sends back is checked:
 * a JSON object, an event or a reply with "ok" and a result or an error
 * with a code and a message, and, unless the client was cut off or paused
 * (too many replies unread), exactly one reply per request line, with the
 * request's id echoed.  A server whose
 * name starts with "busy" has a session, so `wait` waits; when the run ends,
 * time runs out (a pending confirmed commit reverts, waits with a timeout
 * fail) and then every server is idle (the other waits are answered).
 *
 * FUZZ_SHOW=1 in the environment prints what the engine sent.
 *
 * The first byte chooses the setting:
 *   bit 0  the peer is read-only (not in the admin group)
 *   bit 1  the demo config (share/examples/demo.json) is running first
 *   bit 2  every other save of the state fails, the first one first
 *   bit 3  applying a config fails
 *   bit 4  the peer reads nothing (replies pile up in the engine)
 *   bit 5  the peer hangs up after sending
 *   bit 6-7 chunk size: all at once, 1, 13 or 256 bytes (the first 64
 *           chunks, with a loop pass after each; then the rest)
 */
#include "proto.h"

#undef PROTO_LINE_MAX
#define PROTO_LINE_MAX		(8 * 1024)
#undef PROTO_OUTPUT_MAX
#define PROTO_OUTPUT_MAX	(16 * 1024)
#undef PROTO_READ_LINE_MAX
#define PROTO_READ_LINE_MAX	(1024)
#undef PROTO_OUTPUT_PAUSE
#define PROTO_OUTPUT_PAUSE	(4 * 1024)

#include "control.c"

#include <event2/bufferevent.h>
#include <event2/event.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define F_READONLY	0x01
#define F_DEMO		0x02
#define F_SAVE_FAILS	0x04
#define F_APPLY_FAILS	0x08
#define F_NO_READ	0x10
#define F_HANGUP	0x20

#define LOOPS		4	/* event loop passes after the last chunk */
#define CHUNKS_MAX	64	/* chunks sent one by one, then the rest */

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-control: %s:%d: %s: ", __FILE__,	\
		    __LINE__, #cond);					\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* log.c's interface, formatting everything (a bad format argument is still
 * caught) but writing nothing: a log line per request would be noise. */
void
log_init(const char *zone, bool foreground)
{
	(void)zone;
	(void)foreground;
}

static void log_discard(const char *, va_list)
    __attribute__((format(printf, 1, 0)));

static void
log_discard(const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof buf, fmt, ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_discard(fmt, ap);
	va_end(ap);
}

void
log_bulk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_discard(fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_discard(fmt, ap);
	va_end(ap);
}

void
log_timer(struct event_base *base)
{
	(void)base;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_discard(fmt, ap);
	va_end(ap);
}

void
log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_discard(fmt, ap);
	va_end(ap);
}

void
log_flush(void)
{
}

static const char demo[] =
    "{\"zone\":\"demo\",\"farms\":[{\"name\":\"mx\",\"balance\":"
    "\"roundrobin\",\"probe\":\"smtp\",\"probe-interval\":2,\"servers\":["
    "{\"address\":\"127.0.0.1\",\"port\":2601,\"name\":\"sink1\"},"
    "{\"address\":\"127.0.0.1\",\"port\":2602,\"name\":\"sink2\"}]}],"
    "\"frontends\":[{\"name\":\"smtp\",\"bind\":\"2525\",\"address\":"
    "[\"127.0.0.1\"],\"farm\":\"mx\"}]}";

struct run {
	struct event_base	*base;
	struct engine		*eng;
	struct txn		 txn;
	struct control		*ctl;
	struct bufferevent	*peer;	/* the peer's end of the pair */
	unsigned		 flags;
	unsigned		 saves;		/* save attempts so far */
	bool			 closed;	/* the engine cut the client off */
};

/*
 * Sessions without sessions: a server whose name starts with "busy" (or
 * every server, when the run ends) is given one, or none, so that `wait`
 * has something to wait for.
 */
static void
servers_set_busy(struct engine *eng, bool busy)
{
	for (size_t i = 0; i < eng->nfarms; i++)
		for (size_t j = 0; j < eng->farms[i]->nservers; j++) {
			struct rt_server *s = eng->farms[i]->servers[j];
			if (!busy)
				s->nsess = 0;
			else if (strncmp(server_name(s->conf), "busy", 4) == 0)
				s->nsess = 1;
		}
}

/*
 * The engine's apply, minus what would touch the machine: frontends are
 * disabled (no listening socket) and probes off (no connection out).  The
 * history keeps the config as committed; only the running copy differs.
 */
static int
apply_hook(void *arg, struct config *c, struct errs *e)
{
	struct run *r = arg;
	const struct field *probe = fieldset_find(&farm_fields, "probe");
	const struct field *off = fieldset_find(&frontend_fields, "disabled");

	if (r->flags & F_APPLY_FAILS) {
		errs_add(e, "fuzz: apply refused");
		return -1;
	}
	for (size_t i = 0; i < c->nfarms; i++) {
		c->farms[i]->probe = PROBE_NONE;
		field_mark_set(&farm_fields, c->farms[i], probe);
	}
	for (size_t i = 0; i < c->nfrontends; i++) {
		c->frontends[i]->disabled = 1;
		field_mark_set(&frontend_fields, c->frontends[i], off);
	}
	if (engine_apply(r->eng, c, e) == -1)
		return -1;
	servers_set_busy(r->eng, true);
	return 0;
}

static int
save_hook(void *arg, const struct txn *t, struct errs *e)
{
	struct run *r = arg;

	if ((r->flags & F_SAVE_FAILS) && r->saves++ % 2 == 0) {
		errs_add(e, "fuzz: disk full");
		return -1;
	}
	return state_save(r->eng, t, e);	/* no statedir: saves nothing */
}

static void
run_start(struct run *r, unsigned flags)
{
	struct txn_error te = { NULL, NULL, { NULL, 0 } };
	struct bufferevent *pair[2];
	struct client *c;
	json_t *j;

	memset(r, 0, sizeof *r);
	r->flags = flags;
	r->base = event_base_new();
	r->eng = engine_new(r->base, "demo");
	txn_init(&r->txn, "demo");
	r->txn.apply = apply_hook;
	r->txn.save = save_hook;
	r->txn.arg = r;
	r->eng->txn = &r->txn;
	if (flags & F_DEMO) {
		unsigned saved = r->flags;
		r->flags = 0;	/* the demo is running before anything fails */
		j = json_loads(demo, 0, NULL);
		if (txn_commit(&r->txn, j, 0, "root", "demo", 0, 0, &te) != 0)
			abort();
		json_decref(j);
		r->flags = saved;
	}

	/* The control socket without its socket: what control_open sets. */
	r->ctl = xcalloc(1, sizeof *r->ctl);
	r->ctl->eng = r->eng;
	r->ctl->admin_gid = r->ctl->read_gid = (gid_t)-1;
	TAILQ_INIT(&r->ctl->clients);
	TAILQ_INIT(&r->ctl->waiters);
	r->ctl->tick = event_new(r->base, -1, EV_PERSIST, control_timer, r->ctl);
	control_timers_open(r->ctl);
	r->eng->ctl = r->ctl;

	/* One peer, as control_accept takes it. */
	if (bufferevent_pair_new(r->base, 0, pair) == -1)
		abort();
	c = client_attach(r->ctl, pair[0], getuid(), getpid(),
	    !(flags & F_READONLY), "fuzz");
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);

	r->peer = pair[1];
	bufferevent_enable(r->peer, EV_WRITE);
	if (!(flags & F_NO_READ))
		bufferevent_enable(r->peer, EV_READ);
}

static void
loop(struct run *r, int n)
{
	for (int i = 0; i < n; i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
}

static void
send_stream(struct run *r, const uint8_t *data, size_t size, size_t chunk)
{
	size_t off = 0, n;

	for (int i = 0; chunk > 0 && off < size && i < CHUNKS_MAX; i++) {
		n = size - off < chunk ? size - off : chunk;
		bufferevent_write(r->peer, data + off, n);
		off += n;
		loop(r, 1);
	}
	if (off < size)
		bufferevent_write(r->peer, data + off, size - off);
	loop(r, LOOPS);
}

/* A reply as the protocol defines it, or an event. */
static bool
reply_valid(json_t *m, const char **why)
{
	json_t *ok = json_object_get(m, K_OK), *err;

	if (json_object_get(m, K_EVENT) != NULL) {
		*why = "event without a name";
		return json_is_string(json_object_get(m, K_EVENT));
	}
	*why = "reply without id";
	if (json_object_get(m, K_ID) == NULL)
		return false;
	*why = "reply without \"ok\"";
	if (!json_is_boolean(ok))
		return false;
	if (json_is_true(ok)) {
		*why = "ok reply without a result object";
		return json_is_object(json_object_get(m, K_RESULT));
	}
	err = json_object_get(m, K_ERROR);
	*why = "error reply without code and message";
	return json_is_object(err) &&
	    json_is_string(json_object_get(err, K_CODE)) &&
	    json_is_string(json_object_get(err, K_MESSAGE));
}

/* The id a reply to this request line must carry: null unless the line is
 * an object with a usable id. */
static json_t *
expected_id(const char *line, size_t len)
{
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *id = json_is_object(req) ? json_object_get(req, K_ID) : NULL;

	if (id == NULL || !(json_is_integer(id) || json_is_string(id)))
		id = json_null();
	else
		json_incref(id);
	json_decref(req);
	return id;
}

/* The request lines of the stream: non-empty and ended by LF. */
static size_t
request_lines(const uint8_t *in, size_t inlen, size_t *off, size_t *len)
{
	size_t n = 0, s = 0;

	for (size_t i = 0; i < inlen; i++)
		if (in[i] == '\n') {
			if (i > s) {
				off[n] = s;
				len[n++] = i - s;
			}
			s = i + 1;
		}
	return n;
}

static void
check_output(struct run *r, const uint8_t *in, size_t inlen,
    struct evbuffer *out)
{
	size_t *off = xreallocarray(NULL, inlen + 1, sizeof *off);
	size_t *len = xreallocarray(NULL, inlen + 1, sizeof *len);
	size_t nreq = request_lines(in, inlen, off, len), nreplies = 0, eollen;
	json_t **want = xreallocarray(NULL, nreq + 1, sizeof *want);
	bool *done = xcalloc(nreq + 1, sizeof *done);
	struct evbuffer_ptr eol;
	const char *why;
	json_t *m;
	char *text;

	for (size_t k = 0; !r->closed && k < nreq; k++)
		want[k] = expected_id((const char *)in + off[k], len[k]);

	for (;;) {
		eol = evbuffer_search_eol(out, NULL, &eollen, EVBUFFER_EOL_LF);
		if (eol.pos == -1)
			break;
		text = xmalloc((size_t)eol.pos + 1);
		evbuffer_remove(out, text, (size_t)eol.pos);
		evbuffer_drain(out, eollen);
		text[eol.pos] = '\0';
		if (getenv("FUZZ_SHOW") != NULL)
			fprintf(stderr, "< %s\n", text);
		m = json_loads(text, 0, NULL);
		CHECK(json_is_object(m), "not a JSON object: %s", text);
		CHECK(reply_valid(m, &why), "%s: %s", why, text);
		/* Unless the client was cut off, every reply answers one request
		 * line and echoes its id.  Not in order: a `wait` answers when
		 * the server is idle.  Requests with the same id are alike, so
		 * the earliest one unanswered is taken. */
		if (json_object_get(m, K_EVENT) == NULL && !r->closed) {
			size_t k;
			for (k = 0; k < nreq; k++)
				if (!done[k] && json_equal(want[k],
				    json_object_get(m, K_ID)))
					break;
			CHECK(k < nreq, "a reply to no request, or the id is "
			    "not echoed: %s", text);
			done[k] = true;
			nreplies++;
		}
		json_decref(m);
		free(text);
	}
	CHECK(evbuffer_get_length(out) == 0, "output ends without a newline");
	CHECK(r->closed || nreplies == nreq, "%zu replies to %zu requests",
	    nreplies, nreq);
	for (size_t k = 0; !r->closed && k < nreq; k++)
		json_decref(want[k]);
	free(want);
	free(done);
	free(off);
	free(len);
}

/* What a buffer holds, taken out: the run is over.  A bufferevent's output
 * is frozen at its start outside its own writes, so it is thawed first. */
static void
buffer_take(struct evbuffer *dst, struct evbuffer *src)
{
	evbuffer_unfreeze(src, 1);
	evbuffer_add_buffer(dst, src);
}

static void
run_end(struct run *r, const uint8_t *in, size_t inlen)
{
	struct evbuffer *out = evbuffer_new();
	struct client *c;
	struct waiter *w;

	/* The peer hangs up: EOF, as a socket would report it. */
	if (r->flags & F_HANGUP) {
		bufferevent_flush(r->peer, EV_WRITE, BEV_FINISHED);
		loop(r, 2);
	}
	/* The engine serves LINES_PER_TURN requests a turn: let it finish
	 * (each pass serves more, so this ends). */
	for (int i = 0; i < 100000 && (c = TAILQ_FIRST(&r->ctl->clients)) !=
	    NULL && event_pending(c->resume, EV_TIMEOUT, NULL); i++)
		loop(r, 1);
	/* Time runs out: for a confirmed commit left pending, and for the
	 * waits with a timeout.  Then the servers go idle: every wait left is
	 * answered. */
	if (r->txn.pending)
		r->txn.deadline = 0;
	TAILQ_FOREACH(w, &r->ctl->waiters, entry)
		if (w->deadline != 0)
			w->deadline = 1;
	control_confirm_run(r->ctl);
	control_waits(r->ctl);
	control_timer(-1, 0, r->ctl);
	servers_set_busy(r->eng, false);
	control_waits(r->ctl);
	control_timer(-1, 0, r->ctl);
	loop(r, 1);

	c = TAILQ_FIRST(&r->ctl->clients);
	r->closed = c == NULL || c->closing || c->paused;
	CHECK(TAILQ_EMPTY(&r->ctl->waiters), "a wait is left unanswered");
	buffer_take(out, bufferevent_get_input(r->peer));
	if (c != NULL)
		buffer_take(out, bufferevent_get_output(c->bev));
	check_output(r, in, inlen, out);
	evbuffer_free(out);

	while ((c = TAILQ_FIRST(&r->ctl->clients)) != NULL)
		client_free(c);
	bufferevent_free(r->peer);
	r->eng->ctl = NULL;
	event_free(r->ctl->tick);
	control_timers_close(r->ctl);
	free(r->ctl);
	engine_free(r->eng);
	txn_free(&r->txn);
	event_base_free(r->base);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[4] = { 0, 1, 13, 256 };
	struct run r;
	unsigned flags;

	if (size == 0)
		return 0;
	flags = data[0];
	data++;
	size--;
	run_start(&r, flags);
	send_stream(&r, data, size, chunks[flags >> 6]);
	run_end(&r, data, size);
	return 0;
}
