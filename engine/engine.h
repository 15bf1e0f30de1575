/* The forwarding engine of one zone: its event loop and live objects. */
#ifndef MXLB_ENGINE_H
#define MXLB_ENGINE_H

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/bufferevent.h>
#include <stdbool.h>

#include "runtime.h"

/* MXLB_VERSION: from the Makefile's VERSION (-DMXLB_VERSION). */

struct worker;
struct listener;

/* One worker's socket of a listener (SO_REUSEPORT with workers). */
struct lsock {
	struct listener		*l;	/* NULL: closing */
	struct worker		*w;
	evutil_socket_t		 fd;
	struct event		*ev;	/* readable: clients to accept */
	struct event		*retry;	/* re-enable after EMFILE */
};

struct listener {
	struct engine		*eng;
	struct mxaddr		 addr;	/* family 0: every address */
	uint16_t		 port;
	evutil_socket_t		 fd;	/* worker 0's: what a takeover gets */
	struct lsock		**socks;	/* one per worker */
	size_t			 nsocks;
	struct rt_frontend	*fe;
	bool			 keep;
};

/* A listening socket received at a takeover, until a frontend takes it. */
struct adopted {
	struct mxaddr		 addr;	/* family 0: every address */
	uint16_t		 port;
	int			 fd;	/* -1: taken */
};

/* Admin states other than ready, by farm and server name: they are not
 * config, and outlive commits and restarts. */
struct admin_entry {
	char		*farm;
	char		*server;
	enum admin_state state;
};

/* Handing the zone over (--takeover): while PENDING the state directory is
 * left alone (commits and admin changes refused) and everything else runs;
 * DONE, the new engine serves and this one only finishes its sessions. */
enum handover { HANDOVER_NONE, HANDOVER_PENDING, HANDOVER_DONE };

struct control;
struct evhttp;
struct evhttp_bound_socket;
struct plan;
struct txn;

struct engine {
	struct event_base	 *base;
	char			 *zone;
	char			  hostname[256];
	struct config		 *cfg;
	struct rt_frontend	**fes;
	size_t			  nfes;
	struct rt_farm		**farms;
	size_t			  nfarms;
	struct listener		**ls;
	size_t			  nls;
	uint64_t		  started;	/* wall clock, seconds */
	uint64_t		  nsessions;	/* open now, all frontends */
	bool			  stopping;
	struct admin_entry	 *admins;
	size_t			  nadmins;
	struct txn		 *txn;
	struct control		 *ctl;
	struct plan		 *prepared;	/* engine_prepare's, until applied */
	char			 *statedir;	/* NULL: nothing is saved */
	uint64_t		  saved;	/* newest version on disk */
	char			 *conffile;	/* imported on start and reload */
	bool			  conffile_named; /* -c FILE: it must exist */
	uint64_t		  imported;	/* the version the file last became */
	uint64_t		  importing;	/* the version an import commits */
	struct adopted		 *adopt;	/* --takeover: received sockets */
	size_t			  nadopt;
	int			  metrics_fd;	/* --metrics socket, -1: none */
	struct evhttp		 *metrics_http;
	struct evhttp_bound_socket *metrics_bound;
	int			  adopt_metrics;	/* received, -1: none */
	enum handover		  handover;	/* the zone given to a new engine */
	int			  successor;	/* its pid */
	struct event		 *stop_ev;	/* mxlbd.c: stop, with the grace */
	struct worker		**workers;	/* [0]: the main thread */
	size_t			  nworkers;
	/* What workers left for the main thread (worker.h). */
	struct event		 *deferred_ev;
	json_t			 *deferred;	/* events to broadcast */
	bool			  waits_due;	/* control_waits to run */
};

/* engine.c */
struct engine	*engine_new(struct event_base *, const char *);
int		 engine_prepare(struct engine *, const struct config *,
		    struct errs *);
void		 engine_abort(struct engine *);
int		 engine_apply(struct engine *, struct config *, struct errs *);
void		 engine_free(struct engine *);
void		 engine_stop(struct engine *);
struct rt_farm	*engine_farm(struct engine *, const char *);
void		 rt_server_unref(struct rt_server *);
void		 rt_farm_unref(struct rt_farm *);
void		 rt_frontend_unref(struct rt_frontend *);
void		 server_set_pstate(struct rt_server *, enum probe_state);
struct rt_server *engine_server(struct engine *, const char *, const char *);
#define ADMIN_NOT_FOUND	(-1)
#define ADMIN_NOT_SAVED	(-2)
int		 engine_admin(struct engine *, const char *, const char *,
		    enum admin_state, char *, size_t);
void		 engine_event(struct engine *, const char *, json_t *);
/* A server's last session ended: control waits may be over. */
void		 engine_waits(struct engine *);

/* state.c: the zone's durable state */
int		 state_save(void *, const struct txn *, struct errs *);
int		 state_load(struct engine *, struct errs *);
int		 state_write_atomic(const char *, const char *, const char *,
		    size_t, struct errs *);

/* control.c */
struct control	*control_open(struct engine *, const char *, gid_t, gid_t,
		    int, struct errs *);
void		 control_close(struct control *);
void		 control_set_idle(struct control *, unsigned);
void		 control_broadcast(struct control *, json_t *);
void		 control_waits(struct control *);

/* listener.c */
struct listener	*listener_open(struct engine *, const struct mxaddr *,
		    uint16_t, struct errs *);
void		 listener_close(struct listener *);
int		 listener_adopt(struct engine *, int, const struct mxaddr *,
		    uint16_t, char *, size_t);
void		 listener_adopt_end(struct engine *);

/* session.c */
void		 session_accept(struct listener *, struct worker *, evutil_socket_t,
		    const struct sockaddr *, int);
void		 server_slot_free(struct rt_server *);
void		 server_release(struct engine *, struct rt_server *);
void		 server_requeue(struct rt_server *);
void		 session_shutdown_queued(struct engine *);
json_t		*session_list(struct engine *, const char *, const char *,
		    size_t);

/* limit.c: per-source concurrency and rate */
struct srctable	*srctable_new(void);
void		 srctable_free(struct srctable *);
enum refusal	 srctable_admit(struct srctable *, const struct frontend *,
		    const struct mxaddr *, uint64_t, bool *);
void		 srctable_release(struct srctable *, const struct mxaddr *);
void		 srctable_sweep(struct srctable *, uint64_t);

/* probe.c */
void		 probe_start(struct engine *, struct rt_server *);
void		 probe_stop(struct rt_server *);
bool		 probe_unchecked(const struct rt_server *);
void		 probe_passive(struct rt_server *, bool, int, const char *);

/* agent.c: the agent check */
void		 agent_restart(struct engine *, struct rt_server *);
void		 agent_stop(struct rt_server *);

/* stats.c */
json_t		*stats_json(const struct engine *);

/* privdrop.c */
int		 privdrop(struct engine *, const char *, const char *,
		    struct errs *);

/* httpmetrics.c */
struct evhttp	*metrics_listen(struct engine *, const char *, struct errs *);

/* log.c */
void		 log_init(const char *, bool);
/* Info, buffered: the per-session lines, too many for a write each. */
void		 log_bulk(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_timer(struct event_base *);
void		 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void		 log_flush(void);
void		 log_detach(void);
const char	*log_syslog_missing(void);

#endif
