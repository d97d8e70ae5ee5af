/*
 * The command table: every command aiplat knows, in the order help lists
 * them. Dispatch, help, completions and man pages all read this.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

static const char *const format_choices[] = { "table", "json", "ndjson", "csv", "tsv", NULL };

const struct cli_option cli_global_options[] = {
	{ "db", 0, OPT_STRING, "URL",
	  "database to use (default: AIPLAT_DATABASE_URL, DATABASE_URL, the libpq environment, "
	  "then the running development cluster)", NULL, 0 },
	{ "format", 0, OPT_ENUM, "FORMAT",
	  "output format: table, json, ndjson, csv or tsv (default: table on a terminal, tsv otherwise; "
	  "AIPLAT_FORMAT)", format_choices, 0 },
	{ "as", 0, OPT_STRING, "EMAIL",
	  "act as this person, under row-level security (default: AIPLAT_AS)", NULL, 0 },
	{ "org", 0, OPT_STRING, "SLUG", "work in this organisation (default: AIPLAT_ORG)", NULL, 0 },
	{ "quiet", 'q', OPT_FLAG, NULL, "print only results and errors", NULL, 0 },
	{ "verbose", 'v', OPT_FLAG, NULL, "say more about what happens (twice: even more)", NULL,
	  OPTF_REPEAT },
	{ "no-color", 0, OPT_FLAG, NULL, "never colour output (so does NO_COLOR)", NULL, 0 },
	{ "help", 'h', OPT_FLAG, NULL, "show help for aiplat or the command", NULL, 0 },
	{ "version", 0, OPT_FLAG, NULL, "show the version and the libraries in use", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

const struct cli_group cli_groups[] = {
	{ "dev", "run the development database on this machine",
	  "Manage a private PostgreSQL cluster under ${XDG_DATA_HOME:-~/.local/share}/aiplat, "
	  "listening only on a unix socket that nobody else can reach. It is the database aiplat "
	  "uses when no other is configured. Run as root, the server runs as an unprivileged "
	  "account (AIPLAT_SERVER_USER, else postgres, else nobody)." },
	{ "migrate", "apply, roll back and inspect schema migrations",
	  "Migrations are files named NNNN_name.sql with -- migrate:up and -- migrate:down "
	  "sections. They are compiled into aiplat; --dir reads a directory instead. Each runs in "
	  "its own transaction (unless marked transaction:false) and is recorded with the sha256 "
	  "of its file in aiplat_meta.schema_migrations. Concurrent runs take turns on an advisory "
	  "lock." },
	{ NULL, NULL, NULL }
};

const struct cli_command *const cli_commands[] = {
	&cmd_dev_start, &cmd_dev_stop, &cmd_dev_status, &cmd_dev_url, &cmd_dev_psql,
	&cmd_migrate_up, &cmd_migrate_down, &cmd_migrate_status, &cmd_migrate_verify,
	&cmd_migrate_new, &cmd_migrate_redo,
	&cmd_seed,
	&cmd_completion, &cmd_help, &cmd_version, &cmd_gen_docs,
	NULL
};

const struct cli_group *cli_find_group(const char *name)
{
	for (const struct cli_group *g = cli_groups; g->name; g++)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

const struct cli_command *cli_find_command(const char *group, const char *name)
{
	for (int i = 0; cli_commands[i]; i++) {
		const struct cli_command *c = cli_commands[i];
		bool same_group = group ? (c->group && !strcmp(c->group, group)) : c->group == NULL;
		if (same_group && !strcmp(c->name, name))
			return c;
	}
	return NULL;
}

void cli_command_fullname(const struct cli_command *cmd, char *buf, size_t size)
{
	if (cmd->group)
		snprintf(buf, size, "%s %s", cmd->group, cmd->name);
	else
		snprintf(buf, size, "%s", cmd->name);
}
