/*
 * Choosing a server: MX-style priority tiers, then the farm's algorithm
 * within the lowest tier that has a server available.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "runtime.h"

#define STICK_MS	(30 * 60 * 1000)	/* documented in mxlbd(8) */
#define STICK_MAX	(1 << 20)		/* entries: bounds memory */

bool
server_available(const struct rt_server *s)
{
	return !s->removed && s->conf->status == STATUS_ACTIVE &&
	    s->conf->weight > 0 && s->admin == ADMIN_READY &&
	    s->pstate == PSTATE_UP;
}

bool
server_has_slot(const struct rt_server *s)
{
	const struct fieldset *fs = &server_fields;

	return !FIELD_ISSET(fs, s->conf, "maxconn") ||
	    s->nsess < (uint32_t)s->conf->maxconn;
}

static long
server_tier(const struct rt_server *s)
{
	return s->conf->backup ? LONG_MAX : s->conf->priority;
}

/* nginx's smooth weighted round-robin: exact shares, well interleaved. */
static struct rt_server *
pick_roundrobin(struct rt_server **c, size_t n)
{
	struct rt_server *best = NULL;
	long total = 0;

	for (size_t i = 0; i < n; i++) {
		c[i]->swrr += c[i]->conf->weight;
		total += c[i]->conf->weight;
		if (best == NULL || c[i]->swrr > best->swrr)
			best = c[i];
	}
	best->swrr -= total;
	return best;
}

/* Fewest sessions (and queued ones) per unit of weight; ties rotate. */
static struct rt_server *
pick_leastconn(struct rt_farm *f, struct rt_server **c, size_t n)
{
	struct rt_server *best = NULL;
	size_t start = f->rotor++ % n;

	for (size_t k = 0; k < n; k++) {
		struct rt_server *s = c[(start + k) % n];
		uint64_t load = (uint64_t)s->nsess + s->st.qcur;
		if (best == NULL || load * (uint64_t)best->conf->weight <
		    ((uint64_t)best->nsess + best->st.qcur) *
		    (uint64_t)s->conf->weight)
			best = s;
	}
	return best;
}

/* Weighted rendezvous hashing: a client keeps its server while that server
 * stays, and only the clients of a server that goes move elsewhere. */
static struct rt_server *
pick_source(struct rt_server **c, size_t n, const struct mxaddr *client)
{
	uint64_t ch = hash_addr(client);
	struct rt_server *best = NULL;
	double best_score = -1;

	for (size_t i = 0; i < n; i++) {
		const char *name = server_name(c[i]->conf);
		uint64_t h = hash_bytes(name, strlen(name), ch);
		double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
		double score = (double)c[i]->conf->weight / -log(u);
		if (score > best_score) {
			best_score = score;
			best = c[i];
		}
	}
	return best;
}

static struct rt_server *
pick(struct rt_farm *f, struct rt_server **c, size_t n,
    const struct mxaddr *client)
{
	switch (f->conf->balance) {
	case BAL_LEASTCONN:
		return pick_leastconn(f, c, n);
	case BAL_SOURCE:
		return pick_source(c, n, client);
	case BAL_FIRST:
		return c[0];	/* candidates keep config order */
	default:
		return pick_roundrobin(c, n);
	}
}

/* Available and not tried yet for this session. */
static bool
server_candidate(struct rt_server *s, struct rt_server *const *tried,
    size_t ntried)
{
	return server_available(s) &&
	    !set_has(tried, ntried, sizeof *tried, &s, NULL);
}

/* The servers of the lowest tier with one available; returns their count. */
static size_t
tier_candidates(struct rt_farm *f, struct rt_server *const *tried,
    size_t ntried, struct rt_server **out)
{
	long tier = LONG_MAX;
	bool any = false;
	size_t n = 0;

	for (size_t i = 0; i < f->nservers; i++) {
		struct rt_server *s = f->servers[i];
		if (server_candidate(s, tried, ntried) &&
		    (!any || server_tier(s) < tier)) {
			tier = server_tier(s);
			any = true;
		}
	}
	for (size_t i = 0; any && i < f->nservers; i++) {
		struct rt_server *s = f->servers[i];
		if (server_candidate(s, tried, ntried) && server_tier(s) == tier)
			out[n++] = s;
	}
	return n;
}

static struct rt_server *stick_get(struct rt_farm *, const struct mxaddr *,
    uint64_t);
static void stick_put(struct rt_farm *, const struct mxaddr *,
    struct rt_server *, uint64_t);

struct rt_server *
balance_pick(struct rt_farm *f, const struct mxaddr *client,
    struct rt_server *const *tried, size_t ntried, bool *queue, uint64_t now)
{
	struct rt_server *small[64], **cand = small, **free_, *s = NULL;
	size_t n, nfree = 0;

	*queue = false;
	if (f->nservers == 0)
		return NULL;
	/* Most farms are small: no allocation on the hot path for them. */
	if (f->nservers > nitems(small) / 2)
		cand = xreallocarray(NULL, f->nservers, 2 * sizeof *cand);
	free_ = cand + f->nservers;
	n = tier_candidates(f, tried, ntried, cand);
	for (size_t i = 0; i < n; i++)
		if (server_has_slot(cand[i]))
			free_[nfree++] = cand[i];
	if (n > 0 && f->conf->stickiness == STICK_SOURCE) {
		s = stick_get(f, client, now);
		if (s != NULL && !set_has(cand, n, sizeof *cand, &s, NULL))
			s = NULL;
	}
	if (s == NULL && nfree > 0)
		s = pick(f, free_, nfree, client);
	else if (s == NULL && n > 0)
		s = pick(f, cand, n, client);
	if (s != NULL) {
		*queue = !server_has_slot(s);
		if (f->conf->stickiness == STICK_SOURCE)
			stick_put(f, client, s, now);
		s->picked++;
	}
	if (cand != small)
		free(cand);
	return s;
}

/*
 * The stick table: client address -> server, kept STICK_MS after last use.
 * An expired entry goes when it is looked up; a full table drops all the
 * expired ones, at most once a second, before it refuses a new client.
 */
struct stick_entry {
	struct hnode	  node;
	struct rt_server *srv;
	uint64_t	  expire;
};

struct stick {
	struct htable	 t;
	uint64_t	 swept;		/* ms: last sweep of a full table */
};

static struct rt_server *
stick_get(struct rt_farm *f, const struct mxaddr *a, uint64_t now)
{
	struct stick_entry *e;

	if (f->stick == NULL || (e = htable_find(&f->stick->t, a)) == NULL)
		return NULL;
	if (e->expire > now)
		return e->srv;
	htable_remove(&f->stick->t, e);
	return NULL;
}

static bool
stick_expired(void *e, void *now)
{
	return ((struct stick_entry *)e)->expire <= *(uint64_t *)now;
}

static void
stick_put(struct rt_farm *f, const struct mxaddr *a, struct rt_server *s,
    uint64_t now)
{
	struct stick_entry *e;
	struct stick *st;

	if ((st = f->stick) == NULL) {
		st = f->stick = xcalloc(1, sizeof *f->stick);
		htable_init(&st->t, sizeof *e, STICK_MAX);
	}
	if ((e = htable_find(&st->t, a)) == NULL) {
		if (st->t.n >= st->t.max && now - st->swept >= 1000) {
			st->swept = now;
			(void)htable_expire(&st->t, stick_expired, &now);
		}
		if ((e = htable_add(&st->t, a)) == NULL)
			return;		/* full of live entries: no stickiness */
	}
	e->srv = s;
	e->expire = now + STICK_MS;
}

static bool
stick_of(void *e, void *srv)
{
	return ((struct stick_entry *)e)->srv == srv;
}

/* A server leaving the farm must not be found by its old clients. */
void
stick_forget(struct rt_farm *f, const struct rt_server *s)
{
	if (f->stick != NULL)
		(void)htable_expire(&f->stick->t, stick_of, (void *)s);
}

void
stick_free(struct stick *t)
{
	if (t != NULL)
		htable_clear(&t->t);
	free(t);
}
