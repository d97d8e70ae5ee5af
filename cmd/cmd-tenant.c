/* aiplat tenant: organisations and their members. */
#include <stdlib.h>
#include "cli.h"

static int print_and_free(struct cli_ctx *ctx, aiplat_table *t, bool record)
{
	int rc = record ? cli_print_record(ctx, t) : cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int tenant_create(struct cli_ctx *ctx)
{
	aiplat_tenant_spec s = { ctx->args[0], cli_opt(ctx, "name"), cli_opt(ctx, "type"),
	                         cli_opt(ctx, "plan"), cli_opt(ctx, "timezone"),
	                         cli_opt_int(ctx, "quota", 0), cli_opt(ctx, "admin") };
	if (cli_opt(ctx, "quota") && s.quota <= 0) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                 "--quota must be a positive number of tokens");
		return cli_fail(ctx);
	}
	if (aiplat_tenant_create(ctx->db, &s) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "created organization %s", s.slug);
	return 0;
}

static int tenant_list(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_tenant_list(ctx->db, &t) != 0)
		return cli_fail(ctx);
	return print_and_free(ctx, t, false);
}

static int tenant_show(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_tenant_show(ctx->db, ctx->args[0], &t) != 0)
		return cli_fail(ctx);
	return print_and_free(ctx, t, true);
}

static int set(struct cli_ctx *ctx, const char *field)
{
	if (aiplat_tenant_set(ctx->db, ctx->args[0], field, ctx->args[1]) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s: %s is now %s", ctx->args[0], field, ctx->args[1]);
	return 0;
}

static int tenant_set_plan(struct cli_ctx *ctx) { return set(ctx, "plan"); }
static int tenant_set_type(struct cli_ctx *ctx) { return set(ctx, "type"); }
static int tenant_set_quota(struct cli_ctx *ctx) { return set(ctx, "quota"); }
static int tenant_set_timezone(struct cli_ctx *ctx) { return set(ctx, "time_zone"); }
static int tenant_rename(struct cli_ctx *ctx) { return set(ctx, "name"); }

static int tenant_add_member(struct cli_ctx *ctx)
{
	if (aiplat_tenant_add_member(ctx->db, ctx->args[0], ctx->args[1], cli_opt(ctx, "role")) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s joined %s as %s", ctx->args[1], ctx->args[0],
	         cli_opt(ctx, "role") ? cli_opt(ctx, "role") : "user");
	return 0;
}

static int tenant_remove_member(struct cli_ctx *ctx)
{
	if (aiplat_tenant_remove_member(ctx->db, ctx->args[0], ctx->args[1]) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s left %s", ctx->args[1], ctx->args[0]);
	return 0;
}

static int tenant_set_role(struct cli_ctx *ctx)
{
	if (aiplat_tenant_set_role(ctx->db, ctx->args[0], ctx->args[1], ctx->args[2]) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s is now %s in %s", ctx->args[1], ctx->args[2], ctx->args[0]);
	return 0;
}

static int tenant_members(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_tenant_members(ctx->db, ctx->args[0], &t) != 0)
		return cli_fail(ctx);
	return print_and_free(ctx, t, false);
}

static const struct cli_option create_options[] = {
	{ "name", 0, OPT_STRING, "NAME", "display name (default: the slug)", NULL, 0 },
	{ "type", 0, OPT_STRING, "TYPE", "organisation type, e.g. solicitor (default: general)", NULL, 0 },
	{ "plan", 0, OPT_STRING, "PLAN", "pricing plan: free, starter, pro, enterprise (default: free)",
	  NULL, 0 },
	{ "quota", 0, OPT_INT, "TOKENS", "monthly token quota (default: the plan's)", NULL, 0 },
	{ "timezone", 0, OPT_STRING, "TZ", "IANA time zone where periods start (default: UTC)", NULL, 0 },
	{ "admin", 0, OPT_STRING, "EMAIL", "make this existing person its first admin", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option member_options[] = {
	{ "role", 0, OPT_STRING, "ROLE", "admin, user, viewer or a custom role (default: user)", NULL, 0 },
	END_OPTIONS
};

static const struct cli_command tenant_commands[] = {
	{
		.name = "create",
		.args = "SLUG",
		.summary = "create an organisation",
		.description = "Creates an organisation (superadmins and the platform only). Type, plan and quota are "
		               "checked against the known values; --admin adds its first admin.",
		.options = create_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = tenant_create,
	},
	{
		.name = "list",
		.summary = "list organisations",
		.description = "Lists the organisations you may see (yours; superadmins and the platform: all) with "
		               "plan, effective monthly quota and this month's usage.",
		.flags = CMD_NEED_DB,
		.run = tenant_list,
	},
	{
		.name = "show",
		.args = "SLUG",
		.summary = "show one organisation",
		.description = "Shows an organisation's type, plan, effective quota and where it comes from, usage, "
		               "reset date, time zone, members and enabled models.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = tenant_show,
	},
	{
		.name = "set-plan",
		.args = "SLUG PLAN",
		.summary = "change an organisation's pricing plan",
		.description = "Superadmins only. The plan decides which models the organisation may use.",
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = tenant_set_plan,
	},
	{
		.name = "set-type",
		.args = "SLUG TYPE",
		.summary = "change an organisation's type",
		.description = "Superadmins only. Models target organisation types.",
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = tenant_set_type,
	},
	{
		.name = "set-quota",
		.args = "SLUG TOKENS|default",
		.summary = "set the monthly token quota",
		.description = "Superadmins only. \"default\" falls back to the plan's quota.",
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = tenant_set_quota,
	},
	{
		.name = "set-timezone",
		.args = "SLUG TZ",
		.summary = "set the time zone periods start in",
		.description = "Days, weeks (from Monday) and months begin at local midnight in this IANA time zone. "
		               "Admins of the organisation may change it.",
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = tenant_set_timezone,
	},
	{
		.name = "rename",
		.args = "SLUG NAME",
		.summary = "change an organisation's display name",
		.description = "Admins of the organisation may rename it.",
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = tenant_rename,
	},
	{
		.name = "add-member",
		.args = "SLUG EMAIL",
		.summary = "add a person to an organisation",
		.description = "Needs members:manage in the organisation (its admins). The person must exist "
		               "(`aiplat user create`).",
		.options = member_options,
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = tenant_add_member,
	},
	{
		.name = "remove-member",
		.args = "SLUG EMAIL",
		.summary = "remove a person from an organisation",
		.description = "Needs members:manage. The last admin cannot be removed.",
		.min_args = 2,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = tenant_remove_member,
	},
	{
		.name = "set-role",
		.args = "SLUG EMAIL ROLE",
		.summary = "change a member's role",
		.description = "Needs members:manage. ROLE is admin, user, viewer or one of the organisation's custom "
		               "roles. The last admin cannot be demoted.",
		.min_args = 3,
		.max_args = 3,
		.flags = CMD_NEED_DB,
		.run = tenant_set_role,
	},
	{
		.name = "members",
		.args = "SLUG",
		.summary = "list an organisation's members",
		.description = "Lists members with their roles (needs members:read).",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = tenant_members,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_tenant = {
	.name = "tenant",
	.summary = "manage organisations and their members",
	.description = "Organisations (tenants) have a type, a pricing plan, a monthly token quota and a time "
	               "zone. Superadmins create them and decide type, plan and quota; each organisation's "
	               "admins manage its members and their roles. People see only the organisations they "
	               "belong to.",
	.commands = tenant_commands,
};
