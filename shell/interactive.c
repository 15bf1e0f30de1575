/*
 * The interactive shell: libedit with the prompt mxlb(ZONE)# (a * when
 * edits are not applied), `?` for what may come next, TAB to complete,
 * a history file, and ~/.editrc respected.
 */
#include <errno.h>
#include <histedit.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "interactive.h"
#include "peer.h"

/* What the input reader hands libedit when a zone has something to say:
 * bound to on_events, which prints it above the line being typed. */
#define KEY_EVENTS	0x1d	/* ^] */
#define KEY_INTR	0x03	/* ^C */

static struct shell *the_shell;

static char *
prompt(EditLine *el)
{
	static char buf[128];
	struct shell *sh = the_shell;

	(void)el;
	snprintf(buf, sizeof buf, "mxlb(%s)%s# ", sh->nzones == 1 ?
	    sh->zones[0]->name : "*", shell_pending(sh) ? "*" : "");
	return buf;
}

void
print_cands(FILE *f, const struct cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		fprintf(f, "  %-22s %s\n", c->v[i].word ? c->v[i].word :
		    c->v[i].meta, c->v[i].help);
}

/* The words before the cursor, and the one being typed. */
static int
line_words(EditLine *el, char ***words, int *n, char **partial)
{
	const LineInfo *li = el_line(el);
	char *text = xstrndup_(li->buffer, (size_t)(li->cursor - li->buffer));
	char err[256];
	bool trailing;

	if (line_split(text, words, n, &trailing, err, sizeof err) == -1) {
		free(text);
		return -1;
	}
	free(text);
	if (!trailing && *n > 0) {
		*partial = (*words)[--*n];
		(*words)[*n] = NULL;
	} else
		*partial = xstrdup("");
	return 0;
}

static unsigned char
on_help(EditLine *el, int ch)
{
	struct cands c = { NULL, 0 };
	char **words, *partial;
	int n;

	(void)ch;
	if (line_words(el, &words, &n, &partial) == -1)
		return CC_REDISPLAY;
	putchar('\n');
	if (grammar_next(the_shell, words, n, partial, &c) == -1)
		printf("  %% %s\n", grammar_error());
	else if (c.n == 0)
		printf("  %% nothing may come here\n");
	else
		print_cands(stdout, &c);
	cands_free(&c);
	words_free(words, n);
	free(partial);
	return CC_REDISPLAY;
}

/* The longest prefix the completions share. */
static size_t
common_len(const struct cands *c)
{
	size_t len = SIZE_MAX;

	for (size_t i = 0; i < c->n; i++) {
		size_t k = 0;
		if (c->v[i].word == NULL)
			continue;
		if (len == SIZE_MAX) {
			len = strlen(c->v[i].word);
			continue;
		}
		while (k < len && c->v[0].word && c->v[i].word[k] ==
		    c->v[0].word[k])
			k++;
		len = k;
	}
	return len == SIZE_MAX ? 0 : len;
}

static unsigned char
on_complete(EditLine *el, int ch)
{
	struct cands c = { NULL, 0 }, words_only = { NULL, 0 };
	char **words, *partial;
	int n;
	unsigned char rc = CC_REFRESH;

	(void)ch;
	if (line_words(el, &words, &n, &partial) == -1)
		return CC_ERROR;
	if (grammar_next(the_shell, words, n, partial, &c) == -1)
		rc = CC_ERROR;
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].word != NULL) {
			*ARRAY_PUSH(words_only.v, words_only.n) = c.v[i];
		}
	if (words_only.n == 1) {
		el_insertstr(el, words_only.v[0].word + strlen(partial));
		el_insertstr(el, " ");
	} else if (words_only.n > 1) {
		size_t len = common_len(&words_only);
		if (len > strlen(partial)) {
			char *ins = xstrndup_(words_only.v[0].word +
			    strlen(partial), len - strlen(partial));
			el_insertstr(el, ins);
			free(ins);
		} else {
			putchar('\n');
			print_cands(stdout, &words_only);
			rc = CC_REDISPLAY;
		}
	} else if (rc != CC_ERROR)
		rc = CC_ERROR;	/* nothing to complete: beep */
	free(words_only.v);
	cands_free(&c);
	words_free(words, n);
	free(partial);
	return rc;
}

/* Ctrl-C: the line typed so far is dropped, the shell stays. */
static unsigned char
on_interrupt(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);

	(void)ch;
	el_cursor(el, (int)(li->lastchar - li->cursor));
	li = el_line(el);
	el_deletestr(el, (int)(li->cursor - li->buffer));
	printf("^C\n");
	return CC_REDISPLAY;
}

/* Notices from the zones, above the line being typed. */
static unsigned char
on_events(EditLine *el, int ch)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)el;
	(void)ch;
	if (f == NULL)
		return CC_NORM;
	shell_follow(the_shell, f);
	fclose(f);
	if (len == 0) {
		free(text);
		return CC_NORM;
	}
	printf("\n%s", text);
	fflush(stdout);
	free(text);
	return CC_REDISPLAY;
}

/*
 * libedit's input: the terminal, and the zones' event connections, so
 * that a revert or another operator's commit is told while the operator
 * types; SIGINT (Ctrl-C) arrives as ^C.
 */
static int
read_key(EditLine *el, wchar_t *wc)
{
	static mbstate_t mbs;
	struct pollfd p[65];
	int fds[64];
	size_t n;
	char c;

	(void)el;
	for (;;) {
		if (peer_interrupted) {
			peer_interrupted = 0;
			*wc = KEY_INTR;
			return 1;
		}
		if (shell_watch_fds(the_shell, fds, &n, nitems(fds))) {
			*wc = KEY_EVENTS;
			return 1;
		}
		p[0] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		for (size_t i = 0; i < n; i++)
			p[i + 1] = (struct pollfd){ fds[i], POLLIN, 0 };
		if (poll(p, n + 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (p[i + 1].revents != 0) {
				*wc = KEY_EVENTS;
				return 1;
			}
		if (p[0].revents == 0)
			continue;
		switch (read(STDIN_FILENO, &c, 1)) {
		case -1:
			if (errno == EINTR)
				continue;
			return -1;
		case 0:
			return 0;
		}
		switch (mbrtowc(wc, &c, 1, &mbs)) {
		case (size_t)-2:
			continue;	/* more bytes of this character */
		case (size_t)-1:
			memset(&mbs, 0, sizeof mbs);
			*wc = (unsigned char)c;
			return 1;
		default:
			return 1;
		}
	}
}

static bool
confirm_leave(struct shell *sh, EditLine *el)
{
	char answer[16];

	(void)el;
	if (!shell_pending(sh))
		return true;
	printf("\nEdits are not applied (show diff). Leave anyway? [y/N] ");
	fflush(stdout);
	if (fgets(answer, sizeof answer, stdin) == NULL) {
		clearerr(stdin);
		/* Ctrl-C is "no", end of input is "yes". */
		if (peer_interrupted) {
			peer_interrupted = 0;
			putchar('\n');
			return false;
		}
		return true;
	}
	return answer[0] == 'y' || answer[0] == 'Y';
}

int
interactive(struct shell *sh)
{
	EditLine *el = el_init("mxlb", stdin, stdout, stderr);
	History *h = history_init();
	HistEvent ev;
	const char *line, *home = getenv("HOME");
	char *histfile = home ? xasprintf("%s/.mxlb_history", home) : NULL;
	char err[8192], *copy;
	int count;

	the_shell = sh;
	history(h, &ev, H_SETSIZE, 1000);
	if (histfile)
		history(h, &ev, H_LOAD, histfile);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, prompt);
	el_set(el, EL_HIST, history, h);
	el_set(el, EL_ADDFN, "mxlb-complete", "complete the word", on_complete);
	el_set(el, EL_ADDFN, "mxlb-help", "what may come next", on_help);
	el_set(el, EL_BIND, "^I", "mxlb-complete", NULL);
	el_set(el, EL_BIND, "?", "mxlb-help", NULL);
	el_set(el, EL_ADDFN, "mxlb-interrupt", "drop the line", on_interrupt);
	el_set(el, EL_ADDFN, "mxlb-events", "what the zones said", on_events);
	el_set(el, EL_BIND, "^C", "mxlb-interrupt", NULL);
	el_set(el, EL_BIND, "^]", "mxlb-events", NULL);
	el_set(el, EL_GETCFN, read_key);
	el_source(el, NULL);	/* ~/.editrc */
	printf("mxlb %zu zone%s; 'help' lists the commands, '?' what may come "
	    "next.\n", sh->nzones, sh->nzones == 1 ? "" : "s");
	while (!sh->quit) {
		shell_follow(sh, stdout);
		peer_interrupted = 0;
		if ((line = el_gets(el, &count)) == NULL || count == 0) {
			if (confirm_leave(sh, el))
				break;
			continue;
		}
		copy = xstrndup_(line, strcspn(line, "\n"));
		if (*copy != '\0')
			history(h, &ev, H_ENTER, copy);
		peer_interrupted = 0;
		if (shell_run_line(sh, copy, err, sizeof err) == -1)
			/* After the terminal's ^C, on a line of its own. */
			printf("%s%% %s\n", peer_interrupted ? "\n" : "", err);
		peer_interrupted = 0;
		if (sh->quit && !confirm_leave(sh, el))
			sh->quit = false;
		free(copy);
		fflush(stdout);
	}
	if (histfile)
		history(h, &ev, H_SAVE, histfile);
	free(histfile);
	history_end(h);
	el_end(el);
	putchar('\n');
	return 0;
}
