/* mxlb: the operator shell. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interactive.h"
#include "monitor.h"
#include "peer.h"
#include "shell.h"

/* --help on stdout, exit 0; a usage error on stderr, exit 2. */
static void
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: mxlb [OPTIONS] [COMMAND WORDS...]\n"
	    "       mxlb [OPTIONS] -c 'COMMAND; COMMAND...'\n"
	    "       mxlb [OPTIONS] monitor [ZONE...]\n"
	    "       mxlb check [ZONE...] [-t SEC] [--warn-down N] [--crit-down N]"
	    "\n"
	    "       mxlb bridge ZONE\n"
	    "       mxlb agent [OPTIONS]  (on an MX: mxlb agent --help)\n"
	    "       mxlb __complete WORD...\n"
	    "  interactive on a terminal; reads a script from stdin otherwise;\n"
	    "  words after the options are one command (mxlb show servers).\n"
	    "  -c CMDS         run these commands, separated by ';'\n"
	    "  -k, --continue  a script goes on after an error\n"
	    "  --rundir DIR    the zones' sockets are in DIR (MXLB_RUNDIR)\n"
	    "  -t, --timeout SEC  wait at most SEC for an engine (default 10)\n"
	    "  -V, --version   mxlb's version\n"
	    "  -h, --help      this text\n"
	    "  'help' in the shell lists every command.\n");
	exit(status);
}

static void
on_sigint(int sig)
{
	(void)sig;
	peer_interrupted = 1;
}

/* SIGINT interrupts a wait (no SA_RESTART) and is handled where it
 * lands: the prompt drops the line, a script stops. */
static void
catch_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

static int
timeout_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v > 0 && v <= 86400)) {
		fprintf(stderr, "mxlb: --timeout %s: seconds, more than 0 and "
		    "at most 86400\n", s);
		exit(2);
	}
	return (int)(v * 1000 + 0.5) ?: 1;
}

/* Words as one command line, quoted where the shell would split them. */
static char *
words_line(int argc, char **argv)
{
	char *line = xstrdup(""), *next;

	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		bool plain = *w != '\0' && strcspn(w, " \t\"'#;") == strlen(w);
		char q = strchr(w, '"') ? '\'' : '"';
		next = plain ? xasprintf("%s%s%s", line, i ? " " : "", w) :
		    xasprintf("%s%s%c%s%c", line, i ? " " : "", q, w, q);
		free(line);
		line = next;
	}
	return line;
}

/* The run directory, as mxlbd finds it (README: Running a zone). */
static char *
rundir(char *flag)
{
	char *dir = zone_rundir(flag);

	free(flag);
	return dir;
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

	while (!sh->quit && !peer_interrupted &&
	    (len = getline(&line, &cap, in)) != -1) {
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
	if (peer_interrupted) {
		fprintf(stderr, "mxlb: interrupted at line %d; nothing after it "
		    "was run\n", lineno);
		return 130;
	}
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
				rc = peer_interrupted ? 130 : 1;
				break;
			}
			if (peer_interrupted) {
				rc = 130;
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

static int
run_monitor(struct shell *sh, int argc, char **argv)
{
	int rc;

	sh->rundir = rundir(sh->rundir);
	sh->names_only = true;	/* each poll asks the engines */
	shell_discover(sh);
	rc = monitor_run(sh, argv, argc);
	shell_free(sh);
	return rc;
}

static int
run_check(struct shell *sh, int argc, char **argv)
{
	int rc;

	sh->rundir = rundir(sh->rundir);
	rc = check_main(sh, argc, argv);
	shell_free(sh);
	return rc;
}

static int
run_bridge(struct shell *sh, int argc, char **argv)
{
	int rc;

	if (argc != 2)
		usage(stderr, 2);
	sh->rundir = rundir(sh->rundir);
	rc = bridge_main(sh, argv[1]);
	shell_free(sh);
	return rc;
}

/* The shell itself: a command, -c, a terminal, or a script. */
static int
run_shell(struct shell *sh, const char *cmds, bool keep_going, int argc,
    char **argv)
{
	char err[8192], *line;
	int rc;

	sh->rundir = rundir(sh->rundir);
	catch_sigint();
	shell_discover(sh);
	if (argc > 0) {
		line = words_line(argc, argv);
		rc = 0;
		if (shell_run_line(sh, line, err, sizeof err) == -1) {
			fprintf(stderr, "mxlb: %s\n", err);
			rc = peer_interrupted ? 130 : 1;
		}
		free(line);
		rc = leave_status(sh, rc);
	} else if (cmds != NULL)
		rc = leave_status(sh, oneshot(sh, cmds));
	else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		sh->interactive = true;
		rc = interactive(sh);
	} else
		rc = leave_status(sh, batch(sh, stdin, keep_going));
	shell_free(sh);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "continue", no_argument, NULL, 'k' },
		{ "rundir", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
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
	if (argc == 2 && strcmp(argv[1], "__man") == 0) {
		grammar_man(stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "__names") == 0)
		return grammar_man_names(stdout, argv[2]) == 0 ? 0 : 2;
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return run_check(&sh, argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "agent") == 0)
		return agent_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "__complete") == 0) {
		sh.rundir = rundir(NULL);
		shell_discover(&sh);
		rc = complete(&sh, argc - 2, argv + 2);
		shell_free(&sh);
		return rc;
	}
	/* '+': the options end at the first word, the command's. */
	while ((ch = getopt_long(argc, argv, "+c:hkt:V", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c': cmds = optarg; break;
		case 'k': keep_going = true; break;
		case 'R': rd = optarg; break;
		case 't': peer_timeout_ms = timeout_arg(optarg); break;
		case 'V': printf("mxlb %s\n", MXLB_VERSION); return 0;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	sh.rundir = rd ? xstrdup(rd) : NULL;
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[0], "monitor") == 0)
		return run_monitor(&sh, argc - 1, argv + 1);
	if (argc > 0 && strcmp(argv[0], "check") == 0)
		return run_check(&sh, argc, argv);
	if (argc > 0 && strcmp(argv[0], "bridge") == 0)
		return run_bridge(&sh, argc, argv);
	if (argc > 0 && cmds != NULL)
		usage(stderr, 2);
	return run_shell(&sh, cmds, keep_going, argc, argv);
}
