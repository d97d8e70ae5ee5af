/*
 * Fuzz target for the CSV reader (lib/util/csv.c). Beyond "no crash, no
 * leak, no undefined behaviour", it checks the reader's promises:
 * - the records (fields, line numbers, errors) do not depend on how the
 *   stream is cut: the input is read in one chunk and, in lockstep, with a
 *   buffer of 1 to 16 bytes, so every quote, doubled quote and CRLF lands on
 *   a chunk boundary somewhere;
 * - every record agrees with a plain byte-at-a-time reference reader written
 *   here from the format's rules: same line, same fields, error or not;
 * - a record without an error, written back with every field quoted and a
 *   CRLF, reads back as the same record;
 * - at the end every byte was consumed and every LF counted.
 * The first byte chooses the small buffer, the mode (records with
 * csv_next, lines with csv_next_line, or the two alternating on one reader)
 * and whether the one chunk is the reader's own 1 MiB buffer or, to keep
 * the fuzzer fast, one the size of the input.
 *
 * Built with clang -fsanitize=fuzzer (tests/CMakeLists.txt, when clang is
 * there) and, everywhere, linked with replay.c, which runs the corpus and
 * generated inputs as an ordinary test.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz_csv: %s: ", #cond);               \
			fprintf(stderr, __VA_ARGS__);                           \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

/* --- the reference reader ------------------------------------------------ */

typedef struct {
	const uint8_t *in;
	size_t n, pos;
	unsigned long line;
	char *out;                          /* the record's fields, NUL-separated */
	size_t starts[CSV_MAX_FIELDS + 1];
	size_t count;                       /* fields in the record, even past the maximum */
	size_t len;                         /* bytes in out, with the final NUL */
	unsigned long rec_line;
	bool error;
} ref_reader;

/*
 * The rules: a field that starts with a quote is quoted up to the quote
 * that is not doubled, and may hold anything; a record ends at an LF
 * outside quotes (a CR just before it is part of the end) or at the end of
 * the input. Errors, whose bytes are dropped: a quote inside an unquoted
 * field, anything but a separator or the record's end after a closing
 * quote, a CR outside quotes not before an LF, a quoted field still open at
 * the end, more than CSV_MAX_FIELDS fields.
 */
static int ref_next(ref_reader *s)
{
	enum { START, PLAIN, QUOTED, CLOSED } state = START;
	if (s->pos >= s->n)
		return 0;
	size_t o = 0;
	s->rec_line = s->line;
	s->error = false;
	s->count = 1;
	s->starts[0] = 0;
	while (s->pos < s->n) {
		char c = (char)s->in[s->pos++];
		if (state == QUOTED) {
			if (c == '"') {
				if (s->pos < s->n && s->in[s->pos] == '"') {
					s->pos++;
					s->out[o++] = '"';
				} else {
					state = CLOSED;
				}
				continue;
			}
			if (c == '\n')
				s->line++;
			s->out[o++] = c;
			continue;
		}
		if (c == ',') {
			s->out[o++] = '\0';
			if (++s->count <= CSV_MAX_FIELDS + 1)
				s->starts[s->count - 1] = o;
			state = START;
		} else if (c == '\n') {
			s->line++;
			break;
		} else if (c == '\r') {
			if (!(s->pos < s->n && s->in[s->pos] == '\n'))
				s->error = true;
		} else if (c == '"') {
			if (state == START)
				state = QUOTED;
			else
				s->error = true;
		} else if (state == CLOSED) {
			s->error = true;
		} else {
			s->out[o++] = c;
			state = PLAIN;
		}
	}
	if (state == QUOTED)
		s->error = true;
	if (s->count > CSV_MAX_FIELDS)
		s->error = true;
	s->out[o++] = '\0';
	s->len = o;
	return 1;
}

static size_t ref_field(const ref_reader *s, size_t i, const char **p)
{
	size_t end = i + 1 < s->count ? s->starts[i + 1] - 1 : s->len - 1;
	*p = s->out + s->starts[i];
	return end - s->starts[i];
}

/* --- the checks ----------------------------------------------------------- */

static FILE *open_bytes(const uint8_t *in, size_t n)
{
	FILE *f = fmemopen((void *)in, n, "r");
	CHECK(f != NULL, "fmemopen of %zu bytes", n);
	return f;
}

static void same_record(const csv_reader *a, const csv_reader *b)
{
	CHECK(a->line == b->line, "line %lu vs %lu", a->line, b->line);
	CHECK(a->nfields == b->nfields, "line %lu: %zu vs %zu fields", a->line, a->nfields, b->nfields);
	CHECK((a->error == NULL) == (b->error == NULL) && (!a->error || !strcmp(a->error, b->error)),
	      "line %lu: error \"%s\" vs \"%s\"", a->line, a->error ? a->error : "",
	      b->error ? b->error : "");
	for (size_t i = 0; i < a->nfields; i++) {
		CHECK(a->field_len[i] == b->field_len[i] &&
		              !memcmp(a->field[i], b->field[i], a->field_len[i]),
		      "line %lu: field %zu differs", a->line, i);
	}
}

static void well_formed(const csv_reader *r)
{
	CHECK(r->nfields >= 1 && r->nfields <= CSV_MAX_FIELDS, "%zu fields", r->nfields);
	for (size_t i = 0; i < r->nfields; i++)
		CHECK(r->field[i][r->field_len[i]] == '\0', "field %zu not terminated", i);
}

static void matches_reference(const csv_reader *r, const ref_reader *s)
{
	CHECK(r->line == s->rec_line, "line %lu, reference %lu", r->line, s->rec_line);
	size_t want = s->count > CSV_MAX_FIELDS ? CSV_MAX_FIELDS : s->count;
	CHECK(r->nfields == want, "line %lu: %zu fields, reference %zu", r->line, r->nfields, want);
	CHECK((r->error != NULL) == s->error, "line %lu: error \"%s\", reference %s", r->line,
	      r->error ? r->error : "", s->error ? "an error" : "none");
	for (size_t i = 0; i < r->nfields; i++) {
		const char *p;
		size_t len = ref_field(s, i, &p);
		CHECK(r->field_len[i] == len && !memcmp(r->field[i], p, len),
		      "line %lu: field %zu differs from the reference", r->line, i);
	}
}

/* The record written back, every field quoted, and read again. */
static void round_trip(const csv_reader *r)
{
	size_t cap = 2;
	for (size_t i = 0; i < r->nfields; i++)
		cap += 2 * r->field_len[i] + 3;
	char *text = malloc(cap);
	CHECK(text != NULL, "malloc");
	size_t n = 0;
	for (size_t i = 0; i < r->nfields; i++) {
		if (i)
			text[n++] = ',';
		text[n++] = '"';
		for (size_t k = 0; k < r->field_len[i]; k++) {
			if (r->field[i][k] == '"')
				text[n++] = '"';
			text[n++] = r->field[i][k];
		}
		text[n++] = '"';
	}
	text[n++] = '\r';
	text[n++] = '\n';
	FILE *f = open_bytes((const uint8_t *)text, n);
	csv_reader again;
	csv_init(&again, f);
	again.buf = malloc(n);   /* a buffer the record fits in, not 1 MiB per record */
	CHECK(again.buf != NULL, "malloc");
	again.cap = n;
	CHECK(csv_next(&again) == 1, "written back: no record");
	CHECK(again.error == NULL, "written back: %s", again.error);
	CHECK(again.nfields == r->nfields, "written back: %zu fields, not %zu", again.nfields, r->nfields);
	for (size_t i = 0; i < r->nfields; i++)
		CHECK(again.field_len[i] == r->field_len[i] &&
		              !memcmp(again.field[i], r->field[i], r->field_len[i]),
		      "written back: field %zu differs", i);
	CHECK(csv_next(&again) == 0, "written back: more than one record");
	csv_dispose(&again);
	fclose(f);
	free(text);
}

static void records(const uint8_t *in, size_t n, csv_reader *big, csv_reader *small)
{
	ref_reader s = { .in = in, .n = n, .line = 1 };
	s.out = malloc(n + 1);
	CHECK(s.out != NULL, "malloc");
	for (;;) {
		int a = csv_next(big), b = csv_next(small), c = ref_next(&s);
		CHECK(a == b && a == c, "csv_next gave %d and %d, the reference %d", a, b, c);
		if (a != 1)
			break;
		well_formed(big);
		same_record(big, small);
		matches_reference(big, &s);
		if (!big->error)
			round_trip(big);
	}
	free(s.out);
}

static void lines(const uint8_t *in, size_t n, csv_reader *big, csv_reader *small)
{
	size_t pos = 0;
	unsigned long number = 1;
	for (;;) {
		const char *la, *lb;
		size_t na, nb;
		int a = csv_next_line(big, &la, &na), b = csv_next_line(small, &lb, &nb);
		int c = pos < n;
		CHECK(a == b && a == c, "csv_next_line gave %d and %d, expected %d", a, b, c);
		if (a != 1)
			break;
		/* The expected line: up to the LF, without one CR before it. */
		const uint8_t *lf = memchr(in + pos, '\n', n - pos);
		size_t end = lf ? (size_t)(lf - in) : n;
		size_t len = end - pos;
		if (len && in[pos + len - 1] == '\r')
			len--;
		CHECK(na == len && nb == len && !memcmp(la, in + pos, len) && !memcmp(lb, in + pos, len),
		      "line %lu differs", number);
		CHECK(la[len] == '\0' && lb[len] == '\0', "line %lu not terminated", number);
		CHECK(big->line == number && small->line == number, "line %lu numbered %lu and %lu", number,
		      big->line, small->line);
		pos = lf ? end + 1 : n;
		number++;
	}
}

static void alternating(csv_reader *big, csv_reader *small)
{
	for (unsigned k = 0;; k++) {
		int a, b;
		if (k % 2) {
			const char *la, *lb;
			size_t na, nb;
			a = csv_next_line(big, &la, &na);
			b = csv_next_line(small, &lb, &nb);
			CHECK(a == b, "csv_next_line gave %d and %d", a, b);
			if (a == 1)
				CHECK(na == nb && !memcmp(la, lb, na) && big->line == small->line,
				      "line %lu differs", big->line);
		} else {
			a = csv_next(big);
			b = csv_next(small);
			CHECK(a == b, "csv_next gave %d and %d", a, b);
			if (a == 1) {
				well_formed(big);
				same_record(big, small);
			}
		}
		if (a != 1)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cap = (size_t)(data[0] & 0x0f) + 1;
	int mode = data[0] >> 6;   /* 0, 1: records; 2: lines; 3: both, alternating */
	bool own_buffer = (data[0] & 0x30) == 0x30;
	const uint8_t *in = data + 1;
	size_t n = size - 1;

	FILE *fa = open_bytes(in, n), *fb = open_bytes(in, n);
	csv_reader big, small;
	csv_init(&big, fa);
	csv_init(&small, fb);
	if (!own_buffer) {
		big.buf = malloc(n + 1);   /* csv_dispose frees it */
		CHECK(big.buf != NULL, "malloc");
		big.cap = n + 1;
	}
	small.buf = malloc(cap);   /* csv_dispose frees it */
	CHECK(small.buf != NULL, "malloc");
	small.cap = cap;

	if (mode < 2)
		records(in, n, &big, &small);
	else if (mode == 2)
		lines(in, n, &big, &small);
	else
		alternating(&big, &small);

	unsigned long lfs = 0;
	for (size_t i = 0; i < n; i++)
		lfs += in[i] == '\n';
	CHECK(big.bytes == n && small.bytes == n, "%llu and %llu of %zu bytes consumed", big.bytes,
	      small.bytes, n);
	CHECK(big.next_line == lfs + 1 && small.next_line == lfs + 1, "%lu and %lu lines for %lu LFs",
	      big.next_line, small.next_line, lfs);
	csv_dispose(&big);
	csv_dispose(&small);
	fclose(fa);
	fclose(fb);
	return 0;
}
