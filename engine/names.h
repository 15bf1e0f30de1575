/*
 * The words the engine says and the shell, the monitor, `mxlb check` and
 * the man page read back: admin states, probe states, refusal reasons,
 * probe results and end reasons.  One table each, indexed by its enum; a
 * word is spelled here and nowhere else.
 */
#ifndef MXLB_NAMES_H
#define MXLB_NAMES_H

#include <stddef.h>

/* Admin states are command words too (`server drain`), and a command's
 * words are a static initialiser: macros, which the table is built from. */
#define ADMIN_WORD_READY	"ready"
#define ADMIN_WORD_DRAIN	"drain"
#define ADMIN_WORD_MAINT	"maint"

enum admin_state { ADMIN_READY, ADMIN_DRAIN, ADMIN_MAINT, ADMIN_MAX };

/* PSTATE_UNCHECKED is only reported, while a server's first probe has not
 * ended: the engine's own state starts as up and is never set to it. */
enum probe_state { PSTATE_UP, PSTATE_DOWN, PSTATE_NOLB, PSTATE_UNCHECKED,
	PSTATE_MAX };

/* Why a session was refused; each has its own counter. */
enum refusal {
	REFUSE_NO_SERVER,
	REFUSE_QUEUE_TIMEOUT,
	REFUSE_FRONTEND_MAXCONN,
	REFUSE_SOURCE_MAXCONN,
	REFUSE_SOURCE_RATE,
	REFUSE_DENIED_SOURCE,
	REFUSE_SHUTDOWN,
	REFUSE_FD_LIMIT,	/* the engine itself is out of descriptors */
	REFUSE_MAX
};

/* The objects a counter, or one reason of refused, is kept for: a server
 * is refused a session only once it was picked (its queue timed out, the
 * engine stopped, no descriptor was left to connect). */
#define OBJ_FRONTEND	0x1
#define OBJ_FARM	0x2
#define OBJ_SERVER	0x4
#define OBJ_ALL		(OBJ_FRONTEND | OBJ_FARM | OBJ_SERVER)

/* A probe's verdict on one check: the SMTP dialogue passed (2xx), said
 * 4xx (nolb), or failed (5xx, garbage, timeout, refused). */
enum check_result { CHECK_OK, CHECK_NOLB, CHECK_FAIL, CHECK_MAX };

/* How a session that was not refused ended (the log's end=). */
enum end_reason {
	END_CLOSED,
	END_IDLE_TIMEOUT,
	END_CLIENT_ERROR,
	END_SERVER_ERROR,
	END_CLIENT_GONE_QUEUED,
	END_CLIENT_GONE_GREETING,	/* left while the server greeted */
	END_MAX
};

/* A session's state, as the sessions reply says it. */
enum session_state { SESSION_DISPATCHING, SESSION_QUEUED, SESSION_CONNECTING,
	SESSION_CONNECTED, SESSION_GREETING, SESSION_MAX };

/* How a server learns the client's address: not at all, a PROXY header,
 * or Postfix's XCLIENT command (the engine speaks SMTP first). */
enum transport { TRANSPORT_PLAIN, TRANSPORT_PROXY_V1, TRANSPORT_PROXY_V2,
	TRANSPORT_XCLIENT, TRANSPORT_MAX };

extern const char *const admin_names[ADMIN_MAX];
extern const char *const pstate_names[PSTATE_MAX];
extern const char *const refusal_names[REFUSE_MAX];
extern const unsigned refusal_objects[REFUSE_MAX];	/* OBJ_* */
extern const char *const check_result_names[CHECK_MAX];
extern const char *const end_names[END_MAX];
extern const char *const session_state_names[SESSION_MAX];
extern const char *const transport_names[TRANSPORT_MAX];

/* The index of `word` in a table of n names, or -1. */
int		 names_find(const char *const *, size_t, const char *);
/* The names joined by sep into buf ("ready|drain|maint"); returns buf. */
const char	*names_join(char *, size_t, const char *const *, size_t,
		    const char *);

#endif
