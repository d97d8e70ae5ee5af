/*
 * Migration files in dbmate's format:
 *
 *   -- migrate:up [transaction:false]
 *   CREATE TABLE ...;
 *   -- migrate:down
 *   DROP TABLE ...;
 *
 * Only comments and blank lines may precede the up marker. The checksum
 * covers the whole file, so any edit to an applied file is noticed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "aiplat/error.h"
#include "aiplat/migrate.h"

static int invalid(const char *filename, int line, const char *what)
{
	if (line > 0)
		return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_MIGRATE, "%s:%d: %s",
		                        filename, line, what);
	return aiplat_error_set(AIPLAT_EINVALID, AIPLAT_ERRCLASS_MIGRATE, "%s: %s", filename, what);
}

/* NNNN_name.sql -> version and name. Names are lower-case words and digits. */
static int parse_filename(aiplat_migration *m, const char *filename)
{
	const char *p = filename;
	if (!isdigit((unsigned char)*p))
		return invalid(filename, 0, "file name must start with a version number (NNNN_name.sql)");
	char *end;
	m->version = strtol(p, &end, 10);
	if (*end != '_' || m->version <= 0)
		return invalid(filename, 0, "file name must look like NNNN_name.sql");
	const char *name = end + 1;
	size_t n = strlen(name);
	if (n <= 4 || strcmp(name + n - 4, ".sql") != 0)
		return invalid(filename, 0, "file name must end in .sql");
	n -= 4;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '_'))
			return invalid(filename, 0,
			               "name may contain only lower-case letters, digits and _");
	m->name = strndup(name, n);
	m->filename = strdup(filename);
	if (!m->name || !m->filename)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	return 0;
}

/* Recognises "-- migrate:up ..." / "-- migrate:down ..." at the start of a line.
 * Returns 1 for up, 2 for down, 0 otherwise; *opts points after the marker. */
static int marker(const char *line, size_t len, const char **opts)
{
	if (len < 2 || line[0] != '-' || line[1] != '-')
		return 0;
	size_t i = 2;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i >= 10 && !strncmp(line + i, "migrate:up", 10) &&
	    (len - i == 10 || isspace((unsigned char)line[i + 10]))) {
		*opts = line + i + 10;
		return 1;
	}
	if (len - i >= 12 && !strncmp(line + i, "migrate:down", 12) &&
	    (len - i == 12 || isspace((unsigned char)line[i + 12]))) {
		*opts = line + i + 12;
		return 2;
	}
	return 0;
}

static int parse_options(const char *filename, int lineno, const char *opts, const char *eol,
                         bool *transaction)
{
	*transaction = true;
	while (opts < eol) {
		while (opts < eol && isspace((unsigned char)*opts))
			opts++;
		if (opts >= eol)
			break;
		const char *w = opts;
		while (opts < eol && !isspace((unsigned char)*opts))
			opts++;
		size_t n = (size_t)(opts - w);
		if (n == 17 && !strncmp(w, "transaction:false", n))
			*transaction = false;
		else if (n == 16 && !strncmp(w, "transaction:true", n))
			*transaction = true;
		else {
			char msg[200];
			snprintf(msg, sizeof(msg), "unknown migration option \"%.*s\"", (int)n, w);
			return invalid(filename, lineno, msg);
		}
	}
	return 0;
}

/* True when [s, e) holds only whitespace and -- comments. */
static bool only_comments(const char *s, const char *e)
{
	while (s < e) {
		if (isspace((unsigned char)*s)) {
			s++;
		} else if (e - s >= 2 && s[0] == '-' && s[1] == '-') {
			while (s < e && *s != '\n')
				s++;
		} else {
			return false;
		}
	}
	return true;
}

int aiplat_migration_parse(aiplat_migration *m, const char *filename, const char *text, size_t len)
{
	memset(m, 0, sizeof(*m));
	int rc = parse_filename(m, filename);
	if (rc)
		goto fail;
	if (memchr(text, '\0', len)) {
		rc = invalid(filename, 0, "file contains a NUL byte");
		goto fail;
	}
	aiplat_sha256_hex(m->checksum, text, len);

	const char *up = NULL, *up_end = NULL, *down = NULL, *down_end = NULL;
	const char *line = text, *end = text + len;
	int lineno = 1;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		size_t n = (size_t)(eol - line);
		if (n && line[n - 1] == '\r')
			n--;
		const char *opts;
		int which = marker(line, n, &opts);
		if (which == 1) {
			if (up) { rc = invalid(filename, lineno, "second -- migrate:up marker"); goto fail; }
			if (down) { rc = invalid(filename, lineno, "-- migrate:up must come before -- migrate:down"); goto fail; }
			if (!only_comments(text, line)) {
				rc = invalid(filename, lineno, "statements before -- migrate:up are not allowed");
				goto fail;
			}
			if ((rc = parse_options(filename, lineno, opts, line + n, &m->up_transaction)))
				goto fail;
			up = eol < end ? eol + 1 : end;
			m->up_line = lineno + 1;
		} else if (which == 2) {
			if (down) { rc = invalid(filename, lineno, "second -- migrate:down marker"); goto fail; }
			if (!up) { rc = invalid(filename, lineno, "-- migrate:down before -- migrate:up"); goto fail; }
			if ((rc = parse_options(filename, lineno, opts, line + n, &m->down_transaction)))
				goto fail;
			up_end = line;
			down = eol < end ? eol + 1 : end;
			m->down_line = lineno + 1;
		}
		line = eol < end ? eol + 1 : end;
		lineno++;
	}
	if (!up) {
		rc = invalid(filename, 0, "no -- migrate:up section");
		goto fail;
	}
	if (!up_end)
		up_end = end;
	if (down)
		down_end = end;
	else
		m->down_transaction = true;
	if (only_comments(up, up_end)) {
		rc = invalid(filename, m->up_line, "the up section is empty");
		goto fail;
	}
	m->up = strndup(up, (size_t)(up_end - up));
	m->down = down ? strndup(down, (size_t)(down_end - down)) : strdup("");
	if (!m->up || !m->down) {
		rc = aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
		goto fail;
	}
	return 0;
fail:
	aiplat_migration_dispose(m);
	return rc;
}

void aiplat_migration_dispose(aiplat_migration *m)
{
	free(m->name);
	free(m->filename);
	free(m->up);
	free(m->down);
	memset(m, 0, sizeof(*m));
}
