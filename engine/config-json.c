/* The config as JSON: the engine's import and export format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Only set fields are written: "unset" survives a round trip. */
static json_t *
object_to_json(const struct fieldset *fs, const void *obj)
{
	json_t *o = json_object();

	for (size_t i = 0; i < fs->n; i++) {
		const struct field *f = &fs->f[i];
		if (field_isset(fs, obj, f))
			json_object_set_new(o, f->key, field_to_json(f, obj));
	}
	return o;
}

json_t *
config_to_json(const struct config *c)
{
	json_t *root = json_object(), *farms = json_array();
	json_t *fes = json_array();

	json_object_set_new(root, "zone", json_string(c->zone));
	for (size_t i = 0; i < c->nfarms; i++) {
		const struct farm *f = c->farms[i];
		json_t *jf = object_to_json(&farm_fields, f);
		json_t *srv = json_array();
		for (size_t j = 0; j < f->nservers; j++)
			json_array_append_new(srv,
			    object_to_json(&server_fields, f->servers[j]));
		json_object_set_new(jf, "servers", srv);
		json_array_append_new(farms, jf);
	}
	for (size_t i = 0; i < c->nfrontends; i++)
		json_array_append_new(fes,
		    object_to_json(&frontend_fields, c->frontends[i]));
	json_object_set_new(root, "farms", farms);
	json_object_set_new(root, "frontends", fes);
	return root;
}

static char *
known_keys(const struct fieldset *fs, const char *extra)
{
	char *s = xstrdup(extra ? extra : ""), *t;

	for (size_t i = 0; i < fs->n; i++) {
		t = xasprintf("%s%s%s", s, *s ? ", " : "", fs->f[i].key);
		free(s);
		s = t;
	}
	return s;
}

/* Fills obj from a JSON object; `skip` is a key handled by the caller. */
static void
object_from_json(const struct fieldset *fs, void *obj, json_t *j,
    const char *path, const char *skip, struct errs *e)
{
	const char *key;
	json_t *v;
	char err[FIELD_ERRLEN];

	json_object_foreach(j, key, v) {
		const struct field *f = fieldset_find(fs, key);
		if (skip != NULL && strcmp(key, skip) == 0)
			continue;
		if (f == NULL) {
			char *keys = known_keys(fs, skip);
			errs_add(e, "%s: unknown field \"%s\" (known: %s)", path,
			    key, keys);
			free(keys);
		} else if (field_from_json(fs, obj, f, v, err, sizeof err) == -1) {
			errs_add(e, "%s: %s", path, err);
			field_mark_set(fs, obj, f);
		}
	}
}

/* The label of an object before it is parsed: its key field if readable. */
static const char *
json_label(json_t *j, const char *key, size_t index)
{
	static char buf[80];
	json_t *v = json_is_object(j) ? json_object_get(j, key) : NULL;

	if (json_is_string(v))
		snprintf(buf, sizeof buf, "%s", json_string_value(v));
	else
		snprintf(buf, sizeof buf, "#%zu", index + 1);
	return buf;
}

static struct server *
server_from_json(json_t *j, const char *farm, size_t idx, struct errs *e)
{
	struct server *s = object_new(&server_fields);
	bool named = json_is_object(j) && json_object_get(j, "name") != NULL;
	char *path = xasprintf("farm %s: server %s", farm,
	    json_label(j, named ? "name" : "address", idx));

	if (!json_is_object(j))
		errs_add(e, "%s: must be a JSON object", path);
	else
		object_from_json(&server_fields, s, j, path, NULL, e);
	free(path);
	return s;
}

static struct farm *
farm_from_json(json_t *j, size_t idx, struct errs *e)
{
	struct farm *f = object_new(&farm_fields);
	char *path = xasprintf("farm %s", json_label(j, "name", idx));
	json_t *servers, *s;
	size_t i;

	if (!json_is_object(j)) {
		errs_add(e, "%s: must be a JSON object", path);
		/* Named for the checks that follow, which report nothing more
		 * about it: it is reported already. */
		f->name = xstrdup(json_label(j, "name", idx));
		field_mark_set(&farm_fields, f, fieldset_find(&farm_fields,
		    "name"));
		free(path);
		return f;
	}
	object_from_json(&farm_fields, f, j, path, "servers", e);
	if (f->name == NULL)
		f->name = xstrdup(json_label(j, "name", idx));
	servers = json_object_get(j, "servers");
	if (servers != NULL && !json_is_array(servers))
		errs_add(e, "%s: servers must be a JSON array", path);
	else if (servers != NULL)
		json_array_foreach(servers, i, s)
			farm_add_server(f, server_from_json(s, f->name, i, e));
	free(path);
	return f;
}

static void
frontends_from_json(struct config *c, json_t *arr, struct errs *e)
{
	size_t i;
	json_t *j;

	json_array_foreach(arr, i, j) {
		struct frontend *fe = object_new(&frontend_fields);
		char *path = xasprintf("frontend %s", json_label(j, "name", i));
		if (!json_is_object(j))
			errs_add(e, "%s: must be a JSON object", path);
		else
			object_from_json(&frontend_fields, fe, j, path, NULL, e);
		if (fe->name == NULL)
			fe->name = xstrdup(json_label(j, "name", i));
		config_add_frontend(c, fe);
		free(path);
	}
}

/* Parses and validates; NULL (with every error in e) if anything is wrong. */
struct config *
config_from_json(json_t *root, struct errs *e)
{
	size_t before = e->n, i;
	json_t *zone, *farms, *fes, *j;
	const char *key;
	struct config *c;

	if (!json_is_object(root)) {
		errs_add(e, "config: must be a JSON object");
		return NULL;
	}
	zone = json_object_get(root, "zone");
	c = config_new(json_is_string(zone) ? json_string_value(zone) : "");
	if (!json_is_string(zone))
		errs_add(e, "config: zone is required (a name)");
	json_object_foreach(root, key, j)
		if (strcmp(key, "zone") && strcmp(key, "farms") &&
		    strcmp(key, "frontends"))
			errs_add(e, "config: unknown field \"%s\" (known: zone, "
			    "farms, frontends)", key);
	farms = json_object_get(root, "farms");
	fes = json_object_get(root, "frontends");
	if (farms != NULL && !json_is_array(farms))
		errs_add(e, "config: farms must be a JSON array");
	else if (farms != NULL)
		json_array_foreach(farms, i, j)
			config_add_farm(c, farm_from_json(j, i, e));
	if (fes != NULL && !json_is_array(fes))
		errs_add(e, "config: frontends must be a JSON array");
	else if (fes != NULL)
		frontends_from_json(c, fes, e);
	config_validate(c, e);
	if (e->n != before) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *
config_load_file(const char *path, struct errs *e)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	struct config *c;

	if (root == NULL) {
		errs_add(e, "%s:%d:%d: %s", path, jerr.line, jerr.column,
		    jerr.text);
		return NULL;
	}
	c = config_from_json(root, e);
	json_decref(root);
	return c;
}
