/*
 * `forward kernel`: once the server has greeted (and the PROXY header or
 * the XCLIENT exchange is done), what the client sends goes from its
 * socket to the server's inside the kernel, by a BPF sockmap
 * (sockmap.bpf.c): the commands and the DATA of a message never cross
 * into mxlbd.  The server's replies stay in user space: they are few
 * bytes, and forward.c reads them to see the 221 that ends the dialogue.
 *
 * Both sockets stay in the engine's poll: the client's reports only its
 * EOF or its error (the kernel takes its bytes), so forward.c still ends
 * the session and passes a half-close on.  The kernel counts the bytes
 * and the time of the last ones; they are read here into the session's
 * counters every second, for the idle timeout, and at the end for the log
 * line.
 *
 * A client's FIN may come while its last bytes still wait in the kernel's
 * queue for the server's socket: the shutdown waits until the server's
 * socket has taken all of them (its bytes queued, acknowledged or not,
 * against what the program relayed).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include "session.h"
#include "sockmap.h"

#ifdef MXLB_BPF
#include <dlfcn.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sockmap-flow.h"

/*
 * libbpf, opened (dlopen) at the first commit that needs it: an engine
 * that never relays in the kernel (the default) does not carry it, and
 * its memory at rest stays as it was.  Each function is named once.
 */
#define LIBBPF_SO	"libbpf.so.1"
#define LIBBPF_FNS							\
	X(libbpf_set_print) X(bpf_object__open_mem) X(bpf_object__load)	\
	X(bpf_object__find_program_by_name)				\
	X(bpf_object__find_map_fd_by_name) X(bpf_prog_attach)		\
	X(bpf_program__fd) X(bpf_object__close) X(bpf_map_lookup_elem)	\
	X(bpf_map_update_elem) X(bpf_map_delete_elem)

static struct {
	void	*so;
#define X(f) __typeof__(f) *f;
	LIBBPF_FNS
#undef X
} lb;

static int
libbpf_open(char *why, size_t len)
{
	if (lb.so != NULL)
		return 0;
	if ((lb.so = dlopen(LIBBPF_SO, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(why, len, "cannot open %s (Debian's libbpf1): %s",
		    LIBBPF_SO, dlerror());
		return -1;
	}
#define X(f)								\
	if ((lb.f = (__typeof__(f) *)dlsym(lb.so, #f)) == NULL) {	\
		snprintf(why, len, "%s has no %s", LIBBPF_SO, #f);	\
		dlclose(lb.so);						\
		lb.so = NULL;						\
		return -1;						\
	}
	LIBBPF_FNS
#undef X
	return 0;
}

#define SYNC_MS		1000	/* counters brought up to date */
#define DRAIN_MS	1	/* a held half-close looks again, */
#define DRAIN_MAX_MS	100	/* less and less often */

/* Loaded once, at the first commit that needs it, for the engine's life. */
static struct bpf_object *obj;
static int clients_fd = -1, servers_fd = -1, flows_fd = -1;
static char bpf_msg[160];	/* libbpf's last complaint */

struct relay {
	uint64_t	 key;	/* the client's socket cookie */
	uint64_t	 base;	/* bytes queued on the server's socket before */
	uint64_t	 bytes;	/* relayed by the kernel, as counted so far */
	uint64_t	 wait;	/* ms before the next look at a held FIN */
	struct event	 tick, drain;
};

static int bpf_print(enum libbpf_print_level, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static int
bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(bpf_msg, sizeof bpf_msg, fmt, ap);
	n = strlen(bpf_msg);
	while (n > 0 && (bpf_msg[n - 1] == '\n' || bpf_msg[n - 1] == ' '))
		bpf_msg[--n] = '\0';
	return 0;
}

static int
map_fd(const char *name, char *why, size_t len)
{
	int fd = lb.bpf_object__find_map_fd_by_name(obj, name);

	if (fd < 0)
		snprintf(why, len, "no map %s in the program", name);
	return fd;
}

/* 0 when the program is in the kernel, attached to the clients' map. */
static int
sockmap_load(char *why, size_t len)
{
	struct bpf_program *prog;
	int err;

	if (obj != NULL)
		return 0;
	if (libbpf_open(why, len) == -1)
		return -1;
	lb.libbpf_set_print(bpf_print);
	obj = lb.bpf_object__open_mem(sockmap_bpf, sockmap_bpf_len, NULL);
	if (obj == NULL) {
		snprintf(why, len, "cannot open the BPF object: %s",
		    strerror(errno));
		return -1;
	}
	err = lb.bpf_object__load(obj);
	prog = lb.bpf_object__find_program_by_name(obj, "relay");
	if (err == 0 && prog == NULL)
		err = -ENOENT;
	if (err != 0) {
		if (err == -EPERM)
			snprintf(why, len, "cannot load the BPF program: %s "
			    "(it needs CAP_BPF and CAP_NET_ADMIN)",
			    strerror(-err));
		else
			snprintf(why, len, "cannot load the BPF program: %s "
			    "(%s)", strerror(-err), bpf_msg);
		goto fail;
	}
	if ((clients_fd = map_fd("clients", why, len)) < 0 ||
	    (servers_fd = map_fd("servers", why, len)) < 0 ||
	    (flows_fd = map_fd("flows", why, len)) < 0)
		goto fail;
	if (lb.bpf_prog_attach(lb.bpf_program__fd(prog), clients_fd,
	    BPF_SK_SKB_VERDICT, 0) != 0) {
		snprintf(why, len, "cannot attach the BPF program to its "
		    "sockmap: %s", strerror(errno));
		goto fail;
	}
	log_info("sockmap loaded: forward kernel relays client bytes in "
	    "the kernel");
	return 0;
fail:
	lb.bpf_object__close(obj);
	obj = NULL;
	clients_fd = servers_fd = flows_fd = -1;
	return -1;
}

/* Refuses a config with `forward kernel` when the kernel relay cannot be
 * had here; loads it otherwise. */
int
sockmap_check(const struct config *c, struct errs *e)
{
	char why[256];
	int loaded = 0;	/* not tried yet */

	for (size_t i = 0; i < c->nfarms; i++) {
		if (c->farms[i]->forward != FORWARD_KERNEL)
			continue;
		if (loaded == 0)
			loaded = sockmap_load(why, sizeof why) == 0 ? 1 : -1;
		if (loaded == -1)
			errs_add(e, "farm %s: forward kernel is not available "
			    "here: %s", c->farms[i]->name, why);
	}
	return loaded == -1 ? -1 : 0;
}

/* Bytes the server's socket has taken: acknowledged, then still queued
 * (in this order, so a concurrent acknowledgement can only make it
 * less). */
static int
server_queued(int fd, uint64_t *q)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	int outq;

	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    ioctl(fd, SIOCOUTQ, &outq) == -1)
		return -1;
	*q = ti.tcpi_bytes_acked + (uint64_t)outq;
	return 0;
}

void
sockmap_sync(struct session *s)
{
	struct relay *r = s->kr;
	struct sockmap_flow f;
	uint64_t last;

	if (r == NULL || lb.bpf_map_lookup_elem(flows_fd, &r->key, &f) != 0)
		return;
	if (f.bytes > r->bytes) {
		relay_count(s, &s->up, f.bytes - r->bytes);
		__atomic_store_n(&r->bytes, f.bytes, __ATOMIC_RELAXED);
	}
	last = f.last_ns / 1000000;
	if (last > s->last)
		s->last = last;
}

/* The client's bytes as of now, for show sessions (the counters follow
 * within a second). */
uint64_t
sockmap_bytes_in(const struct session *s)
{
	const struct relay *r = s->kr;
	struct sockmap_flow f;
	/* Another thread's session (workers): its worker moves these. */
	uint64_t up = __atomic_load_n(&s->up.bytes, __ATOMIC_RELAXED);
	uint64_t seen;

	if (r == NULL || lb.bpf_map_lookup_elem(flows_fd, &r->key, &f) != 0 ||
	    f.bytes < (seen = __atomic_load_n(&r->bytes, __ATOMIC_RELAXED)))
		return up;
	return up + (f.bytes - seen);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sockmap_sync(arg);
}

static bool
drained(struct session *s)
{
	struct relay *r = s->kr;
	uint64_t q;

	sockmap_sync(s);
	/* A socket that cannot say is gone: nothing to wait for. */
	return server_queued(s->sfd, &q) == -1 || q >= r->base + r->bytes;
}

/* The client's FIN, passed on once its bytes are. */
static void
drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct relay *r = s->kr;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (!drained(s)) {
		/* A server that reads nothing is left to the idle timeout,
		 * without a wake-up every millisecond until then. */
		if (r->wait < DRAIN_MAX_MS)
			r->wait *= 2;
		tv = ms_timeval(r->wait);
		evtimer_add(&r->drain, &tv);
		return;
	}
	shutdown(s->sfd, SHUT_WR);
	s->up.shut = true;
	if (s->down.shut)
		relay_end(s, end_names[END_CLOSED]);
}

/* True when the client's EOF must wait for its bytes in the kernel; the
 * shutdown is then done here. */
bool
sockmap_hold_eof(struct session *s)
{
	struct timeval tv = ms_timeval(DRAIN_MS);

	if (s->kr == NULL || drained(s))
		return false;
	s->kr->wait = DRAIN_MS;
	evtimer_add(&s->kr->drain, &tv);
	return true;
}

static void
relay_undo(struct relay *r, int stage)
{
	if (stage > 1)
		(void)lb.bpf_map_delete_elem(servers_fd, &r->key);
	if (stage > 0)
		(void)lb.bpf_map_delete_elem(flows_fd, &r->key);
	free(r);
}

/* The handshake is done and nothing waits to be written to the server:
 * from here the kernel relays the client's bytes.  Any failure leaves the
 * session in user space, as it was. */
void
sockmap_start(struct session *s)
{
	struct sockmap_flow f = { 0, 0 };
	struct timeval tv = ms_timeval(SYNC_MS);
	socklen_t len = sizeof(uint64_t);
	uint64_t cfd = (uint64_t)s->cfd, sfd = (uint64_t)s->sfd;
	struct relay *r;

	if (s->farm->conf->forward != FORWARD_KERNEL || obj == NULL)
		return;
	r = xcalloc(1, sizeof *r);
	if (getsockopt(s->cfd, SOL_SOCKET, SO_COOKIE, &r->key, &len) == -1 ||
	    server_queued(s->sfd, &r->base) == -1) {
		relay_undo(r, 0);
		return;
	}
	/* The flow before the sockets: the program finds it for the first
	 * byte. */
	if (lb.bpf_map_update_elem(flows_fd, &r->key, &f, BPF_NOEXIST) != 0) {
		relay_undo(r, 0);
		return;
	}
	if (lb.bpf_map_update_elem(servers_fd, &r->key, &sfd, BPF_NOEXIST)
	    != 0) {
		relay_undo(r, 1);
		return;
	}
	if (lb.bpf_map_update_elem(clients_fd, &r->key, &cfd, BPF_NOEXIST)
	    != 0) {
		log_info("sockmap: session stays in user space: %s",
		    strerror(errno));
		relay_undo(r, 2);
		return;
	}
	s->kr = r;
	evtimer_assign(&r->drain, s->w->base, drain_check, s);
	event_assign(&r->tick, s->w->base, -1, EV_PERSIST, tick, s);
	evtimer_add(&r->tick, &tv);
}

/* The last count, for the log line; the sockets leave the maps when they
 * close. */
void
sockmap_end(struct session *s)
{
	struct relay *r = s->kr;

	if (r == NULL)
		return;
	sockmap_sync(s);
	event_del(&r->tick);
	event_del(&r->drain);
	(void)lb.bpf_map_delete_elem(flows_fd, &r->key);
	free(r);
	s->kr = NULL;
}

#else /* !MXLB_BPF */

const unsigned char sockmap_bpf[] = { 0 };
const size_t sockmap_bpf_len = 0;

int
sockmap_check(const struct config *c, struct errs *e)
{
	size_t before = e->n;

	for (size_t i = 0; i < c->nfarms; i++)
		if (c->farms[i]->forward == FORWARD_KERNEL)
			errs_add(e, "farm %s: forward kernel is not available "
			    "here: mxlbd was built without libbpf (Debian's "
			    "libbpf-dev) or without clang for BPF",
			    c->farms[i]->name);
	return e->n == before ? 0 : -1;
}

void
sockmap_start(struct session *s)
{
	(void)s;
}

void
sockmap_sync(struct session *s)
{
	(void)s;
}

uint64_t
sockmap_bytes_in(const struct session *s)
{
	return __atomic_load_n(&s->up.bytes, __ATOMIC_RELAXED);
}

bool
sockmap_hold_eof(struct session *s)
{
	(void)s;
	return false;
}

void
sockmap_end(struct session *s)
{
	(void)s;
}

#endif
