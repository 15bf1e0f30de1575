/* help, exit, quit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

static int
help(struct shell *sh, const struct parsed *p)
{
	(void)p;
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		fprintf(sh->out, "%s\n    %s\n", cmd_usage(cmd_table[i]),
		    cmd_table[i]->help);
	fprintf(sh->out, "\nWords may be shortened to any unique prefix "
	    "(sh run); '?' lists what may come next; TAB completes.\n");
	return 0;
}

const struct cmd_entry cmd_help = {
	.words = { "help" },
	.help = "every command, with what it does",
	.exec = help,
	.example = "help",
};

static int
leave(struct shell *sh, const struct parsed *p)
{
	(void)p;
	sh->quit = true;
	return 0;
}

const struct cmd_entry cmd_exit = {
	.words = { "exit" },
	.help = "leave the shell (asks first if edits are not applied)",
	.exec = leave,
	.example = "exit",
};

const struct cmd_entry cmd_quit = {
	.words = { "quit" },
	.help = "leave the shell (asks first if edits are not applied)",
	.exec = leave,
	.example = "quit",
};
