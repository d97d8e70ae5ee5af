/*
 * Anthropic Messages. Request details: the anthropic-version header and
 * x-api-key; max_tokens is required; the system message is a top-level
 * field. There is no JSON mode: it is asked for in the system message and
 * the answer is started with "{" (a prefilled assistant turn), which is
 * put back in front of what comes back.
 *
 * A stream is message_start (input tokens), content_block_start/delta/
 * stop, message_delta (the output tokens so far: cumulative, the last one
 * counts), message_stop; ping events keep it alive; an error event may
 * come after the 200 (overloaded_error, typically).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "ai/adapter.h"
#include "ai/http.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define JSON_INSTRUCTION "Respond with a single JSON object and nothing else."

static int oom(void)
{
	return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

static int build(const aiplat_provider_config *cfg, const aiplat_ai_request *req, bool stream,
                 char **url, struct curl_slist **headers, char **body)
{
	if (!(*url = ai_join_url(cfg->endpoint ? cfg->endpoint : "https://api.anthropic.com/v1", "messages")))
		return oom();
	json_t *messages = json_array();
	for (size_t i = 0; i < req->nmessages; i++)
		json_array_append_new(messages, json_pack("{s:s,s:s}", "role", req->messages[i].role,
		                                          "content", req->messages[i].content));
	if (req->json_mode)
		json_array_append_new(messages, json_pack("{s:s,s:s}", "role", "assistant", "content", "{"));
	json_t *doc = json_pack("{s:s,s:I,s:o}", "model", cfg->model ? cfg->model : "", "max_tokens",
	                        (json_int_t)(cfg->max_tokens > 0 ? cfg->max_tokens : 1024), "messages",
	                        messages);
	const char *system = cfg->system_message && *cfg->system_message ? cfg->system_message : NULL;
	if (req->json_mode) {
		size_t n = (system ? strlen(system) : 0) + sizeof(JSON_INSTRUCTION) + 2;
		char *s = malloc(n);
		if (!s) {
			json_decref(doc);
			return oom();
		}
		snprintf(s, n, "%s%s%s", system ? system : "", system ? "\n\n" : "", JSON_INSTRUCTION);
		json_object_set_new(doc, "system", json_string(s));
		free(s);
	} else if (system) {
		json_object_set_new(doc, "system", json_string(system));
	}
	if (stream)
		json_object_set_new(doc, "stream", json_true());
	*body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!*body)
		return oom();
	struct curl_slist *h = ai_http_header(NULL, "Content-Type", "application/json");
	h = ai_http_header(h, "anthropic-version", ANTHROPIC_VERSION);
	if (stream)
		h = ai_http_header(h, "Accept", "text/event-stream");
	if (cfg->api_key && *cfg->api_key)
		h = ai_http_header(h, "x-api-key", cfg->api_key);
	*headers = h;
	return h ? 0 : oom();
}

/* The usage object's names for the two counts. */
static void take_usage(json_t *usage, aiplat_ai_response *out)
{
	ai_take_usage(usage, "input_tokens", "output_tokens", out);
}

static int parse(const char *body, size_t n, aiplat_ai_response *out)
{
	json_error_t err;
	json_t *doc = json_loadb(body, n, 0, &err);
	json_t *content = json_object_get(doc, "content");
	if (!json_is_object(doc) || !json_is_array(content)) {
		json_decref(doc);
		return aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER,
		                        "the answer is not a message%s%s", doc ? "" : ": ", doc ? "" : err.text);
	}
	aiplat_buf text = AIPLAT_BUF_INIT;
	aiplat_buf_puts(&text, "");
	size_t i;
	json_t *block;
	json_array_foreach(content, i, block) {
		const char *type = json_string_value(json_object_get(block, "type"));
		json_t *t = json_object_get(block, "text");
		if (type && !strcmp(type, "text") && json_is_string(t))
			aiplat_buf_put(&text, json_string_value(t), json_string_length(t));
	}
	out->text_len = text.len;
	out->text = aiplat_buf_detach(&text);
	const char *stop = json_string_value(json_object_get(doc, "stop_reason"));
	snprintf(out->finish_reason, sizeof(out->finish_reason), "%s", stop ? stop : "");
	take_usage(json_object_get(doc, "usage"), out);
	json_decref(doc);
	return out->text ? 0 : oom();
}

static int event(const aiplat_sse_event *ev, ai_stream *st)
{
	if (!strcmp(ev->event, "ping"))
		return 0;
	json_error_t err;
	json_t *doc = json_loadb(ev->data, ev->data_len, 0, &err);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER,
		                        "a stream event is not JSON: %s", err.text);
	}
	const char *type = json_string_value(json_object_get(doc, "type"));
	if (!type)
		type = ev->event;
	int rc = 0;
	if (!strcmp(type, "message_start")) {
		take_usage(json_object_get(json_object_get(doc, "message"), "usage"), st->out);
	} else if (!strcmp(type, "content_block_delta")) {
		json_t *delta = json_object_get(doc, "delta");
		const char *dtype = json_string_value(json_object_get(delta, "type"));
		json_t *t = json_object_get(delta, "text");
		if (dtype && !strcmp(dtype, "text_delta") && json_is_string(t))
			rc = ai_stream_text(st, json_string_value(t), json_string_length(t));
	} else if (!strcmp(type, "message_delta")) {
		take_usage(json_object_get(doc, "usage"), st->out);   /* cumulative */
		const char *stop = json_string_value(json_object_get(json_object_get(doc, "delta"), "stop_reason"));
		if (stop)
			snprintf(st->out->finish_reason, sizeof(st->out->finish_reason), "%s", stop);
	} else if (!strcmp(type, "message_stop")) {
		st->done = true;
	} else if (!strcmp(type, "error")) {
		json_t *e = json_object_get(doc, "error");
		const char *etype = json_string_value(json_object_get(e, "type"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		st->failed = true;
		snprintf(st->error_type, sizeof(st->error_type), "%s", etype ? etype : "error");
		snprintf(st->error_message, sizeof(st->error_message), "%s", msg ? msg : "");
		rc = 1;   /* stop reading */
	}
	json_decref(doc);
	return rc;
}

/* {"type": "error", "error": {"type": "rate_limit_error", "message": ...}} */
static void error_body(const char *body, size_t n, ai_error_info *info)
{
	json_t *doc = json_loadb(body, n, 0, NULL);
	json_t *e = json_object_get(doc, "error");
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	snprintf(info->type, sizeof(info->type), "%s", type ? type : "");
	snprintf(info->message, sizeof(info->message), "%s", msg ? msg : "");
	/* Spend limits and credit balance are not rates: waiting does not help. */
	info->spend_cap = msg && (strstr(msg, "spend limit") || strstr(msg, "credit balance") ||
	                          strstr(msg, "billing"));
	json_decref(doc);
}

const ai_adapter ai_anthropic_adapter = { "anthropic", "{", build, parse, event, error_body };
