/*
 * Where the engine's connections to servers come from (a farm's
 * `source`).  Unset: the address routing picks.  An ADDRESS: bound
 * before connect, for sessions and probes.  `client`: the session's
 * socket is IP_TRANSPARENT and bound to the client's own address and
 * port (as HAProxy's `usesrc client`), so the server sees the client;
 * probes still come from the balancer's own address.  The replies must
 * be routed back to the balancer and delivered locally: mxlbd(8).
 *
 * IP_TRANSPARENT needs CAP_NET_ADMIN (or CAP_NET_RAW).  Only the engine
 * knows what it has (an engine run with --user has nothing), so it checks
 * at every commit, and refuses one it could not run, with the reason:
 * failing each session's connect instead would only show as 421s.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "source.h"

static bool
source_is_client(const struct farm *f)
{
	return FIELD_ISSET(&farm_fields, f, "source") &&
	    f->source.family == AF_UNSPEC;
}

static int
set_transparent(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one,
		    sizeof one);
	return setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof one);
}

/* Whether this process may make transparent sockets: tried on a scratch
 * socket, the one test that cannot disagree with the kernel. */
static int
transparent_allowed(char *why, size_t len)
{
	int fd, family = AF_INET, rc;

	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		family = AF_INET6;
		fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd == -1) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -1;
	}
	rc = set_transparent(fd, family);
	if (rc == -1)
		snprintf(why, len, "%s: %s", family == AF_INET ?
		    "IP_TRANSPARENT" : "IPV6_TRANSPARENT", strerror(errno));
	close(fd);
	return rc;
}

/* Whether ADDRESS is one this host can bind (no port is taken). */
static int
address_bindable(const struct mxaddr *a, char *why, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(a, 0, &ss);
	int fd, one = 1, rc;

	if ((fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof one);
	rc = bind(fd, (struct sockaddr *)&ss, sl);
	if (rc == -1)
		snprintf(why, len, "bind: %s", strerror(errno));
	close(fd);
	return rc;
}

static void
cap_error(const struct farm *f, const char *why, struct errs *e)
{
	errs_add(e, "farm %s: source client needs CAP_NET_ADMIN (or "
	    "CAP_NET_RAW), which this engine (uid %u) does not have (%s): "
	    "run mxlbd as root without --user, or give it the capability "
	    "(systemd: AmbientCapabilities=CAP_NET_ADMIN)", f->name,
	    (unsigned)geteuid(), why);
}

/* What the engine can do with each farm's source; errors say which farm,
 * why, and what to do.  Run at every commit and after --user. */
int
source_check(const struct config *c, struct errs *e)
{
	char why[SOURCE_ERRLEN], capwhy[SOURCE_ERRLEN], addr[ADDR_STRLEN];
	size_t before = e->n;
	int allowed = -2;	/* not asked yet */

	for (size_t i = 0; i < c->nfarms; i++) {
		const struct farm *f = c->farms[i];
		if (!FIELD_ISSET(&farm_fields, f, "source"))
			continue;
		if (source_is_client(f)) {
			if (allowed == -2)
				allowed = transparent_allowed(capwhy,
				    sizeof capwhy);
			if (allowed == -1)
				cap_error(f, capwhy, e);
			continue;
		}
		if (address_bindable(&f->source, why, sizeof why) == -1) {
			addr_format(&f->source, addr, sizeof addr);
			errs_add(e, "farm %s: source %s is not an address this "
			    "host can connect from (%s)", f->name, addr, why);
		}
	}
	return e->n == before ? 0 : -1;
}

static int
bind_to(int fd, const struct mxaddr *a, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(a, port, &ss);

	return bind(fd, (struct sockaddr *)&ss, len);
}

/*
 * Binds a session's server socket (of `family`) as the farm says; the
 * client is `client`, port `cport`.  0 when done (or nothing to do), -1
 * with the reason in `why`.  The client's port is taken when it is free
 * here; otherwise (the client is this host, or another of its sessions
 * holds it) the kernel picks one: the address is what servers check.
 */
int
source_bind(int fd, const struct farm *f, int family,
    const struct mxaddr *client, uint16_t cport, char *why, size_t len)
{
	int zero = 0;

	if (!FIELD_ISSET(&farm_fields, f, "source"))
		return 0;
	if (!source_is_client(f)) {
		if (f->source.family != family) {
			snprintf(why, len, "source: not the server's address "
			    "family");
			return -1;
		}
		if (bind_to(fd, &f->source, 0) == -1) {
			snprintf(why, len, "source: bind: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (client->family != family) {
		snprintf(why, len, "source client: the client is %s, the "
		    "server %s", client->family == AF_INET6 ? "IPv6" : "IPv4",
		    family == AF_INET6 ? "IPv6" : "IPv4");
		return -1;
	}
	if (set_transparent(fd, family) == -1) {
		snprintf(why, len, "source client: %s: %s", family == AF_INET6 ?
		    "IPV6_TRANSPARENT" : "IP_TRANSPARENT", strerror(errno));
		return -1;
	}
	/* Without SO_REUSEADDR, any socket that holds the client's address
	 * and port here (another session, a TIME_WAIT) fails the bind,
	 * where a port is still free to pick, rather than the connect. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &zero, sizeof zero);
	if (bind_to(fd, client, cport) == -1 && (errno != EADDRINUSE ||
	    bind_to(fd, client, 0) == -1)) {
		snprintf(why, len, "source client: bind: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A probe has no client: it binds only to a source ADDRESS. */
int
source_bind_probe(int fd, const struct farm *f, int family, char *why,
    size_t len)
{
	if (fd == -1 || !FIELD_ISSET(&farm_fields, f, "source") ||
	    source_is_client(f) || f->source.family != family)
		return 0;
	if (bind_to(fd, &f->source, 0) == -1) {
		snprintf(why, len, "source: bind: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* For the session's log line and `show sessions`: client, the address,
 * or "-" (routing's choice). */
void
source_name(const struct farm *f, char *buf, size_t len)
{
	if (!FIELD_ISSET(&farm_fields, f, "source"))
		snprintf(buf, len, "-");
	else if (source_is_client(f))
		snprintf(buf, len, "client");
	else
		addr_format(&f->source, buf, len);
}
