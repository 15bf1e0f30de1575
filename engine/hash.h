/*
 * The engine's one hash table, keyed by client address: the stick table
 * (balance.c) and the per-source limits (limit.c).  Chained buckets,
 * doubled as entries come; an entry is the caller's struct with a struct
 * hnode first, allocated and freed by the table.  At most `max` entries:
 * memory stays bounded whatever sources connect.
 */
#ifndef MXLB_HASH_H
#define MXLB_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct hnode {
	struct hnode	*next;
	struct mxaddr	 key;
};

struct htable {
	struct hnode	**b;
	size_t		  nb;		/* buckets: 0, or a power of two */
	size_t		  n;		/* entries */
	size_t		  max;		/* entries at most */
	size_t		  size;		/* of an entry, its hnode first */
};

void	 htable_init(struct htable *, size_t size, size_t max);
void	 htable_clear(struct htable *);
void	*htable_find(const struct htable *, const struct mxaddr *);
/* A new zeroed entry for a key not in the table; NULL when it is full. */
void	*htable_add(struct htable *, const struct mxaddr *);
void	 htable_remove(struct htable *, void *);
/* Frees the entries dead(entry, arg) says are over; returns how many. */
size_t	 htable_expire(struct htable *, bool (*dead)(void *, const void *),
	    const void *arg);

/* FNV-1a with a final mix, so close inputs land far apart. */
uint64_t hash_bytes(const void *, size_t, uint64_t seed);
uint64_t hash_addr(const struct mxaddr *);

#endif
