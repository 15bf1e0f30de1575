/*
 * The shell's grammar.  Every command is declared once, as a const
 * cmd_entry in its cmd-*.c file: keyword path, positional arguments,
 * options, and the config attributes it takes (straight from the engine's
 * field tables).  The parser, `?` help, TAB completion, `help`,
 * `mxlb __complete` and the man page's command list are all derived from
 * these declarations.
 */
#ifndef MXLB_GRAMMAR_H
#define MXLB_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "field.h"

struct shell;

enum argtype {
	A_NONE,		/* a flag option: no value */
	A_NEWNAME,	/* a name to create */
	A_FARM,		/* an existing farm */
	A_SERVER,	/* a server of the farm named before */
	A_FRONTEND,	/* an existing frontend */
	A_ZONE,		/* a zone the shell knows */
	A_ZONE_ALL,	/* a zone, or "all" */
	A_ADDRESS,	/* an IPv4 or IPv6 address */
	A_PORTS,	/* ports and ranges */
	A_SEC,		/* seconds */
	A_UINT,		/* a number */
	A_TEXT,		/* one word, or a quoted string */
	A_FIELD,	/* the value of a config field */
};

struct arg {
	enum argtype	 type;
	const char	*meta;		/* NAME, FARM, SEC... */
	const char	*help;
	bool		 optional;
};

struct opt {
	const char	*kw;
	enum argtype	 type;		/* A_NONE: a flag */
	const char	*meta;
	const char	*help;
	bool		 value_optional;	/* `wait [SEC]` */
};

/* cmd_entry flags */
#define CMD_EDIT	0x01	/* changes the candidate */
#define CMD_ATTR_NO	0x02	/* `no ATTRIBUTE` resets one */
#define CMD_ENGINE	0x04	/* talks to an engine */
#define CMD_JSON	0x08	/* takes `json`: one JSON document out */

#define CMD_ARGS_MAX	3
#define CMD_OPTS_MAX	64

struct parsed;

struct cmd_entry {
	const char		*words[3];	/* keyword path */
	const char		*help;
	struct arg		 args[CMD_ARGS_MAX];
	const struct opt	*opts;		/* {NULL}-terminated */
	const struct fieldset	*attrs;		/* config attributes it takes */
	const char *const	*required;	/* options that must be given */
	unsigned		 flags;
	int			(*exec)(struct shell *, const struct parsed *);
	const char		*example;
};

struct parsed {
	const struct cmd_entry	*cmd;
	const char		*args[CMD_ARGS_MAX];
	size_t			 nopts;
	struct {
		const char		*kw;	/* option keyword or field key */
		const struct field	*field;	/* NULL for an option */
		const char		*val;	/* NULL: flag, or `no` */
		bool			 no;
	}			 opts[CMD_OPTS_MAX];
	char			*owned[CMD_OPTS_MAX + CMD_ARGS_MAX];
	size_t			 nowned;
};

/* What may come next on a line: for `?` and TAB. */
struct cand {
	char		*word;		/* a keyword or value; NULL for a placeholder */
	char		*meta;		/* placeholder text, as <PORT> */
	char		*help;
};

struct cands {
	struct cand	*v;
	size_t		 n;
};

extern const struct cmd_entry *const cmd_table[];
extern const struct opt json_flag;

int	 line_split(const char *, char ***, int *, bool *, char *, size_t);
void	 words_free(char **, int);
int	 grammar_parse(struct shell *, char **, int, struct parsed *, char *,
	    size_t);
void	 parsed_free(struct parsed *);
int	 grammar_next(struct shell *, char **, int, const char *,
	    struct cands *);
void	 cands_free(struct cands *);
const char *grammar_error(void);
void	 cmd_words(const struct cmd_entry *, char *, size_t);
char	*cmd_usage(const struct cmd_entry *);
void	 grammar_man(FILE *);
int	 grammar_man_names(FILE *, const char *);
const char *parsed_opt(const struct parsed *, const char *);
bool	 parsed_has(const struct parsed *, const char *);

#endif
