/*
 * Grammar tests: a shell built in memory with two zones (no engine), then
 * lines matched the way the shell matches what an operator types: unique
 * prefixes, an exact keyword beating a prefix, ambiguities listing their
 * candidates, typed values checked with the engine's rules, `no` forms,
 * quotes and comments.  Then the table itself: every command, keyword,
 * option and attribute has the help that `?`, TAB and `help` show.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shell.h"
#include "shell-fixture.h"

/* ---- the shell: zones inbound and outbound, as their engines run them -- */

static int
setup(void **state)
{
	*state = shell_fixture("/nonexistent/mxlb-test-run");
	return 0;
}

static int
teardown(void **state)
{
	struct shell *sh = *state;

	shell_free(sh);
	free(sh);
	return 0;
}

/* ---- matching a line ---------------------------------------------------- */

/* A line split into words, and what the grammar made of them. */
struct line {
	char		**words;
	int		  n;
	bool		  trailing;
	struct parsed	  p;
	int		  rc;
	char		  err[1024];
};

static void
line_parse(struct shell *sh, const char *text, struct line *l)
{
	memset(l, 0, sizeof *l);
	if (line_split(text, &l->words, &l->n, &l->trailing, l->err,
	    sizeof l->err) == -1)
		fail_msg("line_split(%s): %s", text, l->err);
	l->rc = grammar_parse(sh, l->words, l->n, &l->p, l->err,
	    sizeof l->err);
}

static void
line_free(struct line *l)
{
	parsed_free(&l->p);
	words_free(l->words, l->n);
}

/* The command path of a parsed line: "show running". */
static const char *
path_of(const struct cmd_entry *c)
{
	static char buf[64];

	cmd_words(c, buf, sizeof buf);
	return buf;
}

static const struct cmd_entry *
cmd_find(const char *path)
{
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(path_of(cmd_table[i]), path) == 0)
			return cmd_table[i];
	fail_msg("no command %s", path);
	return NULL;
}

/* text parses, as the command `path`. */
static void
expect_cmd(struct shell *sh, const char *text, const char *path,
    struct line *l)
{
	line_parse(sh, text, l);
	if (l->rc != 0)
		fail_msg("'%s': expected %s, got error: %s", text, path,
		    l->err);
	if (strcmp(path_of(l->p.cmd), path) != 0)
		fail_msg("'%s': expected %s, got %s", text, path,
		    path_of(l->p.cmd));
}

/* text is refused with exactly msg. */
static void
expect_error(struct shell *sh, const char *text, const char *msg)
{
	struct line l;

	line_parse(sh, text, &l);
	if (l.rc != -1)
		fail_msg("'%s': expected error \"%s\", but it parsed as %s",
		    text, msg, path_of(l.p.cmd));
	if (strcmp(l.err, msg) != 0)
		fail_msg("'%s':\n  expected: %s\n  got:      %s", text, msg,
		    l.err);
	line_free(&l);
}

/* text is refused with an error containing every one of the parts. */
static void
expect_error_has(struct shell *sh, const char *text, ...)
{
	struct line l;
	const char *part;
	va_list ap;

	line_parse(sh, text, &l);
	if (l.rc != -1)
		fail_msg("'%s': expected an error, but it parsed as %s", text,
		    path_of(l.p.cmd));
	va_start(ap, text);
	while ((part = va_arg(ap, const char *)) != NULL)
		if (strstr(l.err, part) == NULL)
			fail_msg("'%s': error \"%s\" does not say \"%s\"", text,
			    l.err, part);
	va_end(ap);
	line_free(&l);
}

/* The value given for an option or attribute; fails if it is absent. */
static size_t
opt_index(const struct line *l, const char *kw)
{
	for (size_t i = 0; i < l->p.nopts; i++)
		if (strcmp(l->p.opts[i].kw, kw) == 0)
			return i;
	fail_msg("option %s not in the parsed line", kw);
	return 0;
}

/* ---- what may come next ----------------------------------------------- */

/* The candidates after a line as typed: the last word is being typed
 * unless the line ends in a space.  Returns grammar_next's status. */
static int
next_of(struct shell *sh, const char *text, struct cands *c)
{
	char **words, err[256];
	const char *partial = "";
	int n, rc;
	bool trailing;

	memset(c, 0, sizeof *c);
	if (line_split(text, &words, &n, &trailing, err, sizeof err) == -1)
		fail_msg("line_split(%s): %s", text, err);
	if (!trailing && n > 0)
		partial = words[n - 1];
	rc = grammar_next(sh, words, !trailing && n > 0 ? n - 1 : n, partial,
	    c);
	words_free(words, n);
	return rc;
}

static const struct cand *
cand_find(const struct cands *c, const char *word)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].word != NULL && strcmp(c->v[i].word, word) == 0)
			return &c->v[i];
	return NULL;
}

static const struct cand *
cand_meta(const struct cands *c, const char *meta)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].word == NULL && strcmp(c->v[i].meta, meta) == 0)
			return &c->v[i];
	return NULL;
}

/* "add set <cr>": the candidates in order, placeholders as their meta. */
static const char *
cands_list(const struct cands *c)
{
	static char buf[4096];

	buf[0] = '\0';
	for (size_t i = 0; i < c->n; i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s",
		    i ? " " : "", c->v[i].word ? c->v[i].word : c->v[i].meta);
	return buf;
}

/* After text, exactly these candidates, in this order. */
static void
expect_next(struct shell *sh, const char *text, const char *list)
{
	struct cands c;

	if (next_of(sh, text, &c) != 0)
		fail_msg("'%s?': grammar_next failed", text);
	if (strcmp(cands_list(&c), list) != 0)
		fail_msg("'%s?':\n  expected: %s\n  got:      %s", text, list,
		    cands_list(&c));
	cands_free(&c);
}

/* ---- line_split: words, quotes, comments ------------------------------- */

static void
expect_words(const char *text, bool trailing, int n, ...)
{
	char **words, err[256];
	int got;
	bool tr;
	va_list ap;

	if (line_split(text, &words, &got, &tr, err, sizeof err) == -1)
		fail_msg("line_split(%s): %s", text, err);
	if (got != n)
		fail_msg("'%s': %d words, expected %d", text, got, n);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *w = va_arg(ap, const char *);
		if (strcmp(words[i], w) != 0)
			fail_msg("'%s': word %d is [%s], expected [%s]", text,
			    i, words[i], w);
	}
	va_end(ap);
	if (tr != trailing)
		fail_msg("'%s': trailing %d, expected %d", text, tr, trailing);
	words_free(words, got);
}

static void
test_split_words(void **state)
{
	(void)state;
	expect_words("farm add mx zone inbound", false, 5, "farm", "add", "mx",
	    "zone", "inbound");
	expect_words("  farm\tset  mx  ", true, 3, "farm", "set", "mx");
	expect_words("farm ", true, 1, "farm");
	expect_words("farm", false, 1, "farm");
	expect_words("", false, 0);
	expect_words("   ", true, 0);
	expect_words("show zones\r\n", false, 2, "show", "zones");
}

static void
test_split_quotes(void **state)
{
	(void)state;
	expect_words("zone apply inbound comment 'add mx3' confirmed 120",
	    false, 7, "zone", "apply", "inbound", "comment", "add mx3",
	    "confirmed", "120");
	expect_words("comment \"it's fine\"", false, 2, "comment", "it's fine");
	expect_words("comment ''", false, 2, "comment", "");
	/* Quotes group inside a word, as in sh. */
	expect_words("a\"b c\"d", false, 1, "ab cd");
	/* A # inside quotes is text, not a comment. */
	expect_words("comment 'ticket #42'", false, 2, "comment", "ticket #42");
}

static void
test_split_comments(void **state)
{
	(void)state;
	expect_words("# the OVH guide, step 1", false, 0);
	expect_words("   # indented", false, 0);
	expect_words("server add mx 192.0.2.10 # the primary", false, 4,
	    "server", "add", "mx", "192.0.2.10");
	/* Only at the start of a word, as in sh. */
	expect_words("server add mx#2 192.0.2.20", false, 4, "server", "add",
	    "mx#2", "192.0.2.20");
}

static void
test_split_unterminated(void **state)
{
	char **words = NULL, err[256] = "";
	int n = 0;
	bool tr;

	(void)state;
	assert_int_equal(line_split("zone apply comment 'oops", &words, &n, &tr,
	    err, sizeof err), -1);
	assert_string_equal(err, "unterminated ' quote");
	assert_int_equal(line_split("comment \"oops", &words, &n, &tr, err,
	    sizeof err), -1);
	assert_string_equal(err, "unterminated \" quote");
}

/* ---- matching ------------------------------------------------------------ */

static void
test_unique_prefixes(void **state)
{
	struct shell *sh = *state;
	struct line l;

	expect_cmd(sh, "sh run", "show running", &l);
	assert_null(l.p.args[0]);
	line_free(&l);

	expect_cmd(sh, "fa a web zo outbound", "farm add", &l);
	assert_string_equal(l.p.args[0], "web");
	assert_string_equal(l.p.opts[opt_index(&l, "zone")].val, "outbound");
	line_free(&l);

	expect_cmd(sh, "sh ser mx", "show servers", &l);
	assert_string_equal(l.p.args[0], "mx");
	line_free(&l);

	/* `json`, declared once for every show: not a farm named json. */
	expect_cmd(sh, "show servers json", "show servers", &l);
	assert_null(l.p.args[0]);
	assert_true(parsed_has(&l.p, "json"));
	line_free(&l);
	expect_cmd(sh, "sh ser mx j", "show servers", &l);
	assert_string_equal(l.p.args[0], "mx");
	assert_true(parsed_has(&l.p, "json"));
	line_free(&l);
	for (size_t i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->words[0], "show") == 0)
			assert_true(cmd_table[i]->flags & CMD_JSON);

	/* `show server` is a prefix of servers, the only show keyword. */
	expect_cmd(sh, "show server", "show servers", &l);
	line_free(&l);

	expect_cmd(sh, "se d mx mx1 w 60", "server drain", &l);
	assert_string_equal(l.p.args[1], "mx1");
	assert_string_equal(l.p.opts[opt_index(&l, "wait")].val, "60");
	line_free(&l);

	expect_cmd(sh, "fr b smtp 25,587", "frontend bind", &l);
	assert_string_equal(l.p.args[1], "25,587");
	line_free(&l);

	expect_cmd(sh, "farm set mx bal leastconn probe-i 2", "farm set", &l);
	assert_string_equal(l.p.opts[opt_index(&l, "balance")].val,
	    "leastconn");
	assert_string_equal(l.p.opts[opt_index(&l, "probe-interval")].val, "2");
	line_free(&l);

	expect_cmd(sh, "z ap inbound comm 'why not'", "zone apply", &l);
	assert_string_equal(l.p.opts[opt_index(&l, "comment")].val, "why not");
	line_free(&l);
}

static void
test_exact_beats_prefix(void **state)
{
	struct shell *sh = *state;
	struct line l;

	/* probe is also the prefix of probe-interval, probe-timeout... */
	expect_cmd(sh, "farm set mx probe tcp", "farm set", &l);
	assert_int_equal(l.p.nopts, 1);
	assert_string_equal(l.p.opts[0].kw, "probe");
	assert_string_equal(l.p.opts[0].val, "tcp");
	line_free(&l);

	expect_cmd(sh, "farm set mx no probe", "farm set", &l);
	assert_int_equal(l.p.nopts, 1);
	assert_string_equal(l.p.opts[0].kw, "probe");
	assert_true(l.p.opts[0].no);
	line_free(&l);

	expect_cmd(sh, "farm add web zone inbound probe none probe-port 2526",
	    "farm add", &l);
	assert_string_equal(l.p.opts[opt_index(&l, "probe")].val, "none");
	assert_string_equal(l.p.opts[opt_index(&l, "probe-port")].val, "2526");
	line_free(&l);

	/* Once probe is given, "probe" is no longer exact: a prefix again. */
	expect_cmd(sh, "farm set mx probe tcp probe-t 3", "farm set", &l);
	assert_string_equal(l.p.opts[opt_index(&l, "probe-timeout")].val, "3");
	line_free(&l);
	expect_error(sh, "farm set mx probe tcp probe 3",
	    "ambiguous \"probe\": could be probe-interval, probe-timeout, "
	    "probe-rise, probe-fall, probe-port, probe-helo");
}

static void
test_ambiguity(void **state)
{
	struct shell *sh = *state;
	struct cands c;

	expect_error(sh, "s", "ambiguous \"s\": could be server, show");
	expect_error(sh, "f", "ambiguous \"f\": could be farm, frontend");
	expect_error(sh, "show f",
	    "ambiguous \"f\": could be farms, frontends");
	expect_error(sh, "farm set mx pro tcp", "ambiguous \"pro\": could be "
	    "probe, probe-interval, probe-timeout, probe-rise, probe-fall, "
	    "probe-port, probe-helo");
	expect_error(sh, "server set mx mx1 p 26", "ambiguous \"p\": could be "
	    "port, priority, proxyprotocol");
	expect_error(sh, "zone apply c 1", "ambiguous \"c\": could be comment, "
	    "confirmed");

	/* `?` after the ambiguous word lists the same, with their help. */
	assert_int_equal(next_of(sh, "s", &c), 0);
	assert_string_equal(cands_list(&c), "server show");
	assert_string_equal(cand_find(&c, "server")->help,
	    "servers of a farm");
	assert_string_equal(cand_find(&c, "show")->help,
	    "show configs, state and counters");
	cands_free(&c);
}

static void
test_typed_values(void **state)
{
	struct shell *sh = *state;
	struct line l;

	expect_error(sh, "server set mx mx1 weight 300",
	    "weight 300 is out of range 0-256");
	expect_error(sh, "server add mx 192.0.2.20 weight -1",
	    "weight \"-1\" is not valid (allowed: 0-256)");
	expect_error(sh, "server add mx 300.1.1.1",
	    "\"300.1.1.1\" is not an IPv4 or IPv6 address");
	expect_error(sh, "frontend bind smtp 25,abc",
	    "\"abc\" is not a port (1-65535)");
	expect_error(sh, "frontend bind smtp 70000",
	    "\"70000\" is not a port (1-65535)");
	expect_error(sh, "farm set mx probe-interval 0.05",
	    "probe-interval 0.05 is out of range 0.1-3600 seconds");
	expect_error_has(sh, "farm add 'bad name' zone inbound", "\"bad name\"",
	    "1-63 of A-Z a-z 0-9 _ . -", NULL);
	expect_error(sh, "zone apply inbound confirmed soon",
	    "\"soon\" is not a number of seconds");
	expect_error_has(sh, "rollback inbound latest", "\"latest\"",
	    "number", NULL);

	/* Enums: a unique prefix gives the full value. */
	expect_cmd(sh, "farm set mx balance l", "farm set", &l);
	assert_string_equal(l.p.opts[0].val, "leastconn");
	line_free(&l);
	expect_cmd(sh, "server set mx mx1 proxyprotocol v2 st inact",
	    "server set", &l);
	assert_string_equal(l.p.opts[opt_index(&l, "proxyprotocol")].val, "v2");
	assert_string_equal(l.p.opts[opt_index(&l, "status")].val, "inactive");
	line_free(&l);
	expect_error(sh, "server set mx mx1 proxyprotocol v",
	    "proxyprotocol \"v\" is ambiguous (allowed: v1, v2)");
	expect_error(sh, "farm set mx stickiness x",
	    "stickiness \"x\" is not one of the choices (allowed: none, "
	    "source)");
	expect_error(sh, "farm set mx balance", "balance needs a value");

	/* A flag takes no value: the next word is the next option. */
	expect_cmd(sh, "server add mx 192.0.2.20 backup weight 2", "server add",
	    &l);
	assert_null(l.p.opts[opt_index(&l, "backup")].val);
	assert_string_equal(l.p.opts[opt_index(&l, "weight")].val, "2");
	line_free(&l);
}

/* Seconds are a number, with a fraction at most: not ".", not "1.2.3". */
static void
test_seconds(void **state)
{
	struct shell *sh = *state;
	struct line l;

	expect_cmd(sh, "zone apply inbound confirmed 120", "zone apply", &l);
	assert_string_equal(l.p.opts[opt_index(&l, "confirmed")].val, "120");
	line_free(&l);
	expect_error(sh, "zone apply inbound confirmed 1.2.3",
	    "\"1.2.3\" is not a number of seconds");
	expect_error(sh, "zone apply inbound confirmed .",
	    "\".\" is not a number of seconds");
}

static void
test_no_forms(void **state)
{
	struct shell *sh = *state;
	struct line l;

	expect_cmd(sh, "no farm mx", "no farm", &l);
	assert_string_equal(l.p.args[0], "mx");
	line_free(&l);
	expect_cmd(sh, "no server mx 2001:db8::25", "no server", &l);
	assert_string_equal(l.p.args[1], "2001:db8::25");
	line_free(&l);
	expect_cmd(sh, "no fr submission", "no frontend", &l);
	line_free(&l);

	expect_cmd(sh, "farm set mx no probe-helo", "farm set", &l);
	assert_int_equal(l.p.nopts, 1);
	assert_string_equal(l.p.opts[0].kw, "probe-helo");
	assert_non_null(l.p.opts[0].field);
	assert_null(l.p.opts[0].val);
	assert_true(l.p.opts[0].no);
	line_free(&l);

	expect_cmd(sh, "server set mx mx1 weight 3 no maxconn no backup",
	    "server set", &l);
	assert_int_equal(l.p.nopts, 3);
	assert_false(l.p.opts[opt_index(&l, "weight")].no);
	assert_true(l.p.opts[opt_index(&l, "maxconn")].no);
	assert_true(l.p.opts[opt_index(&l, "backup")].no);
	line_free(&l);

	expect_cmd(sh, "frontend set smtp no disabled no allowed-source",
	    "frontend set", &l);
	assert_int_equal(l.p.nopts, 2);
	line_free(&l);

	expect_error(sh, "farm set mx no", "no: which attribute?");
	expect_error_has(sh, "farm set mx no zone", "\"zone\"", NULL);
	/* `no` resets: it takes no value. */
	expect_error_has(sh, "farm set mx no balance leastconn",
	    "\"leastconn\"", NULL);
	/* Creating commands have no attribute to reset. */
	expect_error_has(sh, "farm add web zone inbound no probe", "\"no\"",
	    NULL);
	expect_error_has(sh, "no farm nofarm", "\"nofarm\"", "mx, relay", NULL);
}

static void
test_unknown_names(void **state)
{
	struct shell *sh = *state;

	expect_error_has(sh, "server set nofarm mx1 weight 2", "\"nofarm\"",
	    "known: mx, relay", NULL);
	expect_error_has(sh, "server set mx nosrv weight 2", "\"nosrv\"",
	    "known: mx1, mx2, 2001:db8::25", NULL);
	/* A server of another farm is not one of this farm's. */
	expect_error_has(sh, "server set relay mx1 weight 2", "\"mx1\"",
	    "known: r1", NULL);
	expect_error_has(sh, "frontend set nofe maxconn 5", "\"nofe\"",
	    "known: smtp, submission", NULL);
	expect_error(sh, "farm add web zone nozone", "zone nozone has no "
	    "engine: start one with 'mxlbd -z nozone' (or 'systemctl start "
	    "mxlbd@nozone'); zones are found in /nonexistent/mxlb-test-run");
	expect_error_has(sh, "bogus", "unknown command \"bogus\" (commands: "
	    "farm, server, frontend, no, zone, show, discard, update, "
	    "rollback, ", " help, exit, quit)", NULL);
	expect_error(sh, "farm frob",
	    "unknown keyword \"frob\" (expected: add, set)");
	expect_error_has(sh, "farm set mx weight 5", "\"weight\"", "balance",
	    "probe-helo", NULL);
	expect_error(sh, "farm", "incomplete command: add, set may follow");
	expect_error_has(sh, "server add mx", "<ADDRESS>", NULL);
	expect_error_has(sh, "farm add web", "zone is required",
	    "farm add NAME zone ZONE", NULL);
	expect_error_has(sh, "frontend add web zone inbound farm mx",
	    "bind is required", NULL);
}

static void
test_next(void **state)
{
	struct shell *sh = *state;
	struct cands c;

	expect_next(sh, "farm ", "add set");
	expect_next(sh, "farm s", "set");
	expect_next(sh, "farm set ", "mx relay <FARM>");
	expect_next(sh, "farm set r", "relay");
	expect_next(sh, "farm set mx balance ",
	    "roundrobin leastconn source first");
	expect_next(sh, "farm set mx balance l", "leastconn");
	expect_next(sh, "server set mx ", "mx1 mx2 2001:db8::25 <SERVER>");
	expect_next(sh, "server set relay ", "r1 <SERVER>");
	expect_next(sh, "farm add web zone ", "inbound outbound <ZONE>");
	expect_next(sh, "frontend add web farm ", "mx relay <FARM>");
	expect_next(sh, "zone apply ", "inbound outbound all <ZONE|all> "
	    "comment confirmed <cr>");
	expect_next(sh, "show running ", "inbound outbound <ZONE> json <cr>");
	expect_next(sh, "server drain mx mx1 wait ", "<SEC> zone <cr>");
	expect_next(sh, "server set mx mx1 p", "port priority proxyprotocol");
	/* An attribute given is not offered again. */
	expect_next(sh, "farm set mx balance leastconn probe tcp pro",
	    "probe-interval probe-timeout probe-rise probe-fall probe-port "
	    "probe-helo");
	/* Nothing comes after a complete command without options. */
	expect_next(sh, "show zones ", "json <cr>");

	/* Values have a placeholder with their help. */
	assert_int_equal(next_of(sh, "server set mx mx1 weight ", &c), 0);
	assert_non_null(cand_meta(&c, "<0-256>"));
	assert_string_equal(cand_meta(&c, "<0-256>")->help,
	    "share of new sessions within its tier; 0 takes none");
	cands_free(&c);

	/* A command that is complete may be run: <cr>; one missing a
	 * required option may not. */
	assert_int_equal(next_of(sh, "farm set mx ", &c), 0);
	assert_non_null(cand_meta(&c, "<cr>"));
	assert_non_null(cand_find(&c, "no"));
	cands_free(&c);
	assert_int_equal(next_of(sh, "farm add web ", &c), 0);
	assert_null(cand_meta(&c, "<cr>"));
	assert_non_null(cand_find(&c, "zone"));
	cands_free(&c);

	/* An error earlier on the line: nothing may come. */
	assert_int_equal(next_of(sh, "farm set nofarm ", &c), -1);
	cands_free(&c);
	assert_int_equal(next_of(sh, "bogus ", &c), -1);
	cands_free(&c);
}

/* Names offered by ? and TAB say what they are; a farm, which zone it is
 * in (a farm name may be in several zones: the zone is the useful part). */
static void
test_name_help(void **state)
{
	struct shell *sh = *state;
	struct cands c;

	assert_int_equal(next_of(sh, "farm add web zone ", &c), 0);
	assert_string_equal(cand_find(&c, "inbound")->help, "zone, engine up");
	cands_free(&c);
	assert_int_equal(next_of(sh, "show servers ", &c), 0);
	assert_string_equal(cand_find(&c, "mx")->help, "farm in zone inbound");
	assert_string_equal(cand_find(&c, "relay")->help,
	    "farm in zone outbound");
	cands_free(&c);
}

/* ---- the table --------------------------------------------------------- */

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

static void
test_table_help(void **state)
{
	struct shell *sh = *state;
	struct line l;
	size_t n = 0;

	for (size_t i = 0; cmd_table[i] != NULL; i++, n++) {
		const struct cmd_entry *c = cmd_table[i];
		char path[64];
		snprintf(path, sizeof path, "%s", path_of(c));
		if (empty(c->words[0]))
			fail_msg("command %zu has no keyword", i);
		if (empty(c->help))
			fail_msg("%s has no help", path);
		if (empty(c->example))
			fail_msg("%s has no example", path);
		if (c->exec == NULL)
			fail_msg("%s does nothing", path);
		for (int a = 0; a < CMD_ARGS_MAX && c->args[a].type; a++)
			if (empty(c->args[a].meta) || empty(c->args[a].help))
				fail_msg("%s: argument %d has no meta or help",
				    path, a);
		for (const struct opt *o = c->opts; o && o->kw; o++)
			if (empty(o->help) || (o->type && empty(o->meta)))
				fail_msg("%s: option %s has no help or meta",
				    path, o->kw);
		for (size_t f = 0; c->attrs && f < c->attrs->n; f++)
			if (empty(c->attrs->f[f].help))
				fail_msg("%s: attribute %s has no help", path,
				    c->attrs->f[f].key);
		/* The example is a line the grammar takes, as that command. */
		expect_cmd(sh, c->example, path, &l);
		line_free(&l);
		for (size_t j = 0; j < i; j++)
			if (strcmp(path_of(cmd_table[j]), path) == 0)
				fail_msg("%s is declared twice", path);
	}
	assert_true(n >= 30);
}

/* `?` on each prefix of each command's path lists its next keyword, with
 * help; on the last one, the command's own help. */
static void
test_path_help(void **state)
{
	struct shell *sh = *state;

	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *c = cmd_table[i];
		/* Words as line_split makes them: the shell's own copies. */
		char *words[3] = { NULL, NULL, NULL };
		for (int d = 0; d < 3 && c->words[d] != NULL; d++)
			assert_non_null(words[d] = strdup(c->words[d]));
		for (int d = 0; d < 3 && c->words[d] != NULL; d++) {
			struct cands cs = { NULL, 0 };
			const struct cand *k;
			if (grammar_next(sh, words, d, "", &cs) != 0)
				fail_msg("%s: ? after %d words failed",
				    path_of(c), d);
			if ((k = cand_find(&cs, c->words[d])) == NULL)
				fail_msg("%s: ? after %d words lacks %s: %s",
				    path_of(c), d, c->words[d],
				    cands_list(&cs));
			if (empty(k->help))
				fail_msg("%s: keyword %s has no help in ?",
				    path_of(c), c->words[d]);
			if ((d == 2 || c->words[d + 1] == NULL) &&
			    strcmp(k->help, c->help) != 0)
				fail_msg("%s: ? shows \"%s\", not its help",
				    path_of(c), k->help);
			cands_free(&cs);
		}
		for (int d = 0; d < 3; d++)
			free(words[d]);
	}
}

/* A value of each argument type that the fixture's shell takes. */
static const char *
sample_arg(enum argtype t)
{
	switch (t) {
	case A_NEWNAME:	return "newobj";
	case A_FARM:	return "mx";
	case A_SERVER:	return "mx1";
	case A_FRONTEND: return "smtp";
	case A_ZONE:
	case A_ZONE_ALL: return "inbound";
	case A_ADDRESS:	return "192.0.2.99";
	case A_PORTS:	return "2525";
	default:	return "1";
	}
}

/* The words of a command up to its options, path and arguments, as
 * line_split makes them: the shell's own copies. */
static int
cmd_prefix(const struct cmd_entry *c, char **words)
{
	int n = 0;

	for (int d = 0; d < 3 && c->words[d] != NULL; d++)
		assert_non_null(words[n++] = strdup(c->words[d]));
	for (int a = 0; a < CMD_ARGS_MAX && c->args[a].type; a++)
		assert_non_null(words[n++] =
		    strdup(sample_arg(c->args[a].type)));
	return n;
}

static void
expect_fields(struct shell *sh, const struct cmd_entry *c, char **words,
    int n, bool no)
{
	struct cands cs = { NULL, 0 };

	if (grammar_next(sh, words, n, "", &cs) != 0)
		fail_msg("%s%s: ? after the arguments failed", path_of(c),
		    no ? " ... no" : "");
	for (size_t f = 0; f < c->attrs->n; f++) {
		const struct field *fd = &c->attrs->f[f];
		const struct cand *k = cand_find(&cs, fd->key);
		if (fd->flags & F_KEY)
			continue;
		if (k == NULL)
			fail_msg("%s%s: ? lacks attribute %s: %s", path_of(c),
			    no ? " ... no" : "", fd->key, cands_list(&cs));
		if (strcmp(k->help, fd->help) != 0)
			fail_msg("%s: ? shows %s as \"%s\", not \"%s\"",
			    path_of(c), fd->key, k->help, fd->help);
	}
	for (const struct opt *o = c->opts; !no && o && o->kw; o++) {
		const struct cand *k = cand_find(&cs, o->kw);
		if (k == NULL || strcmp(k->help, o->help) != 0)
			fail_msg("%s: ? lacks option %s with its help",
			    path_of(c), o->kw);
	}
	cands_free(&cs);
}

/* Every attribute of every command that takes them is offered by `?`
 * with the field's own help, and after `no` where it may be reset. */
static void
test_attr_help(void **state)
{
	struct shell *sh = *state;
	size_t checked = 0;

	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *c = cmd_table[i];
		char *words[8];
		int n;
		if (c->attrs == NULL && c->opts == NULL)
			continue;
		n = cmd_prefix(c, words);
		if (c->attrs == NULL) {
			struct cands cs = { NULL, 0 };
			assert_int_equal(grammar_next(sh, words, n, "", &cs),
			    0);
			for (const struct opt *o = c->opts; o->kw; o++)
				if (cand_find(&cs, o->kw) == NULL)
					fail_msg("%s: ? lacks option %s: %s",
					    path_of(c), o->kw, cands_list(&cs));
			cands_free(&cs);
		} else {
			expect_fields(sh, c, words, n, false);
			checked++;
			if (c->flags & CMD_ATTR_NO) {
				assert_non_null(words[n++] = strdup("no"));
				expect_fields(sh, c, words, n, true);
			}
		}
		while (n > 0)
			free(words[--n]);
	}
	/* farm add/set, server add/set, frontend add/set */
	assert_int_equal(checked, 6);
}

/* Is word in s as a whole word ("[weight 0-256]" has weight)? */
static bool
has_word(const char *s, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = s; (p = strstr(p, word)) != NULL; p++)
		if ((p == s || p[-1] == ' ' || p[-1] == '[') &&
		    (p[len] == '\0' || p[len] == ' ' || p[len] == ']'))
			return true;
	return false;
}

static void
test_usage(void **state)
{
	(void)state;
	for (size_t i = 0; cmd_table[i] != NULL; i++) {
		const struct cmd_entry *c = cmd_table[i];
		char *u = xstrdup(cmd_usage(c));
		if (strncmp(u, path_of(c), strlen(path_of(c))) != 0)
			fail_msg("usage \"%s\" does not start with %s", u,
			    path_of(c));
		for (int a = 0; a < CMD_ARGS_MAX && c->args[a].type; a++)
			if (!has_word(u, c->args[a].meta))
				fail_msg("usage \"%s\" lacks <%s>", u,
				    c->args[a].meta);
		for (const struct opt *o = c->opts; o && o->kw; o++)
			if (!has_word(u, o->kw))
				fail_msg("usage \"%s\" lacks %s", u, o->kw);
		for (size_t f = 0; c->attrs && f < c->attrs->n; f++) {
			const struct field *fd = &c->attrs->f[f];
			if (!(fd->flags & F_KEY) && !has_word(u, fd->key))
				fail_msg("usage \"%s\" lacks %s", u, fd->key);
		}
		free(u);
	}
	/* Required options are not bracketed; enums show their choices;
	 * flags have no value. */
	assert_non_null(strstr(cmd_usage(cmd_find("farm add")), "farm add NAME "
	    "zone ZONE [balance roundrobin|leastconn|source|first]"));
	assert_non_null(strstr(cmd_usage(cmd_find("frontend add")),
	    "frontend add NAME zone ZONE "));
	assert_non_null(strstr(cmd_usage(cmd_find("server add")),
	    "server add FARM ADDRESS [zone ZONE] [name NAME] [port PORT] "
	    "[weight 0-256]"));
	assert_non_null(strstr(cmd_usage(cmd_find("server add")),
	    " [backup] "));
	assert_non_null(strstr(cmd_usage(cmd_find("server drain")),
	    "[wait [SEC]]"));
}


/* ---- the candidate: structural diff, duplicate servers ------------------ */

static void
run_ok(struct shell *sh, const char *line)
{
	char err[1024];

	if (shell_run_line(sh, line, err, sizeof err) != 0)
		fail_msg("'%s': %s", line, err);
}

/* `show diff` of the shell, as one string. */
static char *
diff_text(struct shell *sh)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *saved = sh->out;

	sh->out = open_memstream(&buf, &len);
	if (shell_run_line(sh, "show diff", err, sizeof err) != 0)
		fail_msg("show diff: %s", err);
	fclose(sh->out);
	sh->out = saved;
	return buf;
}

static void
expect_diff(struct shell *sh, const char *want)
{
	char *got = diff_text(sh);

	if (strcmp(got, want) != 0)
		fail_msg("show diff:\n  expected:\n%s  got:\n%s", want, got);
	free(got);
}

/* A weight change is a set of the weight, not the server's whole line
 * removed and added; a reset attribute is its `no` form. */
static void
test_diff_structural(void **state)
{
	struct shell *sh = *state;

	expect_diff(sh, "");
	run_ok(sh, "server set mx mx1 weight 3 maxconn 10");
	run_ok(sh, "server set mx mx1 weight 4");
	expect_diff(sh, "server set mx mx1 weight 4 maxconn 10\n");
	assert_int_equal(zone_changes(sh->zones[0]), 1);
	/* The change applied: now maxconn goes. */
	config_free(sh->zones[0]->running);
	sh->zones[0]->running = config_dup(sh->zones[0]->cand);
	run_ok(sh, "server set mx mx1 no maxconn");
	expect_diff(sh, "server set mx mx1 no maxconn\n");
	run_ok(sh, "discard");
	run_ok(sh, "farm set mx balance leastconn");
	run_ok(sh, "no server mx mx2");
	run_ok(sh, "server add mx 192.0.2.12 name mx3");
	run_ok(sh, "farm add spare zone inbound");
	run_ok(sh, "no frontend submission");
	run_ok(sh, "frontend set smtp maxconn 100");
	expect_diff(sh,
	    "farm set mx balance leastconn\n"
	    "- no server mx mx2\n"
	    "+ server add mx 192.0.2.12 zone inbound name mx3\n"
	    "+ farm add spare zone inbound\n"
	    "frontend set smtp maxconn 100\n"
	    "- no frontend submission\n");
	assert_int_equal(zone_changes(sh->zones[0]), 5);
	assert_int_equal(zone_changes(sh->zones[1]), 1);
}

/* Every diff line, its mark taken off, is a command: replayed on running,
 * it gives the candidate. */
static void
test_diff_replays(void **state)
{
	struct shell *sh = *state;
	char *text, *line, *save = NULL;

	run_ok(sh, "server set mx mx1 weight 7 backup");
	run_ok(sh, "server set mx mx2 port 2525");
	run_ok(sh, "no server mx 2001:db8::25");
	run_ok(sh, "farm add extra zone inbound probe tcp");
	run_ok(sh, "server add extra 192.0.2.50");
	run_ok(sh, "frontend add sub2 zone inbound bind 2587 farm extra");
	text = diff_text(sh);
	for (size_t i = 0; i < sh->nzones; i++) {
		struct config *c = sh->zones[i]->cand;
		sh->zones[i]->cand = sh->zones[i]->running;
		sh->zones[i]->running = c;	/* the goal, for the compare */
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		run_ok(sh, line[0] == '+' || line[0] == '-' ? line + 2 : line);
	free(text);
	for (size_t i = 0; i < sh->nzones; i++)
		if (zone_changes(sh->zones[i]) != 0)
			fail_msg("zone %s: the replayed diff differs",
			    sh->zones[i]->name);
}

/* `show running` and `show diff` write each line with the words of the
 * command it is, as that command declares them. */
static void
expect_line_cmd(struct shell *sh, const char *text,
    const struct cmd_entry *want)
{
	struct line l;
	const char *path = path_of(want);

	bool removed = text[0] == '-';

	if (text[0] == '+' || text[0] == '-')
		text += 2;
	if (strncmp(text, path, strlen(path)) != 0 || text[strlen(path)] != ' ')
		fail_msg("'%s' does not start with '%s '", text, path);
	if (removed)
		return;	/* names what the candidate no longer has */
	line_parse(sh, text, &l);
	if (l.rc != 0 || l.p.cmd != want)
		fail_msg("'%s': not parsed as %s: %s", text, path, l.err);
	line_free(&l);
}

static void
test_script_words(void **state)
{
	struct shell *sh = *state;
	const struct cmd_entry *want[] = { &cmd_farm_add, &cmd_server_add,
	    &cmd_server_add, &cmd_server_add, &cmd_frontend_add };
	const struct cmd_entry *diff[] = { &cmd_farm_set, &cmd_no_server,
	    &cmd_server_set, &cmd_server_add, &cmd_farm_add, &cmd_server_add,
	    &cmd_frontend_set, &cmd_frontend_add, &cmd_no_farm,
	    &cmd_no_frontend };
	char **v, *text, *line, *save = NULL;
	size_t n, i = 0;

	v = config_script(sh->zones[0]->running, &n);
	assert_int_equal(n, nitems(want));
	for (i = 0; i < n; i++)
		expect_line_cmd(sh, v[i], want[i]);
	script_free(v, n);

	run_ok(sh, "farm set mx balance leastconn");
	run_ok(sh, "no server mx mx2");
	run_ok(sh, "server set mx mx1 weight 2");
	run_ok(sh, "server add mx 192.0.2.12 name mx3");
	run_ok(sh, "farm add spare zone inbound");
	run_ok(sh, "server add spare 192.0.2.20");
	run_ok(sh, "no frontend submission");
	run_ok(sh, "frontend set smtp maxconn 100");
	run_ok(sh, "frontend add sub2 zone inbound bind 2587 farm spare");
	config_add_farm(sh->zones[0]->running, farm_new("gone"));
	text = diff_text(sh);
	i = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (i >= nitems(diff))
			fail_msg("unexpected '%s'", line);
		expect_line_cmd(sh, line, diff[i++]);
	}
	assert_int_equal(i, nitems(diff));
	free(text);
}

/* One mail server twice in a farm is refused, naming the first. */
static void
test_server_duplicate(void **state)
{
	struct shell *sh = *state;
	char err[1024];

	assert_int_equal(shell_run_line(sh, "server add mx 192.0.2.10 name "
	    "mx9", err, sizeof err), -1);
	assert_non_null(strstr(err, "server mx1 already is 192.0.2.10"));
	/* Another port is another server. */
	run_ok(sh, "server add mx 192.0.2.10 name mx9 port 2525");
	assert_int_equal(shell_run_line(sh, "server add mx 192.0.2.10 port "
	    "2525", err, sizeof err), -1);
	assert_non_null(strstr(err, "server mx9 already is 192.0.2.10 port "
	    "2525"));
	assert_int_equal(shell_run_line(sh, "server set mx mx9 no port", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "server mx1"));
}

/* Farm and frontend names are unique within a zone only: where a name is
 * in two zones, a command names its zone; where it is unique, nothing
 * changes. */
static void
test_names_across_zones(void **state)
{
	struct shell *sh = *state;
	struct zone *in = sh->zones[0], *out = sh->zones[1];
	char err[1024];
	char *d;

	run_ok(sh, "server set mx mx1 weight 2");	/* unique: as before */
	run_ok(sh, "farm add mx zone outbound probe tcp");
	assert_non_null(config_farm(out->cand, "mx"));
	assert_int_equal(shell_run_line(sh, "farm add mx zone outbound", err,
	    sizeof err), -1);
	assert_string_equal(err, "farm mx already exists (zone outbound)");
	/* Ambiguous without the zone word: refused, naming both zones. */
	assert_int_equal(shell_run_line(sh, "server add mx 198.51.100.7", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "farm mx is in zones inbound and outbound"));
	assert_non_null(strstr(err, "zone ZONE"));
	run_ok(sh, "server add mx 198.51.100.7 zone outbound name o7");
	assert_int_equal(config_farm(out->cand, "mx")->nservers, 1);
	assert_int_equal(config_farm(in->cand, "mx")->nservers, 3);
	run_ok(sh, "server set mx o7 zone outbound weight 5");
	run_ok(sh, "farm set mx zone inbound balance leastconn");
	assert_int_equal(config_farm(in->cand, "mx")->balance, 1);
	assert_int_equal(shell_run_line(sh, "server set mx o7 zone inbound "
	    "weight 1", err, sizeof err), -1);
	assert_non_null(strstr(err, "has no server o7"));
	assert_int_equal(shell_run_line(sh, "farm set mx zone nosuch balance "
	    "first", err, sizeof err), -1);
	/* A frontend's farm is its own zone's. */
	run_ok(sh, "frontend add smtp2 zone outbound bind 2525 farm mx");
	/* The diff of a zone with shared names carries the zone words. */
	d = diff_text(sh);
	if (strstr(d, "farm set mx zone inbound balance leastconn\n") == NULL ||
	    strstr(d, "server set mx mx1 zone inbound weight 2\n") == NULL ||
	    strstr(d, "+ server add mx 198.51.100.7 zone outbound name o7 "
	    "weight 5\n") == NULL)
		fail_msg("diff without zone words:\n%s", d);
	free(d);
	run_ok(sh, "no frontend smtp2");
	run_ok(sh, "no farm mx zone outbound");
	assert_null(config_farm(out->cand, "mx"));
	run_ok(sh, "server set mx mx1 weight 3");	/* unique again */
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_split_words),
		T(test_split_quotes),
		T(test_split_comments),
		T(test_split_unterminated),
		T(test_unique_prefixes),
		T(test_exact_beats_prefix),
		T(test_ambiguity),
		T(test_typed_values),
		T(test_seconds),
		T(test_no_forms),
		T(test_unknown_names),
		T(test_next),
		T(test_name_help),
		T(test_table_help),
		T(test_path_help),
		T(test_attr_help),
		T(test_usage),
		T(test_diff_structural),
		T(test_diff_replays),
		T(test_script_words),
		T(test_server_duplicate),
		T(test_names_across_zones),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
