/* The operator shell: its zones, their candidate configs, and output. */
#ifndef MXLB_SHELL_H
#define MXLB_SHELL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "grammar.h"
#include "paths.h"

/* One zone as the shell sees it: what runs, and the operator's edits. */
struct zone {
	char		 *name;
	char		 *sock;		/* control socket path */
	char		 *cmd;		/* or a command giving a byte stream */
	bool		  up;		/* the engine answered */
	char		  why[1024];	/* or why it did not */
	struct peer	 *peer;		/* the connection (peer.h) */
	bool		  watched;	/* subscribed to its events */
	uint64_t	  base;		/* version the candidate builds on */
	uint64_t	  live;		/* version the engine last said runs */
	struct config	 *running;
	struct config	 *cand;
	char		**edits;	/* edit lines, replayed by `update` */
	size_t		  nedits;
};

struct shell {
	struct zone	**zones;
	size_t		  nzones;
	char		 *rundir;
	bool		  interactive;
	bool		  json;		/* output format for one-shot use */
	bool		  quit;
	bool		  names_only;	/* discover without asking the engines */
	char		  unseen[512];	/* why the run directory was not read */
	FILE		 *out;
	const char	 *line;		/* the line being run, for `update` */
	char		  err[8192];	/* the last command's error */
};

/* zone.c: zones and candidates */
void		 shell_discover(struct shell *);
struct zone	*shell_zone(struct shell *, const char *);
struct zone	*zone_of_farm(struct shell *, const char *, struct farm **);
struct zone	*zone_of_frontend(struct shell *, const char *,
		    struct frontend **);
bool		 zone_pending(const struct zone *);
int		 zone_refresh(struct shell *, struct zone *, char *, size_t);
void		 zone_record(struct zone *, const char *);
void		 zone_edits_clear(struct zone *);
/* follow.c: what the engines say now, and their events */
int		 zone_sync(struct shell *, struct zone *, char *, size_t);
int		 shell_sync(struct shell *, const char *);
void		 shell_follow(struct shell *, FILE *);
bool		 shell_watch_fds(struct shell *, int *, size_t *, size_t);
void		 shell_free(struct shell *);
bool		 shell_pending(const struct shell *);

/* client.c: one request to a zone's engine */
json_t		*engine_call(struct zone *, json_t *, char *, size_t);
json_t		*engine_call_timeout(struct zone *, json_t *, int, char *,
		    size_t);

/* cmd.c: the commands, each declared in its cmd-*.c file */
extern const struct cmd_entry cmd_farm_add, cmd_farm_set, cmd_no_farm;
extern const struct cmd_entry cmd_server_add, cmd_server_set, cmd_no_server;
extern const struct cmd_entry cmd_server_drain, cmd_server_maint,
    cmd_server_ready;
extern const struct cmd_entry cmd_frontend_add, cmd_frontend_bind,
    cmd_frontend_set, cmd_no_frontend;
extern const struct cmd_entry cmd_zone_apply, cmd_zone_confirm;
extern const struct cmd_entry cmd_zone_export, cmd_zone_import;
extern const struct cmd_entry cmd_show_zones, cmd_show_farms,
    cmd_show_servers, cmd_show_frontends, cmd_show_running,
    cmd_show_candidate, cmd_show_diff, cmd_show_history, cmd_show_stats,
    cmd_show_sessions;
extern const struct cmd_entry cmd_discard, cmd_update, cmd_rollback;
extern const struct cmd_entry cmd_help, cmd_exit, cmd_quit, cmd_monitor;

/* script.c: configs as command lines */
char		**config_script(const struct config *, size_t *);
void		 script_free(char **, size_t);
char		**config_diff(const struct config *, const struct config *,
		    bool, size_t *);
size_t		 zone_changes(const struct zone *);

/* cmd-export.c: the zone's config file */
char		*config_file_text(json_t *);
void		 shell_json_print(struct shell *, json_t *);

/* check.c, bridge.c: mxlb's other faces */
int		 check_main(struct shell *, int, char **);
int		 bridge_main(struct shell *, const char *);
/* agent.c: `mxlb agent`, run on an MX */
int		 agent_main(int, char **);

/* run.c */
int		 shell_run_line(struct shell *, const char *, char *, size_t);
int		 shell_error(struct shell *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
