/*
 * zone export, zone import: the two workflows meet.  A zone's config file
 * (/etc/mxlb/ZONE.json, read by mxlbd on start and on `systemctl reload`)
 * is written from what runs, or read by the engine on demand.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "shell.h"

/* The file form: what `mxlbd -c` reads, what `show running ZONE json`
 * prints and what `zone export` writes, byte for byte. */
char *
config_file_text(json_t *cfg)
{
	char *s = json_dumps(cfg, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	char *out = xasprintf("%s\n", s ? s : "{}");

	free(s);
	return out;
}

/* Prints one JSON document and takes it. */
void
shell_json_print(struct shell *sh, json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(9));

	fprintf(sh->out, "%s\n", s ? s : "null");
	free(s);
	json_decref(j);
}

static int
write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Temp file in the same directory, mode 0640, fsync, rename: a reader
 * (mxlbd on reload) sees the old file or the new one, never half of one.
 * A file that exists keeps its group (mxlb must still read it).
 */
static int
file_replace(const char *path, const char *text, char *err, size_t errlen)
{
	char *dcopy = xstrdup(path), *dir = dirname(dcopy);
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir, strrchr(path, '/') ?
	    strrchr(path, '/') + 1 : path);
	struct stat st;
	int fd = mkstemp(tmp), dfd, rc = -1;
	const char *step = "create";

	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot write in %s: %s", path, dir,
		    strerror(errno));
		goto out;
	}
	step = "mode";
	if (fchmod(fd, 0640) == -1)
		goto fail;
	step = "group";
	if (stat(path, &st) == 0 && st.st_gid != getegid() &&
	    fchown(fd, (uid_t)-1, st.st_gid) == -1)
		goto fail;
	step = "write";
	if (write_all(fd, text, strlen(text)) == -1 || fsync(fd) == -1)
		goto fail;
	step = "close";
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	if (rename(tmp, path) == -1)
		goto fail;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "%s: %s (%s): %s; the file is unchanged", path,
	    step, tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dcopy);
	return rc;
}

/* When FILE is the zone's own config file, the engine records that it is
 * what runs: the next reload imports the file's later edits. */
static void
export_tell(struct shell *sh, struct zone *z, const char *path)
{
	char real[PATH_MAX], err[1024];
	json_t *res;

	if (realpath(path, real) == NULL)
		return;
	res = engine_call(z, json_pack("{s:s,s:s}", K_CMD, CMD_IMPORT, "file",
	    real), err, sizeof err);
	if (res != NULL && json_is_true(json_object_get(res, "imported")))
		fprintf(sh->out, "zone %s: %s changed meanwhile: version %lld "
		    "imported from it\n", z->name, real, (long long)
		    json_integer_value(json_object_get(res, K_VERSION)));
	else if (res != NULL)
		fprintf(sh->out, "zone %s: it is the zone's config file: "
		    "'systemctl reload' imports its next edits\n", z->name);
	json_decref(res);
}

static int
zone_export(struct shell *sh, const struct parsed *p)
{
	struct zone *z = shell_zone(sh, p->args[0]);
	json_t *res;
	char *text, err[1024];
	int rc;

	res = engine_call(z, json_pack("{s:s}", K_CMD, CMD_GET), sh->err,
	    sizeof sh->err);
	if (res == NULL)
		return -1;
	text = config_file_text(json_object_get(res, K_CONFIG));
	rc = file_replace(p->args[1], text, err, sizeof err);
	free(text);
	if (rc == 0)
		fprintf(sh->out, "zone %s: version %lld written to %s\n",
		    z->name, (long long)json_integer_value(json_object_get(res,
		    K_VERSION)), p->args[1]);
	json_decref(res);
	if (rc == -1)
		return shell_error(sh, "%s", err);
	export_tell(sh, z, p->args[1]);
	return 0;
}

const struct cmd_entry cmd_zone_export = {
	.words = { "zone", "export" },
	.help = "write the zone's running config to FILE, in the form mxlbd "
	    "imports (atomically, mode 0640): then 'systemctl reload' finds "
	    "them equal",
	.args = { { A_ZONE, "ZONE", "the zone", false },
		  { A_TEXT, "FILE", "the file, as /etc/mxlb/ZONE.json", false } },
	.flags = CMD_ENGINE,
	.exec = zone_export,
	.example = "zone export inbound /etc/mxlb/inbound.json",
};

static int
zone_import(struct shell *sh, const struct parsed *p)
{
	struct zone *z = shell_zone(sh, p->args[0]);
	json_t *res;
	char err[256];

	res = engine_call(z, json_pack("{s:s,s:b}", K_CMD, CMD_IMPORT, "force",
	    parsed_has(p, "force")), sh->err, sizeof sh->err);
	if (res == NULL)
		return -1;
	if (json_is_true(json_object_get(res, "imported")))
		fprintf(sh->out, "zone %s: version %lld running, imported from "
		    "%s\n", z->name, (long long)json_integer_value(
		    json_object_get(res, K_VERSION)), json_string_value(
		    json_object_get(res, "file")));
	else
		fprintf(sh->out, "zone %s: %s is what runs (version %lld); "
		    "nothing changed\n", z->name, json_string_value(
		    json_object_get(res, "file")), (long long)json_integer_value(
		    json_object_get(res, K_VERSION)));
	json_decref(res);
	/* What runs now; edits in progress keep their base (update). */
	if (zone_sync(sh, z, err, sizeof err) == -1)
		fprintf(stderr, "%% %s\n", err);
	return 0;
}

static const struct opt import_opts[] = {
	{ "force", A_NONE, NULL, "import even over commits made since the "
	  "file's last import", false },
	{ NULL, A_NONE, NULL, NULL, false }
};

const struct cmd_entry cmd_zone_import = {
	.words = { "zone", "import" },
	.help = "have the zone's engine import its config file now, as "
	    "'systemctl reload' does (refused over newer commits unless force)",
	.args = { { A_ZONE, "ZONE", "the zone", false } },
	.opts = import_opts,
	.flags = CMD_ENGINE,
	.exec = zone_import,
	.example = "zone import inbound force",
};
