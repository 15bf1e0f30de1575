/*
 * Workers (mxlbd --workers N): N event loops of one engine, each a thread
 * with its own event base and its own SO_REUSEPORT socket on every
 * listening address.  Threads, not processes, because everything a
 * session decides with is one set of objects: a per-source limit, a
 * stick table, a server's maxconn and queue, every counter and each
 * config generation exist once, so they are exact across workers without
 * messages or shared memory, and the control plane is unchanged.
 *
 * The rules:
 * - The engine lock guards every engine object.  A worker takes it for
 *   each step of a session (accept, dispatch, handshake, end), and the
 *   main thread for each of its callbacks (LOCKED_*); only the relaying
 *   of bytes runs without it (byte counters are atomic).
 * - A session's events belong to its worker: whatever another thread
 *   wants of a session (a queued one given a slot, sent back to the
 *   balancer or refused at shutdown) is posted to that worker's mailbox.
 * - What belongs to the main thread (control clients, the probes' timers)
 *   is only touched there: events and waits a worker causes are handed
 *   over (engine_event, control_waits).
 * With one worker (the default) there is no thread and no lock.
 */
#ifndef MXLB_WORKER_H
#define MXLB_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#define WORKERS_MAX	64

struct engine;
struct session;

/* A call for a worker's thread (a listening socket to close). */
struct wcall {
	void			(*fn)(void *);
	void			 *arg;
	TAILQ_ENTRY(wcall)	  entry;
};

struct worker {
	struct engine		 *eng;
	unsigned		  id;		/* 0: the main thread */
	struct event_base	 *base;
	pthread_t		  thread;
	bool			  running;	/* its thread was started */
	struct event		 *wake;		/* runs the mailbox */
	TAILQ_HEAD(, session)	  mail;		/* sessions with a posted step */
	TAILQ_HEAD(, wcall)	  calls;
	uint64_t		  accepted;	/* sessions it accepted */
	uint64_t		  nsessions;	/* open now */
};

extern bool engine_threaded;	/* more than one worker */

/* The worker whose thread this is (the main thread: worker 0). */
struct worker	*worker_self(void);

static inline void
engine_lock(void)
{
	extern pthread_mutex_t engine_mutex;

	if (engine_threaded)
		pthread_mutex_lock(&engine_mutex);
}

static inline void
engine_unlock(void)
{
	extern pthread_mutex_t engine_mutex;

	if (engine_threaded)
		pthread_mutex_unlock(&engine_mutex);
}

/* Parses "N" or "auto" (one per CPU); -1 if neither. */
int		 workers_parse(const char *);
/* Before any event base: libevent's locks, when n > 1. */
void		 workers_init(unsigned);
/* Worker 0 runs on base; the others get their bases now, their threads
 * at workers_start (after daemon(): a fork keeps no thread). */
void		 workers_new(struct engine *, struct event_base *, unsigned);
int		 workers_start(struct engine *);
/* Stops and joins the threads; their sessions are ended first. */
void		 workers_stop(struct engine *);
void		 workers_free(struct engine *);

/* Under the engine lock: the session's worker runs session_mail(s). */
void		 worker_post(struct session *);
/* Under the engine lock: fn(arg) runs in w's thread, under the lock. */
void		 worker_call(struct worker *, void (*)(void *), void *);
bool		 worker_owns(const struct worker *);
/* Whether this is the main thread (control clients, probes). */
bool		 worker_main(const struct engine *);

/*
 * A main-thread callback's locked twin, fn##_locked: the name given to
 * libevent.  One per signature of libevent's callbacks.
 */
#define LOCKED_EVENT_CB(fn)						\
static void								\
fn##_locked(evutil_socket_t fd_, short what_, void *arg_)		\
{									\
	engine_lock();							\
	fn(fd_, what_, arg_);						\
	engine_unlock();						\
}
#define LOCKED_BEV_CB(fn)						\
static void								\
fn##_locked(struct bufferevent *bev_, void *arg_)			\
{									\
	engine_lock();							\
	fn(bev_, arg_);							\
	engine_unlock();						\
}
#define LOCKED_BEV_EVENT_CB(fn)						\
static void								\
fn##_locked(struct bufferevent *bev_, short what_, void *arg_)		\
{									\
	engine_lock();							\
	fn(bev_, what_, arg_);						\
	engine_unlock();						\
}

#endif
