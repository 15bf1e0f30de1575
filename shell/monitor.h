/*
 * The live monitor.  monitor-data.c turns the engines' stats and events
 * into an immutable snapshot; monitor-draw.c renders a snapshot into a
 * plain screen buffer (tested without a terminal); monitor.c is the
 * ncurses loop that shows the buffer and takes the keys.
 */
#ifndef MXLB_MONITOR_H
#define MXLB_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "counters.h"
#include "shell.h"

struct mon_counters {
	union {
		struct counters	 n;	/* as counter_defs[] reads it */
		struct { COUNTER_MEMBERS };
	};
	double		 rate;		/* sessions/s since the last snapshot */
	double		 refused_rate;
};

struct mon_server {
	char		 name[64], address[64];
	char		 admin[8], state[12];	/* "unchecked": no probe yet */
	char		 check[128];
	uint32_t	 check_ms;
	long		 weight, priority;
	long		 eff_weight;	/* in use now (slow start, agent) */
	char		 agent[160];	/* the agent's last reply and the
					 * MX's queue; "" none */
	bool		 backup;
	double		 oldest;	/* seconds the head of its queue waits */
	int64_t		 changed;	/* wall clock of the last state change */
	struct mon_counters c;
};

struct mon_farm {
	char		 name[64];
	double		 oldest;
	struct mon_counters c;
	struct mon_server *servers;
	size_t		 nservers;
};

struct mon_frontend {
	char		 name[64], farm[64];
	struct mon_counters c;
};

struct mon_zone {
	char		 name[64];
	bool		 up;
	char		 version[16];
	int64_t		 uptime, pid;
	size_t		 workers;	/* the engine's event loops */
	struct mon_frontend *fes;
	size_t		 nfes;
	struct mon_farm	*farms;
	size_t		 nfarms;
};

#define MON_EVENTS	64

struct mon_snapshot {
	time_t		 now;
	struct mon_zone	*zones;
	size_t		 nzones;
	char		*events[MON_EVENTS];	/* newest last */
	size_t		 nevents;
};

enum mon_sort { SORT_CONFIG, SORT_NAME, SORT_SESSIONS, SORT_STATE, SORT_MAX };

/* What the operator chose: it survives snapshots. */
struct mon_view {
	int		 selected;	/* index among server rows */
	int		 top;		/* first table row shown */
	enum mon_sort	 sort;
	char		 filter[64];
	char		 zone[64];	/* "" for every zone */
	char		 status[512];	/* the bottom line: prompts, results */
	bool		 color;
	bool		 help;
	bool		 sessions;	/* the selected server's sessions */
};

/* A rendered screen: text and one attribute per cell. */
enum mon_attr { AT_NORMAL, AT_HEADER, AT_TITLE, AT_SELECTED, AT_GOOD,
	AT_WARN, AT_BAD, AT_DIM };

struct mon_screen {
	int		 w, h;
	char		*text;		/* h rows of w chars */
	unsigned char	*attr;
};

/* A selectable server row, so keys act on the right server. */
struct mon_target {
	char		 zone[64], farm[64], server[64];
	uint64_t	 sessions;
	char		 admin[8];
};

void	 mon_screen_init(struct mon_screen *, int, int);
void	 mon_screen_free(struct mon_screen *);
int	 mon_render(const struct mon_snapshot *, struct mon_view *,
	    struct mon_screen *, struct mon_target *);
void	 mon_snapshot_free(struct mon_snapshot *);
void	 mon_render_sessions(struct mon_screen *, const struct mon_target *,
	    json_t *, const char *);
void	 mon_counters_from_json(struct mon_counters *, json_t *);
const char *mon_sort_name(enum mon_sort);
void	 mon_format_address(char *, size_t, const char *, long);
void	 mon_format_rate(char *, size_t, double, int);

/* monitor-data.c */
struct mon_source;
struct mon_source *mon_source_new(struct shell *, char **, int);
void	 mon_source_free(struct mon_source *);
struct mon_snapshot *mon_source_poll(struct mon_source *);
int	 mon_source_admin(struct mon_source *, const struct mon_target *,
	    const char *, char *, size_t);

/* monitor.c */
int	 monitor_run(struct shell *, char **, int);

#endif
