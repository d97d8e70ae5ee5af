/* Every command entry, defined in its group's cmd-<group>.c. */
#ifndef AIPLAT_COMMANDS_H
#define AIPLAT_COMMANDS_H

#include "cli.h"

extern const struct cli_command cmd_dev_start, cmd_dev_stop, cmd_dev_status, cmd_dev_url,
	cmd_dev_psql;
extern const struct cli_command cmd_migrate_up, cmd_migrate_down, cmd_migrate_status,
	cmd_migrate_verify, cmd_migrate_new, cmd_migrate_redo;
extern const struct cli_command cmd_seed;
extern const struct cli_command cmd_completion, cmd_help, cmd_version, cmd_gen_docs;

#endif
