/* aiplat completion, help, version, gen-docs. */
#include <string.h>
#include "commands.h"
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

const struct cli_command cmd_completion = {
	NULL, "completion", "bash|zsh|fish", "print a shell completion script",
	"Prints the completion script for the shell, generated from aiplat's command table. "
	"For bash: `source <(aiplat completion bash)`; zsh: put the output in a file named "
	"_aiplat on your $fpath; fish: `aiplat completion fish > "
	"~/.config/fish/completions/aiplat.fish`.",
	NULL, 1, 1, 0, completion, shells
};

const struct cli_command cmd_help = {
	NULL, "help", "[COMMAND...]", "show help for aiplat or a command",
	"Without arguments, lists every command and the global options; with a command (e.g. "
	"`aiplat help migrate up`), shows its usage and options.",
	NULL, 0, 2, 0, help, NULL
};

const struct cli_command cmd_version = {
	NULL, "version", NULL, "print the version",
	"Prints aiplat's version; --version also names the library versions.",
	NULL, 0, 0, 0, version, NULL
};

static const struct cli_option gen_docs_options[] = {
	{ "out", 0, OPT_PATH, "DIR", "directory to write man/ and completions/ into", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 }
};

const struct cli_command cmd_gen_docs = {
	NULL, "gen-docs", NULL, "regenerate man pages and completion scripts",
	"Writes man/aiplat.1, man/aiplat-<group>.1 and completions/ from the command table.",
	gen_docs_options, 0, 0, CMD_HIDDEN, gen_docs, NULL
};
