/* Config transactions: see commit.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commit.h"

void
txn_init(struct txn *t, const char *zone)
{
	memset(t, 0, sizeof *t);
	t->zone = xstrdup(zone);
}

static void
version_free(struct version *v)
{
	free(v->user);
	free(v->comment);
	free(v->config);
	memset(v, 0, sizeof *v);
}

void
txn_free(struct txn *t)
{
	for (size_t i = 0; i < t->nhist; i++)
		version_free(&t->hist[i]);
	free(t->revert_config);
	free(t->zone);
	memset(t, 0, sizeof *t);
}

void
txn_error_free(struct txn_error *e)
{
	free(e->message);
	errs_free(&e->list);
	e->message = NULL;
	e->code = NULL;
}

static int
fail(struct txn_error *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct txn_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	if (vasprintf(&e->message, fmt, ap) == -1)
		e->message = NULL;
	va_end(ap);
	return -1;
}

const struct version *
txn_find(const struct txn *t, uint64_t number)
{
	for (size_t i = 0; i < t->nhist; i++)
		if (t->hist[i].number == number)
			return &t->hist[i];
	return NULL;
}

/* At most max bytes of s, not cutting a UTF-8 character in two. */
static char *
text_bounded(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return xstrdup(s);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return xstrndup_(s, n);
}

/* Adds a version (taking config), dropping the oldest past HISTORY_MAX.
 * Free text is bounded here too (a state.json from before the limits),
 * so the history stays small. */
void
txn_record(struct txn *t, uint64_t number, int64_t when, const char *user,
    const char *comment, char *config)
{
	struct version *v;

	if (t->nhist == HISTORY_MAX) {
		version_free(&t->hist[0]);
		memmove(&t->hist[0], &t->hist[1],
		    (HISTORY_MAX - 1) * sizeof t->hist[0]);
		t->nhist--;
	}
	v = &t->hist[t->nhist++];
	v->number = number;
	v->time = when;
	v->user = text_bounded(user ? user : "", TXN_USER_MAX);
	v->comment = text_bounded(comment ? comment : "", PROTO_COMMENT_MAX);
	v->config = config;
	t->running = number;
}

char *
txn_empty_config(const struct txn *t)
{
	struct config *c = config_new(t->zone);
	json_t *j = config_to_json(c);
	char *s = json_dumps(j, CONFIG_JSON_FLAGS);

	json_decref(j);
	config_free(c);
	return s;
}

static int
stale(const struct txn *t, uint64_t base, struct txn_error *e)
{
	const struct version *v = txn_find(t, t->running);
	char when[32] = "?";

	if (v != NULL) {
		time_t tt = (time_t)v->time;
		struct tm tm;
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S",
		    localtime_r(&tt, &tm));
	}
	return fail(e, E_STALE, "zone %s: your edits are based on version "
	    "%llu but version %llu is running (committed by %s at %s%s%s); "
	    "run 'update' to replay them on it", t->zone,
	    (unsigned long long)base, (unsigned long long)t->running,
	    v ? v->user : "?", when, v && *v->comment ? ": " : "",
	    v ? v->comment : "");
}

static struct config *
parse_text(const char *text, struct errs *errs)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	struct config *c;

	if (j == NULL) {
		errs_add(errs, "stored config: %s", jerr.text);
		return NULL;
	}
	c = config_from_json(j, errs);
	json_decref(j);
	return c;
}

static char *
running_text(const struct txn *t)
{
	const struct version *v = txn_find(t, t->running);

	return v ? xstrdup(v->config) : txn_empty_config(t);
}

/* Takes the newest version off the history again, putting back the
 * oldest one it had pushed out. */
static void
unrecord(struct txn *t, uint64_t prev, bool full, struct version *oldest)
{
	t->nhist--;
	version_free(&t->hist[t->nhist]);
	if (full) {
		memmove(&t->hist[1], &t->hist[0], t->nhist * sizeof t->hist[0]);
		t->hist[0] = *oldest;
		t->nhist++;
	}
	t->running = prev;
}

/*
 * Validated before anything changes.  The new version is made ready
 * (prepare: what can fail, such as opening listeners), saved, and only
 * then switched in: a version that could not be saved never runs, so what
 * runs and what the state directory says always agree.
 */
static int
commit_config(struct txn *t, struct config *c, const char *user,
    const char *comment, int64_t now, struct txn_error *e)
{
	json_t *j = config_to_json(c);
	char *text = json_dumps(j, CONFIG_JSON_FLAGS);
	uint64_t prev = t->running;
	struct version oldest;
	bool full = t->nhist == HISTORY_MAX;

	json_decref(j);
	if (t->prepare != NULL && t->prepare(t->arg, c, &e->list) == -1) {
		config_free(c);
		free(text);
		return fail(e, E_APPLY, "zone %s: the config is valid but could "
		    "not be switched in; nothing changed", t->zone);
	}
	/* Kept aside, not dropped, until the new version is durable. */
	if (full) {
		oldest = t->hist[0];
		memmove(&t->hist[0], &t->hist[1],
		    (HISTORY_MAX - 1) * sizeof t->hist[0]);
		t->nhist--;
	}
	txn_record(t, prev + 1, now, user, comment, text);
	if (t->save != NULL && t->save(t->arg, t, &e->list) == -1) {
		/* Not durable, so not acknowledged and not switched in. */
		unrecord(t, prev, full, &oldest);
		if (t->abort != NULL)
			t->abort(t->arg);
		config_free(c);
		return fail(e, E_STATE, "zone %s: the new version could not be "
		    "saved; version %llu stays running, nothing changed",
		    t->zone, (unsigned long long)prev);
	}
	if (t->apply(t->arg, c, &e->list) == -1) {
		/* Only an apply without a prepare can fail here. */
		unrecord(t, prev, full, &oldest);
		config_free(c);
		if (t->save != NULL && t->save(t->arg, t, &e->list) == -1)
			return fail(e, E_STATE, "zone %s: the config could not be "
			    "switched in, and the state directory could not be "
			    "set back to version %llu", t->zone,
			    (unsigned long long)prev);
		return fail(e, E_APPLY, "zone %s: the config is valid but could "
		    "not be switched in; nothing changed", t->zone);
	}
	if (full)
		version_free(&oldest);
	t->retry_delay = 0;
	t->retry_at = 0;
	return 0;
}

int
txn_commit(struct txn *t, json_t *config, uint64_t base, const char *user,
    const char *comment, long confirm_s, int64_t now, struct txn_error *e)
{
	json_t *zone = json_is_object(config) ?
	    json_object_get(config, "zone") : NULL;
	struct config *c;
	uint64_t prev = t->running, was_revert_to;
	int64_t was_deadline;
	bool was_pending;
	char *before;

	if (base != t->running)
		return stale(t, base, e);
	/* Checked first, and reported with whatever else is wrong. */
	if (json_is_string(zone) && strcmp(json_string_value(zone), t->zone))
		errs_add(&e->list, "config: zone is \"%s\", this engine runs "
		    "zone \"%s\"", json_string_value(zone), t->zone);
	c = config_from_json(config, &e->list);
	if (c == NULL || e->list.n > 0) {
		config_free(c);
		return fail(e, E_INVALID, "zone %s: the config has %zu error%s; "
		    "nothing changed", t->zone, e->list.n,
		    e->list.n == 1 ? "" : "s");
	}
	before = t->pending || confirm_s <= 0 ? NULL : running_text(t);
	/* The confirm timer is part of what is saved: set before, undone if
	 * the commit does not go through. */
	was_pending = t->pending;
	was_deadline = t->deadline;
	was_revert_to = t->revert_to;
	if (confirm_s > 0) {
		/* Revert to what ran before the first unconfirmed commit. */
		if (!t->pending)
			t->revert_to = prev;
		t->pending = true;
		t->deadline = now + confirm_s;
	} else
		t->pending = false;	/* a plain commit keeps what it builds on */
	if (commit_config(t, c, user, comment, now, e) == -1) {
		t->pending = was_pending;
		t->deadline = was_deadline;
		t->revert_to = was_revert_to;
		free(before);
		return -1;
	}
	if (before != NULL) {
		free(t->revert_config);
		t->revert_config = before;
	}
	return 0;
}

int
txn_confirm(struct txn *t, struct txn_error *e)
{
	if (!t->pending)
		return fail(e, E_NO_PENDING, "zone %s: no confirmed commit is "
		    "waiting", t->zone);
	t->pending = false;
	if (t->save != NULL && t->save(t->arg, t, &e->list) == -1) {
		t->pending = true;
		return fail(e, E_STATE, "zone %s: the confirm could not be saved; "
		    "version %llu is still to be confirmed", t->zone,
		    (unsigned long long)t->running);
	}
	t->retry_delay = 0;
	t->retry_at = 0;
	return 0;
}

static int rollback_text(struct txn *, uint64_t, const char *, const char *,
    const char *, int64_t, struct txn_error *);

/* Version `number` as a new commit on top of `base`. */
int
txn_rollback(struct txn *t, uint64_t number, uint64_t base, const char *user,
    const char *comment, int64_t now, struct txn_error *e)
{
	const struct version *v = txn_find(t, number);

	if (base != t->running)
		return stale(t, base, e);
	return rollback_text(t, number, v ? v->config : NULL, user, comment,
	    now, e);
}

static int
rollback_text(struct txn *t, uint64_t number, const char *text,
    const char *user, const char *comment, int64_t now, struct txn_error *e)
{
	struct config *c;
	bool was_pending;
	char *why;
	int rc;

	if (text == NULL && number != 0)
		return fail(e, E_NOT_FOUND, "zone %s: version %llu is not in the "
		    "history (the last %d are kept)", t->zone,
		    (unsigned long long)number, HISTORY_MAX);
	if (text != NULL)
		c = parse_text(text, &e->list);
	else
		c = config_new(t->zone);
	if (c == NULL)
		return fail(e, E_INVALID, "zone %s: version %llu does not load",
		    t->zone, (unsigned long long)number);
	why = comment && *comment ? xstrdup(comment) :
	    xasprintf("rollback to version %llu", (unsigned long long)number);
	/* A rollback ends a confirmed commit's wait, on disk too. */
	was_pending = t->pending;
	t->pending = false;
	rc = commit_config(t, c, user, why, now, e);
	free(why);
	if (rc == -1)
		t->pending = was_pending;
	return rc;
}

/* The engine's own revert when a confirmed commit was not confirmed in
 * time; true if it reverted (the caller tells subscribers).  A revert
 * that fails (the state cannot be saved) sets e and is tried again after
 * a back-off, so a full disk costs a log line now and then, not a storm. */
bool
txn_tick(struct txn *t, int64_t now, struct txn_error *e)
{
	uint64_t from = t->running;
	const struct version *v;
	char *why;
	int rc;

	if (!t->pending || now < t->deadline || now < t->retry_at)
		return false;
	t->pending = false;
	why = xasprintf("revert: version %llu was not confirmed in time",
	    (unsigned long long)from);
	v = txn_find(t, t->revert_to);
	rc = rollback_text(t, t->revert_to, t->revert_config ?
	    t->revert_config : (v ? v->config : NULL), "mxlbd", why, now, e);
	free(why);
	if (rc == -1) {
		t->pending = true;
		t->retry_delay = t->retry_delay == 0 ? 1 :
		    t->retry_delay * 2 > REVERT_RETRY_MAX ? REVERT_RETRY_MAX :
		    t->retry_delay * 2;
		t->retry_at = now + t->retry_delay;
		return false;
	}
	t->retry_delay = 0;
	t->retry_at = 0;
	return true;
}
