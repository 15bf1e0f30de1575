/* The tables of names.h. */
#include <stdio.h>
#include <string.h>

#include "names.h"

const char *const admin_names[ADMIN_MAX] = {
	[ADMIN_READY] = ADMIN_WORD_READY,
	[ADMIN_DRAIN] = ADMIN_WORD_DRAIN,
	[ADMIN_MAINT] = ADMIN_WORD_MAINT,
};

const char *const pstate_names[PSTATE_MAX] = {
	[PSTATE_UP] = "up",
	[PSTATE_DOWN] = "down",
	[PSTATE_NOLB] = "nolb",
	[PSTATE_UNCHECKED] = "unchecked",
};

const char *const refusal_names[REFUSE_MAX] = {
	[REFUSE_NO_SERVER] = "no-server",
	[REFUSE_QUEUE_TIMEOUT] = "queue-timeout",
	[REFUSE_FRONTEND_MAXCONN] = "frontend-maxconn",
	[REFUSE_SOURCE_MAXCONN] = "source-maxconn",
	[REFUSE_SOURCE_RATE] = "source-rate",
	[REFUSE_DENIED_SOURCE] = "denied-source",
	[REFUSE_SHUTDOWN] = "shutdown",
	[REFUSE_FD_LIMIT] = "fd-limit",
};

/* Where each reason is counted: a reason decided before a server was
 * picked is the frontend's (and its farm's) alone. */
const unsigned refusal_objects[REFUSE_MAX] = {
	[REFUSE_NO_SERVER] = OBJ_FRONTEND | OBJ_FARM,
	[REFUSE_QUEUE_TIMEOUT] = OBJ_ALL,
	[REFUSE_FRONTEND_MAXCONN] = OBJ_FRONTEND | OBJ_FARM,
	[REFUSE_SOURCE_MAXCONN] = OBJ_FRONTEND | OBJ_FARM,
	[REFUSE_SOURCE_RATE] = OBJ_FRONTEND | OBJ_FARM,
	[REFUSE_DENIED_SOURCE] = OBJ_FRONTEND | OBJ_FARM,
	[REFUSE_SHUTDOWN] = OBJ_ALL,
	[REFUSE_FD_LIMIT] = OBJ_ALL,
};

const char *const check_result_names[CHECK_MAX] = {
	[CHECK_OK] = "ok",
	[CHECK_NOLB] = "nolb",
	[CHECK_FAIL] = "fail",
};

const char *const end_names[END_MAX] = {
	[END_CLOSED] = "closed",
	[END_IDLE_TIMEOUT] = "idle-timeout",
	[END_CLIENT_ERROR] = "client-error",
	[END_SERVER_ERROR] = "server-error",
	[END_CLIENT_GONE_QUEUED] = "client-gone-queued",
	[END_CLIENT_GONE_GREETING] = "client-gone-greeting",
};

const char *const session_state_names[SESSION_MAX] = {
	[SESSION_DISPATCHING] = "dispatching",
	[SESSION_QUEUED] = "queued",
	[SESSION_CONNECTING] = "connecting",
	[SESSION_CONNECTED] = "connected",
	[SESSION_GREETING] = "greeting",
};

const char *const transport_names[TRANSPORT_MAX] = {
	[TRANSPORT_PLAIN] = "plain",
	[TRANSPORT_PROXY_V1] = "proxy-v1",
	[TRANSPORT_PROXY_V2] = "proxy-v2",
	[TRANSPORT_XCLIENT] = "xclient",
};

int
names_find(const char *const *names, size_t n, const char *word)
{
	for (size_t i = 0; word != NULL && i < n; i++)
		if (strcmp(names[i], word) == 0)
			return (int)i;
	return -1;
}

const char *
names_join(char *buf, size_t len, const char *const *names, size_t n,
    const char *sep)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? sep : "", names[i]);
	return buf;
}
