/*
 * A config as the command lines that build it: `show running` and
 * `show candidate` print them, and piping them back into mxlb rebuilds
 * the same config.  `show diff` is structural (Junos' `show | compare`):
 * the commands that turn running into the candidate, one per object,
 * a changed attribute as a `set` of that attribute only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

/* MARK, the command's words, then the rest: the words come from the
 * command's declaration, so the lines are typed as the grammar reads. */
static char *cmd_line(const char *, const struct cmd_entry *, const char *,
    ...) __attribute__((format(printf, 3, 4)));

static char *
cmd_line(const char *mark, const struct cmd_entry *c, const char *fmt, ...)
{
	char words[64], *rest, *line;
	va_list ap;

	cmd_words(c, words, sizeof words);
	va_start(ap, fmt);
	rest = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("%s%s%s", mark, words, rest);
	free(rest);
	return line;
}

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
	*ARRAY_PUSH(*v, *n) = line;
}

char **
config_script(const struct config *c, size_t *np)
{
	char **v = NULL, *line, addr[ADDR_STRLEN];
	size_t n = 0;

	for (size_t i = 0; i < c->nfarms; i++) {
		const struct farm *f = c->farms[i];
		line = cmd_line("", &cmd_farm_add, " %s zone %s", f->name,
		    c->zone);
		append_fields(&line, &farm_fields, f);
		push(&v, &n, line);
		for (size_t j = 0; j < f->nservers; j++) {
			addr_format(&f->servers[j]->address, addr, sizeof addr);
			/* The zone word on every server: the script replays
			 * into a zone that has a farm of the same name in
			 * another zone (change the zone words only). */
			line = cmd_line("", &cmd_server_add, " %s %s zone %s",
			    f->name, addr, c->zone);
			append_fields(&line, &server_fields, f->servers[j]);
			push(&v, &n, line);
		}
	}
	for (size_t i = 0; i < c->nfrontends; i++) {
		const struct frontend *fe = c->frontends[i];
		line = cmd_line("", &cmd_frontend_add, " %s zone %s", fe->name,
		    c->zone);
		append_fields(&line, &frontend_fields, fe);
		push(&v, &n, line);
	}
	*np = n;
	return v;
}

/* " weight 3 no maxconn": the attributes of b that differ from a. */
static char *
fields_diff(const struct fieldset *fs, const void *a, const void *b)
{
	char *line = xstrdup(""), *t, *v;

	for (size_t i = 0; i < fs->n; i++) {
		const struct field *f = &fs->f[i];
		bool sa = field_isset(fs, a, f), sb = field_isset(fs, b, f);
		if ((f->flags & F_KEY) || (sa == sb && (!sb ||
		    field_equal(f, a, b))))
			continue;
		if (!sb)
			t = xasprintf("%s no %s", line, f->key);
		else if (f->type == FT_FLAG)
			t = xasprintf("%s %s", line, f->key);
		else {
			v = field_format(f, b);
			t = xasprintf("%s %s %s", line, f->key, v);
			free(v);
		}
		free(line);
		line = t;
	}
	return line;
}

/* "MARK PREFIX ATTRS": only when there are attributes to write. */
static void
push_set(char ***v, size_t *n, const char *prefix, char *attrs)
{
	if (*attrs != '\0')
		push(v, n, xasprintf("%s%s", prefix, attrs));
	free(attrs);
}

static char *
server_line(const struct farm *f, const struct server *s, const char *zone)
{
	char addr[ADDR_STRLEN], *line;

	addr_format(&s->address, addr, sizeof addr);
	line = cmd_line("+ ", &cmd_server_add, " %s %s zone %s", f->name, addr,
	    zone);
	append_fields(&line, &server_fields, s);
	return line;
}

/* One farm present on both sides: its attributes, then its servers,
 * matched by name (a new address under the same name: removed, added). */
static void
farm_diff(char ***v, size_t *n, const struct farm *a, const struct farm *b,
    const char *zone, const char *zw)
{
	char *pre = cmd_line("", &cmd_farm_set, " %s%s", b->name, zw);

	push_set(v, n, pre, fields_diff(&farm_fields, a, b));
	free(pre);
	for (size_t i = 0; i < a->nservers; i++) {
		const struct server *sa = a->servers[i];
		const struct server *sb = farm_server(b, server_name(sa));
		if (sb == NULL || addr_cmp(&sa->address, &sb->address) != 0)
			push(v, n, cmd_line("- ", &cmd_no_server, " %s %s%s",
			    a->name, server_name(sa), zw));
	}
	for (size_t i = 0; i < b->nservers; i++) {
		const struct server *sb = b->servers[i];
		const struct server *sa = farm_server(a, server_name(sb));
		if (sa == NULL || addr_cmp(&sa->address, &sb->address) != 0)
			push(v, n, server_line(b, sb, zone));
		else {
			pre = cmd_line("", &cmd_server_set, " %s %s%s", b->name,
			    server_name(sb), zw);
			push_set(v, n, pre, fields_diff(&server_fields, sa, sb));
			free(pre);
		}
	}
}

/*
 * The commands that make running (a) into the candidate (b), in an order
 * that replays: new farms and their servers, changed farms, removed
 * frontends, changed and new frontends, removed farms.  Added objects
 * read "+ ", removed ones "- ", a change is the bare `set` command; after
 * the mark each line is a command as typed.  With zone_words, the lines
 * that name a farm or frontend say their zone: for names that are in more
 * than one zone.
 */
char **
config_diff(const struct config *a, const struct config *b, bool zone_words,
    size_t *np)
{
	char **v = NULL, *line, *zw = zone_words ? xasprintf(" zone %s",
	    b->zone) : xstrdup("");
	size_t n = 0;

	for (size_t i = 0; i < b->nfarms; i++) {
		const struct farm *fb = b->farms[i];
		const struct farm *fa = config_farm(a, fb->name);
		if (fa != NULL) {
			farm_diff(&v, &n, fa, fb, b->zone, zw);
			continue;
		}
		line = cmd_line("+ ", &cmd_farm_add, " %s zone %s", fb->name,
		    b->zone);
		append_fields(&line, &farm_fields, fb);
		push(&v, &n, line);
		for (size_t j = 0; j < fb->nservers; j++)
			push(&v, &n, server_line(fb, fb->servers[j], b->zone));
	}
	for (size_t i = 0; i < a->nfrontends; i++)
		if (config_frontend(b, a->frontends[i]->name) == NULL)
			push(&v, &n, cmd_line("- ", &cmd_no_frontend, " %s%s",
			    a->frontends[i]->name, zw));
	for (size_t i = 0; i < b->nfrontends; i++) {
		const struct frontend *fb = b->frontends[i];
		const struct frontend *fa = config_frontend(a, fb->name);
		if (fa != NULL) {
			line = cmd_line("", &cmd_frontend_set, " %s%s",
			    fb->name, zw);
			push_set(&v, &n, line, fields_diff(&frontend_fields, fa,
			    fb));
			free(line);
			continue;
		}
		line = cmd_line("+ ", &cmd_frontend_add, " %s zone %s",
		    fb->name, b->zone);
		append_fields(&line, &frontend_fields, fb);
		push(&v, &n, line);
	}
	for (size_t i = 0; i < a->nfarms; i++)
		if (config_farm(b, a->farms[i]->name) == NULL)
			push(&v, &n, cmd_line("- ", &cmd_no_farm, " %s%s",
			    a->farms[i]->name, zw));
	free(zw);
	*np = n;
	return v;
}

/* Pending changes: the lines of `show diff`, so the prompt, `show zones`
 * and `update` count the same thing. */
size_t
zone_changes(const struct zone *z)
{
	size_t n;
	char **v = config_diff(z->running, z->cand, false, &n);

	script_free(v, n);
	return n;
}

void
script_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
