/*
 * Splits a SQL script into statements at top-level semicolons, the way psql
 * does: semicolons inside quotes, quoted identifiers, dollar-quoted bodies
 * and comments do not count. Needed for migrations marked
 * transaction:false, because the server runs a multi-statement string as one
 * implicit transaction and statements like CREATE INDEX CONCURRENTLY refuse
 * to run inside one, and because running statements one at a time tells
 * which one failed. SQL-standard function bodies (BEGIN ATOMIC ... END) are
 * kept whole by counting BEGIN/CASE against END inside them, as psql does.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "aiplat/error.h"
#include "aiplat/migrate.h"

/* Length of a dollar-quote tag ($tag$ or $$) starting at p, or 0. */
static size_t dollar_tag(const char *p)
{
	if (*p != '$')
		return 0;
	size_t i = 1;
	if (isdigit((unsigned char)p[1]))
		return 0;   /* $1 is a parameter, not a tag */
	while (isalnum((unsigned char)p[i]) || p[i] == '_' || (unsigned char)p[i] >= 0x80)
		i++;
	return p[i] == '$' ? i + 1 : 0;
}

static bool blank_or_comment(const char *s, const char *e)
{
	while (s < e) {
		if (isspace((unsigned char)*s))
			s++;
		else if (e - s >= 2 && s[0] == '-' && s[1] == '-')
			while (s < e && *s != '\n')
				s++;
		else if (e - s >= 2 && s[0] == '/' && s[1] == '*') {
			const char *c = strstr(s + 2, "*/");
			s = c && c < e ? c + 2 : e;
		} else
			return false;
	}
	return true;
}

static int push(char ***out, size_t *count, const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (blank_or_comment(s, e))
		return 0;
	char **grown = realloc(*out, (*count + 1) * sizeof(char *));
	if (!grown)
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	*out = grown;
	if (!(grown[*count] = strndup(s, (size_t)(e - s))))
		return aiplat_error_set(AIPLAT_EINTERNAL, AIPLAT_ERRCLASS_NOMEMORY, "out of memory");
	(*count)++;
	return 0;
}

static bool word_is(const char *w, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

int aiplat_sql_split(char ***out, size_t *count, const char *sql)
{
	*out = NULL;
	*count = 0;
	const char *p = sql, *start = sql;
	const char *prev_word = NULL;   /* last keyword seen, for BEGIN ATOMIC */
	size_t prev_len = 0;
	int atomic_depth = 0;           /* > 0 inside BEGIN ATOMIC ... END */
	int rc = 0;
	while (*p && !rc) {
		if ((isalpha((unsigned char)*p) || *p == '_') &&
		    (p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '$'))) {
			const char *w = p;
			while (isalnum((unsigned char)*p) || *p == '_' || *p == '$')
				p++;
			size_t n = (size_t)(p - w);
			if (word_is(w, n, "ATOMIC") && prev_word && word_is(prev_word, prev_len, "BEGIN"))
				atomic_depth = atomic_depth ? atomic_depth : 1;
			else if (atomic_depth && (word_is(w, n, "BEGIN") || word_is(w, n, "CASE")))
				atomic_depth++;
			else if (atomic_depth && word_is(w, n, "END"))
				atomic_depth--;
			prev_word = w;
			prev_len = n;
			continue;
		}
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			int depth = 1;   /* PostgreSQL block comments nest */
			p += 2;
			while (*p && depth) {
				if (p[0] == '/' && p[1] == '*') { depth++; p += 2; }
				else if (p[0] == '*' && p[1] == '/') { depth--; p += 2; }
				else p++;
			}
		} else if (*p == '\'') {
			/* E'...' strings allow backslash escapes; standard strings do not. */
			bool escapes = p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
			               (p - 1 == sql || !isalnum((unsigned char)p[-2]));
			p++;
			while (*p) {
				if (escapes && *p == '\\' && p[1]) { p += 2; continue; }
				if (*p == '\'') {
					if (p[1] == '\'') { p += 2; continue; }
					break;
				}
				p++;
			}
			if (*p) p++;
		} else if (*p == '"') {
			p++;
			while (*p && !(*p == '"' && p[1] != '"'))
				p += (*p == '"') ? 2 : 1;
			if (*p) p++;
		} else if (*p == '$' && (p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'))
		           && dollar_tag(p)) {
			size_t n = dollar_tag(p);
			const char *close = NULL;
			for (const char *q = p + n; *q; q++)
				if (*q == '$' && !strncmp(q, p, n)) { close = q; break; }
			p = close ? close + n : p + strlen(p);
		} else if (*p == ';' && !atomic_depth) {
			rc = push(out, count, start, p);
			start = ++p;
		} else {
			p++;
		}
	}
	if (!rc)
		rc = push(out, count, start, p);
	if (rc) {
		aiplat_sql_split_free(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return rc;
}

void aiplat_sql_split_free(char **stmts, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(stmts[i]);
	free(stmts);
}
