/* mxlbd --takeover: the new engine's side (takeover.c). */
#ifndef MXLB_TAKEOVER_H
#define MXLB_TAKEOVER_H

#include <sys/types.h>

#include "engine.h"

struct takeover {
	int	 fd;		/* to the old engine's control socket */
	int	 ctl_fd;	/* its listening control socket, now ours */
	pid_t	 old_pid;
	char	*config_file;	/* its -c file, or NULL */
};

int	takeover_start(struct takeover *, struct engine *, const char *,
	    struct errs *);
int	takeover_finish(struct takeover *, const char *, struct errs *);
void	takeover_end(struct takeover *);

#endif
