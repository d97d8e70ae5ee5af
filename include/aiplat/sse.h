/*
 * Server-sent events (the WHATWG event stream format), as AI providers
 * stream completions: bytes go in as they arrive, in chunks of any size,
 * and complete events come out through a callback.
 *
 * Lines end with CRLF, LF or CR (a CRLF split between two chunks is one
 * line end); a leading byte order mark is skipped; lines starting with ':'
 * are comments; `data:` lines accumulate (joined with LF); `event:` names
 * the event (default "message"); `id:` and `retry:` are kept; a blank line
 * dispatches the event, unless it has no data. What the data means
 * (`[DONE]`, JSON, `ping`, `error`) is the provider adapter's business.
 */
#ifndef AIPLAT_SSE_H
#define AIPLAT_SSE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct aiplat_sse_event {
	const char *event;     /* never NULL: "message" when the stream named none */
	const char *data;      /* NUL-terminated; may contain LF between data lines */
	size_t data_len;
	const char *id;        /* the last event id seen (sticky), "" when none */
	long retry_ms;         /* the last retry: value, -1 when none */
} aiplat_sse_event;

/* Return 0 to go on, anything else to stop: feed() returns that value. */
typedef int (*aiplat_sse_callback)(const aiplat_sse_event *ev, void *ctx);

typedef struct aiplat_sse_parser {
	aiplat_sse_callback callback;
	void *ctx;
	size_t max_event;      /* bytes a line or an event's data may reach */
	char *line;            /* the line being read */
	size_t line_len, line_cap;
	char *data;
	size_t data_len, data_cap;
	bool has_data;         /* a data: field was seen (it may be empty) */
	char event[64];
	char id[256];
	long retry_ms;
	bool after_cr;         /* the last byte was CR: a following LF belongs to it */
	bool started;          /* past a possible byte order mark */
	int bom_seen;          /* bytes of the BOM matched so far */
	size_t events;         /* dispatched so far */
} aiplat_sse_parser;

#define AIPLAT_SSE_DEFAULT_MAX (8u << 20)

/* max_event 0: AIPLAT_SSE_DEFAULT_MAX. */
void aiplat_sse_init(aiplat_sse_parser *p, aiplat_sse_callback cb, void *ctx, size_t max_event);
/*
 * Parses a chunk. 0 when all was consumed; the callback's nonzero value
 * when it asked to stop; AIPLAT_EPROVIDER when a line or an event grows
 * past max_event, AIPLAT_EINTERNAL when memory runs out.
 */
int aiplat_sse_feed(aiplat_sse_parser *p, const char *chunk, size_t n);
/*
 * The stream ended. An event without its blank line is not dispatched
 * (the format says so); returns true when such a partial event, or a
 * partial line, was left over: the stream was cut.
 */
bool aiplat_sse_finish(aiplat_sse_parser *p);
void aiplat_sse_dispose(aiplat_sse_parser *p);

#endif
