/*
 * For cmocka tests of what validation reports (struct errs): is a message
 * among the errors, and fail listing them all when it is not.  Include
 * after <cmocka.h>.
 */
#ifndef MXLB_EXPECT_ERRS_H
#define MXLB_EXPECT_ERRS_H

#include <stdbool.h>
#include <string.h>

#include "util.h"

static void
errs_print(const struct errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		print_message("  error: %s\n", e->v[i]);
}

static bool
errs_has(const struct errs *e, const char *msg)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i], msg) == 0)
			return true;
	return false;
}

/* Fails, listing what was reported instead, unless msg is among e. */
static void
expect_error(const struct errs *e, const char *msg)
{
	if (!errs_has(e, msg)) {
		print_message("expected: %s\ngot %zu error(s):\n", msg, e->n);
		errs_print(e);
		fail();
	}
}

#endif
