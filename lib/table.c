/* Result tables: the common currency between commands and the renderer. */
#include <stdlib.h>
#include <string.h>
#include "aiplat/table.h"
#include "aiplat/error.h"

struct aiplat_table {
	size_t ncols, nrows, cap;
	char **names;
	aiplat_coltype *types;
	char **cells;            /* nrows * ncols, row-major */
};

static int nomem(void)
{
	return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
}

int aiplat_table_new(aiplat_table **out, size_t ncols)
{
	aiplat_table *t = calloc(1, sizeof(*t));
	if (!t)
		return nomem();
	t->ncols = ncols;
	t->names = calloc(ncols ? ncols : 1, sizeof(char *));
	t->types = calloc(ncols ? ncols : 1, sizeof(aiplat_coltype));
	if (!t->names || !t->types) {
		aiplat_table_free(t);
		return nomem();
	}
	*out = t;
	return 0;
}

int aiplat_table_set_column(aiplat_table *t, size_t col, const char *name, aiplat_coltype type)
{
	if (col >= t->ncols)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_INTERNAL,
		                        "column %zu out of range", col);
	char *copy = strdup(name);
	if (!copy)
		return nomem();
	free(t->names[col]);
	t->names[col] = copy;
	t->types[col] = type;
	return 0;
}

int aiplat_table_add_row(aiplat_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * (t->ncols ? t->ncols : 1) * sizeof(char *));
		if (!p)
			return nomem();
		t->cells = p;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = NULL;
		if (cells[c] && !(row[c] = strdup(cells[c]))) {
			while (c-- > 0)
				free(row[c]);
			return nomem();
		}
	}
	t->nrows++;
	return 0;
}

/* Built-in type OIDs (src/include/catalog/pg_type.dat); stable across versions. */
aiplat_coltype aiplat_coltype_from_oid(Oid type)
{
	switch (type) {
	case 20: case 21: case 23: case 26:          /* int8 int2 int4 oid */
		return AIPLAT_COL_INT;
	case 700: case 701: case 1700:               /* float4 float8 numeric */
		return AIPLAT_COL_NUMBER;
	case 16:                                     /* bool */
		return AIPLAT_COL_BOOL;
	case 114: case 3802:                         /* json jsonb */
		return AIPLAT_COL_JSON;
	case 1082: case 1114: case 1184:             /* date timestamp timestamptz */
		return AIPLAT_COL_TIME;
	default:
		return AIPLAT_COL_TEXT;
	}
}

int aiplat_table_from_result(aiplat_table **out, const PGresult *res)
{
	int ncols = PQnfields(res), nrows = PQntuples(res);
	aiplat_table *t;
	int rc = aiplat_table_new(&t, (size_t)ncols);
	if (rc)
		return rc;
	for (int c = 0; c < ncols; c++)
		if ((rc = aiplat_table_set_column(t, (size_t)c, PQfname(res, c),
		                                  aiplat_coltype_from_oid(PQftype(res, c)))) != 0)
			goto fail;
	const char **cells = calloc(ncols ? (size_t)ncols : 1, sizeof(char *));
	if (!cells) {
		rc = nomem();
		goto fail;
	}
	for (int r = 0; r < nrows && !rc; r++) {
		for (int c = 0; c < ncols; c++)
			cells[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
		rc = aiplat_table_add_row(t, cells);
	}
	free(cells);
	if (rc)
		goto fail;
	*out = t;
	return 0;
fail:
	aiplat_table_free(t);
	return rc;
}

void aiplat_table_free(aiplat_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (size_t c = 0; c < t->ncols; c++)
		free(t->names ? t->names[c] : NULL);
	free(t->cells);
	free(t->names);
	free(t->types);
	free(t);
}

void aiplat_table_drop_column(aiplat_table *t, const char *name)
{
	size_t col = t->ncols;
	for (size_t c = 0; c < t->ncols; c++)
		if (t->names[c] && !strcmp(t->names[c], name))
			col = c;
	if (col == t->ncols)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		free(t->cells[r * t->ncols + col]);
	/* Compact rows in place: the new row width is ncols - 1. */
	size_t w = 0;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			if (c != col)
				t->cells[w++] = t->cells[r * t->ncols + c];
	free(t->names[col]);
	memmove(t->names + col, t->names + col + 1, (t->ncols - col - 1) * sizeof(char *));
	memmove(t->types + col, t->types + col + 1, (t->ncols - col - 1) * sizeof(aiplat_coltype));
	t->ncols--;
}

size_t aiplat_table_ncols(const aiplat_table *t) { return t->ncols; }
size_t aiplat_table_nrows(const aiplat_table *t) { return t->nrows; }

const char *aiplat_table_column_name(const aiplat_table *t, size_t col)
{
	return col < t->ncols && t->names[col] ? t->names[col] : "";
}

aiplat_coltype aiplat_table_column_type(const aiplat_table *t, size_t col)
{
	return col < t->ncols ? t->types[col] : AIPLAT_COL_TEXT;
}

const char *aiplat_table_cell(const aiplat_table *t, size_t row, size_t col)
{
	if (row >= t->nrows || col >= t->ncols)
		return NULL;
	return t->cells[row * t->ncols + col];
}

long aiplat_table_column_index(const aiplat_table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (!strcmp(aiplat_table_column_name(t, c), name))
			return (long)c;
	return -1;
}

const char *aiplat_table_get(const aiplat_table *t, size_t row, const char *column)
{
	long c = aiplat_table_column_index(t, column);
	return c < 0 ? NULL : aiplat_table_cell(t, row, (size_t)c);
}
