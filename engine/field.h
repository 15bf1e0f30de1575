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

/*
 * The rule for names (farms, servers, frontends, zones), once:
 * name_valid() checks it, NAME_RULE says it to people and NAME_PATTERN to
 * JSON Schema.  NAME_PUNCT lists the characters allowed besides ASCII
 * letters and digits, as X(c) for each.
 */
#define NAME_LEN_MAX	63
#define NAME_PUNCT(X)	X(_) X(.) X(-)
#define NAME_STR_(x)	#x
#define NAME_STR(x)	NAME_STR_(x)
#define NAME_SPACED_(c)	" " #c
#define NAME_RULE	"1-" NAME_STR(NAME_LEN_MAX) " of A-Z a-z 0-9" \
			NAME_PUNCT(NAME_SPACED_)
#define NAME_PATTERN	"^[A-Za-z0-9" NAME_PUNCT(NAME_STR_) "]{1," \
			NAME_STR(NAME_LEN_MAX) "}$"

enum ftype {
	FT_NAME,	/* NAME_RULE */
	FT_HOST,	/* a host name for EHLO */
	FT_UINT,	/* integer in [min, max] */
	FT_PORT,	/* a port in [min, max] */
	FT_DURATION,	/* kept in milliseconds, written in seconds */
	FT_ENUM,	/* index into enums[] */
	FT_FLAG,	/* present or not */
	FT_ADDR,	/* one IPv4 or IPv6 address */
	FT_ADDRS,	/* set of addresses */
	FT_CIDRS,	/* set of CIDR blocks */
	FT_PORTS,	/* set of ports and ranges */
	FT_SOURCE,	/* "client", or one address (struct mxaddr; the
			 * client is family AF_UNSPEC) */
};

/* Field flags. */
#define F_KEY		0x01	/* names the object; given at creation */
#define F_REQUIRED	0x02	/* must be set for the config to be valid */
#define F_PROBE		0x04	/* a change restarts the farm's probes */
#define F_FARMREF	0x08	/* its value names a farm of the zone */

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

/* Typed access for the engine: the storage of a field at its offset;
 * FIELD_CPTR for reading a const object. */
#define FIELD_PTR(obj, f)	((char *)(obj) + (f)->off)
#define FIELD_CPTR(obj, f)	((const char *)(obj) + (f)->off)

#endif
