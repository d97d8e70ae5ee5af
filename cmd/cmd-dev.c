/* aiplat dev: the development database cluster. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static int locate(struct cli_ctx *ctx, aiplat_devcluster *dc)
{
	return aiplat_devcluster_locate(dc) ? cli_fail(ctx) : 0;
}

static int dev_start(struct cli_ctx *ctx)
{
	aiplat_devcluster dc;
	int rc = locate(ctx, &dc);
	if (rc)
		return rc;
	const char *opts[64];
	int n = cli_opt_all(ctx, "server-option", opts, 63);
	opts[n] = NULL;
	bool started;
	if (aiplat_devcluster_start(&dc, opts, &started) != 0)
		return cli_fail(ctx);
	char *url;
	if (aiplat_devcluster_url(&dc, &url) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s the development database in %s", started ? "started" : "already running:",
	         dc.datadir);
	cli_info(ctx, "connect with `aiplat dev psql`, or use %s", url);
	free(url);
	return 0;
}

static int dev_stop(struct cli_ctx *ctx)
{
	aiplat_devcluster dc;
	int rc = locate(ctx, &dc);
	if (rc)
		return rc;
	bool stopped;
	if (aiplat_devcluster_stop(&dc, &stopped) != 0)
		return cli_fail(ctx);
	cli_info(ctx, stopped ? "stopped the development database" : "the development database is not running");
	return 0;
}

static int dev_status(struct cli_ctx *ctx)
{
	aiplat_devcluster dc;
	int rc = locate(ctx, &dc);
	if (rc)
		return rc;
	pid_t pid = 0;
	aiplat_devcluster_state st = aiplat_devcluster_state_of(&dc, &pid);
	static const char *const names[] = { "absent", "stopped", "running" };
	char *url;
	if (aiplat_devcluster_url(&dc, &url) != 0)
		return cli_fail(ctx);
	char pidbuf[32];
	snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)pid);
	aiplat_table *t;
	if (aiplat_table_new(&t, 7) != 0) {
		free(url);
		return cli_fail(ctx);
	}
	aiplat_table_set_column(t, 0, "state", AIPLAT_COL_TEXT);
	aiplat_table_set_column(t, 1, "pid", AIPLAT_COL_INT);
	aiplat_table_set_column(t, 2, "data_directory", AIPLAT_COL_TEXT);
	aiplat_table_set_column(t, 3, "socket_directory", AIPLAT_COL_TEXT);
	aiplat_table_set_column(t, 4, "server_account", AIPLAT_COL_TEXT);
	aiplat_table_set_column(t, 5, "log", AIPLAT_COL_TEXT);
	aiplat_table_set_column(t, 6, "url", AIPLAT_COL_TEXT);
	const char *cells[7] = { names[st], st == AIPLAT_DEV_RUNNING ? pidbuf : NULL, dc.datadir,
	                         dc.sockdir, dc.server_user, dc.logfile, url };
	rc = aiplat_table_add_row(t, cells) ? cli_fail(ctx) : cli_print_record(ctx, t);
	aiplat_table_free(t);
	free(url);
	if (rc)
		return rc;
	return st == AIPLAT_DEV_RUNNING ? 0 : CLI_EXIT_NEGATIVE;
}

static int dev_url(struct cli_ctx *ctx)
{
	aiplat_devcluster dc;
	int rc = locate(ctx, &dc);
	if (rc)
		return rc;
	char *url;
	if (aiplat_devcluster_url(&dc, &url) != 0)
		return cli_fail(ctx);
	fprintf(ctx->out, "%s\n", url);
	free(url);
	return 0;
}

static int dev_psql(struct cli_ctx *ctx)
{
	aiplat_devcluster dc;
	int rc = locate(ctx, &dc);
	if (rc)
		return rc;
	if (aiplat_devcluster_state_of(&dc, NULL) != AIPLAT_DEV_RUNNING) {
		aiplat_error_set(AIPLAT_ECONNECT, AIPLAT_ERRCLASS_CONFIG,
		                 "the development database is not running");
		aiplat_error_hint("start it with `aiplat dev start`");
		return cli_fail(ctx);
	}
	char *url;
	if (aiplat_devcluster_url(&dc, &url) != 0)
		return cli_fail(ctx);
	char **argv = calloc((size_t)ctx->nargs + 3, sizeof(char *));
	if (!argv) {
		free(url);
		return CLI_EXIT_INTERNAL;
	}
	argv[0] = "psql";
	argv[1] = url;
	for (int i = 0; i < ctx->nargs; i++)
		argv[i + 2] = ctx->args[i];
	fflush(NULL);
	execvp("psql", argv);
	aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_OS, "cannot run psql: %s", strerror(errno));
	aiplat_error_hint("install the PostgreSQL client (apt-get install postgresql-client)");
	free(argv);
	free(url);
	return cli_fail(ctx);
}

static const struct cli_option start_options[] = {
	{ "server-option", 'c', OPT_STRING, "NAME=VALUE",
	  "a server setting for this start, e.g. fsync=off (repeatable)", NULL, OPTF_REPEAT },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

static const struct cli_command dev_commands[] = {
	{
		.name = "start",
		.summary = "initialise if needed and start the development database",
		.description = "Creates the cluster on first use (initdb, trust authentication over the private "
		               "socket), starts it and creates the aiplat database. Starting a running cluster does "
		               "nothing.",
		.options = start_options,
		.run = dev_start,
	},
	{
		.name = "stop",
		.summary = "stop the development database",
		.description = "Stops the server (fast shutdown). Stopping a stopped cluster does nothing.",
		.run = dev_stop,
	},
	{
		.name = "status",
		.summary = "say where the development database is and whether it runs",
		.description = "Prints the state (absent, stopped, running), process id, directories, server account "
		               "and connection URL. Exits 0 when running, 1 otherwise.",
		.run = dev_status,
	},
	{
		.name = "url",
		.summary = "print the development database's connection URL",
		.description = "Prints a libpq URL for the cluster's aiplat database, usable as --db or "
		               "AIPLAT_DATABASE_URL.",
		.run = dev_url,
	},
	{
		.name = "psql",
		.args = "[PSQL-ARGS...]",
		.summary = "open psql on the development database",
		.description = "Runs psql connected to the cluster's aiplat database; further arguments go to psql "
		               "unchanged (put -- first to pass psql its own --help).",
		.max_args = -1,
		.flags = CMD_PASSTHROUGH,
		.run = dev_psql,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_dev = {
	.name = "dev",
	.summary = "run the development database on this machine",
	.description = "Manage a private PostgreSQL cluster under ${XDG_DATA_HOME:-~/.local/share}/aiplat, "
	               "listening only on a unix socket that nobody else can reach. It is the database aiplat "
	               "uses when no other is configured. Run as root, the server runs as an unprivileged "
	               "account (AIPLAT_SERVER_USER, else postgres, else nobody).",
	.commands = dev_commands,
};
