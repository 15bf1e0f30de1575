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
};

struct stick;

struct rt_farm {
	int		  refs;
	struct farm	 *conf;		/* fields only: servers live below */
	struct rt_server **servers;
	size_t		  nservers;
	uint32_t	  rotor;	/* spreads ties for leastconn */
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
