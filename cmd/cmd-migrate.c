/* aiplat migrate: schema migrations. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int load_set(struct cli_ctx *ctx, aiplat_migration_set *set)
{
	const char *dir = cli_opt(ctx, "dir");
	int rc = dir ? aiplat_migration_set_load_dir(set, dir) : aiplat_migration_set_embedded(set);
	return rc ? cli_fail(ctx) : 0;
}

/* Progress reporting shared by the commands that change the schema. */
struct step_log {
	struct cli_ctx *ctx;
	long last_version;     /* version of the last migration applied or rolled back */
};

static void on_wait(void *data)
{
	struct cli_ctx *ctx = ((struct step_log *)data)->ctx;
	cli_info(ctx, "another migration run holds the lock; waiting (up to %gs)",
	         cli_opt_duration(ctx, "lock-timeout", 60.0));
}

static void on_step(const aiplat_migration *m, bool up, double seconds, void *data)
{
	struct step_log *log = data;
	log->last_version = m->version;
	cli_info(log->ctx, "%s %s (%.1f ms)", up ? "applied" : "rolled back", m->filename,
	         seconds * 1000.0);
}

static void init_opts(struct cli_ctx *ctx, aiplat_migrate_opts *o, struct step_log *log)
{
	aiplat_migrate_opts d = AIPLAT_MIGRATE_OPTS_INIT;
	*o = d;
	log->ctx = ctx;
	log->last_version = 0;
	o->lock_timeout_s = cli_opt_duration(ctx, "lock-timeout", 60.0);
	o->on_wait = on_wait;
	o->on_step = on_step;
	o->ctx = log;
}

static int migrate_up(struct cli_ctx *ctx)
{
	long to = cli_opt_int(ctx, "to", 0);
	if (cli_opt(ctx, "to") && to <= 0)
		return cli_usage_error(ctx, "versions are positive numbers",
		                       "migrate up: --to %ld is not a migration version", to);
	aiplat_migration_set set;
	int rc = load_set(ctx, &set);
	if (rc)
		return rc;
	aiplat_migrate_opts o;
	struct step_log log;
	init_opts(ctx, &o, &log);
	int applied = 0;
	rc = aiplat_migrate_up(ctx->db, &set, to, &o, &applied);
	if (rc) {
		if (applied)
			cli_info(ctx, "applied %d migration%s before the failure", applied,
			         applied == 1 ? "" : "s");
		rc = cli_fail(ctx);
	} else if (applied) {
		cli_info(ctx, "applied %d migration%s", applied, applied == 1 ? "" : "s");
	} else {
		cli_info(ctx, "nothing to apply: the database is up to date");
	}
	aiplat_migration_set_dispose(&set);
	return rc;
}

/* "all" or a positive count; -1 means all. */
static int parse_steps(struct cli_ctx *ctx, long *steps)
{
	*steps = 1;
	if (ctx->nargs == 0)
		return 0;
	const char *a = ctx->args[0];
	if (!strcmp(a, "all")) {
		*steps = -1;
		return 0;
	}
	char *end;
	long n = strtol(a, &end, 10);
	if (*end || n < 1)
		return cli_usage_error(ctx, "give a positive number of migrations, or \"all\"",
		                       "migrate down: \"%s\" is not a number of migrations", a);
	*steps = n;
	return 0;
}

static int migrate_down(struct cli_ctx *ctx)
{
	long steps;
	int rc = parse_steps(ctx, &steps);
	if (rc)
		return rc;
	aiplat_migration_set set;
	if ((rc = load_set(ctx, &set)) != 0)
		return rc;
	aiplat_migrate_opts o;
	struct step_log log;
	init_opts(ctx, &o, &log);
	int done = 0;
	rc = aiplat_migrate_down(ctx->db, &set, steps, &o, &done);
	if (rc)
		rc = cli_fail(ctx);
	else if (done)
		cli_info(ctx, "rolled back %d migration%s", done, done == 1 ? "" : "s");
	else
		cli_info(ctx, "nothing to roll back");
	aiplat_migration_set_dispose(&set);
	return rc;
}

static int migrate_redo(struct cli_ctx *ctx)
{
	aiplat_migration_set set;
	int rc = load_set(ctx, &set);
	if (rc)
		return rc;
	aiplat_migrate_opts o;
	struct step_log log;
	init_opts(ctx, &o, &log);
	int done = 0;
	rc = aiplat_migrate_down(ctx->db, &set, 1, &o, &done);
	if (!rc && !done)
		cli_info(ctx, "nothing to redo: no migration is applied");
	if (!rc && done)
		rc = aiplat_migrate_up(ctx->db, &set, log.last_version, &o, &done);
	if (rc)
		rc = cli_fail(ctx);
	aiplat_migration_set_dispose(&set);
	return rc;
}

static int migrate_status(struct cli_ctx *ctx)
{
	aiplat_migration_set set;
	int rc = load_set(ctx, &set);
	if (rc)
		return rc;
	aiplat_table *t;
	if (aiplat_migrate_status(ctx->db, &set, &t) != 0) {
		aiplat_migration_set_dispose(&set);
		return cli_fail(ctx);
	}
	rc = cli_print_table(ctx, t);
	bool outstanding = false;
	for (size_t r = 0; r < aiplat_table_nrows(t); r++)
		outstanding = outstanding || strcmp(aiplat_table_cell(t, r, 2), "applied") != 0;
	aiplat_table_free(t);
	aiplat_migration_set_dispose(&set);
	if (!rc && outstanding && cli_flag(ctx, "exit-code"))
		rc = CLI_EXIT_NEGATIVE;
	return rc;
}

static int migrate_verify(struct cli_ctx *ctx)
{
	aiplat_migration_set set;
	int rc = load_set(ctx, &set);
	if (rc)
		return rc;
	aiplat_table *problems = NULL;
	rc = aiplat_migrate_verify(ctx->db, &set, &problems);
	if (problems && aiplat_table_nrows(problems))
		cli_print_table(ctx, problems);
	if (rc)
		rc = cli_fail(ctx);
	else
		cli_info(ctx, "every applied migration matches its file");
	aiplat_table_free(problems);
	aiplat_migration_set_dispose(&set);
	return rc;
}

static int migrate_new(struct cli_ctx *ctx)
{
	const char *dir = cli_opt(ctx, "dir");
	char *path;
	if (aiplat_migration_new_file(&path, dir ? dir : "migrations", ctx->args[0]) != 0)
		return cli_fail(ctx);
	fprintf(ctx->out, "%s\n", path);
	free(path);
	return 0;
}

#define DIR_OPTION { "dir", 0, OPT_PATH, "DIR", \
	"read migrations from this directory instead of those built into aiplat", NULL, 0 }
#define LOCK_OPTION { "lock-timeout", 0, OPT_DURATION, "DURATION", \
	"how long to wait for another migration run (default 60s); exit 7 when it expires", NULL, 0 }

static const struct cli_option up_options[] = {
	{ "to", 0, OPT_INT, "VERSION", "apply only up to and including VERSION", NULL, 0 },
	DIR_OPTION, LOCK_OPTION, END_OPTIONS
};
static const struct cli_option down_options[] = { DIR_OPTION, LOCK_OPTION, END_OPTIONS };
static const struct cli_option status_options[] = {
	DIR_OPTION,
	{ "exit-code", 0, OPT_FLAG, NULL, "exit 1 when any migration is pending, changed or missing",
	  NULL, 0 },
	END_OPTIONS
};
static const struct cli_option verify_options[] = { DIR_OPTION, END_OPTIONS };
static const struct cli_option new_options[] = {
	{ "dir", 0, OPT_PATH, "DIR", "directory to create the file in (default: migrations)", NULL, 0 },
	END_OPTIONS
};

static const struct cli_command migrate_commands[] = {
	{
		.name = "up",
		.summary = "apply pending migrations",
		.description = "Applies every pending migration in version order, each in its own transaction with its "
		               "ledger row, so a failure leaves nothing of that migration behind. Refuses to start when "
		               "an applied migration's file has changed (exit 1). Waits for a concurrent run with a "
		               "try-lock loop rather than a blocking lock.",
		.options = up_options,
		.flags = CMD_NEED_DB,
		.run = migrate_up,
	},
	{
		.name = "down",
		.args = "[N|all]",
		.summary = "roll back the latest N migrations (default 1)",
		.description = "Runs the -- migrate:down sections of the most recently applied migrations, newest first, "
		               "each in its own transaction. Refuses when a file is missing, has no down section or has "
		               "changed since it was applied.",
		.options = down_options,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = migrate_down,
	},
	{
		.name = "status",
		.summary = "list migrations and whether each is applied",
		.description = "Lists every migration known to the files or the database: applied, pending, changed "
		               "(applied but the file's checksum differs) or missing (applied but no file has it).",
		.options = status_options,
		.flags = CMD_NEED_DB,
		.run = migrate_status,
	},
	{
		.name = "verify",
		.summary = "check applied migrations against their files",
		.description = "Compares the sha256 recorded for each applied migration with its file. Exits 1 and "
		               "names every changed file when any differs.",
		.options = verify_options,
		.flags = CMD_NEED_DB,
		.run = migrate_verify,
	},
	{
		.name = "new",
		.args = "NAME",
		.summary = "create the next numbered migration file",
		.description = "Writes DIR/NNNN_name.sql (the next free number) with empty up and down sections and "
		               "prints its path. Needs no database.",
		.options = new_options,
		.min_args = 1,
		.max_args = 1,
		.run = migrate_new,
	},
	{
		.name = "redo",
		.summary = "roll back the latest migration and apply it again",
		.description = "Rolls back the most recently applied migration and applies it again: a quick check "
		               "that its down section undoes its up section.",
		.options = down_options,
		.flags = CMD_NEED_DB,
		.run = migrate_redo,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_migrate = {
	.name = "migrate",
	.summary = "apply, roll back and inspect schema migrations",
	.description = "Migrations are files named NNNN_name.sql with -- migrate:up and -- migrate:down "
	               "sections. They are compiled into aiplat; --dir reads a directory instead. Each runs in "
	               "its own transaction (unless marked transaction:false) and is recorded with the sha256 "
	               "of its file in aiplat_meta.schema_migrations. Concurrent runs take turns on an advisory "
	               "lock.",
	.commands = migrate_commands,
};
