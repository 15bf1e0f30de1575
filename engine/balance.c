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
	    s->pstate == PSTATE_UP && s->agent_admin == ADMIN_READY &&
	    !s->agent_down && (!s->agent_has_pct || s->agent_pct > 0);
}

double
server_ramp(const struct rt_server *s, uint64_t now)
{
	long ss = s->farm != NULL ? s->farm->conf->slowstart : 0;

	if (s->ramp_start == 0 || ss <= 0 ||
	    now >= s->ramp_start + (uint64_t)ss)
		return 1;
	if (now <= s->ramp_start)
		return 0;
	return (double)(now - s->ramp_start) / (double)ss;
}

long
server_eff_weight(const struct rt_server *s, uint64_t now)
{
	long w = s->conf->weight * WEIGHT_SCALE;
	double r = server_ramp(s, now);

	if (s->agent_has_pct) {
		w = w / 100 * s->agent_pct;
		if (w > 256L * WEIGHT_SCALE)
			w = 256L * WEIGHT_SCALE;
	}
	if (r < 1)
		w = (long)((double)w * r);
	/* Near 0 at the ramp's start, never 0: 0 would mean "no sessions". */
	return w > 0 ? w : 1;
}

void
server_ramp_check(struct rt_server *s, bool was, uint64_t now)
{
	if (s->farm == NULL || s->farm->conf->slowstart <= 0)
		s->ramp_start = 0;
	else if (!was && server_available(s))
		s->ramp_start = now > 0 ? now : 1;
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
pick_roundrobin(struct rt_server **c, size_t n, uint64_t now)
{
	struct rt_server *best = NULL;
	long total = 0;

	for (size_t i = 0; i < n; i++) {
		long w = server_eff_weight(c[i], now);
		c[i]->swrr += w;
		total += w;
		if (best == NULL || c[i]->swrr > best->swrr)
			best = c[i];
	}
	best->swrr -= total;
	return best;
}

/* Fewest sessions (and queued ones) per unit of weight; ties rotate.
 * Counting the new session itself (load + 1, as HAProxy does) lets a
 * server in slow start, idle but of small weight, not take them all. */
static struct rt_server *
pick_leastconn(struct rt_farm *f, struct rt_server **c, size_t n,
    uint64_t now)
{
	struct rt_server *best = NULL;
	size_t start = f->rotor++ % n;
	uint64_t bload = 0, bw = 1;

	for (size_t k = 0; k < n; k++) {
		struct rt_server *s = c[(start + k) % n];
		uint64_t load = (uint64_t)s->nsess + s->st.qcur + 1;
		uint64_t w = (uint64_t)server_eff_weight(s, now);
		if (best == NULL || load * bw < bload * w) {
			best = s;
			bload = load;
			bw = w;
		}
	}
	return best;
}

/* Weighted rendezvous hashing: a client keeps its server while that server
 * stays, and only the clients of a server that goes move elsewhere. */
static struct rt_server *
pick_source(struct rt_server **c, size_t n, const struct mxaddr *client,
    uint64_t now)
{
	uint64_t ch = hash_addr(client);
	struct rt_server *best = NULL;
	double best_score = -1;

	for (size_t i = 0; i < n; i++) {
		const char *name = server_name(c[i]->conf);
		uint64_t h = hash_bytes(name, strlen(name), ch);
		double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
		double score = (double)server_eff_weight(c[i], now) / -log(u);
		if (score > best_score) {
			best_score = score;
			best = c[i];
		}
	}
	return best;
}

/*
 * A draw in [0, 1) that decides how much of the traffic a ramping server
 * or tier takes.  With source hashing it comes from the client's address,
 * so a client's choice only moves once, toward the returning server;
 * otherwise from a Weyl sequence, which spreads sessions evenly.
 */
static double
ramp_draw(struct rt_farm *f, const struct mxaddr *client)
{
	uint64_t h;

	if (f->conf->balance == BAL_SOURCE && client != NULL)
		h = hash_bytes("ramp", 4, hash_addr(client));
	else
		h = ++f->spread * 0x9e3779b97f4a7c15ULL;
	return ((double)(h >> 11) + 0.5) / 9007199254740992.0;
}

/* Whether a draw u goes to what ramps at r; if not, u is made a fresh
 * draw in [0, 1) for the next choice (it was uniform in [r, 1)). */
static bool
ramp_take(double *u, double r)
{
	if (r >= 1 || *u < r)
		return true;
	*u = (*u - r) / (1 - r);
	return false;
}

/* `first` in slow start: the first server takes the share its ramp
 * allows, the next ones the rest, in config order. */
static struct rt_server *
pick_first(struct rt_server **c, size_t n, double *u, uint64_t now)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (ramp_take(u, server_ramp(c[i], now)))
			return c[i];
	return c[n - 1];
}

static struct rt_server *
pick(struct rt_farm *f, struct rt_server **c, size_t n,
    const struct mxaddr *client, double *u, uint64_t now)
{
	switch (f->conf->balance) {
	case BAL_LEASTCONN:
		return pick_leastconn(f, c, n, now);
	case BAL_SOURCE:
		return pick_source(c, n, client, now);
	case BAL_FIRST:
		return pick_first(c, n, u, now);	/* config order */
	default:
		return pick_roundrobin(c, n, now);
	}
}

/* Available and not tried yet for this session. */
static bool
candidate(struct rt_server *s, struct rt_server *const *tried, size_t ntried)
{
	return server_available(s) &&
	    !set_has(tried, ntried, sizeof *tried, &s, NULL);
}

/* The lowest tier above `above` (any tier if !has_above) with a server
 * available; false if there is none. */
static bool
tier_after(struct rt_farm *f, struct rt_server *const *tried, size_t ntried,
    bool has_above, long above, long *tier)
{
	bool any = false;

	for (size_t i = 0; i < f->nservers; i++) {
		struct rt_server *s = f->servers[i];
		long t = server_tier(s);
		if (candidate(s, tried, ntried) && (!has_above || t > above) &&
		    (!any || t < *tier)) {
			*tier = t;
			any = true;
		}
	}
	return any;
}

/*
 * The servers of the tier that takes this session; returns their count.
 * The lowest tier with a server available takes the traffic, except while
 * every server of it is in slow start: then it takes the share its most
 * advanced server's ramp allows, and the next tier the rest (a primary
 * tier coming back takes its traffic back gradually).
 */
static size_t
tier_candidates(struct rt_farm *f, struct rt_server *const *tried,
    size_t ntried, struct rt_server **out, double *u, uint64_t now)
{
	long tier = 0, next;
	size_t n = 0;

	if (!tier_after(f, tried, ntried, false, 0, &tier))
		return 0;
	for (;;) {
		double r = 0;
		for (size_t i = 0; i < f->nservers; i++) {
			struct rt_server *s = f->servers[i];
			if (candidate(s, tried, ntried) &&
			    server_tier(s) == tier && server_ramp(s, now) > r)
				r = server_ramp(s, now);
		}
		if (r >= 1 ||
		    !tier_after(f, tried, ntried, true, tier, &next) ||
		    ramp_take(u, r))
			break;
		tier = next;
	}
	for (size_t i = 0; i < f->nservers; i++) {
		struct rt_server *s = f->servers[i];
		if (candidate(s, tried, ntried) && server_tier(s) == tier)
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
	double u = ramp_draw(f, client);

	*queue = false;
	if (f->nservers == 0)
		return NULL;
	/* Most farms are small: no allocation on the hot path for them. */
	if (f->nservers > nitems(small) / 2)
		cand = xreallocarray(NULL, f->nservers, 2 * sizeof *cand);
	free_ = cand + f->nservers;
	n = tier_candidates(f, tried, ntried, cand, &u, now);
	for (size_t i = 0; i < n; i++)
		if (server_has_slot(cand[i]))
			free_[nfree++] = cand[i];
	if (n > 0 && f->conf->stickiness == STICK_SOURCE) {
		s = stick_get(f, client, now);
		if (s != NULL && !set_has(cand, n, sizeof *cand, &s, NULL))
			s = NULL;
	}
	if (s == NULL && nfree > 0)
		s = pick(f, free_, nfree, client, &u, now);
	else if (s == NULL && n > 0)
		s = pick(f, cand, n, client, &u, now);
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
stick_expired(void *e, const void *now)
{
	return ((struct stick_entry *)e)->expire <= *(const uint64_t *)now;
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
stick_of(void *e, const void *srv)
{
	return ((struct stick_entry *)e)->srv == srv;
}

/* A server leaving the farm must not be found by its old clients. */
void
stick_forget(struct rt_farm *f, const struct rt_server *s)
{
	if (f->stick != NULL)
		(void)htable_expire(&f->stick->t, stick_of, s);
}

void
stick_free(struct stick *t)
{
	if (t != NULL)
		htable_clear(&t->t);
	free(t);
}
