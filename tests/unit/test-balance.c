/*
 * Balancing tests: a farm and its servers built by hand, then balance_pick
 * called the way the engine calls it for each new session.  Counts are what
 * an operator would see in `show stats`.
 */

#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime.h"

#define NOW	1000000

/* ---- building a farm -------------------------------------------------- */

static void
conf_set(const struct fieldset *fs, void *obj, const char *key,
    const char *text)
{
	char err[FIELD_ERRLEN] = "";

	if (field_parse(fs, obj, fieldset_find(fs, key), text, err,
	    sizeof err) != 0)
		fail_msg("%s %s: %s", key, text, err);
}

static struct mxaddr
addr(const char *s)
{
	struct mxaddr a;
	char err[FIELD_ERRLEN];

	if (addr_parse(&a, s, err, sizeof err) != 0)
		fail_msg("%s", err);
	return a;
}

static struct rt_farm *
farm_make(const char *balance, const char *stickiness)
{
	struct rt_farm *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->conf = farm_new("mx");
	conf_set(&farm_fields, f->conf, "balance", balance);
	if (stickiness != NULL)
		conf_set(&farm_fields, f->conf, "stickiness", stickiness);
	return f;
}

/* A server up and ready; opts are "key=value" settings, NULL-terminated. */
static struct rt_server *
server_add(struct rt_farm *f, const char *address, ...)
{
	struct mxaddr a = addr(address);
	struct rt_server *s = calloc(1, sizeof *s);
	const char *opt;
	va_list ap;

	assert_non_null(s);
	s->conf = server_new(&a);
	s->farm = f;
	s->admin = ADMIN_READY;
	s->pstate = PSTATE_UP;
	TAILQ_INIT(&s->queue);
	va_start(ap, address);
	while ((opt = va_arg(ap, const char *)) != NULL) {
		char key[32];
		const char *eq = strchr(opt, '=');

		if (eq == NULL)
			conf_set(&server_fields, s->conf, opt, "true");
		else {
			snprintf(key, sizeof key, "%.*s", (int)(eq - opt), opt);
			conf_set(&server_fields, s->conf, key, eq + 1);
		}
	}
	va_end(ap);
	f->servers = realloc(f->servers, (f->nservers + 1) * sizeof *f->servers);
	assert_non_null(f->servers);
	f->servers[f->nservers++] = s;
	return s;
}

static void
server_drop(struct rt_server *s)
{
	object_free(&server_fields, s->conf);
	free(s);
}

/* Takes s out of the farm, as a config change removing it would. */
static void
server_remove(struct rt_farm *f, struct rt_server *s)
{
	for (size_t i = 0; i < f->nservers; i++) {
		if (f->servers[i] == s) {
			memmove(&f->servers[i], &f->servers[i + 1],
			    (f->nservers - i - 1) * sizeof *f->servers);
			f->nservers--;
			stick_forget(f, s);
			server_drop(s);
			return;
		}
	}
	fail_msg("server not in farm");
}

static void
farm_drop(struct rt_farm *f)
{
	for (size_t i = 0; i < f->nservers; i++)
		server_drop(f->servers[i]);
	free(f->servers);
	farm_free(f->conf);
	stick_free(f->stick);
	free(f);
}

static struct mxaddr
client_n(unsigned n)
{
	struct mxaddr a;

	memset(&a, 0, sizeof a);
	a.family = AF_INET;
	a.v4.s_addr = htonl(0xc6336400u + n);	/* 198.51.100.0 + n */
	return a;
}

static struct rt_server *
pick_for(struct rt_farm *f, const struct mxaddr *client, bool *queue)
{
	return balance_pick(f, client, NULL, 0, queue, NOW);
}

/* One pick that must not queue. */
static struct rt_server *
pick1(struct rt_farm *f)
{
	struct mxaddr c = client_n(1);
	bool queue = true;
	struct rt_server *s = pick_for(f, &c, &queue);

	assert_non_null(s);
	assert_false(queue);
	return s;
}

/* Picks n times; counts[i] gets the picks of f->servers[i]. */
static void
pick_count(struct rt_farm *f, unsigned n, unsigned *counts)
{
	memset(counts, 0, f->nservers * sizeof *counts);
	for (unsigned k = 0; k < n; k++) {
		struct rt_server *s = pick1(f);
		size_t i;

		for (i = 0; i < f->nservers && f->servers[i] != s; i++)
			;
		assert_true(i < f->nservers);
		counts[i]++;
	}
}

/* ---- roundrobin ------------------------------------------------------- */

static void
test_roundrobin_weights(void **state)
{
	struct rt_farm *f = farm_make("roundrobin", NULL);
	unsigned c[3];

	(void)state;
	server_add(f, "10.0.0.1", "weight=1", NULL);
	server_add(f, "10.0.0.2", "weight=3", NULL);
	server_add(f, "10.0.0.3", "weight=0", NULL);
	pick_count(f, 4000, c);
	assert_int_equal(c[0], 1000);
	assert_int_equal(c[1], 3000);
	assert_int_equal(c[2], 0);
	/* Smooth: every 4 consecutive picks hold exactly one for weight 1. */
	for (int round = 0; round < 10; round++) {
		pick_count(f, 4, c);
		assert_int_equal(c[0], 1);
		assert_int_equal(c[1], 3);
	}
	farm_drop(f);
}

static void
test_roundrobin_equal(void **state)
{
	struct rt_farm *f = farm_make("roundrobin", NULL);
	unsigned c[3];

	(void)state;
	server_add(f, "10.0.0.1", NULL);
	server_add(f, "10.0.0.2", NULL);
	server_add(f, "10.0.0.3", NULL);
	pick_count(f, 300, c);
	assert_int_equal(c[0], 100);
	assert_int_equal(c[1], 100);
	assert_int_equal(c[2], 100);
	farm_drop(f);
}

/* ---- priority tiers --------------------------------------------------- */

/* Servers 0,1 in tier 0, 2 in tier 10, 3 backup. */
static struct rt_farm *
tiered_farm(void)
{
	struct rt_farm *f = farm_make("roundrobin", NULL);

	server_add(f, "10.0.0.1", "priority=0", NULL);
	server_add(f, "10.0.0.2", NULL);		/* default priority 0 */
	server_add(f, "10.0.1.1", "priority=10", NULL);
	server_add(f, "10.0.9.1", "backup", NULL);
	return f;
}

static void
test_priority_lowest_first(void **state)
{
	struct rt_farm *f = tiered_farm();
	unsigned c[4];

	(void)state;
	pick_count(f, 100, c);
	assert_int_equal(c[0], 50);
	assert_int_equal(c[1], 50);
	assert_int_equal(c[2], 0);
	assert_int_equal(c[3], 0);
	/* One of tier 0 down: the other takes it all. */
	f->servers[0]->pstate = PSTATE_DOWN;
	pick_count(f, 100, c);
	assert_int_equal(c[1], 100);
	farm_drop(f);
}

enum unavailable_how { U_DOWN, U_NOLB, U_DRAIN, U_MAINT, U_INACTIVE,
    U_WEIGHT0 };

static void
make_unavailable(struct rt_server *s, enum unavailable_how how)
{
	switch (how) {
	case U_DOWN:
		s->pstate = PSTATE_DOWN;
		break;
	case U_NOLB:
		s->pstate = PSTATE_NOLB;
		break;
	case U_DRAIN:
		s->admin = ADMIN_DRAIN;
		break;
	case U_MAINT:
		s->admin = ADMIN_MAINT;
		break;
	case U_INACTIVE:
		conf_set(&server_fields, s->conf, "status", "inactive");
		break;
	case U_WEIGHT0:
		conf_set(&server_fields, s->conf, "weight", "0");
		break;
	}
}

static void
test_priority_fallback(void **state)
{
	unsigned c[4];

	(void)state;
	for (int how = U_DOWN; how <= U_WEIGHT0; how++) {
		struct rt_farm *f = tiered_farm();

		make_unavailable(f->servers[0], how);
		make_unavailable(f->servers[1], (how + 1) % (U_WEIGHT0 + 1));
		pick_count(f, 50, c);
		if (c[2] != 50)
			fail_msg("tier 0 unavailable (%d): tier 10 got %u of 50",
			    how, c[2]);
		/* Tier 0 back: it takes the traffic again. */
		f->servers[0]->pstate = PSTATE_UP;
		f->servers[0]->admin = ADMIN_READY;
		conf_set(&server_fields, f->servers[0]->conf, "status",
		    "active");
		conf_set(&server_fields, f->servers[0]->conf, "weight", "1");
		pick_count(f, 50, c);
		assert_int_equal(c[0], 50);
		farm_drop(f);
	}
}

static void
test_backup_last(void **state)
{
	struct rt_farm *f = tiered_farm();
	struct rt_server *low;
	unsigned c[5];

	(void)state;
	low = server_add(f, "10.0.2.1", "priority=65535", NULL);
	f->servers[0]->pstate = PSTATE_DOWN;
	f->servers[1]->admin = ADMIN_MAINT;
	f->servers[2]->pstate = PSTATE_DOWN;
	/* The least preferred tier still beats the backup. */
	pick_count(f, 20, c);
	assert_int_equal(c[4], 20);
	assert_int_equal(c[3], 0);
	low->admin = ADMIN_DRAIN;
	pick_count(f, 20, c);
	assert_int_equal(c[3], 20);
	/* Any tier coming back takes over from the backup. */
	f->servers[2]->pstate = PSTATE_UP;
	pick_count(f, 20, c);
	assert_int_equal(c[2], 20);
	assert_int_equal(c[3], 0);
	farm_drop(f);
}

static void
test_nothing_available(void **state)
{
	struct rt_farm *f = tiered_farm(), *empty = farm_make("first", NULL);
	struct mxaddr c = client_n(1);
	bool queue = true;

	(void)state;
	for (size_t i = 0; i < f->nservers; i++)
		f->servers[i]->pstate = PSTATE_DOWN;
	assert_null(pick_for(f, &c, &queue));
	assert_false(queue);
	queue = true;
	assert_null(pick_for(empty, &c, &queue));
	assert_false(queue);
	farm_drop(f);
	farm_drop(empty);
}

static void
test_priority_weights(void **state)
{
	struct rt_farm *f = farm_make("roundrobin", NULL);
	unsigned c[3];

	(void)state;
	server_add(f, "10.0.0.1", "priority=5", "weight=1", NULL);
	server_add(f, "10.0.0.2", "priority=5", "weight=2", NULL);
	server_add(f, "10.0.0.3", "priority=6", "weight=100", NULL);
	pick_count(f, 300, c);
	assert_int_equal(c[0], 100);
	assert_int_equal(c[1], 200);
	assert_int_equal(c[2], 0);
	farm_drop(f);
}

/* ---- leastconn -------------------------------------------------------- */

static void
test_leastconn_fewest(void **state)
{
	struct rt_farm *f = farm_make("leastconn", NULL);
	struct rt_server *a, *b, *c;

	(void)state;
	a = server_add(f, "10.0.0.1", NULL);
	b = server_add(f, "10.0.0.2", NULL);
	c = server_add(f, "10.0.0.3", "weight=2", NULL);
	a->nsess = 5;
	b->nsess = 2;
	c->nsess = 6;		/* 3 per unit of weight */
	for (int i = 0; i < 10; i++)
		assert_ptr_equal(pick1(f), b);
	b->nsess = 4;		/* now c, at 3 per weight, has fewest */
	for (int i = 0; i < 10; i++)
		assert_ptr_equal(pick1(f), c);
	a->nsess = 0;
	assert_ptr_equal(pick1(f), a);
	farm_drop(f);
}

static void
test_leastconn_sessions(void **state)
{
	struct rt_farm *f = farm_make("leastconn", NULL);
	struct rt_server *a, *b, *c;

	(void)state;
	a = server_add(f, "10.0.0.1", NULL);
	b = server_add(f, "10.0.0.2", "weight=2", NULL);
	c = server_add(f, "10.0.0.3", NULL);
	/* Sessions that stay open: load follows weight. */
	for (int i = 0; i < 400; i++)
		pick1(f)->nsess++;
	assert_int_equal(a->nsess, 100);
	assert_int_equal(b->nsess, 200);
	assert_int_equal(c->nsess, 100);
	/* Sessions ending on one server send the next ones there. */
	a->nsess = 90;
	for (int i = 0; i < 10; i++) {
		assert_ptr_equal(pick1(f), a);
		a->nsess++;
	}
	assert_ptr_not_equal(pick1(f), a);
	farm_drop(f);
}

/* ---- source ----------------------------------------------------------- */

#define NCLIENTS	1000

static size_t
index_of(const struct rt_farm *f, const struct rt_server *s)
{
	for (size_t i = 0; i < f->nservers; i++)
		if (f->servers[i] == s)
			return i;
	fail_msg("picked a server not in the farm");
	return 0;
}

static void
test_source_same_client(void **state)
{
	struct rt_farm *f = farm_make("source", NULL);
	struct rt_server *first[NCLIENTS];
	struct mxaddr v6 = addr("2001:db8::25"), c;
	struct rt_server *s6;
	bool queue;

	(void)state;
	for (int i = 0; i < 5; i++) {
		char a[32];
		snprintf(a, sizeof a, "10.0.0.%d", i + 1);
		server_add(f, a, NULL);
	}
	for (unsigned n = 0; n < NCLIENTS; n++) {
		c = client_n(n);
		first[n] = pick_for(f, &c, &queue);
		assert_non_null(first[n]);
	}
	for (int round = 0; round < 3; round++) {
		for (unsigned n = 0; n < NCLIENTS; n++) {
			c = client_n(n);
			assert_ptr_equal(pick_for(f, &c, &queue), first[n]);
		}
	}
	s6 = pick_for(f, &v6, &queue);
	for (int i = 0; i < 10; i++)
		assert_ptr_equal(pick_for(f, &v6, &queue), s6);
	farm_drop(f);
}

/* Clients of the servers that stay keep them; the others spread. */
static void
check_source_minimal_move(bool remove)
{
	struct rt_farm *f = farm_make("source", NULL);
	struct rt_server *before[NCLIENTS], *gone;
	unsigned moved_to[5] = { 0 }, on_gone = 0;
	struct mxaddr c;
	bool queue;

	for (int i = 0; i < 5; i++) {
		char a[32];
		snprintf(a, sizeof a, "10.0.0.%d", i + 1);
		server_add(f, a, NULL);
	}
	for (unsigned n = 0; n < NCLIENTS; n++) {
		c = client_n(n);
		before[n] = pick_for(f, &c, &queue);
	}
	gone = f->servers[2];
	if (remove)
		server_remove(f, gone);
	else
		gone->pstate = PSTATE_DOWN;
	for (unsigned n = 0; n < NCLIENTS; n++) {
		struct rt_server *s;

		c = client_n(n);
		s = pick_for(f, &c, &queue);
		assert_non_null(s);
		if (before[n] == gone) {
			assert_ptr_not_equal(s, gone);
			moved_to[index_of(f, s)]++;
			on_gone++;
		} else if (s != before[n])
			fail_msg("client %u moved though its server stayed", n);
	}
	/* About a fifth were on the gone server, and they spread out. */
	if (on_gone < 150 || on_gone > 250)
		fail_msg("%u of %u clients on one of 5 servers", on_gone,
		    NCLIENTS);
	for (size_t i = 0; i < f->nservers; i++)
		if (f->servers[i] != gone && moved_to[i] == 0)
			fail_msg("no moved client went to server %zu", i);
	farm_drop(f);
}

static void
test_source_remove_one(void **state)
{
	(void)state;
	check_source_minimal_move(true);
}

static void
test_source_down_one(void **state)
{
	(void)state;
	check_source_minimal_move(false);
}

static void
test_source_weights(void **state)
{
	struct rt_farm *f = farm_make("source", NULL);
	unsigned count[3] = { 0 };
	const unsigned n = 20000;
	const double want[3] = { 0.25, 0.25, 0.5 };
	struct mxaddr c;
	bool queue;

	(void)state;
	server_add(f, "10.0.0.1", "weight=1", NULL);
	server_add(f, "10.0.0.2", "weight=1", NULL);
	server_add(f, "10.0.0.3", "weight=2", NULL);
	for (unsigned k = 0; k < n; k++) {
		c = client_n(k);
		count[index_of(f, pick_for(f, &c, &queue))]++;
	}
	for (int i = 0; i < 3; i++) {
		double share = (double)count[i] / n;
		if (share < want[i] * 0.9 || share > want[i] * 1.1)
			fail_msg("server %d: share %.3f, want %.3f", i, share,
			    want[i]);
	}
	farm_drop(f);
}

/* ---- first ------------------------------------------------------------ */

static void
test_first(void **state)
{
	struct rt_farm *f = farm_make("first", NULL);
	struct rt_server *a, *b, *c;

	(void)state;
	/* Config order, not address order. */
	a = server_add(f, "10.0.0.9", "maxconn=2", NULL);
	b = server_add(f, "10.0.0.1", "maxconn=3", NULL);
	c = server_add(f, "10.0.0.5", NULL);
	for (int i = 0; i < 2; i++) {
		struct rt_server *s = pick1(f);
		assert_ptr_equal(s, a);
		s->nsess++;
	}
	for (int i = 0; i < 3; i++) {
		struct rt_server *s = pick1(f);
		assert_ptr_equal(s, b);
		s->nsess++;
	}
	for (int i = 0; i < 10; i++) {
		struct rt_server *s = pick1(f);
		assert_ptr_equal(s, c);
		s->nsess++;
	}
	/* A slot frees on the first: it is used again at once. */
	a->nsess--;
	assert_ptr_equal(pick1(f), a);
	/* The first down: the next takes over. */
	a->pstate = PSTATE_DOWN;
	b->nsess = 0;
	assert_ptr_equal(pick1(f), b);
	farm_drop(f);
}

/* ---- maxconn and queueing --------------------------------------------- */

static void
test_maxconn_queue(void **state)
{
	const char *algos[] = { "roundrobin", "leastconn", "source", "first" };

	(void)state;
	for (size_t k = 0; k < nitems(algos); k++) {
		struct rt_farm *f = farm_make(algos[k], NULL);
		struct rt_server *a, *b, *s;
		struct mxaddr c;
		bool queue;

		a = server_add(f, "10.0.0.1", "maxconn=2", NULL);
		b = server_add(f, "10.0.0.2", "maxconn=3", NULL);
		server_add(f, "10.0.0.3", "priority=10", NULL);
		for (unsigned n = 0; n < 5; n++) {
			c = client_n(n);
			s = pick_for(f, &c, &queue);
			assert_non_null(s);
			if (queue)
				fail_msg("%s: queued with free slots", algos[k]);
			if (s != a && s != b)
				fail_msg("%s: left tier 0 with free slots",
				    algos[k]);
			s->nsess++;
		}
		assert_int_equal(a->nsess, 2);
		assert_int_equal(b->nsess, 3);
		/* Every candidate full: wait on one of them. */
		for (unsigned n = 0; n < 5; n++) {
			c = client_n(100 + n);
			s = pick_for(f, &c, &queue);
			if (s != a && s != b)
				fail_msg("%s: full tier 0 did not queue",
				    algos[k]);
			if (!queue)
				fail_msg("%s: full server without queue",
				    algos[k]);
		}
		farm_drop(f);
	}
}

static void
test_maxconn_skips_full(void **state)
{
	struct rt_farm *f = farm_make("roundrobin", NULL);
	struct rt_server *a, *b;

	(void)state;
	a = server_add(f, "10.0.0.1", "maxconn=1", NULL);
	b = server_add(f, "10.0.0.2", NULL);		/* no limit */
	a->nsess = 1;
	for (int i = 0; i < 50; i++) {
		assert_ptr_equal(pick1(f), b);
		b->nsess++;
	}
	farm_drop(f);
}

/* ---- tried list ------------------------------------------------------- */

static void
test_tried(void **state)
{
	struct rt_farm *f = tiered_farm();
	struct rt_server *tried[4];
	struct mxaddr c = client_n(7);
	bool queue;

	(void)state;
	tried[0] = f->servers[0];
	for (int i = 0; i < 20; i++)
		assert_ptr_equal(balance_pick(f, &c, tried, 1, &queue, NOW),
		    f->servers[1]);
	tried[1] = f->servers[1];
	assert_ptr_equal(balance_pick(f, &c, tried, 2, &queue, NOW),
	    f->servers[2]);
	tried[2] = f->servers[2];
	assert_ptr_equal(balance_pick(f, &c, tried, 3, &queue, NOW),
	    f->servers[3]);
	tried[3] = f->servers[3];
	queue = true;
	assert_null(balance_pick(f, &c, tried, 4, &queue, NOW));
	assert_false(queue);
	farm_drop(f);
}

static void
test_tried_sticky(void **state)
{
	struct rt_farm *f = farm_make("roundrobin", "source");
	struct mxaddr c = client_n(3);
	struct rt_server *s, *t;
	bool queue;

	(void)state;
	server_add(f, "10.0.0.1", NULL);
	server_add(f, "10.0.0.2", NULL);
	s = pick_for(f, &c, &queue);
	/* A redispatch after a failed connect leaves the sticky server. */
	t = balance_pick(f, &c, &s, 1, &queue, NOW);
	assert_non_null(t);
	assert_ptr_not_equal(t, s);
	farm_drop(f);
}

/* ---- stickiness ------------------------------------------------------- */

static void
test_stick_source(void **state)
{
	struct rt_farm *f = farm_make("roundrobin", "source");
	struct mxaddr x = client_n(42), other;
	struct rt_server *s, *t;
	bool queue;

	(void)state;
	for (int i = 0; i < 4; i++) {
		char a[32];
		snprintf(a, sizeof a, "10.0.0.%d", i + 1);
		server_add(f, a, NULL);
	}
	s = pick_for(f, &x, &queue);
	assert_non_null(s);
	/* Other clients go round; x keeps its server. */
	for (unsigned n = 0; n < 40; n++) {
		other = client_n(1000 + n);
		assert_non_null(pick_for(f, &other, &queue));
		assert_ptr_equal(pick_for(f, &x, &queue), s);
	}
	/* Its server goes down: x moves, then stays on the new one. */
	s->pstate = PSTATE_DOWN;
	t = pick_for(f, &x, &queue);
	assert_non_null(t);
	assert_ptr_not_equal(t, s);
	for (unsigned n = 0; n < 10; n++) {
		other = client_n(2000 + n);
		pick_for(f, &other, &queue);
		assert_ptr_equal(pick_for(f, &x, &queue), t);
	}
	/* Drained: moves as well. */
	t->admin = ADMIN_DRAIN;
	assert_ptr_not_equal(pick_for(f, &x, &queue), t);
	farm_drop(f);
}

/* More clients than the table's first size: all are remembered. */
static void
test_stick_many_clients(void **state)
{
	struct rt_farm *f = farm_make("roundrobin", "source");
	struct rt_server *first[NCLIENTS];
	unsigned c[3] = { 0 };
	struct mxaddr x;
	bool queue;

	(void)state;
	server_add(f, "10.0.0.1", NULL);
	server_add(f, "10.0.0.2", NULL);
	server_add(f, "10.0.0.3", NULL);
	for (unsigned n = 0; n < NCLIENTS; n++) {
		x = client_n(n);
		first[n] = pick_for(f, &x, &queue);
		c[index_of(f, first[n])]++;
	}
	/* New clients are still spread by the algorithm. */
	assert_true(c[0] >= 333 && c[0] <= 334);
	assert_true(c[1] >= 333 && c[1] <= 334);
	for (unsigned n = 0; n < NCLIENTS; n++) {
		x = client_n(n);
		if (pick_for(f, &x, &queue) != first[n])
			fail_msg("client %u lost its server", n);
	}
	farm_drop(f);
}

static void
test_stick_expires(void **state)
{
	struct rt_farm *f = farm_make("first", "source");
	struct rt_server *a, *b;
	struct mxaddr x = client_n(9);
	bool queue;

	(void)state;
	a = server_add(f, "10.0.0.1", NULL);
	b = server_add(f, "10.0.0.2", NULL);
	a->pstate = PSTATE_DOWN;
	assert_ptr_equal(balance_pick(f, &x, NULL, 0, &queue, NOW), b);
	a->pstate = PSTATE_UP;
	/* Still within 30 minutes of the last session: b. */
	assert_ptr_equal(balance_pick(f, &x, NULL, 0, &queue,
	    NOW + 29 * 60 * 1000), b);
	/* 30 minutes after that: `first` applies again. */
	assert_ptr_equal(balance_pick(f, &x, NULL, 0, &queue,
	    NOW + 59 * 60 * 1000 + 1), a);
	farm_drop(f);
}


/* ---- slow start ----------------------------------------------------- */

#define SS_MS	10000	/* the farm's slowstart in these tests */

static struct rt_farm *
farm_slow(const char *balance)
{
	struct rt_farm *f = farm_make(balance, NULL);

	conf_set(&farm_fields, f->conf, "slowstart", "10");
	return f;
}

/* s came back `ago` ms before NOW. */
static void
ramp_at(struct rt_server *s, uint64_t ago)
{
	s->ramp_start = NOW - ago;
}

/* Of n sessions from n different clients (sessions that stay open, so
 * leastconn sees them), how many go to s, in %. */
static double
share_of(struct rt_farm *f, struct rt_server *s, unsigned n)
{
	unsigned got = 0;

	for (unsigned k = 0; k < n; k++) {
		struct mxaddr c = client_n(k);
		bool queue;
		struct rt_server *p = pick_for(f, &c, &queue);
		assert_non_null(p);
		p->nsess++;
		got += p == s;
	}
	for (size_t i = 0; i < f->nservers; i++)
		f->servers[i]->nsess = 0;
	return 100.0 * got / n;
}

static void
assert_between(double v, double lo, double hi, const char *what)
{
	if (v < lo || v > hi)
		fail_msg("%s: %.1f not in [%.1f, %.1f]", what, v, lo, hi);
}

static void
test_slowstart_weight(void **state)
{
	struct rt_farm *f = farm_slow("roundrobin");
	struct rt_server *a = server_add(f, "10.0.0.1", "weight=10", NULL);

	(void)state;
	assert_int_equal(server_eff_weight(a, NOW), 10 * WEIGHT_SCALE);
	ramp_at(a, 2500);	/* a quarter of the way */
	assert_int_equal(server_eff_weight(a, NOW), 10 * WEIGHT_SCALE / 4);
	assert_true(server_ramp(a, NOW) > 0.24 && server_ramp(a, NOW) < 0.26);
	ramp_at(a, 0);		/* just back: near 0, never 0 */
	assert_int_equal(server_eff_weight(a, NOW), 1);
	ramp_at(a, SS_MS);	/* done */
	assert_int_equal(server_eff_weight(a, NOW), 10 * WEIGHT_SCALE);
	/* The agent's percentage, then the ramp on top of it. */
	a->agent_has_pct = true;
	a->agent_pct = 50;
	assert_int_equal(server_eff_weight(a, NOW), 5 * WEIGHT_SCALE);
	ramp_at(a, 5000);
	assert_int_equal(server_eff_weight(a, NOW), 5 * WEIGHT_SCALE / 2);
	a->agent_pct = 0;	/* 0 %: takes no new sessions */
	assert_false(server_available(a));
	farm_drop(f);
}

/* A server coming back starts its ramp, only if the farm has slowstart. */
static void
test_slowstart_check(void **state)
{
	struct rt_farm *f = farm_slow("roundrobin");
	struct rt_server *a = server_add(f, "10.0.0.1", NULL);

	(void)state;
	server_ramp_check(a, true, NOW);	/* was available already */
	assert_int_equal(a->ramp_start, 0);
	a->admin = ADMIN_DRAIN;
	server_ramp_check(a, true, NOW);
	assert_int_equal(a->ramp_start, 0);
	a->admin = ADMIN_READY;
	server_ramp_check(a, false, NOW);	/* back from drain */
	assert_int_equal(a->ramp_start, NOW);
	conf_set(&farm_fields, f->conf, "slowstart", "0");
	server_ramp_check(a, false, NOW);
	assert_int_equal(a->ramp_start, 0);
	assert_true(server_ramp(a, NOW) == 1);
	farm_drop(f);
}

/*
 * Within a tier, under each algorithm: a server a quarter into its ramp
 * next to an equal one at full weight takes about 1/5 (0.25 / 1.25) of
 * the new sessions; `first` gives the first server a quarter; its share
 * grows with the ramp and is whole at the end.
 */
static void
test_slowstart_algos(void **state)
{
	const char *algos[] = { "roundrobin", "leastconn", "source", "first" };

	(void)state;
	for (size_t k = 0; k < nitems(algos); k++) {
		struct rt_farm *f = farm_slow(algos[k]);
		struct rt_server *a = server_add(f, "10.0.0.1", NULL);
		bool first = strcmp(algos[k], "first") == 0;
		double s25, s50, s100;

		server_add(f, "10.0.0.2", NULL);
		ramp_at(a, 2500);
		s25 = share_of(f, a, 4000);
		assert_between(s25, first ? 20 : 15, first ? 30 : 25, algos[k]);
		ramp_at(a, 5000);	/* 0.5 / 1.5 = a third, first: a half */
		s50 = share_of(f, a, 4000);
		assert_between(s50, first ? 45 : 28, first ? 55 : 39, algos[k]);
		ramp_at(a, SS_MS);
		s100 = share_of(f, a, 4000);
		assert_between(s100, first ? 100 : 45, first ? 100 : 55,
		    algos[k]);
		ramp_at(a, 0);
		assert_between(share_of(f, a, 4000), 0, 1, algos[k]);
		farm_drop(f);
	}
}

/*
 * Tiers: the primary tier back in slow start shares with the next tier,
 * taking the share of its ramp; a tier that already had a server at
 * full weight keeps all the traffic when another of its servers returns.
 */
static void
test_slowstart_tiers(void **state)
{
	const char *algos[] = { "roundrobin", "leastconn", "source", "first" };

	(void)state;
	for (size_t k = 0; k < nitems(algos); k++) {
		struct rt_farm *f = farm_slow(algos[k]);
		struct rt_server *a = server_add(f, "10.0.0.1", "priority=10",
		    NULL);
		struct rt_server *b = server_add(f, "10.0.0.2", "priority=20",
		    NULL);
		struct rt_server *c;
		bool first = strcmp(algos[k], "first") == 0;
		double s30, s70;

		ramp_at(a, 3000);
		s30 = share_of(f, a, 4000);
		assert_between(s30, 25, 35, algos[k]);
		ramp_at(a, 7000);
		s70 = share_of(f, a, 4000);
		assert_between(s70, 65, 75, algos[k]);
		ramp_at(a, SS_MS);
		assert_between(share_of(f, a, 4000), 100, 100, algos[k]);
		/* Alone, a ramping server takes everything: no one else. */
		b->pstate = PSTATE_DOWN;
		ramp_at(a, 1000);
		assert_between(share_of(f, a, 400), 100, 100, algos[k]);
		b->pstate = PSTATE_UP;
		/* A second server of the tier returns next to a full one:
		 * the tier keeps all, shared within it by the ramp. */
		c = server_add(f, "10.0.0.3", "priority=10", NULL);
		ramp_at(a, SS_MS);
		ramp_at(c, 1000);
		assert_between(share_of(f, b, 4000), 0, 0, algos[k]);
		assert_between(share_of(f, c, 4000), 0, first ? 0 : 15,
		    algos[k]);
		farm_drop(f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundrobin_weights),
		cmocka_unit_test(test_roundrobin_equal),
		cmocka_unit_test(test_priority_lowest_first),
		cmocka_unit_test(test_priority_fallback),
		cmocka_unit_test(test_backup_last),
		cmocka_unit_test(test_nothing_available),
		cmocka_unit_test(test_priority_weights),
		cmocka_unit_test(test_leastconn_fewest),
		cmocka_unit_test(test_leastconn_sessions),
		cmocka_unit_test(test_source_same_client),
		cmocka_unit_test(test_source_remove_one),
		cmocka_unit_test(test_source_down_one),
		cmocka_unit_test(test_source_weights),
		cmocka_unit_test(test_first),
		cmocka_unit_test(test_maxconn_queue),
		cmocka_unit_test(test_maxconn_skips_full),
		cmocka_unit_test(test_tried),
		cmocka_unit_test(test_tried_sticky),
		cmocka_unit_test(test_stick_source),
		cmocka_unit_test(test_stick_many_clients),
		cmocka_unit_test(test_stick_expires),
		cmocka_unit_test(test_slowstart_weight),
		cmocka_unit_test(test_slowstart_check),
		cmocka_unit_test(test_slowstart_algos),
		cmocka_unit_test(test_slowstart_tiers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
