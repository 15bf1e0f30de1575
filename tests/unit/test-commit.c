/*
 * Transaction tests: the commit rules of one zone (stale base, validate
 * before switching, saved before switched in, prepare, apply and save
 * failures), the confirmed-commit timer and its back-off,
 * the bounded history and rollback.  The engine's hooks are fakes and the
 * clock is a number passed in, as the engine passes it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expect-errs.h"

#include "commit.h"

#define ZONE		"z1"
#define APPLIED_MAX	256

/* ---- fakes ------------------------------------------------------------ */

struct fake {
	struct txn	 t;

	/* prepare: counts calls, fails while prepare_fail; abort counts. */
	int		 prepare_calls;
	bool		 prepare_fail;
	int		 aborts;

	/* apply: every config it took, in order; fails while apply_fail. */
	struct config	*applied[APPLIED_MAX];
	size_t		 napplied;
	int		 apply_calls;
	bool		 apply_fail;

	/* save: counts calls, notes what was running; fails while save_fail. */
	int		 saves;
	uint64_t	 saved_running;
	bool		 saved_pending;
	bool		 save_fail;
};

static int
fake_prepare(void *arg, const struct config *c, struct errs *errs)
{
	struct fake *f = arg;

	(void)c;
	f->prepare_calls++;
	if (f->prepare_fail) {
		errs_add(errs, "fake prepare: port 25 is in use");
		return -1;
	}
	return 0;
}

static void
fake_abort(void *arg)
{
	struct fake *f = arg;

	f->aborts++;
}

static int
fake_apply(void *arg, struct config *c, struct errs *errs)
{
	struct fake *f = arg;

	f->apply_calls++;
	/* Saved before switched in: the version running now is on disk. */
	assert_int_equal(f->saved_running, f->t.running);
	if (f->apply_fail) {
		errs_add(errs, "fake apply: port 25 is in use");
		return -1;
	}
	assert_true(f->napplied < APPLIED_MAX);
	f->applied[f->napplied++] = c;
	return 0;
}

static int
fake_save(void *arg, const struct txn *t, struct errs *errs)
{
	struct fake *f = arg;

	f->saves++;
	f->saved_running = t->running;
	f->saved_pending = t->pending;
	if (f->save_fail) {
		errs_add(errs, "fake save: disk full");
		return -1;
	}
	return 0;
}

static int
setup(void **state)
{
	struct fake *f = xcalloc(1, sizeof *f);

	txn_init(&f->t, ZONE);
	f->t.prepare = fake_prepare;
	f->t.abort = fake_abort;
	f->t.apply = fake_apply;
	f->t.save = fake_save;
	f->t.arg = f;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fake *f = *state;

	for (size_t i = 0; i < f->napplied; i++)
		config_free(f->applied[i]);
	txn_free(&f->t);
	free(f);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* A valid config of zone z whose one server has weight w: the weight tells
 * configs apart. */
static char *
config_text(const char *z, long w)
{
	return xasprintf("{\"zone\":\"%s\",\"farms\":[{\"name\":\"mx\","
	    "\"servers\":[{\"address\":\"10.0.0.1\",\"weight\":%ld}]}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"mx\"}]}",
	    z, w);
}

static json_t *
json_of(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (j == NULL) {
		print_message("bad JSON in test: %s: %s\n", text, jerr.text);
		fail();
	}
	return j;
}

static struct config *
parse(const char *text)
{
	struct errs e = { 0 };
	json_t *j = json_of(text);
	struct config *c = config_from_json(j, &e);

	json_decref(j);
	if (c == NULL) {
		for (size_t i = 0; i < e.n; i++)
			print_message("  error: %s\n", e.v[i]);
		errs_free(&e);
		fail();
	}
	return c;
}

/* The weight of server 10.0.0.1, or -1 for a config without farm mx. */
static long
weight_of(const struct config *c)
{
	const struct farm *mx = config_farm(c, "mx");
	const struct server *s = mx ? farm_server(mx, "10.0.0.1") : NULL;

	return s ? s->weight : -1;
}

static long
version_weight(const struct txn *t, uint64_t number)
{
	const struct version *v = txn_find(t, number);
	struct config *c;
	long w;

	assert_non_null(v);
	c = parse(v->config);
	w = weight_of(c);
	config_free(c);
	return w;
}

static long
last_applied_weight(const struct fake *f)
{
	assert_true(f->napplied > 0);
	return weight_of(f->applied[f->napplied - 1]);
}

static void
assert_contains(const char *s, const char *part)
{
	if (s == NULL || strstr(s, part) == NULL) {
		print_message("expected \"%s\" in: %s\n", part, s ? s : "(null)");
		fail();
	}
}

/* Commits a config of weight w; returns txn_commit's result, error in e. */
static int
commit_w(struct fake *f, long w, uint64_t base, const char *user,
    const char *comment, long confirm_s, int64_t now, struct txn_error *e)
{
	char *text = config_text(ZONE, w);
	json_t *j = json_of(text);
	int rc = txn_commit(&f->t, j, base, user, comment, confirm_s, now, e);

	json_decref(j);
	free(text);
	return rc;
}

/* A commit that must succeed on the running version. */
static void
commit_ok(struct fake *f, long w, long confirm_s, int64_t now)
{
	struct txn_error e = { 0 };

	if (commit_w(f, w, f->t.running, "alice", "change", confirm_s, now,
	    &e) == -1) {
		print_message("commit failed: %s: %s\n", e.code, e.message);
		txn_error_free(&e);
		fail();
	}
	txn_error_free(&e);
}

/* ---- commit ----------------------------------------------------------- */

static void
test_first_commit(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	const struct version *v;
	char *text = config_text(ZONE, 7);
	struct config *want = parse(text), *got;

	assert_int_equal(f->t.running, 0);
	assert_null(txn_find(&f->t, 1));
	assert_int_equal(commit_w(f, 7, 0, "alice", "first mx", 0, 1000, &e), 0);
	assert_null(e.code);
	assert_int_equal(f->t.running, 1);
	assert_int_equal(f->t.nhist, 1);
	assert_false(f->t.pending);

	v = txn_find(&f->t, 1);
	assert_non_null(v);
	assert_int_equal(v->number, 1);
	assert_string_equal(v->user, "alice");
	assert_string_equal(v->comment, "first mx");
	assert_int_equal(v->time, 1000);
	got = parse(v->config);
	assert_true(config_equal(got, want));

	/* Switched in once, made durable once, with the new version running. */
	assert_int_equal(f->apply_calls, 1);
	assert_int_equal(f->napplied, 1);
	assert_true(config_equal(f->applied[0], want));
	assert_int_equal(f->saves, 1);
	assert_int_equal(f->saved_running, 1);

	config_free(got);
	config_free(want);
	free(text);
	txn_error_free(&e);
}

static void
test_stale_base(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	assert_int_equal(commit_w(f, 7, 0, "alice", "add mx", 0, 1000, &e), 0);
	txn_error_free(&e);

	assert_int_equal(commit_w(f, 9, 0, "bob", "mine", 0, 1010, &e), -1);
	assert_string_equal(e.code, E_STALE);
	assert_contains(e.message, "version 1");
	assert_contains(e.message, "alice");
	assert_contains(e.message, "add mx");
	assert_contains(e.message, "based on version 0");
	/* Nothing changed. */
	assert_int_equal(f->apply_calls, 1);
	assert_int_equal(f->saves, 1);
	assert_int_equal(f->t.running, 1);
	assert_int_equal(f->t.nhist, 1);
	assert_int_equal(version_weight(&f->t, 1), 7);
	txn_error_free(&e);

	/* A base from the future is stale too. */
	assert_int_equal(commit_w(f, 9, 5, "bob", "mine", 0, 1010, &e), -1);
	assert_string_equal(e.code, E_STALE);
	assert_int_equal(f->t.running, 1);
	txn_error_free(&e);
}

/* Commits text, which must be refused as invalid without any change. */
static void
expect_invalid(struct fake *f, const char *text, struct txn_error *e)
{
	json_t *j = json_of(text);
	uint64_t running = f->t.running;
	size_t nhist = f->t.nhist;
	int calls = f->apply_calls, saves = f->saves;

	assert_int_equal(txn_commit(&f->t, j, running, "bob", "bad", 0, 2000,
	    e), -1);
	json_decref(j);
	assert_string_equal(e->code, E_INVALID);
	assert_non_null(e->message);
	assert_true(e->list.n > 0);
	assert_int_equal(f->apply_calls, calls);
	assert_int_equal(f->saves, saves);
	assert_int_equal(f->t.running, running);
	assert_int_equal(f->t.nhist, nhist);
}

static void
test_invalid(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	char *text;

	commit_ok(f, 7, 0, 1000);

	text = config_text(ZONE, 300);
	expect_invalid(f, text, &e);
	expect_error(&e.list,
	    "farm mx: server 10.0.0.1: weight 300 is out of range 0-256");
	assert_int_equal(e.list.n, 1);
	free(text);
	txn_error_free(&e);

	expect_invalid(f, "{\"zone\":\"z1\",\"farms\":[],\"frontends\":"
	    "[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"nope\"}]}", &e);
	expect_error(&e.list,
	    "frontend in: farm \"nope\" does not exist in zone z1");
	assert_int_equal(e.list.n, 1);
	txn_error_free(&e);

	text = config_text("z2", 7);
	expect_invalid(f, text, &e);
	assert_int_equal(e.list.n, 1);
	assert_contains(e.list.v[0], "z2");
	assert_contains(e.list.v[0], "z1");
	free(text);
	txn_error_free(&e);

	/* Every error at once, each listed. */
	expect_invalid(f, "{\"zone\":\"z1\",\"farms\":[{\"name\":\"mx\","
	    "\"servers\":[{\"address\":\"10.0.0.1\",\"weight\":300}]}],"
	    "\"frontends\":[{\"name\":\"in\",\"bind\":\"25\",\"farm\":\"nope\"}]}",
	    &e);
	expect_error(&e.list,
	    "farm mx: server 10.0.0.1: weight 300 is out of range 0-256");
	expect_error(&e.list,
	    "frontend in: farm \"nope\" does not exist in zone z1");
	assert_int_equal(e.list.n, 2);
	assert_contains(e.message, "2 errors");
	txn_error_free(&e);

	expect_invalid(f, "[1,2]", &e);
	txn_error_free(&e);

	/* The first config still runs and is still the last one applied. */
	assert_int_equal(f->napplied, 1);
	assert_int_equal(last_applied_weight(f), 7);
	assert_int_equal(version_weight(&f->t, 1), 7);
}

static void
test_apply_failure(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	commit_ok(f, 7, 0, 1000);
	f->prepare_fail = true;
	assert_int_equal(commit_w(f, 8, 1, "bob", "x", 0, 1010, &e), -1);
	assert_string_equal(e.code, E_APPLY);
	expect_error(&e.list, "fake prepare: port 25 is in use");
	assert_int_equal(f->prepare_calls, 2);
	assert_int_equal(f->apply_calls, 1);
	assert_int_equal(f->napplied, 1);
	assert_int_equal(f->saves, 1);
	assert_int_equal(f->t.running, 1);
	assert_int_equal(f->t.nhist, 1);
	assert_null(txn_find(&f->t, 2));
	assert_int_equal(version_weight(&f->t, 1), 7);
	txn_error_free(&e);

	/* Once the hook works again, the next version is 2. */
	f->prepare_fail = false;
	commit_ok(f, 8, 0, 1020);
	assert_int_equal(f->t.running, 2);
	assert_int_equal(version_weight(&f->t, 2), 8);
}

/* Without a prepare hook the apply can fail after the save: the state is
 * saved back to the version that runs. */
static void
test_apply_failure_after_save(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	f->t.prepare = NULL;
	commit_ok(f, 7, 0, 1000);
	f->apply_fail = true;
	assert_int_equal(commit_w(f, 8, 1, "bob", "x", 0, 1010, &e), -1);
	assert_string_equal(e.code, E_APPLY);
	expect_error(&e.list, "fake apply: port 25 is in use");
	assert_int_equal(f->saves, 3);
	assert_int_equal(f->saved_running, 1);
	assert_int_equal(f->t.running, 1);
	assert_null(txn_find(&f->t, 2));
	assert_int_equal(f->napplied, 1);
	txn_error_free(&e);
}

static void
test_save_failure(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	commit_ok(f, 7, 0, 1000);
	f->save_fail = true;
	assert_int_equal(commit_w(f, 8, 1, "bob", "x", 0, 1010, &e), -1);
	assert_string_equal(e.code, E_STATE);
	expect_error(&e.list, "fake save: disk full");
	assert_contains(e.message, "version 1 stays running");
	assert_int_equal(f->saves, 2);
	assert_int_equal(f->t.running, 1);
	assert_int_equal(f->t.nhist, 1);
	assert_null(txn_find(&f->t, 2));
	assert_int_equal(version_weight(&f->t, 1), 7);
	/* Prepared, never switched in, and what prepare opened is dropped. */
	assert_int_equal(f->prepare_calls, 2);
	assert_int_equal(f->aborts, 1);
	assert_int_equal(f->napplied, 1);
	assert_int_equal(last_applied_weight(f), 7);
	txn_error_free(&e);

	f->save_fail = false;
	commit_ok(f, 9, 0, 1020);
	assert_int_equal(f->t.running, 2);
	assert_int_equal(version_weight(&f->t, 2), 9);
}

static void
test_save_failure_first_commit(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	f->save_fail = true;
	assert_int_equal(commit_w(f, 8, 0, "bob", "x", 0, 1010, &e), -1);
	assert_string_equal(e.code, E_STATE);
	assert_int_equal(f->t.running, 0);
	assert_int_equal(f->t.nhist, 0);
	assert_int_equal(f->napplied, 0);
	assert_int_equal(f->aborts, 1);
	txn_error_free(&e);
}

/* A refused commit must leave the history as it was, even when full. */
static void
test_save_failure_full_history(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	for (long i = 1; i <= HISTORY_MAX; i++)
		commit_ok(f, i, 0, 1000 + i);
	assert_int_equal(f->t.nhist, HISTORY_MAX);
	assert_non_null(txn_find(&f->t, 1));

	f->save_fail = true;
	assert_int_equal(commit_w(f, 200, HISTORY_MAX, "bob", "x", 0, 2000,
	    &e), -1);
	assert_string_equal(e.code, E_STATE);
	txn_error_free(&e);
	assert_int_equal(f->t.running, HISTORY_MAX);
	assert_int_equal(last_applied_weight(f), HISTORY_MAX);
	assert_null(txn_find(&f->t, HISTORY_MAX + 1));
	if (txn_find(&f->t, 1) == NULL) {
		print_message("version 1 was dropped from the history by a "
		    "commit that was refused (%zu entries left)\n", f->t.nhist);
		fail();
	}
	assert_int_equal(f->t.nhist, HISTORY_MAX);
}

/* ---- confirmed commit ------------------------------------------------- */

static void
test_confirm_timeout_reverts(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	const struct version *v;
	struct config *c;

	commit_ok(f, 7, 0, 90);			/* version 1 */
	assert_int_equal(commit_w(f, 8, 1, "bob", "try", 3, 100, &e), 0);
	txn_error_free(&e);
	assert_int_equal(f->t.running, 2);
	assert_true(f->t.pending);
	assert_int_equal(f->t.deadline, 103);

	assert_false(txn_tick(&f->t, 101, &e));
	assert_false(txn_tick(&f->t, 102, &e));
	assert_null(e.code);
	assert_int_equal(f->t.running, 2);
	assert_int_equal(f->apply_calls, 2);
	assert_true(f->t.pending);

	assert_true(txn_tick(&f->t, 103, &e));
	assert_null(e.code);
	assert_false(f->t.pending);
	assert_int_equal(f->t.running, 3);
	v = txn_find(&f->t, 3);
	assert_non_null(v);
	assert_int_equal(v->time, 103);
	assert_contains(v->comment, "revert");
	c = parse(v->config);
	assert_int_equal(weight_of(c), 7);
	{
		const struct version *v1 = txn_find(&f->t, 1);
		struct config *c1 = parse(v1->config);
		assert_true(config_equal(c, c1));
		config_free(c1);
	}
	config_free(c);
	assert_int_equal(last_applied_weight(f), 7);
	assert_int_equal(f->saves, 3);

	/* Nothing more to do afterwards. */
	assert_false(txn_tick(&f->t, 200, &e));
	assert_int_equal(f->t.running, 3);
	txn_error_free(&e);
}

static void
test_confirm_before_deadline(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	commit_ok(f, 7, 0, 90);
	commit_ok(f, 8, 3, 100);
	assert_true(f->t.pending);
	assert_false(txn_tick(&f->t, 102, &e));
	assert_int_equal(txn_confirm(&f->t, &e), 0);
	assert_null(e.code);
	assert_false(f->t.pending);
	assert_int_equal(f->saves, 3);	/* the confirmation is durable */
	assert_false(txn_tick(&f->t, 103, &e));
	assert_false(txn_tick(&f->t, 1000, &e));
	assert_int_equal(f->t.running, 2);
	assert_int_equal(last_applied_weight(f), 8);

	/* A second confirm has nothing to keep. */
	assert_int_equal(txn_confirm(&f->t, &e), -1);
	assert_string_equal(e.code, E_NO_PENDING);
	txn_error_free(&e);
}

static void
test_confirm_nothing_pending(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	assert_int_equal(txn_confirm(&f->t, &e), -1);
	assert_string_equal(e.code, E_NO_PENDING);
	assert_non_null(e.message);
	txn_error_free(&e);

	commit_ok(f, 7, 0, 90);
	assert_int_equal(txn_confirm(&f->t, &e), -1);
	assert_string_equal(e.code, E_NO_PENDING);
	assert_int_equal(f->t.running, 1);
	txn_error_free(&e);
}

static void
test_two_confirmed_commits(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	commit_ok(f, 7, 0, 90);			/* version 1 */
	commit_ok(f, 8, 3, 100);		/* version 2, revert at 103 */
	commit_ok(f, 9, 3, 101);		/* version 3, revert at 104 */
	assert_true(f->t.pending);
	assert_int_equal(f->t.deadline, 104);
	assert_false(txn_tick(&f->t, 103, &e));
	assert_true(txn_tick(&f->t, 104, &e));
	assert_null(e.code);
	assert_int_equal(f->t.running, 4);
	assert_int_equal(version_weight(&f->t, 4), 7);
	assert_int_equal(last_applied_weight(f), 7);
	assert_false(f->t.pending);
	txn_error_free(&e);
}

static void
test_plain_commit_cancels_revert(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	commit_ok(f, 7, 0, 90);
	commit_ok(f, 8, 3, 100);
	assert_true(f->t.pending);
	commit_ok(f, 9, 0, 101);
	assert_false(f->t.pending);
	assert_false(txn_tick(&f->t, 103, &e));
	assert_false(txn_tick(&f->t, 1000, &e));
	assert_null(e.code);
	assert_int_equal(f->t.running, 3);
	assert_int_equal(last_applied_weight(f), 9);
	assert_int_equal(txn_confirm(&f->t, &e), -1);
	assert_string_equal(e.code, E_NO_PENDING);
	txn_error_free(&e);
}

/* A confirmed first commit reverts to the empty config. */
static void
test_confirm_first_commit_reverts_to_empty(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	const struct version *v;
	struct config *c, *empty = config_new(ZONE);

	commit_ok(f, 7, 5, 100);
	assert_true(txn_tick(&f->t, 105, &e));
	assert_int_equal(f->t.running, 2);
	v = txn_find(&f->t, 2);
	assert_non_null(v);
	c = parse(v->config);
	assert_true(config_equal(c, empty));
	assert_int_equal(f->applied[f->napplied - 1]->nfarms, 0);
	config_free(c);
	config_free(empty);
	txn_error_free(&e);
}

/* ---- history and rollback --------------------------------------------- */

static void
test_history_bound(void **state)
{
	struct fake *f = *state;

	for (long i = 1; i <= 60; i++)
		commit_ok(f, i, 0, 1000 + i);
	assert_int_equal(f->t.running, 60);
	assert_int_equal(f->t.nhist, HISTORY_MAX);
	for (size_t i = 0; i < f->t.nhist; i++)
		assert_int_equal(f->t.hist[i].number, 60 - HISTORY_MAX + 1 + i);
	assert_null(txn_find(&f->t, 10));
	assert_non_null(txn_find(&f->t, 11));
	assert_int_equal(version_weight(&f->t, 11), 11);
	assert_int_equal(version_weight(&f->t, 60), 60);
	assert_int_equal(txn_find(&f->t, 11)->time, 1011);
}

static void
test_rollback(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	const struct version *v;
	struct config *c2, *c5;

	for (long i = 1; i <= 4; i++)
		commit_ok(f, 10 + i, 0, 1000 + i);
	assert_int_equal(txn_rollback(&f->t, 2, 4, "carol", NULL, 2000, &e), 0);
	assert_null(e.code);
	assert_int_equal(f->t.running, 5);
	v = txn_find(&f->t, 5);
	assert_non_null(v);
	assert_string_equal(v->comment, "rollback to version 2");
	assert_string_equal(v->user, "carol");
	assert_int_equal(v->time, 2000);
	c5 = parse(v->config);
	c2 = parse(txn_find(&f->t, 2)->config);
	assert_true(config_equal(c5, c2));
	assert_true(config_equal(f->applied[f->napplied - 1], c2));
	config_free(c2);
	config_free(c5);
	assert_int_equal(f->saves, 5);

	/* An operator's comment replaces the default. */
	assert_int_equal(txn_rollback(&f->t, 3, 5, "carol", "back to 3", 2010,
	    &e), 0);
	assert_string_equal(txn_find(&f->t, 6)->comment, "back to 3");
	assert_int_equal(version_weight(&f->t, 6), 13);
	txn_error_free(&e);
}

static void
test_rollback_not_found(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	for (long i = 1; i <= 60; i++)
		commit_ok(f, i, 0, 1000 + i);
	assert_int_equal(txn_rollback(&f->t, 5, 60, "carol", NULL, 2000, &e),
	    -1);
	assert_string_equal(e.code, E_NOT_FOUND);
	assert_contains(e.message, "version 5");
	txn_error_free(&e);
	assert_int_equal(txn_rollback(&f->t, 99, 60, "carol", NULL, 2000, &e),
	    -1);
	assert_string_equal(e.code, E_NOT_FOUND);
	txn_error_free(&e);
	assert_int_equal(f->t.running, 60);
	assert_int_equal(f->apply_calls, 60);
	assert_int_equal(f->saves, 60);
}

static void
test_rollback_stale(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	commit_ok(f, 7, 0, 1000);
	commit_ok(f, 8, 0, 1001);
	assert_int_equal(txn_rollback(&f->t, 1, 1, "carol", NULL, 2000, &e), -1);
	assert_string_equal(e.code, E_STALE);
	assert_contains(e.message, "alice");
	assert_int_equal(f->t.running, 2);
	assert_int_equal(f->apply_calls, 2);
	txn_error_free(&e);
}

static void
test_rollback_to_zero(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	struct config *c, *empty = config_new(ZONE);
	char *text = txn_empty_config(&f->t);

	commit_ok(f, 7, 0, 1000);
	commit_ok(f, 8, 0, 1001);
	assert_int_equal(txn_rollback(&f->t, 0, 2, "carol", NULL, 2000, &e), 0);
	assert_int_equal(f->t.running, 3);
	assert_string_equal(txn_find(&f->t, 3)->comment,
	    "rollback to version 0");
	c = parse(txn_find(&f->t, 3)->config);
	assert_true(config_equal(c, empty));
	assert_string_equal(txn_find(&f->t, 3)->config, text);
	assert_true(config_equal(f->applied[f->napplied - 1], empty));
	config_free(c);
	config_free(empty);
	free(text);
	txn_error_free(&e);
}

/* A revert that cannot be saved is tried after 1, 2, 4... s, at most
 * REVERT_RETRY_MAX apart, and keeps the unconfirmed version meanwhile. */
static void
test_revert_retry_backoff(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	int64_t t, attempts[16];
	size_t n = 0;

	commit_ok(f, 7, 0, 90);
	commit_ok(f, 8, 3, 100);		/* revert due at 103 */
	f->save_fail = true;
	for (t = 103; t < 103 + 200 && n < nitems(attempts); t++) {
		int saves = f->saves;
		assert_false(txn_tick(&f->t, t, &e));
		if (f->saves != saves) {
			assert_string_equal(e.code, E_STATE);
			attempts[n++] = t;
		}
		txn_error_free(&e);
		assert_true(f->t.pending);
		assert_int_equal(f->t.running, 2);
		assert_int_equal(last_applied_weight(f), 8);
	}
	assert_true(n >= 8);
	assert_int_equal(attempts[0], 103);
	assert_int_equal(attempts[1], 104);
	assert_int_equal(attempts[2], 106);
	assert_int_equal(attempts[3], 110);
	assert_int_equal(attempts[4], 118);
	assert_int_equal(attempts[5], 134);
	assert_int_equal(attempts[6], 166);
	assert_int_equal(attempts[7] - attempts[6], REVERT_RETRY_MAX);

	/* The disk has room again: the next attempt reverts. */
	f->save_fail = false;
	assert_false(txn_tick(&f->t, attempts[n - 1] + 1, &e));
	assert_true(txn_tick(&f->t, attempts[n - 1] + REVERT_RETRY_MAX, &e));
	assert_null(e.code);
	assert_false(f->t.pending);
	assert_int_equal(f->t.running, 3);
	assert_int_equal(last_applied_weight(f), 7);
	assert_int_equal(f->t.retry_delay, 0);
	txn_error_free(&e);
}

/* The confirm timer is saved with the version that starts it, and its end
 * with the version or confirm that ends it. */
static void
test_pending_is_saved(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };

	commit_ok(f, 7, 0, 90);
	assert_false(f->saved_pending);
	commit_ok(f, 8, 3, 100);
	assert_true(f->saved_pending);
	assert_int_equal(txn_confirm(&f->t, &e), 0);
	assert_false(f->saved_pending);
	commit_ok(f, 9, 3, 110);
	assert_true(f->saved_pending);
	commit_ok(f, 10, 0, 111);		/* a plain commit ends the wait */
	assert_false(f->saved_pending);
	assert_false(f->t.pending);

	/* A confirmed commit that is not saved starts no timer. */
	f->save_fail = true;
	assert_int_equal(commit_w(f, 11, 4, "bob", "x", 3, 120, &e), -1);
	txn_error_free(&e);
	assert_false(f->t.pending);
	f->save_fail = false;

	/* A rollback ends the wait. */
	commit_ok(f, 12, 3, 130);
	assert_int_equal(txn_rollback(&f->t, 1, f->t.running, "carol", NULL,
	    131, &e), 0);
	assert_false(f->saved_pending);
	assert_false(f->t.pending);
	txn_error_free(&e);
}

/* Free text in the history is bounded, and cut between characters. */
static void
test_text_bounded(void **state)
{
	struct fake *f = *state;
	struct txn_error e = { 0 };
	char *big = xmalloc(PROTO_COMMENT_MAX * 2 + 1);
	const struct version *v;

	memset(big, 'a', PROTO_COMMENT_MAX * 2);
	big[PROTO_COMMENT_MAX * 2] = '\0';
	/* A two-byte character across the limit goes as a whole. */
	memcpy(big + PROTO_COMMENT_MAX - 1, "\xc3\xa9", 2);
	assert_int_equal(commit_w(f, 7, 0, big, big, 0, 1000, &e), 0);
	v = txn_find(&f->t, 1);
	assert_int_equal(strlen(v->comment), PROTO_COMMENT_MAX - 1);
	assert_int_equal(strlen(v->user), TXN_USER_MAX);
	assert_int_equal(strspn(v->comment, "a"), PROTO_COMMENT_MAX - 1);
	free(big);
	txn_error_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_first_commit),
		T(test_stale_base),
		T(test_invalid),
		T(test_apply_failure),
		T(test_apply_failure_after_save),
		T(test_save_failure),
		T(test_save_failure_first_commit),
		T(test_save_failure_full_history),
		T(test_confirm_timeout_reverts),
		T(test_confirm_before_deadline),
		T(test_confirm_nothing_pending),
		T(test_two_confirmed_commits),
		T(test_plain_commit_cancels_revert),
		T(test_confirm_first_commit_reverts_to_empty),
		T(test_history_bound),
		T(test_rollback),
		T(test_rollback_not_found),
		T(test_rollback_stale),
		T(test_rollback_to_zero),
		T(test_revert_retry_backoff),
		T(test_text_bounded),
		T(test_pending_is_saved),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
