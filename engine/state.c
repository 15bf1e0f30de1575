/*
 * The zone's durable state in STATEDIR: state.json (running version,
 * history, pending confirm, admin states) and config-N.json per version
 * kept.  Every file is replaced atomically (temp file, fsync, rename,
 * fsync of the directory), and state.json is written last: after a crash
 * at any point the last acknowledged commit is what loads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "engine.h"

int
state_write_atomic(const char *dir, const char *name, const char *data,
    size_t len, struct errs *e)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, name);
	char *path = xasprintf("%s/%s", dir, name);
	int fd, rc = -1, dfd;
	ssize_t n;
	size_t off = 0;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640))
	    == -1) {
		errs_add(e, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len && (n = write(fd, data + off, len - off)) > 0)
		off += (size_t)n;
	if (off != len || fsync(fd) == -1) {
		errs_add(e, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		errs_add(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* The rename itself must survive a power cut. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	free(tmp);
	free(path);
	return rc;
}

static json_t *
state_json(const struct engine *eng, const struct txn *t)
{
	json_t *o = json_object(), *h = json_array(), *a = json_array();

	json_object_set_new(o, "zone", json_string(t->zone));
	json_object_set_new(o, "running", json_integer((json_int_t)t->running));
	if (t->pending) {
		json_t *p = json_object();
		json_object_set_new(p, "deadline", json_integer(t->deadline));
		json_object_set_new(p, "revert_to",
		    json_integer((json_int_t)t->revert_to));
		json_object_set_new(o, "pending", p);
	}
	for (size_t i = 0; i < t->nhist; i++)
		json_array_append_new(h, json_pack("{s:I,s:I,s:s,s:s}",
		    "version", (json_int_t)t->hist[i].number, "time",
		    (json_int_t)t->hist[i].time, "user", t->hist[i].user,
		    "comment", t->hist[i].comment));
	for (size_t i = 0; i < eng->nadmins; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "farm",
		    eng->admins[i].farm, "server", eng->admins[i].server,
		    "state", admin_names[eng->admins[i].state]));
	json_object_set_new(o, "history", h);
	json_object_set_new(o, "admin", a);
	return o;
}

static bool
file_exists(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	bool ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

/* Config files no longer in the history go. */
static void
prune(const char *dir, const struct txn *t)
{
	uint64_t oldest = t->nhist ? t->hist[0].number : t->running;

	for (uint64_t n = oldest > HISTORY_MAX * 2 ? oldest - HISTORY_MAX * 2 :
	    0; n < oldest; n++) {
		char *path = xasprintf("%s/config-%llu.json", dir,
		    (unsigned long long)n);
		(void)unlink(path);
		free(path);
	}
}

/* The txn save hook; also called when admin states change. */
int
state_save(void *arg, const struct txn *t, struct errs *e)
{
	struct engine *eng = arg;
	json_t *j;
	char *text, name[64];
	int rc;

	if (eng->statedir == NULL)
		return 0;
	for (size_t i = 0; i < t->nhist; i++) {
		snprintf(name, sizeof name, "config-%llu.json",
		    (unsigned long long)t->hist[i].number);
		/* A file above `saved` may hold a commit never acknowledged. */
		if ((t->hist[i].number > eng->saved ||
		    !file_exists(eng->statedir, name)) &&
		    state_write_atomic(eng->statedir, name, t->hist[i].config,
		    strlen(t->hist[i].config), e) == -1)
			return -1;
	}
	j = state_json(eng, t);
	text = json_dumps(j, JSON_INDENT(1));
	json_decref(j);
	rc = state_write_atomic(eng->statedir, "state.json", text, strlen(text),
	    e);
	free(text);
	if (rc == 0) {
		eng->saved = t->running;
		prune(eng->statedir, t);
	}
	return rc;
}

static char *
read_file(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *buf = NULL;
	FILE *f = fopen(path, "re");
	long len;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = xmalloc((size_t)len + 1);
		if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else
			buf[len] = '\0';
	}
	if (f != NULL)
		fclose(f);
	free(path);
	return buf;
}

static void
load_admins(struct engine *eng, json_t *arr)
{
	size_t i;
	json_t *a;
	const char *farm, *server, *st;

	json_array_foreach(arr, i, a) {
		if (json_unpack(a, "{s:s,s:s,s:s}", "farm", &farm, "server",
		    &server, "state", &st) != 0)
			continue;
		for (int k = ADMIN_DRAIN; k <= ADMIN_MAINT; k++) {
			if (strcmp(st, admin_names[k]) != 0)
				continue;
			eng->admins = xreallocarray(eng->admins,
			    eng->nadmins + 1, sizeof *eng->admins);
			eng->admins[eng->nadmins].farm = xstrdup(farm);
			eng->admins[eng->nadmins].server = xstrdup(server);
			eng->admins[eng->nadmins++].state = (enum admin_state)k;
		}
	}
}

static void
load_history(struct engine *eng, struct txn *t, json_t *arr)
{
	size_t i;
	json_t *h;
	json_int_t num, when;
	const char *user, *comment;
	char name[64], *text;

	json_array_foreach(arr, i, h) {
		if (json_unpack(h, "{s:I,s:I,s:s,s:s}", "version", &num, "time",
		    &when, "user", &user, "comment", &comment) != 0)
			continue;
		snprintf(name, sizeof name, "config-%lld.json", (long long)num);
		if ((text = read_file(eng->statedir, name)) == NULL)
			continue;
		txn_record(t, (uint64_t)num, when, user, comment, text);
	}
}

/* Fills the txn and the admin states; 0 with nothing if there is no
 * state yet (a new zone). */
int
state_load(struct engine *eng, struct errs *e)
{
	struct txn *t = eng->txn;
	json_error_t jerr;
	json_t *j, *p;
	json_int_t running;
	char *text = read_file(eng->statedir, "state.json");

	if (text == NULL)
		return 0;
	j = json_loads(text, 0, &jerr);
	free(text);
	if (j == NULL || json_unpack(j, "{s:I}", "running", &running) != 0) {
		errs_add(e, "%s/state.json: %s", eng->statedir,
		    j ? "no running version" : jerr.text);
		json_decref(j);
		return -1;
	}
	load_history(eng, t, json_object_get(j, "history"));
	load_admins(eng, json_object_get(j, "admin"));
	if ((p = json_object_get(j, "pending")) != NULL) {
		json_int_t deadline = 0, to = 0;
		json_unpack(p, "{s:I,s:I}", "deadline", &deadline, "revert_to",
		    &to);
		t->pending = true;
		t->deadline = deadline;
		t->revert_to = (uint64_t)to;
	}
	t->running = (uint64_t)running;
	eng->saved = t->running;
	json_decref(j);
	if (t->running != 0 && txn_find(t, t->running) == NULL) {
		errs_add(e, "%s: config-%lld.json is missing", eng->statedir,
		    (long long)running);
		return -1;
	}
	return 0;
}
