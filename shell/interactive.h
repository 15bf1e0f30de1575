/* The interactive shell on a terminal (interactive.c, libedit). */
#ifndef MXLB_INTERACTIVE_H
#define MXLB_INTERACTIVE_H

#include "shell.h"

int	interactive(struct shell *);
void	print_cands(FILE *, const struct cands *);

#endif
