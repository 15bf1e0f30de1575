/*
 * A config as the command lines that build it: `show running` and
 * `show candidate` print them, `show diff` compares them, and piping them
 * back into mxlb rebuilds the same config.  One line per object, so a
 * changed attribute shows as that object's line, removed and added.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

/* Only set fields: "unset" survives the round trip. */
static void
append_fields(char **line, const struct fieldset *fs, const void *obj)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct field *f = &fs->f[i];
		char *v, *t;
		if ((f->flags & F_KEY) || !field_isset(fs, obj, f))
			continue;
		if (f->type == FT_FLAG)
			t = xasprintf("%s %s", *line, f->key);
		else {
			v = field_format(f, obj);
			t = xasprintf("%s %s %s", *line, f->key, v);
			free(v);
		}
		free(*line);
		*line = t;
	}
}

static void
push(char ***v, size_t *n, char *line)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = line;
}

char **
config_script(const struct config *c, size_t *np)
{
	char **v = NULL, *line, addr[ADDR_STRLEN];
	size_t n = 0;

	for (size_t i = 0; i < c->nfarms; i++) {
		const struct farm *f = c->farms[i];
		line = xasprintf("farm add %s zone %s", f->name, c->zone);
		append_fields(&line, &farm_fields, f);
		push(&v, &n, line);
		for (size_t j = 0; j < f->nservers; j++) {
			addr_format(&f->servers[j]->address, addr, sizeof addr);
			line = xasprintf("server add %s %s", f->name, addr);
			append_fields(&line, &server_fields, f->servers[j]);
			push(&v, &n, line);
		}
	}
	for (size_t i = 0; i < c->nfrontends; i++) {
		const struct frontend *fe = c->frontends[i];
		line = xasprintf("frontend add %s zone %s", fe->name, c->zone);
		append_fields(&line, &frontend_fields, fe);
		push(&v, &n, line);
	}
	*np = n;
	return v;
}

void
script_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
