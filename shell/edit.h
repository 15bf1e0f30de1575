/* Helpers shared by the editing commands (edit.c). */
#ifndef MXLB_EDIT_H
#define MXLB_EDIT_H

#include "shell.h"

int	 attrs_apply(const struct fieldset *, void *, const struct parsed *,
	    char *, size_t);
int	 name_free(struct shell *, const char *, char *, size_t);
int	 zone_check(struct zone *, char *, size_t);
struct zone *zone_for_edit(struct shell *, const char *, char *, size_t);

#endif
