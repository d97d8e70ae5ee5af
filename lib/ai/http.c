/* HTTP POST for the provider adapters (see http.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ai/http.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct curl_slist *ai_http_header(struct curl_slist *list, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *line = malloc(n);
	if (!line)
		return NULL;
	snprintf(line, n, "%s: %s", name, value);
	struct curl_slist *grown = curl_slist_append(list, line);
	/* curl copies the string; wipe ours, it may hold a key. */
	memset(line, 0, n);
	free(line);
	return grown;
}

/* Copies a header's value (trimmed) when the line is `name: value`. */
static void take_header(const char *line, size_t n, const char *name, char *dst, size_t size)
{
	size_t len = strlen(name);
	if (n <= len || strncasecmp(line, name, len) != 0 || line[len] != ':')
		return;
	const char *v = line + len + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	size_t k = (size_t)(end - v) < size - 1 ? (size_t)(end - v) : size - 1;
	memcpy(dst, v, k);
	dst[k] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
	ai_http *h = arg;
	size_t n = size * nitems;
	/* A new status line (after a 100 Continue or a redirect) starts over. */
	if (n > 5 && !strncmp(line, "HTTP/", 5)) {
		h->request_id[0] = h->retry_after[0] = h->retry_after_ms[0] = h->content_type[0] = '\0';
		return n;
	}
	take_header(line, n, "x-request-id", h->request_id, sizeof(h->request_id));
	take_header(line, n, "request-id", h->request_id, sizeof(h->request_id));
	take_header(line, n, "retry-after", h->retry_after, sizeof(h->retry_after));
	take_header(line, n, "retry-after-ms", h->retry_after_ms, sizeof(h->retry_after_ms));
	take_header(line, n, "content-type", h->content_type, sizeof(h->content_type));
	return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	ai_http *h = arg;
	size_t n = size * nmemb;
	if (h->status == 0)   /* headers are done when the body starts: the status is known */
		curl_easy_getinfo(h->handle, CURLINFO_RESPONSE_CODE, &h->status);
	if (h->on_body && h->status >= 200 && h->status < 300) {
		h->streamed = true;
		if (h->on_body(data, n, h->ctx) != 0) {
			h->stopped = true;
			return 0;   /* curl stops with CURLE_WRITE_ERROR */
		}
		return n;
	}
	/* Error bodies are small; anything past 1 MiB is noise. */
	if (h->body.len < (1u << 20) && aiplat_buf_put(&h->body, data, n) != 0)
		return 0;
	return n;
}

int ai_http_post(ai_http *h)
{
	pthread_once(&curl_once, init_curl);
	CURL *c = curl_easy_init();
	if (!c) {
		h->curl_rc = CURLE_FAILED_INIT;
		snprintf(h->curl_error, sizeof(h->curl_error), "cannot start libcurl");
		return -1;
	}
	h->curl_error[0] = '\0';
	h->handle = c;
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->request_body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(h->request_body));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->connect_timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(h->timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_error);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");   /* whatever curl can decode */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "aiplat/" AIPLAT_VERSION);
	/* Keys travel only to where the model row says: never follow redirects. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	h->curl_rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_easy_cleanup(c);
	h->handle = NULL;
	if (h->curl_rc != CURLE_OK && !(h->stopped && h->curl_rc == CURLE_WRITE_ERROR)) {
		if (!h->curl_error[0])
			snprintf(h->curl_error, sizeof(h->curl_error), "%s", curl_easy_strerror(h->curl_rc));
		return -1;
	}
	return 0;
}

void ai_http_reset(ai_http *h)
{
	h->status = 0;
	h->request_id[0] = h->retry_after[0] = h->retry_after_ms[0] = h->content_type[0] = '\0';
	aiplat_buf_clear(&h->body);
	h->streamed = h->stopped = false;
	h->curl_rc = CURLE_OK;
	h->curl_error[0] = '\0';
}

void ai_http_dispose(ai_http *h)
{
	aiplat_buf_dispose(&h->body);
}
