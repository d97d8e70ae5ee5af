/* aiplat ai: quota-enforced completions. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

/* Streamed pieces go straight to the terminal (or pipe). */
struct live {
	struct cli_ctx *ctx;
	bool open_line;            /* printed text that did not end with a newline */
};

static int print_piece(const char *text, size_t len, void *arg)
{
	struct live *l = arg;
	fwrite(text, 1, len, l->ctx->out);
	fflush(l->ctx->out);
	l->open_line = len > 0 && text[len - 1] != '\n';
	return ferror(l->ctx->out) ? 1 : 0;
}

/* The call as one record: --format json and friends. */
static int print_result(struct cli_ctx *ctx, const aiplat_complete_result *r)
{
	aiplat_table *t;
	if (aiplat_table_new(&t, 13) != 0)
		return cli_fail(ctx);
	static const struct { const char *name; aiplat_coltype type; } cols[] = {
		{ "text", AIPLAT_COL_TEXT }, { "model", AIPLAT_COL_TEXT }, { "provider", AIPLAT_COL_TEXT },
		{ "input_tokens", AIPLAT_COL_INT }, { "output_tokens", AIPLAT_COL_INT },
		{ "usage_estimated", AIPLAT_COL_BOOL }, { "cost_usd", AIPLAT_COL_NUMBER },
		{ "latency_ms", AIPLAT_COL_INT }, { "request_id", AIPLAT_COL_TEXT },
		{ "event_id", AIPLAT_COL_TEXT }, { "attempts", AIPLAT_COL_INT }, { "fell_back", AIPLAT_COL_BOOL },
		{ "cut", AIPLAT_COL_BOOL },
	};
	for (size_t c = 0; c < 13; c++)
		aiplat_table_set_column(t, c, cols[c].name, cols[c].type);
	char in[32], out[32], cost[32], lat[32], attempts[16];
	snprintf(in, sizeof(in), "%lld", r->input_tokens);
	snprintf(out, sizeof(out), "%lld", r->output_tokens);
	snprintf(cost, sizeof(cost), "%.6f", r->cost_usd);
	snprintf(lat, sizeof(lat), "%.0f", r->latency_ms);
	snprintf(attempts, sizeof(attempts), "%d", r->attempts);
	const char *cells[13] = { r->text ? r->text : "", r->model, r->provider, in, out,
	                          r->estimated ? "t" : "f", cost, lat,
	                          r->request_id[0] ? r->request_id : NULL, r->event_id[0] ? r->event_id : NULL,
	                          attempts, r->fell_back ? "t" : "f", r->cut ? "t" : "f" };
	int rc = aiplat_table_add_row(t, cells) ? cli_fail(ctx) : cli_print_record(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int ai_complete(struct cli_ctx *ctx)
{
	aiplat_complete_opts o = AIPLAT_COMPLETE_OPTS_INIT;
	o.model = cli_opt(ctx, "model");
	o.user = cli_opt(ctx, "user");
	o.task = cli_opt(ctx, "task");
	o.stream = cli_flag(ctx, "stream");
	o.json_mode = cli_flag(ctx, "json");
	o.max_tokens = cli_opt_int(ctx, "max-tokens", 0);
	o.timeout_s = cli_opt_duration(ctx, "timeout", 0);
	o.max_retries = (int)cli_opt_int(ctx, "retries", -1);
	o.fallback = cli_opt(ctx, "fallback");
	const char *vars[64];
	int nvars = cli_opt_all(ctx, "var", vars, 64);
	for (int i = 0; i < nvars; i++)
		if (!strchr(vars[i], '='))
			return cli_usage_error(ctx, NULL, "--var takes NAME=VALUE, not \"%s\"", vars[i]);
	o.vars = vars;
	o.nvars = (size_t)nvars;
	if (!o.model)
		return cli_usage_error(ctx, NULL, "--model is required");
	if (cli_opt(ctx, "max-tokens") && o.max_tokens <= 0)
		return cli_usage_error(ctx, NULL, "--max-tokens must be positive");
	char *input = NULL;
	if (ctx->nargs == 1) {
		if (!strcmp(ctx->args[0], "-")) {
			if (cli_read_text(ctx, "-", &input) != 0)
				return CLI_EXIT_INVALID;
		} else {
			input = strdup(ctx->args[0]);
		}
	}
	o.input = input;
	/* Streaming prints as it arrives; --format json wants the record at the end. */
	bool live = o.stream && (ctx->format == OUT_TABLE || ctx->format == OUT_TSV);
	struct live printed = { ctx, false };
	if (live) {
		o.on_text = print_piece;
		o.ctx = &printed;
	}
	aiplat_complete_result r;
	int rc = aiplat_ai_complete(ctx->db, &o, &r);
	free(input);
	if (rc == AIPLAT_ENEGATIVE && r.decision) {
		/* Denied before anything was sent: say why, and the figures. */
		if (ctx->format != OUT_TABLE && ctx->format != OUT_TSV)
			cli_print_record(ctx, r.decision);
		rc = cli_fail(ctx);
		const aiplat_table *d = r.decision;
		for (size_t c = 0; c < aiplat_table_ncols(d); c++) {
			const char *name = aiplat_table_column_name(d, c);
			if (!strcmp(name, "used") || !strcmp(name, "limit") || !strcmp(name, "resets_at"))
				cli_info(ctx, "%s: %s", name, aiplat_table_cell(d, 0, c) ? aiplat_table_cell(d, 0, c) : "none");
		}
		aiplat_complete_result_dispose(&r);
		return rc;
	}
	if (live && printed.open_line) {
		fputc('\n', ctx->out);   /* whatever happened, the answer's line ends */
		fflush(ctx->out);
	}
	if (rc == 0 || (rc == AIPLAT_EPROVIDER && r.text)) {
		if (ctx->format == OUT_TABLE || ctx->format == OUT_TSV) {
			if (!live && r.text) {
				fputs(r.text, ctx->out);
				if (r.text_len && r.text[r.text_len - 1] != '\n')
					fputc('\n', ctx->out);
			}
			fflush(ctx->out);
			if (ctx->verbosity > 0)
				cli_info(ctx, "%s via %s: %lld in, %lld out%s, $%.6f, %.0f ms, request %s", r.model,
				         r.provider, r.input_tokens, r.output_tokens, r.estimated ? " (estimated)" : "",
				         r.cost_usd, r.latency_ms, r.request_id[0] ? r.request_id : "-");
		} else if (rc == 0) {
			print_result(ctx, &r);
		}
	}
	if (r.over_limit)
		cli_warn(ctx, "the provider's usage (%lld tokens) was recorded above a limit of the person or "
		         "the organisation", r.input_tokens + r.output_tokens);
	if (r.capped)
		cli_warn(ctx, "the provider reported more than the limits allow; usage was settled at the "
		         "reservation (%lld tokens)", r.input_tokens + r.output_tokens);
	if (rc)
		rc = cli_fail(ctx);   /* library usage errors exit 2 there too */
	aiplat_complete_result_dispose(&r);
	return rc;
}

static const struct cli_option complete_options[] = {
	{ "model", 0, OPT_STRING, "MODEL", "the system model, by name or id", NULL, 0 },
	{ "task", 0, OPT_STRING, "NAME", "a stored prompt, or a task of the model, filled with the input", NULL, 0 },
	{ "var", 0, OPT_STRING, "NAME=VALUE", "a value for the task's {{NAME}} (repeatable)", NULL, OPTF_REPEAT },
	{ "user", 0, OPT_STRING, "EMAIL", "whose call (default: the person acting, --as)", NULL, 0 },
	{ "stream", 0, OPT_FLAG, NULL, "print the answer as it arrives", NULL, 0 },
	{ "json", 0, OPT_FLAG, NULL, "ask the model for a JSON object", NULL, 0 },
	{ "max-tokens", 0, OPT_INT, "N", "output tokens allowed (default: the model's)", NULL, 0 },
	{ "timeout", 0, OPT_DURATION, "DURATION", "per attempt (default 120s)", NULL, 0 },
	{ "retries", 0, OPT_INT, "N", "retries on 429, 5xx and 529 (default 3)", NULL, 0 },
	{ "fallback", 0, OPT_STRING, "MODEL", "a model tried once when the first is unavailable", NULL, 0 },
	END_OPTIONS
};

static const struct cli_command ai_commands[] = {
	{
		.name = "complete",
		.args = "[PROMPT | -]",
		.summary = "ask a model, within the quotas",
		.description = "Reserves the prompt estimate (bytes/4, plus 4 per message and 3) plus the output cap, calls "
		               "the model's provider (OpenAI-compatible or Anthropic; retries with backoff on 429, 5xx and "
		               "529, honouring Retry-After), then settles the reservation to the provider's reported usage "
		               "(one usage event with latency, cost and request id) or releases it when the call fails. A "
		               "denied reservation never reaches the provider (exit 1, with the reason). The ai feature flag "
		               "off refuses the call (exit 6); provider failures exit 4 with the provider's message and "
		               "request id. A stream cut short, or failing after it began, is settled at the reported input "
		               "(else the estimate) plus the output cap (exit 4). The provider's numbers are recorded as "
		               "they are, even above a limit (with a warning); connected as a mapped login role, the "
		               "person's own settle stays within the limits, and the reservation is settled instead. "
		               "AIPLAT_OPENAI_BASE_URL and AIPLAT_ANTHROPIC_BASE_URL override the endpoints.",
		.options = complete_options,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = ai_complete,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_ai = {
	.name = "ai",
	.summary = "ask models, within the quotas",
	.description = "Every call is reserved before it is sent and settled to the provider's usage after, in "
	               "the same quota engine as `quota`, so no call can pass a limit.",
	.commands = ai_commands,
};
