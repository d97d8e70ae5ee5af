/* The one renderer: tables as aligned text, JSON, NDJSON, CSV or TSV. */
#ifndef AIPLAT_OUTPUT_H
#define AIPLAT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include "cli.h"

/* Parses a format name; -1 when unknown. */
int out_format_parse(const char *name);

/*
 * table:  aligned columns with a header rule, numbers right-aligned, widths
 *         measured in terminal cells (wide characters count two), then
 *         "(N rows)"; control characters are shown escaped.
 * json:   an array of objects; numbers, booleans, JSON and NULL keep their type.
 * ndjson: one compact object per line.
 * csv:    RFC 4180: header row, CRLF line ends, fields quoted when needed;
 *         NULL is an empty field, an empty string is "".
 * tsv:    header row; tab, newline, carriage return and backslash escaped as
 *         \t \n \r \\; NULL is an empty field.
 */
int out_render(FILE *f, const aiplat_table *t, enum out_format fmt, bool color);

/*
 * One record (the first row of t): `table` prints it vertically, one
 * "field | value" line per column; `json` prints a single object rather
 * than an array; the other formats are as for out_render.
 */
int out_render_record(FILE *f, const aiplat_table *t, enum out_format fmt, bool color);

/*
 * A horizontal bar chart: one bar per row, labelled with the label columns
 * joined by " / ", scaled to the largest value of value_col, fitting
 * `width` cells. utf8 draws with eighth blocks, else with '#'.
 */
int out_render_chart(FILE *f, const aiplat_table *t, const size_t *label_cols, size_t nlabels,
                     size_t value_col, int width, bool utf8);

/* A metric of the Prometheus text exposition format, read from one column. */
struct out_metric {
	const char *name;         /* aiplat_usage_tokens */
	const char *help;
	const char *column;       /* the column holding the value */
	const char *label;        /* an extra label for this column, e.g. direction="in"; or NULL */
	const char *label_value;
};

/*
 * The text exposition format (version 0.0.4) for a node exporter textfile:
 * each metric's HELP and TYPE (gauge) once, then one sample per row, the
 * label columns as labels (values escaped), extra_labels (name, value
 * pairs, NULL-terminated) on every sample. Metrics with the same name are
 * written as one family.
 */
int out_render_prometheus(FILE *f, const aiplat_table *t, const struct out_metric *metrics,
                          size_t nmetrics, const size_t *label_cols, size_t nlabels,
                          const char *const *extra_labels);

/* Whether a locale name (LANG, LC_ALL, setlocale's answer) is a UTF-8 one. */
bool out_utf8_locale_name(const char *name);

/* Terminal cells taken by a UTF-8 string (invalid bytes count one each). */
size_t out_display_width(const char *s);

#endif
