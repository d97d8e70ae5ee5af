/* aiplat completion, help, version, gen-docs. */
#include <string.h>
#include "cli.h"
#include "output.h"

static const char *const shells[] = { "bash", "zsh", "fish", NULL };

static int completion(struct cli_ctx *ctx)
{
	if (cli_generate_completion(ctx->out, ctx->args[0]) != 0)
		return cli_usage_error(ctx, "choose bash, zsh or fish",
		                       "no completion script for shell \"%s\"", ctx->args[0]);
	return 0;
}

static int help(struct cli_ctx *ctx)
{
	if (ctx->nargs == 0) {
		cli_print_overview(ctx->out);
		return 0;
	}
	const struct cli_group *g = cli_find_group(ctx->args[0]);
	const struct cli_command *c = NULL;
	if (g && ctx->nargs >= 2)
		c = cli_find_command(g->name, ctx->args[1]);
	else if (!g)
		c = cli_find_command(NULL, ctx->args[0]);
	if (c) {
		cli_print_command_help(ctx->out, c);
		return 0;
	}
	if (g && ctx->nargs == 1) {
		cli_print_group_help(ctx->out, g);
		return 0;
	}
	return cli_usage_error(ctx, "see `aiplat help` for the list of commands",
	                       "no help for \"%s%s%s\": no such command", ctx->args[0],
	                       ctx->nargs > 1 ? " " : "", ctx->nargs > 1 ? ctx->args[1] : "");
}

static int version(struct cli_ctx *ctx)
{
	fprintf(ctx->out, "aiplat %s\n", aiplat_version());
	return 0;
}

static int gen_docs(struct cli_ctx *ctx)
{
	const char *dir = cli_opt(ctx, "out");
	if (cli_generate_docs(dir ? dir : ".") != 0)
		return cli_fail(ctx);
	return 0;
}

static const struct cli_option gen_docs_options[] = {
	{ "out", 0, OPT_PATH, "DIR", "directory to write man/ and completions/ into", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

static const struct cli_command misc_commands[] = {
	{
		.name = "completion",
		.args = "bash|zsh|fish",
		.summary = "print a shell completion script",
		.description = "Prints the completion script for the shell, generated from aiplat's command table. "
		               "For bash: `source <(aiplat completion bash)`; zsh: put the output in a file named "
		               "_aiplat on your $fpath; fish: `aiplat completion fish > "
		               "~/.config/fish/completions/aiplat.fish`.",
		.min_args = 1,
		.max_args = 1,
		.run = completion,
		.arg_choices = shells,
	},
	{
		.name = "help",
		.args = "[COMMAND...]",
		.summary = "show help for aiplat or a command",
		.description = "Without arguments, lists every command and the global options; with a command (e.g. "
		               "`aiplat help migrate up`), shows its usage and options.",
		.max_args = 2,
		.run = help,
	},
	{
		.name = "version",
		.summary = "print the version",
		.description = "Prints aiplat's version; --version also names the library versions.",
		.run = version,
	},
	{
		.name = "gen-docs",
		.summary = "regenerate man pages and completion scripts",
		.description = "Writes man/aiplat.1, man/aiplat-<group>.1 and completions/ from the command table.",
		.options = gen_docs_options,
		.flags = CMD_HIDDEN,
		.run = gen_docs,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_misc = {
	.commands = misc_commands,
};
