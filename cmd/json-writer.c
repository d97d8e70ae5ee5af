/* Exact JSON output (see json-writer.h). */
#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include "json-writer.h"

void jw_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

bool jw_is_number(const char *s)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char)*p))
			p++;
	else
		return false;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

bool jw_is_json(const char *s)
{
	/* Big integers are valid JSON; let jansson accept them as reals. */
	json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
	if (!j)
		return false;
	json_decref(j);
	return true;
}

static void newline(FILE *f, int indent)
{
	fputc('\n', f);
	for (int i = 0; i < indent; i++)
		fputs("  ", f);
}

/* Skips whitespace; returns the next significant character (or '\0'). */
static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

void jw_reformat(FILE *f, const char *json, int indent)
{
	bool pretty = indent >= 0;
	int level = pretty ? indent : 0;
	const char *p = skip_ws(json);
	while (*p) {
		char c = *p;
		if (c == '"') {
			/* Strings are copied verbatim: they are already valid JSON. */
			const char *start = p++;
			while (*p && *p != '"')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			if (*p)
				p++;
			fwrite(start, 1, (size_t)(p - start), f);
		} else if (c == '{' || c == '[') {
			char close = c == '{' ? '}' : ']';
			const char *next = skip_ws(p + 1);
			if (*next == close) {           /* empty: {} or [] */
				fputc(c, f);
				fputc(close, f);
				p = next + 1;
			} else {
				fputc(c, f);
				level++;
				if (pretty)
					newline(f, level);
				p++;
			}
		} else if (c == '}' || c == ']') {
			level--;
			if (pretty)
				newline(f, level);
			fputc(c, f);
			p++;
		} else if (c == ',') {
			fputc(',', f);
			if (pretty)
				newline(f, level);
			p++;
		} else if (c == ':') {
			fputs(pretty ? ": " : ":", f);
			p++;
		} else {
			/* numbers, true, false, null: copied as written */
			const char *start = p;
			while (*p && !strchr(",:{}[]\" \t\r\n", *p))
				p++;
			fwrite(start, 1, (size_t)(p - start), f);
		}
		p = skip_ws(p);
	}
}
