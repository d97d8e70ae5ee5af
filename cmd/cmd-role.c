/* aiplat role: roles and permissions (seed 003 3.2.6-3.2.8). */
#include "commands.h"

#define END_OPTIONS { NULL, 0, 0, NULL, NULL, NULL, 0 }

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

const struct cli_command cmd_role_list = {
	"role", "list", NULL, "list roles and what they grant",
	"Lists the system roles (admin, user, viewer) and the current organisation's (--org) "
	"custom roles with their permissions.",
	NULL, 0, 0, CMD_NEED_DB, role_list, NULL
};
const struct cli_command cmd_role_permissions = {
	"role", "permissions", NULL, "list every permission",
	"Lists the permissions a role can grant, as resource:action.",
	NULL, 0, 0, CMD_NEED_DB, role_permissions, NULL
};
const struct cli_command cmd_role_create = {
	"role", "create", "NAME", "create a custom role",
	"Creates a role in the current organisation (--org; needs roles:manage). Without --org, "
	"the platform and superadmins create a system role. Custom roles cannot reuse a system "
	"role's name.",
	create_options, 1, 1, CMD_NEED_DB, role_create, NULL
};
const struct cli_command cmd_role_grant = {
	"role", "grant", "ROLE PERMISSION...", "grant permissions to a role",
	"PERMISSION is resource:action (see `aiplat role permissions`). Custom roles need "
	"roles:manage in their organisation; system roles are changed by superadmins only. The "
	"database's permission check (aiplat.has_permission) reads these grants, so they apply "
	"to every client.",
	NULL, 2, -1, CMD_NEED_DB, role_grant, NULL
};
const struct cli_command cmd_role_revoke = {
	"role", "revoke", "ROLE PERMISSION...", "revoke permissions from a role",
	"The opposite of `aiplat role grant`.",
	NULL, 2, -1, CMD_NEED_DB, role_revoke, NULL
};
