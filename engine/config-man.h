/* The config file's man page, mxlb.json(5), derived from the field tables. */
#ifndef MXLB_CONFIG_MAN_H
#define MXLB_CONFIG_MAN_H

#include <stdio.h>

/* The page's EXAMPLE: a valid zone (the unit tests load it). */
extern const char config_man_example[];

/* Writes the page in man(7) roff; -1 on a write error. */
int	 config_man(FILE *);

#endif
