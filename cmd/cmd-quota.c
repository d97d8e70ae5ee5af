/* aiplat quota: decisions, reservations and the housekeeping job. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

static int print_record(struct cli_ctx *ctx, aiplat_table *t)
{
	int rc = cli_print_record(ctx, t);
	aiplat_table_free(t);
	return rc;
}

/* Each reads only the options of the commands that call it (a unit test
 * checks that handlers read nothing their command does not declare). */
static int read_who(struct cli_ctx *ctx, aiplat_quota_request *r)
{
	r->user = cli_opt(ctx, "user");
	r->model = cli_opt(ctx, "model");
	r->tokens = cli_opt_int(ctx, "tokens", 0);
	if (!r->model)
		return cli_usage_error(ctx, NULL, "--model is required");
	return 0;
}

/* consume: what was used, the way usage record takes it. */
static int read_record(struct cli_ctx *ctx, aiplat_quota_request *r)
{
	r->tokens_in = cli_opt_int(ctx, "tokens-in", -1);
	r->tokens_out = cli_opt_int(ctx, "tokens-out", -1);
	r->event_id = cli_opt(ctx, "event-id");
	r->latency_ms = (int)cli_opt_int(ctx, "latency-ms", -1);
	r->request_id = cli_opt(ctx, "request-id");
	if (!cli_opt(ctx, "tokens") && r->tokens_in >= 0)
		r->tokens = r->tokens_in + (r->tokens_out > 0 ? r->tokens_out : 0);
	if ((cli_opt(ctx, "tokens-in") && r->tokens_in < 0) ||
	    (cli_opt(ctx, "tokens-out") && r->tokens_out < 0))
		r->tokens = 0;   /* refused below, like a non-positive --tokens */
	return 0;
}

static int read_reserve(struct cli_ctx *ctx, aiplat_quota_request *r)
{
	r->ttl_s = cli_opt_duration(ctx, "ttl", 0);
	r->request_id = cli_opt(ctx, "request-id");
	return 0;
}

static int admit(struct cli_ctx *ctx, aiplat_quota_mode mode, aiplat_quota_request *r)
{
	if (r->tokens <= 0) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                 "--tokens must be a positive number of tokens");
		return cli_fail(ctx);
	}
	aiplat_quota_decision d;
	if (aiplat_quota_admit(ctx->db, mode, r, &d) != 0)
		return cli_fail(ctx);
	bool allowed = d.allowed;
	int rc = print_record(ctx, d.table);
	d.table = NULL;   /* print_record freed it */
	aiplat_quota_decision_dispose(&d);
	return rc ? rc : allowed ? 0 : CLI_EXIT_NEGATIVE;
}

static int quota_check(struct cli_ctx *ctx)
{
	aiplat_quota_request r = AIPLAT_QUOTA_REQUEST_INIT;
	int rc = read_who(ctx, &r);
	return rc ? rc : admit(ctx, AIPLAT_QUOTA_CHECK, &r);
}

static int quota_consume(struct cli_ctx *ctx)
{
	aiplat_quota_request r = AIPLAT_QUOTA_REQUEST_INIT;
	int rc = read_who(ctx, &r);
	if (!rc)
		rc = read_record(ctx, &r);
	return rc ? rc : admit(ctx, AIPLAT_QUOTA_CONSUME, &r);
}

static int quota_reserve(struct cli_ctx *ctx)
{
	aiplat_quota_request r = AIPLAT_QUOTA_REQUEST_INIT;
	int rc = read_who(ctx, &r);
	if (!rc)
		rc = read_reserve(ctx, &r);
	return rc ? rc : admit(ctx, AIPLAT_QUOTA_RESERVE, &r);
}

static int quota_settle(struct cli_ctx *ctx)
{
	long long tin = cli_opt_int(ctx, "tokens-in", -1), tout = cli_opt_int(ctx, "tokens-out", 0);
	if (cli_opt(ctx, "tokens"))
		tin = cli_opt_int(ctx, "tokens", 0) - (tout > 0 ? tout : 0);
	if (tin < 0 || tout < 0) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                 "settle needs the tokens used: --tokens N (or --tokens-in/--tokens-out)");
		return cli_fail(ctx);
	}
	aiplat_table *t;
	if (aiplat_quota_finish(ctx->db, ctx->args[0], true, tin, tout,
	                        (int)cli_opt_int(ctx, "latency-ms", -1), cli_opt(ctx, "request-id"), &t))
		return cli_fail(ctx);
	bool allowed = !strcmp(aiplat_table_cell(t, 0, 0), "t");
	const char *reason = aiplat_table_cell(t, 0, 1);
	const char *used = aiplat_table_cell(t, 0, 9), *limit = aiplat_table_cell(t, 0, 10);
	if (!allowed)
		cli_info(ctx, "not settled: %lld tokens would pass the %s (%s used besides this hold, of %s); "
		         "nothing was recorded, the hold stays until it is released or expires",
		         tin + tout, !strcmp(reason, "org_quota_exceeded") ? "organization's quota" :
		         "person's limit", used ? used : "?", limit ? limit : "?");
	else if (!strncmp(reason, "settled_over_", 13))
		cli_warn(ctx, "recorded %lld tokens, above the %s (%s used besides this hold, of %s)", tin + tout,
		         !strcmp(reason, "settled_over_quota") ? "organization's quota" : "person's limit",
		         used ? used : "?", limit ? limit : "?");
	int rc = print_record(ctx, t);
	return rc ? rc : allowed ? 0 : CLI_EXIT_NEGATIVE;
}

static int quota_release(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_quota_finish(ctx->db, ctx->args[0], false, -1, -1, -1, NULL, &t) != 0)
		return cli_fail(ctx);
	return print_record(ctx, t);
}

static long count_cell(aiplat_table *t, size_t col)
{
	const char *v = aiplat_table_cell(t, 0, col);
	return v ? atol(v) : 0;
}

static int quota_reset(struct cli_ctx *ctx)
{
	bool dry = cli_flag(ctx, "dry-run");
	aiplat_table *t;
	if (aiplat_quota_reset(ctx->db, dry, cli_opt_duration(ctx, "lock-timeout", 0), &t) != 0)
		return cli_fail(ctx);
	int rc = 0;
	if (ctx->format == OUT_JSON || ctx->format == OUT_NDJSON) {
		/* One line for log collectors. */
		rc = out_render(ctx->out, t, OUT_NDJSON, false);
	} else {
		fprintf(ctx->out,
		        "quota reset%s: rolled over %ld organization%s, expired %ld reservation%s, pruned %ld "
		        "counter%s, %ld event id%s and %ld partition%s, created %ld partition%s\n",
		        dry ? " (dry run)" : "", count_cell(t, 0), count_cell(t, 0) == 1 ? "" : "s",
		        count_cell(t, 1), count_cell(t, 1) == 1 ? "" : "s", count_cell(t, 2),
		        count_cell(t, 2) == 1 ? "" : "s", count_cell(t, 3), count_cell(t, 3) == 1 ? "" : "s",
		        count_cell(t, 4), count_cell(t, 4) == 1 ? "" : "s", count_cell(t, 5),
		        count_cell(t, 5) == 1 ? "" : "s");
	}
	aiplat_table_free(t);
	return rc;
}

#define WHO_OPTIONS \
	{ "user", 0, OPT_STRING, "EMAIL", "whose usage (default: the person acting, --as)", NULL, 0 }, \
	{ "model", 0, OPT_STRING, "MODEL", "the model, by name or id", NULL, 0 }, \
	{ "tokens", 0, OPT_INT, "N", "tokens asked for (consume: used)", NULL, 0 }
#define RECORD_OPTIONS \
	{ "tokens-in", 0, OPT_INT, "N", "input (prompt) tokens; with --tokens-out they make --tokens", NULL, 0 }, \
	{ "tokens-out", 0, OPT_INT, "N", "output (completion) tokens", NULL, 0 }, \
	{ "event-id", 0, OPT_STRING, "UUID", "idempotency key: the same id is recorded once", NULL, 0 }, \
	{ "latency-ms", 0, OPT_INT, "MS", "how long the call took", NULL, 0 }, \
	{ "request-id", 0, OPT_STRING, "ID", "the provider's request id", NULL, 0 }

static const struct cli_option check_options[] = { WHO_OPTIONS, END_OPTIONS };
static const struct cli_option consume_options[] = { WHO_OPTIONS, RECORD_OPTIONS, END_OPTIONS };
static const struct cli_option reserve_options[] = {
	WHO_OPTIONS,
	{ "ttl", 0, OPT_DURATION, "DURATION", "how long the hold lasts if never settled (default 10m)", NULL, 0 },
	{ "request-id", 0, OPT_STRING, "ID", "a request id to remember with it", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option settle_options[] = {
	{ "tokens", 0, OPT_INT, "N", "tokens actually used", NULL, 0 },
	{ "tokens-in", 0, OPT_INT, "N", "input tokens actually used", NULL, 0 },
	{ "tokens-out", 0, OPT_INT, "N", "output tokens actually used", NULL, 0 },
	{ "latency-ms", 0, OPT_INT, "MS", "how long the call took", NULL, 0 },
	{ "request-id", 0, OPT_STRING, "ID", "the provider's request id", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option reset_options[] = {
	{ "dry-run", 'n', OPT_FLAG, NULL, "count what would change, change nothing", NULL, 0 },
	{ "lock-timeout", 0, OPT_DURATION, "DURATION",
	  "wait this long for a running reset (default 0: exit 7 at once)", NULL, 0 },
	END_OPTIONS
};

#define DECISION_DOC \
	" Reasons: ok, model_free; or not_a_member, ai_disabled (the organisation's ai flag is off), " \
	"model_inactive, plan_insufficient, " \
	"model_not_enabled, trial_expired, rate_limited (the person's requests today reached the " \
	"daily limit: the plan's, or the flag ai.daily_requests), org_quota_exceeded, " \
	"user_limit_exceeded. The record " \
	"carries the deciding usage, limit and reset time, and the person's and the organisation's " \
	"figures (--format json for all of them). Exit 0 when allowed, 1 when denied."

static const struct cli_command quota_commands[] = {
	{
		.name = "check",
		.summary = "decide whether a person may use tokens, recording nothing",
		.description = "Runs the admission rules of the seeds in order (membership, the ai flag, the model's status, plan, "
		               "enablement and trial; the daily request limit; free models pass; then the organisation's "
		               "monthly quota and the "
		               "person's limit for the model's period, counting active reservations) and says why." DECISION_DOC,
		.options = check_options,
		.flags = CMD_NEED_DB,
		.run = quota_check,
	},
	{
		.name = "consume",
		.summary = "decide and record usage in one atomic step",
		.description = "Like check, and when allowed records the tokens in the same transaction: the event, the "
		               "person's counter, the organisation's monthly counter and the daily rollup. Locks are taken "
		               "in a fixed order, so concurrent callers can never pass a limit. --event-id makes retries "
		               "safe." DECISION_DOC,
		.options = consume_options,
		.flags = CMD_NEED_DB,
		.run = quota_consume,
	},
	{
		.name = "reserve",
		.summary = "hold tokens for a call whose size is known only afterwards",
		.description = "Decides like check and, when allowed, holds --tokens (the estimate) until the reservation "
		               "is settled, released or expires (--ttl). Held tokens count against every limit; expired "
		               "ones stop counting by themselves." DECISION_DOC,
		.options = reserve_options,
		.flags = CMD_NEED_DB,
		.run = quota_reserve,
	},
	{
		.name = "settle",
		.args = "RESERVATION",
		.summary = "record a reservation's real usage and free the rest",
		.description = "Records the tokens actually used and ends the reservation; a reservation is settled or "
		               "released once. Acting as a person, tokens above the hold are recorded only as far as the "
		               "person's limit and the organisation's quota still allow: beyond that the settle is refused "
		               "(exit 1, reason org_quota_exceeded or user_limit_exceeded, with the limit and its usage "
		               "besides this hold), nothing is recorded, and the hold stays until it is released or "
		               "expires. The platform (no --as) records the real numbers even above a limit, and says so "
		               "(reason settled_over_quota or settled_over_limit, and a warning).",
		.options = settle_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = quota_settle,
	},
	{
		.name = "release",
		.args = "RESERVATION",
		.summary = "free a reservation without recording usage",
		.description = "For calls that failed: the held tokens count no more.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = quota_release,
	},
	{
		.name = "reset",
		.summary = "housekeeping for cron: roll over, expire, prune, prepare",
		.description = "Rolls over organisations' monthly counters whose reset date passed, marks expired "
		               "reservations, prunes counters, remembered event ids and event partitions past the "
		               "retention settings, and creates this and next month's event partitions. Enforcement never "
		               "waits for it: counters roll over and reservations expire on their own. Idempotent; a "
		               "second run finds nothing to do. Exits 7 when another run holds the lock. Prints one line "
		               "(a JSON line with --format json).",
		.options = reset_options,
		.flags = CMD_NEED_DB,
		.run = quota_reset,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_quota = {
	.name = "quota",
	.summary = "decide, record and reserve token usage under the quotas",
	.description = "Every decision is one atomic step in the database: the organisation's row and the "
	               "person's counter are locked in a fixed order, checked and updated together, so no number "
	               "of concurrent callers can pass a limit. Periods (day, ISO week, month, in the "
	               "organisation's time zone) roll over by themselves; reservations expire by themselves.",
	.commands = quota_commands,
};
