/* aiplat cluster: the distribution rules, and distributing the schema with Citus. */
#include "cli.h"

static int cluster_check(struct cli_ctx *ctx)
{
	aiplat_table *breaches = NULL;
	if (aiplat_cluster_check(ctx->db, &breaches) != 0)
		return cli_fail(ctx);
	size_t n = aiplat_table_nrows(breaches);
	int rc = 0;
	if (n) {
		rc = cli_print_table(ctx, breaches);
		cli_info(ctx, "%zu breach%s of the distribution rules", n, n == 1 ? "" : "es");
		rc = rc ? rc : CLI_EXIT_NEGATIVE;
	} else {
		cli_info(ctx, "every table follows the distribution rules");
	}
	aiplat_table_free(breaches);
	return rc;
}

static int cluster_distribute(struct cli_ctx *ctx)
{
	bool dry_run = cli_flag(ctx, "dry-run");
	aiplat_table *steps = NULL;
	if (aiplat_cluster_distribute(ctx->db, dry_run, &steps) != 0)
		return cli_fail(ctx);
	size_t done = 0;
	for (size_t r = 0; r < aiplat_table_nrows(steps); r++)
		done += aiplat_table_cell(steps, r, 3)[0] == 't';
	int rc = cli_print_table(ctx, steps);
	if (!rc)
		cli_info(ctx, dry_run ? "dry run: %zu of %zu steps done already, nothing changed"
		                      : "%zu of %zu steps in place",
		         done, aiplat_table_nrows(steps));
	aiplat_table_free(steps);
	return rc;
}

static const struct cli_option check_options[] = {
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

static const struct cli_option distribute_options[] = {
	{ "dry-run", 'n', OPT_FLAG, NULL, "say what would be done, change nothing", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

static const struct cli_command cluster_commands[] = {
	{
		.name = "check",
		.summary = "list what keeps the schema from being distributed",
		.description = "Reads the catalogue (no Citus needed) and prints one row per breach of the distribution "
		               "rules: a table without a class; a distributed table without organization_id NOT NULL in "
		               "its primary key and every unique constraint; a foreign key from a reference table to a "
		               "distributed one, between distributed tables without the organisation in the key, or "
		               "with SET NULL or SET DEFAULT on a key that includes the organisation; a policy with a "
		               "subquery or calling an SQL function that reads tables; a function that is not immutable "
		               "in an upsert's DO UPDATE SET; a trigger that creates or drops schemas, or that writes "
		               "other tables from a reference table without aiplat_internal.is_redundant_copy. Exits 1 "
		               "when there is any.",
		.options = check_options,
		.flags = CMD_NEED_DB,
		.run = cluster_check,
	},
	{
		.name = "distribute",
		.summary = "make every table what its class says, on a Citus coordinator",
		.description = "Run on a Citus coordinator (CREATE EXTENSION citus and the workers added), as the schema "
		               "owner, after migrate up. Converts the reference tables first and then the distributed "
		               "ones, by organization_id and co-located with aiplat.org_usage, each table after those it "
		               "refers to; lets aiplat_app log in (the coordinator connects to the workers as the current "
		               "role, and people act as aiplat_app); makes aiplat.quota_admit run on the worker that holds "
		               "its organisation; and lets the schema's functions run inside shard queries. Each step is "
		               "its own transaction and what is in place already is reported as such, so a run that "
		               "stopped half-way is finished by running it again. Refuses on a server without Citus "
		               "(exit 1) and when cluster check finds breaches (exit 1, nothing changed). Run it again "
		               "after a migrate up that adds tables or functions.",
		.options = distribute_options,
		.flags = CMD_NEED_DB,
		.run = cluster_distribute,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_cluster = {
	.name = "cluster",
	.summary = "beyond one machine: distribute the schema with Citus",
	.description = "Every table has a class, declared once in aiplat_internal.table_classes: reference (a "
	               "copy on every node: the catalogue, people, organisations, memberships, roles) or "
	               "distributed by organization_id (everything an organisation owns, co-located). check "
	               "holds the schema to the rules that make it distributable; distribute makes a Citus "
	               "coordinator's tables what their classes say.",
	.commands = cluster_commands,
};
