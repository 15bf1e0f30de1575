/* Running one line: split, match against the grammar, execute. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

int
shell_error(struct shell *sh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->err, sizeof sh->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* 0 done (or nothing to do), -1 with the error in err. */
int
shell_run_line(struct shell *sh, const char *line, char *err, size_t errlen)
{
	struct parsed p;
	char **words;
	int n, rc;
	bool trailing;
	const char *saved = sh->line;

	if (line_split(line, &words, &n, &trailing, err, errlen) == -1)
		return -1;
	if (n == 0) {
		words_free(words, n);
		return 0;
	}
	if (grammar_parse(sh, words, n, &p, err, errlen) == -1) {
		parsed_free(&p);
		words_free(words, n);
		return -1;
	}
	sh->line = line;
	sh->err[0] = '\0';
	rc = p.cmd->exec(sh, &p);
	sh->line = saved;
	if (rc == -1)
		snprintf(err, errlen, "%s", sh->err);
	parsed_free(&p);
	words_free(words, n);
	return rc;
}
