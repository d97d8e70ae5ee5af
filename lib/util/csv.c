/* RFC 4180 CSV records and plain lines from a buffered stream. */
#include <stdlib.h>
#include <string.h>
#include "util/csv.h"

void csv_init(csv_reader *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->next_line = 1;
}

void csv_dispose(csv_reader *r)
{
	free(r->buf);
	free(r->rec);
	memset(r, 0, sizeof(*r));
}

/* Makes sure at least one more byte is buffered; false at end of input. */
static bool fill(csv_reader *r)
{
	if (r->pos < r->len)
		return true;
	if (r->eof)
		return false;
	if (!r->buf) {
		r->cap = 1 << 20;
		r->buf = malloc(r->cap);
		if (!r->buf)
			return false;
	}
	r->len = fread(r->buf, 1, r->cap, r->f);
	r->pos = 0;
	if (r->len == 0) {
		r->eof = true;
		return false;
	}
	return true;
}

/* Makes the record buffer hold at least `need` bytes. */
static bool reserve(csv_reader *r, size_t need)
{
	size_t cap = r->rec_cap ? r->rec_cap : 4096;
	while (cap <= need)
		cap *= 2;
	if (cap == r->rec_cap)
		return true;
	char *p = realloc(r->rec, cap);
	if (!p)
		return false;
	r->rec = p;
	r->rec_cap = cap;
	return true;
}

static bool put(csv_reader *r, size_t *n, char c)
{
	if (*n + 1 >= r->rec_cap && !reserve(r, *n + 1))
		return false;
	r->rec[(*n)++] = c;
	return true;
}

int csv_next(csv_reader *r)
{
	size_t n = 0;
	size_t starts[CSV_MAX_FIELDS + 1];
	size_t nf = 0;
	size_t cur = 0;   /* where the current field starts, even past CSV_MAX_FIELDS */
	bool quoted = false, in_field_quoted = false, any = false;
	r->error = NULL;
	r->line = r->next_line;
	starts[nf++] = 0;
	for (;;) {
		if (!fill(r)) {
			if (ferror(r->f))
				return -1;
			if (!any)
				return 0;
			if (quoted)
				r->error = "a quoted field is not closed";
			break;
		}
		any = true;
		if (!quoted && !in_field_quoted) {
			/* The common case: a run of ordinary bytes, copied at once. */
			size_t start = r->pos, end = start;
			while (end < r->len) {
				char k = r->buf[end];
				if (k == ',' || k == '\n' || k == '"' || k == '\r')
					break;
				end++;
			}
			if (end > start) {
				if (n + (end - start) + 1 >= r->rec_cap && !reserve(r, n + (end - start) + 1))
					return -1;
				memcpy(r->rec + n, r->buf + start, end - start);
				n += end - start;
				r->bytes += end - start;
				r->pos = end;
				continue;
			}
		}
		char c = r->buf[r->pos++];
		r->bytes++;
		if (quoted) {
			if (c == '"') {
				if (!fill(r) || r->buf[r->pos] != '"') {
					quoted = false;   /* closing quote */
					continue;
				}
				r->pos++;
				r->bytes++;
			}
			if (c == '\n')
				r->next_line++;
			if (!put(r, &n, c))
				return -1;
			continue;
		}
		if (c == '"') {
			if (cur != n || in_field_quoted) {
				r->error = r->error ? r->error : "a quote inside an unquoted field";
				continue;
			}
			quoted = in_field_quoted = true;
			continue;
		}
		if (c == ',') {
			if (!put(r, &n, '\0'))
				return -1;
			cur = n;
			if (nf <= CSV_MAX_FIELDS)
				starts[nf++] = n;
			if (nf > CSV_MAX_FIELDS)
				r->error = "too many fields";
			in_field_quoted = false;
			continue;
		}
		if (c == '\r') {
			if (fill(r) && r->buf[r->pos] == '\n')
				continue;   /* CRLF: the LF ends the record */
			r->error = r->error ? r->error : "a carriage return outside quotes";
			continue;
		}
		if (c == '\n') {
			r->next_line++;
			break;
		}
		if (in_field_quoted) {
			r->error = r->error ? r->error : "text after a closing quote";
			continue;
		}
		if (!put(r, &n, c))
			return -1;
	}
	if (!put(r, &n, '\0'))
		return -1;
	r->nfields = nf > CSV_MAX_FIELDS ? CSV_MAX_FIELDS : nf;
	for (size_t i = 0; i < r->nfields; i++) {
		r->field[i] = r->rec + starts[i];
		size_t end = i + 1 < nf ? starts[i + 1] - 1 : n - 1;
		r->field_len[i] = end - starts[i];
	}
	return 1;
}

int csv_next_line(csv_reader *r, const char **line, size_t *len)
{
	size_t n = 0;
	bool any = false;
	r->line = r->next_line;
	for (;;) {
		if (!fill(r)) {
			if (ferror(r->f))
				return -1;
			if (!any)
				return 0;
			break;
		}
		char c = r->buf[r->pos++];
		r->bytes++;
		any = true;
		if (c == '\n') {
			r->next_line++;
			break;
		}
		if (!put(r, &n, c))
			return -1;
	}
	if (n && r->rec[n - 1] == '\r')
		n--;
	if (!put(r, &n, '\0'))
		return -1;
	*line = r->rec;
	*len = n - 1;
	return 1;
}
