/*
 * Per-source limits, the load balancer's answer to Postfix's anvil: how
 * many sessions one client address has open, and how many it opened in
 * the last minute.  Entries live while they count for something.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hash.h"

#define RATE_WINDOW	60000	/* ms: per minute, like anvil_rate_time_unit */
#define SRC_MAX		(1 << 20)	/* entries: a flood of sources is bounded */

struct src {
	struct hnode	 node;		/* the client address */
	uint32_t	 conns;
	uint32_t	 cur, prev;	/* sessions in this and the last window */
	uint64_t	 window;	/* start of the current window */
};

struct srctable {
	struct htable	 t;
};

struct srctable *
srctable_new(void)
{
	struct srctable *t = xcalloc(1, sizeof *t);

	htable_init(&t->t, sizeof(struct src), SRC_MAX);
	return t;
}

void
srctable_free(struct srctable *t)
{
	if (t == NULL)
		return;
	htable_clear(&t->t);
	free(t);
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
	if ((e = htable_find(&t->t, a)) == NULL &&
	    (e = htable_add(&t->t, a)) == NULL)
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
	struct src *e = htable_find(&t->t, a);

	if (e != NULL && e->conns > 0)
		e->conns--;
}

static bool
src_idle(void *entry, const void *now)
{
	struct src *e = entry;

	src_roll(e, *(const uint64_t *)now);
	return e->conns == 0 && e->cur == 0 && e->prev == 0;
}

/* Drops entries with no session and nothing left in the rate windows. */
void
srctable_sweep(struct srctable *t, uint64_t now)
{
	(void)htable_expire(&t->t, src_idle, &now);
}
