/* The Prometheus text exposition format, for node exporter textfiles. */
#include <string.h>
#include "output.h"

/* Label values escape backslash, double quote and line feed. */
static void label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* HELP text escapes backslash and line feed. */
static void help_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static long find_column(const aiplat_table *t, const char *name)
{
	for (size_t c = 0; c < aiplat_table_ncols(t); c++)
		if (!strcmp(aiplat_table_column_name(t, c), name))
			return (long)c;
	return -1;
}

int out_render_prometheus(FILE *f, const aiplat_table *t, const struct out_metric *metrics,
                          size_t nmetrics, const size_t *label_cols, size_t nlabels,
                          const char *const *extra_labels)
{
	for (size_t i = 0; i < nmetrics; i++) {
		bool first = true;   /* the family is written at its first metric */
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(metrics[j].name, metrics[i].name) != 0;
		if (!first)
			continue;
		fprintf(f, "# HELP %s ", metrics[i].name);
		help_text(f, metrics[i].help);
		fprintf(f, "\n# TYPE %s gauge\n", metrics[i].name);
		for (size_t k = i; k < nmetrics; k++) {
			if (strcmp(metrics[k].name, metrics[i].name) != 0)
				continue;
			long col = find_column(t, metrics[k].column);
			if (col < 0)
				return -1;
			for (size_t r = 0; r < aiplat_table_nrows(t); r++) {
				const char *v = aiplat_table_cell(t, r, (size_t)col);
				if (!v)
					continue;
				fputs(metrics[k].name, f);
				const char *sep = "{";
				for (size_t l = 0; l < nlabels; l++) {
					fprintf(f, "%s%s=", sep, aiplat_table_column_name(t, label_cols[l]));
					label_value(f, aiplat_table_cell(t, r, label_cols[l]));
					sep = ",";
				}
				for (size_t e = 0; extra_labels && extra_labels[e]; e += 2) {
					fprintf(f, "%s%s=", sep, extra_labels[e]);
					label_value(f, extra_labels[e + 1]);
					sep = ",";
				}
				if (metrics[k].label) {
					fprintf(f, "%s%s=", sep, metrics[k].label);
					label_value(f, metrics[k].label_value);
					sep = ",";
				}
				fprintf(f, "%s %s\n", sep[0] == ',' ? "}" : "", v);
			}
		}
	}
	return ferror(f) ? -1 : 0;
}
