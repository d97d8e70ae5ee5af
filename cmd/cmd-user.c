/* aiplat user: people, superadmins, login-role mapping. */
#include "commands.h"

#define END_OPTIONS { NULL, 0, 0, NULL, NULL, NULL, 0 }

static int user_create(struct cli_ctx *ctx)
{
	if (aiplat_user_create(ctx->db, ctx->args[0], cli_opt(ctx, "name"), cli_flag(ctx, "superadmin")))
		return cli_fail(ctx);
	cli_info(ctx, "created user %s", ctx->args[0]);
	return 0;
}

static int user_list(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_user_list(ctx->db, &t) != 0)
		return cli_fail(ctx);
	int rc = cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int user_show(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_user_show(ctx->db, ctx->args[0], &t) != 0)
		return cli_fail(ctx);
	int rc = cli_print_record(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int user_set_superadmin(struct cli_ctx *ctx)
{
	bool on = !cli_flag(ctx, "off");
	if (aiplat_user_set_superadmin(ctx->db, ctx->args[0], on) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s is %s a superadmin", ctx->args[0], on ? "now" : "no longer");
	return 0;
}

static int user_map_login(struct cli_ctx *ctx)
{
	bool remove = cli_flag(ctx, "remove");
	if (remove == (ctx->nargs == 2))
		return cli_usage_error(ctx, "usage: aiplat user map-login EMAIL ROLE | EMAIL --remove",
		                       "user map-login: give a login role, or --remove");
	const char *role = remove ? NULL : ctx->args[1];
	if (aiplat_user_map_login(ctx->db, ctx->args[0], role, cli_flag(ctx, "create")) != 0)
		return cli_fail(ctx);
	if (role)
		cli_info(ctx, "connections as role %s now act as %s", role, ctx->args[0]);
	else
		cli_info(ctx, "%s has no login role now", ctx->args[0]);
	return 0;
}

static const struct cli_option create_options[] = {
	{ "name", 0, OPT_STRING, "NAME", "display name", NULL, 0 },
	{ "superadmin", 0, OPT_FLAG, NULL, "make the person a platform superadmin", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option superadmin_options[] = {
	{ "off", 0, OPT_FLAG, NULL, "revoke superadmin instead of granting it", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option map_options[] = {
	{ "create", 0, OPT_FLAG, NULL, "create the login role when it does not exist", NULL, 0 },
	{ "remove", 0, OPT_FLAG, NULL, "unbind the person's login role", NULL, 0 },
	END_OPTIONS
};

const struct cli_command cmd_user_create = {
	"user", "create", "EMAIL", "create a person",
	"Creates a user. Only the platform and superadmins create people; organisation admins "
	"then add them to their organisation with `aiplat tenant add-member`.",
	create_options, 1, 1, CMD_NEED_DB, user_create, NULL
};
const struct cli_command cmd_user_list = {
	"user", "list", NULL, "list people and their memberships",
	"Lists the people you may see: superadmins and the platform see everyone; others see "
	"themselves and the members of their current organisation (--org).",
	NULL, 0, 0, CMD_NEED_DB, user_list, NULL
};
const struct cli_command cmd_user_show = {
	"user", "show", "EMAIL", "show one person",
	"Shows a person, their memberships and (to the platform) their mapped login role.",
	NULL, 1, 1, CMD_NEED_DB, user_show, NULL
};
const struct cli_command cmd_user_set_superadmin = {
	"user", "set-superadmin", "EMAIL", "grant (or with --off revoke) platform superadmin",
	"Superadmins manage the model catalogue and organisations and see every tenant. Only "
	"superadmins and the platform may grant or revoke it.",
	superadmin_options, 1, 1, CMD_NEED_DB, user_set_superadmin, NULL
};
const struct cli_command cmd_user_map_login = {
	"user", "map-login", "EMAIL [ROLE]", "bind a PostgreSQL login role to a person",
	"A connection as the mapped login role is that person, whatever it sets: row-level "
	"security applies to it, and it may act as someone else (--as) only when the person is a "
	"superadmin. The role is granted aiplat_app. Only the platform itself (the schema owner, "
	"without --as) may map roles; superusers and the owner cannot be mapped.",
	map_options, 1, 2, CMD_NEED_DB, user_map_login, NULL
};
