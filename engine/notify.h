/* systemd's service notification (sd_notify), spoken directly. */
#ifndef MXLB_NOTIFY_H
#define MXLB_NOTIFY_H

#include <stdbool.h>

bool	notify_enabled(void);
int	notify_send(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
