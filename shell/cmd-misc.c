/* help, exit, quit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
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

/* roff text: backslashes and dashes escaped, no line starting with '. */
static void
roff(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void
fields_man(FILE *f, const struct fieldset *fs)
{
	fprintf(f, ".SS %s attributes\n", fs->kind);
	for (size_t i = 0; i < fs->n; i++) {
		const struct field *fd = &fs->f[i];
		char *allowed = field_allowed(fd);
		fputs(".TP\n.B \"", f);
		roff(f, fd->key);
		if (fd->type != FT_FLAG) {
			fputs(" ", f);
			roff(f, fd->type == FT_ENUM ? allowed : fd->meta);
		}
		fputs("\"\n", f);
		roff(f, fd->help);
		fputs(". Allowed: ", f);
		roff(f, allowed);
		if (fd->def != NULL) {
			fputs(". Default: ", f);
			roff(f, fd->def);
		}
		fputs(".\n", f);
		free(allowed);
	}
}

/* `mxlb __man`: the command and attribute reference of mxlb(1), from the
 * same tables the parser uses. */
void
grammar_man(FILE *f)
{
	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		fputs(".TP\n.B \"", f);
		roff(f, cmd_usage(cmd_table[i]));
		fputs("\"\n", f);
		roff(f, cmd_table[i]->help);
		fputs(".\n.br\nExample:\n.B \"", f);
		roff(f, cmd_table[i]->example);
		fputs("\"\n", f);
	}
	fputs(".SH ATTRIBUTES\n", f);
	fields_man(f, &farm_fields);
	fields_man(f, &server_fields);
	fields_man(f, &frontend_fields);
}

/* `mxlb __names admin|probe`: the states as the man page lists them, from
 * the tables the engine uses; -1 for another word. */
int
grammar_man_names(FILE *f, const char *family)
{
	char buf[256];

	if (strcmp(family, "admin") == 0)
		names_join(buf, sizeof buf, admin_names, ADMIN_MAX, ", ");
	else if (strcmp(family, "probe") == 0)	/* unchecked has its own words */
		names_join(buf, sizeof buf, pstate_names, PSTATE_UNCHECKED, ", ");
	else
		return -1;
	fprintf(f, "%s\n", buf);
	return 0;
}
