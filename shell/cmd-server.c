/* server add, server set, no server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"

/* A server's name is unique in its farm (it defaults to the address). */
static int
server_unique(struct shell *sh, const struct farm *f, const struct server *s,
    const struct server *self)
{
	for (size_t i = 0; i < f->nservers; i++)
		if (f->servers[i] != self && strcmp(server_name(f->servers[i]),
		    server_name(s)) == 0)
			return shell_error(sh, "farm %s already has a server "
			    "named %s (give this one a name)", f->name,
			    server_name(s));
	return 0;
}

/* The port a server is reached on; 0: the frontend's, the same for all. */
static long
server_port(const struct farm *f, const struct server *s)
{
	if (field_isset(&server_fields, s, fieldset_find(&server_fields,
	    "port")))
		return s->port;
	if (field_isset(&farm_fields, f, fieldset_find(&farm_fields, "port")))
		return f->port;
	return 0;
}

/* One mail server twice in a farm would take twice its share, and its
 * maxconn would not hold: refused, naming the server it repeats. */
static int
server_endpoint_unique(struct shell *sh, const struct farm *f,
    const struct server *s, const struct server *self)
{
	char a[ADDR_STRLEN];

	for (size_t i = 0; i < f->nservers; i++) {
		const struct server *o = f->servers[i];
		if (o == self || addr_cmp(&o->address, &s->address) != 0 ||
		    server_port(f, o) != server_port(f, s))
			continue;
		addr_format(&s->address, a, sizeof a);
		if (server_port(f, s) != 0)
			return shell_error(sh, "farm %s: server %s already is "
			    "%s port %ld (give another address or port)",
			    f->name, server_name(o), a, server_port(f, s));
		return shell_error(sh, "farm %s: server %s already is %s on "
		    "the same port (give another address or port)", f->name,
		    server_name(o), a);
	}
	return 0;
}

static int
server_add(struct shell *sh, const struct parsed *p)
{
	struct farm *f = NULL;
	struct zone *z = farm_find(sh, p->args[0], parsed_opt(p, "zone"), &f);
	struct mxaddr a;
	struct server *s;

	if (z == NULL)
		return -1;
	addr_parse(&a, p->args[1], sh->err, sizeof sh->err);
	s = server_new(&a);
	if (attrs_apply(&server_fields, s, p, sh->err, sizeof sh->err) == -1 ||
	    server_unique(sh, f, s, NULL) == -1 ||
	    server_endpoint_unique(sh, f, s, NULL) == -1) {
		object_free(&server_fields, s);
		return -1;
	}
	farm_add_server(f, s);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_server_add = {
	.words = { "server", "add" },
	.help = "add a mail server to a farm",
	.args = { { A_FARM, "FARM", "the farm", false },
		  { A_ADDRESS, "ADDRESS", "the server's IPv4 or IPv6 address",
		    false } },
	.opts = zone_which_opt,
	.attrs = &server_fields,
	.flags = CMD_EDIT,
	.exec = server_add,
	.example = "server add mx 192.0.2.10 name mx1 port 25 proxyprotocol v1",
};

static int
server_set(struct shell *sh, const struct parsed *p)
{
	struct farm *f = NULL;
	struct zone *z = farm_find(sh, p->args[0], parsed_opt(p, "zone"), &f);
	struct server *s, *tmp;
	int rc;

	if (z == NULL)
		return -1;
	if ((s = farm_server(f, p->args[1])) == NULL)
		return shell_error(sh, "farm %s (zone %s) has no server %s",
		    f->name, z->name, p->args[1]);
	if (p->nopts == (parsed_has(p, "zone") ? 1U : 0U))
		return shell_error(sh, "server set: which attributes?");
	tmp = object_dup(&server_fields, s);
	rc = attrs_apply(&server_fields, tmp, p, sh->err, sizeof sh->err);
	if (rc == 0)
		rc = server_unique(sh, f, tmp, s);
	if (rc == 0)
		rc = server_endpoint_unique(sh, f, tmp, s);
	object_free(&server_fields, tmp);
	if (rc == -1)
		return -1;
	attrs_apply(&server_fields, s, p, sh->err, sizeof sh->err);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_server_set = {
	.words = { "server", "set" },
	.help = "change a server's attributes (no ATTRIBUTE resets one)",
	.args = { { A_FARM, "FARM", "the farm", false },
		  { A_SERVER, "SERVER", "the server (its name or address)",
		    false } },
	.opts = zone_which_opt,
	.attrs = &server_fields,
	.flags = CMD_EDIT | CMD_ATTR_NO,
	.exec = server_set,
	.example = "server set mx mx1 weight 3 no maxconn",
};

static int
server_del(struct shell *sh, const struct parsed *p)
{
	struct farm *f = NULL;
	struct zone *z = farm_find(sh, p->args[0], parsed_opt(p, "zone"), &f);

	if (z == NULL)
		return -1;
	if (farm_server(f, p->args[1]) == NULL)
		return shell_error(sh, "farm %s (zone %s) has no server %s",
		    f->name, z->name, p->args[1]);
	farm_remove_server(f, p->args[1]);
	zone_record(z, sh->line);
	return 0;
}

const struct cmd_entry cmd_no_server = {
	.words = { "no", "server" },
	.help = "remove a server from its farm (its sessions run to their end)",
	.args = { { A_FARM, "FARM", "the farm", false },
		  { A_SERVER, "SERVER", "the server", false } },
	.opts = zone_which_opt,
	.flags = CMD_EDIT,
	.exec = server_del,
	.example = "no server mx mx1",
};
