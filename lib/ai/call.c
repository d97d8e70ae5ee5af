/*
 * One provider call with everything the adapters share: the request is
 * built once, sent, and retried on 429 (unless it is a spend cap), 5xx and
 * 529 with exponential backoff and jitter, honouring Retry-After up to a
 * cap; a wait longer than the cap is not made (the error says how long the
 * provider asked for). Streams are parsed as they arrive; a stream is
 * never retried once an answer started. Connection failures are retried
 * too (nothing reached the provider); timeouts are not (it may have).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "aiplat/db.h"
#include "aiplat/config.h"
#include "aiplat/error.h"
#include "aiplat/log.h"
#include "ai/adapter.h"
#include "ai/http.h"

int aiplat_provider_kind_parse(const char *name)
{
	if (name && !strcmp(name, "openai"))
		return AIPLAT_PROVIDER_OPENAI;
	if (name && !strcmp(name, "anthropic"))
		return AIPLAT_PROVIDER_ANTHROPIC;
	return -1;
}

const char *aiplat_provider_kind_name(aiplat_provider_kind kind)
{
	return kind == AIPLAT_PROVIDER_ANTHROPIC ? "anthropic" : "openai";
}

const char *aiplat_provider_endpoint(aiplat_provider_kind kind, const char *configured)
{
	const aiplat_config *conf = aiplat_config_get();
	const char *over = kind == AIPLAT_PROVIDER_ANTHROPIC ? conf->anthropic_base_url
	                                                     : conf->openai_base_url;
	return over && *over ? over : configured;
}

void aiplat_ai_response_dispose(aiplat_ai_response *r)
{
	free(r->text);
	r->text = NULL;
	r->text_len = 0;
}

long long aiplat_estimate_prompt_tokens(const char *system_message, const aiplat_ai_message *messages,
                                        size_t n)
{
	long long tokens = 3;   /* the reply's priming */
	if (system_message && *system_message)
		tokens += 4 + ((long long)strlen(system_message) + 3) / 4;
	for (size_t i = 0; i < n; i++)
		tokens += 4 + ((long long)strlen(messages[i].content ? messages[i].content : "") + 3) / 4;
	return tokens;
}

char *ai_join_url(const char *base, const char *path)
{
	size_t n = strlen(base) + strlen(path) + 2;
	char *url = malloc(n);
	if (url)
		snprintf(url, n, "%s%s%s", base, *base && base[strlen(base) - 1] == '/' ? "" : "/", path);
	return url;
}

void ai_take_usage(json_t *usage, const char *input_key, const char *output_key, aiplat_ai_response *out)
{
	json_t *in = json_object_get(usage, input_key), *o = json_object_get(usage, output_key);
	if (json_is_integer(in))
		out->input_tokens = json_integer_value(in);
	if (json_is_integer(o))
		out->output_tokens = json_integer_value(o);
}

/* ---- retry policy ------------------------------------------------------------------- */

bool ai_retry_after(const char *retry_after, const char *retry_after_ms, double *seconds)
{
	char *end;
	if (retry_after_ms && *retry_after_ms && strspn(retry_after_ms, "0123456789.") == strlen(retry_after_ms)) {
		double ms = strtod(retry_after_ms, &end);
		if (end != retry_after_ms && *end == '\0' && ms >= 0) {
			*seconds = ms / 1000.0;
			return true;
		}
	}
	if (!retry_after || !*retry_after)
		return false;
	/* delta-seconds: digits (a fraction tolerated); strtod alone would take 1e3, 0x10, inf. */
	size_t digits = strspn(retry_after, "0123456789");
	if (digits > 0 && (retry_after[digits] == '\0' ||
	                   (retry_after[digits] == '.' &&
	                    retry_after[digits + 1 + strspn(retry_after + digits + 1, "0123456789")] == '\0'))) {
		*seconds = strtod(retry_after, &end);
		return true;
	}
	time_t when = curl_getdate(retry_after, NULL);   /* an HTTP date */
	if (when == -1)
		return false;
	double wait = difftime(when, time(NULL));
	*seconds = wait > 0 ? wait : 0;
	return true;
}

double ai_backoff(int attempt, double cap_s, unsigned *seed)
{
	double ceiling = 0.5;
	for (int i = 1; i < attempt && ceiling < cap_s; i++)
		ceiling *= 2;
	if (ceiling > cap_s)
		ceiling = cap_s;
	/* "Equal jitter": half fixed, half random, so clients spread out but still wait. */
	return ceiling / 2 + (ceiling / 2) * ((double)rand_r(seed) / RAND_MAX);
}

bool ai_retryable(long status, const ai_error_info *info)
{
	if (status == 429)
		return !info->spend_cap;
	return status >= 500;   /* 500, 502, 503, 504, 529 overloaded ... */
}

/* ---- errors --------------------------------------------------------------------------- */

static const char *kind_for_status(long status, const ai_error_info *info)
{
	if (status == 429)
		return info->spend_cap ? "quota_exhausted" : "rate_limited";
	if (status == 529 || !strcmp(info->type, "overloaded_error"))
		return "overloaded";
	if (status >= 500)
		return "server_error";
	if (status == 401 || status == 403)
		return "auth";
	if (status == 404)
		return "not_found";
	return "bad_request";
}

static int provider_failure(const ai_adapter *a, const char *kind, long status, const char *request_id,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int provider_failure(const ai_adapter *a, const char *kind, long status, const char *request_id,
                            const char *fmt, ...)
{
	char detail[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER, "%s: %s%s%s%s", a->name, detail,
	                 request_id && *request_id ? " (request id " : "", request_id ? request_id : "",
	                 request_id && *request_id ? ")" : "");
	aiplat_error_set_http_status((int)status);
	aiplat_error_set_provider(kind, request_id);
	return AIPLAT_EPROVIDER;
}

/* ---- streams ----------------------------------------------------------------------------- */

int ai_stream_text(ai_stream *st, const char *text, size_t n)
{
	if (n == 0)
		return 0;
	if (aiplat_buf_put(&st->text, text, n) != 0)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	if (st->req->on_text && st->req->on_text(text, n, st->req->ctx) != 0)
		st->stopped = true;
	return 0;
}

typedef struct stream_ctx {
	const ai_adapter *a;
	ai_stream st;
	aiplat_sse_parser sse;
	const char *prefix;        /* text to emit before the first byte (JSON prefill) */
	int rc;
} stream_ctx;

static int on_event(const aiplat_sse_event *ev, void *arg)
{
	stream_ctx *s = arg;
	int rc = s->a->event(ev, &s->st);
	if (rc)
		return rc;
	return s->st.stopped ? 1 : 0;
}

static int on_stream_bytes(const char *data, size_t n, void *arg)
{
	stream_ctx *s = arg;
	if (s->prefix) {
		const char *p = s->prefix;
		s->prefix = NULL;
		if ((s->rc = ai_stream_text(&s->st, p, strlen(p))) != 0)
			return 1;
	}
	int rc = aiplat_sse_feed(&s->sse, data, n);
	if (rc < 0)
		s->rc = rc;
	return rc != 0;
}

static int prepend(aiplat_ai_response *out, const char *prefix)
{
	size_t n = strlen(prefix);
	char *text = malloc(out->text_len + n + 1);
	if (!text)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	memcpy(text, prefix, n);
	memcpy(text + n, out->text, out->text_len + 1);
	free(out->text);
	out->text = text;
	out->text_len += n;
	return 0;
}

/* ---- the providers --------------------------------------------------------------------- */

static int openai_complete(const aiplat_provider_config *cfg, const aiplat_ai_request *req,
                           aiplat_ai_response *out)
{
	return ai_call(&ai_openai_adapter, cfg, req, false, out);
}

static int openai_stream(const aiplat_provider_config *cfg, const aiplat_ai_request *req,
                         aiplat_ai_response *out)
{
	return ai_call(&ai_openai_adapter, cfg, req, true, out);
}

static int anthropic_complete(const aiplat_provider_config *cfg, const aiplat_ai_request *req,
                              aiplat_ai_response *out)
{
	return ai_call(&ai_anthropic_adapter, cfg, req, false, out);
}

static int anthropic_stream(const aiplat_provider_config *cfg, const aiplat_ai_request *req,
                            aiplat_ai_response *out)
{
	return ai_call(&ai_anthropic_adapter, cfg, req, true, out);
}

static const aiplat_provider providers[] = {
	[AIPLAT_PROVIDER_OPENAI] = { "openai", openai_complete, openai_stream },
	[AIPLAT_PROVIDER_ANTHROPIC] = { "anthropic", anthropic_complete, anthropic_stream },
};

const aiplat_provider *aiplat_provider_get(aiplat_provider_kind kind)
{
	return (unsigned)kind < sizeof(providers) / sizeof(providers[0]) ? &providers[kind] : NULL;
}

/* ---- the call ------------------------------------------------------------------------------- */

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int ai_call(const ai_adapter *a, const aiplat_provider_config *cfg, const aiplat_ai_request *req,
            bool stream, aiplat_ai_response *out)
{
	memset(out, 0, sizeof(*out));
	out->input_tokens = out->output_tokens = -1;
	char *url = NULL, *body = NULL;
	struct curl_slist *headers = NULL;
	int rc = a->build(cfg, req, stream, &url, &headers, &body);
	if (rc)
		return rc;
	int max_retries = cfg->max_retries >= 0 ? cfg->max_retries : 3;
	double cap = cfg->max_retry_wait_s > 0 ? cfg->max_retry_wait_s : 30;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)out;
	ai_http h;
	memset(&h, 0, sizeof(h));
	h.url = url;
	h.headers = headers;
	h.request_body = body;
	h.connect_timeout_s = cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10;
	h.timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 120;
	double start = now_ms();
	stream_ctx sc;
	memset(&sc, 0, sizeof(sc));

	for (int attempt = 1;; attempt++) {
		ai_http_reset(&h);
		if (stream) {
			aiplat_sse_dispose(&sc.sse);
			aiplat_buf_dispose(&sc.st.text);
			memset(&sc, 0, sizeof(sc));
			sc.a = a;
			sc.st.req = req;
			sc.st.out = out;
			sc.prefix = req->json_mode ? a->json_prefix : NULL;
			aiplat_sse_init(&sc.sse, on_event, &sc, 0);
			h.on_body = on_stream_bytes;
			h.ctx = &sc;
		}
		out->attempts = attempt;
		aiplat_log(AIPLAT_LOG_DEBUG, "%s: POST %s (attempt %d)", a->name, url, attempt);
		int sent = ai_http_post(&h);
		out->http_status = (int)h.status;
		snprintf(out->request_id, sizeof(out->request_id), "%s", h.request_id);
		if (sent != 0 && !h.streamed) {
			bool timed_out = h.curl_rc == CURLE_OPERATION_TIMEDOUT;
			/* Nothing reached the provider when the connection failed: worth another try. */
			bool connect_failed = h.curl_rc == CURLE_COULDNT_CONNECT ||
			                      h.curl_rc == CURLE_COULDNT_RESOLVE_HOST;
			if (connect_failed && attempt <= max_retries) {
				sleep_s(ai_backoff(attempt, cap, &seed));
				continue;
			}
			rc = provider_failure(a, timed_out ? "timeout" : "connect", 0, h.request_id, "%s%s",
			                      timed_out ? "no answer in time: " : "cannot reach the provider: ",
			                      h.curl_error);
			if (timed_out)
			{
				aiplat_error_hint("the per-attempt limit was %.0f s", h.timeout_s);
				aiplat_error_set_field("timeout", NULL);
			}
			break;
		}
		if (h.status >= 200 && h.status < 300) {
			if (!stream) {
				rc = a->parse(h.body.ptr ? h.body.ptr : "", h.body.len, out);
				if (rc)
					provider_failure(a, "bad_response", h.status, h.request_id, "%s",
					                 aiplat_error_last()->message);
				else if (req->json_mode && a->json_prefix)
					rc = prepend(out, a->json_prefix);
				break;
			}
			if (sc.rc) {
				rc = provider_failure(a, "bad_response", h.status, h.request_id, "%s",
				                      aiplat_error_last()->message);
				break;
			}
			bool partial = aiplat_sse_finish(&sc.sse);
			out->text_len = sc.st.text.len;
			out->text = aiplat_buf_detach(&sc.st.text);
			if (sc.st.failed) {
				/* Not retried: the provider has begun, and billed, this one. */
				snprintf(out->stream_error, sizeof(out->stream_error), "%s%s%s", sc.st.error_type,
				         sc.st.error_message[0] ? ": " : "", sc.st.error_message);
				out->cut = true;
				rc = 0;
				break;
			}
			if (sent != 0 && !h.stopped) {
				/* The transfer broke off (timeout or connection) mid-stream. */
				out->cut = true;
			} else if (!sc.st.done || partial) {
				out->cut = true;
			}
			rc = 0;
			break;
		}
		/* An error status: what did the provider say? */
		ai_error_info info;
		memset(&info, 0, sizeof(info));
		a->error_body(h.body.ptr ? h.body.ptr : "", h.body.len, &info);
		if (!info.message[0])
			snprintf(info.message, sizeof(info.message), "HTTP %ld", h.status);
		if (ai_retryable(h.status, &info) && attempt <= max_retries) {
			double wait;
			bool asked = ai_retry_after(h.retry_after, h.retry_after_ms, &wait);
			if (!asked)
				wait = ai_backoff(attempt, cap, &seed);
			if (wait <= cap) {
				aiplat_log(AIPLAT_LOG_DEBUG, "%s: HTTP %ld, retrying in %.1f s", a->name, h.status, wait);
				sleep_s(wait);
				continue;
			}
			rc = provider_failure(a, kind_for_status(h.status, &info), h.status, h.request_id,
			                      "HTTP %ld %s: %s; it asks to wait %.0f s, more than the %.0f s allowed",
			                      h.status, info.type, info.message, wait, cap);
			break;
		}
		rc = provider_failure(a, kind_for_status(h.status, &info), h.status, h.request_id,
		                      "HTTP %ld%s%s: %s%s", h.status, info.type[0] ? " " : "", info.type,
		                      info.message, attempt > 1 ? " (after retries)" : "");
		break;
	}
	out->latency_ms = now_ms() - start;
	aiplat_sse_dispose(&sc.sse);
	aiplat_buf_dispose(&sc.st.text);
	ai_http_dispose(&h);
	curl_slist_free_all(headers);
	if (body) {
		memset(body, 0, strlen(body));   /* prompts may be private */
		free(body);
	}
	free(url);
	if (rc)
		aiplat_ai_response_dispose(out);
	return rc;
}
