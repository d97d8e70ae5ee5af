/* Rendering result tables (psql's aligned printer is the model for `table`). */
#define _XOPEN_SOURCE 700   /* wcwidth */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <jansson.h>
#include "json-writer.h"
#include "output.h"

/* The formats: their names (the choices of --format) and what each is
 * (the man page's OUTPUT), both indexed by enum out_format. */
const char *const out_format_names[] = { "table", "json", "ndjson", "csv", "tsv", "prometheus",
                                          NULL };
const char *const out_format_descriptions[] = {
	"an aligned table, as psql prints it (the default on a terminal)",
	"one JSON array of objects, or one object for a single record",
	"one JSON object per line",
	"comma-separated values (RFC 4180), with a header line",
	"tab-separated values with a header line (the default when not on a terminal)",
	"the Prometheus text exposition format (usage report only)",
	NULL
};
_Static_assert(sizeof(out_format_names) == sizeof(out_format_descriptions),
               "every format has a description");

int out_format_parse(const char *name)
{
	for (int i = 0; out_format_names[i]; i++)
		if (!strcmp(out_format_names[i], name))
			return i;
	return -1;
}

/* Decodes one UTF-8 sequence; returns its length (1 for an invalid byte, *cp = -1). */
static size_t utf8_decode(const unsigned char *s, long *cp)
{
	unsigned char c = s[0];
	size_t len;
	long v;
	if (c < 0x80) { *cp = c; return 1; }
	if ((c & 0xE0) == 0xC0) { len = 2; v = c & 0x1F; }
	else if ((c & 0xF0) == 0xE0) { len = 3; v = c & 0x0F; }
	else if ((c & 0xF8) == 0xF0) { len = 4; v = c & 0x07; }
	else { *cp = -1; return 1; }
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) { *cp = -1; return 1; }
		v = (v << 6) | (s[i] & 0x3F);
	}
	*cp = v;
	return len;
}

bool out_utf8_locale_name(const char *name)
{
	return name && (strstr(name, "UTF-8") || strstr(name, "utf8") || strstr(name, "UTF8"));
}

/* wcwidth() answers per the LC_CTYPE locale; make sure it is a UTF-8 one. */
static void ensure_utf8_ctype(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	if (out_utf8_locale_name(setlocale(LC_CTYPE, NULL)))
		return;
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
}

size_t out_display_width(const char *s)
{
	ensure_utf8_ctype();
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		long cp;
		p += utf8_decode(p, &cp);
		if (cp < 0) {
			w += 1;
			continue;
		}
		int cw = wcwidth((wchar_t)cp);
		w += cw < 0 ? 1 : (size_t)cw;
	}
	return w;
}

/* ---- table ------------------------------------------------------------------ */

static char *display_cell(const char *v);

/* A JSON array of plain strings reads better as "a, b, c" in a table. */
static char *string_list(const char *v)
{
	if (v[0] != '[')
		return NULL;
	json_t *j = json_loads(v, 0, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	size_t i, len = 1;
	json_t *item;
	json_array_foreach(j, i, item) {
		const char *s = json_string_value(item);
		if (!s || strpbrk(s, ",\n")) {
			json_decref(j);
			return NULL;
		}
		len += strlen(s) + 2;
	}
	char *out = malloc(len);
	if (out) {
		out[0] = '\0';
		json_array_foreach(j, i, item)
			snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? ", " : "",
			         json_string_value(item));
	}
	json_decref(j);
	return out;
}

/* A cell as shown in the aligned table: control characters escaped. */
static char *display_cell_typed(const char *v, aiplat_coltype type)
{
	if (v && type == AIPLAT_COL_JSON) {
		char *list = string_list(v);
		if (list)
			return list;
	}
	return display_cell(v);
}

static char *display_cell(const char *v)
{
	if (!v)
		return strdup("");
	size_t n = strlen(v);
	char *out = malloc(n * 4 + 1), *w = out;
	if (!out)
		return NULL;
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n') { *w++ = '\\'; *w++ = 'n'; }
		else if (c == '\t') { *w++ = '\\'; *w++ = 't'; }
		else if (c == '\r') { *w++ = '\\'; *w++ = 'r'; }
		else if (c < 0x20 || c == 0x7f) { w += sprintf(w, "\\x%02x", c); }
		else *w++ = (char)c;
	}
	*w = '\0';
	return out;
}

static bool right_aligned(aiplat_coltype t)
{
	return t == AIPLAT_COL_INT || t == AIPLAT_COL_NUMBER;
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static int render_table(FILE *f, const aiplat_table *t, bool color)
{
	size_t nc = aiplat_table_ncols(t), nr = aiplat_table_nrows(t);
	size_t *width = calloc(nc ? nc : 1, sizeof(size_t));
	char **names = NULL;
	char **cells = calloc(nr * nc + 1, sizeof(char *));
	size_t *cellw = calloc(nr * nc + 1, sizeof(size_t));
	int rc = 0;
	if (!width || !cells || !cellw) {
		rc = -1;
		goto out;
	}
	names = calloc(nc + 1, sizeof(char *));
	if (!names) {
		rc = -1;
		goto out;
	}
	for (size_t c = 0; c < nc; c++) {
		if (!(names[c] = display_cell(aiplat_table_column_name(t, c)))) {
			rc = -1;
			goto out;
		}
		width[c] = out_display_width(names[c]);
	}
	for (size_t r = 0; r < nr; r++)
		for (size_t c = 0; c < nc; c++) {
			char *d = display_cell_typed(aiplat_table_cell(t, r, c), aiplat_table_column_type(t, c));
			if (!d) {
				rc = -1;
				goto out;
			}
			cells[r * nc + c] = d;
			cellw[r * nc + c] = out_display_width(d);
			if (cellw[r * nc + c] > width[c])
				width[c] = cellw[r * nc + c];
		}
	/* header */
	for (size_t c = 0; c < nc; c++) {
		const char *name = names[c];
		size_t w = out_display_width(name), left = (width[c] - w) / 2;
		fputs(c ? " | " : " ", f);
		pad(f, left);
		fprintf(f, "%s%s%s", color ? "\033[1m" : "", name, color ? "\033[0m" : "");
		if (c + 1 < nc)
			pad(f, width[c] - w - left);
	}
	fputc('\n', f);
	for (size_t c = 0; c < nc; c++) {
		fputs(c ? "-+-" : "-", f);
		for (size_t k = 0; k < width[c]; k++)
			fputc('-', f);
	}
	fputs("-\n", f);
	for (size_t r = 0; r < nr; r++) {
		for (size_t c = 0; c < nc; c++) {
			size_t w = cellw[r * nc + c];
			fputs(c ? " | " : " ", f);
			if (right_aligned(aiplat_table_column_type(t, c))) {
				pad(f, width[c] - w);
				fputs(cells[r * nc + c], f);
			} else {
				fputs(cells[r * nc + c], f);
				if (c + 1 < nc)
					pad(f, width[c] - w);
			}
		}
		fputc('\n', f);
	}
	fprintf(f, "(%zu row%s)\n", nr, nr == 1 ? "" : "s");
out:
	for (size_t i = 0; names && i < nc; i++)
		free(names[i]);
	free(names);
	for (size_t i = 0; cells && i < nr * nc; i++)
		free(cells[i]);
	free(cells);
	free(cellw);
	free(width);
	return rc;
}

/* ---- json / ndjson ---------------------------------------------------------- */

/* One cell as a JSON value; a value that is not valid for its type (NaN,
 * "12abc", malformed JSON) becomes a string rather than disappearing. */
static void json_cell(FILE *f, const char *v, aiplat_coltype type, int indent)
{
	if (!v) {
		fputs("null", f);
		return;
	}
	switch (type) {
	case AIPLAT_COL_INT:
	case AIPLAT_COL_NUMBER:
		if (jw_is_number(v)) {
			fputs(v, f);
			return;
		}
		break;
	case AIPLAT_COL_BOOL:
		if (!strcmp(v, "t") || !strcmp(v, "true")) {
			fputs("true", f);
			return;
		}
		if (!strcmp(v, "f") || !strcmp(v, "false")) {
			fputs("false", f);
			return;
		}
		break;
	case AIPLAT_COL_JSON:
		if (jw_is_json(v)) {
			jw_reformat(f, v, indent);
			return;
		}
		break;
	default:
		break;
	}
	jw_string(f, v);
}

/* A row as an object; indent < 0 for compact, else the object's level. */
static void json_row(FILE *f, const aiplat_table *t, size_t r, int indent)
{
	size_t nc = aiplat_table_ncols(t);
	if (nc == 0) {
		fputs("{}", f);
		return;
	}
	fputc('{', f);
	for (size_t c = 0; c < nc; c++) {
		if (indent >= 0) {
			fputc('\n', f);
			for (int i = 0; i <= indent; i++)
				fputs("  ", f);
		}
		jw_string(f, aiplat_table_column_name(t, c));
		fputs(indent >= 0 ? ": " : ":", f);
		json_cell(f, aiplat_table_cell(t, r, c), aiplat_table_column_type(t, c),
		          indent >= 0 ? indent + 1 : -1);
		if (c + 1 < nc)
			fputc(',', f);
	}
	if (indent >= 0) {
		fputc('\n', f);
		for (int i = 0; i < indent; i++)
			fputs("  ", f);
	}
	fputc('}', f);
}

static int render_json(FILE *f, const aiplat_table *t, bool lines)
{
	size_t nr = aiplat_table_nrows(t);
	if (lines) {
		for (size_t r = 0; r < nr; r++) {
			json_row(f, t, r, -1);
			fputc('\n', f);
		}
		return 0;
	}
	if (nr == 0) {
		fputs("[]\n", f);
		return 0;
	}
	fputs("[\n", f);
	for (size_t r = 0; r < nr; r++) {
		fputs("  ", f);
		json_row(f, t, r, 1);
		fputs(r + 1 < nr ? ",\n" : "\n", f);
	}
	fputs("]\n", f);
	return 0;
}

/* ---- csv / tsv ------------------------------------------------------------ */

static void csv_field(FILE *f, const char *v, bool is_null)
{
	if (is_null)
		return;
	if (!*v || strpbrk(v, ",\"\r\n")) {
		fputc('"', f);
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
		return;
	}
	fputs(v, f);
}

static void tsv_field(FILE *f, const char *v)
{
	for (const char *p = v ? v : ""; *p; p++) {
		switch (*p) {
		case '\t': fputs("\\t", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\\': fputs("\\\\", f); break;
		default:   fputc(*p, f);
		}
	}
}

static int render_delimited(FILE *f, const aiplat_table *t, bool csv)
{
	size_t nc = aiplat_table_ncols(t);
	const char *eol = csv ? "\r\n" : "\n";
	char sep = csv ? ',' : '\t';
	for (size_t c = 0; c < nc; c++) {
		if (c)
			fputc(sep, f);
		if (csv)
			csv_field(f, aiplat_table_column_name(t, c), false);
		else
			tsv_field(f, aiplat_table_column_name(t, c));
	}
	fputs(eol, f);
	for (size_t r = 0; r < aiplat_table_nrows(t); r++) {
		for (size_t c = 0; c < nc; c++) {
			const char *v = aiplat_table_cell(t, r, c);
			if (c)
				fputc(sep, f);
			if (csv)
				csv_field(f, v ? v : "", v == NULL);
			else
				tsv_field(f, v);
		}
		fputs(eol, f);
	}
	return 0;
}

static int render_vertical(FILE *f, const aiplat_table *t, bool color)
{
	size_t nc = aiplat_table_ncols(t), width = 0;
	char **names = calloc(nc + 1, sizeof(char *));
	int rc = names ? 0 : -1;
	for (size_t c = 0; c < nc && !rc; c++) {
		if (!(names[c] = display_cell(aiplat_table_column_name(t, c))))
			rc = -1;
		else if (out_display_width(names[c]) > width)
			width = out_display_width(names[c]);
	}
	for (size_t c = 0; c < nc && !rc; c++) {
		char *v = display_cell_typed(aiplat_table_nrows(t) ? aiplat_table_cell(t, 0, c) : NULL,
		                             aiplat_table_column_type(t, c));
		if (!v) {
			rc = -1;
			break;
		}
		fprintf(f, "%s%s%s", color ? "\033[1m" : "", names[c], color ? "\033[0m" : "");
		pad(f, width - out_display_width(names[c]));
		fprintf(f, " | %s\n", v);
		free(v);
	}
	for (size_t c = 0; names && c < nc; c++)
		free(names[c]);
	free(names);
	return rc;
}

int out_render_record(FILE *f, const aiplat_table *t, enum out_format fmt, bool color)
{
	int rc;
	if (fmt == OUT_TABLE) {
		rc = render_vertical(f, t, color);
	} else if (fmt == OUT_JSON) {
		if (aiplat_table_nrows(t))
			json_row(f, t, 0, 0);
		else
			fputs("{}", f);
		fputc('\n', f);
		rc = 0;
	} else {
		return out_render(f, t, fmt, color);
	}
	return rc || ferror(f) ? -1 : 0;
}

int out_render(FILE *f, const aiplat_table *t, enum out_format fmt, bool color)
{
	int rc;
	switch (fmt) {
	case OUT_JSON:   rc = render_json(f, t, false); break;
	case OUT_NDJSON: rc = render_json(f, t, true); break;
	case OUT_CSV:    rc = render_delimited(f, t, true); break;
	case OUT_TSV:    rc = render_delimited(f, t, false); break;
	default:         rc = render_table(f, t, color); break;
	}
	return rc || ferror(f) ? -1 : 0;
}
