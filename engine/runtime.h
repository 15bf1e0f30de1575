/*
 * Run-time state of a zone: the live frontends, farms and servers with
 * their counters.  Each holds its own copy of its config object, so a new
 * config can be switched in while sessions keep the objects they use.
 * No libevent here: the balancing logic is tested without a loop.
 */
#ifndef MXLB_RUNTIME_H
#define MXLB_RUNTIME_H

#include <sys/queue.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "counters.h"

struct session;
struct probe;
TAILQ_HEAD(sessq, session);

struct rt_server {
	int		 refs;
	struct rt_farm	*farm;
	struct server	*conf;
	bool		 removed;	/* gone from the config; ends with refs */

	enum admin_state admin;
	enum probe_state pstate;
	uint64_t	 changed;	/* wall time (s) of the last change */

	uint32_t	 nsess;		/* connecting or forwarding */
	struct sessq	 queue;
	long		 swrr;		/* smooth weighted round-robin state */
	uint64_t	 picked;

	struct counters	 st;
	struct probe	*probe;
	int		 check_code;	/* last probe reply code, 0 if none */
	char		 check_text[128];
	uint32_t	 check_ms;	/* last probe duration */

	/* Slow start: since when (now_ms) the server is back; 0: not. */
	uint64_t	 ramp_start;

	/* What the agent (agent-port) said last; see agent.h. */
	struct agent	*agent;
	bool		 agent_has_pct;
	int		 agent_pct;	/* weight, % of the configured one */
	enum admin_state agent_admin;	/* ready, drain or maint */
	bool		 agent_down;
	bool		 mx_queue_known;
	long		 mx_queue;	/* its #queue=N */
	char		 agent_text[128];	/* last reply, or why none */
	uint64_t	 agent_when;	/* wall time (s) of the last reply */
};

struct stick;

struct rt_farm {
	int		  refs;
	struct farm	 *conf;		/* fields only: servers live below */
	struct rt_server **servers;
	size_t		  nservers;
	uint32_t	  rotor;	/* spreads ties for leastconn */
	uint64_t	  spread;	/* slow start's draws (Weyl sequence) */
	struct stick	 *stick;
	struct counters	  st;
};

struct srctable;

struct rt_frontend {
	int		  refs;
	struct frontend	 *conf;
	struct rt_farm	 *farm;
	struct srctable	 *sources;
	struct counters	  st;
};

bool	 server_available(const struct rt_server *);
/* The weight balancing uses: the configured one, times the agent's
 * percentage, times the slow start's progress, in 1/WEIGHT_SCALE units. */
#define WEIGHT_SCALE	1000
long	 server_eff_weight(const struct rt_server *, uint64_t);
/* Slow start's progress in [0, 1]; 1 when not ramping. */
double	 server_ramp(const struct rt_server *, uint64_t);
/* Call after anything that may make a server available again, with
 * whether it was before: a server back in service starts its ramp. */
void	 server_ramp_check(struct rt_server *, bool, uint64_t);
bool	 server_has_slot(const struct rt_server *);

/*
 * Picks the server for a new session of `client`, skipping the `ntried`
 * servers already tried.  Sets *queue when every candidate is full and the
 * session must wait on the returned server.  NULL: no server is available.
 */
struct rt_server *balance_pick(struct rt_farm *, const struct mxaddr *,
	    struct rt_server *const *, size_t, bool *, uint64_t);
void	 stick_forget(struct rt_farm *, const struct rt_server *);
void	 stick_free(struct stick *);

#endif
