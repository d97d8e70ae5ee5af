/* aiplat model: the system model catalogue and its admin and user views. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "output.h"

/* ---- building a document from flags ------------------------------------------- */

/* "a,b, c" -> ["a","b","c"]; "" or "all" -> [] (every organisation type). */
static json_t *split_list(const char *s, bool all_means_empty)
{
	json_t *arr = json_array();
	if (all_means_empty && !strcmp(s, "all"))
		return arr;
	char *copy = strdup(s), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n && tok[n - 1] == ' ')
			tok[--n] = '\0';
		if (n)
			json_array_append_new(arr, json_string(tok));
	}
	free(copy);
	return arr;
}

static int bad_value(struct cli_ctx *ctx, const char *opt, const char *why)
{
	aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "--%s: %s", opt, why);
	return cli_fail(ctx);
}

static int parse_json_arg(struct cli_ctx *ctx, const char *opt, const char *text, json_t **out)
{
	json_error_t err;
	*out = json_loads(text, JSON_DECODE_ANY, &err);
	if (!*out) {
		char why[300];
		snprintf(why, sizeof(why), "not valid JSON (%s, line %d column %d)", err.text, err.line,
		         err.column);
		return bad_value(ctx, opt, why);
	}
	return 0;
}

/* Adds the fields given as flags to doc (flags win over --from-file). */
static int flags_to_document(struct cli_ctx *ctx, json_t *doc)
{
	static const struct { const char *opt, *key; } strings[] = {
		{ "name", "name" }, { "role", "role" }, { "description", "description" },
		{ "icon", "icon" }, { "provider", "provider" }, { "provider-model", "provider_model" },
		{ "endpoint", "endpoint" }, { "system-message", "system_message" },
		{ "plan", "required_plan" },
	};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const char *v = cli_opt(ctx, strings[i].opt);
		if (v)
			json_object_set_new(doc, strings[i].key, json_string(v));
	}
	static const struct { const char *opt, *key; } ints[] = {
		{ "max-tokens", "max_tokens" }, { "amount", "token_limit_amount" },
		{ "trial-days", "trial_expires_days" }, { "sort-order", "sort_order" },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (cli_opt(ctx, ints[i].opt))
			json_object_set_new(doc, ints[i].key, json_integer(cli_opt_int(ctx, ints[i].opt, 0)));
	static const struct { const char *opt, *key; } nums[] = {
		{ "price-input", "price_input_per_mtok" }, { "price-output", "price_output_per_mtok" },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		const char *v = cli_opt(ctx, nums[i].opt);
		if (!v)
			continue;
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (errno || *end || end == v || !isfinite(d) || d < 0)
			return bad_value(ctx, nums[i].opt, "must be a number of US dollars, zero or more");
		json_object_set_new(doc, nums[i].key, json_real(d));
	}
	static const struct { const char *on, *off, *key; } bools[] = {
		{ "free", "no-free", "is_free" }, { "trial", "no-trial", "is_trial" },
		{ "active", "inactive", "is_active" }, { "featured", "no-featured", "is_featured" },
	};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		bool on = cli_flag(ctx, bools[i].on), off = cli_flag(ctx, bools[i].off);
		if (on && off)
			return cli_usage_error(ctx, NULL, "--%s and --%s contradict each other", bools[i].on,
			                       bools[i].off);
		if (on || off)
			json_object_set_new(doc, bools[i].key, json_boolean(on));
	}
	const char *period = cli_opt(ctx, "period");
	if (period && !strcmp(period, "none")) {
		json_object_set_new(doc, "token_limit_period", json_null());
		json_object_set_new(doc, "token_limit_amount", json_null());
	} else if (period) {
		json_object_set_new(doc, "token_limit_period", json_string(period));
	}
	if (cli_opt(ctx, "types"))
		json_object_set_new(doc, "organization_types", split_list(cli_opt(ctx, "types"), true));
	if (cli_opt(ctx, "tags"))
		json_object_set_new(doc, "tags", split_list(cli_opt(ctx, "tags"), false));
	if (cli_opt(ctx, "tasks") && cli_opt(ctx, "tasks-file"))
		return cli_usage_error(ctx, NULL, "give --tasks or --tasks-file, not both");
	json_t *tasks = NULL;
	if (cli_opt(ctx, "tasks") && parse_json_arg(ctx, "tasks", cli_opt(ctx, "tasks"), &tasks))
		return CLI_EXIT_INVALID;
	if (cli_opt(ctx, "tasks-file")) {
		char *body = NULL;
		int rc = cli_read_text(ctx, cli_opt(ctx, "tasks-file"), &body);
		if (rc)
			return rc;
		rc = parse_json_arg(ctx, "tasks-file", body, &tasks);
		free(body);
		if (rc)
			return CLI_EXIT_INVALID;
	}
	if (tasks)
		json_object_set_new(doc, "tasks", tasks);
	if (cli_opt(ctx, "api-key") && cli_opt(ctx, "api-key-file"))
		return cli_usage_error(ctx, NULL, "give --api-key or --api-key-file, not both");
	const char *key = cli_opt(ctx, "api-key");
	if (key)
		json_object_set_new(doc, "api_key", !strcmp(key, "none") ? json_null() : json_string(key));
	if (cli_opt(ctx, "api-key-file")) {
		char *secret = NULL;
		int rc = cli_read_text(ctx, cli_opt(ctx, "api-key-file"), &secret);
		if (rc)
			return rc;
		json_object_set_new(doc, "api_key", json_string(secret));
		/* The copy in jansson is the one we keep; wipe ours. */
		memset(secret, 0, strlen(secret));
		free(secret);
	}
	return 0;
}

/* --from-file document (or {}) overlaid with the flags. */
static int build_document(struct cli_ctx *ctx, json_t **out)
{
	json_t *doc = NULL;
	const char *path = cli_opt(ctx, "from-file");
	if (path) {
		aiplat_buf b = AIPLAT_BUF_INIT;
		if (aiplat_buf_read_file(&b, path) != 0) {
			aiplat_buf_dispose(&b);
			return cli_fail(ctx);
		}
		json_error_t err;
		doc = json_loads(b.ptr, 0, &err);
		aiplat_buf_dispose(&b);
		if (!doc || !json_is_object(doc)) {
			json_decref(doc);
			aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
			                 "%s: not a JSON object (%s, line %d)", path,
			                 doc ? "an array or value" : err.text, err.line);
			return cli_fail(ctx);
		}
	} else {
		doc = json_object();
	}
	int rc = flags_to_document(ctx, doc);
	if (rc) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

/* ---- catalogue commands ------------------------------------------------------ */

static int model_create(struct cli_ctx *ctx)
{
	json_t *doc;
	int rc = build_document(ctx, &doc);
	if (rc)
		return rc;
	long long id;
	rc = aiplat_model_create(ctx->db, doc, &id);
	json_decref(doc);
	if (rc)
		return cli_fail(ctx);
	fprintf(ctx->out, "%lld\n", id);
	cli_info(ctx, "created model %lld", id);
	return 0;
}

static int model_update(struct cli_ctx *ctx)
{
	json_t *doc;
	int rc = build_document(ctx, &doc);
	if (rc)
		return rc;
	if (json_object_size(doc) == 0) {
		json_decref(doc);
		return cli_usage_error(ctx, "give fields as options or --from-file FILE",
		                       "model update: nothing to change");
	}
	long long id;
	rc = aiplat_model_update(ctx->db, ctx->nargs ? ctx->args[0] : NULL, doc, &id);
	json_decref(doc);
	if (rc)
		return cli_fail(ctx);
	cli_info(ctx, "updated model %lld", id);
	return 0;
}

static int model_delete(struct cli_ctx *ctx)
{
	if (aiplat_model_delete(ctx->db, ctx->args[0], cli_flag(ctx, "force")) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "deleted model %s", ctx->args[0]);
	return 0;
}

static int model_switch(struct cli_ctx *ctx, const char *field, bool on, const char *done)
{
	if (aiplat_model_set_switch(ctx->db, ctx->args[0], field, on) != 0)
		return cli_fail(ctx);
	cli_info(ctx, "%s %s", done, ctx->args[0]);
	return 0;
}

static int model_activate(struct cli_ctx *ctx) { return model_switch(ctx, "is_active", true, "activated"); }
static int model_deactivate(struct cli_ctx *ctx) { return model_switch(ctx, "is_active", false, "deactivated"); }
static int model_feature(struct cli_ctx *ctx) { return model_switch(ctx, "is_featured", true, "featured"); }
static int model_unfeature(struct cli_ctx *ctx) { return model_switch(ctx, "is_featured", false, "unfeatured"); }

static int print_owned(struct cli_ctx *ctx, aiplat_table *t, bool record)
{
	int rc = record ? cli_print_record(ctx, t) : cli_print_table(ctx, t);
	aiplat_table_free(t);
	return rc;
}

static int model_list(struct cli_ctx *ctx)
{
	if (cli_flag(ctx, "active") && cli_flag(ctx, "inactive"))
		return cli_usage_error(ctx, NULL, "--active and --inactive contradict each other");
	aiplat_model_filter f = AIPLAT_MODEL_FILTER_INIT;
	f.type = cli_opt(ctx, "type");
	f.plan = cli_opt(ctx, "plan");
	f.active = cli_flag(ctx, "active") ? 1 : cli_flag(ctx, "inactive") ? 0 : -1;
	f.featured = cli_flag(ctx, "featured");
	f.search = cli_opt(ctx, "search");
	f.sort = cli_opt(ctx, "sort");
	aiplat_table *t;
	if (aiplat_model_list(ctx->db, &f, &t) != 0)
		return cli_fail(ctx);
	return print_owned(ctx, t, false);
}

static int model_show(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_model_show(ctx->db, ctx->args[0], &t) != 0)
		return cli_fail(ctx);
	return print_owned(ctx, t, true);
}

/* ---- admin and user views ------------------------------------------------------- */

static int model_available(struct cli_ctx *ctx)
{
	aiplat_table *t;
	if (aiplat_org_model_available(ctx->db, cli_flag(ctx, "all"), &t) != 0)
		return cli_fail(ctx);
	return print_owned(ctx, t, false);
}

static int enable(struct cli_ctx *ctx, bool on, bool force)
{
	long affected = 0;
	if (aiplat_org_model_enable(ctx->db, ctx->args[0], on, force, &affected) != 0)
		return cli_fail(ctx);
	const char *org = aiplat_db_identity(ctx->db)->org_slug;
	if (on)
		cli_info(ctx, "enabled %s for the users of %s", ctx->args[0], org);
	else if (affected)
		cli_info(ctx, "disabled %s in %s (%ld user%s had used it this period)", ctx->args[0], org,
		         affected, affected == 1 ? "" : "s");
	else
		cli_info(ctx, "disabled %s in %s", ctx->args[0], org);
	return 0;
}

static int model_enable(struct cli_ctx *ctx) { return enable(ctx, true, false); }
static int model_disable(struct cli_ctx *ctx) { return enable(ctx, false, cli_flag(ctx, "force")); }

static int model_set_limit(struct cli_ctx *ctx)
{
	bool dflt = cli_flag(ctx, "default");
	const char *n = cli_opt(ctx, "per-user");
	if (dflt == (n != NULL))
		return cli_usage_error(ctx, "usage: aiplat model set-limit MODEL --per-user N | --default",
		                       "model set-limit: give --per-user N or --default");
	long long per_user = dflt ? 0 : cli_opt_int(ctx, "per-user", 0);
	if (!dflt && per_user <= 0) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                 "--per-user must be a positive number of tokens, not %lld", per_user);
		return cli_fail(ctx);
	}
	if (aiplat_org_model_set_limit(ctx->db, ctx->args[0], per_user) != 0)
		return cli_fail(ctx);
	if (dflt)
		cli_info(ctx, "%s: per-user limit back to the model's default", ctx->args[0]);
	else
		cli_info(ctx, "%s: per-user limit %lld tokens", ctx->args[0], per_user);
	return 0;
}

static int model_enabled(struct cli_ctx *ctx)
{
	/* The bar is for people reading a terminal. */
	bool bar = ctx->format == OUT_TABLE && isatty(fileno(ctx->out));
	aiplat_table *t;
	if (aiplat_org_model_enabled(ctx->db, bar, &t) != 0)
		return cli_fail(ctx);
	return print_owned(ctx, t, false);
}

/* ---- the table ----------------------------------------------------------------- */

static const char *const providers[] = { "openai", "anthropic", NULL };
static const char *const periods[] = { "daily", "weekly", "monthly", "none", NULL };
static const char *const sorts[] = { "sort_order", "name", "created", NULL };

#define FIELD_OPTIONS \
	{ "name", 0, OPT_STRING, "NAME", "display name (unique)", NULL, 0 }, \
	{ "role", 0, OPT_STRING, "ROLE", "machine name of the assistant's role, e.g. blog_content_writer", NULL, 0 }, \
	{ "description", 0, OPT_STRING, "TEXT", "what the model is for", NULL, 0 }, \
	{ "icon", 0, OPT_STRING, "ICON", "icon name or URL", NULL, 0 }, \
	{ "provider", 0, OPT_ENUM, "KIND", "openai (any OpenAI-compatible API) or anthropic", providers, 0 }, \
	{ "provider-model", 0, OPT_STRING, "MODEL", "model name sent to the provider, e.g. gpt-4o-mini", NULL, 0 }, \
	{ "endpoint", 0, OPT_STRING, "URL", "API base URL", NULL, 0 }, \
	{ "api-key", 0, OPT_STRING, "KEY", "env:NAME (read at call time), a literal key (encrypted with AIPLAT_SECRET_KEY) or none", NULL, 0 }, \
	{ "api-key-file", 0, OPT_PATH, "FILE", "read a literal key from FILE (- for stdin), keeping it off the command line", NULL, 0 }, \
	{ "max-tokens", 0, OPT_INT, "N", "maximum output tokens per call", NULL, 0 }, \
	{ "system-message", 0, OPT_STRING, "TEXT", "system prompt", NULL, 0 }, \
	{ "tasks", 0, OPT_STRING, "JSON", "predefined tasks: [{\"name\": ..., \"prompt\": ...}, ...]", NULL, 0 }, \
	{ "tasks-file", 0, OPT_PATH, "FILE", "read the tasks JSON from FILE", NULL, 0 }, \
	{ "types", 0, OPT_STRING, "LIST", "organisation types it targets, comma-separated; all for every type", NULL, 0 }, \
	{ "plan", 0, OPT_STRING, "PLAN", "lowest plan that may use it: free, starter, pro, enterprise", NULL, 0 }, \
	{ "period", 0, OPT_ENUM, "PERIOD", "per-user limit period: daily, weekly, monthly, or none", periods, 0 }, \
	{ "amount", 0, OPT_INT, "TOKENS", "per-user tokens per period", NULL, 0 }, \
	{ "free", 0, OPT_FLAG, NULL, "free: always allowed, never counted against quotas", NULL, 0 }, \
	{ "no-free", 0, OPT_FLAG, NULL, "not free", NULL, 0 }, \
	{ "trial", 0, OPT_FLAG, NULL, "a trial model (needs --trial-days)", NULL, 0 }, \
	{ "no-trial", 0, OPT_FLAG, NULL, "not a trial", NULL, 0 }, \
	{ "trial-days", 0, OPT_INT, "DAYS", "days a trial lasts after an organisation enables it", NULL, 0 }, \
	{ "active", 0, OPT_FLAG, NULL, "active (the default for new models)", NULL, 0 }, \
	{ "inactive", 0, OPT_FLAG, NULL, "inactive: hidden from organisations", NULL, 0 }, \
	{ "featured", 0, OPT_FLAG, NULL, "featured", NULL, 0 }, \
	{ "no-featured", 0, OPT_FLAG, NULL, "not featured", NULL, 0 }, \
	{ "tags", 0, OPT_STRING, "LIST", "tags, comma-separated", NULL, 0 }, \
	{ "sort-order", 0, OPT_INT, "N", "position in listings (smaller first)", NULL, 0 }, \
	{ "price-input", 0, OPT_STRING, "USD", "price per 1M input tokens", NULL, 0 }, \
	{ "price-output", 0, OPT_STRING, "USD", "price per 1M output tokens", NULL, 0 }, \
	{ "from-file", 'f', OPT_PATH, "FILE", "read the fields from a JSON document (- for stdin); options override it", NULL, 0 }

static const struct cli_option create_options[] = { FIELD_OPTIONS, END_OPTIONS };
static const struct cli_option delete_options[] = {
	{ "force", 0, OPT_FLAG, NULL, "delete even while organisations have it enabled", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option list_options[] = {
	{ "type", 0, OPT_STRING, "TYPE", "models targeting this organisation type (or every type)", NULL, 0 },
	{ "plan", 0, OPT_STRING, "PLAN", "models requiring exactly this plan", NULL, 0 },
	{ "active", 0, OPT_FLAG, NULL, "active models only", NULL, 0 },
	{ "inactive", 0, OPT_FLAG, NULL, "inactive models only", NULL, 0 },
	{ "featured", 0, OPT_FLAG, NULL, "featured models only", NULL, 0 },
	{ "search", 0, OPT_STRING, "TEXT", "in the name, role or tags (case-insensitive)", NULL, 0 },
	{ "sort", 0, OPT_ENUM, "KEY", "sort_order (default), name or created", sorts, 0 },
	END_OPTIONS
};
static const struct cli_option available_options[] = {
	{ "all", 0, OPT_FLAG, NULL, "also models the organisation may not use, with the reason", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option disable_options[] = {
	{ "force", 0, OPT_FLAG, NULL, "disable even though people used it this period", NULL, 0 },
	END_OPTIONS
};
static const struct cli_option limit_options[] = {
	{ "per-user", 0, OPT_INT, "TOKENS", "tokens per person per period (at most the organisation's monthly quota)", NULL, 0 },
	{ "default", 0, OPT_FLAG, NULL, "back to the model's own limit", NULL, 0 },
	END_OPTIONS
};

static const struct cli_command model_commands[] = {
	{
		.name = "create",
		.summary = "add a system model to the catalogue (superadmins)",
		.description = "Creates a model from options and/or a JSON document (--from-file; the format `model "
		               "show --format json` prints) and prints its id. Validated before anything is written "
		               "(exit 5): unknown plan or period, non-positive limits, tasks that are not an array of "
		               "objects with name and prompt, a period without an amount, a trial without days, a "
		               "duplicate name.",
		.options = create_options,
		.flags = CMD_NEED_DB,
		.run = model_create,
	},
	{
		.name = "update",
		.args = "[MODEL]",
		.summary = "change a system model (superadmins)",
		.description = "Changes the given fields of MODEL (an id or a name); with --from-file and no MODEL the "
		               "document's id says which, so `model show M --format json | model update --from-file -` "
		               "round-trips. A masked api_key (sk-...abcd) keeps the stored key.",
		.options = create_options,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_update,
	},
	{
		.name = "delete",
		.args = "MODEL",
		.summary = "remove a system model (superadmins)",
		.description = "Refuses (exit 1) while organisations have it enabled, unless --force; deactivating is "
		               "usually what you want.",
		.options = delete_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_delete,
	},
	{
		.name = "list",
		.summary = "list the catalogue",
		.description = "Superadmins and the platform see every model; an organisation's admins see the models "
		               "their organisation may use; its users the ones their admin enabled.",
		.options = list_options,
		.flags = CMD_NEED_DB,
		.run = model_list,
	},
	{
		.name = "show",
		.args = "MODEL",
		.summary = "show one model (its JSON document with --format json)",
		.description = "Shows every field. The API key appears only as env:NAME or a masked hint.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_show,
	},
	{
		.name = "activate",
		.args = "MODEL",
		.summary = "make a model available again",
		.description = "Superadmins only.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_activate,
	},
	{
		.name = "deactivate",
		.args = "MODEL",
		.summary = "hide a model from every organisation",
		.description = "Superadmins only. Organisations keep their settings for when it returns.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_deactivate,
	},
	{
		.name = "feature",
		.args = "MODEL",
		.summary = "mark a model featured",
		.description = "Superadmins only.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_feature,
	},
	{
		.name = "unfeature",
		.args = "MODEL",
		.summary = "unmark a featured model",
		.description = "Superadmins only.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_unfeature,
	},
	{
		.name = "available",
		.summary = "the models an organisation may use, and their status there",
		.description = "Admin view (needs --org): active models that target the organisation's type (or every "
		               "type) and whose plan its plan reaches, each with whether it is enabled, the per-user "
		               "limit and where it comes from, and trial days left.",
		.options = available_options,
		.flags = CMD_NEED_DB,
		.run = model_available,
	},
	{
		.name = "enable",
		.args = "MODEL",
		.summary = "let an organisation's users use a model",
		.description = "Needs --org and models:manage there (organisation admins). Refuses (exit 5) a model the "
		               "organisation may not use, saying why. A trial starts counting when first enabled.",
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_enable,
	},
	{
		.name = "disable",
		.args = "MODEL",
		.summary = "stop an organisation's users using a model",
		.description = "Needs --org and models:manage. When people used the model in the current period it "
		               "asks for --force (exit 1, saying how many).",
		.options = disable_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_disable,
	},
	{
		.name = "set-limit",
		.args = "MODEL",
		.summary = "set the per-user token limit in an organisation",
		.description = "Needs --org and models:manage. The limit must be positive and at most the "
		               "organisation's monthly quota; --default returns to the model's own limit.",
		.options = limit_options,
		.min_args = 1,
		.max_args = 1,
		.flags = CMD_NEED_DB,
		.run = model_set_limit,
	},
	{
		.name = "enabled",
		.summary = "the models a person may use, with this period's usage",
		.description = "User view (needs --org and a person: --as EMAIL or a mapped login role): each enabled "
		               "model, marked SYSTEM, with used/limit tokens for the current period, the time until it "
		               "resets, a usage bar on a terminal, and the seed's warning levels: approaching (80%), "
		               "almost (90%), reached (100%).",
		.flags = CMD_NEED_DB,
		.run = model_enabled,
	},
	{ .name = NULL },
};

const struct cli_group cli_group_model = {
	.name = "model",
	.summary = "the system model catalogue, and what organisations and people may use",
	.description = "Superadmins script the catalogue of system AI models: provider, endpoint, API key (kept "
	               "encrypted or as an env:NAME reference, never shown), targeted organisation types, "
	               "required plan, per-user limits, trials. Organisation admins enable available models and "
	               "set per-user limits; users see what is enabled, with their usage.",
	.commands = model_commands,
};
