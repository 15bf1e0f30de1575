/*
 * One definition per config field: its keyword, type, range, default and
 * help.  Validation, JSON load and dump, the shell's grammar, `?` help,
 * completion and `show running` are all derived from these tables.
 */
#ifndef MXLB_FIELD_H
#define MXLB_FIELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum ftype {
	FT_NAME,	/* [A-Za-z0-9_.-]{1,63} */
	FT_HOST,	/* a host name for EHLO */
	FT_UINT,	/* integer in [min, max] */
	FT_PORT,	/* 1-65535 */
	FT_DURATION,	/* kept in milliseconds, written in seconds */
	FT_ENUM,	/* index into enums[] */
	FT_FLAG,	/* present or not */
	FT_ADDR,	/* one IPv4 or IPv6 address */
	FT_ADDRS,	/* set of addresses */
	FT_CIDRS,	/* set of CIDR blocks */
	FT_PORTS,	/* set of ports and ranges */
};

/* Field flags. */
#define F_KEY		0x01	/* names the object; given at creation */
#define F_REQUIRED	0x02	/* must be set for the config to be valid */

struct field {
	const char		*key;	/* keyword, and key in JSON */
	enum ftype		 type;
	size_t			 off;	/* where the value lives in the object */
	long			 min, max;
	const char		*def;	/* default in text form; NULL: none */
	const char *const	*enums;	/* FT_ENUM: NULL-terminated names */
	const char		*meta;	/* placeholder in help: PORT, SEC, N */
	const char		*help;
	unsigned		 flags;
};

/* The fields of one kind of object.  Each object starts with `set`, a bit
 * per field: "unset" is not 0 nor empty, and only set fields are saved. */
struct fieldset {
	const char		*kind;	/* "farm", "server", "frontend" */
	const struct field	*f;
	size_t			 n;
	size_t			 size;	/* sizeof the object */
};

#define FIELD_ERRLEN	256

const struct field *fieldset_find(const struct fieldset *, const char *);
size_t	 field_index(const struct fieldset *, const struct field *);
bool	 field_isset(const struct fieldset *, const void *,
	    const struct field *);

void	*object_new(const struct fieldset *);
void	 object_free(const struct fieldset *, void *);
void	*object_dup(const struct fieldset *, const void *);
bool	 object_equal(const struct fieldset *, const void *, const void *);

int	 field_parse(const struct fieldset *, void *, const struct field *,
	    const char *, char *, size_t);
void	 field_mark_set(const struct fieldset *, void *, const struct field *);
void	 field_reset(const struct fieldset *, void *, const struct field *);
char	*field_format(const struct field *, const void *);
bool	 field_equal(const struct field *, const void *, const void *);
json_t	*field_to_json(const struct field *, const void *);
int	 field_from_json(const struct fieldset *, void *, const struct field *,
	    json_t *, char *, size_t);
char	*field_allowed(const struct field *);
bool	 name_valid(const char *);

/* The field of `key`, looked up once per call site: the hot paths ask
 * "is maxconn set?" for every session. */
#define FIELD(fs, key) __extension__ ({					\
	static const struct field *field_;				\
	if (field_ == NULL)						\
		field_ = fieldset_find((fs), (key));			\
	field_;								\
})
#define FIELD_ISSET(fs, obj, key)	field_isset((fs), (obj), FIELD((fs), (key)))

/* Typed access for the engine: the storage of a field at its offset. */
#define FIELD_PTR(obj, f)	((char *)(obj) + (f)->off)

#endif
