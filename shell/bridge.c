/*
 * `mxlb bridge ZONE`: stdin and stdout joined to the zone's control
 * socket.  A remote shell reaches a zone as `ssh host mxlb bridge ZONE`,
 * so OpenSSH does the authentication and the encryption; the engine sees
 * the bridge's own credentials, as for a local client.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"
#include "shell.h"

static int
pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof buf);

	if (n <= 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

int
bridge_main(struct shell *sh, const char *zone)
{
	char *path = zone_sock(sh->rundir, zone), err[1024];
	struct peer *peer = peer_new(zone, path, NULL);
	struct pollfd p[2];
	bool in_open = true;
	int fd;

	free(path);
	/* Connected only: the hello is the remote client's. */
	if ((fd = peer_connect(peer, err, sizeof err)) == -1) {
		fprintf(stderr, "mxlb bridge: %s\n", err);
		peer_free(peer);
		return 1;
	}
	for (;;) {
		p[0] = (struct pollfd){ in_open ? STDIN_FILENO : -1, POLLIN, 0 };
		p[1] = (struct pollfd){ fd, POLLIN, 0 };
		if (poll(p, 2, -1) == -1 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP)) {
			if (pump(STDIN_FILENO, fd) == -1) {
				/* The client is done asking: let replies come. */
				shutdown(fd, SHUT_WR);
				in_open = false;
			}
		}
		if ((p[1].revents & (POLLIN | POLLHUP)) &&
		    pump(fd, STDOUT_FILENO) == -1)
			break;
	}
	peer_free(peer);
	return 0;
}
