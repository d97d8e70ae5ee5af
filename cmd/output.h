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

/* Terminal cells taken by a UTF-8 string (invalid bytes count one each). */
size_t out_display_width(const char *s);

#endif
