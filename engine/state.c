/*
 * The zone's durable state in STATEDIR: state.json (running version,
 * history, pending confirm, admin states) and config-N.json per version
 * kept.  Every file is replaced atomically (temp file, fsync, rename,
 * fsync of the directory), and state.json is written last: after a crash
 * at any point the last acknowledged commit is what loads.
 */
#include <dirent.h>
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
	uint64_t imported;

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
	/* The version the config file last became (zone.c): a reload
	 * imports the file only while that version still runs. */
	imported = eng->importing != 0 && eng->importing == t->running ?
	    t->running : eng->imported;
	if (imported != 0 && t->running != 0)
		json_object_set_new(o, "imported",
		    json_integer((json_int_t)imported));
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

static void
save_failed(const struct engine *eng, const struct errs *e)
{
	log_err("state zone=%s: could not save: %s", eng->zone,
	    e->n ? e->v[e->n - 1] : "?");
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
	/* A zone's first save: a state.json that says nothing runs goes
	 * first, so a crash before the real one is written leaves a zone
	 * that starts empty, not versions without a state.json (which
	 * state_load refuses). */
	if (!file_exists(eng->statedir, "state.json")) {
		struct txn none;
		memset(&none, 0, sizeof none);
		none.zone = t->zone;
		j = state_json(eng, &none);
		text = json_dumps(j, JSON_INDENT(1));
		json_decref(j);
		rc = state_write_atomic(eng->statedir, "state.json", text,
		    strlen(text), e);
		free(text);
		if (rc == -1) {
			save_failed(eng, e);
			return -1;
		}
	}
	for (size_t i = 0; i < t->nhist; i++) {
		snprintf(name, sizeof name, "config-%llu.json",
		    (unsigned long long)t->hist[i].number);
		/* A file above `saved` may hold a commit never acknowledged. */
		if ((t->hist[i].number > eng->saved ||
		    !file_exists(eng->statedir, name)) &&
		    state_write_atomic(eng->statedir, name, t->hist[i].config,
		    strlen(t->hist[i].config), e) == -1) {
			save_failed(eng, e);
			return -1;
		}
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
	} else
		save_failed(eng, e);
	return rc;
}

/* A whole regular file; NULL with the path and the reason in e. */
static char *
read_file(const char *dir, const char *name, struct errs *e)
{
	char *path = xasprintf("%s/%s", dir, name), *buf = NULL;
	struct stat st;
	size_t off = 0;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errs_add(e, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		errs_add(e, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errs_add(e, "%s: %s", path, S_ISDIR(st.st_mode) ?
		    strerror(EISDIR) : "not a regular file");
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size &&
	    (n = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	if (n == -1 || off != (size_t)st.st_size) {
		errs_add(e, "%s: %s", path, n == -1 ? strerror(errno) :
		    "changed size while read");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[off] = '\0';
out:
	if (fd != -1)
		close(fd);
	free(path);
	return buf;
}

static int
load_admins(struct engine *eng, json_t *arr, struct errs *e)
{
	size_t i;
	json_t *a;
	const char *farm, *server, *st;
	struct admin_entry *ad;
	char words[64];
	int k;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr)) {
		errs_add(e, "%s/state.json: \"admin\" is not a list",
		    eng->statedir);
		return -1;
	}
	json_array_foreach(arr, i, a) {
		if (json_unpack(a, "{s:s,s:s,s:s}", "farm", &farm, "server",
		    &server, "state", &st) != 0) {
			errs_add(e, "%s/state.json: admin entry %zu needs farm, "
			    "server and state", eng->statedir, i + 1);
			return -1;
		}
		if ((k = names_find(admin_names, ADMIN_MAX, st)) == -1) {
			errs_add(e, "%s/state.json: admin entry %zu: state \"%.32s\" "
			    "is not one of %s", eng->statedir, i + 1, st,
			    names_join(words, sizeof words, admin_names, ADMIN_MAX,
			    "|"));
			return -1;
		}
		if (k == ADMIN_READY)
			continue;
		ad = ARRAY_PUSH(eng->admins, eng->nadmins);
		ad->farm = xstrdup(farm);
		ad->server = xstrdup(server);
		ad->state = (enum admin_state)k;
	}
	return 0;
}

/* Every version the history names must load: one skipped silently would
 * be gone at the next save. */
static int
load_history(struct engine *eng, struct txn *t, json_t *arr, struct errs *e)
{
	size_t i;
	json_t *h;
	json_int_t num, when;
	const char *user, *comment;
	char name[64], *text;

	if (!json_is_array(arr)) {
		errs_add(e, "%s/state.json: \"history\" is missing or not a list",
		    eng->statedir);
		return -1;
	}
	json_array_foreach(arr, i, h) {
		if (json_unpack(h, "{s:I,s:I,s:s,s:s}", "version", &num, "time",
		    &when, "user", &user, "comment", &comment) != 0 || num <= 0) {
			errs_add(e, "%s/state.json: history entry %zu needs version "
			    "(> 0), time, user and comment", eng->statedir, i + 1);
			return -1;
		}
		snprintf(name, sizeof name, "config-%lld.json", (long long)num);
		if ((text = read_file(eng->statedir, name, e)) == NULL)
			return -1;
		txn_record(t, (uint64_t)num, when, user, comment, text);
	}
	return 0;
}

/* No state.json: a new zone, unless versions are there without it. */
static int
state_missing(struct engine *eng, struct errs *e)
{
	DIR *d = opendir(eng->statedir);
	struct dirent *de;
	unsigned long long n;
	int end, rc = 0;

	if (d == NULL) {
		errs_add(e, "%s: %s", eng->statedir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "config-%llu.json%n", &n, &end) == 1 &&
		    de->d_name[end] == '\0') {
			errs_add(e, "%s/state.json: %s, but %s is there: this zone "
			    "has versions and no record of which one runs; "
			    "restore state.json, or move the directory away to "
			    "start the zone anew", eng->statedir, strerror(ENOENT),
			    de->d_name);
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

/*
 * Fills the txn and the admin states.  Only a state directory without
 * state.json and without versions is a new zone (0, nothing loaded); any
 * other read or parse failure is an error, and nothing on disk changes.
 */
int
state_load(struct engine *eng, struct errs *e)
{
	struct txn *t = eng->txn;
	json_error_t jerr;
	json_t *j, *p;
	json_int_t running, deadline = 0, to = 0, imported = 0;
	char *text, *path = xasprintf("%s/state.json", eng->statedir);
	int rc = -1;

	if (access(path, F_OK) == -1 && errno == ENOENT) {
		free(path);
		return state_missing(eng, e);
	}
	if ((text = read_file(eng->statedir, "state.json", e)) == NULL) {
		free(path);
		return -1;
	}
	j = json_loads(text, 0, &jerr);
	free(text);
	if (j == NULL) {
		errs_add(e, "%s: line %d: %s", path, jerr.line, jerr.text);
		goto out;
	}
	if (json_unpack(j, "{s:I}", "running", &running) != 0 || running < 0) {
		errs_add(e, "%s: no running version", path);
		goto out;
	}
	if (load_history(eng, t, json_object_get(j, "history"), e) == -1 ||
	    load_admins(eng, json_object_get(j, "admin"), e) == -1)
		goto out;
	if ((p = json_object_get(j, "pending")) != NULL) {
		if (json_unpack(p, "{s:I,s:I}", "deadline", &deadline,
		    "revert_to", &to) != 0 || to < 0) {
			errs_add(e, "%s: \"pending\" needs deadline and revert_to",
			    path);
			goto out;
		}
		t->pending = true;
		t->deadline = deadline;
		t->revert_to = (uint64_t)to;
	}
	if (json_object_get(j, "imported") != NULL && (json_unpack(j,
	    "{s:I}", "imported", &imported) != 0 || imported < 0)) {
		errs_add(e, "%s: \"imported\" is not a version number", path);
		goto out;
	}
	eng->imported = (uint64_t)imported;
	t->running = (uint64_t)running;
	eng->saved = t->running;
	if (t->running != 0 && txn_find(t, t->running) == NULL) {
		errs_add(e, "%s: running version %lld is not in the history",
		    path, (long long)running);
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(path);
	return rc;
}
