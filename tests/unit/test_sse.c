/*
 * The event stream parser on the format's rules and on providers' real
 * sequences, fed whole, in two and three pieces split at every possible
 * boundary, and a byte at a time: the events must never depend on where
 * the network cut the bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "aiplat/error.h"
#include "aiplat/buf.h"
#include "aiplat/sse.h"

/* Events written out as "event|data|id|retry" lines, LF in data as "\n". */
static int collect(const aiplat_sse_event *ev, void *ctx)
{
	aiplat_buf *b = ctx;
	aiplat_buf_printf(b, "%s|", ev->event);
	for (size_t i = 0; i < ev->data_len; i++) {
		if (ev->data[i] == '\n')
			aiplat_buf_puts(b, "\\n");
		else
			aiplat_buf_putc(b, ev->data[i]);
	}
	assert_int_equal(strlen(ev->data), ev->data_len);   /* NUL-terminated, no NUL inside */
	aiplat_buf_printf(b, "|%s|%ld\n", ev->id, ev->retry_ms);
	return 0;
}

/* Parses `in` cut at the given offsets; returns the events and whether it ended cut. */
static char *parse_split(const char *in, size_t n, const size_t *cuts, size_t ncuts, bool *cut)
{
	aiplat_buf out = AIPLAT_BUF_INIT;
	aiplat_buf_puts(&out, "");
	aiplat_sse_parser p;
	aiplat_sse_init(&p, collect, &out, 0);
	size_t from = 0;
	for (size_t k = 0; k <= ncuts; k++) {
		size_t to = k < ncuts ? cuts[k] : n;
		assert_int_equal(aiplat_sse_feed(&p, in + from, to - from), 0);
		from = to;
	}
	bool was_cut = aiplat_sse_finish(&p);
	if (cut)
		*cut = was_cut;
	aiplat_sse_dispose(&p);
	return aiplat_buf_detach(&out);
}

/* Whole, every 2-way and (for short inputs) every 3-way split, byte by byte. */
static void expect_events(const char *in, const char *expected, bool expect_cut)
{
	size_t n = strlen(in);
	bool cut;
	char *got = parse_split(in, n, NULL, 0, &cut);
	if (strcmp(got, expected) != 0)
		fail_msg("whole input\n--- got:\n%s--- expected:\n%s", got, expected);
	assert_int_equal(cut, expect_cut);
	free(got);
	for (size_t a = 0; a <= n; a++) {
		size_t cuts[2] = { a, 0 };
		got = parse_split(in, n, cuts, 1, &cut);
		if (strcmp(got, expected) != 0)
			fail_msg("split at %zu\n--- got:\n%s--- expected:\n%s", a, got, expected);
		assert_int_equal(cut, expect_cut);
		free(got);
		for (size_t b = a; n <= 160 && b <= n; b++) {
			cuts[1] = b;
			got = parse_split(in, n, cuts, 2, &cut);
			if (strcmp(got, expected) != 0)
				fail_msg("split at %zu and %zu\n--- got:\n%s--- expected:\n%s", a, b, got, expected);
			free(got);
		}
	}
	size_t *every = malloc((n + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		every[i] = i + 1;
	got = parse_split(in, n, every, n ? n - 1 : 0, &cut);
	if (strcmp(got, expected) != 0)
		fail_msg("byte by byte\n--- got:\n%s--- expected:\n%s", got, expected);
	free(got);
	free(every);
}

static void test_data_lines(void **state)
{
	(void)state;
	expect_events("data: hello\n\n", "message|hello||-1\n", false);
	expect_events("data: one\ndata: two\n\n", "message|one\\ntwo||-1\n", false);
	/* One space after the colon is dropped, no more; no colon means an empty value. */
	expect_events("data:x\n\ndata:  two spaces\n\ndata\n\n",
	              "message|x||-1\nmessage| two spaces||-1\nmessage|||-1\n", false);
	/* An empty data line still makes an event; a data line ending in a colon keeps it. */
	expect_events("data:\n\ndata: a:b: c\n\n", "message|||-1\nmessage|a:b: c||-1\n", false);
	expect_events("data: first\n\ndata: second\n\n", "message|first||-1\nmessage|second||-1\n", false);
}

static void test_line_ends(void **state)
{
	(void)state;
	expect_events("data: crlf\r\n\r\ndata: cr\r\rdata: lf\n\n",
	              "message|crlf||-1\nmessage|cr||-1\nmessage|lf||-1\n", false);
	/* CR then LF is one line end; CR, CR is two (a blank line). */
	expect_events("data: a\r\ndata: b\r\r", "message|a\\nb||-1\n", false);
	expect_events("data: a\n\r\n", "message|a||-1\n", false);
}

static void test_fields(void **state)
{
	(void)state;
	/* Comments and unknown fields are ignored; event names apply to one event. */
	expect_events(": keep-alive\n:\nfoo: bar\nevent: add\ndata: 1\n\ndata: 2\n\n",
	              "add|1||-1\nmessage|2||-1\n", false);
	/* Ids are sticky; retry takes digits only. */
	expect_events("id: 7\nretry: 1500\ndata: a\n\nretry: soon\ndata: b\n\nid\ndata: c\n\n",
	              "message|a|7|1500\nmessage|b|7|1500\nmessage|c||1500\n", false);
	/* An event with no data is not dispatched, and forgets its name. */
	expect_events("event: lonely\n\ndata: x\n\n", "message|x||-1\n", false);
	/* Field names are case-sensitive. */
	expect_events("Data: no\nDATA: no\ndata: yes\n\n", "message|yes||-1\n", false);
}

static void test_byte_order_mark(void **state)
{
	(void)state;
	expect_events("\xEF\xBB\xBF" "data: bom\n\n", "message|bom||-1\n", false);
	/* Only at the very start; elsewhere the bytes are content. */
	expect_events("data: \xEF\xBB\xBFx\n\n", "message|\xEF\xBB\xBFx||-1\n", false);
	/* Something that starts like a BOM but is not one is content: a field
	 * named "\xEF\xBB" is unknown, so nothing comes out. */
	expect_events("\xEF\xBB" "data: x\n\ndata: y\n\n", "message|y||-1\n", false);
}

static void test_cut_streams(void **state)
{
	(void)state;
	/* The last event lacks its blank line: it is not dispatched, and the stream was cut. */
	expect_events("data: whole\n\ndata: half", "message|whole||-1\n", true);
	expect_events("data: whole\n\ndata: half\n", "message|whole||-1\n", true);
	expect_events("data: whole\n\n", "message|whole||-1\n", false);
	expect_events("", "", false);
	expect_events(": only a comment\n", "", false);
}

/* OpenAI chat completions with stream_options.include_usage. */
static void test_openai_sequence(void **state)
{
	(void)state;
	const char *in =
		"data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
		": OPENROUTER PROCESSING\n\n"
		"data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n\n"
		"data: [DONE]\n\n";
	expect_events(in,
		"message|{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}||-1\n"
		"message|{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}||-1\n"
		"message|{\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}||-1\n"
		"message|[DONE]||-1\n", false);
}

/* Anthropic Messages: named events, pings, cumulative usage, and an error after 200. */
static void test_anthropic_sequence(void **state)
{
	(void)state;
	const char *in =
		"event: message_start\r\n"
		"data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\r\n\r\n"
		"event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
		"event: content_block_delta\r\n"
		"data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\r\n\r\n"
		"event: message_delta\r\n"
		"data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}\r\n\r\n"
		"event: error\r\n"
		"data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\r\n\r\n";
	expect_events(in,
		"message_start|{\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}||-1\n"
		"ping|{\"type\": \"ping\"}||-1\n"
		"content_block_delta|{\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}||-1\n"
		"message_delta|{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}||-1\n"
		"error|{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}||-1\n",
		false);
}

static int stop_at_second(const aiplat_sse_event *ev, void *ctx)
{
	int *seen = ctx;
	(void)ev;
	return ++*seen == 2 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
	(void)state;
	int seen = 0;
	aiplat_sse_parser p;
	aiplat_sse_init(&p, stop_at_second, &seen, 0);
	const char *in = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
	assert_int_equal(aiplat_sse_feed(&p, in, strlen(in)), 42);
	assert_int_equal(seen, 2);
	aiplat_sse_dispose(&p);
}

static void test_limits(void **state)
{
	(void)state;
	aiplat_sse_parser p;
	aiplat_sse_init(&p, NULL, NULL, 16);
	/* A line longer than the limit, even without its end. */
	assert_int_equal(aiplat_sse_feed(&p, "data: 0123456789abcdef", 22), AIPLAT_EPROVIDER);
	aiplat_sse_dispose(&p);
	/* Data accumulated over lines. */
	aiplat_sse_init(&p, NULL, NULL, 16);
	assert_int_equal(aiplat_sse_feed(&p, "data: 0123456\n", 14), 0);
	assert_int_equal(aiplat_sse_feed(&p, "data: 01234567\n", 15), AIPLAT_EPROVIDER);
	aiplat_sse_dispose(&p);
	/* Within the limit is fine, and nothing is dispatched without a callback. */
	aiplat_sse_init(&p, NULL, NULL, 16);
	assert_int_equal(aiplat_sse_feed(&p, "data: 01234567\n\n", 16), 0);
	assert_int_equal(p.events, 1);
	aiplat_sse_dispose(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_lines),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_cut_streams),
		cmocka_unit_test(test_openai_sequence),
		cmocka_unit_test(test_anthropic_sequence),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
