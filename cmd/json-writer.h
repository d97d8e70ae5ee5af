/*
 * Writing JSON text that keeps PostgreSQL's values exactly. jansson holds
 * numbers as double or 64-bit integers, so numeric(16,2) money, float8's
 * last digits or a 20-digit integer inside a jsonb value would change on
 * the way out; here numbers are copied as the text PostgreSQL sent, and
 * JSON cells are re-indented token by token without being re-parsed into
 * numbers. jansson still decides whether a JSON cell is valid.
 */
#ifndef AIPLAT_JSON_WRITER_H
#define AIPLAT_JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>

/* A JSON string literal: quotes, backslash and control characters escaped. */
void jw_string(FILE *f, const char *s);
/* True when s is a JSON number (RFC 8259 grammar). */
bool jw_is_number(const char *s);
/* True when s is one complete, valid JSON value. */
bool jw_is_json(const char *s);
/*
 * Re-emits a valid JSON text: compact when indent < 0, else pretty with two
 * spaces per level starting at `indent` levels (the first line is not
 * indented: the caller has placed the value).
 */
void jw_reformat(FILE *f, const char *json, int indent);

#endif
