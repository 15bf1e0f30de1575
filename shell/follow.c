/*
 * What the engines say now.  A `show` asks them (shell_sync) rather than
 * print what the shell read when it started; the interactive shell also
 * follows its zones' events (shell_follow): a commit by another operator,
 * a confirmed commit the engine reverted, an engine that stopped or came
 * back are told before the next prompt, and the views follow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "peer.h"
#include "proto.h"
#include "shell.h"

/*
 * Reads what runs now.  A zone without edits takes it as its candidate;
 * with edits, the candidate keeps its base (a commit would be refused as
 * stale until `update`) but `show running` shows what runs.
 */
int
zone_sync(struct shell *sh, struct zone *z, char *err, size_t errlen)
{
	json_t *res = engine_call(z, json_pack("{s:s}", K_CMD, CMD_GET), err,
	    errlen);
	struct errs e = { NULL, 0 };
	struct config *c;
	uint64_t v;

	(void)sh;
	if (res == NULL)
		return -1;
	v = (uint64_t)json_integer_value(json_object_get(res, K_VERSION));
	if (v == z->live && v == z->base) {
		json_decref(res);
		return 0;
	}
	c = config_from_json(json_object_get(res, K_CONFIG), &e);
	json_decref(res);
	if (c == NULL) {
		snprintf(err, errlen, "zone %s: running config does not load: %s",
		    z->name, e.n ? e.v[0] : "?");
		errs_free(&e);
		return -1;
	}
	z->live = v;
	if (z->nedits == 0 && !zone_pending(z)) {
		config_free(z->cand);
		z->cand = config_dup(c);
		z->base = v;
	}
	config_free(z->running);
	z->running = c;
	return 0;
}

/* Every zone, or the one named: -1 with every zone's reason in sh->err. */
int
shell_sync(struct shell *sh, const char *only)
{
	char err[1024];
	int rc = 0;

	sh->err[0] = '\0';
	if (sh->unseen[0] != '\0') {
		snprintf(sh->err, sizeof sh->err, "%s", sh->unseen);
		rc = -1;
	}
	for (size_t i = 0; i < sh->nzones; i++) {
		struct zone *z = sh->zones[i];
		if (only != NULL && strcmp(only, z->name) != 0)
			continue;
		if (zone_sync(sh, z, err, sizeof err) == 0 || z->up)
			continue;
		snprintf(sh->err + strlen(sh->err), sizeof sh->err -
		    strlen(sh->err), "%s%s", rc ? "\n" : "", err);
		rc = -1;
	}
	return rc;
}

static const char *
ev_str(json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));

	return s ? s : "";
}

static void
follow_event(struct shell *sh, struct zone *z, json_t *ev, FILE *out)
{
	const char *name = ev_str(ev, K_EVENT), *comment = ev_str(ev, K_COMMENT);
	long long v = json_integer_value(json_object_get(ev, K_VERSION));
	char err[1024];

	if (!strcmp(name, EV_COMMIT)) {
		if ((uint64_t)v == z->base)
			return;		/* this shell's own commit */
		fprintf(out, "%% zone %s: version %lld committed by %s%s%s%s\n",
		    z->name, v, ev_str(ev, K_USER), *comment ? " (" : "",
		    comment, *comment ? ")" : "");
	} else if (!strcmp(name, EV_REVERT)) {
		fprintf(out, "%% zone %s: version %lld was not confirmed: the "
		    "engine reverted to version %lld (now version %lld)\n",
		    z->name, (long long)json_integer_value(json_object_get(ev,
		    K_REVERTED)), (long long)json_integer_value(json_object_get(
		    ev, K_TO)), v);
	} else
		return;		/* probes and admin states: the monitor's */
	if (zone_sync(sh, z, err, sizeof err) == -1)
		fprintf(out, "%% %s\n", err);
	else if (z->live != z->base)
		fprintf(out, "%% zone %s: your edits are based on version %llu: "
		    "'update' replays them on version %llu\n", z->name,
		    (unsigned long long)z->base, (unsigned long long)z->live);
}

/* A zone whose socket is there again, or that was never reached. */
static bool
worth_trying(const struct zone *z)
{
	struct stat st;

	if (z->cmd != NULL)
		return z->up;
	if (z->peer != NULL && peer_status(z->peer) == PEER_TIMEOUT)
		return false;	/* hung: the next command tells */
	return stat(z->sock, &st) == 0;
}

static void
follow_zone(struct shell *sh, struct zone *z, FILE *out)
{
	json_t *evs, *ev;
	bool was_up = z->up;
	char err[1024];
	size_t i;

	if (z->peer == NULL || !peer_subscribed(z->peer)) {
		if (!worth_trying(z))
			goto gone;
		if (z->peer == NULL)
			z->peer = peer_new(z->name, z->sock, z->cmd);
		if (peer_subscribe(z->peer, err, sizeof err) == -1) {
			z->up = peer_status(z->peer) == PEER_ENGINE;
			snprintf(z->why, sizeof z->why, "%s", err);
			goto gone;
		}
		z->up = true;
		if (!was_up)
			fprintf(out, "%% zone %s: engine running (pid %lld)\n",
			    z->name, (long long)json_integer_value(
			    json_object_get(peer_hello(z->peer), K_PID)));
		if (zone_sync(sh, z, err, sizeof err) == -1)
			fprintf(out, "%% %s\n", err);
	}
	evs = json_array();
	if (peer_events(z->peer, evs, err, sizeof err) == -1) {
		z->up = false;
		snprintf(z->why, sizeof z->why, "%s", err);
	}
	json_array_foreach(evs, i, ev)
		follow_event(sh, z, ev, out);
	json_decref(evs);
gone:
	if (was_up && !z->up)
		fprintf(out, "%% %s\n", z->why);
}

void
shell_follow(struct shell *sh, FILE *out)
{
	for (size_t i = 0; i < sh->nzones; i++)
		follow_zone(sh, sh->zones[i], out);
	fflush(out);
}

/* The connections to poll for events while the operator types. */
bool
shell_watch_fds(struct shell *sh, int *fds, size_t *n, size_t max)
{
	*n = 0;
	for (size_t i = 0; i < sh->nzones && *n < max; i++) {
		struct zone *z = sh->zones[i];
		if (z->peer != NULL && peer_subscribed(z->peer)) {
			if (peer_has_events(z->peer))
				return true;
			fds[(*n)++] = peer_fd(z->peer);
		}
	}
	return false;
}
