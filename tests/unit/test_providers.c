/*
 * The provider layer's pure parts, without a network: the retry policy
 * (Retry-After in its forms, backoff with jitter, which statuses are worth
 * another try), which name the OpenAI adapter gives the output limit,
 * how requests are written and error bodies read, task templates, the
 * prompt estimate that reservations are sized by, and provider names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>
#include "aiplat/ai.h"
#include "aiplat/error.h"
#include "aiplat/config.h"
#include "aiplat/provider.h"
#include "ai/adapter.h"
#include "ai/openai.h"

/* ---- Retry-After ------------------------------------------------------------------------ */

/* An HTTP date (IMF-fixdate) `offset` seconds from now. */
static void http_date(char *out, size_t size, long offset)
{
	time_t when = time(NULL) + offset;
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void test_retry_after_seconds(void **state)
{
	(void)state;
	double s = -1;
	assert_true(ai_retry_after("7", NULL, &s));
	assert_true(s == 7.0);
	s = -1;
	assert_true(ai_retry_after("0", NULL, &s));
	assert_true(s == 0.0);
	s = -1;
	assert_true(ai_retry_after("1.5", NULL, &s));
	assert_true(s > 1.499 && s < 1.501);
	s = -1;
	assert_true(ai_retry_after("0.25", "", &s));   /* an empty -ms header says nothing */
	assert_true(s > 0.249 && s < 0.251);
}

static void test_retry_after_ms_wins(void **state)
{
	(void)state;
	double s = -1;
	assert_true(ai_retry_after("30", "1500", &s));
	assert_true(s > 1.499 && s < 1.501);
	s = -1;
	assert_true(ai_retry_after(NULL, "250", &s));
	assert_true(s > 0.249 && s < 0.251);
	/* An unusable -ms value leaves the seconds header in charge. */
	s = -1;
	assert_true(ai_retry_after("4", "soon", &s));
	assert_true(s == 4.0);
}

static void test_retry_after_http_date(void **state)
{
	(void)state;
	char date[64];
	http_date(date, sizeof(date), 120);
	double s = -1;
	assert_true(ai_retry_after(date, NULL, &s));
	/* Whole seconds, and a second may tick between writing and reading. */
	assert_true(s >= 118.0 && s <= 121.0);

	/* A date in the past: no wait, but an answer. */
	http_date(date, sizeof(date), -3600);
	s = -1;
	assert_true(ai_retry_after(date, NULL, &s));
	assert_true(s == 0.0);
	s = -1;
	assert_true(ai_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NULL, &s));
	assert_true(s == 0.0);
}

static void test_retry_after_garbage(void **state)
{
	(void)state;
	double s = 42;
	assert_false(ai_retry_after(NULL, NULL, &s));
	assert_false(ai_retry_after("", NULL, &s));
	assert_false(ai_retry_after("", "", &s));
	assert_false(ai_retry_after("soon", NULL, &s));
	assert_false(ai_retry_after("later please", NULL, &s));
	assert_false(ai_retry_after("12abc", NULL, &s));
	assert_false(ai_retry_after("-5", NULL, &s));      /* no negative waits */
	assert_false(ai_retry_after(NULL, "-100", &s));
	assert_false(ai_retry_after("soon", "garbage", &s));
	assert_true(s == 42);                               /* untouched when false */
}

/* ---- backoff -------------------------------------------------------------------------------- */

static void test_backoff_bounds(void **state)
{
	(void)state;
	/* Base 0.5 s doubling per attempt, capped at 3 s: 0.5, 1, 2, 3, 3, 3. */
	const double cap = 3.0;
	const double ceiling[] = { 0, 0.5, 1.0, 2.0, 3.0, 3.0, 3.0 };
	unsigned seed = 12345;
	for (int attempt = 1; attempt <= 6; attempt++) {
		double lo = 1e9, hi = -1;
		for (int i = 0; i < 2000; i++) {
			double w = ai_backoff(attempt, cap, &seed);
			if (w < ceiling[attempt] / 2 - 1e-9 || w > ceiling[attempt] + 1e-9)
				fail_msg("attempt %d: %.4f outside [%.2f, %.2f]", attempt, w, ceiling[attempt] / 2,
				         ceiling[attempt]);
			assert_true(w <= cap);
			if (w < lo)
				lo = w;
			if (w > hi)
				hi = w;
		}
		/* The jitter is real: the waits spread over most of the upper half. */
		double c = ceiling[attempt];
		if (!(lo < c * 0.6 && hi > c * 0.9))
			fail_msg("attempt %d: waits between %.4f and %.4f do not spread over [%.2f, %.2f]", attempt,
			         lo, hi, c / 2, c);
	}
}

static void test_backoff_cap(void **state)
{
	(void)state;
	unsigned seed = 7;
	/* Far attempts stay at the cap (no overflow to infinity or zero). */
	for (int attempt = 1; attempt <= 200; attempt += 13) {
		double w = ai_backoff(attempt, 30.0, &seed);
		assert_true(w > 0 && w <= 30.0);
	}
	double w = ai_backoff(100, 30.0, &seed);
	assert_true(w >= 15.0 && w <= 30.0);
	/* A cap below the base: every wait within [cap/2, cap]. */
	for (int attempt = 1; attempt <= 5; attempt++) {
		w = ai_backoff(attempt, 0.2, &seed);
		assert_true(w >= 0.1 - 1e-9 && w <= 0.2 + 1e-9);
	}
}

static void test_backoff_seeds_differ(void **state)
{
	(void)state;
	/* Two clients with different seeds do not wait in lockstep. */
	unsigned a = 1, b = 99991;
	int same = 0;
	for (int i = 0; i < 50; i++)
		if (ai_backoff(3, 30, &a) == ai_backoff(3, 30, &b))
			same++;
	assert_true(same < 5);
}

/* ---- what is worth retrying ----------------------------------------------------------------------- */

static void test_retryable(void **state)
{
	(void)state;
	ai_error_info rate;
	memset(&rate, 0, sizeof(rate));
	ai_error_info cap;
	memset(&cap, 0, sizeof(cap));
	cap.spend_cap = true;

	assert_true(ai_retryable(429, &rate));
	assert_false(ai_retryable(429, &cap));       /* a spent budget does not come back by waiting */
	const long retry[] = { 500, 502, 503, 504, 529 };
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		if (!ai_retryable(retry[i], &rate))
			fail_msg("%ld should be retried", retry[i]);
	const long final[] = { 400, 401, 403, 404, 413, 422 };
	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
		if (ai_retryable(final[i], &rate))
			fail_msg("%ld should not be retried", final[i]);
		if (ai_retryable(final[i], &cap))
			fail_msg("%ld should not be retried (spend cap)", final[i]);
	}
}

static void test_error_bodies(void **state)
{
	(void)state;
	ai_error_info info;
	const char *oa_quota = "{\"error\":{\"message\":\"You exceeded your current quota\","
	                       "\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\"}}";
	memset(&info, 0, sizeof(info));
	ai_openai_adapter.error_body(oa_quota, strlen(oa_quota), &info);
	assert_true(info.spend_cap);
	assert_string_equal(info.message, "You exceeded your current quota");
	assert_false(ai_retryable(429, &info));

	const char *oa_rate = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
	                      "\"code\":\"rate_limit_exceeded\"}}";
	memset(&info, 0, sizeof(info));
	ai_openai_adapter.error_body(oa_rate, strlen(oa_rate), &info);
	assert_false(info.spend_cap);
	assert_string_equal(info.type, "rate_limit_exceeded");
	assert_true(ai_retryable(429, &info));

	const char *an_spend = "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
	                       "\"message\":\"You have reached your spend limit.\"}}";
	memset(&info, 0, sizeof(info));
	ai_anthropic_adapter.error_body(an_spend, strlen(an_spend), &info);
	assert_true(info.spend_cap);
	assert_string_equal(info.type, "rate_limit_error");

	const char *an_rate = "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
	                      "\"message\":\"Number of requests has exceeded your rate limit\"}}";
	memset(&info, 0, sizeof(info));
	ai_anthropic_adapter.error_body(an_rate, strlen(an_rate), &info);
	assert_false(info.spend_cap);

	/* Not JSON at all: nothing claimed. */
	memset(&info, 0, sizeof(info));
	ai_anthropic_adapter.error_body("<html>502</html>", 16, &info);
	assert_false(info.spend_cap);
	assert_string_equal(info.type, "");
}

/* ---- max_tokens or max_completion_tokens ------------------------------------------------------------- */

static void test_max_completion_tokens_hosts(void **state)
{
	(void)state;
	/* OpenAI's own API and Azure OpenAI: the new name for every model. */
	assert_true(ai_openai_uses_max_completion_tokens("https://api.openai.com/v1", "gpt-4o-mini"));
	assert_true(ai_openai_uses_max_completion_tokens("https://api.openai.com", "gpt-4o"));
	assert_true(ai_openai_uses_max_completion_tokens("https://api.openai.com:443/v1", "gpt-4o"));
	assert_true(ai_openai_uses_max_completion_tokens("api.openai.com/v1", "gpt-4o"));
	assert_true(ai_openai_uses_max_completion_tokens(
		"https://my-resource.openai.azure.com/openai/deployments/chat", "gpt-4o"));
	/* Everyone else speaking the API: max_tokens. */
	assert_false(ai_openai_uses_max_completion_tokens("https://api.mistral.ai/v1", "mistral-large-latest"));
	assert_false(ai_openai_uses_max_completion_tokens("http://127.0.0.1:8080/v1", "llama3"));
	assert_false(ai_openai_uses_max_completion_tokens("http://localhost:11434/v1", "gpt-4o"));
	/* Look-alikes are not OpenAI. */
	assert_false(ai_openai_uses_max_completion_tokens("https://api.openai.com.evil.example/v1", "gpt-4o"));
	assert_false(ai_openai_uses_max_completion_tokens("https://xapi.openai.com/v1", "gpt-4o"));
	assert_false(ai_openai_uses_max_completion_tokens("https://evilopenai.azure.com/v1", "gpt-4o"));
	assert_false(ai_openai_uses_max_completion_tokens("https://proxy.example/api.openai.com/v1", "gpt-4o"));
	assert_false(ai_openai_uses_max_completion_tokens(NULL, "gpt-4o"));
	assert_false(ai_openai_uses_max_completion_tokens(NULL, NULL));
}

static void test_max_completion_tokens_host_case(void **state)
{
	(void)state;
	/* Host names are case-insensitive (RFC 3986 3.2.2): this is OpenAI's API too. */
	assert_true(ai_openai_uses_max_completion_tokens("https://API.OpenAI.com/v1", "gpt-4o"));
	assert_true(ai_openai_uses_max_completion_tokens("https://My-Resource.OpenAI.Azure.com/openai", "gpt-4o"));
}

static void test_max_completion_tokens_models(void **state)
{
	(void)state;
	/* OpenAI's reasoning models refuse max_tokens wherever they are served. */
	const char *reasoning[] = { "o1", "o1-mini", "o1-2024-12-17", "o3", "o3-mini", "o4-mini", "gpt-5",
	                            "gpt-5-mini", "gpt-5-nano" };
	for (size_t i = 0; i < sizeof(reasoning) / sizeof(reasoning[0]); i++) {
		if (!ai_openai_uses_max_completion_tokens("http://127.0.0.1:8080/v1", reasoning[i]))
			fail_msg("%s on a local server should use max_completion_tokens", reasoning[i]);
		if (!ai_openai_uses_max_completion_tokens(NULL, reasoning[i]))
			fail_msg("%s without an endpoint should use max_completion_tokens", reasoning[i]);
	}
	const char *others[] = { "o1x", "o10", "o2", "gpt-4o", "gpt-4o-mini", "gpt-50", "xo1", "llama-o1",
	                         "gpt-5x", "" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (ai_openai_uses_max_completion_tokens("http://127.0.0.1:8080/v1", others[i]))
			fail_msg("\"%s\" is not a reasoning model", others[i]);
}

/* ---- how requests are written ------------------------------------------------------------------------- */

static json_t *built_body(const ai_adapter *a, const aiplat_provider_config *cfg, const aiplat_ai_request *req,
                          bool stream, char **url, char **headers)
{
	struct curl_slist *h = NULL;
	char *body = NULL;
	assert_int_equal(a->build(cfg, req, stream, url, &h, &body), 0);
	size_t n = 0;
	for (struct curl_slist *p = h; p; p = p->next)
		n += strlen(p->data) + 1;
	*headers = calloc(1, n + 1);
	for (struct curl_slist *p = h; p; p = p->next) {
		strcat(*headers, p->data);
		strcat(*headers, "\n");
	}
	curl_slist_free_all(h);
	json_t *doc = json_loads(body, 0, NULL);
	assert_non_null(doc);
	free(body);
	return doc;
}

static void test_openai_request(void **state)
{
	(void)state;
	aiplat_ai_message msg = { "user", "Hello there" };
	aiplat_ai_request req = { &msg, 1, false, NULL, NULL };
	aiplat_provider_config cfg = AIPLAT_PROVIDER_CONFIG_INIT;
	cfg.endpoint = "http://127.0.0.1:8080/v1/";
	cfg.model = "llama3";
	cfg.api_key = "sk-unit-abc";
	cfg.max_tokens = 99;
	cfg.system_message = "Be brief.";
	char *url, *headers;
	json_t *doc = built_body(&ai_openai_adapter, &cfg, &req, true, &url, &headers);
	assert_string_equal(url, "http://127.0.0.1:8080/v1/chat/completions");
	assert_non_null(strstr(headers, "Authorization: Bearer sk-unit-abc\n"));
	assert_int_equal(json_integer_value(json_object_get(doc, "max_tokens")), 99);
	assert_null(json_object_get(doc, "max_completion_tokens"));
	assert_true(json_is_true(json_object_get(doc, "stream")));
	assert_true(json_is_true(json_object_get(json_object_get(doc, "stream_options"), "include_usage")));
	json_t *msgs = json_object_get(doc, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "role")), "system");
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "content")), "Be brief.");
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "content")), "Hello there");
	assert_null(json_object_get(doc, "response_format"));
	json_decref(doc);
	free(url);
	free(headers);

	/* OpenAI itself, JSON mode, no stream. */
	cfg.endpoint = "https://api.openai.com/v1";
	cfg.model = "gpt-4o-mini";
	cfg.system_message = NULL;
	req.json_mode = true;
	doc = built_body(&ai_openai_adapter, &cfg, &req, false, &url, &headers);
	assert_string_equal(url, "https://api.openai.com/v1/chat/completions");
	assert_int_equal(json_integer_value(json_object_get(doc, "max_completion_tokens")), 99);
	assert_null(json_object_get(doc, "max_tokens"));
	assert_null(json_object_get(doc, "stream"));
	assert_null(json_object_get(doc, "stream_options"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "response_format"), "type")),
	                    "json_object");
	assert_int_equal(json_array_size(json_object_get(doc, "messages")), 1);
	json_decref(doc);
	free(url);
	free(headers);
}

static void test_anthropic_request(void **state)
{
	(void)state;
	aiplat_ai_message msg = { "user", "Hello there" };
	aiplat_ai_request req = { &msg, 1, false, NULL, NULL };
	aiplat_provider_config cfg = AIPLAT_PROVIDER_CONFIG_INIT;
	cfg.kind = AIPLAT_PROVIDER_ANTHROPIC;
	cfg.endpoint = "http://127.0.0.1:8080/v1";
	cfg.model = "claude-x";
	cfg.api_key = "sk-ant-unit";
	cfg.max_tokens = 64;
	cfg.system_message = "Be brief.";
	char *url, *headers;
	json_t *doc = built_body(&ai_anthropic_adapter, &cfg, &req, false, &url, &headers);
	assert_string_equal(url, "http://127.0.0.1:8080/v1/messages");
	assert_non_null(strstr(headers, "x-api-key: sk-ant-unit\n"));
	assert_non_null(strstr(headers, "anthropic-version: 2023-06-01\n"));
	assert_null(strstr(headers, "Authorization"));
	assert_int_equal(json_integer_value(json_object_get(doc, "max_tokens")), 64);
	assert_string_equal(json_string_value(json_object_get(doc, "system")), "Be brief.");
	json_t *msgs = json_object_get(doc, "messages");
	assert_int_equal(json_array_size(msgs), 1);   /* the system message is not a message */
	json_decref(doc);
	free(url);
	free(headers);

	/* JSON mode: an instruction added to the system message and a "{" prefill. */
	req.json_mode = true;
	doc = built_body(&ai_anthropic_adapter, &cfg, &req, true, &url, &headers);
	const char *system = json_string_value(json_object_get(doc, "system"));
	assert_non_null(system);
	assert_true(strncmp(system, "Be brief.", 9) == 0);
	assert_true(strlen(system) > 9);
	assert_non_null(strstr(system, "JSON"));
	msgs = json_object_get(doc, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	json_t *last = json_array_get(msgs, 1);
	assert_string_equal(json_string_value(json_object_get(last, "role")), "assistant");
	assert_string_equal(json_string_value(json_object_get(last, "content")), "{");
	assert_true(json_is_true(json_object_get(doc, "stream")));
	json_decref(doc);
	free(url);
	free(headers);
	assert_string_equal(ai_anthropic_adapter.json_prefix, "{");
}

static void test_parse_answers(void **state)
{
	(void)state;
	const char *oa = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\"},"
	                 "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}";
	aiplat_ai_response r;
	memset(&r, 0, sizeof(r));
	r.input_tokens = r.output_tokens = -1;
	assert_int_equal(ai_openai_adapter.parse(oa, strlen(oa), &r), 0);
	assert_string_equal(r.text, "Hi!");
	assert_int_equal(r.text_len, 3);
	assert_int_equal(r.input_tokens, 12);
	assert_int_equal(r.output_tokens, 3);
	assert_string_equal(r.finish_reason, "stop");
	aiplat_ai_response_dispose(&r);
	assert_null(r.text);

	const char *an = "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"Hel\"},"
	                 "{\"type\":\"tool_use\",\"id\":\"x\"},{\"type\":\"text\",\"text\":\"lo\"}],"
	                 "\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":20,\"output_tokens\":7}}";
	memset(&r, 0, sizeof(r));
	r.input_tokens = r.output_tokens = -1;
	assert_int_equal(ai_anthropic_adapter.parse(an, strlen(an), &r), 0);
	assert_string_equal(r.text, "Hello");
	assert_int_equal(r.input_tokens, 20);
	assert_int_equal(r.output_tokens, 7);
	assert_string_equal(r.finish_reason, "end_turn");
	aiplat_ai_response_dispose(&r);

	/* Not an answer: an error, nothing allocated. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(ai_openai_adapter.parse("this is not JSON {", 18, &r), AIPLAT_EPROVIDER);
	assert_null(r.text);
	assert_int_equal(ai_anthropic_adapter.parse("{\"id\":1}", 8, &r), AIPLAT_EPROVIDER);
	assert_null(r.text);
}

static void test_join_url(void **state)
{
	(void)state;
	char *u = ai_join_url("http://h/v1", "messages");
	assert_string_equal(u, "http://h/v1/messages");
	free(u);
	u = ai_join_url("http://h/v1/", "messages");
	assert_string_equal(u, "http://h/v1/messages");
	free(u);
}

/* ---- templates --------------------------------------------------------------------------------- */

static char *render_ok(const char *tmpl, const char *input, const char *const *vars, size_t n)
{
	char *out = NULL;
	int rc = aiplat_render_template(tmpl, input, vars, n, &out);
	if (rc != 0)
		fail_msg("render \"%s\": %d %s", tmpl, rc, aiplat_error_last()->message);
	assert_non_null(out);
	return out;
}

static void test_render_template(void **state)
{
	(void)state;
	const char *vars[] = { "topic=dogs", "tone=dry", "top=WRONG" };
	char *s = render_ok("Write about {{topic}} in a {{tone}} tone.", NULL, vars, 3);
	assert_string_equal(s, "Write about dogs in a dry tone.");
	free(s);

	/* A placeholder without a var takes the input; vars win over it. */
	s = render_ok("Summarise: {{topic}}", "cats", NULL, 0);
	assert_string_equal(s, "Summarise: cats");
	free(s);
	s = render_ok("Summarise: {{topic}}", "cats", vars, 3);
	assert_string_equal(s, "Summarise: dogs");
	free(s);
	s = render_ok("{{ input }}!", "hi", NULL, 0);
	assert_string_equal(s, "hi!");
	free(s);
	s = render_ok("{{a}} and {{b}}", "x", (const char *const[]){ "b=y" }, 1);
	assert_string_equal(s, "x and y");
	free(s);

	/* No placeholders: the input follows after a blank line, or nothing does. */
	s = render_ok("Translate to French.", "good morning", NULL, 0);
	assert_string_equal(s, "Translate to French.\n\ngood morning");
	free(s);
	s = render_ok("Translate to French.", NULL, NULL, 0);
	assert_string_equal(s, "Translate to French.");
	free(s);
	s = render_ok("Translate to French.", "", NULL, 0);
	assert_string_equal(s, "Translate to French.");
	free(s);

	/* An unclosed brace pair is text. */
	s = render_ok("keep {{this", NULL, NULL, 0);
	assert_string_equal(s, "keep {{this");
	free(s);

	/* A value may itself look like a placeholder: it is not expanded again. */
	s = render_ok("[{{x}}]", NULL, (const char *const[]){ "x={{y}}" }, 1);
	assert_string_equal(s, "[{{y}}]");
	free(s);
}

static void test_render_template_missing(void **state)
{
	(void)state;
	char *out = (char *)"untouched";
	int rc = aiplat_render_template("Summarise: {{topic}}", NULL, NULL, 0, &out);
	assert_int_equal(rc, AIPLAT_EUSAGE);
	assert_non_null(strstr(aiplat_error_last()->message, "topic"));
	assert_string_equal(aiplat_error_last()->field, "var");
	assert_string_equal(aiplat_error_last()->value, "topic");
	/* A var for another name does not fill it. */
	rc = aiplat_render_template("{{topic}}", NULL, (const char *const[]){ "topics=x", "topi=y" }, 2, &out);
	assert_int_equal(rc, AIPLAT_EUSAGE);
}

/* ---- the prompt estimate ----------------------------------------------------------------------- */

static void test_estimate(void **state)
{
	(void)state;
	aiplat_ai_message one = { "user", "Hello there" };               /* 11 bytes: 3 tokens */
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, &one, 1), 3 + 4 + 3);
	assert_int_equal(aiplat_estimate_prompt_tokens("", &one, 1), 3 + 4 + 3);
	/* "Be brief." is 9 bytes: 3 tokens, plus 4 as a message. */
	assert_int_equal(aiplat_estimate_prompt_tokens("Be brief.", &one, 1), 3 + (4 + 3) + (4 + 3));
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, NULL, 0), 3);
	aiplat_ai_message two[] = { { "user", "abcd" }, { "assistant", "abcde" } };   /* 1 and 2 */
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, two, 2), 3 + (4 + 1) + (4 + 2));
	aiplat_ai_message empty = { "user", "" };
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, &empty, 1), 3 + 4);
	aiplat_ai_message none = { "user", NULL };
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, &none, 1), 3 + 4);
	/* Bytes, not characters: "h\xc3\xa9llo" is 6 bytes. */
	aiplat_ai_message utf8 = { "user", "h\xc3\xa9llo" };
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, &utf8, 1), 3 + 4 + 2);
	/* A long prompt: 4000 bytes are 1000 tokens. */
	char *big = malloc(4001);
	memset(big, 'x', 4000);
	big[4000] = '\0';
	aiplat_ai_message large = { "user", big };
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, &large, 1), 3 + 4 + 1000);
	big[3999] = '\0';
	assert_int_equal(aiplat_estimate_prompt_tokens(NULL, &large, 1), 3 + 4 + 1000);
	free(big);
}

/* ---- provider names and endpoints ------------------------------------------------------------------------ */

static void test_provider_kind(void **state)
{
	(void)state;
	assert_int_equal(aiplat_provider_kind_parse("openai"), AIPLAT_PROVIDER_OPENAI);
	assert_int_equal(aiplat_provider_kind_parse("anthropic"), AIPLAT_PROVIDER_ANTHROPIC);
	assert_int_equal(aiplat_provider_kind_parse("mistral"), -1);
	assert_int_equal(aiplat_provider_kind_parse(""), -1);
	assert_int_equal(aiplat_provider_kind_parse(NULL), -1);
	assert_int_equal(aiplat_provider_kind_parse("openai "), -1);
	assert_int_equal(aiplat_provider_kind_parse("anthropic2"), -1);
	assert_string_equal(aiplat_provider_kind_name(AIPLAT_PROVIDER_OPENAI), "openai");
	assert_string_equal(aiplat_provider_kind_name(AIPLAT_PROVIDER_ANTHROPIC), "anthropic");
	assert_non_null(aiplat_provider_get(AIPLAT_PROVIDER_OPENAI));
	assert_string_equal(aiplat_provider_get(AIPLAT_PROVIDER_ANTHROPIC)->name, "anthropic");
	assert_null(aiplat_provider_get((aiplat_provider_kind)7));
}

static void test_provider_endpoint(void **state)
{
	(void)state;
	/* The overrides come from the configuration, never the environment. */
	aiplat_config cfg = AIPLAT_CONFIG_INIT;
	aiplat_config_set(&cfg);
	setenv("AIPLAT_OPENAI_BASE_URL", "http://from-env:9/v1", 1);
	assert_string_equal(aiplat_provider_endpoint(AIPLAT_PROVIDER_OPENAI, "http://conf/v1"), "http://conf/v1");
	unsetenv("AIPLAT_OPENAI_BASE_URL");
	assert_null(aiplat_provider_endpoint(AIPLAT_PROVIDER_ANTHROPIC, NULL));
	cfg.openai_base_url = "http://local:1/v1";
	aiplat_config_set(&cfg);
	assert_string_equal(aiplat_provider_endpoint(AIPLAT_PROVIDER_OPENAI, "http://conf/v1"), "http://local:1/v1");
	/* Each kind has its own override. */
	assert_string_equal(aiplat_provider_endpoint(AIPLAT_PROVIDER_ANTHROPIC, "http://conf/v1"), "http://conf/v1");
	cfg.anthropic_base_url = "http://local:2/v1";
	aiplat_config_set(&cfg);
	assert_string_equal(aiplat_provider_endpoint(AIPLAT_PROVIDER_ANTHROPIC, NULL), "http://local:2/v1");
	/* Set but empty: no override. */
	cfg.openai_base_url = "";
	aiplat_config_set(&cfg);
	assert_string_equal(aiplat_provider_endpoint(AIPLAT_PROVIDER_OPENAI, "http://conf/v1"), "http://conf/v1");
	aiplat_config cleared = AIPLAT_CONFIG_INIT;
	aiplat_config_set(&cleared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_ms_wins),
		cmocka_unit_test(test_retry_after_http_date),
		cmocka_unit_test(test_retry_after_garbage),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_cap),
		cmocka_unit_test(test_backoff_seeds_differ),
		cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_error_bodies),
		cmocka_unit_test(test_max_completion_tokens_hosts),
		cmocka_unit_test(test_max_completion_tokens_host_case),
		cmocka_unit_test(test_max_completion_tokens_models),
		cmocka_unit_test(test_openai_request),
		cmocka_unit_test(test_anthropic_request),
		cmocka_unit_test(test_parse_answers),
		cmocka_unit_test(test_join_url),
		cmocka_unit_test(test_render_template),
		cmocka_unit_test(test_render_template_missing),
		cmocka_unit_test(test_estimate),
		cmocka_unit_test(test_provider_kind),
		cmocka_unit_test(test_provider_endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
