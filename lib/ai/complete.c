/*
 * `aiplat ai complete`: a provider call with the quota engine around it.
 *
 *   1. the organisation's `ai` flag must not be off;
 *   2. the prompt is built (a stored prompt or a task of the model, filled
 *      with the input) and estimated;
 *   3. estimate + output cap is reserved: a denial ends here, before any
 *      request is sent;
 *   4. the model's provider settings and key are fetched for that
 *      reservation, and the provider is called (with retries);
 *   5. success settles the reservation to the provider's reported usage
 *      (one usage event: latency, cost, request id); a stream cut short
 *      or failing after it began, or an answer without usage, settles at
 *      the reported input (else the estimate) and the output cap; a
 *      failure before anything began releases it, and a fallback model,
 *      when given, is tried once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/ai.h"
#include "aiplat/buf.h"
#include "aiplat/config.h"
#include "aiplat/error.h"
#include "aiplat/log.h"
#include "aiplat/quota.h"

void aiplat_complete_result_dispose(aiplat_complete_result *r)
{
	free(r->text);
	aiplat_table_free(r->decision);
	memset(r, 0, sizeof(*r));
}

/* ---- templates -------------------------------------------------------------------------- */

static const char *var_value(const char *name, size_t n, const char *const *vars, size_t nvars)
{
	for (size_t i = 0; i < nvars; i++) {
		const char *eq = strchr(vars[i], '=');
		if (eq && (size_t)(eq - vars[i]) == n && !strncmp(vars[i], name, n))
			return eq + 1;
	}
	return NULL;
}

int aiplat_render_template(const char *tmpl, const char *input, const char *const *vars, size_t nvars,
                           char **out)
{
	aiplat_buf b = AIPLAT_BUF_INIT;
	aiplat_buf_puts(&b, "");
	bool placeholders = false;
	const char *p = tmpl;
	while (*p) {
		const char *open = strstr(p, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		if (!open || !close) {
			aiplat_buf_puts(&b, p);
			break;
		}
		aiplat_buf_put(&b, p, (size_t)(open - p));
		const char *name = open + 2;
		while (*name == ' ')
			name++;
		size_t n = (size_t)(close - name);
		while (n && name[n - 1] == ' ')
			n--;
		placeholders = true;
		const char *v = var_value(name, n, vars, nvars);
		if (!v)
			v = input;
		if (!v) {
			aiplat_buf_dispose(&b);
			aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "the task needs {{%.*s}}", (int)n, name);
			char var[128];
			snprintf(var, sizeof(var), "%.*s", (int)n, name);
			return aiplat_error_set_field("var", var);
		}
		aiplat_buf_puts(&b, v);
		p = close + 2;
	}
	if (!placeholders && input && *input) {
		aiplat_buf_puts(&b, "\n\n");
		aiplat_buf_puts(&b, input);
	}
	*out = aiplat_buf_detach(&b);
	return *out ? 0 : aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

/* ---- the steps --------------------------------------------------------------------------- */

/* The organisation (id) and person (email or id) the call is for. */
typedef struct call_target {
	const char *org;
	const char *user;
} call_target;

static int check_flag(aiplat_db *db, const char *org_id, const char *org_slug)
{
	const char *params[1] = { org_id };
	char *enabled = NULL;
	int rc = aiplat_db_query_value(db, &enabled, "SELECT enabled FROM aiplat.effective_flag($1::uuid, 'ai')",
	                               1, params);   /* in the caller's transaction */
	bool off = !rc && enabled && !strcmp(enabled, "f");
	free(enabled);
	if (rc)
		return rc;
	if (off) {
		aiplat_error_set(AIPLAT_EPERM, AIPLAT_ERRCLASS_ACCESS,
		                 "AI features are switched off for %s (feature flag ai)", org_slug);
		return aiplat_error_set_field("ai_flag", org_slug);
	}
	return 0;
}

/* The prompt: a stored prompt named by the task, else the model's task of that name. */
static int build_prompt(aiplat_db *db, const char *org_id, const aiplat_complete_opts *o,
                        const char *tasks_json, char **prompt)
{
	if (!o->task) {
		if (!o->input || !*o->input)
			return aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT,
			                        "no prompt: give it as an argument, or - to read stdin");
		*prompt = strdup(o->input);
		return *prompt ? 0 : aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	}
	const char *params[3] = { org_id, o->task, tasks_json };
	char *tmpl = NULL;
	int rc = aiplat_db_query_value_as(db, &tmpl,
		"SELECT coalesce((SELECT body FROM aiplat.effective_prompt($1::uuid, $2)),"
		"                (SELECT t ->> 'prompt' FROM jsonb_array_elements($3::jsonb) AS t"
		"                  WHERE lower(t ->> 'name') = lower($2) LIMIT 1))", 3, params);
	if (rc)
		return rc;
	if (!tmpl) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "no task or prompt \"%s\" for %s",
		                 o->task, o->model);
		return aiplat_error_set_field("task", o->model);
	}
	rc = aiplat_render_template(tmpl, o->input, o->vars, o->nvars, prompt);
	free(tmpl);
	return rc;
}

/* A refusal: the decision's table goes to the result, the reason to the error. */
static int denied(aiplat_complete_result *res, aiplat_quota_decision *d, const char *model)
{
	aiplat_table_free(res->decision);
	res->decision = d->table;
	d->table = NULL;
	aiplat_error_set(AIPLAT_ENEGATIVE, AIPLAT_ERRCLASS_QUOTA, "denied: %s (nothing was sent to %s)",
	                 d->reason[0] ? d->reason : "?", model);
	aiplat_quota_decision_dispose(d);
	return AIPLAT_ENEGATIVE;
}

/* Reserves; *reservation is set when allowed, result->decision when denied. */
static int reserve(aiplat_db *db, const call_target *t, const char *model, long long tokens, double ttl_s,
                   char reservation[40], aiplat_complete_result *res)
{
	aiplat_quota_request q = AIPLAT_QUOTA_REQUEST_INIT;
	q.org = t->org;
	q.user = t->user;
	q.model = model;
	q.tokens = tokens;
	q.ttl_s = ttl_s;
	aiplat_quota_decision d;
	int rc = aiplat_quota_admit(db, AIPLAT_QUOTA_RESERVE, &q, &d);
	if (rc)
		return rc;
	if (!d.allowed)
		return denied(res, &d, model);
	snprintf(reservation, 40, "%s", d.reservation_id);
	aiplat_quota_decision_dispose(&d);
	return 0;
}

/* For a model whose shape the caller may not see: the admission step's
 * reason when it denies the call, else "no model". */
static int explain_hidden(aiplat_db *db, const call_target *t, const char *model,
                          aiplat_complete_result *res)
{
	aiplat_quota_request q = AIPLAT_QUOTA_REQUEST_INIT;
	q.org = t->org;
	q.user = t->user;
	q.model = model;
	q.tokens = 1;
	aiplat_quota_decision d;
	int rc = aiplat_quota_admit(db, AIPLAT_QUOTA_CHECK, &q, &d);
	if (rc)
		return rc;
	if (d.allowed) {
		aiplat_quota_decision_dispose(&d);
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT, "no model \"%s\"", model);
	}
	return denied(res, &d, model);
}

/* The provider settings of the reserved model; strings live in *res_out (PQclear it). */
static int fetch_config(aiplat_db *db, const char *reservation, aiplat_provider_config *cfg,
                        PGresult **res_out, char **key_out)
{
	const char *params[2] = { reservation, aiplat_config_get()->secret_key };
	PGresult *r = NULL;
	int rc = aiplat_db_query_as(db, &r,
		"SELECT provider_kind, endpoint, provider_model, max_tokens, system_message, api_key_ref,"
		"       api_key, name"
		"  FROM aiplat.call_config($1::uuid, $2)", 2, params);
	if (rc)
		return rc;
	*res_out = r;
	/* Columns by name: the statement above says which. */
#define F(column) aiplat_db_field(r, 0, #column)
	int kind = aiplat_provider_kind_parse(F(provider_kind));
	if (kind < 0)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_CONFIG, "model %s has an unknown provider %s",
		                        F(name), F(provider_kind));
	cfg->kind = (aiplat_provider_kind)kind;
	cfg->endpoint = aiplat_provider_endpoint(cfg->kind, F(endpoint));
	cfg->model = F(provider_model) ? F(provider_model) : "";
	if (F(max_tokens))
		cfg->max_tokens = atol(F(max_tokens));
	cfg->system_message = F(system_message);
	*key_out = NULL;
	if (F(api_key)) {
		*key_out = strdup(F(api_key));
	} else if (F(api_key_ref) && !strncmp(F(api_key_ref), "env:", 4)) {
		const char *name = F(api_key_ref) + 4;
		const aiplat_config *conf = aiplat_config_get();
		const char *v = conf->resolve_key_ref ? conf->resolve_key_ref(name, conf->resolve_arg) : NULL;
		if (!v || !*v) {
			aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_CONFIG,
			                 "model %s takes its API key from %s, which is not set", F(name), name);
			aiplat_error_set_provider("auth", NULL);
			return AIPLAT_EPROVIDER;
		}
		*key_out = strdup(v);
	}
	cfg->api_key = *key_out;
	return 0;
#undef F
}

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

/*
 * Settles (or releases) the call's reservation. The provider's numbers are
 * the platform's to record: on the owner's connection (acting for someone
 * with --as) the settle runs as the platform, which records them even
 * above a limit. A mapped login role is the person itself, whose settle
 * stays within the limits; when that is refused, the reservation (which
 * admission let through) is settled in full instead, and *capped says so.
 */
static int finish(aiplat_db *db, const char *reservation, bool settle, long long tin, long long tout,
                  long long hold, int latency_ms, const char *request_id, aiplat_complete_result *res)
{
	bool platform = !aiplat_db_identity(db)->via_login_role;
	for (int attempt = 0; attempt < 2; attempt++) {
		char in[32], out[32], lat[32];
		snprintf(in, sizeof(in), "%lld", tin);
		snprintf(out, sizeof(out), "%lld", tout);
		snprintf(lat, sizeof(lat), "%d", latency_ms);
		const char *params[6] = { reservation, settle ? "true" : "false", settle ? in : NULL,
		                          settle ? out : NULL, settle ? lat : NULL,
		                          request_id && *request_id ? request_id : NULL };
		static const char sql[] =
			"SELECT allowed, reason, event_id, cost_micro_usd FROM aiplat.quota_finish($1::uuid,"
			"       $2::boolean, $3::bigint, $4::bigint, $5::integer, $6, 'ai')";
		PGresult *r = NULL;
		int rc = platform ? aiplat_db_query(db, &r, sql, 6, params)
		                  : aiplat_db_query_as(db, &r, sql, 6, params);
		if (rc)
			return rc;
		const char *ok = aiplat_db_field(r, 0, "allowed");
		bool allowed = PQntuples(r) == 1 && ok && !strcmp(ok, "t");
		if (settle && allowed) {
			const char *event = aiplat_db_field(r, 0, "event_id");
			const char *cost = aiplat_db_field(r, 0, "cost_micro_usd");
			const char *reason = aiplat_db_field(r, 0, "reason");
			snprintf(res->event_id, sizeof(res->event_id), "%s", event ? event : "");
			res->cost_usd = cost ? atof(cost) / 1e6 : 0;
			res->over_limit = reason && !strncmp(reason, "settled_over_", 13);
		}
		PQclear(r);
		if (allowed || !settle)
			return 0;
		/* Refused above the hold: the hold itself is always within the limits. */
		aiplat_log(AIPLAT_LOG_INFO, "the provider reported %lld tokens, more than the limits allow; "
		           "settling at the reservation (%lld)", tin + tout, hold);
		if (tin > hold)
			tin = hold;
		tout = hold - tin < tout ? hold - tin : tout;
		res->input_tokens = tin;
		res->output_tokens = tout;
		res->capped = true;
	}
	return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_QUOTA,
	                        "the reservation could not be settled at its own size");
}

/* Whether a failure may be worth trying another model for. */
static bool unavailable(const char *kind)
{
	static const char *const kinds[] = { "connect", "timeout", "rate_limited", "overloaded", "server_error" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

/* One attempt with one model: reserve, call, settle or release. */
static int call_model(aiplat_db *db, const call_target *t, const char *model, const aiplat_complete_opts *o,
                      const char *org_id, aiplat_complete_result *res)
{
	/* What the call will look like: its prompt, its size. */
	const char *params[1] = { model };
	PGresult *shape = NULL;
	int rc = aiplat_db_query_as(db, &shape,
		"SELECT model_id, name, max_tokens, system_message, tasks::text FROM aiplat.call_shape($1)",
		1, params);
	if (rc)
		return rc;
#define S(column) aiplat_db_field(shape, 0, #column)
	if (PQntuples(shape) != 1 || !S(model_id)) {
		/* A model the caller may not see: admission says why not (or that there is none). */
		PQclear(shape);
		return explain_hidden(db, t, model, res);
	}
	char *prompt = NULL;
	rc = build_prompt(db, org_id, o, S(tasks) ? S(tasks) : "[]", &prompt);
	if (rc) {
		PQclear(shape);
		return rc;
	}
	/* The model's output cap is the most a call may ask for. */
	long model_cap = S(max_tokens) ? atol(S(max_tokens)) : 0;
	if (o->max_tokens > 0 && model_cap > 0 && o->max_tokens > model_cap) {
		aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_INPUT,
		                 "max_tokens %ld is more than %s allows (%ld)", o->max_tokens,
		                 S(name) ? S(name) : model,
		                 model_cap);
		aiplat_error_set_field("max_tokens", NULL);
		PQclear(shape);
		free(prompt);
		return AIPLAT_EINVALID;
	}
	long max_tokens = o->max_tokens > 0 ? o->max_tokens : model_cap > 0 ? model_cap : 1024;
	aiplat_ai_message msg = { "user", prompt };
	long long estimate = aiplat_estimate_prompt_tokens(
		S(system_message), &msg, 1);
	snprintf(res->model, sizeof(res->model), "%s", S(name) ? S(name) : model);
#undef S
	PQclear(shape);

	aiplat_provider_config cfg = AIPLAT_PROVIDER_CONFIG_INIT;
	cfg.timeout_s = o->timeout_s;
	cfg.max_retries = o->max_retries;
	int retries = cfg.max_retries >= 0 ? cfg.max_retries : 3;
	double per_attempt = cfg.timeout_s > 0 ? cfg.timeout_s : 120;
	/* Held long enough for every attempt and wait; a crash lets it lapse. */
	double ttl = per_attempt * (retries + 1) + 30.0 * retries + 60;
	char reservation[40] = "";
	rc = reserve(db, t, res->model, estimate + max_tokens, ttl, reservation, res);
	if (rc) {
		free(prompt);
		return rc;
	}
	PGresult *conf = NULL;
	char *key = NULL;
	rc = fetch_config(db, reservation, &cfg, &conf, &key);
	if (!rc) {
		cfg.max_tokens = max_tokens;
		snprintf(res->provider, sizeof(res->provider), "%s", aiplat_provider_kind_name(cfg.kind));
		const aiplat_provider *p = aiplat_provider_get(cfg.kind);
		aiplat_ai_request req = { &msg, 1, o->json_mode, o->on_text, o->ctx };
		aiplat_ai_response out;
		rc = o->stream ? p->stream(&cfg, &req, &out) : p->complete(&cfg, &req, &out);
		res->attempts += out.attempts;
		res->latency_ms = out.latency_ms;
		snprintf(res->request_id, sizeof(res->request_id), "%s", out.request_id);
		if (rc) {
			aiplat_error saved = *aiplat_error_last();
			finish(db, reservation, false, 0, 0, 0, 0, NULL, res);
			aiplat_error_restore(&saved);
		} else {
			/* The provider's numbers; where it gave none (or a stream ended
			 * early, or failed after it began), the reservation's: the input
			 * as reported, else the estimate, and the output cap. */
			bool early = out.cut || out.stream_error[0];
			res->estimated = early || out.input_tokens < 0 || out.output_tokens < 0;
			res->input_tokens = out.input_tokens >= 0 ? out.input_tokens : estimate;
			res->output_tokens = early || out.output_tokens < 0 ? max_tokens : out.output_tokens;
			res->cut = early;
			free(res->text);
			res->text = out.text;
			res->text_len = out.text_len;
			out.text = NULL;
			rc = finish(db, reservation, true, res->input_tokens, res->output_tokens, estimate + max_tokens,
			            (int)(out.latency_ms + 0.5), out.request_id, res);
			if (!rc && out.stream_error[0]) {
				rc = aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER,
				                      "%s: the stream failed after it started: %s; usage settled at "
				                      "%lld tokens (%lld in, the output cap)%s%s%s", res->provider,
				                      out.stream_error, res->input_tokens + res->output_tokens,
				                      res->input_tokens, out.request_id[0] ? " (request id " : "",
				                      out.request_id, out.request_id[0] ? ")" : "");
				aiplat_error_set_provider("stream_error", out.request_id);
			} else if (!rc && out.cut) {
				rc = aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER,
				                      "%s: the stream was cut before it ended; usage settled at %lld "
				                      "tokens (%lld in, the output cap)%s%s%s", res->provider,
				                      res->input_tokens + res->output_tokens, res->input_tokens,
				                      out.request_id[0] ? " (request id " : "", out.request_id,
				                      out.request_id[0] ? ")" : "");
				aiplat_error_set_provider("stream_cut", out.request_id);
			}
		}
		aiplat_ai_response_dispose(&out);
	} else {
		aiplat_error saved = *aiplat_error_last();
		finish(db, reservation, false, 0, 0, 0, 0, NULL, res);
		aiplat_error_restore(&saved);
	}
	wipe_free(key);
	PQclear(conf);
	free(prompt);
	return rc;
}

int aiplat_ai_complete(aiplat_db *db, const aiplat_complete_opts *o, aiplat_complete_result *res)
{
	memset(res, 0, sizeof(*res));
	const aiplat_identity *who = aiplat_db_identity(db);
	if (!who->org_id[0]) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "which organization?");
		return aiplat_error_set_field("org", NULL);
	}
	if (!o->model) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "which model?");
		return aiplat_error_set_field("model", NULL);
	}
	call_target t = { who->org_id, o->user ? o->user : (who->acting ? who->user_id : NULL) };
	if (!t.user) {
		aiplat_error_set(AIPLAT_EUSAGE, AIPLAT_ERRCLASS_INPUT, "whose call?");
		return aiplat_error_set_field("user", NULL);
	}
	/* Reads run in short transactions of the identity; the reservation and
	 * settlement are their own (a call may take minutes: no transaction
	 * stays open across it). */
	int rc = aiplat_db_begin(db);
	if (!rc) {
		rc = check_flag(db, who->org_id, who->org_slug);
		if (rc)
			aiplat_db_rollback(db);
		else
			rc = aiplat_db_commit(db);
	}
	if (rc)
		return rc;
	rc = call_model(db, &t, o->model, o, who->org_id, res);
	if (rc == AIPLAT_EPROVIDER && o->fallback && unavailable(aiplat_error_last()->provider_error)) {
		aiplat_log(AIPLAT_LOG_INFO, "%s is unavailable (%s); trying %s", res->model,
		           aiplat_error_last()->provider_error, o->fallback);
		rc = call_model(db, &t, o->fallback, o, who->org_id, res);   /* adds its attempts */
		res->fell_back = true;
	}
	return rc;
}
