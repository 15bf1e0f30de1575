/*
 * Matching words against the command declarations.  One walker serves the
 * parser and the `?`/TAB helpers: it consumes the words it is given and,
 * where they run out, says what may come next.  Everywhere an exact
 * keyword beats a prefix, a unique prefix is accepted, and an ambiguous
 * one lists its candidates.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

/* Help for keywords that are not the last of a command path. */
static const struct {
	const char *kw, *help;
} keyword_help[] = {
	{ "farm", "farms: pools of mail servers" },
	{ "server", "servers of a farm" },
	{ "frontend", "frontends: where clients connect" },
	{ "no", "delete an object" },
	{ "zone", "zones: one engine each" },
	{ "show", "show configs, state and counters" },
};

static const char *
kw_help(const char *kw)
{
	for (size_t i = 0; i < nitems(keyword_help); i++)
		if (strcmp(keyword_help[i].kw, kw) == 0)
			return keyword_help[i].help;
	return "";
}

/* Splits a line into words: quotes group, # starts a comment. */
int
line_split(const char *line, char ***wordsp, int *np, bool *trailing,
    char *err, size_t errlen)
{
	char **words = NULL, *w;
	int n = 0;
	const char *p = line;
	size_t len;

	*trailing = false;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		w = xmalloc(strlen(p) + 1);
		len = 0;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' &&
		    *p != '\n') {
			if (*p == '"' || *p == '\'') {
				char q = *p++;
				while (*p != '\0' && *p != q)
					w[len++] = *p++;
				if (*p != q) {
					snprintf(err, errlen, "unterminated %c "
					    "quote", q);
					free(w);
					words_free(words, n);
					return -1;
				}
				p++;
			} else
				w[len++] = *p++;
		}
		w[len] = '\0';
		*ARRAY_PUSH(words, n) = w;
	}
	/* A line ending in a space asks about the next word, not this one. */
	len = strlen(line);
	*trailing = len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t');
	*wordsp = words;
	*np = n;
	return 0;
}

void
words_free(char **words, int n)
{
	for (int i = 0; i < n; i++)
		free(words[i]);
	free(words);
}

static void
cand_add(struct cands *c, const char *word, const char *meta,
    const char *help)
{
	struct cand *e;

	for (size_t i = 0; word != NULL && i < c->n; i++)
		if (c->v[i].word != NULL && strcmp(c->v[i].word, word) == 0)
			return;
	e = ARRAY_PUSH(c->v, c->n);
	e->word = word ? xstrdup(word) : NULL;
	e->meta = meta ? xstrdup(meta) : NULL;
	e->help = xstrdup(help ? help : "");
}

void
cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].word);
		free(c->v[i].meta);
		free(c->v[i].help);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/*
 * Resolves word against the candidate keywords: the index of an exact
 * match, else of the unique prefix match; -1 none, -2 ambiguous.
 */
static int
kw_match(const char *word, const char *const *kws, size_t n)
{
	int found = -1;
	size_t len = strlen(word);

	for (size_t i = 0; i < n; i++)
		if (strcmp(kws[i], word) == 0)
			return (int)i;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(kws[i], word, len) == 0) {
			if (found >= 0)
				return -2;
			found = (int)i;
		}
	}
	return found;
}

/* "a, b, c" for messages; a static buffer, one use per message. */
static const char *
kw_list(const char *const *kws, size_t n, const char *prefix)
{
	static char buf[2048];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (prefix && strncmp(kws[i], prefix, strlen(prefix)) != 0)
			continue;
		if (buf[0] != '\0')
			strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
		strncat(buf, kws[i], sizeof buf - strlen(buf) - 1);
	}
	return buf;
}

static bool
kw_in(const char *kw, const char *const *kws, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kws[i], kw) == 0)
			return true;
	return false;
}

struct walk {
	struct shell	*sh;
	char		**words;
	int		  n;
	int		  pos;
	struct parsed	 *p;
	struct cands	 *cands;	/* non-NULL: say what may come next */
	char		 *err;
	size_t		  errlen;
};

static int
werr(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
werr(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, w->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The commands whose path starts with the words chosen so far. */
static size_t
path_matches(const char **chosen, int depth, const struct cmd_entry **out)
{
	size_t n = 0;

	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *c = cmd_table[i];
		int d;
		for (d = 0; d < depth; d++)
			if (c->words[d] == NULL || strcmp(c->words[d], chosen[d]))
				break;
		if (d == depth)
			out[n++] = c;
	}
	return n;
}

static const char *
path_help(const struct cmd_entry **m, size_t n, int depth, const char *kw)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i]->words[depth], kw) == 0 &&
		    (depth == 2 || m[i]->words[depth + 1] == NULL))
			return m[i]->help;
	return kw_help(kw);
}

static int
walk_path(struct walk *w)
{
	static const struct cmd_entry *m[256];
	const char *chosen[3], *kws[256];
	size_t nm, nk;
	int depth, k;

	for (depth = 0; depth < 3; depth++) {
		nm = path_matches(chosen, depth, m);
		nk = 0;
		for (size_t i = 0; i < nm; i++)
			if (m[i]->words[depth] != NULL &&
			    !kw_in(m[i]->words[depth], kws, nk))
				kws[nk++] = m[i]->words[depth];
		if (nk == 0)
			break;
		if (w->pos == w->n) {
			for (size_t i = 0; w->cands && i < nk; i++)
				cand_add(w->cands, kws[i], NULL,
				    path_help(m, nm, depth, kws[i]));
			return w->cands ? 1 : werr(w, "incomplete command: "
			    "%s may follow", kw_list(kws, nk, NULL));
		}
		k = kw_match(w->words[w->pos], kws, nk);
		if (k == -1)
			return werr(w, "unknown %s \"%s\" (%s: %s)",
			    depth ? "keyword" : "command", w->words[w->pos],
			    depth ? "expected" : "commands", kw_list(kws, nk,
			    NULL));
		if (k == -2)
			return werr(w, "ambiguous \"%s\": could be %s",
			    w->words[w->pos], kw_list(kws, nk,
			    w->words[w->pos]));
		chosen[depth] = kws[k];
		w->pos++;
	}
	nm = path_matches(chosen, depth, m);
	w->p->cmd = m[0];
	return 0;
}

/* Names the shell knows, for completion and checks. */
static void
names_of(struct walk *w, enum argtype t, struct cands *out)
{
	struct shell *sh = w->sh;

	for (size_t z = 0; z < sh->nzones; z++) {
		struct zone *zn = sh->zones[z];
		struct config *c = zn->cand;
		if (t == A_ZONE || t == A_ZONE_ALL)
			cand_add(out, zn->name, NULL, zn->up ? "zone, engine up" :
			    "zone, engine not reached");
		char *h = xasprintf("%s in zone %s", t == A_FARM ? "farm" :
		    "frontend", zn->name);
		for (size_t i = 0; c && t == A_FARM && i < c->nfarms; i++)
			cand_add(out, c->farms[i]->name, NULL, h);
		for (size_t i = 0; c && t == A_FRONTEND && i < c->nfrontends;
		    i++)
			cand_add(out, c->frontends[i]->name, NULL, h);
		free(h);
	}
	if (t == A_ZONE_ALL)
		cand_add(out, "all", NULL, "every zone with changes");
	for (size_t z = 0; t == A_SERVER && w->p->args[0] != NULL &&
	    z < sh->nzones; z++) {
		struct farm *f = config_farm(sh->zones[z]->cand, w->p->args[0]);
		for (size_t i = 0; f != NULL && i < f->nservers; i++)
			cand_add(out, server_name(f->servers[i]), NULL,
			    "server");
	}
}

/* Direct lookups: a 10,000-line script must not cost farms squared. */
static bool
known_name(struct walk *w, enum argtype t, const char *word)
{
	struct farm *f = NULL;

	switch (t) {
	case A_ZONE_ALL:
		if (strcmp(word, "all") == 0)
			return true;
		/* FALLTHROUGH */
	case A_ZONE:
		return shell_zone(w->sh, word) != NULL;
	case A_FARM:
		return zone_of_farm(w->sh, word, NULL) != NULL;
	case A_FRONTEND:
		return zone_of_frontend(w->sh, word, NULL) != NULL;
	case A_SERVER:
		/* The farm's name may be in several zones (the command's
		 * `zone` comes later): a server of any of them. */
		for (size_t i = 0; w->p->args[0] != NULL && i < w->sh->nzones;
		    i++)
			if ((f = config_farm(w->sh->zones[i]->cand,
			    w->p->args[0])) != NULL && farm_server(f, word) !=
			    NULL)
				return true;
		return false;
	default:
		return false;
	}
}

static const char *
type_meta(enum argtype t)
{
	static const char *const metas[] = { "", "NAME", "FARM", "SERVER",
	    "FRONTEND", "ZONE", "ZONE|all", "ADDRESS", "PORTS", "SEC", "N",
	    "TEXT", "VALUE" };
	return metas[t];
}

static const char *
type_noun(enum argtype t)
{
	switch (t) {
	case A_FARM: return "farm";
	case A_SERVER: return "server in that farm";
	case A_FRONTEND: return "frontend";
	default: return "zone";
	}
}

/* What may stand for an argument or option value: placeholder or names. */
static void
value_cands(struct walk *w, enum argtype t, const struct field *f,
    const char *meta, const char *help)
{
	char *allowed, *m;

	if (t == A_FIELD && f->type == FT_ENUM) {
		for (size_t i = 0; f->enums[i] != NULL; i++)
			cand_add(w->cands, f->enums[i], NULL, f->help);
		return;
	}
	if (t == A_FARM || t == A_SERVER || t == A_FRONTEND || t == A_ZONE ||
	    t == A_ZONE_ALL)
		names_of(w, t, w->cands);
	if (t == A_FIELD && f->type == FT_SOURCE) {
		/* The one word it takes, then any address. */
		cand_add(w->cands, "client", NULL, f->help);
		cand_add(w->cands, NULL, "<ADDRESS>", f->help);
		return;
	}
	if (t == A_FIELD) {
		allowed = field_allowed(f);
		m = xasprintf("<%s>", f->meta ? f->meta : "VALUE");
		cand_add(w->cands, NULL, m, f->help);
		free(m);
		free(allowed);
		return;
	}
	m = xasprintf("<%s>", meta ? meta : type_meta(t));
	cand_add(w->cands, NULL, m, help);
	free(m);
}

/* Checks one value; returns it in canonical form (an enum's full name). */
static const char *
check_value(struct walk *w, enum argtype t, const struct fieldset *fs,
    const struct field *f, const char *word, const char *meta)
{
	char msg[FIELD_ERRLEN];
	struct mxaddr a;
	struct portlist pl = { 0, NULL };
	void *obj;
	int k, rc;

	switch (t) {
	case A_NEWNAME:
		if (name_valid(word))
			return word;
		werr(w, "\"%s\" is not a valid %s (" NAME_RULE ")",
		    word, meta ? meta : "name");
		return NULL;
	case A_FARM: case A_SERVER: case A_FRONTEND: case A_ZONE:
	case A_ZONE_ALL:
		if (known_name(w, t, word))
			return word;
		if (t == A_ZONE && name_valid(word)) {
			werr(w, "zone %s has no engine: start one with 'mxlbd -z "
			    "%s' (or 'systemctl start mxlbd@%s'); zones are "
			    "found in %s", word, word, word, w->sh->rundir);
			return NULL;
		}
		{
			struct cands c = { NULL, 0 };
			char list[1024] = "";
			names_of(w, t, &c);
			for (size_t i = 0; i < c.n; i++)
				snprintf(list + strlen(list), sizeof list -
				    strlen(list), "%s%s", i ? ", " : "",
				    c.v[i].word);
			werr(w, "no %s \"%s\" (known: %s)", type_noun(t), word,
			    c.n ? list : "none");
			cands_free(&c);
		}
		return NULL;
	case A_ADDRESS:
		if (addr_parse(&a, word, msg, sizeof msg) == 0)
			return word;
		werr(w, "%s", msg);
		return NULL;
	case A_PORTS:
		rc = portlist_parse(&pl, word, PORT_MIN, PORT_MAX, msg,
		    sizeof msg);
		free(pl.v);
		if (rc == 0)
			return word;
		werr(w, "%s", msg);
		return NULL;
	case A_SEC:
	case A_UINT:
		for (const char *p = word; *p; p++)
			if (!isdigit((unsigned char)*p))
				break;
			else if (p[1] == '\0' && p - word < 9)
				return word;
		werr(w, "\"%s\" is not %s", word, t == A_SEC ?
		    "a number of seconds" : "a number");
		return NULL;
	case A_FIELD:
		if (f->type == FT_ENUM) {
			size_t n = 0;
			while (f->enums[n] != NULL)
				n++;
			if ((k = kw_match(word, f->enums, n)) >= 0)
				return f->enums[k];
			werr(w, "%s \"%s\" is %s (allowed: %s)", f->key, word,
			    k == -2 ? "ambiguous" : "not one of the choices",
			    kw_list(f->enums, n, k == -2 ? word : NULL));
			return NULL;
		}
		obj = object_new(fs);
		rc = field_parse(fs, obj, f, word, msg, sizeof msg);
		object_free(fs, obj);
		if (rc == 0)
			return word;
		werr(w, "%s", msg);
		return NULL;
	default:
		return word;
	}
}

static bool
opt_used(const struct parsed *p, const char *kw)
{
	for (size_t i = 0; i < p->nopts; i++)
		if (strcmp(p->opts[i].kw, kw) == 0)
			return true;
	return false;
}

/* The one declaration of `json`, for every command flagged CMD_JSON. */
const struct opt json_flag = { "json", A_NONE, NULL, "as JSON, for scripts",
    false };

struct optkw {
	const char		*kw;
	const struct opt	*opt;
	const struct field	*field;
	const char		*help;
};

/* The keywords that may come next in the option part of a command. */
static size_t
opt_keywords(const struct walk *w, struct optkw *out, const char **kws,
    bool no)
{
	const struct cmd_entry *c = w->p->cmd;
	size_t n = 0;

	if (!no && (c->flags & CMD_JSON) && !opt_used(w->p, json_flag.kw))
		out[n++] = (struct optkw){ json_flag.kw, &json_flag, NULL,
		    json_flag.help };
	for (const struct opt *o = c->opts; !no && o && o->kw; o++)
		if (!opt_used(w->p, o->kw))
			out[n++] = (struct optkw){ o->kw, o, NULL, o->help };
	for (size_t i = 0; c->attrs && i < c->attrs->n; i++) {
		const struct field *f = &c->attrs->f[i];
		if (!(f->flags & F_KEY) && !opt_used(w->p, f->key))
			out[n++] = (struct optkw){ f->key, NULL, f, f->help };
	}
	if (!no && (c->flags & CMD_ATTR_NO))
		out[n++] = (struct optkw){ "no", NULL, NULL,
		    "reset an attribute to its default" };
	for (size_t i = 0; i < n; i++)
		kws[i] = out[i].kw;
	return n;
}

static bool
complete_enough(const struct walk *w)
{
	const struct cmd_entry *c = w->p->cmd;

	for (size_t i = 0; i < CMD_ARGS_MAX; i++)
		if (c->args[i].type != A_NONE && !c->args[i].optional &&
		    w->p->args[i] == NULL)
			return false;
	for (size_t i = 0; c->required && c->required[i]; i++)
		if (!opt_used(w->p, c->required[i]))
			return false;
	return true;
}

static void
opt_cands(struct walk *w, bool no)
{
	struct optkw o[CMD_OPTS_MAX + 8];
	const char *kws[CMD_OPTS_MAX + 8];
	size_t n = opt_keywords(w, o, kws, no);

	for (size_t i = 0; i < n; i++)
		cand_add(w->cands, o[i].kw, NULL, o[i].help);
	if (!no && complete_enough(w))
		cand_add(w->cands, NULL, "<cr>", "run the command");
}

static int
add_opt(struct walk *w, const char *kw, const struct field *f,
    const char *val, bool no)
{
	struct parsed *p = w->p;

	if (p->nopts == CMD_OPTS_MAX)
		return werr(w, "too many options");
	p->opts[p->nopts].kw = kw;
	p->opts[p->nopts].field = f;
	p->opts[p->nopts].val = val;
	p->opts[p->nopts].no = no;
	p->nopts++;
	return 0;
}

/* The value after an option keyword; 1 when collecting candidates. */
static int
opt_value(struct walk *w, const struct optkw *o)
{
	const struct fieldset *fs = w->p->cmd->attrs;
	enum argtype t = o->opt ? o->opt->type : A_FIELD;
	const char *v;

	if (o->field != NULL && o->field->type == FT_FLAG)
		return add_opt(w, o->kw, o->field, NULL, false);
	if (t == A_NONE)
		return add_opt(w, o->kw, NULL, NULL, false);
	if (o->opt && o->opt->value_optional && (w->pos == w->n ||
	    check_value(w, t, fs, NULL, w->words[w->pos], NULL) == NULL)) {
		if (w->pos == w->n && w->cands)
			value_cands(w, t, NULL, o->opt->meta, o->opt->help);
		return add_opt(w, o->kw, NULL, NULL, false);
	}
	if (w->pos == w->n) {
		if (w->cands == NULL)
			return werr(w, "%s needs a value", o->kw);
		if (o->field && (o->field->flags & F_FARMREF))
			t = A_FARM;	/* complete the zone's farm names */
		value_cands(w, t, o->field, o->opt ? o->opt->meta : NULL,
		    o->help);
		return 1;
	}
	if ((v = check_value(w, t, fs, o->field, w->words[w->pos],
	    o->opt ? o->opt->meta : NULL)) == NULL)
		return -1;
	w->pos++;
	return add_opt(w, o->kw, o->field, v, false);
}

static int
walk_opts(struct walk *w)
{
	struct optkw o[CMD_OPTS_MAX + 8];
	const char *kws[CMD_OPTS_MAX + 8];
	size_t n;
	int k, rc;
	bool no;

	for (;;) {
		if (w->pos == w->n) {
			if (w->cands) {
				opt_cands(w, false);
				return 1;
			}
			return 0;
		}
		no = false;
		n = opt_keywords(w, o, kws, false);
		k = kw_match(w->words[w->pos], kws, n);
		if (k >= 0 && strcmp(kws[k], "no") == 0) {
			no = true;
			w->pos++;
			if (w->pos == w->n) {
				if (w->cands)
					opt_cands(w, true);
				return w->cands ? 1 : werr(w, "no: which "
				    "attribute?");
			}
			n = opt_keywords(w, o, kws, true);
			k = kw_match(w->words[w->pos], kws, n);
		}
		if (k == -1)
			return werr(w, "unknown or repeated option \"%s\" "
			    "(expected: %s)", w->words[w->pos],
			    n ? kw_list(kws, n, NULL) : "nothing more");
		if (k == -2)
			return werr(w, "ambiguous \"%s\": could be %s",
			    w->words[w->pos], kw_list(kws, n, w->words[w->pos]));
		w->pos++;
		if (no)
			rc = add_opt(w, o[k].kw, o[k].field, NULL, true);
		else
			rc = opt_value(w, &o[k]);
		if (rc != 0)
			return rc;
	}
}

/* An optional positional yields to an option keyword it is not a value of:
 * `show running json` has no zone named json. */
static bool
is_option_word(struct walk *w, const char *word, enum argtype t)
{
	struct optkw o[CMD_OPTS_MAX + 8];
	const char *kws[CMD_OPTS_MAX + 8];
	size_t n = opt_keywords(w, o, kws, false);

	if (known_name(w, t, word))
		return false;
	return kw_match(word, kws, n) != -1;
}

static int
walk_args(struct walk *w)
{
	const struct cmd_entry *c = w->p->cmd;
	const char *v;

	for (size_t i = 0; i < CMD_ARGS_MAX && c->args[i].type != A_NONE; i++) {
		const struct arg *a = &c->args[i];
		if (w->pos == w->n) {
			if (w->cands == NULL) {
				if (a->optional)
					return 0;
				return werr(w, "%s needs <%s>: %s",
				    c->words[1] ? c->words[1] : c->words[0],
				    a->meta, a->help);
			}
			value_cands(w, a->type, NULL, a->meta, a->help);
			if (a->optional)
				opt_cands(w, false);
			return 1;
		}
		if (a->optional && is_option_word(w, w->words[w->pos], a->type))
			return 0;
		if ((v = check_value(w, a->type, NULL, NULL, w->words[w->pos],
		    a->meta)) == NULL)
			return -1;
		w->p->args[i] = v;
		w->pos++;
	}
	return 0;
}

static int
walk(struct walk *w)
{
	int rc;

	memset(w->p, 0, sizeof *w->p);
	if ((rc = walk_path(w)) != 0)
		return rc;
	if ((rc = walk_args(w)) != 0)
		return rc;
	return walk_opts(w);
}

int
grammar_parse(struct shell *sh, char **words, int n, struct parsed *p,
    char *err, size_t errlen)
{
	struct walk w = { sh, words, n, 0, p, NULL, err, errlen };
	const struct cmd_entry *c;

	if (walk(&w) != 0)
		return -1;
	c = p->cmd;
	for (size_t i = 0; i < CMD_ARGS_MAX; i++)
		if (c->args[i].type != A_NONE && !c->args[i].optional &&
		    p->args[i] == NULL)
			return werr(&w, "missing <%s>", c->args[i].meta);
	for (size_t i = 0; c->required && c->required[i]; i++)
		if (!opt_used(p, c->required[i]))
			return werr(&w, "%s is required (usage: %s)",
			    c->required[i], cmd_usage(c));
	return 0;
}

void
parsed_free(struct parsed *p)
{
	for (size_t i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	p->nowned = 0;
}

static char last_error[512];

/* Why the last grammar_next() returned -1: for `?` on a broken line. */
const char *
grammar_error(void)
{
	return last_error;
}

/*
 * What may follow the complete words, filtered by `partial` (the word
 * being typed).  Returns -1 with the error of an earlier word.
 */
int
grammar_next(struct shell *sh, char **words, int n, const char *partial,
    struct cands *out)
{
	struct parsed p;
	struct cands all = { NULL, 0 };
	char err[256];
	struct walk w = { sh, words, n, 0, &p, &all, err, sizeof err };
	size_t len = strlen(partial);

	if (walk(&w) == -1) {
		snprintf(last_error, sizeof last_error, "%s", err);
		cands_free(&all);
		parsed_free(&p);
		return -1;
	}
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i].word == NULL ? len == 0 :
		    strncmp(all.v[i].word, partial, len) == 0)
			cand_add(out, all.v[i].word, all.v[i].meta,
			    all.v[i].help);
	parsed_free(&p);
	cands_free(&all);
	return 0;
}

const char *
parsed_opt(const struct parsed *p, const char *kw)
{
	for (size_t i = 0; i < p->nopts; i++)
		if (strcmp(p->opts[i].kw, kw) == 0)
			return p->opts[i].val;
	return NULL;
}

bool
parsed_has(const struct parsed *p, const char *kw)
{
	return opt_used(p, kw);
}

/* "farm add": the command's keyword path, as declared. */
void
cmd_words(const struct cmd_entry *c, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < 3 && c->words[i]; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    i ? " " : "", c->words[i]);
}

/* "farm add NAME zone ZONE [balance roundrobin|...]..." from the table. */
char *
cmd_usage(const struct cmd_entry *c)
{
	static char buf[4096];
	char *allowed;

	cmd_words(c, buf, sizeof buf);
	for (int i = 0; i < CMD_ARGS_MAX && c->args[i].type != A_NONE; i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
		    c->args[i].optional ? " [%s]" : " %s", c->args[i].meta);
	if (c->flags & CMD_JSON)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " [%s]",
		    json_flag.kw);
	for (const struct opt *o = c->opts; o && o->kw; o++) {
		bool req = false;
		for (size_t i = 0; c->required && c->required[i]; i++)
			req |= strcmp(c->required[i], o->kw) == 0;
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
		    " %s%s%s%s%s%s", req ? "" : "[", o->kw, o->type ? " " : "",
		    o->value_optional ? "[" : "", o->type ? o->meta : "",
		    o->value_optional ? "]" : "");
		if (!req)
			strncat(buf, "]", sizeof buf - strlen(buf) - 1);
	}
	for (size_t i = 0; c->attrs && i < c->attrs->n; i++) {
		const struct field *f = &c->attrs->f[i];
		bool req = false;
		if (f->flags & F_KEY)
			continue;
		for (size_t j = 0; c->required && c->required[j]; j++)
			req |= strcmp(c->required[j], f->key) == 0;
		allowed = f->type == FT_ENUM ? field_allowed(f) : NULL;
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
		    " %s%s%s%s%s", req ? "" : "[", f->key,
		    f->type == FT_FLAG ? "" : " ", f->type == FT_FLAG ? "" :
		    allowed ? allowed : f->meta, req ? "" : "]");
		free(allowed);
	}
	return buf;
}
