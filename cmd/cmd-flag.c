/* aiplat flag: feature flags, global and per organisation. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

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
		return CLI_EXIT_NEGATIVE;
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

static const struct cli_command flag_commands[] = {
	{
		.name = "set",
		.args = "NAME on|off",
		.summary = "switch a feature flag",
		.description = "With --org the organisation's own flag, which wins over the global one there (flags:manage); "
		               "with --global the global flag (superadmins). Flags aiplat reads: ai (off refuses the "
		               "organisation's AI calls) and ai.daily_requests (on with --value N or {\"limit\": N}: requests "
		               "per person and day, instead of the plan's).",
		.options = set_options,
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = flag_set,
		.arg_choices = states,
	},
	{
		.name = "get",
		.args = "NAME",
		.summary = "a flag as the organisation sees it",
		.description = "The organisation's own flag where it has one, else the global one. Exit 1 when neither exists.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = flag_get,
	},
	{
		.name = "list",
		.summary = "the flags in effect",
		.description = "Every flag with its global and organisation values and the one in effect.",
		.flags = CMD_NEED_DB,
		.run = flag_list,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_flag = {
	.name = "flag",
	.summary = "feature flags, global and per organisation",
	.description = "An organisation's own flag wins over the global one. aiplat reads ai (off: AI calls are "
	               "refused) and ai.daily_requests (the requests a person may make per day).",
	.commands = flag_commands,
};
