/*
 * Choosing a server: MX-style priority tiers, then the farm's algorithm
 * within the lowest tier that has a server available.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static bool
was_tried(const struct rt_server *s, struct rt_server *const *tried, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tried[i] == s)
			return true;
	return false;
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

static uint64_t
hash64(const void *p, size_t len, uint64_t h)
{
	const unsigned char *b = p;

	/* FNV-1a, then a final mix so close inputs land far apart. */
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
addr_hash(const struct mxaddr *a)
{
	return hash64(a->family == AF_INET ? (const void *)&a->v4 :
	    (const void *)&a->v6, a->family == AF_INET ? 4 : 16,
	    0xcbf29ce484222325ULL);
}

/* Weighted rendezvous hashing: a client keeps its server while that server
 * stays, and only the clients of a server that goes move elsewhere. */
static struct rt_server *
pick_source(struct rt_server **c, size_t n, const struct mxaddr *client,
    uint64_t now)
{
	uint64_t ch = addr_hash(client);
	struct rt_server *best = NULL;
	double best_score = -1;

	for (size_t i = 0; i < n; i++) {
		const char *name = server_name(c[i]->conf);
		uint64_t h = hash64(name, strlen(name), ch);
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
		h = hash64("ramp", 4, addr_hash(client));
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

static bool
candidate(const struct rt_server *s, struct rt_server *const *tried,
    size_t ntried)
{
	return server_available(s) && !was_tried(s, tried, ntried);
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

static bool
in_set(struct rt_server *s, struct rt_server **c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i] == s)
			return true;
	return false;
}

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
		if (s != NULL && !in_set(s, cand, n))
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
 * Open addressing with linear probing; expired entries are reused.
 */
struct stick_entry {
	struct mxaddr	  addr;
	struct rt_server *srv;
	uint64_t	  expire;
};

struct stick {
	struct stick_entry *v;
	size_t		    size;	/* power of two */
	size_t		    used;
};

static struct stick_entry *
stick_slot(struct stick *t, const struct mxaddr *a, uint64_t now, bool create)
{
	size_t mask = t->size - 1, i = addr_hash(a) & mask;
	struct stick_entry *reuse = NULL;

	for (size_t k = 0; k < t->size; k++, i = (i + 1) & mask) {
		struct stick_entry *e = &t->v[i];
		if (e->srv == NULL)
			return create ? (reuse ? reuse : e) : NULL;
		if (addr_cmp(&e->addr, a) == 0)
			return e;
		if (reuse == NULL && e->expire <= now)
			reuse = e;
	}
	return create ? reuse : NULL;
}

static void
stick_grow(struct stick *t, uint64_t now)
{
	struct stick old = *t;

	t->size = old.size ? old.size * 2 : 256;
	t->v = xcalloc(t->size, sizeof *t->v);
	t->used = 0;
	for (size_t i = 0; i < old.size; i++) {
		if (old.v[i].srv != NULL && old.v[i].expire > now) {
			*stick_slot(t, &old.v[i].addr, now, true) = old.v[i];
			t->used++;
		}
	}
	free(old.v);
}

static struct rt_server *
stick_get(struct rt_farm *f, const struct mxaddr *a, uint64_t now)
{
	struct stick_entry *e;

	if (f->stick == NULL)
		return NULL;
	e = stick_slot(f->stick, a, now, false);
	return e != NULL && e->expire > now ? e->srv : NULL;
}

static void
stick_put(struct rt_farm *f, const struct mxaddr *a, struct rt_server *s,
    uint64_t now)
{
	struct stick_entry *e;

	if (f->stick == NULL)
		f->stick = xcalloc(1, sizeof *f->stick);
	if ((f->stick->used + 1) * 4 > f->stick->size * 3 &&
	    f->stick->size < STICK_MAX)
		stick_grow(f->stick, now);
	if ((e = stick_slot(f->stick, a, now, true)) == NULL)
		return;		/* full of live entries: no stickiness */
	if (e->srv == NULL)
		f->stick->used++;
	e->addr = *a;
	e->srv = s;
	e->expire = now + STICK_MS;
}

/* A server leaving the farm must not be found by its old clients. */
void
stick_forget(struct rt_farm *f, const struct rt_server *s)
{
	if (f->stick == NULL)
		return;
	for (size_t i = 0; i < f->stick->size; i++)
		if (f->stick->v[i].srv == s)
			f->stick->v[i].expire = 0;
}

void
stick_free(struct stick *t)
{
	if (t != NULL)
		free(t->v);
	free(t);
}
