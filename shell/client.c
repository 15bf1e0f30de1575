/* One request to a zone's engine, through its peer (peer.c). */
#include <stdio.h>

#include "peer.h"
#include "proto.h"
#include "shell.h"

/*
 * Sends req (taking it) and returns the reply's "result"; NULL with the
 * reason in err.  timeout_ms 0: the default (--timeout).  The zone is up
 * when its engine answered, error or not.
 */
json_t *
engine_call_timeout(struct zone *z, json_t *req, int timeout_ms,
    char *err, size_t errlen)
{
	json_t *res;

	if (z->peer == NULL)
		z->peer = peer_new(z->name, z->sock, z->cmd);
	res = peer_call(z->peer, req, timeout_ms, err, errlen);
	if (peer_status(z->peer) == PEER_INTERRUPTED)
		return res;	/* the operator's doing: says nothing of it */
	z->up = res != NULL || peer_status(z->peer) == PEER_ENGINE;
	if (!z->up)
		snprintf(z->why, sizeof z->why, "%s", err);
	return res;
}

json_t *
engine_call(struct zone *z, json_t *req, char *err, size_t errlen)
{
	return engine_call_timeout(z, req, 0, err, errlen);
}
