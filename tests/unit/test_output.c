/* Unit tests for cmd/output.c: every output format, rendered into memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/table.h"
#include "cli.h"
#include "output.h"

/* ---- helpers -------------------------------------------------------------- */

/* The table under test: make_table() sets it and the teardown frees it, so
 * nothing leaks even when an assertion ends a test early. */
static aiplat_table *current;

static int free_table(void **state)
{
	(void)state;
	aiplat_table_free(current);
	current = NULL;
	return 0;
}

/* Builds a table; cells are row-major, nrows * ncols entries, NULL for SQL NULL. */
static aiplat_table *make_table(size_t ncols, const char *const *names,
                                const aiplat_coltype *types, size_t nrows,
                                const char *const *cells)
{
	assert_null(current);
	assert_int_equal(aiplat_table_new(&current, ncols), 0);
	for (size_t c = 0; c < ncols; c++)
		assert_int_equal(aiplat_table_set_column(current, c, names[c], types[c]), 0);
	for (size_t r = 0; r < nrows; r++)
		assert_int_equal(aiplat_table_add_row(current, cells + r * ncols), 0);
	return current;
}

/* Renders into a memory buffer; returns the malloc'd text. */
static char *render(const aiplat_table *t, enum out_format fmt, bool color, bool record)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	int rc = record ? out_render_record(f, t, fmt, color) : out_render(f, t, fmt, color);
	fclose(f);
	bool has_nul = strlen(buf) != len;
	if (rc != 0 || has_nul) {
		free(buf);
		fail_msg("rendering failed (rc %d) or wrote a NUL byte", rc);
	}
	return buf;
}

/* Compares and frees the rendered text (before failing, so nothing leaks). */
static void expect_text(char *got, const char *want)
{
	if (!strcmp(got, want)) {
		free(got);
		return;
	}
	print_message("got:\n%s<END>\nwant:\n%s<END>\n", got, want);
	free(got);
	fail_msg("rendered text differs");
}

static void expect_render(const aiplat_table *t, enum out_format fmt, const char *want)
{
	expect_text(render(t, fmt, false, false), want);
}

static void expect_record(const aiplat_table *t, enum out_format fmt, const char *want)
{
	expect_text(render(t, fmt, false, true), want);
}

/* A small table used by several tests: id INT, name TEXT, price NUMBER. */
static aiplat_table *fruit_table(void)
{
	static const char *const names[] = { "id", "name", "price" };
	static const aiplat_coltype types[] = { AIPLAT_COL_INT, AIPLAT_COL_TEXT, AIPLAT_COL_NUMBER };
	static const char *const cells[] = {
		"1",  "apple", "1.5",
		"10", "kiwi",  NULL,
	};
	return make_table(3, names, types, 2, cells);
}

/* ---- format names and display width ----------------------------------------- */

static void test_format_parse(void **state)
{
	(void)state;
	assert_int_equal(out_format_parse("table"), OUT_TABLE);
	assert_int_equal(out_format_parse("json"), OUT_JSON);
	assert_int_equal(out_format_parse("ndjson"), OUT_NDJSON);
	assert_int_equal(out_format_parse("csv"), OUT_CSV);
	assert_int_equal(out_format_parse("tsv"), OUT_TSV);
	assert_int_equal(out_format_parse("JSON"), -1);
	assert_int_equal(out_format_parse("xml"), -1);
	assert_int_equal(out_format_parse(""), -1);
	assert_int_equal(out_format_parse("json "), -1);
}

static void test_format_names_match_format_option(void **state)
{
	(void)state;
	/* --format's choices (commands.c) and the renderer's names must agree. */
	const struct cli_option *fmt = NULL;
	for (const struct cli_option *o = cli_global_options; o->name; o++)
		if (!strcmp(o->name, "format"))
			fmt = o;
	assert_non_null(fmt);
	assert_int_equal(fmt->type, OPT_ENUM);
	size_t i = 0;
	for (; out_format_names[i]; i++) {
		assert_non_null(fmt->choices[i]);
		assert_string_equal(fmt->choices[i], out_format_names[i]);
		assert_int_equal(out_format_parse(out_format_names[i]), (int)i);
	}
	assert_int_equal(i, 6);
	assert_null(fmt->choices[i]);
}

static void test_display_width(void **state)
{
	(void)state;
	assert_int_equal(out_display_width(""), 0);
	assert_int_equal(out_display_width("abc"), 3);
	assert_int_equal(out_display_width("Zo\xc3\xab"), 3);          /* Zoë: ë is one cell */
	assert_int_equal(out_display_width("日本語"), 6);               /* CJK: two cells each */
	assert_int_equal(out_display_width("a日b"), 4);
	assert_int_equal(out_display_width("e\xcc\x81"), 1);           /* e + combining acute */
	assert_int_equal(out_display_width("\xff\xfe"), 2);            /* invalid bytes: one each */
	assert_int_equal(out_display_width("\xe6\x97"), 2);            /* truncated sequence */
	assert_int_equal(out_display_width("x\xe6\x97"), 3);
}

/* ---- table ------------------------------------------------------------------ */

static void test_table_alignment(void **state)
{
	(void)state;
	aiplat_table *t = fruit_table();
	/* Headers centred; INT and NUMBER right-aligned; text left-aligned and the
	 * last text column not padded; NULL shown as nothing. */
	expect_render(t, OUT_TABLE,
	              " id | name  | price\n"
	              "----+-------+-------\n"
	              "  1 | apple |   1.5\n"
	              " 10 | kiwi  |      \n"
	              "(2 rows)\n");
}

static void test_table_header_centred_and_one_row(void **state)
{
	(void)state;
	static const char *const names[] = { "n", "x" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_INT };
	static const char *const cells[] = { "abcdef", "123456" };
	aiplat_table *t = make_table(2, names, types, 1, cells);
	/* Width 6, name width 1: two spaces before, three after. */
	expect_render(t, OUT_TABLE,
	              "   n    |   x\n"
	              "--------+--------\n"
	              " abcdef | 123456\n"
	              "(1 row)\n");
}

static void test_table_wide_characters(void **state)
{
	(void)state;
	static const char *const names[] = { "name", "n" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_INT };
	static const char *const cells[] = {
		"日本語", "1",
		"abc",    "22",
	};
	aiplat_table *t = make_table(2, names, types, 2, cells);
	/* 日本語 is six cells wide, so "abc" is padded with three spaces. */
	expect_render(t, OUT_TABLE,
	              "  name  | n\n"
	              "--------+----\n"
	              " 日本語 |  1\n"
	              " abc    | 22\n"
	              "(2 rows)\n");
}

static void test_table_escapes_control_characters(void **state)
{
	(void)state;
	static const char *const names[] = { "v", "w" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_TEXT };
	static const char *const cells[] = {
		"a\tb\nc", "1",
		"x\ry",    "2",
		"bell\a",  "3",
	};
	aiplat_table *t = make_table(2, names, types, 3, cells);
	/* Escapes are measured as shown: "bell\x07" is eight cells. */
	expect_render(t, OUT_TABLE,
	              "    v     | w\n"
	              "----------+---\n"
	              " a\\tb\\nc  | 1\n"
	              " x\\ry     | 2\n"
	              " bell\\x07 | 3\n"
	              "(3 rows)\n");
}

/* Column names come from the query (SQL aliases) too; a tab or newline in a
 * header must be escaped like one in a cell, or the layout breaks. */
static void test_table_escapes_control_characters_in_header(void **state)
{
	(void)state;
	static const char *const names[] = { "a\tb", "c\nd" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_TEXT };
	static const char *const cells[] = { "x", "y" };
	aiplat_table *t = make_table(2, names, types, 1, cells);
	expect_render(t, OUT_TABLE,
	              " a\\tb | c\\nd\n"
	              "------+------\n"
	              " x    | y\n"
	              "(1 row)\n");
}

static void test_table_color_header(void **state)
{
	(void)state;
	static const char *const names[] = { "a" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT };
	static const char *const cells[] = { "x" };
	aiplat_table *t = make_table(1, names, types, 1, cells);
	expect_text(render(t, OUT_TABLE, true, false), " \033[1ma\033[0m\n---\n x\n(1 row)\n");
}

/* ---- json / ndjson ---------------------------------------------------------- */

static aiplat_table *typed_table(void)
{
	/* Column names deliberately out of alphabetical order. */
	static const char *const names[] = { "id", "name", "price", "ok", "meta", "note", "at" };
	static const aiplat_coltype types[] = { AIPLAT_COL_INT,  AIPLAT_COL_TEXT, AIPLAT_COL_NUMBER,
	                                        AIPLAT_COL_BOOL, AIPLAT_COL_JSON, AIPLAT_COL_TEXT,
	                                        AIPLAT_COL_TIME };
	static const char *const cells[] = {
		"1",  "Zo\xc3\xab", "2.5",   "t",     "{\"a\": [1, 2]}", NULL, "2024-01-02 03:04:05+00",
		"-7", "日本語",     "-0.25", "false", "\"s\"",           "",   NULL,
	};
	return make_table(7, names, types, 2, cells);
}

static void test_json_array_of_typed_objects(void **state)
{
	(void)state;
	aiplat_table *t = typed_table();
	expect_render(t, OUT_JSON,
	              "[\n"
	              "  {\n"
	              "    \"id\": 1,\n"
	              "    \"name\": \"Zo\xc3\xab\",\n"
	              "    \"price\": 2.5,\n"
	              "    \"ok\": true,\n"
	              "    \"meta\": {\n"
	              "      \"a\": [\n"
	              "        1,\n"
	              "        2\n"
	              "      ]\n"
	              "    },\n"
	              "    \"note\": null,\n"
	              "    \"at\": \"2024-01-02 03:04:05+00\"\n"
	              "  },\n"
	              "  {\n"
	              "    \"id\": -7,\n"
	              "    \"name\": \"日本語\",\n"
	              "    \"price\": -0.25,\n"
	              "    \"ok\": false,\n"
	              "    \"meta\": \"s\",\n"
	              "    \"note\": \"\",\n"
	              "    \"at\": null\n"
	              "  }\n"
	              "]\n");
}

static void test_ndjson_one_compact_object_per_line(void **state)
{
	(void)state;
	aiplat_table *t = typed_table();
	expect_render(t, OUT_NDJSON,
	              "{\"id\":1,\"name\":\"Zo\xc3\xab\",\"price\":2.5,\"ok\":true,"
	              "\"meta\":{\"a\":[1,2]},\"note\":null,\"at\":\"2024-01-02 03:04:05+00\"}\n"
	              "{\"id\":-7,\"name\":\"日本語\",\"price\":-0.25,\"ok\":false,"
	              "\"meta\":\"s\",\"note\":\"\",\"at\":null}\n");
}

static void test_json_malformed_typed_values_stay_strings(void **state)
{
	(void)state;
	static const char *const names[] = { "i", "n", "b", "j" };
	static const aiplat_coltype types[] = { AIPLAT_COL_INT, AIPLAT_COL_NUMBER, AIPLAT_COL_BOOL,
	                                        AIPLAT_COL_JSON };
	static const char *const cells[] = { "12abc", "1.2.3", "maybe", "{oops" };
	aiplat_table *t = make_table(4, names, types, 1, cells);
	expect_render(t, OUT_NDJSON, "{\"i\":\"12abc\",\"n\":\"1.2.3\",\"b\":\"maybe\",\"j\":\"{oops\"}\n");
}

static void test_json_string_escapes(void **state)
{
	(void)state;
	static const char *const names[] = { "s" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT };
	static const char *const cells[] = { "q\"b\\s\nn\tt/" };
	aiplat_table *t = make_table(1, names, types, 1, cells);
	expect_render(t, OUT_NDJSON, "{\"s\":\"q\\\"b\\\\s\\nn\\tt/\"}\n");
}

/* PostgreSQL's float8 and numeric have NaN, Infinity and -Infinity. They are
 * not JSON numbers, so like any other value that does not parse as its type
 * they should fall back to strings; above all the key must not disappear. */
static void test_json_nan_keeps_its_key(void **state)
{
	(void)state;
	static const char *const names[] = { "id", "x", "y", "z" };
	static const aiplat_coltype types[] = { AIPLAT_COL_INT, AIPLAT_COL_NUMBER, AIPLAT_COL_NUMBER,
	                                        AIPLAT_COL_NUMBER };
	static const char *const cells[] = { "1", "NaN", "Infinity", "-Infinity" };
	aiplat_table *t = make_table(4, names, types, 1, cells);
	expect_render(t, OUT_NDJSON,
	              "{\"id\":1,\"x\":\"NaN\",\"y\":\"Infinity\",\"z\":\"-Infinity\"}\n");
}

/* A NUMBER written to JSON must denote the same value PostgreSQL sent. */
static void test_json_numbers_keep_their_value(void **state)
{
	(void)state;
	static const char *const names[] = { "amount", "ratio" };
	static const aiplat_coltype types[] = { AIPLAT_COL_NUMBER, AIPLAT_COL_NUMBER };
	/* numeric(16,2) money and a float8 as PostgreSQL prints it */
	static const char *const cells[] = { "12345678901234.56", "0.30000000000000004" };
	aiplat_table *t = make_table(2, names, types, 1, cells);
	char *got = render(t, OUT_NDJSON, false, false);
	json_t *row = json_loads(got, 0, NULL);
	json_t *amount = json_object_get(row, "amount"), *ratio = json_object_get(row, "ratio");
	bool typed = json_is_real(amount) && json_is_real(ratio);
	bool same = typed && json_real_value(amount) == strtod(cells[0], NULL) &&
	            json_real_value(ratio) == strtod(cells[1], NULL);
	if (!same)
		print_message("rendered: %s", got);
	json_decref(row);
	free(got);
	assert_true(typed);
	assert_true(same);   /* fails when a digit was rounded away */
}

/* A JSON column is emitted as JSON. An integer beyond 64 bits is valid JSON
 * (jsonb keeps it exactly), so the object must not turn into a string. */
static void test_json_column_with_big_integer_stays_json(void **state)
{
	(void)state;
	static const char *const names[] = { "j" };
	static const aiplat_coltype types[] = { AIPLAT_COL_JSON };
	static const char *const cells[] = { "{\"id\": 12345678901234567890}" };
	aiplat_table *t = make_table(1, names, types, 1, cells);
	expect_render(t, OUT_NDJSON, "{\"j\":{\"id\":12345678901234567890}}\n");
}

/* ---- csv / tsv -------------------------------------------------------------- */

static void test_csv_rfc4180(void **state)
{
	(void)state;
	static const char *const names[] = { "id", "text", "say,what" };
	static const aiplat_coltype types[] = { AIPLAT_COL_INT, AIPLAT_COL_TEXT, AIPLAT_COL_TEXT };
	static const char *const cells[] = {
		"1", "plain",          NULL,
		"2", "a,b",            "",
		"3", "say \"hi\"",     "x",
		"4", "line1\nline2",   "cr\r",
		"5", " spaced ",       "日本語",
	};
	aiplat_table *t = make_table(3, names, types, 5, cells);
	/* NULL is an empty field, an empty string is "", quotes are doubled,
	 * fields with , " CR or LF are quoted, lines end in CRLF. */
	expect_render(t, OUT_CSV,
	              "id,text,\"say,what\"\r\n"
	              "1,plain,\r\n"
	              "2,\"a,b\",\"\"\r\n"
	              "3,\"say \"\"hi\"\"\",x\r\n"
	              "4,\"line1\nline2\",\"cr\r\"\r\n"
	              "5, spaced ,日本語\r\n");
}

static void test_tsv_escapes(void **state)
{
	(void)state;
	static const char *const names[] = { "k", "v" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_INT };
	static const char *const cells[] = {
		"a\tb",        "x\\y",
		"l1\nl2\rz",   NULL,
		"",            "plain",
	};
	aiplat_table *t = make_table(2, names, types, 3, cells);
	expect_render(t, OUT_TSV,
	              "k\tv\n"
	              "a\\tb\tx\\\\y\n"
	              "l1\\nl2\\rz\t\n"
	              "\tplain\n");
}

/* ---- empty tables ------------------------------------------------------------- */

static void test_empty_table_every_format(void **state)
{
	(void)state;
	static const char *const names[] = { "id", "name" };
	static const aiplat_coltype types[] = { AIPLAT_COL_INT, AIPLAT_COL_TEXT };
	aiplat_table *t = make_table(2, names, types, 0, NULL);
	expect_render(t, OUT_TABLE,
	              " id | name\n"
	              "----+------\n"
	              "(0 rows)\n");
	expect_render(t, OUT_JSON, "[]\n");
	expect_render(t, OUT_NDJSON, "");
	expect_render(t, OUT_CSV, "id,name\r\n");
	expect_render(t, OUT_TSV, "id\tname\n");
}

/* ---- records -------------------------------------------------------------------- */

static aiplat_table *record_table(void)
{
	static const char *const names[] = { "id", "name", "description", "note" };
	static const aiplat_coltype types[] = { AIPLAT_COL_INT, AIPLAT_COL_TEXT, AIPLAT_COL_TEXT,
	                                        AIPLAT_COL_TEXT };
	static const char *const cells[] = {
		"7", "Zo\xc3\xab", "two\nlines", NULL,
		"8", "second",     "ignored",    "x",
	};
	return make_table(4, names, types, 2, cells);
}

static void test_record_table_is_vertical(void **state)
{
	(void)state;
	aiplat_table *t = record_table();
	/* Field names padded to the widest ("description", 11 cells); only the
	 * first row is shown; values are escaped but not aligned. */
	expect_record(t, OUT_TABLE,
	              "id          | 7\n"
	              "name        | Zo\xc3\xab\n"
	              "description | two\\nlines\n"
	              "note        | \n");
}

static void test_record_table_wide_field_names(void **state)
{
	(void)state;
	static const char *const names[] = { "名前", "id" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_INT };
	static const char *const cells[] = { "x", "1" };
	aiplat_table *t = make_table(2, names, types, 1, cells);
	expect_record(t, OUT_TABLE,
	              "名前 | x\n"
	              "id   | 1\n");
}

static void test_record_json_is_one_object(void **state)
{
	(void)state;
	aiplat_table *t = record_table();
	expect_record(t, OUT_JSON,
	              "{\n"
	              "  \"id\": 7,\n"
	              "  \"name\": \"Zo\xc3\xab\",\n"
	              "  \"description\": \"two\\nlines\",\n"
	              "  \"note\": null\n"
	              "}\n");
}

static void test_record_other_formats_render_the_table(void **state)
{
	(void)state;
	aiplat_table *t = record_table();
	expect_record(t, OUT_CSV,
	              "id,name,description,note\r\n"
	              "7,Zo\xc3\xab,\"two\nlines\",\r\n"
	              "8,second,ignored,x\r\n");
	expect_record(t, OUT_TSV,
	              "id\tname\tdescription\tnote\n"
	              "7\tZo\xc3\xab\ttwo\\nlines\t\n"
	              "8\tsecond\tignored\tx\n");
	expect_record(t, OUT_NDJSON,
	              "{\"id\":7,\"name\":\"Zo\xc3\xab\",\"description\":\"two\\nlines\",\"note\":null}\n"
	              "{\"id\":8,\"name\":\"second\",\"description\":\"ignored\",\"note\":\"x\"}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_format_parse, free_table),
		cmocka_unit_test_teardown(test_format_names_match_format_option, free_table),
		cmocka_unit_test_teardown(test_display_width, free_table),
		cmocka_unit_test_teardown(test_table_alignment, free_table),
		cmocka_unit_test_teardown(test_table_header_centred_and_one_row, free_table),
		cmocka_unit_test_teardown(test_table_wide_characters, free_table),
		cmocka_unit_test_teardown(test_table_escapes_control_characters, free_table),
		cmocka_unit_test_teardown(test_table_escapes_control_characters_in_header, free_table),
		cmocka_unit_test_teardown(test_table_color_header, free_table),
		cmocka_unit_test_teardown(test_json_array_of_typed_objects, free_table),
		cmocka_unit_test_teardown(test_ndjson_one_compact_object_per_line, free_table),
		cmocka_unit_test_teardown(test_json_malformed_typed_values_stay_strings, free_table),
		cmocka_unit_test_teardown(test_json_string_escapes, free_table),
		cmocka_unit_test_teardown(test_json_nan_keeps_its_key, free_table),
		cmocka_unit_test_teardown(test_json_numbers_keep_their_value, free_table),
		cmocka_unit_test_teardown(test_json_column_with_big_integer_stays_json, free_table),
		cmocka_unit_test_teardown(test_csv_rfc4180, free_table),
		cmocka_unit_test_teardown(test_tsv_escapes, free_table),
		cmocka_unit_test_teardown(test_empty_table_every_format, free_table),
		cmocka_unit_test_teardown(test_record_table_is_vertical, free_table),
		cmocka_unit_test_teardown(test_record_table_wide_field_names, free_table),
		cmocka_unit_test_teardown(test_record_json_is_one_object, free_table),
		cmocka_unit_test_teardown(test_record_other_formats_render_the_table, free_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
