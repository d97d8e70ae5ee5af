/*
 * A result table: named, typed columns and rows of text cells, where a NULL
 * cell is SQL NULL. Commands produce tables; the front end renders them in
 * the user's chosen format. Types only guide rendering (alignment, JSON
 * typing); every value is kept as the text PostgreSQL sent.
 */
#ifndef AIPLAT_TABLE_H
#define AIPLAT_TABLE_H

#include <stddef.h>
#include <libpq-fe.h>

typedef enum aiplat_coltype {
	AIPLAT_COL_TEXT = 0,
	AIPLAT_COL_INT,
	AIPLAT_COL_NUMBER,
	AIPLAT_COL_BOOL,
	AIPLAT_COL_JSON,
	AIPLAT_COL_TIME,
} aiplat_coltype;

typedef struct aiplat_table aiplat_table;

int aiplat_table_new(aiplat_table **out, size_t ncols);
int aiplat_table_set_column(aiplat_table *t, size_t col, const char *name, aiplat_coltype type);
/* Appends a row; cells has ncols entries, NULL for SQL NULL. Copies the strings. */
int aiplat_table_add_row(aiplat_table *t, const char *const *cells);
/* Builds a table from a tuples result; column types follow the result's type OIDs. */
int aiplat_table_from_result(aiplat_table **out, const PGresult *res);
void aiplat_table_free(aiplat_table *t);
/* Removes the named column (no-op when absent). */
void aiplat_table_drop_column(aiplat_table *t, const char *name);

size_t aiplat_table_ncols(const aiplat_table *t);
size_t aiplat_table_nrows(const aiplat_table *t);
const char *aiplat_table_column_name(const aiplat_table *t, size_t col);
aiplat_coltype aiplat_table_column_type(const aiplat_table *t, size_t col);
/* NULL when the cell is SQL NULL. */
const char *aiplat_table_cell(const aiplat_table *t, size_t row, size_t col);
/* The first column with this name, or -1. */
long aiplat_table_column_index(const aiplat_table *t, const char *name);
/* A cell by column name; NULL for SQL NULL or no such column. */
const char *aiplat_table_get(const aiplat_table *t, size_t row, const char *column);

/* Maps a PostgreSQL type OID to the column type used for rendering. */
aiplat_coltype aiplat_coltype_from_oid(Oid type);

#endif
