/* aiplat tenant: organisations and their members. */
#include <stdlib.h>
#include "commands.h"

#define END_OPTIONS { NULL, 0, 0, NULL, NULL, NULL, 0 }

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

#define TENANT(name_, args_, min_, max_, summary_, desc_, opts_, fn_) \
	const struct cli_command cmd_tenant_##fn_ = { "tenant", name_, args_, summary_, desc_, \
		opts_, min_, max_, CMD_NEED_DB, tenant_##fn_, NULL }

TENANT("create", "SLUG", 1, 1, "create an organisation",
       "Creates an organisation (superadmins and the platform only). Type, plan and quota are "
       "checked against the known values; --admin adds its first admin.", create_options, create);
TENANT("list", NULL, 0, 0, "list organisations",
       "Lists the organisations you may see (yours; superadmins and the platform: all) with "
       "plan, effective monthly quota and this month's usage.", NULL, list);
TENANT("show", "SLUG", 1, 1, "show one organisation",
       "Shows an organisation's type, plan, effective quota and where it comes from, usage, "
       "reset date, time zone, members and enabled models.", NULL, show);
TENANT("set-plan", "SLUG PLAN", 2, 2, "change an organisation's pricing plan",
       "Superadmins only. The plan decides which models the organisation may use.", NULL,
       set_plan);
TENANT("set-type", "SLUG TYPE", 2, 2, "change an organisation's type",
       "Superadmins only. Models target organisation types.", NULL, set_type);
TENANT("set-quota", "SLUG TOKENS|default", 2, 2, "set the monthly token quota",
       "Superadmins only. \"default\" falls back to the plan's quota.", NULL, set_quota);
TENANT("set-timezone", "SLUG TZ", 2, 2, "set the time zone periods start in",
       "Days, weeks (from Monday) and months begin at local midnight in this IANA time zone. "
       "Admins of the organisation may change it.", NULL, set_timezone);
TENANT("rename", "SLUG NAME", 2, 2, "change an organisation's display name",
       "Admins of the organisation may rename it.", NULL, rename);
TENANT("add-member", "SLUG EMAIL", 2, 2, "add a person to an organisation",
       "Needs members:manage in the organisation (its admins). The person must exist "
       "(`aiplat user create`).", member_options, add_member);
TENANT("remove-member", "SLUG EMAIL", 2, 2, "remove a person from an organisation",
       "Needs members:manage. The last admin cannot be removed.", NULL, remove_member);
TENANT("set-role", "SLUG EMAIL ROLE", 3, 3, "change a member's role",
       "Needs members:manage. ROLE is admin, user, viewer or one of the organisation's custom "
       "roles. The last admin cannot be demoted.", NULL, set_role);
TENANT("members", "SLUG", 1, 1, "list an organisation's members",
       "Lists members with their roles (needs members:read).", NULL, members);
