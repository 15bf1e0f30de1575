/*
 * `mxlb monitor [ZONE...]` and the shell's `monitor`: the ncurses loop.
 * It polls the engines once a second, renders the snapshot into a buffer
 * (monitor-draw.c) and copies that to the terminal, which curses updates
 * by difference: no flicker.  The terminal is restored on q, on a signal
 * and on any exit path.
 */
#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "proto.h"

static volatile sig_atomic_t mon_stop;
static bool mon_curses;

static void
on_signal(int sig)
{
	(void)sig;
	mon_stop = 1;
}

static void
restore(void)
{
	if (mon_curses) {
		endwin();
		mon_curses = false;
	}
}

static int
attr_of(enum mon_attr a, bool color)
{
	switch (a) {
	case AT_HEADER: return A_REVERSE;
	case AT_TITLE: return A_BOLD;
	case AT_SELECTED: return A_REVERSE | A_BOLD;
	case AT_GOOD: return color ? COLOR_PAIR(1) : A_NORMAL;
	case AT_WARN: return color ? COLOR_PAIR(2) | A_BOLD : A_BOLD;
	case AT_BAD: return color ? COLOR_PAIR(3) | A_BOLD : A_BOLD | A_UNDERLINE;
	case AT_DIM: return A_DIM;
	default: return A_NORMAL;
	}
}

static void
blit(const struct mon_screen *s, bool color)
{
	for (int y = 0; y < s->h; y++) {
		move(y, 0);
		for (int x = 0; x < s->w; x++) {
			size_t at = (size_t)y * (size_t)s->w + (size_t)x;
			/* The last cell of the screen would scroll it. */
			if (y == s->h - 1 && x == s->w - 1)
				break;
			addch((chtype)(unsigned char)s->text[at] |
			    (chtype)attr_of((enum mon_attr)s->attr[at], color));
		}
	}
	refresh();
}

/*
 * The filter, typed on the status line.  It applies as it is typed and
 * the screen keeps refreshing meanwhile, as for a question: counters that
 * stood still while the operator typed would be stale ones shown as live.
 * Enter keeps it, Escape puts back the one before.
 */
struct edit {
	bool		 open;
	char		 before[sizeof ((struct mon_view *)0)->filter];
};

static void
edit_show(struct mon_view *v)
{
	snprintf(v->status, sizeof v->status, "filter: %s", v->filter);
}

static void
edit_open(struct mon_view *v, struct edit *e)
{
	e->open = true;
	snprintf(e->before, sizeof e->before, "%s", v->filter);
	v->filter[0] = '\0';
	v->selected = 0;
	edit_show(v);
}

static void
edit_key(struct mon_view *v, struct edit *e, int ch)
{
	size_t n = strlen(v->filter);

	if (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == 27) {
		if (ch == 27)
			snprintf(v->filter, sizeof v->filter, "%s", e->before);
		e->open = false;
		v->status[0] = '\0';
		return;
	}
	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0)
		v->filter[n - 1] = '\0';
	else if (ch >= 32 && ch < 127 && n + 1 < sizeof v->filter) {
		v->filter[n] = (char)ch;
		v->filter[n + 1] = '\0';
	}
	v->selected = 0;
	edit_show(v);
}

/*
 * A question on the status line: d, m and r ask before they act.  The
 * screen keeps refreshing meanwhile (the answer is just the next key), and
 * y alone answers: no Enter.
 */
struct question {
	bool		 open;
	char		 state[8];
	struct mon_target t;
};

static void
ask(struct mon_view *v, struct question *q, const struct mon_target *t,
    const char *state)
{
	if (t->server[0] == '\0')
		return;
	q->open = true;
	snprintf(q->state, sizeof q->state, "%s", state);
	q->t = *t;
	snprintf(v->status, sizeof v->status, "%s %s/%s in zone %s? [y/N] ",
	    state, t->farm, t->server, t->zone);
}

static void
answer(struct mon_source *src, struct mon_view *v, struct question *q,
    int ch)
{
	char err[256];

	q->open = false;
	if (ch != 'y' && ch != 'Y') {
		snprintf(v->status, sizeof v->status, "nothing done");
		return;
	}
	if (mon_source_admin(src, &q->t, q->state, err, sizeof err) == -1)
		snprintf(v->status, sizeof v->status, "%.200s", err);
	else
		snprintf(v->status, sizeof v->status, "%s/%s: %s", q->t.farm,
		    q->t.server, q->state);
}

/* The selected server's sessions, asked of its engine. */
static json_t *
sessions_fetch(struct shell *sh, const struct mon_target *t, char *err,
    size_t errlen)
{
	struct zone *z = shell_zone(sh, t->zone);

	err[0] = '\0';
	if (z == NULL || t->server[0] == '\0') {
		snprintf(err, errlen, "no server selected");
		return NULL;
	}
	return engine_call(z, json_pack("{s:s,s:s,s:s}", K_CMD, CMD_SESSIONS,
	    K_FARM, t->farm, K_SERVER, t->server), err, errlen);
}

/* z: every zone, then each in turn. */
static void
next_zone(struct shell *sh, struct mon_view *v)
{
	size_t i;

	for (i = 0; i < sh->nzones; i++)
		if (!strcmp(sh->zones[i]->name, v->zone))
			break;
	if (v->zone[0] == '\0')
		i = 0;
	else
		i++;
	snprintf(v->zone, sizeof v->zone, "%s", i < sh->nzones ?
	    sh->zones[i]->name : "");
}

/* Returns false to quit. */
static bool
key(struct shell *sh, struct mon_view *v, struct question *q,
    struct edit *e, const struct mon_target *t, int nrows, int ch)
{
	if (v->help && ch != ERR && ch != KEY_RESIZE) {
		v->help = false;
		return true;
	}
	switch (ch) {
	case 'q': case 'Q': return false;
	case KEY_UP: case 'k': v->selected--; break;
	case KEY_DOWN: case 'j': v->selected++; break;
	case KEY_PPAGE: v->selected -= LINES / 2; break;
	case KEY_NPAGE: v->selected += LINES / 2; break;
	case KEY_HOME: v->selected = 0; break;
	case KEY_END: v->selected = nrows - 1; break;
	case 's': v->sort = (v->sort + 1) % SORT_MAX; break;
	case 'z': next_zone(sh, v); v->selected = 0; break;
	case '?': v->help = true; break;
	case 'l': v->sessions = !v->sessions; break;
	case '/': edit_open(v, e); break;
	case 'd': ask(v, q, t, admin_names[ADMIN_DRAIN]); break;
	case 'm': ask(v, q, t, admin_names[ADMIN_MAINT]); break;
	case 'r': ask(v, q, t, admin_names[ADMIN_READY]); break;
	case 27:
		v->status[0] = '\0';
		v->sessions = false;
		break;
	}
	return true;
}

/* While the selected server drains, the status line counts it down. */
static void
drain_progress(struct mon_view *v, const struct mon_target *t)
{
	if (strcmp(t->admin, admin_names[ADMIN_DRAIN]) != 0 || strncmp(v->status, t->farm,
	    strlen(t->farm)) != 0)
		return;
	if (t->sessions > 0)
		snprintf(v->status, sizeof v->status, "%s/%s: draining, %llu "
		    "session%s left", t->farm, t->server,
		    (unsigned long long)t->sessions, t->sessions == 1 ? "" : "s");
	else
		snprintf(v->status, sizeof v->status, "%s/%s: drained, no "
		    "session left", t->farm, t->server);
}

int
monitor_run(struct shell *sh, char **zones, int nzones)
{
	struct mon_source *src = mon_source_new(sh, zones, nzones);
	struct mon_view v;
	struct mon_screen s;
	struct mon_target t;
	struct mon_snapshot *snap = NULL;
	struct question q;
	struct edit e;
	json_t *sess = NULL;
	char sess_err[256] = "";
	uint64_t last = 0;
	int nrows = 0, ch = ERR;

	static bool registered;
	struct sigaction sa, old[3];
	const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };

	memset(&v, 0, sizeof v);
	memset(&q, 0, sizeof q);
	memset(&e, 0, sizeof e);
	memset(&t, 0, sizeof t);
	mon_stop = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	if (!registered) {
		atexit(restore);	/* the terminal back on any exit path */
		registered = true;
	}
	initscr();
	mon_curses = true;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(200);
	if ((v.color = has_colors())) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_RED, -1);
	}
	while (!mon_stop) {
		if (now_ms() - last >= 1000) {
			snap = mon_source_poll(src);
			json_decref(sess);
			sess = v.sessions ? sessions_fetch(sh, &t, sess_err,
			    sizeof sess_err) : NULL;
			last = now_ms();
		}
		mon_screen_init(&s, COLS, LINES);
		nrows = mon_render(snap, &v, &s, &t);
		if (!q.open && !e.open)
			drain_progress(&v, &t);
		mon_render(snap, &v, &s, &t);
		if (v.sessions && !v.help)
			mon_render_sessions(&s, &t, sess, sess_err);
		blit(&s, v.color);
		mon_screen_free(&s);
		ch = getch();
		if (ch == ERR || ch == KEY_RESIZE)
			continue;
		if (e.open) {
			edit_key(&v, &e, ch);
			continue;	/* the filter is ours: no need to ask */
		}
		if (q.open)
			answer(src, &v, &q, ch);
		else if (!key(sh, &v, &q, &e, &t, nrows, ch))
			break;
		last = 0;	/* show the effect at once */
	}
	json_decref(sess);
	restore();
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	mon_source_free(src);
	return 0;
}

static int
monitor_cmd(struct shell *sh, const struct parsed *p)
{
	(void)p;
	if (!sh->interactive)
		return shell_error(sh, "monitor needs a terminal");
	return monitor_run(sh, NULL, 0);
}

const struct cmd_entry cmd_monitor = {
	.words = { "monitor" },
	.help = "the live dashboard of every zone (q returns here)",
	.exec = monitor_cmd,
	.example = "monitor",
};
