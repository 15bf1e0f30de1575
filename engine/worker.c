/* The workers' threads, the engine lock and the mailboxes (worker.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/thread.h>

#include "session.h"
#include "worker.h"

bool engine_threaded;
pthread_mutex_t engine_mutex = PTHREAD_MUTEX_INITIALIZER;
static __thread struct worker *self;

struct worker *
worker_self(void)
{
	return self;
}

bool
worker_owns(const struct worker *w)
{
	return !engine_threaded || self == w;
}

bool
worker_main(const struct engine *eng)
{
	return !engine_threaded || eng->nworkers == 0 ||
	    self == eng->workers[0];
}

int
workers_parse(const char *s)
{
	long n, cpus;
	char *end;

	if (strcmp(s, "auto") == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		return cpus < 1 ? 1 : cpus > WORKERS_MAX ? WORKERS_MAX :
		    (int)cpus;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > WORKERS_MAX)
		return -1;
	return (int)n;
}

void
workers_init(unsigned n)
{
	if (n < 2)
		return;
	evthread_use_pthreads();
	engine_threaded = true;
}

static void
calls_run(struct worker *w)
{
	struct wcall *c;

	while ((c = TAILQ_FIRST(&w->calls)) != NULL) {
		TAILQ_REMOVE(&w->calls, c, entry);
		c->fn(c->arg);
		free(c);
	}
}

/* The mailbox: calls first (a closing socket), then sessions' steps. */
static void
worker_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s;

	(void)fd;
	(void)what;
	engine_lock();
	calls_run(w);
	while ((s = TAILQ_FIRST(&w->mail)) != NULL) {
		TAILQ_REMOVE(&w->mail, s, qentry);
		s->mailed = false;
		session_mail(s);
	}
	engine_unlock();
}

void
workers_new(struct engine *eng, struct event_base *base, unsigned n)
{
	eng->workers = xcalloc(n, sizeof *eng->workers);
	eng->nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = xcalloc(1, sizeof *w);
		w->eng = eng;
		w->id = i;
		w->base = i == 0 ? base : event_base_new();
		if (w->base == NULL) {
			log_err("workers: no event base for worker %u", i);
			exit(1);
		}
		w->wake = event_new(w->base, -1, 0, worker_wake, w);
		TAILQ_INIT(&w->mail);
		TAILQ_INIT(&w->calls);
		eng->workers[i] = w;
	}
	self = eng->workers[0];
}

static void *
worker_loop(void *arg)
{
	struct worker *w = arg;
	sigset_t all;

	/* Signals are the main thread's (libevent's handlers are there). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	self = w;
	poller_open(w->base);	/* the thread's own set (poller.c) */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
workers_start(struct engine *eng)
{
	for (size_t i = 1; i < eng->nworkers; i++) {
		struct worker *w = eng->workers[i];
		int err;

		/* Made before daemon()'s fork: its epoll is the parent's. */
		if (event_reinit(w->base) == -1) {
			log_err("workers: event_reinit of worker %zu failed", i);
			return -1;
		}
		if ((err = pthread_create(&w->thread, NULL, worker_loop, w))
		    != 0) {
			log_err("workers: thread %zu: %s", i, strerror(err));
			return -1;
		}
		w->running = true;
	}
	if (eng->nworkers > 1)
		log_info("workers=%zu", eng->nworkers);
	return 0;
}

void
workers_stop(struct engine *eng)
{
	for (size_t i = 1; i < eng->nworkers; i++) {
		struct worker *w = eng->workers[i];
		if (!w->running)
			continue;
		event_base_loopbreak(w->base);
		pthread_join(w->thread, NULL);
		w->running = false;
	}
}

void
workers_free(struct engine *eng)
{
	for (size_t i = 0; i < eng->nworkers; i++) {
		struct worker *w = eng->workers[i];
		calls_run(w);	/* its thread is gone: the sockets close here */
		event_free(w->wake);
		if (i > 0)
			event_base_free(w->base);
		free(w);
	}
	free(eng->workers);
	eng->workers = NULL;
	eng->nworkers = 0;
}

void
worker_post(struct session *s)
{
	if (s->mailed)
		return;
	s->mailed = true;
	TAILQ_INSERT_TAIL(&s->w->mail, s, qentry);
	event_active(s->w->wake, EV_READ, 1);
}

void
worker_call(struct worker *w, void (*fn)(void *), void *arg)
{
	struct wcall *c = xcalloc(1, sizeof *c);

	c->fn = fn;
	c->arg = arg;
	TAILQ_INSERT_TAIL(&w->calls, c, entry);
	event_active(w->wake, EV_READ, 1);
}
