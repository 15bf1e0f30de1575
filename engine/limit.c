/*
 * Per-source limits, the load balancer's answer to Postfix's anvil: how
 * many sessions one client address has open, and how many it opened in
 * the last minute.  Entries live while they count for something.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define RATE_WINDOW	60000	/* ms: per minute, like anvil_rate_time_unit */
#define SRC_MAX		(1 << 20)	/* entries: a flood of sources is bounded */

struct src {
	struct mxaddr	 addr;
	uint32_t	 conns;
	uint32_t	 cur, prev;	/* sessions in this and the last window */
	uint64_t	 window;	/* start of the current window */
	struct src	*next;
};

struct srctable {
	struct src	**b;
	size_t		  nb;		/* buckets, power of two */
	size_t		  n;
};

struct srctable *
srctable_new(void)
{
	struct srctable *t = xcalloc(1, sizeof *t);

	t->nb = 256;
	t->b = xcalloc(t->nb, sizeof *t->b);
	return t;
}

void
srctable_free(struct srctable *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nb; i++) {
		struct src *e, *next;
		for (e = t->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->b);
	free(t);
}

static size_t
src_bucket(const struct srctable *t, const struct mxaddr *a)
{
	const uint8_t *p = a->family == AF_INET ? (const uint8_t *)&a->v4 :
	    (const uint8_t *)&a->v6;
	size_t len = a->family == AF_INET ? 4 : 16;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (t->nb - 1);
}

static void
src_grow(struct srctable *t)
{
	struct srctable old = *t;

	t->nb *= 2;
	t->b = xcalloc(t->nb, sizeof *t->b);
	for (size_t i = 0; i < old.nb; i++) {
		struct src *e, *next;
		for (e = old.b[i]; e != NULL; e = next) {
			size_t j = src_bucket(t, &e->addr);
			next = e->next;
			e->next = t->b[j];
			t->b[j] = e;
		}
	}
	free(old.b);
}

static struct src *
src_find(struct srctable *t, const struct mxaddr *a, bool create)
{
	size_t i = src_bucket(t, a);
	struct src *e;

	for (e = t->b[i]; e != NULL; e = e->next)
		if (addr_cmp(&e->addr, a) == 0)
			return e;
	if (!create || t->n >= SRC_MAX)
		return NULL;
	if (t->n >= t->nb * 2) {
		src_grow(t);
		i = src_bucket(t, a);
	}
	e = xcalloc(1, sizeof *e);
	e->addr = *a;
	e->next = t->b[i];
	t->b[i] = e;
	t->n++;
	return e;
}

static void
src_roll(struct src *e, uint64_t now)
{
	if (now - e->window >= 2 * RATE_WINDOW) {
		e->prev = e->cur = 0;
		e->window = now;
	} else if (now - e->window >= RATE_WINDOW) {
		e->prev = e->cur;
		e->cur = 0;
		e->window += RATE_WINDOW;
	}
}

/* Sessions in the last minute: the previous window weighted by how much of
 * it the sliding minute still covers, plus the current one. */
static uint64_t
src_rate(const struct src *e, uint64_t now)
{
	uint64_t into = now - e->window;

	return (uint64_t)e->prev * (RATE_WINDOW - into) / RATE_WINDOW + e->cur;
}

enum refusal
srctable_admit(struct srctable *t, const struct frontend *fe,
    const struct mxaddr *a, uint64_t now, bool *counted)
{
	const struct fieldset *fs = &frontend_fields;
	bool maxconn = FIELD_ISSET(fs, fe, "source-maxconn");
	bool rate = FIELD_ISSET(fs, fe, "source-rate");
	struct src *e;

	*counted = false;
	if (!maxconn && !rate)
		return REFUSE_MAX;
	if ((e = src_find(t, a, true)) == NULL)
		return REFUSE_MAX;	/* table full: fail open, still bounded */
	src_roll(e, now);
	if (maxconn && e->conns >= (uint64_t)fe->source_maxconn)
		return REFUSE_SOURCE_MAXCONN;
	if (rate && src_rate(e, now) >= (uint64_t)fe->source_rate)
		return REFUSE_SOURCE_RATE;
	e->conns++;
	e->cur++;
	*counted = true;
	return REFUSE_MAX;
}

void
srctable_release(struct srctable *t, const struct mxaddr *a)
{
	struct src *e = src_find(t, a, false);

	if (e != NULL && e->conns > 0)
		e->conns--;
}

/* Drops entries with no session and nothing left in the rate windows. */
void
srctable_sweep(struct srctable *t, uint64_t now)
{
	for (size_t i = 0; i < t->nb; i++) {
		struct src **pe = &t->b[i], *e;
		while ((e = *pe) != NULL) {
			src_roll(e, now);
			if (e->conns == 0 && e->cur == 0 && e->prev == 0) {
				*pe = e->next;
				free(e);
				t->n--;
			} else
				pe = &e->next;
		}
	}
}
