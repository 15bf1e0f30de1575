/*
 * The shell's line parser and completion: what an operator (or a script
 * piped to `mxlb`) types goes through line_split, grammar_parse, and for
 * `?` and TAB grammar_next.  The shell is built in memory as in
 * tests/unit/shell-fixture.h (zones inbound and outbound, their farms,
 * servers and frontends, no engine); commands are matched, never run.
 *
 * The input is a script: one line per '\n'.  For each line: split, parse,
 * complete the line as typed, and ask `?` after every word.  Besides the
 * sanitizers, it aborts when a refusal has no message or a candidate is
 * neither a word nor a placeholder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"
#include "../unit/shell-fixture.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

#define LINES_MAX	32	/* lines of one input that are tried */
#define HELP_WORDS_MAX	16	/* `?` after each of the first words */

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-shell: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

static struct shell *sh;

/* The zones of test-grammar.c (tests/unit/shell-fixture.h). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sh = shell_fixture("/nonexistent/mxlb-fuzz-run");
	return 0;
}

static void
check_cands(const struct cands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		CHECK(c->v[i].word != NULL || c->v[i].meta != NULL);
		CHECK(c->v[i].help != NULL);
	}
}

/* What `?` or TAB would show after the first n words, `partial` typed. */
static void
complete(char **words, int n, const char *partial)
{
	struct cands c = { NULL, 0 };

	if (grammar_next(sh, words, n, partial, &c) == -1)
		CHECK(grammar_error()[0] != '\0');
	check_cands(&c);
	cands_free(&c);
}

static void
try_line(const char *line)
{
	char **words, err[1024];
	struct parsed p;
	bool trailing;
	int n;

	err[0] = '\0';
	if (line_split(line, &words, &n, &trailing, err, sizeof err) == -1) {
		CHECK(err[0] != '\0');
		return;
	}
	err[0] = '\0';
	if (grammar_parse(sh, words, n, &p, err, sizeof err) == 0) {
		CHECK(p.cmd != NULL);
		CHECK(cmd_usage(p.cmd)[0] != '\0');
		for (size_t i = 0; i < p.nopts; i++)
			CHECK(p.opts[i].kw != NULL);
	} else
		CHECK(err[0] != '\0');
	parsed_free(&p);

	/* The last word is being typed unless the line ends in a space. */
	if (!trailing && n > 0)
		complete(words, n - 1, words[n - 1]);
	else
		complete(words, n, "");
	for (int k = 0; k < n && k < HELP_WORDS_MAX; k++)
		complete(words, k, "");
	words_free(words, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1), *p, *line;
	int lines = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	while ((line = strsep(&p, "\n")) != NULL && lines++ < LINES_MAX)
		try_line(line);
	free(text);
	return 0;
}
