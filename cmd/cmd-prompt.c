/* aiplat prompt: versioned prompts, global and per organisation. */
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "output.h"

#define END_OPTIONS { NULL, 0, 0, NULL, NULL, NULL, 0 }

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
			return AIPLAT_EXIT_INVALID;
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

const struct cli_command cmd_prompt_set = {
	"prompt", "set", "KEY [TEXT | -]", "add a version of a prompt",
	"Every change is a new version (1, 2, ...); older ones stay for history. With --org the "
	"organisation's own version, which overrides the global prompt there (prompts:manage); with "
	"--global the global one (superadmins). Keys are lower case: letters, digits, . _ -.",
	set_options, 1, 2, CMD_NEED_DB, prompt_set, NULL
};
const struct cli_command cmd_prompt_get = {
	"prompt", "get", "KEY", "show a prompt as the organisation sees it",
	"The organisation's own latest version where it has one, else the global one; "
	"--rev N for an older one, --raw for the text alone.",
	get_options, 1, 1, CMD_NEED_DB, prompt_get, NULL
};
const struct cli_command cmd_prompt_list = {
	"prompt", "list", NULL, "the prompts in effect, and where they come from",
	"One row per key: the version in effect, its scope (global or tenant) and whether the "
	"organisation's version overrides a global one.",
	NULL, 0, 0, CMD_NEED_DB, prompt_list, NULL
};
const struct cli_command cmd_prompt_history = {
	"prompt", "history", "KEY", "every version of a prompt",
	"The global versions, then the organisation's, with who wrote them and when.",
	NULL, 1, 1, CMD_NEED_DB, prompt_history, NULL
};
