/*
 * Process exit statuses (DESIGN.md section 3): the one table that dispatch,
 * --help and the man pages read, and the mapping from the library's error
 * codes to it. The library knows error codes, never exit statuses.
 */
#ifndef AIPLAT_CMD_EXIT_H
#define AIPLAT_CMD_EXIT_H

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_NEGATIVE = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_DB = 3,
	CLI_EXIT_PROVIDER = 4,
	CLI_EXIT_INVALID = 5,
	CLI_EXIT_PERMISSION = 6,
	CLI_EXIT_BUSY = 7,
	CLI_EXIT_INTERNAL = 70,
};

struct cli_exit_status {
	enum cli_exit status;
	const char *meaning;            /* for help and the man page */
};

/* Every status, in order; ends with a NULL meaning. */
extern const struct cli_exit_status cli_exit_statuses[];

/* The exit status for an aiplat_err code (AIPLAT_OK: 0). */
int cli_exit_status(int aiplat_err);

#endif
