/*
 * Unit tests for the report renderers in cmd/chart.c and cmd/prometheus.c
 * (no database): bar charts scaled to the largest value, labels cut to fit,
 * ASCII and UTF-8 bars; the Prometheus text format with escaped label
 * values, one HELP/TYPE per family, NULL cells skipped and extra labels.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/table.h"
#include "cli.h"
#include "output.h"

/* ---- helpers -------------------------------------------------------------------------- */

static aiplat_table *current;
static char *text;   /* the last rendering */

static int cleanup(void **state)
{
	(void)state;
	aiplat_table_free(current);
	current = NULL;
	free(text);
	text = NULL;
	return 0;
}

/* A table of ncols columns; cells row-major, NULL for SQL NULL. */
static aiplat_table *make_table(size_t ncols, const char *const *names, const aiplat_coltype *types,
                                size_t nrows, const char *const *cells)
{
	aiplat_table_free(current);
	assert_int_equal(aiplat_table_new(&current, ncols), 0);
	for (size_t c = 0; c < ncols; c++)
		assert_int_equal(aiplat_table_set_column(current, c, names[c], types[c]), 0);
	for (size_t r = 0; r < nrows; r++)
		assert_int_equal(aiplat_table_add_row(current, cells + r * ncols), 0);
	return current;
}

/* label, value */
static aiplat_table *label_value_table(size_t nrows, const char *const *cells)
{
	static const char *const names[] = { "label", "tokens" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_INT };
	return make_table(2, names, types, nrows, cells);
}

static const char *chart(const aiplat_table *t, const size_t *labels, size_t nlabels, size_t value_col,
                         int width, bool utf8)
{
	free(text);
	size_t len = 0;
	text = NULL;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	int rc = out_render_chart(f, t, labels, nlabels, value_col, width, utf8);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static const char *prometheus(const aiplat_table *t, const struct out_metric *m, size_t nm, const size_t *labels,
                              size_t nlabels, const char *const *extra, int want_rc)
{
	free(text);
	size_t len = 0;
	text = NULL;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	int rc = out_render_prometheus(f, t, m, nm, labels, nlabels, extra);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rc, want_rc);
	return text;
}

/* Line i (0-based) of s, malloc'd without its newline; NULL past the end. */
static char *line_of(const char *s, size_t i)
{
	for (size_t k = 0; k < i; k++) {
		s = strchr(s, '\n');
		if (!s)
			return NULL;
		s++;
	}
	if (!*s)
		return NULL;
	const char *nl = strchr(s, '\n');
	assert_non_null(nl);
	return strndup(s, (size_t)(nl - s));
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static size_t count_of(const char *s, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p += len)
		n++;
	return n;
}

/* Terminal cells of the UTF-8 text used here: CJK ideographs are wide. */
static size_t cells(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned cp = *p;
		size_t n = 1;
		if (*p >= 0xF0)
			n = 4, cp = *p & 0x07;
		else if (*p >= 0xE0)
			n = 3, cp = *p & 0x0F;
		else if (*p >= 0xC0)
			n = 2, cp = *p & 0x1F;
		for (size_t i = 1; i < n; i++) {
			assert_true((p[i] & 0xC0) == 0x80);   /* never a cut sequence */
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		w += (cp >= 0x3000 && cp <= 0x9FFF) ? 2 : 1;
		p += n;
	}
	return w;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}

/* ---- charts --------------------------------------------------------------------------- */

static void test_chart_bars_are_proportional(void **state)
{
	(void)state;
	const char *const rows[] = { "alpha", "1000", "beta", "500", "gamma", "1", "delta", "0" };
	const aiplat_table *t = label_value_table(4, rows);
	const size_t label[] = { 0 };
	const char *out = chart(t, label, 1, 1, 60, false);
	assert_int_equal(count_lines(out), 4);
	char *a = line_of(out, 0), *b = line_of(out, 1), *g = line_of(out, 2), *d = line_of(out, 3);
	/* The largest fills its bar: label, one space, bar, one space, value. */
	size_t full = count_char(a, '#');
	assert_true(full >= 40);
	char want[128];
	snprintf(want, sizeof(want), "alpha %.*s 1.00k", (int)full,
	         "################################################################");
	assert_string_equal(a, want);
	/* Half the value, half the bar (to the nearest cell). */
	size_t half = count_char(b, '#');
	assert_int_equal(half, (full + 1) / 2);   /* rounded half up */
	assert_true(!strncmp(b, "beta  #", 7));
	/* However small, something shows; zero shows nothing. */
	assert_int_equal(count_char(g, '#'), 1);
	assert_true(!strncmp(g, "gamma #", 7));
	assert_int_equal(count_char(d, '#'), 0);
	/* Aligned: same length, values right-aligned at the end, within the width. */
	assert_int_equal(strlen(b), strlen(a));
	assert_int_equal(strlen(g), strlen(a));
	assert_int_equal(strlen(d), strlen(a));
	assert_true(strlen(a) <= 60 && strlen(a) >= 57);
	assert_string_equal(b + strlen(b) - 4, " 500");
	assert_string_equal(g + strlen(g) - 2, " 1");
	assert_string_equal(d + strlen(d) - 2, " 0");
	/* The bars all start in the same column. */
	assert_int_equal(strchr(b, '#') - b, strchr(a, '#') - a);
	free(a);
	free(b);
	free(g);
	free(d);
}

static void test_chart_scales_to_the_width(void **state)
{
	(void)state;
	const char *const rows[] = { "x", "7", "y", "3" };
	const aiplat_table *t = label_value_table(2, rows);
	const size_t label[] = { 0 };
	size_t prev = 0;
	static const int widths[] = { 40, 80, 120, 200 };
	for (size_t i = 0; i < 4; i++) {
		const char *out = chart(t, label, 1, 1, widths[i], false);
		char *a = line_of(out, 0);
		size_t full = count_char(a, '#');
		/* The whole width is used, never more. */
		assert_true(strlen(a) <= (size_t)widths[i] && strlen(a) + 3 >= (size_t)widths[i]);
		assert_true(full > prev);
		prev = full;
		/* 3/7 of the largest, to the nearest cell. */
		char *b = line_of(out, 1);
		size_t part = count_char(b, '#');
		assert_true(part * 7 >= full * 3 - 7 && part * 7 <= full * 3 + 7);
		free(a);
		free(b);
	}
	/* Narrower than 40 is drawn at 40. */
	const char *out = chart(t, label, 1, 1, 10, false);
	char *a = line_of(out, 0);
	assert_true(strlen(a) >= 37 && strlen(a) <= 40);
	free(a);
}

static void test_chart_tiny_values_show(void **state)
{
	(void)state;
	const char *const rows[] = { "huge", "1000000000", "tiny", "1", "none", "0" };
	const aiplat_table *t = label_value_table(3, rows);
	const size_t label[] = { 0 };
	for (int utf8 = 0; utf8 < 2; utf8++) {
		const char *out = chart(t, label, 1, 1, 60, utf8);
		char *tiny = line_of(out, 1), *none = line_of(out, 2);
		if (utf8) {
			/* One eighth of a cell at least. */
			assert_true(strstr(tiny, "\xe2\x96\x8f") || strstr(tiny, "\xe2\x96\x88"));
			assert_null(strstr(none, "\xe2\x96"));
		} else {
			assert_int_equal(count_char(tiny, '#'), 1);
			assert_int_equal(count_char(none, '#'), 0);
		}
		free(tiny);
		free(none);
	}
	/* Human-sized numbers beside the bars. */
	const char *const big[] = { "a", "1234567", "b", "12345", "c", "123456", "d", "999" };
	t = label_value_table(4, big);
	const char *out = chart(t, label, 1, 1, 60, false);
	static const char *const ends[] = { " 1.23M", " 12.3k", "  123k", "   999" };
	for (size_t i = 0; i < 4; i++) {
		char *l = line_of(out, i);
		if (strlen(l) < strlen(ends[i]) || strcmp(l + strlen(l) - strlen(ends[i]), ends[i]) != 0)
			fail_msg("line %zu \"%s\" does not end with \"%s\"", i, l, ends[i]);
		free(l);
	}
}

static void test_chart_labels_are_cut_to_fit(void **state)
{
	(void)state;
	char longest[201];
	memset(longest, 'x', 200);
	longest[200] = '\0';
	const char *const rows[] = { longest, "10", "short", "5" };
	const aiplat_table *t = label_value_table(2, rows);
	const size_t label[] = { 0 };
	const char *out = chart(t, label, 1, 1, 50, false);
	assert_int_equal(count_lines(out), 2);
	char *a = line_of(out, 0), *b = line_of(out, 1);
	assert_true(strlen(a) <= 50);
	/* Cut with '~' to at most 2/5 of the width, so the bar keeps the rest. */
	char *tilde = strchr(a, '~');
	assert_non_null(tilde);
	assert_true((size_t)(tilde - a) + 1 <= 20);
	assert_true(count_char(a, '#') >= 20);
	for (const char *p = a; p < tilde; p++)
		assert_int_equal(*p, 'x');
	/* The short label is whole, padded to the same column. */
	assert_true(!strncmp(b, "short ", 6));
	assert_int_equal(strchr(b, '#') - b, strchr(a, '#') - a);
	free(a);
	free(b);

	/* UTF-8: cut by terminal cells (wide characters count two), never
	 * inside a character, with an ellipsis. */
	const char *wide = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
	                   "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
	                   "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";   /* 15 ideographs, 30 cells */
	const char *accents = "\xc3\xa9t\xc3\xa9 \xc3\xa0 la plage, tr\xc3\xa8s longtemps, vraiment tr\xc3\xa8s";
	const char *const urows[] = { wide, "100", accents, "40" };
	t = label_value_table(2, urows);
	out = chart(t, label, 1, 1, 50, true);
	for (size_t i = 0; i < 2; i++) {
		char *l = line_of(out, i);
		assert_true(cells(l) <= 50);
		assert_null(strchr(l, '#'));
		char *ell = strstr(l, "\xe2\x80\xa6");
		assert_non_null(ell);
		*ell = '\0';
		assert_true(cells(l) + 1 <= 20);
		assert_true(cells(l) + 1 >= 18);
		free(l);
	}
}

static void test_chart_ascii_and_utf8(void **state)
{
	(void)state;
	const char *const rows[] = { "a", "800", "b", "100", "c", "450" };
	const aiplat_table *t = label_value_table(3, rows);
	const size_t label[] = { 0 };
	const char *out = chart(t, label, 1, 1, 60, false);
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p >= 0x80)
			fail_msg("ASCII chart has a non-ASCII byte:\n%s", out);
	assert_true(count_char(out, '#') > 0);
	char *ascii_a = line_of(out, 0);
	size_t full = count_char(ascii_a, '#');
	free(ascii_a);

	out = chart(t, label, 1, 1, 60, true);
	assert_null(strchr(out, '#'));
	char *a = line_of(out, 0), *b = line_of(out, 1);
	/* The largest: whole blocks only, as many cells as the ASCII bar. */
	assert_int_equal(count_of(a, "\xe2\x96\x88"), full);
	assert_int_equal(cells(a), cells(b));
	/* 1/8 of it: the same length in eighths, give or take one. */
	size_t whole = count_of(b, "\xe2\x96\x88"), eighths = whole * 8;
	static const char *const partial[] = { "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
	                                       "\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89" };
	for (size_t k = 0; k < 7; k++)
		if (strstr(b, partial[k]))
			eighths += k + 1;
	assert_true(eighths >= full - 1 && eighths <= full + 1);
	free(a);
	free(b);
}

static void test_chart_labels_nulls_and_empty(void **state)
{
	(void)state;
	static const char *const names[] = { "org", "model", "tokens" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_TEXT, AIPLAT_COL_INT };
	const char *const rows[] = { "acme", "Legal", "30", NULL, "Basic", "10", "pixel", NULL, NULL };
	const aiplat_table *t = make_table(3, names, types, 3, rows);
	const size_t labels[] = { 0, 1 };
	const char *out = chart(t, labels, 2, 2, 60, false);
	assert_int_equal(count_lines(out), 3);
	char *a = line_of(out, 0), *b = line_of(out, 1), *c = line_of(out, 2);
	assert_true(!strncmp(a, "acme / Legal ", 13));
	assert_true(!strncmp(b, "(none) / Basic ", 15));
	assert_true(!strncmp(c, "pixel / (none) ", 15));
	assert_int_equal(count_char(c, '#'), 0);   /* no value, no bar */
	size_t full = count_char(a, '#'), third = count_char(b, '#');
	assert_true(third * 3 >= full - 3 && third * 3 <= full + 3);
	free(a);
	free(b);
	free(c);

	t = label_value_table(0, NULL);
	const size_t label[] = { 0 };
	assert_string_equal(chart(t, label, 1, 1, 60, false), "(no usage)\n");
}

/* ---- Prometheus ------------------------------------------------------------------------- */

static const struct out_metric usage_metrics[] = {
	{ "aiplat_usage_tokens", "Tokens used.", "tokens_in", "direction", "in" },
	{ "aiplat_usage_requests", "Requests.", "requests", NULL, NULL },
	/* The second member of the first family comes after another family. */
	{ "aiplat_usage_tokens", "Tokens used.", "tokens_out", "direction", "out" },
};

static aiplat_table *usage_table(size_t nrows, const char *const *cells)
{
	static const char *const names[] = { "model", "tokens_in", "tokens_out", "requests" };
	static const aiplat_coltype types[] = { AIPLAT_COL_TEXT, AIPLAT_COL_INT, AIPLAT_COL_INT, AIPLAT_COL_INT };
	return make_table(4, names, types, nrows, cells);
}

static void test_prometheus_escapes_label_values(void **state)
{
	(void)state;
	const char *const rows[] = {
		"back\\slash", "1", "2", "3",
		"say \"hi\"", "4", "5", "6",
		"two\nlines", "7", "8", "9",
		"all \\\"\n three", "10", "11", "12",
	};
	const aiplat_table *t = usage_table(4, rows);
	const size_t labels[] = { 0 };
	const char *out = prometheus(t, usage_metrics, 3, labels, 1, NULL, 0);
	assert_non_null(strstr(out, "aiplat_usage_tokens{model=\"back\\\\slash\",direction=\"in\"} 1\n"));
	assert_non_null(strstr(out, "aiplat_usage_tokens{model=\"say \\\"hi\\\"\",direction=\"out\"} 5\n"));
	assert_non_null(strstr(out, "aiplat_usage_requests{model=\"two\\nlines\"} 9\n"));
	assert_non_null(strstr(out, "aiplat_usage_requests{model=\"all \\\\\\\"\\n three\"} 12\n"));
	/* No raw line break inside a sample: 2 families x (HELP + TYPE) + 12 samples. */
	assert_int_equal(count_lines(out), 4 + 12);
	for (size_t i = 0; i < 16; i++) {
		char *l = line_of(out, i);
		assert_true(l[0] == '#' || !strncmp(l, "aiplat_usage_", 13));
		free(l);
	}
}

static void test_prometheus_families(void **state)
{
	(void)state;
	const char *const rows[] = { "m1", "100", "20", "3", "m2", "200", "40", "6" };
	const aiplat_table *t = usage_table(2, rows);
	const size_t labels[] = { 0 };
	const char *out = prometheus(t, usage_metrics, 3, labels, 1, NULL, 0);
	const char *want =
		"# HELP aiplat_usage_tokens Tokens used.\n"
		"# TYPE aiplat_usage_tokens gauge\n"
		"aiplat_usage_tokens{model=\"m1\",direction=\"in\"} 100\n"
		"aiplat_usage_tokens{model=\"m2\",direction=\"in\"} 200\n"
		"aiplat_usage_tokens{model=\"m1\",direction=\"out\"} 20\n"
		"aiplat_usage_tokens{model=\"m2\",direction=\"out\"} 40\n"
		"# HELP aiplat_usage_requests Requests.\n"
		"# TYPE aiplat_usage_requests gauge\n"
		"aiplat_usage_requests{model=\"m1\"} 3\n"
		"aiplat_usage_requests{model=\"m2\"} 6\n";
	assert_string_equal(out, want);
	assert_int_equal(count_of(out, "# HELP aiplat_usage_tokens "), 1);
	assert_int_equal(count_of(out, "# TYPE aiplat_usage_tokens "), 1);
}

static void test_prometheus_skips_null_cells(void **state)
{
	(void)state;
	const char *const rows[] = { "m1", "100", NULL, "3", "m2", NULL, "40", NULL };
	const aiplat_table *t = usage_table(2, rows);
	const size_t labels[] = { 0 };
	const char *out = prometheus(t, usage_metrics, 3, labels, 1, NULL, 0);
	const char *want =
		"# HELP aiplat_usage_tokens Tokens used.\n"
		"# TYPE aiplat_usage_tokens gauge\n"
		"aiplat_usage_tokens{model=\"m1\",direction=\"in\"} 100\n"
		"aiplat_usage_tokens{model=\"m2\",direction=\"out\"} 40\n"
		"# HELP aiplat_usage_requests Requests.\n"
		"# TYPE aiplat_usage_requests gauge\n"
		"aiplat_usage_requests{model=\"m1\"} 3\n";
	assert_string_equal(out, want);
	/* A NULL label value is an empty one. */
	const char *const nolabel[] = { NULL, "1", "2", "3" };
	t = usage_table(1, nolabel);
	out = prometheus(t, usage_metrics, 3, labels, 1, NULL, 0);
	assert_non_null(strstr(out, "aiplat_usage_requests{model=\"\"} 3\n"));
}

static void test_prometheus_extra_labels(void **state)
{
	(void)state;
	const char *const rows[] = { "m1", "100", "20", "3" };
	const aiplat_table *t = usage_table(1, rows);
	const size_t labels[] = { 0 };
	const char *const extra[] = { "period", "month", "site", "a\"b\\c\nd", NULL };
	const char *out = prometheus(t, usage_metrics, 3, labels, 1, extra, 0);
	assert_int_equal(count_of(out, "period=\"month\""), 3);
	assert_int_equal(count_of(out, "site=\"a\\\"b\\\\c\\nd\""), 3);
	assert_non_null(strstr(out,
		"aiplat_usage_tokens{model=\"m1\",period=\"month\",site=\"a\\\"b\\\\c\\nd\",direction=\"out\"} 20\n"));
	assert_int_equal(count_lines(out), 4 + 3);

	/* No label columns: extra labels alone, or none at all. */
	out = prometheus(t, usage_metrics + 1, 1, NULL, 0, extra + 2, 0);
	assert_non_null(strstr(out, "\naiplat_usage_requests{site=\"a\\\"b\\\\c\\nd\"} 3\n"));
	out = prometheus(t, usage_metrics + 1, 1, NULL, 0, NULL, 0);
	assert_string_equal(out, "# HELP aiplat_usage_requests Requests.\n"
	                         "# TYPE aiplat_usage_requests gauge\n"
	                         "aiplat_usage_requests 3\n");
	/* Only the metric's own label. */
	out = prometheus(t, usage_metrics, 1, NULL, 0, NULL, 0);
	assert_non_null(strstr(out, "\naiplat_usage_tokens{direction=\"in\"} 100\n"));
}

static void test_prometheus_help_and_errors(void **state)
{
	(void)state;
	const char *const rows[] = { "m1", "100", "20", "3" };
	const aiplat_table *t = usage_table(1, rows);
	const struct out_metric odd[] = { { "x_total", "line one\nback\\slash \"quoted\"", "requests", NULL, NULL } };
	const char *out = prometheus(t, odd, 1, NULL, 0, NULL, 0);
	assert_string_equal(out, "# HELP x_total line one\\nback\\\\slash \"quoted\"\n"
	                         "# TYPE x_total gauge\n"
	                         "x_total 3\n");
	/* A metric reading a column the table lacks is an error. */
	const struct out_metric missing[] = { { "y", "Y.", "no_such_column", NULL, NULL } };
	prometheus(t, missing, 1, NULL, 0, NULL, -1);
	/* No rows: the families are still announced. */
	t = usage_table(0, NULL);
	out = prometheus(t, usage_metrics, 3, NULL, 0, NULL, 0);
	assert_int_equal(count_lines(out), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_chart_bars_are_proportional, cleanup),
		cmocka_unit_test_teardown(test_chart_scales_to_the_width, cleanup),
		cmocka_unit_test_teardown(test_chart_tiny_values_show, cleanup),
		cmocka_unit_test_teardown(test_chart_labels_are_cut_to_fit, cleanup),
		cmocka_unit_test_teardown(test_chart_ascii_and_utf8, cleanup),
		cmocka_unit_test_teardown(test_chart_labels_nulls_and_empty, cleanup),
		cmocka_unit_test_teardown(test_prometheus_escapes_label_values, cleanup),
		cmocka_unit_test_teardown(test_prometheus_families, cleanup),
		cmocka_unit_test_teardown(test_prometheus_skips_null_cells, cleanup),
		cmocka_unit_test_teardown(test_prometheus_extra_labels, cleanup),
		cmocka_unit_test_teardown(test_prometheus_help_and_errors, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
