/* aiplat audit: the audit log. */
#include "cli.h"
#include "output.h"

static int audit_list(struct cli_ctx *ctx)
{
	const char *org = aiplat_db_identity(ctx->db)->org_slug;
	aiplat_audit_filter f = { org[0] ? org : NULL, cli_opt(ctx, "actor"), cli_opt(ctx, "action"),
	                          cli_opt(ctx, "resource"), cli_opt(ctx, "since"),
	                          cli_opt(ctx, "until"), cli_opt_int(ctx, "limit", 100) };
	if (f.limit <= 0)
		return cli_usage_error(ctx, NULL, "--limit must be positive");
	aiplat_table *t;
	if (aiplat_audit_list(ctx->db, &f, &t) != 0)
		return cli_fail(ctx);
	/* A terminal table shows what changed; the full before/after is for
	 * machine formats and --full. */
	if (ctx->format == OUT_TABLE && !cli_flag(ctx, "full")) {
		aiplat_table_drop_column(t, "old_values");
		aiplat_table_drop_column(t, "new_values");
	}
	int rc = cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static const struct cli_option list_options[] = {
	{ "actor", 0, OPT_STRING, "EMAIL", "changes made by, or as, this person", NULL, 0 },
	{ "action", 0, OPT_STRING, "ACTION", "this action, or a prefix ending in . or * (model.)", NULL, 0 },
	{ "resource", 0, OPT_STRING, "TYPE[:ID]", "this resource type (e.g. ai_models_system) or row",
	  NULL, 0 },
	{ "since", 0, OPT_STRING, "WHEN", "a timestamp, or an age such as 7d, 12h, 30m", NULL, 0 },
	{ "until", 0, OPT_STRING, "WHEN", "a timestamp, or an age", NULL, 0 },
	{ "limit", 0, OPT_INT, "N", "at most N rows, newest first (default 100)", NULL, 0 },
	{ "full", 0, OPT_FLAG, NULL, "in table format too, show the old and new values", NULL, 0 },
	END_OPTIONS
};

static const struct cli_command audit_commands[] = {
	{
		.name = "list",
		.summary = "read the audit log",
		.description = "Every change to people, organisations, members, roles, the catalogue and its "
		               "configuration is audited in the same transaction, by database triggers, whatever the "
		               "client: who (actor), as whom (acting_as), what, and the old and new values without "
		               "secrets. With --org only that organisation's rows. Organisation admins (audit:read) see "
		               "their organisation's log; superadmins and the platform see everything.",
		.options = list_options,
		.flags = CMD_NEED_DB,
		.run = audit_list,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_audit = {
	.name = "audit",
	.summary = "read the audit log",
	.description = "Every change is audited in the same transaction: actor, the person acted as, "
	               "organisation, action, resource, old and new values (never secrets).",
	.commands = audit_commands,
};
