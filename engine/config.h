/*
 * The config model of one zone: frontends, farms and their servers.  The
 * engine owns it; the shell links this file to edit a candidate.
 */
#ifndef MXLB_CONFIG_H
#define MXLB_CONFIG_H

#include <jansson.h>
#include <stdint.h>

#include "addr.h"
#include "field.h"
#include "names.h"
#include "util.h"

enum balance	{ BAL_ROUNDROBIN, BAL_LEASTCONN, BAL_SOURCE, BAL_FIRST };
enum stickiness	{ STICK_NONE, STICK_SOURCE };
enum probe_kind	{ PROBE_SMTP, PROBE_TCP, PROBE_NONE };
enum unavail	{ UNAVAIL_TEMPFAIL, UNAVAIL_CLOSE };
enum srvstatus	{ STATUS_ACTIVE, STATUS_INACTIVE };
enum greet5xx	{ GREET5XX_REDISPATCH, GREET5XX_PASS };
enum passive	{ PASSIVE_ON, PASSIVE_OFF };
enum forward	{ FORWARD_USER, FORWARD_KERNEL };

/* Each object starts with `set`: a bit per field of its fieldset. */
struct server {
	uint64_t	 set;
	struct mxaddr	 address;
	char		*name;
	long		 port;
	long		 weight;
	long		 priority;
	long		 backup;
	long		 proxyprotocol;	/* enum proxy_version */
	long		 maxconn;
	long		 status;
	long		 agent_port;
	long		 agent_interval;	/* milliseconds */
	long		 xclient;	/* flag: XCLIENT instead of PROXY */
};

struct farm {
	uint64_t	 set;
	char		*name;
	long		 balance;
	long		 stickiness;
	long		 port;
	long		 probe;
	long		 probe_interval;	/* milliseconds, like every duration */
	long		 probe_timeout;
	long		 probe_rise;
	long		 probe_fall;
	long		 probe_port;
	char		*probe_helo;
	long		 on_unavailable;
	long		 queue_timeout;
	long		 connect_timeout;
	/* Where sessions connect from: family AF_UNSPEC is the client's
	 * address (transparent), else this address (and the probes too). */
	struct mxaddr	 source;
	long		 slowstart;		/* milliseconds; 0: none */
	long		 greeting_timeout;
	long		 on_greeting_5xx;	/* enum greet5xx */
	long		 passive_health;	/* enum passive */
	long		 forward;		/* enum forward */

	struct server	**servers;
	size_t		  nservers;
};

struct frontend {
	uint64_t	 set;
	char		*name;
	struct portlist	 bind;
	struct addrlist	 address;
	char		*farm;
	struct cidrlist	 allowed_source;
	struct cidrlist	 denied_source;
	long		 maxconn;
	long		 source_maxconn;
	long		 source_rate;
	long		 idle_timeout;
	long		 disabled;
};

struct config {
	char		 *zone;
	struct farm	**farms;
	size_t		  nfarms;
	struct frontend	**frontends;
	size_t		  nfrontends;
};

extern const struct fieldset server_fields;
extern const struct fieldset farm_fields;
extern const struct fieldset frontend_fields;

struct config	*config_new(const char *);
void		 config_free(struct config *);
struct config	*config_dup(const struct config *);
bool		 config_equal(const struct config *, const struct config *);

struct farm	*config_farm(const struct config *, const char *);
struct frontend	*config_frontend(const struct config *, const char *);
struct server	*farm_server(const struct farm *, const char *);
const char	*server_name(const struct server *);
enum transport	 server_transport(const struct server *);
struct farm	*farm_new(const char *);
void		 farm_free(struct farm *);
struct server	*server_new(const struct mxaddr *);
struct frontend	*frontend_new(const char *);
void		 config_add_farm(struct config *, struct farm *);
void		 config_add_frontend(struct config *, struct frontend *);
void		 farm_add_server(struct farm *, struct server *);
void		 config_remove_farm(struct config *, const char *);
void		 config_remove_frontend(struct config *, const char *);
void		 farm_remove_server(struct farm *, const char *);

int		 config_validate(const struct config *, struct errs *);

/* JSON: the engine's import and export format (config-json.c).  Dumps use
 * these flags so that 0.1 s is written 0.1, not 0.10000000000000001. */
#define CONFIG_JSON_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(9))

json_t		*config_to_json(const struct config *);
struct config	*config_from_json(json_t *, struct errs *);
struct config	*config_load_file(const char *, struct errs *);

#endif
