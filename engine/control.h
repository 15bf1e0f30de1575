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
	pid_t			 pid;
	char			 user[64];
	bool			 admin;
	bool			 subscribed;
	bool			 closing;	/* freed by the tick once flushed */
	uint64_t		 closed_at;
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
	struct evconnlistener	*evl;
	char			*path;
	gid_t			 admin_gid, read_gid;	/* (gid_t)-1: none */
	size_t			 nclients;
	TAILQ_HEAD(, client)	 clients;
	TAILQ_HEAD(, waiter)	 waiters;
	struct event		*tick;
};

void	reply_ok(struct client *, json_t *, json_t *);
void	reply_error(struct client *, json_t *, const char *, struct errs *,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
void	control_command(struct client *, json_t *);
void	control_tick(struct control *);
void	waiter_drop_client(struct control *, struct client *);

#endif
