/* aiplat flag: feature flags, global and per organisation. */
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "output.h"

#define END_OPTIONS { NULL, 0, 0, NULL, NULL, NULL, 0 }

static int show(struct cli_ctx *ctx, int rc, aiplat_table *t, bool record)
{
	if (rc)
		return cli_fail(ctx);
	rc = record ? cli_print_record(ctx, t) : cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int flag_set(struct cli_ctx *ctx)
{
	const char *state = ctx->args[1];
	if (strcmp(state, "on") != 0 && strcmp(state, "off") != 0)
		return cli_usage_error(ctx, NULL, "a flag is on or off, not \"%s\"", state);
	aiplat_table *t = NULL;
	int rc = aiplat_flag_set(ctx->db, ctx->args[0], !strcmp(state, "on"), cli_opt(ctx, "value"),
	                         cli_flag(ctx, "global"), &t);
	return show(ctx, rc, t, true);
}

static int flag_get(struct cli_ctx *ctx)
{
	aiplat_table *t = NULL;
	int rc = aiplat_flag_get(ctx->db, ctx->args[0], &t);
	if (rc == AIPLAT_ENOTFOUND) {
		cli_info(ctx, "%s", aiplat_error_last()->message);
		return AIPLAT_EXIT_NEGATIVE;
	}
	return show(ctx, rc, t, true);
}

static int flag_list(struct cli_ctx *ctx)
{
	aiplat_table *t = NULL;
	int rc = aiplat_flag_list(ctx->db, &t);   /* before t is read */
	return show(ctx, rc, t, false);
}

static const char *const states[] = { "on", "off", NULL };

static const struct cli_option set_options[] = {
	{ "value", 0, OPT_STRING, "JSON", "a setting carried by the flag, e.g. {\"limit\": 200}", NULL, 0 },
	{ "global", 0, OPT_FLAG, NULL, "the global flag (superadmins), not the organisation's", NULL, 0 },
	END_OPTIONS
};

const struct cli_command cmd_flag_set = {
	"flag", "set", "NAME on|off", "switch a feature flag",
	"With --org the organisation's own flag, which wins over the global one there (flags:manage); "
	"with --global the global flag (superadmins). Flags aiplat reads: ai (off refuses the "
	"organisation's AI calls) and ai.daily_requests (on with --value N or {\"limit\": N}: requests "
	"per person and day, instead of the plan's).",
	set_options, 2, 2, CMD_NEED_DB, flag_set, states
};
const struct cli_command cmd_flag_get = {
	"flag", "get", "NAME", "a flag as the organisation sees it",
	"The organisation's own flag where it has one, else the global one. Exit 1 when neither exists.",
	NULL, 1, 1, CMD_NEED_DB, flag_get, NULL
};
const struct cli_command cmd_flag_list = {
	"flag", "list", NULL, "the flags in effect",
	"Every flag with its global and organisation values and the one in effect.",
	NULL, 0, 0, CMD_NEED_DB, flag_list, NULL
};
