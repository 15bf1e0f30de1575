/*
 * Config transactions of one zone: versions, the commit rules (a stale
 * base is refused, everything is validated before anything changes), the
 * confirmed-commit timer and the bounded history.  No sockets and no
 * clock of its own: the engine passes the time, so it is tested alone.
 */
#ifndef MXLB_COMMIT_H
#define MXLB_COMMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "proto.h"

/* A revert that could not be saved is tried again after 1 s, then twice
 * as long each time, up to this many seconds. */
#define REVERT_RETRY_MAX	60
/* A user name kept in the history is cut to this many bytes. */
#define TXN_USER_MAX		64

struct version {
	uint64_t	 number;
	int64_t		 time;		/* wall clock, seconds */
	char		*user;
	char		*comment;
	char		*config;	/* compact JSON */
};

struct txn_error {
	const char	*code;		/* E_* from proto.h */
	char		*message;
	struct errs	 list;		/* every validation error */
};

struct txn {
	char		*zone;
	uint64_t	 running;	/* version number now running */
	struct version	 hist[HISTORY_MAX];	/* oldest first */
	size_t		 nhist;

	bool		 pending;	/* a confirmed commit awaits confirm */
	int64_t		 deadline;
	uint64_t	 revert_to;
	char		*revert_config;	/* its config: it may leave the history */
	int64_t		 retry_at;	/* a revert that failed: next attempt */
	int64_t		 retry_delay;	/* seconds, doubling to REVERT_RETRY_MAX */

	/* Gets a validated config ready (what can fail, e.g. listening
	 * sockets) without switching it in; optional. */
	int		(*prepare)(void *, const struct config *, struct errs *);
	/* Drops what prepare made ready, when the commit goes no further. */
	void		(*abort)(void *);
	/* Switches a validated config in; takes it on success.  After a
	 * successful prepare it does not fail. */
	int		(*apply)(void *, struct config *, struct errs *);
	/* Makes the state durable; a version is switched in and
	 * acknowledged only after it. */
	int		(*save)(void *, const struct txn *, struct errs *);
	void		*arg;
};

void	 txn_init(struct txn *, const char *);
void	 txn_free(struct txn *);
void	 txn_error_free(struct txn_error *);
const struct version *txn_find(const struct txn *, uint64_t);
void	 txn_record(struct txn *, uint64_t, int64_t, const char *,
	    const char *, char *);

int	 txn_commit(struct txn *, json_t *, uint64_t, const char *,
	    const char *, long, int64_t, struct txn_error *);
int	 txn_confirm(struct txn *, struct txn_error *);
int	 txn_rollback(struct txn *, uint64_t, uint64_t, const char *,
	    const char *, int64_t, struct txn_error *);
bool	 txn_tick(struct txn *, int64_t, struct txn_error *);
char	*txn_empty_config(const struct txn *);

#endif
