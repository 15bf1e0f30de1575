/*
 * The JSON Schema of a zone's config file, built from the field tables:
 * a field added to config.c is in the schema with its type, range,
 * default and help, and share/mxlb.schema.json cannot drift from the
 * engine (make test compares the two).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "schema.h"

#define HOST_PATTERN	"^[A-Za-z0-9.:\\[\\]-]{1,253}$"
#define PORTS_PATTERN	"^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$"

/* Lists are an array of items or the shell's comma-separated form. */
static json_t *
list_schema(const char *item)
{
	return json_pack("{s:[{s:s,s:{s:s,s:s,s:s}},{s:s,s:s}]}", "oneOf",
	    "type", "array", "items", "type", "string", "pattern", "^[^,]+$",
	    "description", item, "type", "string", "description",
	    "comma-separated");
}

static json_t *
type_schema(const struct field *f)
{
	json_t *enums;

	switch (f->type) {
	case FT_NAME:
		return json_pack("{s:s,s:s}", "type", "string", "pattern",
		    NAME_PATTERN);
	case FT_HOST:
		return json_pack("{s:s,s:s}", "type", "string", "pattern",
		    HOST_PATTERN);
	case FT_UINT:
	case FT_PORT:
		return json_pack("{s:s,s:I,s:I}", "type", "integer", "minimum",
		    (json_int_t)f->min, "maximum", (json_int_t)f->max);
	case FT_DURATION:
		/* Kept in milliseconds, written in seconds. */
		return json_pack("{s:s,s:f,s:f}", "type", "number", "minimum",
		    (double)f->min / 1000.0, "maximum", (double)f->max / 1000.0);
	case FT_ENUM:
		enums = json_array();
		for (const char *const *e = f->enums; *e != NULL; e++)
			json_array_append_new(enums, json_string(*e));
		return json_pack("{s:s,s:o}", "type", "string", "enum", enums);
	case FT_FLAG:
		return json_pack("{s:s}", "type", "boolean");
	case FT_ADDR:
		return json_pack("{s:s,s:s}", "type", "string", "description",
		    "an IPv4 or IPv6 address");
	case FT_SOURCE:
		return json_pack("{s:s,s:s}", "type", "string", "description",
		    "client, or an IPv4 or IPv6 address");
	case FT_ADDRS:
		return list_schema("an IPv4 or IPv6 address");
	case FT_CIDRS:
		return list_schema("an IPv4 or IPv6 CIDR block");
	case FT_PORTS:
		return json_pack("{s:s,s:s}", "type", "string", "pattern",
		    PORTS_PATTERN);
	}
	abort();
}

/* The default as the file would write it: numbers as numbers. */
static json_t *
default_json(const struct field *f)
{
	switch (f->type) {
	case FT_UINT:
	case FT_PORT:
	case FT_DURATION:
		return json_integer(strtol(f->def, NULL, 10));
	default:
		return json_string(f->def);
	}
}

static json_t *
field_schema(const struct field *f)
{
	json_t *s = type_schema(f), *t;

	if (f->def != NULL)
		json_object_set_new(s, "default", default_json(f));
	if (f->help != NULL)
		json_object_set_new(s, "description", json_string(f->help));
	/* null unsets a field, as a missing key does; a flag is false
	 * instead, and a required field cannot be unset. */
	if (f->type == FT_FLAG || (f->flags & F_REQUIRED))
		return s;
	t = json_pack("{s:[o,{s:s}]}", "anyOf", s, "type", "null");
	return t;
}

static json_t *
object_schema(const struct fieldset *fs, const char *what)
{
	json_t *props = json_object(), *req = json_array();

	for (size_t i = 0; i < fs->n; i++) {
		const struct field *f = &fs->f[i];
		json_object_set_new(props, f->key, field_schema(f));
		if (f->flags & F_REQUIRED)
			json_array_append_new(req, json_string(f->key));
	}
	return json_pack("{s:s,s:s,s:o,s:o,s:b}", "type", "object",
	    "description", what, "properties", props, "required", req,
	    "additionalProperties", 0);
}

json_t *
config_schema(void)
{
	json_t *farm = object_schema(&farm_fields, "a farm of servers");
	json_t *server = object_schema(&server_fields, "a server of a farm");
	json_t *fe = object_schema(&frontend_fields,
	    "a frontend: where clients connect");

	json_object_set_new(json_object_get(farm, "properties"), "servers",
	    json_pack("{s:s,s:o}", "type", "array", "items", server));
	return json_pack("{s:s,s:s,s:s,s:s,s:[s],s:b,s:{s:{s:s,s:s,s:s},"
	    "s:{s:s,s:o},s:{s:s,s:o}}}",
	    "$schema", "https://json-schema.org/draft/2020-12/schema",
	    "title", "mxlb zone configuration",
	    "description", "the file mxlbd -c reads (/etc/mxlb/ZONE.json): "
	    "one zone's farms, their servers, and its frontends",
	    "type", "object", "required", "zone", "additionalProperties", 0,
	    "properties",
	    "zone", "type", "string", "pattern", NAME_PATTERN, "description",
	    "the zone (one mxlbd process) this config belongs to",
	    "farms", "type", "array", "items", farm,
	    "frontends", "type", "array", "items", fe);
}
