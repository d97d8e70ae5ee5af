/* aiplat role: roles and permissions (seed 003 3.2.6-3.2.8). */
#include "cli.h"

static int show(struct cli_ctx *ctx, int (*fn)(aiplat_db *, aiplat_table **))
{
	aiplat_table *t;
	if (fn(ctx->db, &t) != 0)
		return cli_fail(ctx);
	int rc = cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int role_list(struct cli_ctx *ctx) { return show(ctx, aiplat_role_list); }
static int role_permissions(struct cli_ctx *ctx) { return show(ctx, aiplat_role_permissions); }

static int role_create(struct cli_ctx *ctx)
{
	const char *perms[64];
	int n = cli_opt_all(ctx, "permission", perms, 64);
	if (aiplat_role_create(ctx->db, ctx->args[0], cli_opt(ctx, "description"), perms, n) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "created role %s", ctx->args[0]);
	return 0;
}

static int grant(struct cli_ctx *ctx, bool on)
{
	if (aiplat_role_grant(ctx->db, ctx->args[0], (const char *const *)ctx->args + 1,
	                      ctx->nargs - 1, on) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s %d permission%s %s %s", on ? "granted" : "revoked", ctx->nargs - 1,
	         ctx->nargs == 2 ? "" : "s", on ? "to" : "from", ctx->args[0]);
	return 0;
}

static int role_grant(struct cli_ctx *ctx) { return grant(ctx, true); }
static int role_revoke(struct cli_ctx *ctx) { return grant(ctx, false); }

static const struct cli_option create_options[] = {
	{ "description", 0, OPT_STRING, "TEXT", "what the role is for", NULL, 0 },
	{ "permission", 'p', OPT_STRING, "RESOURCE:ACTION", "a permission to grant (repeatable)", NULL,
	  OPTF_REPEAT },
	END_OPTIONS
};

static const struct cli_command role_commands[] = {
	{
		.name = "list",
		.summary = "list roles and what they grant",
		.description = "Lists the system roles (admin, user, viewer) and the current organisation's (--org) "
		               "custom roles with their permissions.",
		.flags = CMD_NEED_DB,
		.run = role_list,
	},
	{
		.name = "permissions",
		.summary = "list every permission",
		.description = "Lists the permissions a role can grant, as resource:action.",
		.flags = CMD_NEED_DB,
		.run = role_permissions,
	},
	{
		.name = "create",
		.args = "NAME",
		.summary = "create a custom role",
		.description = "Creates a role in the current organisation (--org; needs roles:manage). Without --org, "
		               "the platform and superadmins create a system role. Custom roles cannot reuse a system "
		               "role's name.",
		.options = create_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = role_create,
	},
	{
		.name = "grant",
		.args = "ROLE PERMISSION...",
		.summary = "grant permissions to a role",
		.description = "PERMISSION is resource:action (see `aiplat role permissions`). Custom roles need "
		               "roles:manage in their organisation; system roles are changed by superadmins only. The "
		               "database's permission check (aiplat.has_permission) reads these grants, so they apply "
		               "to every client.",
		.min_args = 2,
		.max_args = -1,
		.flags = CMD_NEED_DB,
		.run = role_grant,
	},
	{
		.name = "revoke",
		.args = "ROLE PERMISSION...",
		.summary = "revoke permissions from a role",
		.description = "The opposite of `aiplat role grant`.",
		.min_args = 2,
		.max_args = -1,
		.flags = CMD_NEED_DB,
		.run = role_revoke,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_role = {
	.name = "role",
	.summary = "manage roles and permissions",
	.description = "A role is a set of permissions (resource:action). The system roles admin, user and "
	               "viewer exist everywhere; organisations may add custom roles. Row-level security calls "
	               "the same permission check (aiplat.has_permission) for every client.",
	.commands = role_commands,
};
