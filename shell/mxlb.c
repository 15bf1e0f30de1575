/* mxlb: the operator shell. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interactive.h"
#include "monitor.h"
#include "shell.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: mxlb [--continue] [-c 'COMMAND; COMMAND...'] [--rundir DIR]\n"
	    "       mxlb monitor [ZONE...]\n"
	    "       mxlb check [ZONE...] [--warn-down N] [--crit-down N]\n"
	    "       mxlb bridge ZONE\n"
	    "       mxlb __complete WORD...\n"
	    "  interactive on a terminal; reads a script from stdin otherwise.\n"
	    "  'help' in the shell lists every command.\n");
	exit(2);
}

/* The run directory, as mxlbd finds it (README: Running a zone). */
static char *
rundir(const char *flag)
{
	const char *env = getenv("MXLB_RUNDIR"), *xdg;

	if (flag)
		return xstrdup(flag);
	if (env && *env)
		return xstrdup(env);
	if (geteuid() == 0)
		return xstrdup("/run/mxlb");
	if ((xdg = getenv("XDG_RUNTIME_DIR")) && *xdg)
		return xasprintf("%s/mxlb", xdg);
	return xasprintf("/tmp/mxlb-%u", (unsigned)geteuid());
}

/* Leaving with edits not applied: a warning, and exit status 3. */
static int
leave_status(struct shell *sh, int rc)
{
	if (rc == 0 && shell_pending(sh)) {
		for (size_t i = 0; i < sh->nzones; i++)
			if (zone_pending(sh->zones[i]))
				fprintf(stderr, "mxlb: zone %s has edits not "
				    "applied (zone apply %s); they are lost\n",
				    sh->zones[i]->name, sh->zones[i]->name);
		return 3;
	}
	return rc;
}

static int
batch(struct shell *sh, FILE *in, bool keep_going)
{
	char *line = NULL, err[8192];
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;

	while (!sh->quit && (len = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (shell_run_line(sh, line, err, sizeof err) == -1) {
			fprintf(stderr, "line %d: %s\n", lineno, err);
			rc = 1;
			if (!keep_going)
				break;
		}
	}
	free(line);
	fflush(sh->out);
	return rc;
}

/* -c 'a; b': commands separated by semicolons outside quotes. */
static int
oneshot(struct shell *sh, const char *cmds)
{
	char *copy = xstrdup(cmds), *p = copy, *start = copy, err[8192];
	char quote = 0;
	int rc = 0;

	for (;; p++) {
		if (quote && *p == quote)
			quote = 0;
		else if (!quote && (*p == '"' || *p == '\''))
			quote = *p;
		else if ((!quote && *p == ';') || *p == '\0') {
			bool end = *p == '\0';
			*p = '\0';
			if (shell_run_line(sh, start, err, sizeof err) == -1) {
				fprintf(stderr, "mxlb: %s\n", err);
				rc = 1;
				break;
			}
			if (end || sh->quit)
				break;
			start = p + 1;
		}
	}
	free(copy);
	return rc;
}

/* `mxlb __complete WORDS...`: the completions of the last word, for the
 * bash and zsh scripts; one per line, the word, a tab, its help. */
static int
complete(struct shell *sh, int argc, char **argv)
{
	struct cands c = { NULL, 0 };
	const char *partial = argc > 0 ? argv[argc - 1] : "";

	if (grammar_next(sh, argv, argc > 0 ? argc - 1 : 0, partial, &c) == -1)
		return 1;
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].word != NULL)
			printf("%s\t%s\n", c.v[i].word, c.v[i].help);
	cands_free(&c);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "continue", no_argument, NULL, 'k' },
		{ "rundir", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct shell sh;
	const char *cmds = NULL, *rd = NULL;
	bool keep_going = false;
	int ch, rc;

	memset(&sh, 0, sizeof sh);
	sh.out = stdout;
	/* Output and errors interleave in the order they happen, even when
	 * a script's output goes to a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "monitor") == 0) {
		sh.rundir = rundir(NULL);
		shell_discover(&sh);
		rc = monitor_run(&sh, argv + 2, argc - 2);
		shell_free(&sh);
		return rc;
	}
	if (argc == 2 && strcmp(argv[1], "__man") == 0) {
		grammar_man(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "check") == 0) {
		sh.rundir = rundir(NULL);
		shell_discover(&sh);
		rc = check_main(&sh, argc - 1, argv + 1);
		shell_free(&sh);
		return rc;
	}
	if (argc == 3 && strcmp(argv[1], "bridge") == 0) {
		sh.rundir = rundir(NULL);
		rc = bridge_main(&sh, argv[2]);
		shell_free(&sh);
		return rc;
	}
	if (argc > 1 && strcmp(argv[1], "__complete") == 0) {
		sh.rundir = rundir(NULL);
		shell_discover(&sh);
		rc = complete(&sh, argc - 2, argv + 2);
		shell_free(&sh);
		return rc;
	}
	while ((ch = getopt_long(argc, argv, "c:hk", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cmds = optarg; break;
		case 'k': keep_going = true; break;
		case 'R': rd = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	sh.rundir = rundir(rd);
	shell_discover(&sh);
	if (cmds != NULL)
		rc = leave_status(&sh, oneshot(&sh, cmds));
	else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		sh.interactive = true;
		rc = interactive(&sh);
	} else
		rc = leave_status(&sh, batch(&sh, stdin, keep_going));
	shell_free(&sh);
	return rc;
}
