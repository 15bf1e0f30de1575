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

/*
 * A line longer than this is refused and the connection closed: the
 * stream cannot be resynchronised inside an oversized line.  The longest
 * legal request is a commit of a big zone.  Measured: 1,000 farms and
 * 10,000 servers as tests/bench/scale.sh builds them make a 0.57 MB
 * commit; the same with every server and farm field set, 63-character
 * names and IPv6 addresses, 3.2 MB.  8 MB leaves 2.5 times the worst case
 * (room for long source lists on the frontends) and still bounds what a
 * client can make the engine hold.
 */
#define PROTO_LINE_MAX		(8 * 1024 * 1024)
/* Only the admin group may commit: the read-only group's requests (hello,
 * get, stats, history, subscribe, wait) are a few hundred bytes at most,
 * so its line limit is small, and a flood of read-only clients with long
 * lines costs little memory. */
#define PROTO_READ_LINE_MAX	4096
/* Requests are not read while more than this is queued for the client:
 * one who does not read its replies stops being served (backpressure)
 * instead of growing the engine's memory. */
#define PROTO_OUTPUT_PAUSE	(256 * 1024)
/* Past this (events to a subscriber that reads nothing, on top of one
 * reply as big as the biggest config) the client is dropped. */
#define PROTO_OUTPUT_MAX	(2 * PROTO_LINE_MAX)
/* Clients at once.  The last PROTO_ADMIN_RESERVE slots are kept for the
 * admin group, and one uid that is not an admin may hold at most
 * PROTO_CLIENTS_PER_UID: no number of read-only clients keeps an admin
 * out. */
#define PROTO_CLIENTS_MAX	1024
#define PROTO_ADMIN_RESERVE	64
#define PROTO_CLIENTS_PER_UID	32
/* `wait` requests outstanding per client; more are answered "busy". */
#define PROTO_WAITS_MAX		16
/* A client that has sent no complete request and been sent no reply for
 * this long, with no wait outstanding and no subscription, is closed
 * (mxlbd --control-idle).  Bytes of an unfinished line do not count: a
 * line dribbled in does not hold a slot. */
#define PROTO_IDLE_S		60
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
#define CMD_IMPORT	"import"	/* A: the zone's config file [force] */
#define CMD_TAKEOVER	"takeover"	/* A: [done]: the listening sockets,
					   SCM_RIGHTS (mxlbd --takeover) */

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
#define K_STARTED	"started"	/* the engine's start, Unix time */
#define K_WORKERS	"workers"	/* per worker: accepted, sessions */
#define K_ACCEPTED	"accepted"
#define K_MAXCONN	"maxconn"	/* only where the config sets one */
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
/* Slow start and the agent check (stats, agent event). */
#define K_EFF_WEIGHT	"effective_weight"	/* what balancing uses now */
#define K_RAMP		"slowstart_pct"		/* slow start's progress, % */
#define K_AGENT_STATE	"agent_state"		/* ready, drain or maint */
#define K_AGENT_DOWN	"agent_down"
#define K_AGENT_PCT	"agent_weight_pct"
#define K_AGENT_TEXT	"agent_text"		/* last reply, or why none */
#define K_MX_QUEUE	"mx_queue"		/* its #queue=N, if known */
#define K_TRANSPORT	"transport"	/* plain, proxy-v1, proxy-v2, xclient */

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
#define K_SOURCE	"source"	/* the farm's: client, an address, - */

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
#define E_BUSY		"busy"		/* a per-client or engine limit */

/* Events. */
#define EV_PROBE	"probe"		/* a server's probe state changed */
#define EV_ADMIN	"admin"		/* a server's admin state changed */
#define EV_COMMIT	"commit"	/* a new version is running */
#define EV_REVERT	"revert"	/* a confirmed commit timed out */
#define EV_CONFIRM	"confirm"
#define EV_AGENT	"agent"		/* a server's agent changed its state */

#endif
