/* systemd's service notification (sd_notify), spoken directly. */
#ifndef MXLB_NOTIFY_H
#define MXLB_NOTIFY_H

#include <stdbool.h>

bool	notify_enabled(void);
int	notify_send(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* What the engine tells systemd (Type=notify), each a no-op without
 * $NOTIFY_SOCKET. */
struct engine;
void	notify_ready(struct engine *, bool);
void	notify_reloading(void);
void	notify_stopping(struct engine *);
void	notify_status(struct engine *);

#endif
