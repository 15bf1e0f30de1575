/*
 * Monitor rendering tests: snapshots built by hand are drawn by mon_render
 * into screen buffers of fixed sizes, and the buffers are read the way an
 * operator reads the screen: which words are under which column title, on
 * which row, in which attribute.  No terminal is involved.
 *
 * MON_DUMP=1 prints every screen rendered, for whoever debugs a failure.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "monitor.h"

#define NOW	1700000000

/* ---- the fixture -------------------------------------------------------- */

/*
 * Zone m1: frontend in > farm mx with five servers, config order
 * charlie alpha echo delta bravo, so that config, name, sessions and state
 * order all differ.  Zone m2: frontend out > farm relay, one server.
 * Zone m3: its engine is not reached.
 */
struct fixture {
	struct mon_server	 mx[5], relay[1];
	struct mon_farm		 farms1[1], farms2[1];
	struct mon_frontend	 fes1[1], fes2[1];
	struct mon_zone		 zones[3];
	struct mon_snapshot	 snap;
	struct mon_view		 view;
};

static void
server(struct mon_server *s, const char *name, const char *admin,
    const char *state, uint64_t cur, uint64_t total, const char *check)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->address, sizeof s->address, "127.0.0.1:2601");
	snprintf(s->admin, sizeof s->admin, "%s", admin);
	snprintf(s->state, sizeof s->state, "%s", state);
	snprintf(s->check, sizeof s->check, "%s", check);
	s->check_ms = 3;
	s->weight = 1;
	s->priority = 10;
	s->changed = NOW - 90;
	s->c.cur = cur;
	s->c.max = cur + 4;
	s->c.total = total;
	s->c.bytes_in = 123456;
	s->c.bytes_out = 7890;
}

static struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	server(&f->mx[0], "charlie", "ready", "up", 7, 300, "250 sink ready");
	server(&f->mx[1], "alpha", "ready", "down", 0, 120,
	    "connect: Connection refused");
	server(&f->mx[2], "echo", "drain", "up", 2, 90, "250 sink ready");
	server(&f->mx[3], "delta", "maint", "up", 0, 10, "250 sink ready");
	server(&f->mx[4], "bravo", "ready", "nolb", 1, 55, "421 busy");
	server(&f->relay[0], "foxtrot", "ready", "up", 3, 33, "250 relay");

	snprintf(f->farms1[0].name, sizeof f->farms1[0].name, "mx");
	f->farms1[0].c.cur = 10;
	f->farms1[0].c.total = 575;
	f->farms1[0].c.refused[0] = 4;		/* no-server */
	f->farms1[0].c.refused[1] = 2;		/* queue-timeout */
	f->farms1[0].servers = f->mx;
	f->farms1[0].nservers = 5;
	snprintf(f->fes1[0].name, sizeof f->fes1[0].name, "in");
	snprintf(f->fes1[0].farm, sizeof f->fes1[0].farm, "mx");
	f->fes1[0].c.cur = 10;

	snprintf(f->farms2[0].name, sizeof f->farms2[0].name, "relay");
	f->farms2[0].c.cur = 3;
	f->farms2[0].c.total = 33;
	f->farms2[0].servers = f->relay;
	f->farms2[0].nservers = 1;
	snprintf(f->fes2[0].name, sizeof f->fes2[0].name, "out");
	snprintf(f->fes2[0].farm, sizeof f->fes2[0].farm, "relay");
	f->fes2[0].c.cur = 3;

	snprintf(f->zones[0].name, sizeof f->zones[0].name, "m1");
	f->zones[0].up = true;
	snprintf(f->zones[0].version, sizeof f->zones[0].version, "0.1");
	f->zones[0].uptime = 3600;
	f->zones[0].pid = 4242;
	f->zones[0].fes = f->fes1;
	f->zones[0].nfes = 1;
	f->zones[0].farms = f->farms1;
	f->zones[0].nfarms = 1;

	snprintf(f->zones[1].name, sizeof f->zones[1].name, "m2");
	f->zones[1].up = true;
	snprintf(f->zones[1].version, sizeof f->zones[1].version, "0.1");
	f->zones[1].uptime = 60;
	f->zones[1].pid = 4243;
	f->zones[1].fes = f->fes2;
	f->zones[1].nfes = 1;
	f->zones[1].farms = f->farms2;
	f->zones[1].nfarms = 1;

	snprintf(f->zones[2].name, sizeof f->zones[2].name, "m3");
	f->zones[2].up = false;

	f->snap.now = NOW;
	f->snap.zones = f->zones;
	f->snap.nzones = 3;
	return f;
}

static int
setup(void **state)
{
	*state = fixture_new();
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->snap.nevents; i++)
		free(f->snap.events[i]);
	free(f);
	return 0;
}

static void
event(struct fixture *f, const char *text)
{
	assert_true(f->snap.nevents < MON_EVENTS);
	f->snap.events[f->snap.nevents++] = strdup(text);
}

/* ---- reading a screen --------------------------------------------------- */

struct shot {
	struct mon_screen	 s;
	struct mon_target	 t;
	int			 nsrv;
	char			 rows[64][512];	/* each row, NUL-terminated */
};

static void
dump(const struct shot *sh)
{
	if (getenv("MON_DUMP") == NULL)
		return;
	printf("+%.*s+\n", sh->s.w, "--------------------------------------"
	    "--------------------------------------------------------------"
	    "--------------------------------------------------------------"
	    "----------------------------------------");
	for (int y = 0; y < sh->s.h; y++)
		printf("|%s|\n", sh->rows[y]);
}

/* Renders the fixture at W x H.  The buffers carry guard bytes after
 * the last cell: a write past the screen would change them. */
#define GUARD	64
static struct shot *
shoot(struct fixture *f, int w, int h)
{
	struct shot *sh = calloc(1, sizeof *sh);
	size_t cells = (size_t)w * (size_t)h;

	assert_non_null(sh);
	assert_true(h <= 64 && w < 512);
	sh->s.w = w;
	sh->s.h = h;
	sh->s.text = malloc(cells + GUARD);
	sh->s.attr = malloc(cells + GUARD);
	assert_non_null(sh->s.text);
	assert_non_null(sh->s.attr);
	memset(sh->s.text, '#', cells + GUARD);
	memset(sh->s.attr, 0xee, cells + GUARD);
	sh->nsrv = mon_render(&f->snap, &f->view, &sh->s, &sh->t);
	for (size_t i = cells; i < cells + GUARD; i++) {
		assert_int_equal(sh->s.text[i], '#');
		assert_int_equal(sh->s.attr[i], 0xee);
	}
	for (int y = 0; y < h; y++) {
		memcpy(sh->rows[y], sh->s.text + (size_t)y * (size_t)w,
		    (size_t)w);
		sh->rows[y][w] = '\0';
	}
	dump(sh);
	return sh;
}

static void
shot_free(struct shot *sh)
{
	free(sh->s.text);
	free(sh->s.attr);
	free(sh);
}

static int
attr_at(const struct shot *sh, int y, int x)
{
	return sh->s.attr[(size_t)y * (size_t)sh->s.w + (size_t)x];
}

/* The first row at or below FROM that contains NEEDLE, or -1. */
static int
row_with(const struct shot *sh, int from, const char *needle)
{
	for (int y = from; y < sh->s.h; y++)
		if (strstr(sh->rows[y], needle) != NULL)
			return y;
	return -1;
}

static bool
has(const struct shot *sh, const char *needle)
{
	return row_with(sh, 0, needle) != -1;
}

/* The table row of server NAME: the name alone in the name column. */
static int
server_row(const struct shot *sh, const char *name)
{
	char pat[80];

	snprintf(pat, sizeof pat, "  %s ", name);
	for (int y = 2; y < sh->s.h; y++)
		if (strncmp(sh->rows[y] + 2, pat, strlen(pat)) == 0)
			return y;
	return -1;
}

/* Column of TITLE on the column-titles line (row 1), or -1. */
static int
title_col(const struct shot *sh, const char *title)
{
	const char *row = sh->rows[1], *p = row;
	size_t n = strlen(title);

	while ((p = strstr(p, title)) != NULL) {
		/* A whole title, not a part of one ("Q" in "QMX"). */
		if ((p == row || p[-1] == ' ') && (p[n] == ' ' ||
		    p[n] == '\0'))
			return (int)(p - row);
		p += n;
	}
	return -1;
}

/* The word on row Y starting at column X (up to the next space). */
static const char *
word_at(const struct shot *sh, int y, int x)
{
	static char w[128];
	size_t n = 0;

	while (x + (int)n < sh->s.w && sh->rows[y][x + n] != ' ' &&
	    n + 1 < sizeof w) {
		w[n] = sh->rows[y][x + n];
		n++;
	}
	w[n] = '\0';
	return w;
}

/* A right-aligned number column: the word that ends where TITLE ends. */
static const char *
number_under(const struct shot *sh, int y, const char *title)
{
	int end = title_col(sh, title) + (int)strlen(title), x = end;

	assert_true(end > (int)strlen(title) - 1);
	while (x > 0 && sh->rows[y][x - 1] != ' ')
		x--;
	return word_at(sh, y, x);
}

/* Server names in the order their rows appear. */
static void
server_order(const struct shot *sh, const char *const *names, size_t n,
    int *rows)
{
	for (size_t i = 0; i < n; i++) {
		rows[i] = server_row(sh, names[i]);
		assert_int_not_equal(rows[i], -1);
	}
}

static void
assert_order(const struct shot *sh, const char *const *want, size_t n)
{
	int rows[16];

	server_order(sh, want, n, rows);
	for (size_t i = 1; i < n; i++)
		if (rows[i - 1] >= rows[i])
			fail_msg("%s (row %d) should come before %s (row %d)",
			    want[i - 1], rows[i - 1], want[i], rows[i]);
}

/* ---- layout ------------------------------------------------------------- */

static void
test_80x24_fits(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	event(f, "12:00:01 m1 probe mx/alpha up -> down connect: refused");
	sh = shoot(f, 80, 24);
	/* Guards untouched (checked in shoot); every cell printable. */
	for (int y = 0; y < 24; y++)
		for (int x = 0; x < 80; x++) {
			unsigned char c = (unsigned char)sh->rows[y][x];
			if (c < 32 || c > 126)
				fail_msg("row %d col %d: byte 0x%02x", y, x, c);
		}
	/* Every column title is whole: none is cut at column 80. */
	for (int x = 0, y = 1; x < 80; x++)
		assert_int_equal(attr_at(sh, y, x), AT_HEADER);
	assert_true(title_col(sh, "LAST CHECK") + 10 <= 80);
	/* A server row is complete: its check text starts on screen. */
	assert_int_not_equal(row_with(sh, 2, "250 sink ready"), -1);
	/* The status line is the last row, the key reminder. */
	assert_non_null(strstr(sh->rows[23], "q quit"));
	shot_free(sh);
}

static void
test_header(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 80, 24);

	/* m1 and m2 answered, m3 did not; sessions: farms mx 10 + relay 3. */
	assert_non_null(strstr(sh->rows[0], "zones 2/3 up"));
	assert_non_null(strstr(sh->rows[0], "sessions 13"));
	assert_non_null(strstr(sh->rows[0], "queue 0"));
	assert_int_equal(attr_at(sh, 0, 0), AT_HEADER);
	shot_free(sh);
}

static void
test_header_keeps_totals_at_80(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	/* Busy numbers: the totals must still be readable next to the clock. */
	f->farms1[0].c.cur = 12345;
	f->farms1[0].c.rate = 321.5;
	f->farms1[0].c.refused_rate = 12.5;
	f->farms1[0].c.qcur = 42;
	sh = shoot(f, 80, 24);
	assert_non_null(strstr(sh->rows[0], "sessions 12348"));
	assert_non_null(strstr(sh->rows[0], "queue 42"));
	shot_free(sh);
}

/* At 80 columns the clock takes the end of the header: what it covers is
 * dropped by whole items, no half word is left before it. */
static void
test_header_cut_whole_items(void **state)
{
	struct fixture *f = *state;
	struct shot *narrow = shoot(f, 80, 24), *wide = shoot(f, 160, 40);
	char head[81];
	int clock = 80 - 9, n;

	memcpy(head, narrow->rows[0], (size_t)clock);
	head[clock] = '\0';
	for (n = clock; n > 0 && head[n - 1] == ' '; n--)
		head[n - 1] = '\0';
	/* The same text as the wide header up to there, and there an item
	 * ends (a space or the end follows in the wide header). */
	assert_memory_equal(head, wide->rows[0], (size_t)n);
	if (wide->rows[0][n] != ' ' && wide->rows[0][n] != '\0')
		fail_msg("header cut inside a word at 80 columns: \"%s\" "
		    "(wide: \"%.*s\")", head, n + 12, wide->rows[0]);
	shot_free(narrow);
	shot_free(wide);
}

static void
test_column_titles(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 80, 24);
	static const char *const titles[] = { "NAME", "ADMIN", "STATE", "W",
	    "TIER", "CUR", "TOTAL", "/S", "Q", "LAST CHECK" };

	for (size_t i = 0; i < nitems(titles); i++)
		if (title_col(sh, titles[i]) == -1)
			fail_msg("no column title %s at 80 columns: %s",
			    titles[i], sh->rows[1]);
	shot_free(sh);
}

static void
test_wide_shows_more(void **state)
{
	struct fixture *f = *state;
	struct shot *narrow = shoot(f, 80, 24), *wide = shoot(f, 160, 40);
	static const char *const extra[] = { "MAX", "IN", "OUT", "WAIT", "ERR",
	    "SINCE" };
	int y;

	for (size_t i = 0; i < nitems(extra); i++) {
		if (title_col(narrow, extra[i]) != -1)
			fail_msg("%s shown at 80 columns", extra[i]);
		if (title_col(wide, extra[i]) == -1)
			fail_msg("%s not shown at 160 columns: %s", extra[i],
			    wide->rows[1]);
	}
	/* The extra columns carry the server's numbers. */
	y = server_row(wide, "charlie");
	assert_int_not_equal(y, -1);
	assert_string_equal(number_under(wide, y, "MAX"), "11");
	assert_string_equal(number_under(wide, y, "IN"), "121K");
	assert_string_equal(number_under(wide, y, "OUT"), "7.7K");
	assert_string_equal(number_under(wide, y, "SINCE"), "90s");
	/* Wide: the whole check text and its latency. */
	assert_non_null(strstr(wide->rows[y], "250 sink ready (3ms)"));
	/* Both widths keep the same essentials under their titles. */
	assert_string_equal(number_under(narrow, server_row(narrow, "charlie"),
	    "TOTAL"), "300");
	assert_string_equal(number_under(wide, y, "TOTAL"), "300");
	shot_free(narrow);
	shot_free(wide);
}

/* Per server: its address, and its tier or "bkp" for a backup. */
static void
test_address_and_tier(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int y;

	snprintf(f->mx[2].address, sizeof f->mx[2].address, "192.0.2.25:25");
	f->mx[2].backup = true;
	f->mx[0].priority = 20;
	sh = shoot(f, 160, 40);
	y = server_row(sh, "echo");
	assert_int_not_equal(y, -1);
	if (strstr(sh->rows[y], "192.0.2.25") == NULL)
		fail_msg("no address on the server row: %s", sh->rows[y]);
	assert_string_equal(number_under(sh, y, "TIER"), "bkp");
	assert_string_equal(number_under(sh, server_row(sh, "charlie"),
	    "TIER"), "20");
	shot_free(sh);
}

static void
test_states_as_words(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	static const struct { const char *srv, *admin, *st; } want[] = {
		{ "charlie", "ready", "up" }, { "alpha", "ready", "down" },
		{ "echo", "drain", "up" }, { "delta", "maint", "up" },
		{ "bravo", "ready", "nolb" }, { "foxtrot", "ready", "up" },
	};
	int ca, cs;

	f->view.selected = 99;	/* no selection highlight on the rows read */
	f->mx[0].check[0] = '\0';
	sh = shoot(f, 80, 24);
	ca = title_col(sh, "ADMIN");
	cs = title_col(sh, "STATE");
	assert_int_not_equal(ca, -1);
	assert_int_not_equal(cs, -1);
	for (size_t i = 0; i < nitems(want); i++) {
		int y = server_row(sh, want[i].srv);
		if (y == -1)
			fail_msg("no row for server %s", want[i].srv);
		assert_string_equal(word_at(sh, y, ca), want[i].admin);
		assert_string_equal(word_at(sh, y, cs), want[i].st);
	}
	shot_free(sh);
}

static void
test_state_attributes(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int ca, cs, y;

	f->view.selected = 5;	/* foxtrot: none of the rows read below */
	sh = shoot(f, 80, 24);
	assert_string_equal(sh->t.server, "foxtrot");
	ca = title_col(sh, "ADMIN");
	cs = title_col(sh, "STATE");
	y = server_row(sh, "alpha");
	assert_int_equal(attr_at(sh, y, cs), AT_BAD);
	assert_int_equal(attr_at(sh, y, ca), AT_GOOD);
	y = server_row(sh, "echo");
	assert_int_equal(attr_at(sh, y, ca), AT_WARN);
	assert_int_equal(attr_at(sh, y, cs), AT_GOOD);
	y = server_row(sh, "delta");
	assert_int_equal(attr_at(sh, y, ca), AT_WARN);
	y = server_row(sh, "bravo");
	assert_int_equal(attr_at(sh, y, cs), AT_WARN);
	/* The check text of a down server is drawn as bad as well. */
	y = server_row(sh, "alpha");
	assert_int_equal(attr_at(sh, y, title_col(sh, "LAST CHECK")), AT_BAD);
	/* Unselected rows carry no marker. */
	assert_int_equal(sh->rows[y][0], ' ');
	shot_free(sh);
}

static void
test_selection(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int y;

	f->view.selected = 2;	/* config order: charlie alpha echo ... */
	sh = shoot(f, 80, 24);
	y = server_row(sh, "echo");
	assert_int_not_equal(y, -1);
	assert_int_equal(sh->rows[y][0], '>');
	for (int x = 0; x < 80; x++)
		if (attr_at(sh, y, x) != AT_SELECTED)
			fail_msg("selected row, col %d: attr %d", x,
			    attr_at(sh, y, x));
	/* Only one row is marked. */
	for (int r = 0; r < 24; r++)
		if (r != y && sh->rows[r][0] == '>')
			fail_msg("row %d marked too: %s", r, sh->rows[r]);
	/* The target is the selected server, with where it lives. */
	assert_string_equal(sh->t.zone, "m1");
	assert_string_equal(sh->t.farm, "mx");
	assert_string_equal(sh->t.server, "echo");
	assert_string_equal(sh->t.admin, "drain");
	assert_int_equal(sh->t.sessions, 2);
	assert_int_equal(sh->nsrv, 6);
	shot_free(sh);

	/* The sixth server row is in the second zone. */
	f->view.selected = 5;
	sh = shoot(f, 80, 24);
	assert_string_equal(sh->t.zone, "m2");
	assert_string_equal(sh->t.farm, "relay");
	assert_string_equal(sh->t.server, "foxtrot");
	assert_int_equal(sh->rows[server_row(sh, "foxtrot")][0], '>');
	shot_free(sh);
}

static void
test_selection_follows_sort(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	/* The target is the row drawn selected, not the config's n-th. */
	f->view.sort = SORT_NAME;
	f->view.selected = 0;
	sh = shoot(f, 80, 24);
	assert_string_equal(sh->t.server, "alpha");
	assert_int_equal(sh->rows[server_row(sh, "alpha")][0], '>');
	shot_free(sh);
}

static void
test_selection_clamped(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	f->view.selected = 42;
	sh = shoot(f, 80, 24);
	assert_int_equal(sh->nsrv, 6);
	assert_int_equal(f->view.selected, 5);
	assert_string_equal(sh->t.server, "foxtrot");
	shot_free(sh);

	f->view.selected = -3;
	sh = shoot(f, 80, 24);
	assert_int_equal(f->view.selected, 0);
	assert_string_equal(sh->t.server, "charlie");
	shot_free(sh);

	/* A filter that leaves two rows pulls the selection back in. */
	f->view.selected = 4;
	snprintf(f->view.filter, sizeof f->view.filter, "ha");	/* alpha, charlie */
	sh = shoot(f, 80, 24);
	assert_int_equal(sh->nsrv, 2);
	assert_int_equal(f->view.selected, 1);
	assert_string_equal(sh->t.server, "alpha");
	shot_free(sh);

	/* No server row: no target. */
	snprintf(f->view.filter, sizeof f->view.filter, "nothing-matches");
	sh = shoot(f, 80, 24);
	assert_int_equal(sh->nsrv, 0);
	assert_int_equal(f->view.selected, 0);
	assert_string_equal(sh->t.server, "");
	for (int y = 0; y < 24; y++)
		assert_int_not_equal(sh->rows[y][0], '>');
	shot_free(sh);
}

static void
test_selection_scrolled_into_view(void **state)
{
	struct fixture *f = *state;
	struct mon_server many[40];
	struct shot *sh;
	char name[16];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "s%02d", i);
		server(&many[i], name, "ready", "up", 0, 0, "250 ok");
	}
	f->farms1[0].servers = many;
	f->farms1[0].nservers = 40;
	for (int sel = 0; sel < 46; sel += 7) {
		f->view.selected = sel;
		sh = shoot(f, 80, 24);
		int y = server_row(sh, sh->t.server);
		if (y < 2 || y >= 24 - 7 || sh->rows[y][0] != '>')
			fail_msg("selection %d (%s) not on screen (row %d)", sel,
			    sh->t.server, y);
		/* The header and titles stay in place. */
		assert_non_null(strstr(sh->rows[0], "mxlb monitor"));
		assert_int_not_equal(title_col(sh, "NAME"), -1);
		shot_free(sh);
	}
}

/* ---- truncation ---------------------------------------------------------- */

static void
test_long_names_truncated(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	char check[128];
	int y, ca;

	memset(check, 'x', sizeof check - 1);
	check[sizeof check - 1] = '\0';
	memcpy(check, "250-", 4);
	snprintf(f->mx[0].name, sizeof f->mx[0].name,
	    "a-very-long-server-name-that-goes-on-and-on");
	memcpy(f->mx[0].check, check, sizeof check);
	f->view.selected = 5;
	sh = shoot(f, 80, 24);
	y = row_with(sh, 2, "a-very-long-se");
	assert_int_not_equal(y, -1);
	/* Cut in its column: the admin and state words still read. */
	assert_null(strstr(sh->rows[y], "goes-on-and-on"));
	ca = title_col(sh, "ADMIN");
	assert_string_equal(word_at(sh, y, ca), "ready");
	assert_string_equal(word_at(sh, y, title_col(sh, "STATE")), "up");
	assert_string_equal(number_under(sh, y, "TOTAL"), "300");
	/* The check text is cut at the edge, not wrapped to the next row. */
	assert_int_equal(sh->rows[y][79], 'x');
	assert_non_null(strstr(sh->rows[y + 1], "  alpha "));
	assert_null(strstr(sh->rows[y + 1], "xxx"));
	shot_free(sh);
}

/* The frontend and farm rows keep their numbers in the number columns:
 * a long name is cut before them, it does not show through the gaps. */
static void
test_long_frontend_name(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int y, from, to;

	snprintf(f->fes1[0].name, sizeof f->fes1[0].name,
	    "frontend-with-a-name-longer-than-its-column");
	snprintf(f->fes1[0].farm, sizeof f->fes1[0].farm,
	    "farm-with-a-long-name-too");
	f->fes1[0].c.refused[0] = 0;
	sh = shoot(f, 80, 24);
	y = row_with(sh, 2, "frontend frontend-with");
	assert_int_not_equal(y, -1);
	from = title_col(sh, "CUR");
	to = title_col(sh, "LAST CHECK");
	for (int x = from; x < to; x++) {
		char c = sh->rows[y][x];
		if (c != ' ' && c != '.' && (c < '0' || c > '9'))
			fail_msg("frontend row, number columns, col %d: '%c' "
			    "(row: %s)", x, c, sh->rows[y]);
	}
	shot_free(sh);
}

/* A counter wider than its column is not shown as a smaller number. */
static void
test_big_counter_not_cut(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	const char *w;
	int y;

	f->mx[0].c.total = 12345678;
	sh = shoot(f, 80, 24);
	y = server_row(sh, "charlie");
	w = number_under(sh, y, "TOTAL");
	if (strcmp(w, "12345678") != 0 && strchr("KMG", w[strlen(w) - 1]) ==
	    NULL)
		fail_msg("TOTAL 12345678 shown as \"%s\"", w);
	shot_free(sh);
}

/* ---- sort, filter, zone -------------------------------------------------- */

static void
test_sort_config(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 80, 24);
	static const char *const want[] = { "charlie", "alpha", "echo",
	    "delta", "bravo" };

	assert_order(sh, want, nitems(want));
	shot_free(sh);
	sh = shoot(f, 160, 40);
	assert_order(sh, want, nitems(want));
	assert_non_null(strstr(sh->rows[0], "sort config"));
	shot_free(sh);
}

static void
test_sort_name(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	static const char *const want[] = { "alpha", "bravo", "charlie",
	    "delta", "echo" };

	f->view.sort = SORT_NAME;
	sh = shoot(f, 80, 24);
	assert_order(sh, want, nitems(want));
	/* Sorted within their farm: foxtrot stays under m2's relay. */
	assert_true(server_row(sh, "foxtrot") > row_with(sh, 2, "farm relay"));
	assert_true(row_with(sh, 2, "farm relay") > server_row(sh, "echo"));
	shot_free(sh);
	sh = shoot(f, 160, 40);
	assert_order(sh, want, nitems(want));
	assert_non_null(strstr(sh->rows[0], "sort name"));
	shot_free(sh);
}

static void
test_sort_sessions(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	/* cur: charlie 7, echo 2, bravo 1, alpha 0, delta 0 (ties by name) */
	static const char *const want[] = { "charlie", "echo", "bravo",
	    "alpha", "delta" };

	f->view.sort = SORT_SESSIONS;
	sh = shoot(f, 80, 24);
	assert_order(sh, want, nitems(want));
	shot_free(sh);
	sh = shoot(f, 160, 40);
	assert_order(sh, want, nitems(want));
	assert_non_null(strstr(sh->rows[0], "sort sessions"));
	shot_free(sh);
}

static void
test_sort_state(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int down, ready, mid[3];
	static const char *const middle[] = { "echo", "delta", "bravo" };

	f->view.sort = SORT_STATE;
	sh = shoot(f, 80, 24);
	/* The trouble first: down, then not taking new sessions (drain,
	 * maint, nolb), then ready and up. */
	down = server_row(sh, "alpha");
	ready = server_row(sh, "charlie");
	server_order(sh, middle, 3, mid);
	for (int i = 0; i < 3; i++) {
		assert_true(down < mid[i]);
		assert_true(mid[i] < ready);
	}
	assert_int_equal(down, row_with(sh, 2, "farm mx") + 1);
	shot_free(sh);
}

static void
test_filter(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	snprintf(f->view.filter, sizeof f->view.filter, "echo");
	sh = shoot(f, 80, 24);
	assert_int_not_equal(server_row(sh, "echo"), -1);
	assert_int_equal(server_row(sh, "alpha"), -1);
	assert_int_equal(server_row(sh, "charlie"), -1);
	assert_int_equal(server_row(sh, "foxtrot"), -1);
	assert_int_equal(sh->nsrv, 1);
	assert_string_equal(sh->t.server, "echo");
	/* The farm it belongs to is still shown above it. */
	assert_int_equal(row_with(sh, 2, "farm mx") + 1,
	    server_row(sh, "echo"));
	shot_free(sh);

	/* A farm's name shows all its servers. */
	snprintf(f->view.filter, sizeof f->view.filter, "relay");
	sh = shoot(f, 80, 24);
	assert_int_not_equal(server_row(sh, "foxtrot"), -1);
	assert_int_equal(server_row(sh, "charlie"), -1);
	assert_int_equal(sh->nsrv, 1);
	shot_free(sh);
}

/* At 80 columns a filter hides servers: the operator must see that one
 * is on, or the missing servers look gone. */
static void
test_filter_shown_at_80(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	snprintf(f->view.filter, sizeof f->view.filter, "echo");
	sh = shoot(f, 80, 24);
	assert_true(has(sh, "filter echo"));
	shot_free(sh);
	sh = shoot(f, 160, 40);
	assert_true(has(sh, "filter echo"));
	shot_free(sh);
}

static void
test_zone_view(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	snprintf(f->view.zone, sizeof f->view.zone, "m2");
	sh = shoot(f, 80, 24);
	assert_true(has(sh, "zone m2 "));
	assert_false(has(sh, "zone m1 "));
	assert_false(has(sh, "zone m3 "));
	assert_int_equal(server_row(sh, "charlie"), -1);
	assert_int_not_equal(server_row(sh, "foxtrot"), -1);
	assert_int_equal(sh->nsrv, 1);
	assert_string_equal(sh->t.zone, "m2");
	assert_string_equal(sh->t.server, "foxtrot");
	shot_free(sh);

	/* An unknown zone: nothing to show, nothing to act on. */
	snprintf(f->view.zone, sizeof f->view.zone, "nosuch");
	sh = shoot(f, 80, 24);
	assert_int_equal(sh->nsrv, 0);
	assert_string_equal(sh->t.server, "");
	shot_free(sh);
}

/* ---- zones, farms, events ------------------------------------------------ */

static void
test_zone_rows(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 80, 24);
	int y;

	y = row_with(sh, 2, "zone m1");
	assert_int_not_equal(y, -1);
	assert_non_null(strstr(sh->rows[y], "engine 0.1"));
	assert_non_null(strstr(sh->rows[y], "pid 4242"));
	/* Grouped: zone, frontend, farm, its servers. */
	assert_true(row_with(sh, y, "frontend in > mx") > y);
	assert_true(row_with(sh, y, "farm mx") > row_with(sh, y,
	    "frontend in"));
	assert_true(server_row(sh, "charlie") > row_with(sh, y, "farm mx"));
	shot_free(sh);
}

static void
test_engine_not_reached(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 80, 24);
	int y = row_with(sh, 2, "zone m3");

	assert_int_not_equal(y, -1);
	assert_non_null(strstr(sh->rows[y], "ENGINE NOT REACHED"));
	assert_int_equal(attr_at(sh, y, 0), AT_BAD);
	/* The zones that answered are not flagged. */
	assert_null(strstr(sh->rows[row_with(sh, 2, "zone m1")],
	    "NOT REACHED"));
	shot_free(sh);
}

static void
test_refusals_on_farm_row(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 80, 24);
	int y = row_with(sh, 2, "farm mx");

	assert_int_not_equal(y, -1);
	assert_non_null(strstr(sh->rows[y], "421 no-server 4"));
	assert_int_equal(attr_at(sh, y, title_col(sh, "LAST CHECK")), AT_WARN);
	/* A farm without refusals shows none. */
	assert_null(strstr(sh->rows[row_with(sh, 2, "farm relay")], "421"));
	shot_free(sh);

	/* Wide: every reason that happened, by name; the frontend's own. */
	f->fes1[0].c.refused[2] = 5;		/* frontend-maxconn */
	sh = shoot(f, 160, 40);
	y = row_with(sh, 2, "farm mx");
	assert_non_null(strstr(sh->rows[y], "421 no-server 4 queue-timeout 2"));
	y = row_with(sh, 2, "frontend in > mx");
	assert_non_null(strstr(sh->rows[y], "421 frontend-maxconn 5"));
	assert_null(strstr(sh->rows[row_with(sh, 2, "frontend out")], "421"));
	shot_free(sh);
}

static void
test_events(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	char text[64];
	int y, prev = -1;

	for (int i = 1; i <= 9; i++) {
		snprintf(text, sizeof text, "12:00:0%d m1 event number %d", i,
		    i);
		event(f, text);
	}
	sh = shoot(f, 80, 24);
	y = row_with(sh, 2, "events");
	assert_int_not_equal(y, -1);
	/* The newest at the bottom, just above the status line. */
	assert_non_null(strstr(sh->rows[22], "event number 9"));
	for (int i = 1; i <= 9; i++) {
		snprintf(text, sizeof text, "event number %d", i);
		int r = row_with(sh, y, text);
		if (r == -1)
			continue;	/* older ones scrolled out */
		assert_true(r > prev);
		prev = r;
	}
	/* As many as fit are shown, the oldest dropped. */
	assert_true(has(sh, "event number 5"));
	assert_false(has(sh, "event number 1"));
	shot_free(sh);
}

static void
test_few_events(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int a, b;

	event(f, "12:00:01 m1 probe mx/alpha up -> down refused");
	event(f, "12:00:05 m1 admin mx/echo ready -> drain");
	sh = shoot(f, 80, 24);
	a = row_with(sh, 2, "mx/alpha up -> down");
	b = row_with(sh, 2, "mx/echo ready -> drain");
	assert_int_not_equal(a, -1);
	assert_true(b == a + 1);
	assert_true(a > row_with(sh, 2, "events"));
	shot_free(sh);
}

static void
test_status_and_help(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;

	snprintf(f->view.status, sizeof f->view.status,
	    "mx/echo: draining, 2 sessions left");
	sh = shoot(f, 80, 24);
	assert_non_null(strstr(sh->rows[23], "mx/echo: draining, 2 sessions"));
	assert_int_equal(attr_at(sh, 23, 0), AT_HEADER);
	shot_free(sh);

	f->view.help = true;
	sh = shoot(f, 80, 24);
	assert_true(has(sh, "drain / maint / ready"));
	assert_true(has(sh, "quit"));
	shot_free(sh);
}


/* ---- formatting: address:port, rates, long checks, peer text ------------ */

static void
test_format_address(void **state)
{
	char b[64];

	(void)state;
	mon_format_address(b, sizeof b, "192.0.2.10", 2525);
	assert_string_equal(b, "192.0.2.10:2525");
	mon_format_address(b, sizeof b, "2001:db8::25", 25);
	assert_string_equal(b, "[2001:db8::25]:25");
	mon_format_address(b, sizeof b, "192.0.2.10", 0);
	assert_string_equal(b, "192.0.2.10");
}

/* A rate fits its column whole: never "1058." cut from 1058.3. */
static void
test_format_rate(void **state)
{
	static const struct { double r; const char *want; } v[] = {
		{ 0, "0.0" }, { 3.25, "3.2" }, { 99.94, "99.9" },
		{ 100.4, "100" }, { 1058.3, "1058" }, { 9999.4, "9999" },
		{ 12345, "12K" }, { 2.5e6, "2.5M" },
	};
	char b[32];

	(void)state;
	for (size_t i = 0; i < nitems(v); i++) {
		mon_format_rate(b, sizeof b, v[i].r, 4);
		if (strcmp(b, v[i].want) != 0)
			fail_msg("rate %g: expected %s, got %s", v[i].r,
			    v[i].want, b);
	}
}

static void
test_rate_column(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int y;

	f->mx[0].c.rate = 1058.3;
	sh = shoot(f, 80, 24);
	y = server_row(sh, "charlie");
	assert_string_equal(number_under(sh, y, "/S"), "1058");
	assert_null(strstr(sh->rows[y], "1058."));
	shot_free(sh);
}

/* The address column carries the port, at a width that has it. */
static void
test_address_port_shown(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 160, 40);
	int y = server_row(sh, "charlie");

	assert_int_not_equal(title_col(sh, "ADDRESS"), -1);
	assert_non_null(strstr(sh->rows[y], "127.0.0.1:2601"));
	shot_free(sh);
}

/* At 160 columns a Postfix banner is read whole: the optional columns
 * that would cut it give way. */
static void
test_check_not_cut_at_160(void **state)
{
	struct fixture *f = *state;
	const char *banner = "220 mx1.mail.example.com ESMTP Postfix (Debian/GNU)";
	struct shot *sh;
	int y;

	snprintf(f->mx[0].check, sizeof f->mx[0].check, "%s", banner);
	sh = shoot(f, 160, 40);
	y = server_row(sh, "charlie");
	if (strstr(sh->rows[y], "220 mx1.mail.example.com ESMTP Postfix "
	    "(Debian/GNU) (3ms)") == NULL)
		fail_msg("check text cut at 160 columns: %s", sh->rows[y]);
	/* The essential columns stay. */
	assert_int_not_equal(title_col(sh, "MAX"), -1);
	assert_int_not_equal(title_col(sh, "WAIT"), -1);
	shot_free(sh);
}

/* A banner's escape sequence is shown as text, not sent to the terminal;
 * a server not yet probed reads "unchecked", whole. */
static void
test_peer_text_escaped(void **state)
{
	struct fixture *f = *state;
	struct shot *sh;
	int y;

	snprintf(f->mx[0].check, sizeof f->mx[0].check,
	    "220 evil\x1b]0;x\a\x1b[2J");
	snprintf(f->mx[1].state, sizeof f->mx[1].state, "unchecked");
	event(f, "12:00:01 m1 commit by \x1b[2Jroot");
	sh = shoot(f, 160, 40);
	y = server_row(sh, "charlie");
	if (strstr(sh->rows[y], "220 evil\\x1b]0;x\\x07\\x1b[2J") == NULL)
		fail_msg("banner not escaped: %s", sh->rows[y]);
	assert_non_null(strstr(sh->rows[server_row(sh, "alpha")],
	    " unchecked "));
	assert_int_not_equal(row_with(sh, 2, "commit by \\x1b[2Jroot"), -1);
	for (int r = 0; r < 40; r++)
		assert_null(strchr(sh->rows[r], '\x1b'));
	shot_free(sh);
}

/* The sessions view: who is connected, who waits, over the table. */
static void
test_sessions_view(void **state)
{
	struct fixture *f = *state;
	struct shot *sh = shoot(f, 100, 30);
	json_t *res = json_pack("{s:[{s:s,s:s,s:s,s:f,s:f,s:i,s:i},"
	    "{s:s,s:s,s:s,s:f,s:f,s:i,s:i}],s:i,s:i}", "sessions",
	    "client", "127.0.0.2:40000", "frontend", "in", "state", "connected",
	    "age", 12.5, "wait", 0.0, "bytes_in", 74, "bytes_out", 214,
	    "client", "127.0.0.3:40001", "frontend", "in", "state", "queued",
	    "age", 3.0, "wait", 3.0, "bytes_in", 0, "bytes_out", 0,
	    "total", 2, "more", 0);
	int y;

	snprintf(sh->t.zone, sizeof sh->t.zone, "m1");
	mon_render_sessions(&sh->s, &sh->t, res, "");
	for (int r = 0; r < 30; r++) {
		memcpy(sh->rows[r], sh->s.text + (size_t)r * 100, 100);
		sh->rows[r][100] = '\0';
	}
	dump(sh);
	assert_int_not_equal(row_with(sh, 1, "sessions of mx/charlie in zone "
	    "m1: 2 now"), -1);
	y = row_with(sh, 1, "127.0.0.3:40001");
	assert_int_not_equal(y, -1);
	assert_non_null(strstr(sh->rows[y], " queued "));
	assert_int_equal(attr_at(sh, y, 0), AT_WARN);
	y = row_with(sh, 1, "127.0.0.2:40000");
	assert_non_null(strstr(sh->rows[y], " connected "));
	assert_non_null(strstr(sh->rows[y], "12.5s"));
	json_decref(res);
	shot_free(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_80x24_fits),
		T(test_header),
		T(test_header_keeps_totals_at_80),
		T(test_header_cut_whole_items),
		T(test_column_titles),
		T(test_address_and_tier),
		T(test_wide_shows_more),
		T(test_states_as_words),
		T(test_state_attributes),
		T(test_selection),
		T(test_selection_follows_sort),
		T(test_selection_clamped),
		T(test_selection_scrolled_into_view),
		T(test_long_names_truncated),
		T(test_long_frontend_name),
		T(test_big_counter_not_cut),
		T(test_sort_config),
		T(test_sort_name),
		T(test_sort_sessions),
		T(test_sort_state),
		T(test_filter),
		T(test_filter_shown_at_80),
		T(test_zone_view),
		T(test_zone_rows),
		T(test_engine_not_reached),
		T(test_refusals_on_farm_row),
		T(test_format_address),
		T(test_format_rate),
		T(test_rate_column),
		T(test_address_port_shown),
		T(test_check_not_cut_at_160),
		T(test_peer_text_escaped),
		T(test_sessions_view),
		T(test_events),
		T(test_few_events),
		T(test_status_and_help),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
