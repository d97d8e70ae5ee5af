/*
 * The CSV reader (lib/util/csv.c) on RFC 4180's rules and on the errors it
 * reports: every input is read with the reader's own 1 MiB buffer and again
 * with buffers of 1 to 9 bytes, so quotes, doubled quotes and CRLF fall on
 * every chunk boundary; a few large inputs put them on the real 1 MiB
 * boundary. Records are compared as text, field by field, with the line
 * each one starts on and its error.
 */
#define _GNU_SOURCE   /* fopencookie, for a stream that fails to read */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>
#include "util/csv.h"

#define MIB (1u << 20)

static FILE *open_bytes(const char *in, size_t n)
{
	FILE *f = fmemopen((void *)in, n, "r");
	assert_non_null(f);
	return f;
}

/* A reader over f; cap > 0 reads in chunks of cap bytes instead of 1 MiB. */
static void reader_init(csv_reader *r, FILE *f, size_t cap)
{
	csv_init(r, f);
	if (cap) {
		r->buf = malloc(cap);
		assert_non_null(r->buf);
		r->cap = cap;
	}
}

static void put_escaped(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c == '\\' || c == '[' || c == ']')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02X", c);
		else
			fputc(c, out);
	}
}

/*
 * Every record of `in` as "LINE:[field][field]...", then " !error" when it
 * has one, one record a line, control bytes escaped. Checks on the way what
 * holds for every record: 1 to CSV_MAX_FIELDS fields, each NUL-terminated at
 * its length; records start on increasing lines; at the end, every byte
 * consumed and every LF counted.
 */
static char *dump(const char *in, size_t n, size_t cap)
{
	char *text = NULL;
	size_t text_len = 0;
	FILE *out = open_memstream(&text, &text_len);
	assert_non_null(out);
	FILE *f = open_bytes(in, n);
	csv_reader r;
	reader_init(&r, f, cap);
	unsigned long last_line = 0;
	int rc;
	while ((rc = csv_next(&r)) == 1) {
		assert_true(r.nfields >= 1 && r.nfields <= CSV_MAX_FIELDS);
		assert_true(r.line > last_line);
		last_line = r.line;
		fprintf(out, "%lu:", r.line);
		for (size_t i = 0; i < r.nfields; i++) {
			assert_int_equal(r.field[i][r.field_len[i]], '\0');
			fputc('[', out);
			put_escaped(out, r.field[i], r.field_len[i]);
			fputc(']', out);
		}
		if (r.error)
			fprintf(out, " !%s", r.error);
		fputc('\n', out);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(csv_next(&r), 0);   /* and stays at the end */
	assert_int_equal(r.bytes, n);
	unsigned long lfs = 0;
	for (size_t i = 0; i < n; i++)
		lfs += in[i] == '\n';
	assert_int_equal(r.next_line, lfs + 1);
	csv_dispose(&r);
	fclose(f);
	fclose(out);
	return text;
}

static void expect_n(const char *in, size_t n, const char *expected)
{
	static const size_t caps[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		char *got = dump(in, n, caps[k]);
		if (strcmp(got, expected) != 0)
			fail_msg("buffer of %zu bytes (0: default)\n--- got:\n%s--- expected:\n%s", caps[k], got,
			         expected);
		free(got);
	}
}

static void expect(const char *in, const char *expected)
{
	expect_n(in, strlen(in), expected);
}

static void test_plain_fields(void **state)
{
	(void)state;
	expect("a,b,c\n1,2,3\n", "1:[a][b][c]\n2:[1][2][3]\n");
	expect("John,Doe,120 any st.,08123\n", "1:[John][Doe][120 any st.][08123]\n");
	/* Spaces are part of fields; nothing is trimmed. */
	expect(" a , b \n", "1:[ a ][ b ]\n");
	/* One field, no separator at all. */
	expect("abc\n", "1:[abc]\n");
	/* UTF-8 passes through byte for byte. */
	expect("a,\xC3\xBC,\xE6\x97\xA5\xE6\x9C\xAC\n", "1:[a][\\xC3\\xBC][\\xE6\\x97\\xA5\\xE6\\x9C\\xAC]\n");
	/* A NUL byte is an ordinary byte: it stays in the field and its length. */
	expect_n("a\0b,c\n", 6, "1:[a\\x00b][c]\n");
}

static void test_quoted_fields(void **state)
{
	(void)state;
	expect("\"a,b\",c,\"d,,e\"\n", "1:[a,b][c][d,,e]\n");
	expect("John,Doe,120 any st.,\"Anytown, WW\",08123\n",
	       "1:[John][Doe][120 any st.][Anytown, WW][08123]\n");
	/* Quoting an ordinary field changes nothing. */
	expect("\"a\",\"b\",\"c\"\n", "1:[a][b][c]\n");
	expect("\",\",\",,\"\n", "1:[,][,,]\n");
}

static void test_doubled_quotes(void **state)
{
	(void)state;
	expect("\"say \"\"hi\"\"\",x\n", "1:[say \"hi\"][x]\n");
	expect("\"\"\"\"\n", "1:[\"]\n");
	expect("\"\"\"\"\"\"\n", "1:[\"\"]\n");
	expect("\"\"\"a\"\"\",\"b\"\"\"\n", "1:[\"a\"][b\"]\n");
	/* csv-spectrum's json case: a JSON document in a field. */
	expect("key,val\n1,\"{\"\"type\"\": \"\"Point\"\", \"\"coordinates\"\": [102.0, 0.5]}\"\n",
	       "1:[key][val]\n2:[1][{\"type\": \"Point\", \"coordinates\": \\[102.0, 0.5\\]}]\n");
}

static void test_line_breaks_in_quotes(void **state)
{
	(void)state;
	/* LF, CRLF and a lone CR inside quotes are field content; lines still count. */
	expect("\"a\nb\",\"c\r\nd\",\"e\rf\"\nnext\n", "1:[a\\nb][c\\r\\nd][e\\rf]\n4:[next]\n");
	expect("\"\n\",\"\r\n\",\"\n\n\"\r\nx\n", "1:[\\n][\\r\\n][\\n\\n]\n6:[x]\n");
	/* csv-spectrum's quotes_and_newlines. */
	expect("a,b\n1,\"ha \n\"\"ha\"\" \nha\"\n3,4\n",
	       "1:[a][b]\n2:[1][ha \\n\"ha\" \\nha]\n5:[3][4]\n");
	/* csv-spectrum's newlines_crlf. */
	expect("a,b,c\r\n1,2,3\r\n\"Once upon \r\na time\",5,6\r\n7,8,9\r\n",
	       "1:[a][b][c]\n2:[1][2][3]\n3:[Once upon \\r\\na time][5][6]\n5:[7][8][9]\n");
}

static void test_record_ends(void **state)
{
	(void)state;
	expect("a,b\r\nc,d\r\n", "1:[a][b]\n2:[c][d]\n");
	expect("a,b\nc,d\r\ne,f\n", "1:[a][b]\n2:[c][d]\n3:[e][f]\n");
	expect("\"a\"\r\n\"b\"\n\"c\"", "1:[a]\n2:[b]\n3:[c]\n");
	/* Only one LF per record: blank lines are records of one empty field. */
	expect("a\n\nb\r\n\r\nc\n", "1:[a]\n2:[]\n3:[b]\n4:[]\n5:[c]\n");
	expect("\n", "1:[]\n");
	expect("\r\n", "1:[]\n");
}

static void test_empty_fields(void **state)
{
	(void)state;
	expect(",,\n", "1:[][][]\n");
	expect("a,,b\n", "1:[a][][b]\n");
	expect("\"\",\"\"\n", "1:[][]\n");
	/* csv-spectrum's empty and empty_crlf. */
	expect("a,b,c\n1,\"\",\"\"\n2,3,4\n", "1:[a][b][c]\n2:[1][][]\n3:[2][3][4]\n");
	expect("a,b,c\r\n1,\"\",\"\"\r\n2,3,4\r\n", "1:[a][b][c]\n2:[1][][]\n3:[2][3][4]\n");
	/* A trailing separator is a trailing empty field, whatever ends the record. */
	expect("a,b,\n", "1:[a][b][]\n");
	expect("a,b,\r\n", "1:[a][b][]\n");
	expect("a,b,", "1:[a][b][]\n");
	expect("a,\"\"", "1:[a][]\n");
	expect(",", "1:[][]\n");
}

static void test_last_record_without_newline(void **state)
{
	(void)state;
	expect("a,b\nc,d", "1:[a][b]\n2:[c][d]\n");
	expect("a", "1:[a]\n");
	expect("\"a,b\"", "1:[a,b]\n");
	expect("\"a\"\"\"", "1:[a\"]\n");
	expect("x\n\"multi\nline\"", "1:[x]\n2:[multi\\nline]\n");
	/* A final LF does not make an extra record. */
	expect("a,b\n", "1:[a][b]\n");
}

static void test_empty_input(void **state)
{
	(void)state;
	expect("", "");
	FILE *f = open_bytes("", 0);
	csv_reader r;
	csv_init(&r, f);
	assert_int_equal(csv_next(&r), 0);
	assert_int_equal(csv_next(&r), 0);
	const char *line = NULL;
	size_t len = 1;
	assert_int_equal(csv_next_line(&r, &line, &len), 0);
	assert_null(r.error);
	assert_int_equal(r.bytes, 0);
	csv_dispose(&r);
	fclose(f);
}

/* The reader does not strip a byte order mark: it is part of the first field. */
static void test_byte_order_mark(void **state)
{
	(void)state;
	expect("\xEF\xBB\xBF" "a,b\n1,2\n", "1:[\\xEF\\xBB\\xBFa][b]\n2:[1][2]\n");
	/* Before a quote it makes the quote a stray one. */
	expect("\xEF\xBB\xBF\"a\",b\n",
	       "1:[\\xEF\\xBB\\xBFa][b] !a quote inside an unquoted field\n");
}

static void test_quote_in_unquoted_field(void **state)
{
	(void)state;
	/* The stray quote is dropped, the record reported, and the next one is fine. */
	expect("ab\"c,d\ne,f\n", "1:[abc][d] !a quote inside an unquoted field\n2:[e][f]\n");
	expect("a,b\"\nc\n", "1:[a][b] !a quote inside an unquoted field\n2:[c]\n");
	/* It does not open a quoted field: the LF still ends the record. */
	expect("x,1\"2,3\"\ny\n", "1:[x][12][3] !a quote inside an unquoted field\n2:[y]\n");
}

static void test_unterminated_quote(void **state)
{
	(void)state;
	/* The rest of the input is one field of one record, reported at its first line. */
	expect("h\na,\"bc\nd,e\n", "1:[h]\n2:[a][bc\\nd,e\\n] !a quoted field is not closed\n");
	expect("\"", "1:[] !a quoted field is not closed\n");
	expect("\"abc", "1:[abc] !a quoted field is not closed\n");
	/* A doubled quote at the very end is a quote in the field, not a close. */
	expect("\"abc\"\"", "1:[abc\"] !a quoted field is not closed\n");
}

static void test_text_after_closing_quote(void **state)
{
	(void)state;
	expect("\"ab\"c,d\n", "1:[ab][d] !text after a closing quote\n");
	expect("\"x\" \n\"y\"\n", "1:[x] !text after a closing quote\n2:[y]\n");
	expect("a,\"b\"c\"d\",e\r\nf\n", "1:[a][b][e] !text after a closing quote\n2:[f]\n");
	/* Only the first error of a record is reported. */
	expect("a\"b,\"c\"d\n", "1:[ab][c] !a quote inside an unquoted field\n");
}

static void test_bare_carriage_return(void **state)
{
	(void)state;
	/* Records end at LF or CRLF only; a CR outside quotes is an error, and dropped. */
	expect("a\rb,c\nd\n", "1:[ab][c] !a carriage return outside quotes\n2:[d]\n");
	expect("a,b\rc,d\r", "1:[a][bc][d] !a carriage return outside quotes\n");
	expect("\"a\"\r\r\n", "1:[a] !a carriage return outside quotes\n");
}

/* Line numbers are where each record starts, across multi-line fields and errors. */
static void test_error_lines(void **state)
{
	(void)state;
	const char *in = "h1,h2\n"               /* line 1 */
	                 "\"two\nlines\",ok\n"   /* lines 2-3 */
	                 "bad\"q,x\n"            /* line 4 */
	                 "\r\n"                  /* line 5 */
	                 "\"three\r\n\r\nlines\",\"x\"y\n"   /* lines 6-8 */
	                 "last,\"open\n"         /* line 9 to the end */
	                 "tail\n";
	expect(in, "1:[h1][h2]\n"
	           "2:[two\\nlines][ok]\n"
	           "4:[badq][x] !a quote inside an unquoted field\n"
	           "5:[]\n"
	           "6:[three\\r\\n\\r\\nlines][x] !text after a closing quote\n"
	           "9:[last][open\\ntail\\n] !a quoted field is not closed\n");
	/* And the error is cleared for the next record. */
	FILE *f = open_bytes("a\"\nb\n", 5);
	csv_reader r;
	csv_init(&r, f);
	assert_int_equal(csv_next(&r), 1);
	assert_string_equal(r.error, "a quote inside an unquoted field");
	assert_int_equal(r.line, 1);
	assert_int_equal(csv_next(&r), 1);
	assert_null(r.error);
	assert_int_equal(r.line, 2);
	assert_string_equal(r.field[0], "b");
	assert_int_equal(csv_next(&r), 0);
	csv_dispose(&r);
	fclose(f);
}

/* `count` fields "f0,f1,..." (quoted when `quote`) and an LF, in a static buffer. */
static const char *fields(size_t count, bool quote)
{
	static char buf[4096];
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, quote ? "%s\"f%zu\"" : "%sf%zu", i ? "," : "", i);
	snprintf(buf + n, sizeof(buf) - n, "\n");
	return buf;
}

static void test_many_fields(void **state)
{
	(void)state;
	static const size_t counts[] = { CSV_MAX_FIELDS - 1, CSV_MAX_FIELDS, CSV_MAX_FIELDS + 1,
		                         CSV_MAX_FIELDS + 2, 100 };
	for (size_t q = 0; q < 2; q++) {
		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			size_t count = counts[k];
			char in[4096];
			snprintf(in, sizeof(in), "%snext\n", fields(count, q));
			char expected[4096];
			size_t n = (size_t)snprintf(expected, sizeof(expected), "1:");
			size_t kept = count < CSV_MAX_FIELDS ? count : CSV_MAX_FIELDS;
			for (size_t i = 0; i < kept; i++)
				n += (size_t)snprintf(expected + n, sizeof(expected) - n, "[f%zu]", i);
			snprintf(expected + n, sizeof(expected) - n, "%s\n2:[next]\n",
			         count > CSV_MAX_FIELDS ? " !too many fields" : "");
			expect(in, expected);
		}
	}
	/* Past the maximum, a quoted field is still a quoted field: its line break
	 * does not end the record, and what follows it is not a record of its own. */
	char in[4096];
	snprintf(in, sizeof(in), "%.*s,\"x\ny,z\"\"\",w\nnext\n", (int)strlen(fields(CSV_MAX_FIELDS + 1, false)) - 1,
	         fields(CSV_MAX_FIELDS + 1, false));
	char expected[4096];
	size_t n = (size_t)snprintf(expected, sizeof(expected), "1:");
	for (size_t i = 0; i < CSV_MAX_FIELDS; i++)
		n += (size_t)snprintf(expected + n, sizeof(expected) - n, "[f%zu]", i);
	snprintf(expected + n, sizeof(expected) - n, " !too many fields\n3:[next]\n");
	expect(in, expected);
	/* Exactly the maximum, all of them empty. */
	char commas[CSV_MAX_FIELDS + 1];
	memset(commas, ',', CSV_MAX_FIELDS - 1);
	commas[CSV_MAX_FIELDS - 1] = '\n';
	commas[CSV_MAX_FIELDS] = '\0';
	FILE *f = open_bytes(commas, CSV_MAX_FIELDS);
	csv_reader r;
	csv_init(&r, f);
	assert_int_equal(csv_next(&r), 1);
	assert_null(r.error);
	assert_int_equal(r.nfields, CSV_MAX_FIELDS);
	for (size_t i = 0; i < CSV_MAX_FIELDS; i++)
		assert_int_equal(r.field_len[i], 0);
	csv_dispose(&r);
	fclose(f);
}

/* Fields of several MiB, plain and quoted, across the 1 MiB read buffer. */
static void test_large_fields(void **state)
{
	(void)state;
	const size_t big = 3 * MIB + 12345;
	char *in = malloc(2 * big + big / 500 + 64);   /* plain, quoted with its doubled quotes, tail */
	assert_non_null(in);
	size_t n = 0;
	for (size_t i = 0; i < big; i++)
		in[n++] = (char)('a' + i % 26);
	in[n++] = ',';
	in[n++] = '"';
	/* The quoted field's content: letters, with a doubled quote and a CRLF every 1000 bytes. */
	size_t quoted_len = 0;
	for (size_t i = 0; i < big; i++) {
		if (i % 1000 == 999) {
			in[n++] = '"';
			in[n++] = '"';
			quoted_len++;
		} else if (i % 1000 == 500) {
			in[n++] = '\r';
			in[n++] = '\n';
			quoted_len += 2;
			i++;
		} else {
			in[n++] = (char)('A' + i % 26);
			quoted_len++;
		}
	}
	memcpy(in + n, "\",x\r\ny\n", 7);
	n += 7;
	FILE *f = open_bytes(in, n);
	csv_reader r;
	csv_init(&r, f);
	assert_int_equal(csv_next(&r), 1);
	assert_null(r.error);
	assert_int_equal(r.line, 1);
	assert_int_equal(r.nfields, 3);
	assert_int_equal(r.field_len[0], big);
	assert_memory_equal(r.field[0], in, big);
	assert_int_equal(r.field_len[1], quoted_len);
	/* Undo the quoting by hand and compare. */
	const char *q = in + big + 2;
	size_t j = 0;
	for (const char *p = q; j < quoted_len; p++) {
		if (*p == '"')
			p++;
		if (r.field[1][j] != *p)
			fail_msg("quoted field differs at byte %zu", j);
		j++;
	}
	assert_string_equal(r.field[2], "x");
	unsigned long lfs = 0;
	for (size_t i = 0; i < n - 2; i++)
		lfs += in[i] == '\n';
	assert_int_equal(csv_next(&r), 1);
	assert_int_equal(r.line, lfs + 1);
	assert_string_equal(r.field[0], "y");
	assert_int_equal(csv_next(&r), 0);
	assert_int_equal(r.bytes, n);
	csv_dispose(&r);
	fclose(f);
	free(in);
}

/*
 * The real 1 MiB buffer: a filler record, then a record of every kind of
 * pair the reader must look past a boundary for (a doubled quote, a closing
 * quote, CRLF inside and outside quotes), slid so that the boundary falls
 * before each of its bytes in turn.
 */
static void test_default_buffer_boundaries(void **state)
{
	(void)state;
	static const char tail[] = "\"a\"\"b\",\"c\r\nd\",\"\"\r\n\"e\"\r\nf,g";
	const size_t tail_len = sizeof(tail) - 1;
	const char *expected = "[a\\\"b][c\\r\\nd][]|[e]|[f][g]|";
	char *in = malloc(MIB + tail_len);
	assert_non_null(in);
	for (size_t k = 0; k <= tail_len; k++) {
		/* The filler record ends k bytes before the boundary. */
		size_t filler = MIB - k;
		memset(in, 'x', filler - 1);
		in[filler - 1] = '\n';
		memcpy(in + filler, tail, tail_len);
		size_t n = filler + tail_len;
		FILE *f = open_bytes(in, n);
		csv_reader r;
		csv_init(&r, f);
		assert_int_equal(csv_next(&r), 1);
		assert_int_equal(r.field_len[0], filler - 1);
		char got[256];
		size_t g = 0;
		while (csv_next(&r) == 1) {
			if (r.error)
				fail_msg("boundary %zu bytes into the record: %s", k, r.error);
			for (size_t i = 0; i < r.nfields; i++) {
				got[g++] = '[';
				for (size_t c = 0; c < r.field_len[i]; c++) {
					char ch = r.field[i][c];
					const char *esc = ch == '\r' ? "\\r" : ch == '\n' ? "\\n" : ch == '"' ? "\\\"" : NULL;
					if (esc) {
						memcpy(got + g, esc, 2);
						g += 2;
					} else {
						got[g++] = ch;
					}
				}
				got[g++] = ']';
			}
			got[g++] = '|';
		}
		got[g] = '\0';
		if (strcmp(got, expected) != 0)
			fail_msg("boundary %zu bytes into the record\n--- got: %s\n--- expected: %s", k, got,
			         expected);
		assert_int_equal(r.bytes, n);
		assert_int_equal(r.next_line, 5);
		csv_dispose(&r);
		fclose(f);
	}
	free(in);
}

/* The usage import's header and rows, as tests/integration/test_usage_import.c writes them. */
static void test_usage_import_shape(void **state)
{
	(void)state;
	expect("event_id,occurred_at,org,user,model,tokens_in,tokens_out,latency_ms,request_id\n"
	       "6a1e0001-0000-4000-8000-000000000001,2026-03-10T09:00:00Z,acme-legal,"
	       "aaron@acme-legal.test,Basic Assistant,120,45,830,req-1\n"
	       "6a1e0001-0000-4000-8000-000000000002,2026-03-10T09:01:00Z,acme-legal,"
	       "aaron@acme-legal.test,\"Model, \"\"large\"\"\",7,,,\n",
	       "1:[event_id][occurred_at][org][user][model][tokens_in][tokens_out][latency_ms][request_id]\n"
	       "2:[6a1e0001-0000-4000-8000-000000000001][2026-03-10T09:00:00Z][acme-legal]"
	       "[aaron@acme-legal.test][Basic Assistant][120][45][830][req-1]\n"
	       "3:[6a1e0001-0000-4000-8000-000000000002][2026-03-10T09:01:00Z][acme-legal]"
	       "[aaron@acme-legal.test][Model, \"large\"][7][][][]\n");
}

/* Bytes consumed after each record, for import progress. */
static void test_bytes(void **state)
{
	(void)state;
	const char *in = "ab\r\n\"c\"\"d\"\nx";
	FILE *f = open_bytes(in, strlen(in));
	csv_reader r;
	csv_init(&r, f);
	assert_int_equal(csv_next(&r), 1);
	assert_int_equal(r.bytes, 4);
	assert_int_equal(csv_next(&r), 1);
	assert_string_equal(r.field[0], "c\"d");
	assert_int_equal(r.bytes, 11);
	assert_int_equal(csv_next(&r), 1);
	assert_int_equal(r.bytes, 12);
	assert_int_equal(csv_next(&r), 0);
	csv_dispose(&r);
	fclose(f);
}

/* A stream that yields `ok` bytes of "a,b\nc,d..." and then fails. */
typedef struct {
	const char *text;
	size_t len, pos;
} failing;

static ssize_t failing_read(void *cookie, char *buf, size_t size)
{
	failing *s = cookie;
	if (s->pos >= s->len)
		return -1;
	size_t n = s->len - s->pos < size ? s->len - s->pos : size;
	memcpy(buf, s->text + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static void test_read_errors(void **state)
{
	(void)state;
	/* A stream that cannot be read at all. */
	FILE *f = fopen("/dev/null", "w");
	assert_non_null(f);
	csv_reader r;
	csv_init(&r, f);
	assert_int_equal(csv_next(&r), -1);
	csv_dispose(&r);
	const char *line;
	size_t len;
	csv_init(&r, f);
	assert_int_equal(csv_next_line(&r, &line, &len), -1);
	csv_dispose(&r);
	fclose(f);
	/* A failure after some bytes: the complete record, then -1, not a truncated record. */
	for (size_t cap = 0; cap <= 3; cap++) {
		failing s = { "a,b\nc,\"d", 8, 0 };
		cookie_io_functions_t io = { .read = failing_read };
		f = fopencookie(&s, "r", io);
		assert_non_null(f);
		reader_init(&r, f, cap);
		assert_int_equal(csv_next(&r), 1);
		assert_int_equal(r.nfields, 2);
		assert_string_equal(r.field[1], "b");
		assert_int_equal(csv_next(&r), -1);
		csv_dispose(&r);
		fclose(f);
		s.pos = 0;
		f = fopencookie(&s, "r", io);
		assert_non_null(f);
		reader_init(&r, f, cap);
		assert_int_equal(csv_next_line(&r, &line, &len), 1);
		assert_string_equal(line, "a,b");
		assert_int_equal(csv_next_line(&r, &line, &len), -1);
		csv_dispose(&r);
		fclose(f);
	}
}

/* csv_next_line: plain lines, no quoting, LF or CRLF ends, each with its line number. */
static void test_lines(void **state)
{
	(void)state;
	static const char in[] = "{\"a\":1}\r\n\"x,\ny\"\n\n \r\nlast\0z";
	static const struct {
		const char *text;
		size_t len;
		unsigned long line;
	} want[] = {
		{ "{\"a\":1}", 7, 1 }, { "\"x,", 3, 2 }, { "y\"", 2, 3 }, { "", 0, 4 },
		{ " ", 1, 5 },         { "last\0z", 6, 6 },
	};
	for (size_t cap = 0; cap <= 4; cap++) {
		FILE *f = open_bytes(in, sizeof(in) - 1);
		csv_reader r;
		reader_init(&r, f, cap);
		const char *line;
		size_t len;
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			assert_int_equal(csv_next_line(&r, &line, &len), 1);
			assert_int_equal(len, want[i].len);
			assert_memory_equal(line, want[i].text, len);
			assert_int_equal(line[len], '\0');
			assert_int_equal(r.line, want[i].line);
		}
		assert_int_equal(csv_next_line(&r, &line, &len), 0);
		assert_int_equal(r.bytes, sizeof(in) - 1);
		csv_dispose(&r);
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_fields),
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_doubled_quotes),
		cmocka_unit_test(test_line_breaks_in_quotes),
		cmocka_unit_test(test_record_ends),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_last_record_without_newline),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_quote_in_unquoted_field),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_text_after_closing_quote),
		cmocka_unit_test(test_bare_carriage_return),
		cmocka_unit_test(test_error_lines),
		cmocka_unit_test(test_many_fields),
		cmocka_unit_test(test_large_fields),
		cmocka_unit_test(test_default_buffer_boundaries),
		cmocka_unit_test(test_usage_import_shape),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
