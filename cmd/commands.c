/*
 * The command table: the groups, in the order help lists them, and the
 * global options. Each group's commands are defined in its cmd-<group>.c;
 * dispatch, help, completions and man pages all read them from here.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

const struct cli_option cli_global_options[] = {
	{ "db", 0, OPT_STRING, "URL",
	  "database to use (default: AIPLAT_DATABASE_URL, DATABASE_URL, the libpq environment, "
	  "then the running development cluster)", NULL, 0 },
	{ "format", 0, OPT_ENUM, "FORMAT",
	  "output format (default: table on a terminal, tsv otherwise; AIPLAT_FORMAT): "
	  "table, json, ndjson, csv, tsv; prometheus for usage report", out_format_names, 0 },
	{ "as", 0, OPT_STRING, "EMAIL",
	  "act as this person, under row-level security (default: AIPLAT_AS)", NULL, 0 },
	{ "org", 0, OPT_STRING, "SLUG", "work in this organisation (default: AIPLAT_ORG)", NULL, 0 },
	{ "quiet", 'q', OPT_FLAG, NULL, "print only results and errors", NULL, 0 },
	{ "verbose", 'v', OPT_FLAG, NULL, "say more about what happens (twice: even more)", NULL,
	  OPTF_REPEAT },
	{ "no-color", 0, OPT_FLAG, NULL, "never colour output (so does NO_COLOR)", NULL, 0 },
	{ "help", 'h', OPT_FLAG, NULL, "show help for aiplat or the command", NULL, 0 },
	{ "version", 0, OPT_FLAG, NULL, "show the version and the libraries in use", NULL, 0 },
	END_OPTIONS
};

/* Each defined in its cmd-<group>.c. */
extern const struct cli_group cli_group_dev, cli_group_migrate, cli_group_seed, cli_group_user,
	cli_group_tenant, cli_group_role, cli_group_model, cli_group_audit, cli_group_quota,
	cli_group_usage, cli_group_ai, cli_group_prompt, cli_group_flag, cli_group_cluster,
	cli_group_misc;

const struct cli_group *const cli_groups[] = {
	&cli_group_dev, &cli_group_migrate, &cli_group_seed, &cli_group_user, &cli_group_tenant,
	&cli_group_role, &cli_group_model, &cli_group_audit, &cli_group_quota, &cli_group_usage,
	&cli_group_ai, &cli_group_prompt, &cli_group_flag, &cli_group_cluster, &cli_group_misc,
	NULL
};

const struct cli_group *cli_find_group(const char *name)
{
	CLI_FOR_EACH_GROUP(g)
		if (!strcmp((*g)->name, name))
			return *g;
	return NULL;
}

const struct cli_command *cli_find_command(const char *group, const char *name)
{
	CLI_FOR_EACH_COMMAND(g, c) {
		bool same_group = group ? ((*g)->name && !strcmp((*g)->name, group)) : !(*g)->name;
		if (same_group && !strcmp(c->name, name))
			return c;
	}
	return NULL;
}

const char *cli_command_group(const struct cli_command *cmd)
{
	CLI_FOR_EACH_COMMAND(g, c)
		if (c == cmd)
			return (*g)->name;
	return NULL;
}

void cli_command_fullname(const struct cli_command *cmd, char *buf, size_t size)
{
	const char *group = cli_command_group(cmd);
	if (group)
		snprintf(buf, size, "%s %s", group, cmd->name);
	else
		snprintf(buf, size, "%s", cmd->name);
}
