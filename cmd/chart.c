/* Terminal bar charts (`usage report --chart`). */
#include <stdlib.h>
#include <string.h>
#include "aiplat/buf.h"
#include "output.h"

/* 1234 -> "1.2k", 1234567 -> "1.2M": short enough to sit beside a bar. */
static void human(char *buf, size_t size, double v)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P" };
	int u = 0;
	while (v >= 999.95 && u < 5) {
		v /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.*f%s", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v, units[u]);
}

/* Control characters would break the one-line-per-bar layout: shown
 * escaped, as the table renderer shows them. */
static void put_escaped(aiplat_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			aiplat_buf_puts(b, "\\n");
		else if (c == '\r')
			aiplat_buf_puts(b, "\\r");
		else if (c == '\t')
			aiplat_buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			aiplat_buf_printf(b, "\\x%02x", c);
		else
			aiplat_buf_putc(b, (char)c);
	}
}

/* Copies s into buf, cut to at most `cells` terminal cells (with an ellipsis). */
static void fit(char *buf, size_t size, const char *s, size_t cells, bool utf8)
{
	if (out_display_width(s) <= cells) {
		snprintf(buf, size, "%s", s);
		return;
	}
	size_t n = 0, used = 0;
	const char *ellipsis = utf8 ? "\xe2\x80\xa6" : "~";
	while (s[n] && n + 8 < size) {
		size_t len = 1;
		while ((s[n + len] & 0xC0) == 0x80)
			len++;
		char one[8] = { 0 };
		memcpy(one, s + n, len < 7 ? len : 7);
		size_t w = out_display_width(one);
		if (used + w + 1 > cells)
			break;
		used += w;
		n += len;
	}
	snprintf(buf, size, "%.*s%s", (int)n, s, ellipsis);
}

int out_render_chart(FILE *f, const aiplat_table *t, const size_t *label_cols, size_t nlabels,
                     size_t value_col, int width, bool utf8)
{
	size_t rows = aiplat_table_nrows(t);
	if (rows == 0) {
		fputs("(no usage)\n", f);
		return ferror(f) ? -1 : 0;
	}
	char **labels = calloc(rows, sizeof(char *));
	double *values = calloc(rows, sizeof(double));
	if (!labels || !values) {
		free(labels);
		free(values);
		return -1;
	}
	double max = 0;
	size_t label_w = 0, value_w = 0;
	for (size_t r = 0; r < rows; r++) {
		aiplat_buf b = AIPLAT_BUF_INIT;
		for (size_t i = 0; i < nlabels; i++) {
			const char *cell = aiplat_table_cell(t, r, label_cols[i]);
			aiplat_buf_puts(&b, i ? " / " : "");
			put_escaped(&b, cell ? cell : "(none)");
		}
		labels[r] = aiplat_buf_detach(&b);
		const char *v = aiplat_table_cell(t, r, value_col);
		values[r] = v ? strtod(v, NULL) : 0;
		if (values[r] > max)
			max = values[r];
		size_t w = labels[r] ? out_display_width(labels[r]) : 0;
		if (w > label_w)
			label_w = w;
		char hv[32];
		human(hv, sizeof(hv), values[r]);
		if (strlen(hv) > value_w)
			value_w = strlen(hv);
	}
	if (width < 40)
		width = 40;
	if (label_w > (size_t)width * 2 / 5)
		label_w = (size_t)width * 2 / 5;
	int bar_w = width - (int)label_w - (int)value_w - 3;
	static const char *const eighths[] = { "", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d",
	                                       "\xe2\x96\x8c", "\xe2\x96\x8b", "\xe2\x96\x8a",
	                                       "\xe2\x96\x89" };
	for (size_t r = 0; r < rows; r++) {
		char label[512], hv[32];
		fit(label, sizeof(label), labels[r] ? labels[r] : "", label_w, utf8);
		fputs(label, f);
		for (size_t pad = out_display_width(label); pad < label_w; pad++)
			fputc(' ', f);
		fputs(" ", f);
		long units = max > 0 ? (long)(values[r] / max * bar_w * (utf8 ? 8 : 1) + 0.5) : 0;
		if (values[r] > 0 && units == 0)
			units = 1;   /* something, however small, shows */
		long cells = 0;
		if (utf8) {
			for (long i = 0; i < units / 8; i++, cells++)
				fputs("\xe2\x96\x88", f);
			if (units % 8) {
				fputs(eighths[units % 8], f);
				cells++;
			}
		} else {
			for (; cells < units; cells++)
				fputc('#', f);
		}
		for (; cells < bar_w; cells++)
			fputc(' ', f);
		human(hv, sizeof(hv), values[r]);
		fprintf(f, " %*s\n", (int)value_w, hv);
		free(labels[r]);
	}
	free(labels);
	free(values);
	return ferror(f) ? -1 : 0;
}
