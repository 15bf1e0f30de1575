/*
 * The engine's small shared helpers: the growable array, set membership,
 * milliseconds as a timeval, and the one hash table of client addresses
 * that the stick table and the per-source limits use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "hash.h"
#include "util.h"

static void
test_array_push(void **state)
{
	int *v = NULL;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 1000; i++)
		*ARRAY_PUSH(v, n) = i;
	assert_int_equal(n, 1000);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], (int)i);
	free(v);
}

static void
test_array_insert(void **state)
{
	int *v = NULL;
	size_t n = 0;

	(void)state;
	*ARRAY_INSERT(v, n, 0) = 3;	/* into an empty array */
	*ARRAY_INSERT(v, n, 0) = 1;	/* at the front */
	*ARRAY_INSERT(v, n, 1) = 2;	/* in the middle */
	*ARRAY_INSERT(v, n, n) = 4;	/* at the end */
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], (int)i + 1);
	free(v);
}

static bool
in_range(const void *elem, const void *key)
{
	const int *r = elem;

	return *(const int *)key >= r[0] && *(const int *)key <= r[1];
}

static void
test_set_has(void **state)
{
	const char *a = "a", *b = "b", *c = "c";
	const char *ptrs[] = { a, b };
	int ranges[][2] = { { 1, 5 }, { 10, 10 } }, k;

	(void)state;
	assert_false(set_has(NULL, 0, sizeof *ptrs, &a, NULL));
	assert_true(set_has(ptrs, 2, sizeof *ptrs, &a, NULL));
	assert_true(set_has(ptrs, 2, sizeof *ptrs, &b, NULL));
	assert_false(set_has(ptrs, 2, sizeof *ptrs, &c, NULL));
	assert_false(set_has(ptrs, 1, sizeof *ptrs, &b, NULL));
	k = 5, assert_true(set_has(ranges, 2, sizeof *ranges, &k, in_range));
	k = 10, assert_true(set_has(ranges, 2, sizeof *ranges, &k, in_range));
	k = 6, assert_false(set_has(ranges, 2, sizeof *ranges, &k, in_range));
}

/* The lists of the config model answer through set_has. */
static void
test_lists(void **state)
{
	struct cidrlist cl = { 0, NULL };
	struct portlist pl = { 0, NULL };
	struct mxaddr a;
	char err[128];

	(void)state;
	assert_int_equal(cidrlist_parse(&cl, "10.0.0.0/8,::1/128", err,
	    sizeof err), 0);
	assert_int_equal(addr_parse(&a, "10.2.3.4", err, sizeof err), 0);
	assert_true(cidrlist_match(&cl, &a));
	assert_int_equal(addr_parse(&a, "11.0.0.1", err, sizeof err), 0);
	assert_false(cidrlist_match(&cl, &a));
	assert_int_equal(addr_parse(&a, "::1", err, sizeof err), 0);
	assert_true(cidrlist_match(&cl, &a));
	assert_int_equal(portlist_parse(&pl, "25,587-588", PORT_MIN, PORT_MAX, err,
	    sizeof err), 0);
	assert_true(portlist_has(&pl, 25));
	assert_true(portlist_has(&pl, 588));
	assert_false(portlist_has(&pl, 26));
	assert_false(portlist_has(&pl, 589));
	free(cl.v);
	free(pl.v);
}

static void
test_ms_timeval(void **state)
{
	struct timeval tv;

	(void)state;
	tv = ms_timeval(0);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
	tv = ms_timeval(1999);
	assert_int_equal(tv.tv_sec, 1);
	assert_int_equal(tv.tv_usec, 999000);
	tv = ms_timeval(86400000);
	assert_int_equal(tv.tv_sec, 86400);
	assert_int_equal(tv.tv_usec, 0);
}

struct entry {
	struct hnode	 node;
	unsigned	 value;
};

static struct mxaddr
addr_n(unsigned i, bool v6)
{
	struct mxaddr a;
	char s[64], err[128];

	if (v6)
		snprintf(s, sizeof s, "2001:db8::%x:%x", i >> 16, i & 0xffff);
	else
		snprintf(s, sizeof s, "10.%u.%u.%u", i >> 16 & 0xff,
		    i >> 8 & 0xff, i & 0xff);
	assert_int_equal(addr_parse(&a, s, err, sizeof err), 0);
	return a;
}

static void
test_hash_basic(void **state)
{
	struct htable t;
	struct mxaddr a = addr_n(1, false), b = addr_n(1, true);
	struct entry *e;

	(void)state;
	htable_init(&t, sizeof(struct entry), 100);
	assert_null(htable_find(&t, &a));	/* empty: no buckets yet */
	assert_non_null(e = htable_add(&t, &a));
	assert_int_equal(e->value, 0);		/* a new entry is zeroed */
	e->value = 4;
	assert_non_null(e = htable_add(&t, &b));
	e->value = 6;
	assert_int_equal(t.n, 2);
	assert_int_equal(((struct entry *)htable_find(&t, &a))->value, 4);
	assert_int_equal(((struct entry *)htable_find(&t, &b))->value, 6);
	htable_remove(&t, htable_find(&t, &a));
	assert_null(htable_find(&t, &a));
	assert_non_null(htable_find(&t, &b));
	assert_int_equal(t.n, 1);
	htable_clear(&t);
	assert_int_equal(t.n, 0);
	assert_null(htable_find(&t, &b));
}

static bool
is_odd(void *e, const void *arg)
{
	(void)arg;
	return ((struct entry *)e)->value % 2 == 1;
}

/* Growth keeps every entry; expiry drops exactly what it is told to. */
static void
test_hash_grow_expire(void **state)
{
	enum { N = 20000 };
	struct htable t;
	struct mxaddr a;

	(void)state;
	htable_init(&t, sizeof(struct entry), N);
	for (unsigned i = 0; i < N; i++) {
		a = addr_n(i, i % 3 == 0);
		struct entry *e = htable_add(&t, &a);
		assert_non_null(e);
		e->value = i;
	}
	assert_int_equal(t.n, N);
	assert_true(t.nb >= N / 2);		/* chains stay short */
	a = addr_n(N, false);
	assert_null(htable_add(&t, &a));	/* full: bounded */
	for (unsigned i = 0; i < N; i++) {
		a = addr_n(i, i % 3 == 0);
		struct entry *e = htable_find(&t, &a);
		assert_non_null(e);
		assert_int_equal(e->value, i);
	}
	assert_int_equal(htable_expire(&t, is_odd, NULL), N / 2);
	assert_int_equal(t.n, N / 2);
	for (unsigned i = 0; i < N; i++) {
		a = addr_n(i, i % 3 == 0);
		if (i % 2)
			assert_null(htable_find(&t, &a));
		else
			assert_non_null(htable_find(&t, &a));
	}
	a = addr_n(N, false);
	assert_non_null(htable_add(&t, &a));	/* room again */
	htable_clear(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_array_push),
		cmocka_unit_test(test_array_insert),
		cmocka_unit_test(test_set_has),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_ms_timeval),
		cmocka_unit_test(test_hash_basic),
		cmocka_unit_test(test_hash_grow_expire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
