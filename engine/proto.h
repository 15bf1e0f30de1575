/*
 * The control protocol between mxlbd and its clients (the shell, the
 * monitor, scripts).  One JSON object per line on a UNIX stream socket.
 *
 *   request  {"id": N, "cmd": NAME, ...arguments}
 *   reply    {"id": N, "ok": true, "result": {...}}
 *            {"id": N, "ok": false, "error": {"code": CODE, "message": TEXT}}
 *   event    {"event": NAME, "time": T, ...}   only after "subscribe"
 *
 * Engine and shell both include this header: names, fields, error codes
 * and limits are defined here once.
 */
#ifndef MXLB_PROTO_H
#define MXLB_PROTO_H

#define PROTO_VERSION		1

/* A line longer than this is refused and the connection closed: the
 * stream cannot be resynchronised inside an oversized line. */
#define PROTO_LINE_MAX		(16 * 1024 * 1024)
/* Replies and events queued for a client that does not read them: past
 * this the client is dropped rather than the engine's memory grown. */
#define PROTO_OUTPUT_MAX	(64 * 1024 * 1024)
#define PROTO_CLIENTS_MAX	1024
#define HISTORY_MAX		50
#define PROTO_COMMENT_MAX	1024	/* bytes of a commit's comment */
/* Sessions listed in one reply; "more" counts the others. */
#define SESSIONS_MAX		1000

/* Commands.  Access: R = read group may use it, A = admin only. */
#define CMD_HELLO	"hello"		/* R: protocol, zone, access */
#define CMD_GET		"get"		/* R: running config [version] */
#define CMD_STATS	"stats"		/* R: every counter */
#define CMD_HISTORY	"history"	/* R: versions with time, user, comment */
#define CMD_SUBSCRIBE	"subscribe"	/* R: events from now on */
#define CMD_WAIT	"wait"		/* R: until a server has no session */
#define CMD_SESSIONS	"sessions"	/* R: [farm [server]] [limit]: who is
					   connected, queued, with bytes */
#define CMD_COMMIT	"commit"	/* A: config, base [comment confirmed] */
#define CMD_CONFIRM	"confirm"	/* A: keep a confirmed commit */
#define CMD_ROLLBACK	"rollback"	/* A: version [base comment] */
#define CMD_ADMIN	"admin"		/* A: farm server state */

/* Request and reply keys. */
#define K_ID		"id"
#define K_CMD		"cmd"
#define K_OK		"ok"
#define K_RESULT	"result"
#define K_ERROR		"error"
#define K_CODE		"code"
#define K_MESSAGE	"message"
#define K_ERRORS	"errors"
#define K_CONFIG	"config"
#define K_VERSION	"version"
#define K_BASE		"base"
#define K_COMMENT	"comment"
#define K_CONFIRMED	"confirmed"
#define K_FARM		"farm"
#define K_SERVER	"server"
#define K_STATE		"state"
#define K_TIMEOUT	"timeout"
#define K_EVENT		"event"
#define K_LIMIT		"limit"
#define K_PROTOCOL	"protocol"	/* hello */
#define K_ACCESS	"access"
#define K_USER		"user"		/* hello, history, commit, confirm */
#define K_TIME		"time"		/* history, every event */
#define K_VERSIONS	"versions"	/* history */
#define K_RUNNING	"running"	/* the running version */
#define K_PENDING	"pending"	/* a confirmed commit waits */
#define K_DEADLINE	"deadline"	/* when it reverts */
#define K_REVERTED	"reverted"	/* revert: the version taken back */
#define K_WAS		"was"		/* probe, admin: the state before */
#define K_ADMIN		"admin"		/* a server's admin state */
#define K_ZONE		"zone"
#define K_PID		"pid"
#define K_TO		"to"		/* revert: the version now running */
#define K_CHECK		"check"		/* probe: the server's reply */
#define K_LATENCY_MS	"latency_ms"

/* The stats reply: the zone, and each frontend, farm and server with its
 * counters (their keys are in counters.h). */
#define K_UPTIME	"uptime"
#define K_FRONTENDS	"frontends"
#define K_FARMS		"farms"
#define K_SERVERS	"servers"
#define K_COUNTERS	"counters"
#define K_NAME		"name"
#define K_ADDRESS	"address"
#define K_PORT		"port"
#define K_AVAILABLE	"available"
#define K_WEIGHT	"weight"
#define K_PRIORITY	"priority"
#define K_BACKUP	"backup"
#define K_CHECK_CODE	"check_code"
#define K_CHECK_TEXT	"check_text"
#define K_CHECK_MS	"check_ms"
#define K_LAST_CHANGE	"last_change"
#define K_QUEUE_OLDEST	"queue_oldest"	/* seconds the oldest has waited */

/* The sessions reply: a list of sessions, how many in all and unlisted. */
#define K_SESSIONS	"sessions"
#define K_TOTAL		"total"
#define K_MORE		"more"
#define K_CLIENT	"client"
#define K_FRONTEND	"frontend"
#define K_AGE		"age"
#define K_WAIT		"wait"
#define K_BYTES_IN	"bytes_in"
#define K_BYTES_OUT	"bytes_out"

/* Error codes. */
#define E_PARSE		"parse"		/* not JSON, or not an object */
#define E_TOO_LONG	"too-long"	/* line over PROTO_LINE_MAX */
#define E_BAD_REQUEST	"bad-request"	/* a field missing or mistyped */
#define E_UNKNOWN	"unknown-command"
#define E_DENIED	"denied"	/* not allowed for this peer */
#define E_STALE		"stale"		/* base is not the running version */
#define E_INVALID	"invalid"	/* the config does not validate */
#define E_APPLY		"apply"		/* valid, but could not be switched in */
#define E_NOT_FOUND	"not-found"
#define E_NO_PENDING	"no-pending"	/* confirm without a confirmed commit */
#define E_TIMEOUT	"timeout"
#define E_STATE		"state"		/* could not be saved */

/* Events. */
#define EV_PROBE	"probe"		/* a server's probe state changed */
#define EV_ADMIN	"admin"		/* a server's admin state changed */
#define EV_COMMIT	"commit"	/* a new version is running */
#define EV_REVERT	"revert"	/* a confirmed commit timed out */
#define EV_CONFIRM	"confirm"

#endif
