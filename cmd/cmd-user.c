/* aiplat user: people, superadmins, login-role mapping. */
#include "cli.h"

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

static const struct cli_command user_commands[] = {
	{
		.name = "create",
		.args = "EMAIL",
		.summary = "create a person",
		.description = "Creates a user. Only the platform and superadmins create people; organisation admins "
		               "then add them to their organisation with `aiplat tenant add-member`.",
		.options = create_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = user_create,
	},
	{
		.name = "list",
		.summary = "list people and their memberships",
		.description = "Lists the people you may see: superadmins and the platform see everyone; others see "
		               "themselves and the members of their current organisation (--org).",
		.flags = CMD_NEED_DB,
		.run = user_list,
	},
	{
		.name = "show",
		.args = "EMAIL",
		.summary = "show one person",
		.description = "Shows a person, their memberships and (to the platform) their mapped login role.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = user_show,
	},
	{
		.name = "set-superadmin",
		.args = "EMAIL",
		.summary = "grant (or with --off revoke) platform superadmin",
		.description = "Superadmins manage the model catalogue and organisations and see every tenant. Only "
		               "superadmins and the platform may grant or revoke it.",
		.options = superadmin_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = user_set_superadmin,
	},
	{
		.name = "map-login",
		.args = "EMAIL [ROLE]",
		.summary = "bind a PostgreSQL login role to a person",
		.description = "A connection as the mapped login role is that person, whatever it sets: row-level "
		               "security applies to it, and it may act as someone else (--as) only when the person is a "
		               "superadmin. The role is granted aiplat_app. Only the platform itself (the schema owner, "
		               "without --as) may map roles; superusers and the owner cannot be mapped.",
		.options = map_options,
		.min_args = 1,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = user_map_login,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_user = {
	.name = "user",
	.summary = "manage people, superadmins and login-role mapping",
	.description = "People are users; a user may belong to several organisations with a role in each. "
	               "Superadmins operate the whole platform. A PostgreSQL login role can be mapped to a "
	               "person, so that connecting as that role is acting as that person under row-level "
	               "security, for any client.",
	.commands = user_commands,
};
