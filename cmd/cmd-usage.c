/* aiplat usage: record, import, report and show token usage. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "output.h"

/* ---- record ------------------------------------------------------------------------ */

static int usage_record(struct cli_ctx *ctx)
{
	aiplat_quota_request r = AIPLAT_QUOTA_REQUEST_INIT;
	r.user = cli_opt(ctx, "user");
	r.model = cli_opt(ctx, "model");
	r.tokens_in = cli_opt_int(ctx, "tokens-in", -1);
	r.tokens_out = cli_opt_int(ctx, "tokens-out", -1);
	r.event_id = cli_opt(ctx, "event-id");
	r.latency_ms = (int)cli_opt_int(ctx, "latency-ms", -1);
	r.request_id = cli_opt(ctx, "request-id");
	r.at = cli_opt(ctx, "at");
	if (!r.model)
		return cli_usage_error(ctx, NULL, "--model is required");
	if (r.tokens_in < 0 && r.tokens_out < 0)
		return cli_usage_error(ctx, NULL, "give the tokens: --tokens-in N and/or --tokens-out N");
	if (r.tokens_in < -1 || r.tokens_out < -1 ||
	    (cli_opt(ctx, "tokens-in") && r.tokens_in < 0) || (cli_opt(ctx, "tokens-out") && r.tokens_out < 0)) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "token counts cannot be negative");
		return cli_fail(ctx);
	}
	if (r.tokens_in < 0)
		r.tokens_in = 0;
	if (r.tokens_out < 0)
		r.tokens_out = 0;
	r.tokens = r.tokens_in + r.tokens_out;
	r.force = cli_flag(ctx, "force");
	aiplat_quota_decision d;
	if (aiplat_quota_admit(ctx->db, AIPLAT_QUOTA_RECORD, &r, &d) != 0)
		return cli_fail(ctx);
	aiplat_table *t = d.table;
	d.table = NULL;
	const char *reason = d.reason;
	if (!d.allowed) {
		/* Refused: said on stderr, the decision on stdout, nothing recorded. */
		cli_info(ctx, "not recorded: %s", reason);
		int rc = cli_print_record(ctx, t);
		aiplat_table_free(t);
		return rc ? rc : CLI_EXIT_NEGATIVE;
	}
	if (!strcmp(reason, "duplicate"))
		cli_info(ctx, "event %s was recorded before; nothing added", r.event_id);
	else if (r.force)
		cli_info(ctx, "recorded without the membership and model checks (audited as usage.record_forced)");
	/* The decision's limit columns say nothing about a record: keep the event's. */
	static const char *const drop[] = { "allowed", "used", "limit", "resets_at", "reservation_id" };
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		aiplat_table_drop_column(t, drop[i]);
	int rc = cli_print_record(ctx, t);
	aiplat_table_free(t);
	return rc;
}

/* ---- import ------------------------------------------------------------------------ */

struct progress {
	struct cli_ctx *ctx;
	struct timespec start;
	bool drawn;
};

static double since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int term_width(FILE *f)
{
	struct winsize ws;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	const char *cols = getenv("COLUMNS");
	return cols && atoi(cols) >= 20 ? atoi(cols) : 80;
}

/* "[#########.........]  45%  450,000 lines  38.2 MB/s" on one rewritten line. */
static void draw_progress(uint64_t done, uint64_t total, uint64_t lines, void *arg)
{
	struct progress *p = arg;
	FILE *f = p->ctx->err;
	double secs = since(&p->start);
	double rate = secs > 0 ? (double)done / secs / 1e6 : 0;
	char tail[96];
	snprintf(tail, sizeof(tail), "%llu lines  %.1f MB/s", (unsigned long long)lines, rate);
	if (total > 0) {
		int width = term_width(f) - (int)strlen(tail) - 10;
		if (width > 50)
			width = 50;
		if (width < 10)
			width = 10;
		int filled = (int)((double)done / (double)total * width);
		if (filled > width)
			filled = width;
		fputs("\r[", f);
		for (int i = 0; i < width; i++)
			fputc(i < filled ? '#' : '.', f);
		fprintf(f, "] %3d%%  %s\033[K", (int)((double)done * 100.0 / (double)total), tail);
	} else {
		fprintf(f, "\r%s\033[K", tail);
	}
	fflush(f);
	p->drawn = true;
}

static void print_import_errors(struct cli_ctx *ctx, const aiplat_import_result *res,
                                const char *path)
{
	size_t n = res->errors ? aiplat_table_nrows(res->errors) : 0;
	size_t show = ctx->verbosity > 0 ? n : (n < 20 ? n : 20);
	for (size_t i = 0; i < show; i++)
		fprintf(ctx->err, "%s:%s: %s\n", path, aiplat_table_cell(res->errors, i, 0),
		        aiplat_table_cell(res->errors, i, 1));
	if (res->invalid > show)
		fprintf(ctx->err, "... and %llu more (-v lists the first 1000)\n",
		        (unsigned long long)(res->invalid - show));
}

static int usage_import(struct cli_ctx *ctx)
{
	aiplat_import_opts o;
	memset(&o, 0, sizeof(o));
	o.path = ctx->args[0];
	o.skip_invalid = cli_flag(ctx, "skip-invalid");
	o.force = cli_flag(ctx, "force");
	o.default_org = aiplat_db_identity(ctx->db)->org_id[0] ? aiplat_db_identity(ctx->db)->org_id : NULL;
	o.batch_rows = (size_t)cli_opt_int(ctx, "batch-size", 0);
	const char *fmt = cli_opt(ctx, "input-format");
	o.format = !fmt ? AIPLAT_INPUT_AUTO : !strcmp(fmt, "csv") ? AIPLAT_INPUT_CSV : AIPLAT_INPUT_JSONL;
	struct progress p = { ctx, { 0, 0 }, false };
	clock_gettime(CLOCK_MONOTONIC, &p.start);
	if (ctx->verbosity >= 0 && isatty(fileno(ctx->err))) {
		o.progress = draw_progress;
		o.ctx = &p;
	}
	aiplat_import_result res;
	int rc = aiplat_usage_import(ctx->db, &o, &res);
	if (p.drawn)
		fputs("\r\033[K", ctx->err);
	const char *path = strcmp(o.path, "-") ? o.path : "stdin";
	print_import_errors(ctx, &res, path);
	if (rc && res.forcible)
		aiplat_error_hint("%llu of them only for the membership or model check: --force imports those "
		                  "anyway (audited)", (unsigned long long)res.forcible);
	if (rc) {
		rc = cli_fail(ctx);
		aiplat_import_result_dispose(&res);
		return rc;
	}
	char secs[32], rate[32];
	snprintf(secs, sizeof(secs), "%.3f", res.seconds);
	snprintf(rate, sizeof(rate), "%.0f", res.seconds > 0 ? (double)res.lines / res.seconds : 0);
	if (ctx->format == OUT_TABLE) {
		fprintf(ctx->out,
		        "imported %llu event%s from %s: %llu line%s, %llu duplicate%s skipped, "
		        "%llu invalid line%s skipped, %s s (%s lines/s)\n",
		        (unsigned long long)res.imported, res.imported == 1 ? "" : "s", path,
		        (unsigned long long)res.lines, res.lines == 1 ? "" : "s",
		        (unsigned long long)res.duplicates, res.duplicates == 1 ? "" : "s",
		        (unsigned long long)res.invalid, res.invalid == 1 ? "" : "s", secs, rate);
	} else {
		aiplat_table *t;
		char n[4][32];
		snprintf(n[0], sizeof(n[0]), "%llu", (unsigned long long)res.lines);
		snprintf(n[1], sizeof(n[1]), "%llu", (unsigned long long)res.imported);
		snprintf(n[2], sizeof(n[2]), "%llu", (unsigned long long)res.duplicates);
		snprintf(n[3], sizeof(n[3]), "%llu", (unsigned long long)res.invalid);
		static const char *const names[] = { "file", "lines", "imported", "duplicates", "invalid",
		                                     "seconds", "lines_per_second" };
		const char *cells[7] = { path, n[0], n[1], n[2], n[3], secs, rate };
		rc = aiplat_table_new(&t, 7);
		for (size_t c = 0; !rc && c < 7; c++)
			aiplat_table_set_column(t, c, names[c], c == 0 ? AIPLAT_COL_TEXT : AIPLAT_COL_NUMBER);
		if (!rc)
			rc = aiplat_table_add_row(t, cells);
		if (!rc)
			rc = cli_print_record(ctx, t);
		aiplat_table_free(t);
	}
	aiplat_import_result_dispose(&res);
	return rc;
}

/* ---- report ------------------------------------------------------------------------ */

static const struct out_metric report_metrics[] = {
	{ "aiplat_usage_tokens", "Tokens used in the report window.", "tokens_in", "direction", "in" },
	{ "aiplat_usage_tokens", "Tokens used in the report window.", "tokens_out", "direction", "out" },
	{ "aiplat_usage_requests", "Requests recorded in the report window.", "requests", NULL, NULL },
	{ "aiplat_usage_cost_usd", "Estimated cost in US dollars from the models' prices.", "cost_usd",
	  NULL, NULL },
};

static int print_report(struct cli_ctx *ctx, aiplat_table *t, const char *period)
{
	/* The key columns come first, then the five figures. */
	size_t nkeys = aiplat_table_ncols(t) - 5, keys[4];
	for (size_t i = 0; i < nkeys && i < 4; i++)
		keys[i] = i;
	if (ctx->format == OUT_PROMETHEUS) {
		const char *extra[] = { "period", period, NULL };
		return out_render_prometheus(ctx->out, t, report_metrics,
		                             sizeof(report_metrics) / sizeof(report_metrics[0]), keys, nkeys,
		                             period ? extra : NULL) ? cli_fail(ctx) : 0;
	}
	if (cli_flag(ctx, "chart")) {
		const char *lang = getenv("LC_ALL");
		if (!lang || !*lang)
			lang = getenv("LC_CTYPE");
		if (!lang || !*lang)
			lang = getenv("LANG");
		bool utf8 = out_utf8_locale_name(lang);
		return out_render_chart(ctx->out, t, keys, nkeys, nkeys + 2, term_width(ctx->out), utf8)
		       ? cli_fail(ctx) : 0;
	}
	return cli_print_table(ctx, t);
}

static int usage_report(struct cli_ctx *ctx)
{
	aiplat_report_opts o;
	memset(&o, 0, sizeof(o));
	o.user = cli_opt(ctx, "user");
	o.model = cli_opt(ctx, "model");
	o.since = cli_opt(ctx, "since");
	o.until = cli_opt(ctx, "until");
	o.period = cli_opt(ctx, "period");
	o.by = cli_opt(ctx, "by");
	o.top = cli_opt_int(ctx, "top", 0);
	if (cli_opt(ctx, "top") && o.top <= 0)
		return cli_usage_error(ctx, NULL, "--top must be a positive number");
	if (cli_flag(ctx, "chart") && ctx->format != OUT_TABLE)
		return cli_usage_error(ctx, NULL, "--chart draws on a terminal; it goes with --format table");
	/* Reports may read a replica: same identity, another server. */
	aiplat_db *db = ctx->db, *replica = NULL;
	const char *replica_url = cli_opt(ctx, "replica");
	if (replica_url) {
		if (aiplat_db_connect(&replica, replica_url, "aiplat usage report") != 0)
			return cli_fail(ctx);
		aiplat_db_set_identity(replica, aiplat_db_identity(ctx->db));
		db = replica;
	}
	aiplat_table *t;
	int rc = aiplat_usage_report(db, &o, &t);
	aiplat_db_close(replica);
	if (rc)
		return cli_fail(ctx);
	rc = print_report(ctx, t, o.period);
	aiplat_table_free(t);
	return rc;
}

/* ---- show -------------------------------------------------------------------------- */

static int usage_show(struct cli_ctx *ctx)
{
	bool bar = ctx->format == OUT_TABLE && isatty(fileno(ctx->out));
	aiplat_table *t;
	if (aiplat_usage_show(ctx->db, cli_opt(ctx, "user"), bar, &t) != 0)
		return cli_fail(ctx);
	int rc = cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

/* ---- the table ----------------------------------------------------------------------- */

static const char *const input_formats[] = { "csv", "jsonl", NULL };
static const char *const report_periods[] = { "day", "week", "month", NULL };

static const struct cli_option record_options[] = {
	{ "user", 0, OPT_STRING, "EMAIL", "whose usage (default: the person acting, --as)", NULL, 0 },
	{ "model", 0, OPT_STRING, "MODEL", "the model, by name or id", NULL, 0 },
	{ "tokens-in", 0, OPT_INT, "N", "input (prompt) tokens", NULL, 0 },
	{ "tokens-out", 0, OPT_INT, "N", "output (completion) tokens", NULL, 0 },
	{ "event-id", 0, OPT_STRING, "UUID", "idempotency key: the same event is recorded once", NULL, 0 },
	{ "latency-ms", 0, OPT_INT, "MS", "how long the call took", NULL, 0 },
	{ "request-id", 0, OPT_STRING, "ID", "the provider's request id", NULL, 0 },
	{ "at", 0, OPT_STRING, "TIMESTAMP", "when it happened (default: now), e.g. 2026-11-04T06:16:22Z",
	  NULL, 0 },
	{ "force", 0, OPT_FLAG, NULL,
	  "record even for a non-member or a model not for the organisation's type or plan (audited)", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option import_options[] = {
	{ "skip-invalid", 0, OPT_FLAG, NULL, "load the valid lines and report the others", NULL, 0 },
	{ "force", 0, OPT_FLAG, NULL,
	  "import events of non-members and of models not for the organisation's type or plan (audited)",
	  NULL, 0 },
	{ "input-format", 0, OPT_ENUM, "FORMAT",
	  "csv or jsonl (default: by the file's extension, else by its first character)", input_formats, 0 },
	{ "batch-size", 0, OPT_INT, "N", "events per COPY batch (default 100000)", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option report_options[] = {
	{ "user", 0, OPT_STRING, "EMAIL", "only this person's usage", NULL, 0 },
	{ "model", 0, OPT_STRING, "MODEL", "only this model's usage", NULL, 0 },
	{ "since", 0, OPT_STRING, "DAY", "from this local day on: YYYY-MM-DD, today, yesterday, 7d, 2w",
	  NULL, 0 },
	{ "until", 0, OPT_STRING, "DAY", "before this local day (exclusive)", NULL, 0 },
	{ "period", 0, OPT_ENUM, "PERIOD", "the current day, week or month (instead of --since/--until)",
	  report_periods, 0 },
	{ "by", 0, OPT_STRING, "KEYS", "group by org, model, user or day, or several: day,model (default model)",
	  NULL, 0 },
	{ "top", 0, OPT_INT, "N", "the N largest by tokens", NULL, 0 },
	{ "chart", 0, OPT_FLAG, NULL, "draw the tokens as a bar chart", NULL, 0 },
	{ "replica", 0, OPT_STRING, "URL", "read from this (read-only) server instead", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option show_options[] = {
	{ "user", 0, OPT_STRING, "EMAIL", "whose usage (default: the person acting, --as)", NULL, 0 },
	END_OPTIONS
};

static const struct cli_command usage_commands[] = {
	{
		.name = "record",
		.summary = "record usage that already happened",
		.description = "Records one event (the call was made): the event, the person's counter, the organisation's "
		               "monthly counter and the daily rollups, in one transaction. The platform (no --as) records "
		               "without limits, but only for a member of the organisation and a model meant for its type "
		               "and plan (else exit 1, reason not_a_member, type_not_targeted or plan_insufficient, nothing "
		               "recorded); --force records anyway and writes an audit row. A person's own record is decided "
		               "like quota consume (exit 1 when a limit would be passed) and takes no --at. --event-id "
		               "makes it idempotent: the same organisation, time and id are recorded once.",
		.options = record_options,
		.flags = CMD_NEED_DB,
		.run = usage_record,
	},
	{
		.name = "import",
		.args = "FILE|-",
		.summary = "load usage events in bulk from JSON lines or CSV",
		.description = "Fields (JSON keys or CSV header): event_id, occurred_at (with a zone), org, user, model, "
		               "tokens_in, tokens_out, latency_ms, request_id; org may be left out with --org. Loads through "
		               "COPY in one transaction: nothing is written unless every line is valid (each bad line is "
		               "named), or with --skip-invalid only the valid ones; events already recorded are skipped, so "
		               "importing a file twice adds nothing; counters and rollups change in the same transaction. "
		               "Every event needs tokens_in or tokens_out; an event id may appear once per organisation (a "
		               "repeat at the same time is skipped as a duplicate, at another time it is an invalid line). "
		               "The person must be a member of the event's organisation and the model meant for its type "
		               "and plan, unless --force (audited: one row per import). The platform's job (no --as). "
		               "Shows progress on a terminal. Exit 5 on invalid input.",
		.options = import_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = usage_import,
	},
	{
		.name = "report",
		.summary = "tokens, requests and cost, grouped and filtered",
		.description = "Totals from the daily rollups (never a scan of the raw events): tokens in and out, "
		               "requests and the cost estimate from the models' prices, by org, model, user or day. Days "
		               "are each organisation's local days. Admins see their organisation, people their own usage, "
		               "superadmins and the platform everything. --chart draws a bar chart; --format prometheus "
		               "writes gauges for a node exporter textfile.",
		.options = report_options,
		.flags = CMD_NEED_DB | CMD_PROMETHEUS,
		.run = usage_report,
	},
	{
		.name = "show",
		.summary = "a person's usage per model in the current periods",
		.description = "Used, reserved and limit for each model the person may use, the time until the period "
		               "resets and the warning level: approaching (80%), almost (90%), reached (100%). Seeing "
		               "someone else's needs usage:read_all.",
		.options = show_options,
		.flags = CMD_NEED_DB,
		.run = usage_show,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_usage = {
	.name = "usage",
	.summary = "record, import, report and show token usage",
	.description = "Usage events are append-only and partitioned by month; counters and daily rollups change "
	               "in the same transaction as the events, and reports read the rollups.",
	.commands = usage_commands,
};
