/*
 * OpenAI-compatible chat completions: OpenAI itself, Mistral/Codestral and
 * the local servers that speak the same API.
 *
 * Request details: OpenAI's own API takes max_completion_tokens (its
 * reasoning models refuse max_tokens), everyone else max_tokens; streams
 * ask for stream_options.include_usage so the last chunk carries the
 * usage; JSON mode is response_format {"type": "json_object"}.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aiplat/error.h"
#include "ai/adapter.h"
#include "ai/http.h"
#include "ai/openai.h"

bool ai_openai_uses_max_completion_tokens(const char *endpoint, const char *model)
{
	/* OpenAI's reasoning models accept only the new name, wherever they are served. */
	static const char *const reasoning[] = { "o1", "o3", "o4", "gpt-5" };
	for (size_t i = 0; model && i < sizeof(reasoning) / sizeof(reasoning[0]); i++) {
		size_t n = strlen(reasoning[i]);
		if (!strncmp(model, reasoning[i], n) && (model[n] == '\0' || model[n] == '-' || model[n] == '.'))
			return true;
	}
	/* OpenAI's API itself (and Azure's): the current name for every model. */
	const char *host = endpoint ? strstr(endpoint, "://") : NULL;
	host = host ? host + 3 : endpoint;
	if (!host)
		return false;
	size_t len = strcspn(host, ":/");
	static const char *const suffixes[] = { "api.openai.com", ".openai.azure.com" };
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(suffixes[i]);
		if (len >= n && !strncasecmp(host + len - n, suffixes[i], n) &&
		    (len == n || suffixes[i][0] == '.'))
			return true;
	}
	return false;
}

static int oom(void)
{
	return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

static int build(const aiplat_provider_config *cfg, const aiplat_ai_request *req, bool stream,
                 char **url, struct curl_slist **headers, char **body)
{
	const char *base = cfg->endpoint ? cfg->endpoint : "https://api.openai.com/v1";
	if (!(*url = ai_join_url(base, "chat/completions")))
		return oom();

	json_t *messages = json_array();
	if (cfg->system_message && *cfg->system_message)
		json_array_append_new(messages, json_pack("{s:s,s:s}", "role", "system", "content",
		                                          cfg->system_message));
	for (size_t i = 0; i < req->nmessages; i++)
		json_array_append_new(messages, json_pack("{s:s,s:s}", "role", req->messages[i].role,
		                                          "content", req->messages[i].content));
	json_t *doc = json_pack("{s:s,s:o}", "model", cfg->model ? cfg->model : "", "messages", messages);
	if (cfg->max_tokens > 0)
		json_object_set_new(doc, ai_openai_uses_max_completion_tokens(base, cfg->model)
		                             ? "max_completion_tokens" : "max_tokens",
		                    json_integer(cfg->max_tokens));
	if (stream) {
		json_object_set_new(doc, "stream", json_true());
		json_object_set_new(doc, "stream_options", json_pack("{s:b}", "include_usage", 1));
	}
	if (req->json_mode)
		json_object_set_new(doc, "response_format", json_pack("{s:s}", "type", "json_object"));
	*body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!*body)
		return oom();

	struct curl_slist *h = ai_http_header(NULL, "Content-Type", "application/json");
	if (stream)
		h = ai_http_header(h, "Accept", "text/event-stream");
	if (cfg->api_key && *cfg->api_key) {
		size_t kn = strlen(cfg->api_key) + 8;
		char *bearer = malloc(kn);
		if (bearer) {
			snprintf(bearer, kn, "Bearer %s", cfg->api_key);
			h = ai_http_header(h, "Authorization", bearer);
			memset(bearer, 0, kn);
			free(bearer);
		}
	}
	*headers = h;
	return h ? 0 : oom();
}

/* The usage object's names for the two counts. */
static void take_usage(json_t *usage, aiplat_ai_response *out)
{
	ai_take_usage(usage, "prompt_tokens", "completion_tokens", out);
}

static int parse(const char *body, size_t n, aiplat_ai_response *out)
{
	json_error_t err;
	json_t *doc = json_loadb(body, n, 0, &err);
	json_t *choice = json_array_get(json_object_get(doc, "choices"), 0);
	json_t *content = json_object_get(json_object_get(choice, "message"), "content");
	if (!json_is_object(doc) || !json_is_object(choice) || !(json_is_string(content) || json_is_null(content))) {
		json_decref(doc);
		return aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER,
		                        "the answer is not a chat completion%s%s", doc ? "" : ": ",
		                        doc ? "" : err.text);
	}
	const char *text = json_is_string(content) ? json_string_value(content) : "";
	out->text_len = json_is_string(content) ? json_string_length(content) : 0;
	out->text = malloc(out->text_len + 1);
	if (!out->text) {
		json_decref(doc);
		return oom();
	}
	memcpy(out->text, text, out->text_len);
	out->text[out->text_len] = '\0';
	const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
	snprintf(out->finish_reason, sizeof(out->finish_reason), "%s", finish ? finish : "");
	take_usage(json_object_get(doc, "usage"), out);
	json_decref(doc);
	return 0;
}

/* data: {"choices":[{"delta":{"content":"..."}}]} ... usage chunk ... [DONE]; or an error. */
static int event(const aiplat_sse_event *ev, ai_stream *st)
{
	if (!strcmp(ev->data, "[DONE]")) {
		st->done = true;
		return 0;
	}
	json_error_t err;
	json_t *doc = json_loadb(ev->data, ev->data_len, 0, &err);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER,
		                        "a stream event is not JSON: %s", err.text);
	}
	json_t *error = json_object_get(doc, "error");
	if (json_is_object(error)) {
		const char *type = json_string_value(json_object_get(error, "type"));
		const char *msg = json_string_value(json_object_get(error, "message"));
		st->failed = true;
		snprintf(st->error_type, sizeof(st->error_type), "%s", type ? type : "error");
		snprintf(st->error_message, sizeof(st->error_message), "%s", msg ? msg : "");
		json_decref(doc);
		return 1;   /* stop reading */
	}
	int rc = 0;
	json_t *choice = json_array_get(json_object_get(doc, "choices"), 0);
	json_t *content = json_object_get(json_object_get(choice, "delta"), "content");
	if (json_is_string(content))
		rc = ai_stream_text(st, json_string_value(content), json_string_length(content));
	const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
	if (finish)
		snprintf(st->out->finish_reason, sizeof(st->out->finish_reason), "%s", finish);
	json_t *usage = json_object_get(doc, "usage");
	if (json_is_object(usage))
		take_usage(usage, st->out);
	json_decref(doc);
	return rc;
}

/* {"error": {"message": ..., "type": ..., "code": ...}} */
static void error_body(const char *body, size_t n, ai_error_info *info)
{
	json_t *doc = json_loadb(body, n, 0, NULL);
	json_t *error = json_object_get(doc, "error");
	const char *msg = json_string_value(json_object_get(error, "message"));
	const char *type = json_string_value(json_object_get(error, "type"));
	const char *code = json_string_value(json_object_get(error, "code"));
	if (!msg && json_is_string(error))
		msg = json_string_value(error);
	snprintf(info->message, sizeof(info->message), "%s", msg ? msg : "");
	snprintf(info->type, sizeof(info->type), "%s", code ? code : type ? type : "");
	/* A spent budget, not a rate: waiting does not help. */
	info->spend_cap = (code && !strcmp(code, "insufficient_quota")) ||
	                  (type && !strcmp(type, "insufficient_quota"));
	json_decref(doc);
}

const ai_adapter ai_openai_adapter = { "openai", NULL, build, parse, event, error_body };
