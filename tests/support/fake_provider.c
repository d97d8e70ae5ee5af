/*
 * A fake AI provider for the tests: an HTTP/1.1 server on 127.0.0.1 that
 * speaks OpenAI chat completions (POST .../chat/completions) and Anthropic
 * Messages (POST .../messages), complete and streamed, with behaviours
 * scripted by the model name a request asks for:
 *
 *   normal          an answer; usage: input = bytes of the messages, output = 7
 *   json            the answer is a JSON object (after Anthropic's "{" prefill)
 *   slow[:S]        the answer after S seconds (default 5)
 *   ratelimit[:N]   429 with Retry-After: 1 (seconds) N times (default 1), then an answer
 *   ratedate[:N]    the same with Retry-After as an HTTP date
 *   retrylong       429 asking to wait an hour, always
 *   flaky[:N]       500 N times (default 1), then an answer
 *   overloaded      529 overloaded_error, always
 *   quota           429 for a spent budget (insufficient_quota / spend limit)
 *   badrequest      400        auth  401
 *   malformed       200 with a body that is not JSON
 *   cut             (streams) a few pieces, then the connection closes early
 *   streamerror     (streams) a few pieces, then an error event after the 200
 *
 * A ":tag" suffix keeps counters apart (flaky:1:testname). Every request is
 * logged as one JSON line (api, model, stream, headers that matter, body)
 * to --log, so tests can count what reached the provider.
 *
 *   fake_provider --port-file FILE [--log FILE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *logf_;
static unsigned long request_seq;

/* Requests seen per model string (for "N times, then an answer"). */
#define MAX_COUNTERS 512
static struct { char model[160]; int seen; } counters[MAX_COUNTERS];
static int ncounters;

static int count_request(const char *model)
{
	pthread_mutex_lock(&lock);
	int i = 0;
	for (; i < ncounters && strcmp(counters[i].model, model) != 0; i++)
		;
	if (i == ncounters && ncounters < MAX_COUNTERS) {
		snprintf(counters[i].model, sizeof(counters[i].model), "%s", model);
		ncounters++;
	}
	int n = i < MAX_COUNTERS ? ++counters[i].seen : 1;
	pthread_mutex_unlock(&lock);
	return n;
}

/* ---- HTTP ---------------------------------------------------------------------------- */

typedef struct request {
	char method[8];
	char path[256];
	char headers[8192];
	char *body;
	size_t body_len;
} request;

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void send_fmt(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_fmt(int fd, const char *fmt, ...)
{
	char buf[16384];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		write_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The value of a header in the raw header block, or "". */
static void header_value(const request *r, const char *name, char *out, size_t size)
{
	out[0] = '\0';
	size_t len = strlen(name);
	for (const char *line = r->headers; line && *line;) {
		const char *end = strstr(line, "\r\n");
		if (!end)
			break;
		if ((size_t)(end - line) > len && !strncasecmp(line, name, len) && line[len] == ':') {
			const char *v = line + len + 1;
			while (*v == ' ')
				v++;
			size_t n = (size_t)(end - v) < size - 1 ? (size_t)(end - v) : size - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return;
		}
		line = end + 2;
	}
}

static bool read_request(int fd, request *r)
{
	char buf[65536];
	size_t got = 0;
	char *end = NULL;
	while (!end) {
		if (got == sizeof(buf) - 1)
			return false;
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	size_t head = (size_t)(end - buf) + 4;
	if (sscanf(buf, "%7s %255s", r->method, r->path) != 2)
		return false;
	const char *first = strstr(buf, "\r\n");
	size_t hlen = head - (size_t)(first + 2 - buf);
	if (hlen >= sizeof(r->headers))
		hlen = sizeof(r->headers) - 1;
	memcpy(r->headers, first + 2, hlen);
	r->headers[hlen] = '\0';
	char cl[32];
	header_value(r, "Content-Length", cl, sizeof(cl));
	r->body_len = (size_t)atol(cl);
	r->body = malloc(r->body_len + 1);
	if (!r->body)
		return false;
	size_t have = got - head < r->body_len ? got - head : r->body_len;
	memcpy(r->body, buf + head, have);
	while (have < r->body_len) {
		ssize_t n = recv(fd, r->body + have, r->body_len - have, 0);
		if (n <= 0)
			return false;
		have += (size_t)n;
	}
	r->body[r->body_len] = '\0';
	return true;
}

/* ---- the two APIs -------------------------------------------------------------------- */

typedef enum { OPENAI, ANTHROPIC } api;

static void log_request(api a, const request *r, json_t *body, const char *model, bool stream)
{
	char auth[512], xkey[512], version[64];
	header_value(r, "Authorization", auth, sizeof(auth));
	header_value(r, "x-api-key", xkey, sizeof(xkey));
	header_value(r, "anthropic-version", version, sizeof(version));
	json_t *line = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:O}", "api", a == OPENAI ? "openai" : "anthropic",
	                         "model", model, "stream", stream, "authorization", auth, "x_api_key", xkey,
	                         "anthropic_version", version, "body", body ? body : json_null());
	char *text = json_dumps(line, JSON_COMPACT);
	pthread_mutex_lock(&lock);
	if (logf_ && text) {
		fprintf(logf_, "%s\n", text);
		fflush(logf_);
	}
	pthread_mutex_unlock(&lock);
	free(text);
	json_decref(line);
}

static void respond_json(int fd, api a, int status, const char *reason, const char *extra_headers,
                         const char *body)
{
	unsigned long id;
	pthread_mutex_lock(&lock);
	id = ++request_seq;
	pthread_mutex_unlock(&lock);
	send_fmt(fd,
	         "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	         "%s: req_fake_%lu\r\n%sConnection: close\r\n\r\n",
	         status, reason, strlen(body), a == OPENAI ? "x-request-id" : "request-id", id,
	         extra_headers ? extra_headers : "");
	write_all(fd, body, strlen(body));
}

static void respond_error(int fd, api a, int status, const char *reason, const char *type,
                          const char *message, const char *extra_headers)
{
	char body[1024];
	if (a == OPENAI)
		snprintf(body, sizeof(body), "{\"error\":{\"message\":\"%s\",\"type\":\"%s\",\"code\":\"%s\"}}",
		         message, type, type);
	else
		snprintf(body, sizeof(body), "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"%s\"}}",
		         type, message);
	respond_json(fd, a, status, reason, extra_headers, body);
}

/* Bytes of the messages' text: the fake's "input tokens". */
static long input_size(json_t *body)
{
	long n = 0;
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(body, "messages"), i, m) {
		json_t *c = json_object_get(m, "content");
		if (json_is_string(c))
			n += (long)json_string_length(c);
	}
	json_t *sys = json_object_get(body, "system");
	if (json_is_string(sys))
		n += (long)json_string_length(sys);
	return n;
}

static bool prefilled(json_t *body)
{
	json_t *msgs = json_object_get(body, "messages");
	json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
	const char *role = json_string_value(json_object_get(last, "role"));
	return role && !strcmp(role, "assistant");
}

static const char *answer_text(api a, json_t *body, const char *behaviour)
{
	if (!strcmp(behaviour, "json"))
		return a == ANTHROPIC && prefilled(body) ? "\"answer\": 42}" : "{\"answer\": 42}";
	return "Hello from the fake provider.";
}

static void complete(int fd, api a, json_t *body, const char *behaviour)
{
	const char *text = answer_text(a, body, behaviour);
	json_t *doc;
	if (a == OPENAI)
		doc = json_pack("{s:s,s:s,s:[{s:i,s:{s:s,s:s},s:s}],s:{s:I,s:i,s:I}}", "id", "chatcmpl-fake",
		                "object", "chat.completion", "choices", "index", 0, "message", "role", "assistant",
		                "content", text, "finish_reason", "stop", "usage", "prompt_tokens",
		                (json_int_t)input_size(body), "completion_tokens", 7, "total_tokens",
		                (json_int_t)input_size(body) + 7);
	else
		doc = json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:s,s:{s:I,s:i}}", "id", "msg_fake", "type", "message",
		                "role", "assistant", "content", "type", "text", "text", text, "stop_reason",
		                "end_turn", "usage", "input_tokens", (json_int_t)input_size(body), "output_tokens", 7);
	char *out = json_dumps(doc, JSON_COMPACT);
	respond_json(fd, a, 200, "OK", NULL, out);
	free(out);
	json_decref(doc);
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Streams the answer in pieces, with keep-alives, ending as `how` says: "end", "cut", "error". */
static void stream(int fd, api a, json_t *body, const char *behaviour, const char *how)
{
	unsigned long id;
	pthread_mutex_lock(&lock);
	id = ++request_seq;
	pthread_mutex_unlock(&lock);
	send_fmt(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
	             "%s: req_fake_%lu\r\nConnection: close\r\n\r\n",
	         a == OPENAI ? "x-request-id" : "request-id", id);
	const char *text = answer_text(a, body, behaviour);
	long in = input_size(body);
	if (a == ANTHROPIC) {
		send_fmt(fd, "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake\","
		             "\"usage\":{\"input_tokens\":%ld,\"output_tokens\":1}}}\r\n\r\n", in);
		send_fmt(fd, "event: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":0,"
		             "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\n");
		send_fmt(fd, "event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n");
	} else {
		send_fmt(fd, ": keep-alive\n\n");
	}
	/* The text in pieces of five bytes, each its own write. */
	size_t n = strlen(text);
	for (size_t off = 0; off < n; off += 5) {
		char piece[16];
		size_t k = n - off < 5 ? n - off : 5;
		json_t *s = json_stringn(text + off, k);
		char *js = json_dumps(s, JSON_ENCODE_ANY);
		json_decref(s);
		(void)piece;
		if (a == OPENAI)
			send_fmt(fd, "data: {\"id\":\"chatcmpl-fake\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},"
			             "\"finish_reason\":null}],\"usage\":null}\n\n", js);
		else
			send_fmt(fd, "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
			             "\"delta\":{\"type\":\"text_delta\",\"text\":%s}}\r\n\r\n", js);
		free(js);
		pause_ms(5);
		if (off >= 10 && strcmp(how, "end") != 0)
			break;
	}
	if (!strcmp(how, "cut"))
		return;   /* the connection closes without the end of the stream */
	if (!strcmp(how, "error")) {
		if (a == OPENAI)
			send_fmt(fd, "data: {\"error\":{\"message\":\"The server had an error while processing your "
			             "request.\",\"type\":\"server_error\"}}\n\n");
		else
			send_fmt(fd, "event: error\r\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
			             "\"message\":\"Overloaded\"}}\r\n\r\n");
		return;
	}
	if (a == OPENAI) {
		send_fmt(fd, "data: {\"id\":\"chatcmpl-fake\",\"choices\":[{\"index\":0,\"delta\":{},"
		             "\"finish_reason\":\"stop\"}],\"usage\":null}\n\n");
		send_fmt(fd, "data: {\"id\":\"chatcmpl-fake\",\"choices\":[],\"usage\":{\"prompt_tokens\":%ld,"
		             "\"completion_tokens\":7,\"total_tokens\":%ld}}\n\n", in, in + 7);
		send_fmt(fd, "data: [DONE]\n\n");
	} else {
		send_fmt(fd, "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n");
		send_fmt(fd, "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		             "\"end_turn\"},\"usage\":{\"output_tokens\":3}}\r\n\r\n");
		send_fmt(fd, "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{},"
		             "\"usage\":{\"output_tokens\":7}}\r\n\r\n");
		send_fmt(fd, "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n");
	}
}

/* "ratelimit:3:tag" -> behaviour "ratelimit", number 3. */
static void parse_model(const char *model, char *behaviour, size_t size, long *number)
{
	size_t n = strcspn(model, ":");
	snprintf(behaviour, size, "%.*s", (int)n, model);
	*number = -1;
	if (model[n] == ':') {
		char *end;
		long v = strtol(model + n + 1, &end, 10);
		if (end != model + n + 1)
			*number = v;
	}
}

static void serve(int fd)
{
	request r;
	memset(&r, 0, sizeof(r));
	if (!read_request(fd, &r)) {
		free(r.body);
		return;
	}
	size_t plen = strlen(r.path);
	api a;
	if (plen >= 17 && !strcmp(r.path + plen - 17, "/chat/completions"))
		a = OPENAI;
	else if (plen >= 9 && !strcmp(r.path + plen - 9, "/messages"))
		a = ANTHROPIC;
	else {
		respond_json(fd, OPENAI, 404, "Not Found", NULL, "{\"error\":{\"message\":\"no such path\"}}");
		free(r.body);
		return;
	}
	json_t *body = json_loadb(r.body, r.body_len, 0, NULL);
	const char *model = json_string_value(json_object_get(body, "model"));
	bool streaming = json_is_true(json_object_get(body, "stream"));
	log_request(a, &r, body, model ? model : "", streaming);
	char behaviour[64];
	long number;
	parse_model(model ? model : "", behaviour, sizeof(behaviour), &number);
	int seen = count_request(model ? model : "");
	long times = number > 0 ? number : 1;

	if (!strcmp(behaviour, "slow"))
		pause_ms((number > 0 ? number : 5) * 1000);
	if (!strcmp(behaviour, "ratelimit") && seen <= times) {
		respond_error(fd, a, 429, "Too Many Requests", a == OPENAI ? "rate_limit_exceeded" : "rate_limit_error",
		              "Rate limit reached", "Retry-After: 1\r\n");
	} else if (!strcmp(behaviour, "ratedate") && seen <= times) {
		char date[64], hdr[96];
		time_t when = time(NULL) + 2;
		struct tm tm;
		gmtime_r(&when, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		snprintf(hdr, sizeof(hdr), "Retry-After: %s\r\n", date);
		respond_error(fd, a, 429, "Too Many Requests", "rate_limit_error", "Rate limit reached", hdr);
	} else if (!strcmp(behaviour, "retrylong")) {
		respond_error(fd, a, 429, "Too Many Requests", "rate_limit_error", "Rate limit reached",
		              "Retry-After: 3600\r\n");
	} else if (!strcmp(behaviour, "flaky") && seen <= times) {
		respond_error(fd, a, 500, "Internal Server Error", "server_error", "Something went wrong", NULL);
	} else if (!strcmp(behaviour, "overloaded")) {
		respond_error(fd, a, 529, "Overloaded", "overloaded_error", "Overloaded", NULL);
	} else if (!strcmp(behaviour, "quota")) {
		respond_error(fd, a, 429, "Too Many Requests", a == OPENAI ? "insufficient_quota" : "rate_limit_error",
		              a == OPENAI ? "You exceeded your current quota, please check your plan and billing details."
		                          : "You have reached your spend limit.", "Retry-After: 1\r\n");
	} else if (!strcmp(behaviour, "badrequest")) {
		respond_error(fd, a, 400, "Bad Request", "invalid_request_error", "max_tokens: too large", NULL);
	} else if (!strcmp(behaviour, "auth")) {
		respond_error(fd, a, 401, "Unauthorized", "authentication_error", "invalid x-api-key", NULL);
	} else if (!strcmp(behaviour, "malformed")) {
		respond_json(fd, a, 200, "OK", NULL, "this is not JSON {");
	} else if (streaming) {
		stream(fd, a, body, behaviour,
		       !strcmp(behaviour, "cut") ? "cut" : !strcmp(behaviour, "streamerror") ? "error" : "end");
	} else {
		complete(fd, a, body, behaviour);
	}
	json_decref(body);
	free(r.body);
}

static void *connection(void *arg)
{
	int fd = (int)(intptr_t)arg;
	serve(fd);
	shutdown(fd, SHUT_WR);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *port_file = NULL, *log_path = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--log"))
			log_path = argv[i + 1];
	}
	if (!port_file) {
		fprintf(stderr, "usage: fake_provider --port-file FILE [--log FILE]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (log_path && !(logf_ = fopen(log_path, "a"))) {
		perror(log_path);
		return 1;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(s, 64) != 0) {
		perror("fake_provider: bind");
		return 1;
	}
	socklen_t len = sizeof(addr);
	getsockname(s, (struct sockaddr *)&addr, &len);
	/* Written to a temporary name and renamed: readers never see half a port. */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	FILE *pf = fopen(tmp, "w");
	if (!pf) {
		perror(tmp);
		return 1;
	}
	fprintf(pf, "%d\n", ntohs(addr.sin_port));
	fclose(pf);
	rename(tmp, port_file);
	for (;;) {
		int fd = accept(s, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("fake_provider: accept");
			return 1;
		}
		pthread_t t;
		if (pthread_create(&t, NULL, connection, (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
}
