/* The command table: every command of the shell, in `help` order. */
#include "shell.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_farm_add, &cmd_farm_set,
	&cmd_server_add, &cmd_server_set,
	&cmd_server_drain, &cmd_server_maint, &cmd_server_ready,
	&cmd_frontend_add, &cmd_frontend_bind, &cmd_frontend_set,
	&cmd_no_farm, &cmd_no_server, &cmd_no_frontend,
	&cmd_zone_apply, &cmd_zone_confirm,
	&cmd_zone_export, &cmd_zone_import,
	&cmd_show_zones, &cmd_show_farms, &cmd_show_servers,
	&cmd_show_frontends, &cmd_show_running, &cmd_show_candidate,
	&cmd_show_diff, &cmd_show_history, &cmd_show_stats,
	&cmd_show_sessions,
	&cmd_discard, &cmd_update, &cmd_rollback, &cmd_monitor,
	&cmd_help, &cmd_exit, &cmd_quit,
	NULL
};
