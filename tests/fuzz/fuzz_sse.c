/*
 * Fuzz target for the event stream parser (lib/ai/sse.c). Beyond "no
 * crash, no leak, no undefined behaviour", it checks the parser's promise:
 * the same bytes give the same events (and the same error, and the same
 * "cut" verdict) however they are split into chunks. The split comes from
 * the input itself, so the fuzzer explores boundaries too.
 *
 * Built with clang -fsanitize=fuzzer (tests/CMakeLists.txt, when clang is
 * there) and, everywhere, linked with replay.c, which runs the corpus and
 * generated inputs as an ordinary test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "aiplat/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int collect(const aiplat_sse_event *ev, void *ctx)
{
	aiplat_buf *b = ctx;
	if (strlen(ev->data) > ev->data_len || !ev->event || !ev->id)
		abort();
	aiplat_buf_printf(b, "%s|%zu|", ev->event, ev->data_len);
	aiplat_buf_put(b, ev->data, ev->data_len);
	aiplat_buf_printf(b, "|%s|%ld\n", ev->id, ev->retry_ms);
	return 0;
}

/* Parses the stream in chunks whose sizes cycle through `sizes` (NULL: whole). */
static char *run(const uint8_t *in, size_t n, const uint8_t *sizes, size_t nsizes, size_t max)
{
	aiplat_buf out = AIPLAT_BUF_INIT;
	aiplat_buf_puts(&out, "");
	aiplat_sse_parser p;
	aiplat_sse_init(&p, collect, &out, max);
	int rc = 0;
	size_t off = 0, k = 0;
	while (off < n && !rc) {
		size_t len = sizes ? (size_t)sizes[k++ % nsizes] % 17 + 1 : n;
		if (len > n - off)
			len = n - off;
		rc = aiplat_sse_feed(&p, (const char *)in + off, len);
		off += len;
	}
	bool cut = rc ? false : aiplat_sse_finish(&p);
	aiplat_buf_printf(&out, "rc=%d cut=%d\n", rc, cut);
	aiplat_sse_dispose(&p);
	return aiplat_buf_detach(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first bytes choose the chunk sizes and a size limit; the rest is the stream. */
	if (size < 4)
		return 0;
	size_t nsizes = (size_t)data[0] % 8 + 1;
	if (size < 1 + nsizes)
		return 0;
	const uint8_t *sizes = data + 1;
	size_t max = data[0] & 0x80 ? (size_t)(data[1] % 64) + 8 : 0;
	const uint8_t *in = data + 1 + nsizes;
	size_t n = size - 1 - nsizes;
	char *whole = run(in, n, NULL, 0, max);
	char *split = run(in, n, sizes, nsizes, max);
	if (strcmp(whole, split) != 0) {
		fprintf(stderr, "chunking changed the events:\n--- whole\n%s--- split\n%s", whole, split);
		abort();
	}
	free(whole);
	free(split);
	return 0;
}
