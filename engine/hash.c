/* The hash table of client addresses: see hash.h. */
#include <stdlib.h>

#include "hash.h"
#include "util.h"

#define HTABLE_MIN	64	/* buckets of a table's first entry */

uint64_t
hash_bytes(const void *p, size_t len, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

uint64_t
hash_addr(const struct mxaddr *a)
{
	return hash_bytes(a->family == AF_INET ? (const void *)&a->v4 :
	    (const void *)&a->v6, a->family == AF_INET ? 4 : 16,
	    0xcbf29ce484222325ULL);
}

void
htable_init(struct htable *t, size_t size, size_t max)
{
	t->b = NULL;
	t->nb = t->n = 0;
	t->max = max;
	t->size = size;
}

static bool
all_dead(void *e, const void *arg)
{
	(void)e;
	(void)arg;
	return true;
}

void
htable_clear(struct htable *t)
{
	(void)htable_expire(t, all_dead, NULL);
	free(t->b);
	t->b = NULL;
	t->nb = 0;
}

static struct hnode **
bucket(const struct htable *t, const struct mxaddr *a)
{
	return &t->b[hash_addr(a) & (t->nb - 1)];
}

void *
htable_find(const struct htable *t, const struct mxaddr *a)
{
	struct hnode *e;

	if (t->nb == 0)
		return NULL;
	for (e = *bucket(t, a); e != NULL; e = e->next)
		if (addr_cmp(&e->key, a) == 0)
			return e;
	return NULL;
}

/* Twice the buckets: chains stay short, whatever the load. */
static void
grow(struct htable *t)
{
	struct htable old = *t;

	t->nb = old.nb ? old.nb * 2 : HTABLE_MIN;
	t->b = xcalloc(t->nb, sizeof *t->b);
	for (size_t i = 0; i < old.nb; i++) {
		struct hnode *e, *next;
		for (e = old.b[i]; e != NULL; e = next) {
			struct hnode **b = bucket(t, &e->key);
			next = e->next;
			e->next = *b;
			*b = e;
		}
	}
	free(old.b);
}

void *
htable_add(struct htable *t, const struct mxaddr *a)
{
	struct hnode *e, **b;

	if (t->n >= t->max)
		return NULL;
	if (t->n >= t->nb * 2)
		grow(t);
	e = xcalloc(1, t->size);
	e->key = *a;
	b = bucket(t, a);
	e->next = *b;
	*b = e;
	t->n++;
	return e;
}

void
htable_remove(struct htable *t, void *entry)
{
	struct hnode *e = entry, **pe;

	for (pe = bucket(t, &e->key); *pe != NULL; pe = &(*pe)->next)
		if (*pe == e) {
			*pe = e->next;
			free(e);
			t->n--;
			return;
		}
}

size_t
htable_expire(struct htable *t, bool (*dead)(void *, const void *),
    const void *arg)
{
	size_t gone = 0;

	for (size_t i = 0; i < t->nb; i++) {
		struct hnode **pe = &t->b[i], *e;
		while ((e = *pe) != NULL) {
			if (dead(e, arg)) {
				*pe = e->next;
				free(e);
				gone++;
			} else
				pe = &e->next;
		}
	}
	t->n -= gone;
	return gone;
}
