/*
 * What differs between providers, behind the aiplat_provider interface:
 * how a request is written, how an answer and its stream events are read,
 * and what an error body says. call.c does everything they share (the
 * HTTP attempt, retries with backoff, timing, error reporting).
 */
#ifndef AIPLAT_AI_ADAPTER_H
#define AIPLAT_AI_ADAPTER_H

#include <stdbool.h>
#include <curl/curl.h>
#include <jansson.h>
#include "aiplat/buf.h"
#include "aiplat/provider.h"
#include "aiplat/sse.h"

/* A stream in progress, as the adapter's event handler sees it. */
typedef struct ai_stream {
	const aiplat_ai_request *req;
	aiplat_ai_response *out;
	aiplat_buf text;
	bool done;                 /* the final event came ([DONE], message_stop) */
	bool failed;               /* an error event came */
	char error_type[64];
	char error_message[512];
	bool stopped;              /* on_text asked to stop */
} ai_stream;

/* What an error body said. */
typedef struct ai_error_info {
	char type[64];             /* the provider's error type or code */
	char message[512];
	bool spend_cap;            /* a quota or billing limit: retrying cannot help */
} ai_error_info;

typedef struct ai_adapter {
	const char *name;
	/* In JSON mode, the text the adapter started the answer with (a
	 * prefill), which the provider does not repeat: put back in front. */
	const char *json_prefix;
	/* URL, headers and JSON body of a request; *headers and *body are the caller's to free. */
	int (*build)(const aiplat_provider_config *cfg, const aiplat_ai_request *req, bool stream,
	             char **url, struct curl_slist **headers, char **body);
	/* A complete (non-streamed) answer. AIPLAT_EPROVIDER when it is not one. */
	int (*parse)(const char *body, size_t n, aiplat_ai_response *out);
	/* One event of a stream; 0 to go on (done/failed say when it ended). */
	int (*event)(const aiplat_sse_event *ev, ai_stream *st);
	void (*error_body)(const char *body, size_t n, ai_error_info *info);
} ai_adapter;

extern const ai_adapter ai_openai_adapter;
extern const ai_adapter ai_anthropic_adapter;

/* The shared machinery (call.c): one logical call with its retries. */
int ai_call(const ai_adapter *a, const aiplat_provider_config *cfg, const aiplat_ai_request *req,
            bool stream, aiplat_ai_response *out);

/* base + "/" + path, without doubling a slash (malloc'd; NULL without memory). */
char *ai_join_url(const char *base, const char *path);

/* Copies a usage object's token counts (as the provider names them) into out. */
void ai_take_usage(json_t *usage, const char *input_key, const char *output_key, aiplat_ai_response *out);

/* Appends streamed text to the answer and hands it to on_text. */
int ai_stream_text(ai_stream *st, const char *text, size_t n);

/*
 * Retry-After: seconds (possibly fractional) or an HTTP date, relative to
 * now; retry-after-ms wins when present. False when neither says anything
 * usable.
 */
bool ai_retry_after(const char *retry_after, const char *retry_after_ms, double *seconds);
/* Exponential backoff with jitter for attempt 1, 2, ...: base 0.5 s doubling, capped. */
double ai_backoff(int attempt, double cap_s, unsigned *seed);
/* Whether a status is worth retrying. */
bool ai_retryable(long status, const ai_error_info *info);

#endif
