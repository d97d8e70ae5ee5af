/*
 * AI providers (seed 003 1.2, DESIGN.md section 6): one interface,
 * `complete` and `stream`, with two adapters over libcurl: OpenAI-style
 * chat completions (OpenAI, Mistral/Codestral, local servers that speak
 * the same API) and Anthropic Messages. What to call comes from the model
 * row (aiplat_provider_config); quotas are the caller's business
 * (aiplat/ai.h puts them around every call).
 *
 * Failures return AIPLAT_EPROVIDER with the provider's message, the HTTP
 * status and request id (never the key), and a stable kind in
 * aiplat_error_last()->provider_error:
 *   connect         could not connect (or resolve, or TLS)
 *   timeout         no complete answer within the time allowed
 *   rate_limited    429 after the retries (or a wait longer than allowed)
 *   quota_exhausted 429 for a spend cap or billing limit: never retried
 *   overloaded      529 / overloaded_error after the retries
 *   server_error    5xx after the retries
 *   auth            401 / 403
 *   not_found       404 (a wrong model name or endpoint)
 *   bad_request     other 4xx
 *   bad_response    200 with a body that is not the API's answer
 *   stream_error    an error event inside a 200 stream
 */
#ifndef AIPLAT_PROVIDER_H
#define AIPLAT_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum aiplat_provider_kind {
	AIPLAT_PROVIDER_OPENAI = 0,
	AIPLAT_PROVIDER_ANTHROPIC,
} aiplat_provider_kind;

/* "openai", "anthropic"; -1 when unknown. */
int aiplat_provider_kind_parse(const char *name);
const char *aiplat_provider_kind_name(aiplat_provider_kind kind);

typedef struct aiplat_provider_config {
	aiplat_provider_kind kind;
	const char *endpoint;          /* base URL, e.g. https://api.openai.com/v1 */
	const char *model;             /* the provider's model name */
	const char *api_key;           /* the secret itself; may be NULL for local servers */
	long max_tokens;               /* output tokens allowed (required by Anthropic) */
	const char *system_message;    /* NULL: none */
	double connect_timeout_s;      /* 0: 10 s */
	double timeout_s;              /* per attempt, 0: 120 s */
	int max_retries;               /* on 429, 5xx and 529; -1: 3 */
	double max_retry_wait_s;       /* the longest single wait, Retry-After included; 0: 30 s */
} aiplat_provider_config;

#define AIPLAT_PROVIDER_CONFIG_INIT { AIPLAT_PROVIDER_OPENAI, NULL, NULL, NULL, 0, NULL, 0, 0, -1, 0 }

typedef struct aiplat_ai_message {
	const char *role;              /* "user" or "assistant" */
	const char *content;
} aiplat_ai_message;

typedef struct aiplat_ai_request {
	const aiplat_ai_message *messages;
	size_t nmessages;
	bool json_mode;                /* ask for a JSON object back */
	/* stream(): called with each piece of text as it arrives; nonzero stops. */
	int (*on_text)(const char *text, size_t len, void *ctx);
	void *ctx;
} aiplat_ai_request;

typedef struct aiplat_ai_response {
	char *text;                    /* malloc'd, NUL-terminated (what arrived, for a cut stream) */
	size_t text_len;
	long long input_tokens;        /* as the provider reported them; -1 when it did not */
	long long output_tokens;
	bool cut;                      /* a stream ended before its final event */
	/* A stream that failed after the 200 (an error event): the provider's
	 * "type: message"; text and usage hold what arrived before it. The
	 * call still returns 0, so that the caller can settle what was used. */
	char stream_error[256];
	char request_id[128];
	char finish_reason[64];
	int http_status;
	int attempts;                  /* requests sent, retries included */
	double latency_ms;             /* from the first request to the end of the answer */
} aiplat_ai_response;

typedef struct aiplat_provider {
	const char *name;
	int (*complete)(const aiplat_provider_config *cfg, const aiplat_ai_request *req,
	                aiplat_ai_response *out);
	int (*stream)(const aiplat_provider_config *cfg, const aiplat_ai_request *req,
	              aiplat_ai_response *out);
} aiplat_provider;

const aiplat_provider *aiplat_provider_get(aiplat_provider_kind kind);

/*
 * The base URL for a kind when the configuration overrides it
 * (aiplat_config's openai_base_url, anthropic_base_url: local servers,
 * tests), else `configured`.
 */
const char *aiplat_provider_endpoint(aiplat_provider_kind kind, const char *configured);

/* Frees the text; the struct may be reused. */
void aiplat_ai_response_dispose(aiplat_ai_response *r);

/*
 * The prompt estimate used for reservations: bytes / 4 rounded up, plus 4
 * per message and 3 for the reply's priming (OpenAI's published overhead),
 * with the system message counted as a message. An exact tokenizer can
 * replace it behind this signature.
 */
long long aiplat_estimate_prompt_tokens(const char *system_message,
                                        const aiplat_ai_message *messages, size_t n);

#endif
