/* aiplat prompt: versioned prompts, global and per organisation. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

static int show(struct cli_ctx *ctx, int rc, aiplat_table *t, bool record)
{
	if (rc)
		return cli_fail(ctx);
	rc = record ? cli_print_record(ctx, t) : cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int prompt_set(struct cli_ctx *ctx)
{
	const char *file = cli_opt(ctx, "file");
	if (file && ctx->nargs == 2)
		return cli_usage_error(ctx, NULL, "give the text or --file, not both");
	if (!file && ctx->nargs < 2)
		return cli_usage_error(ctx, "aiplat prompt set KEY TEXT, or KEY - to read stdin, or --file PATH",
		                       "no prompt text");
	char *body = NULL;
	if (file || !strcmp(ctx->args[1], "-")) {
		if (cli_read_text(ctx, file ? file : "-", &body) != 0)
			return CLI_EXIT_INVALID;
	} else {
		body = strdup(ctx->args[1]);
	}
	aiplat_table *t = NULL;
	int rc = aiplat_prompt_set(ctx->db, ctx->args[0], body, cli_opt(ctx, "description"),
	                           cli_flag(ctx, "global"), &t);
	free(body);
	return show(ctx, rc, t, true);
}

static int prompt_get(struct cli_ctx *ctx)
{
	long version = cli_opt_int(ctx, "rev", 0);
	if (cli_opt(ctx, "rev") && version <= 0)
		return cli_usage_error(ctx, NULL, "--rev must be positive");
	aiplat_table *t = NULL;
	int rc = aiplat_prompt_get(ctx->db, ctx->args[0], (int)version, cli_flag(ctx, "global"), &t);
	if (!rc && cli_flag(ctx, "raw")) {
		/* Just the text, for scripts and pipes. */
		const char *body = aiplat_table_cell(t, 0, aiplat_table_ncols(t) - 1);
		fputs(body ? body : "", ctx->out);
		fputc('\n', ctx->out);
		aiplat_table_free(t);
		return 0;
	}
	return show(ctx, rc, t, true);
}

static int prompt_list(struct cli_ctx *ctx)
{
	aiplat_table *t = NULL;
	int rc = aiplat_prompt_list(ctx->db, &t);   /* before t is read */
	return show(ctx, rc, t, false);
}

static int prompt_history(struct cli_ctx *ctx)
{
	aiplat_table *t = NULL;
	int rc = aiplat_prompt_history(ctx->db, ctx->args[0], &t);
	return show(ctx, rc, t, false);
}

static const struct cli_option set_options[] = {
	{ "file", 0, OPT_PATH, "PATH", "read the text from a file", NULL, 0 },
	{ "description", 0, OPT_STRING, "TEXT", "what the prompt is for", NULL, 0 },
	{ "global", 0, OPT_FLAG, NULL, "the global prompt (superadmins), not the organisation's", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option get_options[] = {
	{ "rev", 0, OPT_INT, "N", "that version of it (default: the latest)", NULL, 0 },
	{ "global", 0, OPT_FLAG, NULL, "the global prompt, even where the organisation overrides it", NULL, 0 },
	{ "raw", 0, OPT_FLAG, NULL, "print only the text", NULL, 0 },
	END_OPTIONS
};

static const struct cli_command prompt_commands[] = {
	{
		.name = "set",
		.args = "KEY [TEXT | -]",
		.summary = "add a version of a prompt",
		.description = "Every change is a new version (1, 2, ...); older ones stay for history. With --org the "
		               "organisation's own version, which overrides the global prompt there (prompts:manage); with "
		               "--global the global one (superadmins). Keys are lower case: letters, digits, . _ -.",
		.options = set_options,
		.min_args = 1,
		.max_args = 2,
		.flags = CMD_NEED_DB,
		.run = prompt_set,
	},
	{
		.name = "get",
		.args = "KEY",
		.summary = "show a prompt as the organisation sees it",
		.description = "The organisation's own latest version where it has one, else the global one; "
		               "--rev N for an older one, --raw for the text alone.",
		.options = get_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = prompt_get,
	},
	{
		.name = "list",
		.summary = "the prompts in effect, and where they come from",
		.description = "One row per key: the version in effect, its scope (global or tenant) and whether the "
		               "organisation's version overrides a global one.",
		.flags = CMD_NEED_DB,
		.run = prompt_list,
	},
	{
		.name = "history",
		.args = "KEY",
		.summary = "every version of a prompt",
		.description = "The global versions, then the organisation's, with who wrote them and when.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = prompt_history,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_prompt = {
	.name = "prompt",
	.summary = "versioned prompts, global and per organisation",
	.description = "Prompts are stored by key; every change is a new version. An organisation's own version "
	               "overrides the global one for it. `ai complete --task KEY` uses them.",
	.commands = prompt_commands,
};
