/*
 * Rendering a monitor snapshot into a screen buffer: pure, so the layout
 * is tested without a terminal.  Columns are chosen by priority to fit
 * the width (80 columns upwards); states are written out as words, so the
 * screen reads the same without colour.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "proto.h"

enum col_id { C_NAME, C_ADDR, C_ADMIN, C_STATE, C_W, C_TIER, C_CUR, C_MAX, C_TOT,
	C_RATE, C_Q, C_QMX, C_WAIT, C_IN, C_OUT, C_ERR, C_REDIS, C_SINCE,
	C_CHECK, C_COUNT };

#define CNT(id)	(&counter_defs[id])

static const struct {
	const char	*title;
	int		 width;
	int		 prio;		/* lower fits first; 0: always */
	const struct counter_def *counter;	/* the column shows it */
} cols[C_COUNT] = {
	[C_NAME] = { "NAME", 16, 0, NULL },
	[C_ADDR] = { "ADDRESS", 21, 5, NULL },
	[C_ADMIN] = { "ADMIN", 5, 0, NULL },
	[C_STATE] = { "STATE", 9, 0, NULL },
	[C_W] = { "W", 3, 0, NULL },
	[C_TIER] = { "TIER", 4, 0, NULL },
	[C_CUR] = { "CUR", 4, 0, CNT(CNT_SESSIONS_CUR) },
	[C_MAX] = { "MAX", 4, 3, CNT(CNT_SESSIONS_MAX) },
	[C_TOT] = { "TOTAL", 6, 0, CNT(CNT_SESSIONS_TOTAL) },
	[C_RATE] = { "/S", 4, 0, NULL },
	[C_Q] = { "Q", 3, 0, CNT(CNT_QUEUE_CUR) },
	[C_QMX] = { "QMX", 3, 6, CNT(CNT_QUEUE_MAX) },
	[C_WAIT] = { "WAIT", 5, 1, NULL },
	[C_IN] = { "IN", 6, 4, CNT(CNT_BYTES_IN) },
	[C_OUT] = { "OUT", 6, 4, CNT(CNT_BYTES_OUT) },
	[C_ERR] = { "ERR", 4, 2, CNT(CNT_CONNECT_FAIL) },
	[C_REDIS] = { "REDIS", 5, 6, CNT(CNT_REDISPATCH) },
	[C_SINCE] = { "SINCE", 5, 2, NULL },
	[C_CHECK] = { "LAST CHECK", 16, 0, NULL },
};

const char *
mon_sort_name(enum mon_sort s)
{
	static const char *const names[] = { "config", "name", "sessions",
	    "state" };
	return names[s];
}

void
mon_screen_init(struct mon_screen *s, int w, int h)
{
	s->w = w;
	s->h = h;
	s->text = xmalloc((size_t)w * (size_t)h);
	s->attr = xcalloc((size_t)w * (size_t)h, 1);
	memset(s->text, ' ', (size_t)w * (size_t)h);
}

void
mon_screen_free(struct mon_screen *s)
{
	free(s->text);
	free(s->attr);
}

/* Writes at (row, col), clipped to the screen; returns the end column. */
static int
put(struct mon_screen *s, int row, int col, int width, enum mon_attr a,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
put(struct mon_screen *s, int row, int col, int width, enum mon_attr a,
    const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (row < 0 || row >= s->h || col >= s->w)
		return col;
	char *e;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* Banners and comments come from peers: \x1b shows, ESC is not sent. */
	e = str_escape(buf);
	n = (int)strlen(e);
	if (width < 0 || col + width > s->w)
		width = s->w - col;
	for (int i = 0; i < width; i++) {
		size_t at = (size_t)row * (size_t)s->w + (size_t)(col + i);
		unsigned char ch = i < n ? (unsigned char)e[i] : ' ';
		s->text[at] = (ch >= 32 && ch < 127) ? (char)ch : '?';
		s->attr[at] = (unsigned char)a;
	}
	free(e);
	return col + width;
}

static void
fmt_bytes(char *b, size_t len, uint64_t v)
{
	const char *u = " KMGTP";
	double d = (double)v;
	int i = 0;

	while (d >= 1000 && i < 5) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(b, len, "%llu", (unsigned long long)v);
	else
		snprintf(b, len, "%.*f%c", d < 10 ? 1 : 0, d, u[i]);
}

static void
fmt_age(char *b, size_t len, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(b, len, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(b, len, "%lldm", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(b, len, "%lldh", (long long)secs / 3600);
	else
		snprintf(b, len, "%lldd", (long long)secs / 86400);
}

/*
 * The columns that fit: all with priority 0, then by priority.  The most
 * useful ones (priority 1-3) need only leave LAST CHECK a little room;
 * the rest are shown only where the longest check text still fits whole
 * (up to CHECK_WANT_MAX), so a server's banner or its 421 reason is read,
 * not cut, on a wide terminal.
 */
#define CHECK_MIN	12
#define CHECK_WANT_MAX	64

static void
choose_cols(int width, int check_want, bool on[C_COUNT])
{
	int used = 2, want;

	want = check_want < CHECK_MIN ? CHECK_MIN : check_want >
	    CHECK_WANT_MAX ? CHECK_WANT_MAX : check_want;
	for (int i = 0; i < C_COUNT; i++) {
		on[i] = cols[i].prio == 0;
		if (on[i] && i != C_CHECK)
			used += cols[i].width + 1;
	}
	for (int p = 1; p <= 6; p++)
		for (int i = 0; i < C_COUNT; i++)
			if (cols[i].prio == p && used + cols[i].width + 1 +
			    (p <= 3 ? CHECK_MIN : want) <= width) {
				on[i] = true;
				used += cols[i].width + 1;
			}
}

/* "192.0.2.10:25", "[2001:db8::25]:25"; the address alone for port 0. */
void
mon_format_address(char *b, size_t len, const char *addr, long port)
{
	if (port <= 0)
		snprintf(b, len, "%s", addr);
	else if (strchr(addr, ':') != NULL)
		snprintf(b, len, "[%s]:%ld", addr, port);
	else
		snprintf(b, len, "%s:%ld", addr, port);
}

/* A rate in `width` characters: one decimal while it fits and means
 * something (below 100), whole numbers above, then K and M: never
 * "1058." cut from 1058.3. */
void
mon_format_rate(char *b, size_t len, double r, int width)
{
	if (r < 0)
		r = 0;
	if (r < 100)
		snprintf(b, len, "%.1f", r);
	else
		snprintf(b, len, "%.0f", r);
	if ((int)strlen(b) <= width)
		return;
	if (r < 1e6)
		snprintf(b, len, "%.*fK", r < 9950 ? 1 : 0, r / 1000);
	else
		snprintf(b, len, "%.*fM", r < 9.95e6 ? 1 : 0, r / 1e6);
}

/* The longest "CHECK (Nms)" of the servers shown. */
static int
check_width(const struct mon_snapshot *snap)
{
	int w = 0, n;

	for (size_t i = 0; snap != NULL && i < snap->nzones; i++)
		for (size_t j = 0; j < snap->zones[i].nfarms; j++)
			for (size_t k = 0; k < snap->zones[i].farms[j].nservers;
			    k++) {
				const struct mon_server *v =
				    &snap->zones[i].farms[j].servers[k];
				char *e = str_escape(v->check);
				n = (int)strlen(e) + snprintf(NULL, 0, " (%ums)",
				    v->check_ms);
				free(e);
				if (n > w)
					w = n;
			}
	return w;
}

enum row_kind { R_ZONE, R_FRONTEND, R_FARM, R_SERVER };

struct row {
	enum row_kind		 kind;
	const struct mon_zone	*zone;
	const struct mon_frontend *fe;
	const struct mon_farm	*farm;
	const struct mon_server	*srv;
};

struct rows {
	struct row	*v;
	size_t		 n;
};

static void
row_add(struct rows *r, struct row row)
{
	*ARRAY_PUSH(r->v, r->n) = row;
}

static int
state_rank(const struct mon_server *s)
{
	int p = names_find(pstate_names, PSTATE_MAX, s->state);

	if (p == PSTATE_DOWN)
		return 0;
	if (p == PSTATE_NOLB || names_find(admin_names, ADMIN_MAX, s->admin) !=
	    ADMIN_READY)
		return 1;
	return 2;
}

static enum mon_sort sort_key;

static int
server_cmp(const void *a, const void *b)
{
	const struct mon_server *x = *(const struct mon_server *const *)a;
	const struct mon_server *y = *(const struct mon_server *const *)b;

	switch (sort_key) {
	case SORT_NAME:
		return strcmp(x->name, y->name);
	case SORT_SESSIONS:
		return x->c.cur == y->c.cur ? strcmp(x->name, y->name) :
		    x->c.cur > y->c.cur ? -1 : 1;
	case SORT_STATE:
		return state_rank(x) - state_rank(y);
	default:
		return 0;
	}
}

static bool
matches(const struct mon_view *v, const char *a, const char *b)
{
	return v->filter[0] == '\0' || strstr(a, v->filter) != NULL ||
	    (b != NULL && strstr(b, v->filter) != NULL);
}

static void
farm_rows(struct rows *r, const struct mon_view *v, const struct mon_zone *z,
    const struct mon_farm *f)
{
	const struct mon_server **s = xreallocarray(NULL, f->nservers + 1,
	    sizeof *s);
	size_t n = 0;

	for (size_t i = 0; i < f->nservers; i++)
		if (matches(v, f->servers[i].name, f->name))
			s[n++] = &f->servers[i];
	if (n == 0 && !matches(v, f->name, NULL)) {
		free(s);
		return;
	}
	sort_key = v->sort;
	if (v->sort != SORT_CONFIG)
		qsort(s, n, sizeof *s, server_cmp);
	row_add(r, (struct row){ R_FARM, z, NULL, f, NULL });
	for (size_t i = 0; i < n; i++)
		row_add(r, (struct row){ R_SERVER, z, NULL, f, s[i] });
	free(s);
}

static void
build_rows(const struct mon_snapshot *snap, const struct mon_view *v,
    struct rows *r)
{
	for (size_t i = 0; i < snap->nzones; i++) {
		const struct mon_zone *z = &snap->zones[i];
		if (v->zone[0] != '\0' && strcmp(v->zone, z->name) != 0)
			continue;
		row_add(r, (struct row){ R_ZONE, z, NULL, NULL, NULL });
		for (size_t j = 0; j < z->nfes; j++)
			if (matches(v, z->fes[j].name, z->fes[j].farm))
				row_add(r, (struct row){ R_FRONTEND, z,
				    &z->fes[j], NULL, NULL });
		for (size_t j = 0; j < z->nfarms; j++)
			farm_rows(r, v, z, &z->farms[j]);
	}
}

/* An admin or a probe state's word: unchecked is neither good nor bad. */
static enum mon_attr
state_attr(const char *word)
{
	int a = names_find(admin_names, ADMIN_MAX, word);
	int p = names_find(pstate_names, PSTATE_MAX, word);

	if (a == ADMIN_READY || p == PSTATE_UP)
		return AT_GOOD;
	if (p == PSTATE_DOWN)
		return AT_BAD;
	if (a != -1 || p == PSTATE_NOLB)
		return AT_WARN;
	return AT_NORMAL;
}

/* 421s by reason, the ones that happened: "421 no-server 3 ...". */
static void
refusals(char *b, size_t len, const struct mon_counters *c)
{
	size_t off = 0;

	b[0] = '\0';
	for (size_t i = 0; i < REFUSE_MAX; i++)
		if (c->refused[i] > 0 && off < len)
			off += (size_t)snprintf(b + off, len - off, "%s%s %llu",
			    off ? " " : "421 ", refusal_names[i],
			    (unsigned long long)c->refused[i]);
}

/* A count in `width` characters: scaled (12M) when the digits do not fit,
 * never cut. */
static void
fmt_count(char *b, size_t len, uint64_t v, int width)
{
	static const char units[] = "KMGTP";
	double d = (double)v;

	snprintf(b, len, "%llu", (unsigned long long)v);
	for (int i = 0; (int)strlen(b) > width && i < 5; i++) {
		d /= 1000;
		snprintf(b, len, "%.*f%c", d < 10 ? 1 : 0, d, units[i]);
	}
}

static void
counter_cell(char *b, size_t len, const struct mon_counters *c,
    const struct counter_def *d, int width)
{
	uint64_t v = counter_value(&c->n, d);

	if (d->unit == CU_BYTES)
		fmt_bytes(b, len, v);
	else
		fmt_count(b, len, v, width);
}

/* The counter columns shared by frontend, farm and server rows. */
static int
counter_cells(struct mon_screen *s, int y, int x, const bool on[C_COUNT],
    const struct mon_counters *c, double oldest, enum mon_attr a)
{
	char b[32];

	for (int i = C_CUR; i <= C_REDIS; i++) {
		if (!on[i])
			continue;
		if (cols[i].counter != NULL)
			counter_cell(b, sizeof b, c, cols[i].counter,
			    cols[i].width);
		else if (i == C_RATE)
			mon_format_rate(b, sizeof b, c->rate, cols[i].width);
		else if (oldest > 0)		/* C_WAIT */
			snprintf(b, sizeof b, "%.1fs", oldest);
		else
			snprintf(b, sizeof b, "-");
		put(s, y, x, cols[i].width, a, "%*s", cols[i].width, b);
		x += cols[i].width + 1;
	}
	return x;
}

/* Columns before the counters (C_NAME..C_TIER) and their x positions. */
static int
col_x(const bool on[C_COUNT], int id)
{
	int x = 2;

	for (int i = 0; i < id; i++)
		if (on[i] && i != C_CHECK)
			x += cols[i].width + 1;
	return x;
}

static void
draw_titles(struct mon_screen *s, int y, const bool on[C_COUNT])
{
	put(s, y, 0, -1, AT_HEADER, "%s", "");
	for (int i = 0; i < C_COUNT; i++)
		if (on[i])
			put(s, y, col_x(on, i), i == C_CHECK ? -1 : cols[i].width,
			    AT_HEADER, i >= C_CUR && i <= C_REDIS ? "%*s" :
			    "%-*s", cols[i].width, cols[i].title);
}

static void
draw_server(struct mon_screen *s, int y, const bool on[C_COUNT],
    const struct row *r, bool sel, time_t now)
{
	const struct mon_server *v = r->srv;
	enum mon_attr a = sel ? AT_SELECTED : AT_NORMAL;
	char tier[24], since[32];

	put(s, y, 0, -1, a, "%s", sel ? ">" : "");
	put(s, y, col_x(on, C_NAME), cols[C_NAME].width, a, "  %s", v->name);
	if (on[C_ADDR])
		put(s, y, col_x(on, C_ADDR), cols[C_ADDR].width, a, "%s",
		    v->address);
	put(s, y, col_x(on, C_ADMIN), cols[C_ADMIN].width, sel ? a :
	    state_attr(v->admin), "%s", v->admin);
	put(s, y, col_x(on, C_STATE), cols[C_STATE].width, sel ? a :
	    state_attr(v->state), "%s", v->state);
	if (v->backup)
		snprintf(tier, sizeof tier, "bkp");
	else
		snprintf(tier, sizeof tier, "%ld", v->priority);
	/* The weight in use: while slow start or the agent lowers it, that
	 * one, marked (show servers says "3/10"). */
	if (v->eff_weight != v->weight && strcmp(v->state,
	    pstate_names[PSTATE_UP]) == 0 && v->eff_weight > 0)
		put(s, y, col_x(on, C_W), cols[C_W].width, sel ? a : AT_WARN,
		    "%*ld", cols[C_W].width, v->eff_weight);
	else
		put(s, y, col_x(on, C_W), cols[C_W].width, a, "%*ld",
		    cols[C_W].width, v->weight);
	put(s, y, col_x(on, C_TIER), cols[C_TIER].width, a, "%*s",
	    cols[C_TIER].width, tier);
	counter_cells(s, y, col_x(on, C_CUR), on, &v->c, v->oldest, a);
	if (on[C_SINCE]) {
		fmt_age(since, sizeof since, (int64_t)now - v->changed);
		put(s, y, col_x(on, C_SINCE), cols[C_SINCE].width, a, "%*s",
		    cols[C_SINCE].width, since);
	}
	put(s, y, col_x(on, C_CHECK), -1, sel ? a : (strcmp(v->state,
	    pstate_names[PSTATE_UP]) ?
	    state_attr(v->state) : AT_NORMAL), "%s (%ums)%s%s", v->check,
	    v->check_ms, v->agent[0] ? "  agent: " : "", v->agent);
}

static void
draw_row(struct mon_screen *s, int y, const bool on[C_COUNT],
    const struct row *r, bool sel, time_t now)
{
	char b[256];

	switch (r->kind) {
	case R_ZONE:
		/* One event loop is the rule: only more are worth a word. */
		snprintf(b, sizeof b, "  workers %zu", r->zone->workers);
		if (r->zone->up)
			put(s, y, 0, -1, AT_TITLE, "zone %s  engine %s  pid %lld  "
			    "up %llds%s", r->zone->name, r->zone->version,
			    (long long)r->zone->pid, (long long)r->zone->uptime,
			    r->zone->workers > 1 ? b : "");
		else
			put(s, y, 0, -1, AT_BAD, "zone %s  ENGINE NOT REACHED: "
			    "retrying", r->zone->name);
		break;
	case R_FRONTEND:
		put(s, y, col_x(on, C_NAME), col_x(on, C_CUR) - col_x(on, C_NAME) -
		    1, AT_DIM, "frontend %s > %s", r->fe->name, r->fe->farm);
		counter_cells(s, y, col_x(on, C_CUR), on, &r->fe->c, 0, AT_DIM);
		refusals(b, sizeof b, &r->fe->c);
		put(s, y, col_x(on, C_CHECK), -1, b[0] ? AT_WARN : AT_DIM, "%s",
		    b);
		break;
	case R_FARM:
		put(s, y, col_x(on, C_NAME), col_x(on, C_CUR) - col_x(on, C_NAME) -
		    1, AT_TITLE, "farm %s", r->farm->name);
		counter_cells(s, y, col_x(on, C_CUR), on, &r->farm->c,
		    r->farm->oldest, AT_TITLE);
		refusals(b, sizeof b, &r->farm->c);
		put(s, y, col_x(on, C_CHECK), -1, b[0] ? AT_WARN : AT_NORMAL,
		    "%s", b);
		break;
	case R_SERVER:
		draw_server(s, y, on, r, sel, now);
		break;
	}
}

/* Header items in order of importance; an item that does not fit before
 * the clock is dropped whole, never cut. */
static void
draw_header(struct mon_screen *s, const struct mon_snapshot *snap,
    const struct mon_view *v)
{
	uint64_t cur = 0, q = 0;
	double rate = 0, refused = 0;
	size_t up = 0, len = 0;
	char items[7][64], line[512] = "", when[16];
	struct tm tm;
	bool full = false;

	for (size_t i = 0; i < snap->nzones; i++) {
		const struct mon_zone *z = &snap->zones[i];
		up += z->up;
		for (size_t j = 0; j < z->nfarms; j++) {
			cur += z->farms[j].c.cur;
			q += z->farms[j].c.qcur;
			rate += z->farms[j].c.rate;
			refused += z->farms[j].c.refused_rate;
		}
	}
	snprintf(items[0], sizeof items[0], "mxlb monitor");
	snprintf(items[1], sizeof items[1], "zones %zu/%zu up", up, snap->nzones);
	snprintf(items[2], sizeof items[2], "sessions %llu",
	    (unsigned long long)cur);
	/* Whole numbers past 100: the figure fits, the decimal does not add. */
	snprintf(items[3], sizeof items[3], "%.*f/s", rate < 100 ? 1 : 0, rate);
	snprintf(items[4], sizeof items[4], "421 %.*f/s", refused < 100 ? 1 : 0,
	    refused);
	snprintf(items[5], sizeof items[5], "queue %llu", (unsigned long long)q);
	snprintf(items[6], sizeof items[6], "sort %s", mon_sort_name(v->sort));
	for (size_t i = 0; i < nitems(items) && !full; i++) {
		size_t add = strlen(items[i]) + (i ? 2 : 0);
		if (len + add > (size_t)(s->w > 9 ? s->w - 9 : 0)) {
			full = true;
			continue;
		}
		snprintf(line + len, sizeof line - len, "%s%s", i ? "  " : "",
		    items[i]);
		len += add;
	}
	strftime(when, sizeof when, "%H:%M:%S", localtime_r(&snap->now, &tm));
	put(s, 0, 0, -1, AT_HEADER, "%s", line);
	put(s, 0, s->w - 9, 9, AT_HEADER, " %s", when);
}

static int
draw_events(struct mon_screen *s, const struct mon_snapshot *snap, int rows)
{
	int y = s->h - 1 - rows;
	size_t first = snap->nevents > (size_t)(rows - 1) ?
	    snap->nevents - (size_t)(rows - 1) : 0;

	put(s, y, 0, -1, AT_HEADER, "events");
	for (size_t i = first; i < snap->nevents; i++)
		put(s, ++y, 0, -1, AT_NORMAL, "%s", snap->events[i]);
	return s->h - 1 - rows;
}

static const char *const help_lines[] = {
	"keys",
	"  Up/Down PgUp/PgDn Home/End   move between servers",
	"  d / m / r                    drain / maint / ready the server (asks;",
	"                               y answers, any other key does not)",
	"  l                            the server's sessions: who is connected,",
	"                               who waits in its queue (l again: back)",
	"  /                            filter by name as you type (Enter",
	"                               keeps it, Esc drops it; empty: none)",
	"  s                            sort: config, name, sessions, state",
	"  z                            one zone, the next, or all",
	"  ?                            this help (any key closes it)",
	"  q                            quit",
	"",
	"ADMIN ready|drain|maint is the operator's; STATE up|down|nolb is the",
	"probe's (unchecked: not probed yet).  Q: queued sessions, WAIT: the oldest one's wait, /S: new",
	"sessions per second, SINCE: time since the last state change.",
	NULL
};

/* Renders; returns the number of server rows.  *target is the selected
 * one (the view's selection is clamped to what exists). */
int
mon_render(const struct mon_snapshot *snap, struct mon_view *v,
    struct mon_screen *s, struct mon_target *target)
{
	struct rows r = { NULL, 0 };
	bool on[C_COUNT];
	int nsrv = 0, sel_row = -1, evrows, table_h, y;

	memset(s->text, ' ', (size_t)s->w * (size_t)s->h);
	memset(s->attr, 0, (size_t)s->w * (size_t)s->h);
	memset(target, 0, sizeof *target);
	choose_cols(s->w, check_width(snap), on);
	build_rows(snap, v, &r);
	for (size_t i = 0; i < r.n; i++)
		nsrv += r.v[i].kind == R_SERVER;
	if (v->selected >= nsrv)
		v->selected = nsrv - 1;
	if (v->selected < 0)
		v->selected = 0;
	for (size_t i = 0, k = 0; i < r.n; i++)
		if (r.v[i].kind == R_SERVER && (int)k++ == v->selected) {
			sel_row = (int)i;
			snprintf(target->zone, sizeof target->zone, "%s",
			    r.v[i].zone->name);
			snprintf(target->farm, sizeof target->farm, "%s",
			    r.v[i].farm->name);
			snprintf(target->server, sizeof target->server, "%s",
			    r.v[i].srv->name);
			snprintf(target->admin, sizeof target->admin, "%s",
			    r.v[i].srv->admin);
			target->sessions = r.v[i].srv->c.cur;
		}
	draw_header(s, snap, v);
	evrows = s->h >= 20 ? 6 : 3;
	table_h = draw_events(s, snap, evrows) - 2;
	draw_titles(s, 1, on);
	/* Keep the selection on screen. */
	if (sel_row >= 0 && sel_row < v->top)
		v->top = sel_row > 0 && r.v[sel_row - 1].kind == R_FARM ?
		    sel_row - 1 : sel_row;
	if (sel_row >= v->top + table_h)
		v->top = sel_row - table_h + 1;
	if (v->top > (int)r.n - table_h)
		v->top = (int)r.n - table_h > 0 ? (int)r.n - table_h : 0;
	for (y = 0; y < table_h && v->top + y < (int)r.n; y++)
		draw_row(s, 2 + y, on, &r.v[v->top + y], v->top + y == sel_row,
		    snap->now);
	if (v->help)
		for (int i = 0; help_lines[i] && 2 + i < s->h - 1; i++)
			put(s, 2 + i, 0, -1, AT_TITLE, "%s", help_lines[i]);
	if (v->status[0])
		put(s, s->h - 1, 0, -1, AT_HEADER, "%s", v->status);
	else
		put(s, s->h - 1, 0, -1, AT_HEADER, "%s%s%s%s%s%sq quit  ? help  "
		    "/ filter  s sort  z zone  d drain  m maint  r ready  "
		    "l sessions",
		    v->filter[0] ? "filter " : "", v->filter,
		    v->filter[0] ? "  " : "", v->zone[0] ? "zone " : "", v->zone,
		    v->zone[0] ? "  " : "");
	free(r.v);
	return nsrv;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/*
 * The selected server's sessions (the engine's `sessions` reply) over the
 * table: how the server learns the client's address (transport, source),
 * then client, frontend, state, age, queue wait, bytes.  What does not
 * fit is counted on the last row.
 */
void
mon_render_sessions(struct mon_screen *s, const struct mon_target *t,
    json_t *res, const char *err)
{
	json_t *list = json_object_get(res, K_SESSIONS), *v;
	long long total = json_integer_value(json_object_get(res, K_TOTAL));
	int y = 1, last = s->h - 2;
	size_t i, shown = 0;
	char in[16], out[16];

	for (int r = 1; r < s->h - 1; r++)
		put(s, r, 0, -1, AT_NORMAL, "%s", "");
	json_t *first = json_array_get(list, 0);
	char how[96] = "";

	/* How the server learns the client's address: its sessions say. */
	if (first != NULL)
		snprintf(how, sizeof how, ", transport %s, source %s",
		    jstr(first, K_TRANSPORT), jstr(first, K_SOURCE));
	put(s, y++, 0, -1, AT_TITLE, "sessions of %s/%s in zone %s: %lld now%s"
	    "  (l: back to the table)", t->farm, t->server, t->zone,
	    res ? total : 0LL, how);
	if (res == NULL) {
		put(s, y, 0, -1, AT_BAD, "%s", err && err[0] ? err :
		    "no answer from the engine");
		return;
	}
	put(s, y++, 0, -1, AT_HEADER, "%-40s %-16s %-11s %7s %7s %7s %7s",
	    "CLIENT", "FRONTEND", "STATE", "AGE", "WAIT", "IN", "OUT");
	json_array_foreach(list, i, v) {
		if (y == last && (long long)i + 1 < total)
			break;
		if (y > last)
			break;
		fmt_bytes(in, sizeof in, (uint64_t)json_integer_value(
		    json_object_get(v, K_BYTES_IN)));
		fmt_bytes(out, sizeof out, (uint64_t)json_integer_value(
		    json_object_get(v, K_BYTES_OUT)));
		put(s, y++, 0, -1, strcmp(jstr(v, K_STATE),
		    session_state_names[SESSION_QUEUED]) ?
		    AT_NORMAL : AT_WARN,
		    "%-40.40s %-16.16s %-11.11s %6.1fs %6.1fs %7s %7s",
		    jstr(v, K_CLIENT), jstr(v, K_FRONTEND), jstr(v, K_STATE),
		    json_real_value(json_object_get(v, K_AGE)),
		    json_real_value(json_object_get(v, K_WAIT)), in, out);
		shown++;
	}
	if ((long long)shown < total)
		put(s, y, 0, -1, AT_DIM, "... and %lld more", total -
		    (long long)shown);
}

void
mon_snapshot_free(struct mon_snapshot *snap)
{
	if (snap == NULL)
		return;
	for (size_t i = 0; i < snap->nzones; i++) {
		for (size_t j = 0; j < snap->zones[i].nfarms; j++)
			free(snap->zones[i].farms[j].servers);
		free(snap->zones[i].farms);
		free(snap->zones[i].fes);
	}
	free(snap->zones);
	for (size_t i = 0; i < snap->nevents; i++)
		free(snap->events[i]);
	free(snap);
}
