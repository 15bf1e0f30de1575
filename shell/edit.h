/* Helpers shared by the editing commands (edit.c). */
#ifndef MXLB_EDIT_H
#define MXLB_EDIT_H

#include "shell.h"

int	 attrs_apply(const struct fieldset *, void *, const struct parsed *,
	    char *, size_t);
int	 name_free(struct shell *, struct zone *, const char *, char *,
	    size_t);
struct zone *farm_find(struct shell *, const char *, const char *,
	    struct farm **);
struct zone *frontend_find(struct shell *, const char *, const char *,
	    struct frontend **);

/*
 * `zone ZONE` after a command's names: which zone's farm or frontend is
 * meant where the name is in more than one zone.  An option, not a
 * positional, because `farm add NAME zone ZONE` already spells the zone
 * that way, options come after the names in every command, and a name
 * unique across zones then needs nothing more.
 */
extern const struct opt zone_which_opt[];
int	 zone_check(struct zone *, char *, size_t);
struct zone *zone_for_edit(struct shell *, const char *, char *, size_t);

#endif
