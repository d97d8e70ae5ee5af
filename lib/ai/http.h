/*
 * One HTTP POST over libcurl for the provider adapters: timeouts, the
 * response headers that matter (request id, Retry-After, content type),
 * and the body either collected or streamed to a sink as it arrives (a 2xx
 * stream only: an error status's body is always collected, so it can be
 * read as the provider's error).
 */
#ifndef AIPLAT_AI_HTTP_H
#define AIPLAT_AI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include "aiplat/buf.h"

typedef struct ai_http {
	/* the request */
	const char *url;
	const struct curl_slist *headers;
	const char *request_body;
	double connect_timeout_s;
	double timeout_s;
	/* streaming: 2xx bodies go here; return nonzero to stop the transfer */
	int (*on_body)(const char *data, size_t n, void *ctx);
	void *ctx;
	/* the response */
	long status;
	char request_id[128];
	char retry_after[64];
	char retry_after_ms[32];
	char content_type[128];
	aiplat_buf body;                /* collected body (errors, and complete answers) */
	bool streamed;                  /* bytes went to on_body */
	bool stopped;                   /* on_body asked to stop */
	CURLcode curl_rc;
	char curl_error[CURL_ERROR_SIZE];
	CURL *handle;                   /* during ai_http_post */
} ai_http;

/* One attempt. 0 when an HTTP response came back (any status); -1 on a
 * transport failure (curl_rc, curl_error say which). */
int ai_http_post(ai_http *h);
/* Clears the response fields for another attempt. */
void ai_http_reset(ai_http *h);
void ai_http_dispose(ai_http *h);

/* A header line for a curl_slist: "Name: value" (malloc'd, freed by the caller). */
struct curl_slist *ai_http_header(struct curl_slist *list, const char *name, const char *value);

#endif
