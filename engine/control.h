/* The control socket's clients, shared by control.c (transport, access,
 * framing) and control-cmd.c (the commands). */
#ifndef MXLB_CONTROL_H
#define MXLB_CONTROL_H

#include <sys/types.h>

#include "commit.h"
#include "engine.h"
#include "proto.h"

struct client {
	struct control		*ctl;
	struct bufferevent	*bev;
	uid_t			 uid;
	gid_t			 gid;		/* primary, from SO_PEERCRED */
	pid_t			 pid;
	char			 user[64];
	bool			 admin;
	bool			 subscribed;
	bool			 closing;	/* freed by the tick once flushed */
	bool			 paused;	/* too much output queued */
	bool			 shut;		/* closing: our side is shut */
	size_t			 discarded;	/* closing: input read and dropped */
	uint64_t		 closed_at;
	uint64_t		 active;	/* ms: connected, or last request */
	size_t			 line_max;	/* by access: PROTO_*LINE_MAX */
	size_t			 scanned;	/* input searched for LF so far */
	size_t			 out_seen;	/* output length at the last tick */
	uint64_t		 out_since;	/* ms: output last went down */
	unsigned		 nwaits;	/* `wait` requests outstanding */
	struct event		*resume;	/* more requests, next turn */
	TAILQ_ENTRY(client)	 entry;
};

/* A `wait` request: answered when the server has no session left. */
struct waiter {
	struct client		*client;
	json_t			*id;
	char			*farm, *server;
	uint64_t		 deadline;	/* ms, 0: none */
	TAILQ_ENTRY(waiter)	 entry;
};

struct control {
	struct engine		*eng;
	evutil_socket_t		 fd;		/* the listening socket */
	struct event		*ev;		/* readable: clients to accept */
	struct event		*retry;		/* accept again after EMFILE */
	int			 reserved[2];	/* /dev/null, kept for an admin */
	int			 reserve;	/* of them open */
	uint64_t		 paused_at;	/* out of descriptors, logged */
	char			*path;
	gid_t			 admin_gid, read_gid;	/* (gid_t)-1: none */
	size_t			 nclients;
	size_t			 nadmins;	/* of nclients */
	uint64_t		 idle_ms;	/* 0: idle clients stay */
	bool			 trim;		/* big buffers freed: give back */
	uint64_t		 refused_at;	/* last refusal logged, ms */
	unsigned		 refused;	/* refusals not logged since */
	char			 refusal[256];	/* the last one not logged */
	struct client		*successor;	/* the engine taking over */
	bool			 handed_over;	/* fd closed, path not ours */
	TAILQ_HEAD(, client)	 clients;
	TAILQ_HEAD(, waiter)	 waiters;
	struct event		*wait_timer;	/* the earliest wait deadline */
	struct event		*confirm;	/* the confirmed-commit deadline */
	struct event		*tick;		/* client upkeep, while needed */
};

void	reply_ok(struct client *, json_t *, json_t *);
void	reply_error(struct client *, json_t *, const char *, struct errs *,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
void	control_command(struct client *, json_t *);
struct client *client_attach(struct control *, struct bufferevent *, uid_t,
	    pid_t, bool, const char *);
void	control_timers_open(struct control *);
void	control_timers_close(struct control *);
void	control_confirm_arm(struct control *);
void	control_confirm_run(struct control *);
void	waiter_drop_client(struct control *, struct client *);
int	client_send_fds(struct client *, json_t *, const int *, size_t);
void	control_handed_over(struct control *);
void	handover_lost(struct control *);

#endif
