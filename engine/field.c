/* Generic operations over config fields, driven by their definitions. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "field.h"
#include "util.h"

#define SETBITS(obj)	(*(uint64_t *)(obj))
#define SETBITS_OF(obj)	(*(const uint64_t *)(obj))

const struct field *
fieldset_find(const struct fieldset *fs, const char *key)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].key, key) == 0)
			return &fs->f[i];
	return NULL;
}

size_t
field_index(const struct fieldset *fs, const struct field *f)
{
	return (size_t)(f - fs->f);
}

bool
field_isset(const struct fieldset *fs, const void *obj, const struct field *f)
{
	return (SETBITS_OF(obj) >> field_index(fs, f)) & 1;
}

bool
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > NAME_LEN_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr(NAME_PUNCT(NAME_STR_), *s) == NULL)
			return false;
	return true;
}

static bool
host_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 253)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(".-[]:", *s) == NULL)
			return false;
	return true;
}

/* The storage of one field, released and zeroed. */
static void
value_free(const struct field *f, void *obj)
{
	void *p = FIELD_PTR(obj, f);

	switch (f->type) {
	case FT_NAME:
	case FT_HOST:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case FT_ADDRS:
		free(((struct addrlist *)p)->v);
		memset(p, 0, sizeof(struct addrlist));
		break;
	case FT_CIDRS:
		free(((struct cidrlist *)p)->v);
		memset(p, 0, sizeof(struct cidrlist));
		break;
	case FT_PORTS:
		free(((struct portlist *)p)->v);
		memset(p, 0, sizeof(struct portlist));
		break;
	case FT_ADDR:
	case FT_SOURCE:
		memset(p, 0, sizeof(struct mxaddr));
		break;
	default:
		*(long *)p = 0;
		break;
	}
}

static int parse_value(const struct field *, void *, const char *, char *,
    size_t);

static size_t
field_storage(const struct field *f)
{
	switch (f->type) {
	case FT_NAME:
	case FT_HOST:
		return sizeof(char *);
	case FT_ADDR:
	case FT_SOURCE:
		return sizeof(struct mxaddr);
	case FT_ADDRS:
		return sizeof(struct addrlist);
	case FT_CIDRS:
		return sizeof(struct cidrlist);
	case FT_PORTS:
		return sizeof(struct portlist);
	default:
		return sizeof(long);
	}
}

/* Counts as set without a value: after a parse error, so the same field
 * is not reported again as missing. */
void
field_mark_set(const struct fieldset *fs, void *obj, const struct field *f)
{
	SETBITS(obj) |= (uint64_t)1 << field_index(fs, f);
}

/* Back to the default (or to nothing), and no longer set. */
void
field_reset(const struct fieldset *fs, void *obj, const struct field *f)
{
	char err[FIELD_ERRLEN];

	value_free(f, obj);
	if (f->def != NULL && parse_value(f, obj, f->def, err, sizeof err) != 0)
		abort();	/* a bad default is a bug in the tables */
	SETBITS(obj) &= ~((uint64_t)1 << field_index(fs, f));
}

void *
object_new(const struct fieldset *fs)
{
	void *obj = xcalloc(1, fs->size);

	for (size_t i = 0; i < fs->n; i++)
		field_reset(fs, obj, &fs->f[i]);
	return obj;
}

void
object_free(const struct fieldset *fs, void *obj)
{
	if (obj == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++)
		value_free(&fs->f[i], obj);
	free(obj);
}

static void
value_copy(const struct field *f, void *dst, const void *src)
{
	const void *s = FIELD_CPTR(src, f);
	void *d = FIELD_PTR(dst, f);
	size_t n;

	switch (f->type) {
	case FT_NAME:
	case FT_HOST:
		*(char **)d = *(char *const *)s ? xstrdup(*(char *const *)s) :
		    NULL;
		break;
	case FT_ADDRS:
		n = ((const struct addrlist *)s)->n;
		((struct addrlist *)d)->n = n;
		((struct addrlist *)d)->v = xreallocarray(NULL, n,
		    sizeof(struct mxaddr));
		if (n > 0)
			memcpy(((struct addrlist *)d)->v,
			    ((const struct addrlist *)s)->v,
			    n * sizeof(struct mxaddr));
		break;
	case FT_CIDRS:
		n = ((const struct cidrlist *)s)->n;
		((struct cidrlist *)d)->n = n;
		((struct cidrlist *)d)->v = xreallocarray(NULL, n,
		    sizeof(struct cidr));
		if (n > 0)
			memcpy(((struct cidrlist *)d)->v,
			    ((const struct cidrlist *)s)->v,
			    n * sizeof(struct cidr));
		break;
	case FT_PORTS:
		n = ((const struct portlist *)s)->n;
		((struct portlist *)d)->n = n;
		((struct portlist *)d)->v = xreallocarray(NULL, n,
		    sizeof(struct prange));
		if (n > 0)
			memcpy(((struct portlist *)d)->v,
			    ((const struct portlist *)s)->v,
			    n * sizeof(struct prange));
		break;
	case FT_ADDR:
	case FT_SOURCE:
		*(struct mxaddr *)d = *(const struct mxaddr *)s;
		break;
	default:
		*(long *)d = *(const long *)s;
		break;
	}
}

/* A deep copy of the fields; the owner copies its children itself. */
void *
object_dup(const struct fieldset *fs, const void *src)
{
	void *obj = xcalloc(1, fs->size);

	SETBITS(obj) = SETBITS_OF(src);
	for (size_t i = 0; i < fs->n; i++)
		value_copy(&fs->f[i], obj, src);
	return obj;
}

bool
object_equal(const struct fieldset *fs, const void *a, const void *b)
{
	if (SETBITS_OF(a) != SETBITS_OF(b))
		return false;
	for (size_t i = 0; i < fs->n; i++)
		if (!field_equal(&fs->f[i], a, b))
			return false;
	return true;
}

static bool
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Lists are sorted and deduplicated when parsed, so a byte comparison is a
 * set comparison. */
bool
field_equal(const struct field *f, const void *a, const void *b)
{
	const void *x = FIELD_CPTR(a, f), *y = FIELD_CPTR(b, f);
	size_t n;

	switch (f->type) {
	case FT_NAME:
	case FT_HOST:
		return str_equal(*(char *const *)x, *(char *const *)y);
	case FT_ADDRS:
		n = ((const struct addrlist *)x)->n;
		return n == ((const struct addrlist *)y)->n && (n == 0 ||
		    memcmp(((const struct addrlist *)x)->v,
		    ((const struct addrlist *)y)->v, n * sizeof(struct mxaddr)) == 0);
	case FT_CIDRS:
		n = ((const struct cidrlist *)x)->n;
		return n == ((const struct cidrlist *)y)->n && (n == 0 ||
		    memcmp(((const struct cidrlist *)x)->v,
		    ((const struct cidrlist *)y)->v, n * sizeof(struct cidr)) == 0);
	case FT_PORTS:
		n = ((const struct portlist *)x)->n;
		return n == ((const struct portlist *)y)->n && (n == 0 ||
		    memcmp(((const struct portlist *)x)->v,
		    ((const struct portlist *)y)->v, n * sizeof(struct prange)) == 0);
	case FT_ADDR:
	case FT_SOURCE:
		return addr_cmp(x, y) == 0;
	default:
		return *(const long *)x == *(const long *)y;
	}
}

/* Seconds as people write them: "30", "1.5", "500ms", "2m", "1h". */
static int
duration_parse(const char *s, long *ms)
{
	char *end;
	double v, unit = 1000;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtod(s, &end);
	if (errno != 0 || end == s)
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (strcmp(end, "m") == 0)
		unit = 60000;
	else if (strcmp(end, "h") == 0)
		unit = 3600000;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	v = round(v * unit);
	if (!isfinite(v) || v > 1e12)
		return -1;
	*ms = (long)v;
	return 0;
}

static char *
duration_format(long ms)
{
	if (ms % 1000 == 0)
		return xasprintf("%ld", ms / 1000);
	if (ms % 100 == 0)
		return xasprintf("%ld.%ld", ms / 1000, (ms % 1000) / 100);
	if (ms % 10 == 0)
		return xasprintf("%ld.%02ld", ms / 1000, (ms % 1000) / 10);
	return xasprintf("%ld.%03ld", ms / 1000, ms % 1000);
}

/* What a value may be, for error messages and help. */
char *
field_allowed(const struct field *f)
{
	char *s, *t;

	switch (f->type) {
	case FT_NAME:
		return xstrdup(NAME_RULE);
	case FT_HOST:
		return xstrdup("a host name");
	case FT_UINT:
	case FT_PORT:
		return xasprintf("%ld-%ld", f->min, f->max);
	case FT_DURATION: {
		char *lo = duration_format(f->min), *hi = duration_format(f->max);
		s = xasprintf("%s-%s seconds", lo, hi);
		free(lo);
		free(hi);
		return s;
	}
	case FT_ENUM:
		s = xstrdup("");
		for (size_t i = 0; f->enums[i] != NULL; i++) {
			t = xasprintf("%s%s%s", s, i ? "|" : "", f->enums[i]);
			free(s);
			s = t;
		}
		return s;
	case FT_FLAG:
		return xstrdup("no value");
	case FT_ADDR:
		return xstrdup("an IPv4 or IPv6 address");
	case FT_SOURCE:
		return xstrdup("client, or an IPv4 or IPv6 address of this "
		    "host");
	case FT_ADDRS:
		return xstrdup("addresses separated by commas");
	case FT_CIDRS:
		return xstrdup("CIDR blocks separated by commas");
	case FT_PORTS:
		return xstrdup("ports and ranges like 25,587,2500-2510");
	}
	return xstrdup("?");
}

static int
bad_value(const struct field *f, const char *text, char *err, size_t errlen)
{
	char *allowed = field_allowed(f);

	snprintf(err, errlen, "%s \"%.60s\" is not %s (allowed: %s)", f->key,
	    text, f->type == FT_ENUM ? "one of the choices" : "valid", allowed);
	free(allowed);
	return -1;
}

static int
parse_number(const struct field *f, const char *text, long *v, char *err,
    size_t errlen)
{
	char *end;

	errno = 0;
	if (f->type == FT_DURATION) {
		if (duration_parse(text, v) == -1)
			return bad_value(f, text, err, errlen);
	} else {
		if (!isdigit((unsigned char)*text))
			return bad_value(f, text, err, errlen);
		*v = strtol(text, &end, 10);
		if (*end != '\0' || errno != 0)
			return bad_value(f, text, err, errlen);
	}
	if (*v < f->min || *v > f->max) {
		char *allowed = field_allowed(f);
		snprintf(err, errlen, "%s %s is out of range %s", f->key, text,
		    allowed);
		free(allowed);
		return -1;
	}
	return 0;
}

static int
parse_enum(const struct field *f, const char *text, long *v, char *err,
    size_t errlen)
{
	for (long i = 0; f->enums[i] != NULL; i++) {
		if (strcmp(f->enums[i], text) == 0) {
			*v = i;
			return 0;
		}
	}
	return bad_value(f, text, err, errlen);
}

static int
parse_list(const struct field *f, void *p, const char *text, char *err,
    size_t errlen)
{
	char msg[FIELD_ERRLEN];
	int rc;

	if (f->type == FT_ADDRS)
		rc = addrlist_parse(p, text, msg, sizeof msg);
	else if (f->type == FT_CIDRS)
		rc = cidrlist_parse(p, text, msg, sizeof msg);
	else
		rc = portlist_parse(p, text, f->min, f->max, msg, sizeof msg);
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", f->key, msg);
	return rc;
}

/* Parses into the (already empty) storage of f. */
static int
parse_value(const struct field *f, void *obj, const char *text, char *err,
    size_t errlen)
{
	void *p = FIELD_PTR(obj, f);
	char msg[FIELD_ERRLEN];

	switch (f->type) {
	case FT_NAME:
		if (!name_valid(text))
			return bad_value(f, text, err, errlen);
		*(char **)p = xstrdup(text);
		return 0;
	case FT_HOST:
		if (!host_valid(text))
			return bad_value(f, text, err, errlen);
		*(char **)p = xstrdup(text);
		return 0;
	case FT_UINT:
	case FT_PORT:
	case FT_DURATION:
		return parse_number(f, text, p, err, errlen);
	case FT_ENUM:
		return parse_enum(f, text, p, err, errlen);
	case FT_FLAG:
		*(long *)p = 1;
		return 0;
	case FT_SOURCE:
		if (strcmp(text, "client") == 0) {
			/* family AF_UNSPEC */
			memset(p, 0, sizeof(struct mxaddr));
			return 0;
		}
		if (addr_parse(p, text, msg, sizeof msg) == -1) {
			snprintf(err, errlen, "%s: \"%.60s\" is neither client "
			    "nor an IPv4 or IPv6 address", f->key, text);
			return -1;
		}
		return 0;
	case FT_ADDR:
		if (addr_parse(p, text, msg, sizeof msg) == -1) {
			snprintf(err, errlen, "%s: %s", f->key, msg);
			return -1;
		}
		return 0;
	case FT_ADDRS:
	case FT_CIDRS:
	case FT_PORTS:
		return parse_list(f, p, text, err, errlen);
	}
	return -1;
}

/* Sets f from text; on error the object is unchanged. */
int
field_parse(const struct fieldset *fs, void *obj, const struct field *f,
    const char *text, char *err, size_t errlen)
{
	void *tmp = xcalloc(1, fs->size);

	if (parse_value(f, tmp, text, err, errlen) == -1) {
		value_free(f, tmp);
		free(tmp);
		return -1;
	}
	value_free(f, obj);
	memcpy(FIELD_PTR(obj, f), FIELD_PTR(tmp, f), field_storage(f));
	free(tmp);
	SETBITS(obj) |= (uint64_t)1 << field_index(fs, f);
	return 0;
}

static char *
list_format(const struct field *f, const void *p)
{
	size_t n = f->type == FT_ADDRS ? ((const struct addrlist *)p)->n :
	    ((const struct cidrlist *)p)->n;
	char *s = xstrdup(""), *t, item[ADDR_STRLEN + 8];

	for (size_t i = 0; i < n; i++) {
		if (f->type == FT_ADDRS)
			addr_format(&((const struct addrlist *)p)->v[i], item,
			    sizeof item);
		else
			cidr_format(&((const struct cidrlist *)p)->v[i], item,
			    sizeof item);
		t = xasprintf("%s%s%s", s, i ? "," : "", item);
		free(s);
		s = t;
	}
	return s;
}

/* The value in the form the shell reads back (`show running`). */
char *
field_format(const struct field *f, const void *obj)
{
	const void *p = FIELD_CPTR(obj, f);
	char buf[ADDR_STRLEN];

	switch (f->type) {
	case FT_NAME:
	case FT_HOST:
		return xstrdup(*(char *const *)p ? *(char *const *)p : "");
	case FT_UINT:
	case FT_PORT:
		return xasprintf("%ld", *(const long *)p);
	case FT_DURATION:
		return duration_format(*(const long *)p);
	case FT_ENUM:
		return xstrdup(f->enums[*(const long *)p]);
	case FT_FLAG:
		return xstrdup(*(const long *)p ? "true" : "false");
	case FT_ADDR:
		addr_format(p, buf, sizeof buf);
		return xstrdup(buf);
	case FT_SOURCE:
		if (((const struct mxaddr *)p)->family == AF_UNSPEC)
			return xstrdup("client");
		addr_format(p, buf, sizeof buf);
		return xstrdup(buf);
	case FT_ADDRS:
	case FT_CIDRS:
		return list_format(f, p);
	case FT_PORTS:
		return portlist_format(p);
	}
	return xstrdup("");
}

static json_t *
list_to_json(const struct field *f, const void *obj)
{
	char *s = field_format(f, obj), *p = s, *item;
	json_t *a = json_array();

	while ((item = strsep(&p, ",")) != NULL)
		if (*item != '\0')
			json_array_append_new(a, json_string(item));
	free(s);
	return a;
}

json_t *
field_to_json(const struct field *f, const void *obj)
{
	const long *v = (const long *)FIELD_CPTR(obj, f);
	char *s;
	json_t *j;

	switch (f->type) {
	case FT_UINT:
	case FT_PORT:
		return json_integer(*v);
	case FT_DURATION:
		if (*v % 1000 == 0)
			return json_integer(*v / 1000);
		return json_real((double)*v / 1000.0);
	case FT_FLAG:
		return json_boolean(*v);
	case FT_ADDRS:
	case FT_CIDRS:
		return list_to_json(f, obj);
	default:
		s = field_format(f, obj);
		j = json_string(s);
		free(s);
		return j;
	}
}

/* JSON lists may be arrays of strings or the shell's comma form. */
static char *
json_list_text(json_t *v)
{
	size_t i;
	json_t *item;
	char *s = xstrdup(""), *t;

	json_array_foreach(v, i, item) {
		if (!json_is_string(item) ||
		    strchr(json_string_value(item), ',') != NULL) {
			free(s);
			return NULL;
		}
		t = xasprintf("%s%s%s", s, i ? "," : "", json_string_value(item));
		free(s);
		s = t;
	}
	return s;
}

static char *
json_value_text(const struct field *f, json_t *v)
{
	switch (f->type) {
	case FT_UINT:
	case FT_PORT:
		if (json_is_integer(v))
			return xasprintf("%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
		break;
	case FT_DURATION:
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			return xasprintf("%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
		if (json_is_real(v) && json_real_value(v) >= 0)
			return xasprintf("%.3f", json_real_value(v));
		break;
	case FT_ADDRS:
	case FT_CIDRS:
		if (json_is_array(v))
			return json_list_text(v);
		break;
	default:
		break;
	}
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return NULL;
}

int
field_from_json(const struct fieldset *fs, void *obj, const struct field *f,
    json_t *v, char *err, size_t errlen)
{
	char *text;
	int rc;

	if (f->type == FT_FLAG) {
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "%s must be true or false", f->key);
			return -1;
		}
		if (json_is_true(v))
			return field_parse(fs, obj, f, "true", err, errlen);
		field_reset(fs, obj, f);
		return 0;
	}
	if (json_is_null(v)) {
		field_reset(fs, obj, f);
		return 0;
	}
	if ((text = json_value_text(f, v)) == NULL) {
		char *allowed = field_allowed(f);
		snprintf(err, errlen, "%s has the wrong JSON type (allowed: %s)",
		    f->key, allowed);
		free(allowed);
		return -1;
	}
	rc = field_parse(fs, obj, f, text, err, errlen);
	free(text);
	return rc;
}
