/*
 * Waiting for a server slot.  SMTP senders wait minutes for a greeting
 * (RFC 5321 §4.5.3.2.1), so a short FIFO queue per server is friendlier
 * than a refusal; past queue-timeout the client gets the 421.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "session.h"

static void
queue_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	engine_lock();
	/* Another thread may have taken it out of the queue meanwhile. */
	if (s->state == S_QUEUED && !s->mailed)
		session_refuse(s, REFUSE_QUEUE_TIMEOUT);
	engine_unlock();
}

/* An SMTP client says nothing before the greeting: readable means it left
 * (or is talking out of turn, which the server will judge later). */
void
queue_client_read(struct session *s)
{
	char c;
	ssize_t n;

	n = recv(s->cfd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		session_end(s, end_names[END_CLIENT_GONE_QUEUED]);
	else if (n > 0)
		watch_del(&s->c_rd);
}

void
queue_add(struct session *s, struct rt_server *srv)
{
	struct counters *sc = &srv->st, *fc = &s->farm->st;
	uint64_t now = now_ms(), wait;
	struct timeval tv;

	if (s->queued == 0)
		s->queued = now;	/* a requeued session keeps its place in time */
	wait = s->queued + (uint64_t)s->farm->conf->queue_timeout;
	if (wait <= now) {
		session_refuse(s, REFUSE_QUEUE_TIMEOUT);
		return;
	}
	s->state = S_QUEUED;
	s->srv = srv;
	srv->refs++;
	TAILQ_INSERT_TAIL(&srv->queue, s, qentry);
	if (++sc->qcur > sc->qmax)
		sc->qmax = sc->qcur;
	if (++fc->qcur > fc->qmax)
		fc->qmax = fc->qcur;
	evtimer_assign(&s->timer, s->w->base, queue_timeout, s);
	tv = ms_timeval(wait - now);
	evtimer_add(&s->timer, &tv);
}

/* Out of the queue; the caller decides what comes next. */
void
queue_remove(struct session *s)
{
	struct rt_server *srv = s->srv;

	TAILQ_REMOVE(&srv->queue, s, qentry);
	srv->st.qcur--;
	s->farm->st.qcur--;
	/* Another worker's timer is stopped by that worker (session_mail). */
	if (worker_owns(s->w))
		evtimer_del(&s->timer);
	s->unqueued = now_ms();
	s->srv = NULL;
	s->state = S_NEW;
	rt_server_unref(srv);
}

/* Out of the queue, the next step runs in the session's worker: now if
 * that is this thread, else when its mailbox runs. */
static void
queue_hand(struct session *s, enum smail step)
{
	if (!worker_owns(s->w)) {
		s->mail = (uint8_t)step;
		worker_post(s);
	} else if (step == MAIL_DISPATCH)
		session_dispatch(s);
	else
		session_refuse(s, REFUSE_SHUTDOWN);
}

/* A session left srv: the head of its queue may go in. */
void
server_slot_free(struct rt_server *srv)
{
	struct session *s;

	while (server_has_slot(srv) && (s = TAILQ_FIRST(&srv->queue)) != NULL) {
		if (!server_available(srv)) {
			server_requeue(srv);
			return;
		}
		srv->refs++;	/* queue_remove drops the queue's ref */
		queue_remove(s);
		forward_connect(s, srv);
		rt_server_unref(srv);
	}
}

/* A session let go of srv (it ended, or moves on): its slot goes to the
 * head of the queue, and the server's last session ends its waits. */
void
server_release(struct engine *eng, struct rt_server *srv)
{
	srv->nsess--;
	srv->st.cur--;
	server_slot_free(srv);
	if (srv->nsess == 0)
		engine_waits(eng);
	rt_server_unref(srv);
}

/* srv can take no new session: its queue goes back to the balancer. */
void
server_requeue(struct rt_server *srv)
{
	struct session *s;

	srv->refs++;
	while ((s = TAILQ_FIRST(&srv->queue)) != NULL) {
		queue_remove(s);
		queue_hand(s, MAIL_DISPATCH);
	}
	rt_server_unref(srv);
}

/* Shutting down: whoever still waits gets the 421 now. */
void
session_shutdown_queued(struct engine *eng)
{
	struct session *s;

	for (size_t i = 0; i < eng->nfarms; i++) {
		struct rt_farm *f = eng->farms[i];
		for (size_t j = 0; j < f->nservers; j++)
			while ((s = TAILQ_FIRST(&f->servers[j]->queue)) !=
			    NULL) {
				queue_remove(s);
				queue_hand(s, MAIL_SHUTDOWN);
			}
	}
}
