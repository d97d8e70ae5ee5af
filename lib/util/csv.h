/*
 * An RFC 4180 record reader over a stream: quoted fields may hold commas,
 * doubled quotes and line breaks; records end at LF or CRLF.
 */
#ifndef AIPLAT_UTIL_CSV_H
#define AIPLAT_UTIL_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 32

typedef struct csv_reader {
	FILE *f;
	char *buf;           /* read buffer */
	size_t cap, len, pos;
	bool eof;
	char *rec;           /* the current record's unquoted fields, NUL-separated */
	size_t rec_cap;
	size_t nfields;
	const char *field[CSV_MAX_FIELDS];
	size_t field_len[CSV_MAX_FIELDS];
	unsigned long line;  /* line where the current record starts (1-based) */
	unsigned long next_line;
	unsigned long long bytes;  /* consumed so far */
	const char *error;   /* why the last record is malformed, or NULL */
} csv_reader;

/* After csv_init, buf (malloc'd) and cap may be set to read in smaller
 * chunks than the default 1 MiB (the tests do); csv_dispose frees buf. */
void csv_init(csv_reader *r, FILE *f);
/* 1: a record (maybe malformed: r->error), 0: end of input, -1: read error. */
int csv_next(csv_reader *r);
void csv_dispose(csv_reader *r);

/* The next line of a line-oriented file (JSON lines): 1, 0 at the end, -1 on
 * error; *line is NUL-terminated without its line break. */
int csv_next_line(csv_reader *r, const char **line, size_t *len);

#endif
