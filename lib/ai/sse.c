/*
 * The event stream parser (aiplat/sse.h), following the WHATWG "server-sent
 * events" interpretation rules. It is a byte-at-a-time state machine over
 * whatever chunks the network delivers, so no chunk boundary (inside a
 * field name, between CR and LF, inside a UTF-8 sequence or the byte order
 * mark) changes the events that come out.
 */
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "aiplat/sse.h"

static const unsigned char BOM[3] = { 0xEF, 0xBB, 0xBF };

void aiplat_sse_init(aiplat_sse_parser *p, aiplat_sse_callback cb, void *ctx, size_t max_event)
{
	memset(p, 0, sizeof(*p));
	p->callback = cb;
	p->ctx = ctx;
	p->max_event = max_event ? max_event : AIPLAT_SSE_DEFAULT_MAX;
	p->retry_ms = -1;
}

void aiplat_sse_dispose(aiplat_sse_parser *p)
{
	free(p->line);
	free(p->data);
	p->line = p->data = NULL;
	p->line_len = p->line_cap = p->data_len = p->data_cap = 0;
}

static int too_big(const aiplat_sse_parser *p)
{
	return aiplat_error_set(AIPLAT_EPROVIDER, AIPLAT_ERRCLASS_PROVIDER,
	                        "the event stream sent a line or an event over %zu bytes", p->max_event);
}

/* Makes room for `extra` more bytes plus a NUL. */
static int reserve(char **buf, size_t *cap, size_t len, size_t extra)
{
	if (len + extra + 1 <= *cap)
		return 0;
	size_t want = *cap ? *cap : 256;
	while (want < len + extra + 1)
		want *= 2;
	char *grown = realloc(*buf, want);
	if (!grown)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	*buf = grown;
	*cap = want;
	return 0;
}

static void reset_event(aiplat_sse_parser *p)
{
	p->data_len = 0;
	p->has_data = false;
	p->event[0] = '\0';
	if (p->data)
		p->data[0] = '\0';
}

static int dispatch(aiplat_sse_parser *p)
{
	if (!p->has_data) {   /* an event without data is dropped, its name with it */
		reset_event(p);
		return 0;
	}
	if (reserve(&p->data, &p->data_cap, p->data_len, 0) != 0)
		return AIPLAT_EINTERNAL;
	/* Data lines were each followed by LF; the last one is not part of the data. */
	if (p->data_len > 0 && p->data[p->data_len - 1] == '\n')
		p->data_len--;
	p->data[p->data_len] = '\0';
	aiplat_sse_event ev = {
		p->event[0] ? p->event : "message", p->data, p->data_len, p->id, p->retry_ms
	};
	p->events++;
	int rc = p->callback ? p->callback(&ev, p->ctx) : 0;
	reset_event(p);
	return rc;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One complete line, without its end. */
static int process_line(aiplat_sse_parser *p)
{
	const char *line = p->line ? p->line : "";
	size_t n = p->line_len;
	if (n == 0)
		return dispatch(p);
	if (line[0] == ':')
		return 0;   /* a comment, often a keep-alive */
	const char *colon = memchr(line, ':', n);
	size_t name_len = colon ? (size_t)(colon - line) : n;
	const char *value = colon ? colon + 1 : line + n;
	size_t value_len = colon ? n - name_len - 1 : 0;
	if (value_len > 0 && value[0] == ' ') {
		value++;
		value_len--;
	}
#define FIELD(s) (name_len == sizeof(s) - 1 && memcmp(line, s, sizeof(s) - 1) == 0)
	if (FIELD("data")) {
		if (p->data_len + value_len + 1 > p->max_event)
			return too_big(p);
		if (reserve(&p->data, &p->data_cap, p->data_len, value_len + 1) != 0)
			return AIPLAT_EINTERNAL;
		memcpy(p->data + p->data_len, value, value_len);
		p->data_len += value_len;
		p->data[p->data_len++] = '\n';
		p->has_data = true;
	} else if (FIELD("event")) {
		/* Names longer than the buffer are cut: no provider uses one. */
		size_t k = value_len < sizeof(p->event) - 1 ? value_len : sizeof(p->event) - 1;
		memcpy(p->event, value, k);
		p->event[k] = '\0';
	} else if (FIELD("id")) {
		if (!memchr(value, '\0', value_len)) {   /* an id with NUL is ignored */
			size_t k = value_len < sizeof(p->id) - 1 ? value_len : sizeof(p->id) - 1;
			memcpy(p->id, value, k);
			p->id[k] = '\0';
		}
	} else if (FIELD("retry")) {
		if (all_digits(value, value_len) && value_len <= 9)
			p->retry_ms = atol(value);
	}
	/* Any other field is ignored. */
#undef FIELD
	return 0;
}

static int end_line(aiplat_sse_parser *p)
{
	if (p->line)
		p->line[p->line_len] = '\0';
	int rc = process_line(p);
	p->line_len = 0;
	return rc;
}

int aiplat_sse_feed(aiplat_sse_parser *p, const char *chunk, size_t n)
{
	size_t i = 0;
	/* A byte order mark may open the stream; it may arrive split. */
	while (!p->started && i < n) {
		if ((unsigned char)chunk[i] == BOM[p->bom_seen]) {
			i++;
			if (++p->bom_seen == 3)
				p->started = true;
			continue;
		}
		/* Not a BOM after all: the bytes matched so far are line content. */
		p->started = true;
		if (p->bom_seen) {
			if (reserve(&p->line, &p->line_cap, p->line_len, (size_t)p->bom_seen) != 0)
				return AIPLAT_EINTERNAL;
			memcpy(p->line + p->line_len, BOM, (size_t)p->bom_seen);
			p->line_len += (size_t)p->bom_seen;
		}
	}
	while (i < n) {
		char c = chunk[i];
		if (p->after_cr) {
			p->after_cr = false;
			if (c == '\n') {   /* the LF of a CRLF */
				i++;
				continue;
			}
		}
		if (c == '\r' || c == '\n') {
			p->after_cr = c == '\r';
			i++;
			int rc = end_line(p);
			if (rc)
				return rc;
			continue;
		}
		/* Copy the run of ordinary bytes up to the next line end at once. */
		size_t j = i;
		while (j < n && chunk[j] != '\r' && chunk[j] != '\n')
			j++;
		if (p->line_len + (j - i) > p->max_event)
			return too_big(p);
		if (reserve(&p->line, &p->line_cap, p->line_len, j - i) != 0)
			return AIPLAT_EINTERNAL;
		memcpy(p->line + p->line_len, chunk + i, j - i);
		p->line_len += j - i;
		i = j;
	}
	return 0;
}

bool aiplat_sse_finish(aiplat_sse_parser *p)
{
	bool cut = p->line_len > 0 || p->has_data || (!p->started && p->bom_seen > 0);
	p->line_len = 0;
	reset_event(p);
	return cut;
}
