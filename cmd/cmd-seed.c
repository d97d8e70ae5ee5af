/* aiplat seed: reference and demonstration data. */
#include <stdlib.h>
#include "cli.h"

static int seed(struct cli_ctx *ctx)
{
	aiplat_table *summary;
	if (aiplat_seed(ctx->db, cli_flag(ctx, "demo"), &summary) != 0)
		return cli_fail(ctx);
	long total = 0;
	for (size_t r = 0; r < aiplat_table_nrows(summary); r++)
		total += atol(aiplat_table_cell(summary, r, 1));
	int rc = cli_print_table(ctx, summary);
	aiplat_table_free(summary);
	if (!rc)
		cli_info(ctx, total ? "seeded %ld rows" : "nothing to seed: everything is already there",
		         total);
	return rc;
}

static const struct cli_option seed_options[] = {
	{ "demo", 0, OPT_FLAG, NULL,
	  "also load demonstration organisations, people and model settings", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

static const struct cli_command seed_commands[] = {
	{
		.name = "seed",
		.summary = "load reference data (and demo data with --demo)",
		.description = "Loads plans, organisation types, permissions, the admin/user/viewer roles and the six "
		               "sample system models; with --demo also organisations of several types and plans with "
		               "their admins, users and viewers. Idempotent: a second run inserts nothing. Runs in one "
		               "transaction; prints rows inserted per table.",
		.options = seed_options,
		.flags = CMD_NEED_DB,
		.run = seed,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_seed = {
	.commands = seed_commands,
};
