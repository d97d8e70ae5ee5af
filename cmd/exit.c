/* Exit statuses and the library's error codes that lead to each. */
#include <stddef.h>
#include "aiplat/error.h"
#include "exit.h"

const struct cli_exit_status cli_exit_statuses[] = {
	{ CLI_EXIT_OK, "success" },
	{ CLI_EXIT_NEGATIVE, "a negative answer: quota denied, drift found, nothing matched, not running" },
	{ CLI_EXIT_USAGE, "usage error: unknown command or option, bad or missing argument" },
	{ CLI_EXIT_DB, "cannot reach the database" },
	{ CLI_EXIT_PROVIDER, "AI provider or HTTP failure" },
	{ CLI_EXIT_INVALID, "invalid input data; nothing was written" },
	{ CLI_EXIT_PERMISSION, "permission denied" },
	{ CLI_EXIT_BUSY, "busy: a lock is held by another run; try again later" },
	{ CLI_EXIT_INTERNAL, "internal error" },
	{ 0, NULL },
};

int cli_exit_status(int code)
{
	switch (code) {
	case AIPLAT_OK:        return CLI_EXIT_OK;
	case AIPLAT_ENEGATIVE: return CLI_EXIT_NEGATIVE;
	case AIPLAT_ENOTFOUND: return CLI_EXIT_NEGATIVE;
	case AIPLAT_EUSAGE:    return CLI_EXIT_USAGE;
	case AIPLAT_ECONNECT:  return CLI_EXIT_DB;
	case AIPLAT_EPROVIDER: return CLI_EXIT_PROVIDER;
	case AIPLAT_EINVALID:  return CLI_EXIT_INVALID;
	case AIPLAT_EEXISTS:   return CLI_EXIT_INVALID;
	case AIPLAT_EPERM:     return CLI_EXIT_PERMISSION;
	case AIPLAT_EBUSY:     return CLI_EXIT_BUSY;
	default:               return CLI_EXIT_INTERNAL;
	}
}
